# frozen_string_literal: true
#
# miq_memlog: memory samples from every ManageIQ / CloudForms queue worker.
#
# After each queue message a worker delivers, this file logs the process's memory
# (RSS, PSS, USS, swap in bytes; Ruby's live and old object counts) in the
# "Memory Info XXXX" line shape that miq-memlog reads, and optionally writes heap
# dumps (ObjectSpace.dump_all) every N messages. Standard library only; Ruby 2.3
# (Euwe, 2016) to current releases.
#
# Install: copy this file to config/initializers/zz_miq_memlog.rb under the vmdb
# directory (/var/www/miq/vmdb), set MIQ_MEMLOG=1 in the environment of the server
# and its workers, restart (systemctl restart evmserverd). Remove the file and
# restart to uninstall. See appliance/README.md of miq-memlog for each release.
#
# It hooks MiqQueueWorkerBase::Runner#deliver_message (prepended from a
# Rails to_prepare block, so it works with both autoloaders). It is active only
# when MIQ_MEMLOG=1 and the process is not rake (migrations, assets:precompile,
# evm:start's launcher), bin/rails (console, runner one-offs, generators) or irb:
# the server and the workers run as plain ruby scripts and forks of them.
#
# It never raises into the worker: the delivery runs exactly once and its result
# or exception passes through unchanged; an error inside the enrichment is logged
# once as "miq_memlog disabled: <class>: <message>" and turns it off for that
# process.
#
# Environment (MIQ_MEMLOG when the file loads; the others are checked at boot, then read
# by each process when it delivers its first message):
#   MIQ_MEMLOG=1              enables; anything else leaves this file inert
#   MIQ_MEMLOG_WORKERS        regex matched against the runner class name, e.g.
#                             "MiqGenericWorker::Runner" (default "." = all queue workers)
#   MIQ_MEMLOG_EVERY          sample every Nth delivered message (default 1)
#   MIQ_MEMLOG_GC             1 = full GC.start before measuring: exact Live/Old, but
#                             ~0.1 s per sample at 700 k live objects (default 0)
#   MIQ_MEMLOG_DUMP_EVERY     heap dump every N delivered messages, 0 = off (default 0)
#   MIQ_MEMLOG_DUMP_MAX       at most M dumps per process (default 3)
#   MIQ_MEMLOG_TRACE          1 = ObjectSpace.trace_object_allocations_start at the
#                             process's first message: file:line and generation in
#                             dumps, at a memory cost per object (default 0)
#   MIQ_MEMLOG_DUMP_DIR       where dumps go (default <Rails.root>/tmp)
#   MIQ_MEMLOG_FILE           the own log file (default <Rails.root>/log/memlog.log)
#   MIQ_MEMLOG_SINKS          comma list of file (the own file), log ($log: evm.log or
#                             journald), stdout (one JSON object per line, for pods)
#                             (default "file")
# Relative paths are taken from Rails.root.
#
# Lines (UTC, one write per line; several workers share the file):
#   [----] I, [2026-12-01T22:09:51.123456 #1234:1a2b3c]  INFO -- miq_memlog: MIQ(MiqGenericWorker::Runner#deliver_message) Memory Info XXXX (#<MiqQueue id: 1, ...>) => {Live: n, Old: n, RSS: n, PSS: n, USS: n, Swap: n, GCms: n, Ms: n, Msgs: n, Memlog: 1}
#   ... miq_memlog started: version 1, ruby 2.3.1, pid 1234, settings {...}
#   ... miq_memlog dump: file memlog_1_1764626991_1234.dump, bytes 123456789, ms 2345
#   ... miq_memlog dump skipped: cap 3 reached
#   ... miq_memlog disabled: Errno::ENOENT: No such file or directory ...
# Dumps: <dump dir>/memlog_<n>_<epoch>_<pid>.dump, written as <name>.tmp and renamed.
# They hold every string of the process, passwords included: mode 0600.

require "json"
require "fileutils"

module MiqMemlog
  VERSION = 1
  # The "Memlog: 1" key of a sample: memory in true bytes (kB x 1024), keys as below.
  LINE_FORMAT = 1
  PROGNAME = "miq_memlog"

  # The only attributes a message summary shows. Never args, data, payload or the
  # object's own inspect: they hold credentials and can be megabytes.
  SUMMARY_ATTRIBUTES = %i(id class_name method_name instance_id queue_name role zone task_id
                          sender message ack_ref).freeze
  SUMMARY_VALUE_MAX = 200
  SUMMARY_MAX = 1024
  REASON_MAX = 500

  SINKS = %w(file log stdout).freeze
  SMAPS_FIELD = /^(Rss|Pss|Private_Clean|Private_Dirty|Swap):\s+(\d+) kB/

  # [classic letter, classic label, container level, logger method]
  SEVERITIES = {
    :info => ["I", "INFO", "info", :info],
    :warn => ["W", "WARN", "warning", :warn]
  }.freeze

  # What the enrichment absorbs. Signals and exit requests still reach the worker.
  ABSORBED = [StandardError, ScriptError, NoMemoryError, SystemStackError].freeze

  # bin/rails covers console, runner one-offs, server and generators; rake covers
  # migrations, assets:precompile and the evm:start launcher.
  INERT_PROGRAMS = %w(rake rails irb).freeze

  Settings = Struct.new(:workers, :every, :gc, :dump_every, :dump_max, :trace,
                        :dump_dir, :file, :sinks) do
    def to_record
      { :workers => workers.source, :every => every, :gc => gc, :dump_every => dump_every,
        :dump_max => dump_max, :trace => trace, :dump_dir => dump_dir, :file => file,
        :sinks => sinks.join(",") }
    end

    def describe
      "{" + to_record.map { |key, value| "#{key}: #{value.inspect}" }.join(", ") + "}"
    end
  end

  # One per process: a forked child starts a new one (counters, dumps, started line,
  # allocation tracing), recognised by its pid. selected: runner class name => matches.
  ProcessState = Struct.new(:pid, :settings, :selected, :started, :disabled, :tracing,
                            :msgs, :dumps, :dump_seq, :dump_cap_logged)

  class << self
    # Test hook: proc { |kind, fields| ... } called after each line is written, with
    # kind :started, :sample, :dump, :dump_skipped or :disabled and the values written.
    attr_accessor :on_record
    # Where smaps and smaps_rollup are read (tests point it at fixtures).
    attr_writer :proc_dir

    def proc_dir
      @proc_dir || "/proc/self"
    end
  end

  # Prepended to MiqQueueWorkerBase::Runner. Not deliver_queue_message: refresh
  # runners override that one without calling super.
  module DeliverMessageHook
    def deliver_message(msg)
      started_at = MiqMemlog.before_delivery(self)
      return super if started_at.nil?

      begin
        result = super
      rescue StandardError
        MiqMemlog.after_delivery(self, msg, started_at)
        raise
      end
      MiqMemlog.after_delivery(self, msg, started_at)
      result
    end
  end

  def self.wanted?(env = ENV, program = $PROGRAM_NAME)
    env["MIQ_MEMLOG"] == "1" && rails_application? && server_or_worker_process?(program)
  end

  def self.rails_application?
    !!(defined?(::Rails) && ::Rails.respond_to?(:application) && ::Rails.application)
  end

  def self.server_or_worker_process?(program = $PROGRAM_NAME)
    return false if INERT_PROGRAMS.include?(File.basename(program.to_s))
    return false if defined?(::Rails::Console)
    return false if defined?(::Rake) && ::Rake.respond_to?(:application) &&
                    ::Rake.application.top_level_tasks.any?
    true
  end

  # Runs from to_prepare, possibly more than once: prepends once.
  def self.install
    settings = parse_settings
    runner = queue_runner_class
    if runner.nil?
      disable("MiqMemlog.install", "MiqQueueWorkerBase::Runner not found", settings)
      return false
    end
    runner.send(:prepend, DeliverMessageHook) unless runner.ancestors.include?(DeliverMessageHook)
    true
  rescue *ABSORBED => error
    disable("MiqMemlog.install", error_reason(error), settings)
    false
  end

  def self.queue_runner_class
    runner = Object.const_get("MiqQueueWorkerBase::Runner")
    runner if runner.is_a?(Class) && runner.method_defined?(:deliver_message)
  rescue NameError
    nil
  end

  # Forgets this process's state; the next message re-reads the environment (tests).
  def self.reset!
    @state = nil
  end

  def self.state
    current = @state
    return current if current && current.pid == Process.pid
    @state = ProcessState.new(Process.pid, nil, {}, false, false, false, 0, 0, 0, false)
  end

  # Returns the delivery's start time when this message is to be measured, else nil.
  def self.before_delivery(runner)
    st = state
    return nil if st.disabled
    st.settings ||= parse_settings
    name = runner.class.name.to_s
    selected = st.selected.fetch(name) { st.selected[name] = !(st.settings.workers =~ name).nil? }
    return nil unless selected
    start_process(runner, st) unless st.started
    monotonic
  rescue *ABSORBED => error
    disable(origin(runner), error_reason(error), st && st.settings)
    nil
  end

  def self.after_delivery(runner, msg, started_at)
    msg_ms = elapsed_ms(started_at)
    st = state
    settings = st.settings
    return if st.disabled || settings.nil? # nil: the delivery forked and this is the child
    st.msgs += 1
    write_sample(runner, msg, st, msg_ms) if (st.msgs % settings.every).zero?
    dump_heap(runner, st) if settings.dump_every > 0 && (st.msgs % settings.dump_every).zero?
  rescue *ABSORBED => error
    disable(origin(runner), error_reason(error), st && st.settings)
  end

  def self.start_process(runner, st)
    st.started = true
    settings = st.settings
    emit(settings, runner, :started, :info,
         "miq_memlog started: version #{VERSION}, ruby #{RUBY_VERSION}, pid #{st.pid}, " \
         "settings #{settings.describe}",
         :version => VERSION, :ruby => RUBY_VERSION, :settings => settings.to_record)
    return unless settings.trace
    require "objspace"
    ObjectSpace.trace_object_allocations_start
    st.tracing = true
  end

  def self.write_sample(runner, msg, st, msg_ms)
    gc_ms = 0
    if st.settings.gc
      gc_started = monotonic
      GC.start
      gc_ms = elapsed_ms(gc_started)
    end
    gc = GC.stat
    live = gc.fetch(:heap_live_slots)
    old = gc.fetch(:old_objects)
    memory = read_memory
    attributes = message_attributes(msg)
    summary = summarize(msg, attributes)
    text = "Memory Info XXXX (#{summary}) => {Live: #{live}, Old: #{old}, " \
           "RSS: #{memory[:rss]}, PSS: #{memory[:pss]}, USS: #{memory[:uss]}, " \
           "Swap: #{memory[:swap]}, GCms: #{gc_ms}, Ms: #{msg_ms}, Msgs: #{st.msgs}, " \
           "Memlog: #{LINE_FORMAT}}"
    values = Hash[attributes]
    emit(st.settings, runner, :sample, :info, text,
         :live => live, :old => old, :rss => memory[:rss], :pss => memory[:pss],
         :uss => memory[:uss], :swap => memory[:swap], :gc_ms => gc_ms, :msg_ms => msg_ms,
         :msgs => st.msgs, :summary => summary, :msg_id => record_value(values[:id]),
         :msg_class => record_value(values[:class_name]),
         :msg_method => record_value(values[:method_name]))
  end

  # Bytes from smaps_rollup (kernel 4.14+), else summed over every mapping in smaps.
  def self.read_memory(dir = proc_dir)
    rollup = File.join(dir, "smaps_rollup")
    path = File.exist?(rollup) ? rollup : File.join(dir, "smaps")
    kb = Hash.new(0)
    File.read(path).scan(SMAPS_FIELD) { |name, value| kb[name] += value.to_i }
    { :rss => kb["Rss"] * 1024, :pss => kb["Pss"] * 1024,
      :uss => (kb["Private_Clean"] + kb["Private_Dirty"]) * 1024, :swap => kb["Swap"] * 1024 }
  end

  # [[name, value], ...] for the safe attributes the message responds to.
  def self.message_attributes(msg)
    return [] if msg.nil? || msg.is_a?(String)
    SUMMARY_ATTRIBUTES.each_with_object([]) do |name, found|
      next unless msg.respond_to?(name)
      begin
        found << [name, msg.public_send(name)]
      rescue *ABSORBED
        next
      end
    end
  end

  def self.summarize(msg, attributes)
    return "nil" if msg.nil?
    return render_value(msg) if msg.is_a?(String)
    parts = attributes.map { |name, value| " #{name}: #{render_value(value)}" }
    text = "#<#{class_label(msg)}#{parts.join(",")}>"
    return text if text.bytesize <= SUMMARY_MAX
    text.byteslice(0, SUMMARY_MAX - 4).scrub("") + "...>"
  end

  # Scalars as inspect, strings cut first; any other object by class only: its inspect
  # could hold what the summary must not (a Kafka ack_ref carries the payload).
  def self.render_value(value)
    case value
    when String then value[0, SUMMARY_VALUE_MAX].inspect
    when nil, true, false, Numeric, Symbol then value.inspect
    else "#<#{class_label(value)}>"
    end
  end

  def self.record_value(value)
    case value
    when String then value[0, SUMMARY_VALUE_MAX]
    when Numeric, Symbol then value
    end
  end

  def self.class_label(object)
    klass = object.class
    klass.name || klass.to_s
  rescue *ABSORBED
    "Object"
  end

  def self.dump_heap(runner, st)
    settings = st.settings
    if st.dumps >= settings.dump_max
      return if st.dump_cap_logged
      st.dump_cap_logged = true
      emit(settings, runner, :dump_skipped, :info,
           "miq_memlog dump skipped: cap #{settings.dump_max} reached", :cap => settings.dump_max)
      return
    end
    require "objspace"
    started_at = monotonic
    GC.start
    FileUtils.mkdir_p(settings.dump_dir)
    st.dump_seq, name, bytes = write_dump(settings.dump_dir, st.dump_seq, Time.now.to_i, st.pid)
    st.dumps += 1
    ms = elapsed_ms(started_at)
    emit(settings, runner, :dump, :info, "miq_memlog dump: file #{name}, bytes #{bytes}, ms #{ms}",
         :file => name, :path => File.join(settings.dump_dir, name), :bytes => bytes, :ms => ms,
         :count => st.dumps)
  end

  # Claims the first free memlog_<n>_<epoch>_<pid>.dump after seq (the count in the name
  # keeps two dumps of one second apart), writes <name>.tmp, fsyncs, renames: a collector
  # never copies half a dump, and no existing file is overwritten.
  def self.write_dump(dir, seq, epoch, pid)
    loop do
      seq += 1
      name = "memlog_#{seq}_#{epoch}_#{pid}.dump"
      path = File.join(dir, name)
      next if File.exist?(path)
      tmp = "#{path}.tmp"
      begin
        file = File.open(tmp, File::WRONLY | File::CREAT | File::EXCL, 0o600)
      rescue Errno::EEXIST
        next
      end
      renamed = false
      begin
        ObjectSpace.dump_all(:output => file)
        file.flush
        file.fsync
        file.close
        File.rename(tmp, path)
        renamed = true
      ensure
        file.close unless file.closed?
        remove_quietly(tmp) unless renamed
      end
      return [seq, name, File.size(path)]
    end
  end

  def self.remove_quietly(path)
    File.unlink(path) if File.exist?(path)
  rescue SystemCallError
    nil
  end

  # Once per process; the line goes to every sink that still works, else to $log,
  # else to stderr.
  def self.disable(origin_name, reason, settings)
    st = state
    return if st.disabled
    st.disabled = true
    stop_tracing(st)
    text = "miq_memlog disabled: #{reason}"
    message = "MIQ(#{origin_name}) #{text}"
    time = Time.now.utc
    sinks = settings ? settings.sinks : ["log"]
    delivered = sinks.count { |sink| write_quietly(sink, settings, :warn, time, message) } > 0 ||
                write_quietly("log", settings, :warn, time, message)
    warn(classic_line(:warn, time, message)) unless delivered
    runner_name = origin_name.end_with?("#deliver_message") ? origin_name.split("#").first : nil
    notify(:disabled, :time => time, :pid => st.pid, :origin => origin_name, :runner => runner_name,
                      :message => message, :reason => reason)
  rescue *ABSORBED
    nil
  end

  def self.stop_tracing(st)
    return unless st.tracing
    st.tracing = false
    ObjectSpace.trace_object_allocations_stop
  end

  # The message's first line: Ruby 3.1 appends code snippets and suggestions below it.
  def self.error_reason(error)
    text = "#{error.class}: #{error.message.to_s.lines.first.to_s.chomp}"
    text = text.scrub("?") if text.respond_to?(:scrub)
    text.gsub(/\s+/, " ")[0, REASON_MAX]
  end

  def self.origin(runner)
    "#{runner.class.name}#deliver_message"
  end

  def self.emit(settings, runner, kind, severity, text, fields)
    time = Time.now.utc
    origin_name = origin(runner)
    message = "MIQ(#{origin_name}) #{text}"
    settings.sinks.each { |sink| write(sink, settings, severity, time, message) }
    notify(kind, fields.merge(:time => time, :pid => Process.pid, :origin => origin_name,
                              :runner => runner.class.name, :message => message))
  end

  def self.notify(kind, fields)
    hook = on_record
    hook.call(kind, fields) if hook
  end

  def self.write_quietly(sink, settings, severity, time, message)
    write(sink, settings, severity, time, message)
    true
  rescue *ABSORBED
    false
  end

  def self.write(sink, settings, severity, time, message)
    case sink
    when "file" then append_line(settings.file, classic_line(severity, time, message))
    when "log" then log_line(severity, message)
    when "stdout" then stdout_line(severity, time, message)
    end
  end

  # One syswrite in append mode: lines of several workers never interleave, and a
  # copytruncate by logrotate is followed.
  def self.append_line(path, line)
    File.open(path, File::WRONLY | File::APPEND | File::CREAT, 0o644) { |file| file.syswrite(line) }
  end

  def self.classic_line(severity, time, message)
    letter, label, = SEVERITIES.fetch(severity)
    format("[----] %s, [%s #%d:%x] %5s -- %s: %s\n", letter, timestamp(time), Process.pid,
           Thread.current.object_id, label, PROGNAME, message)
  end

  # ManageIQ's logger adds its own header (local time, progname evm) to $log lines.
  # A copy: some of its formatters change the string they get (force_encoding).
  def self.log_line(severity, message)
    logger = $log || (defined?(::Rails) && ::Rails.respond_to?(:logger) && ::Rails.logger)
    raise ArgumentError, "sink log: neither $log nor Rails.logger is set" unless logger
    logger.public_send(SEVERITIES.fetch(severity)[3], message.dup)
  end

  # Shaped like ManageIQ's container logger (manageiq-loggers), service miq_memlog.
  def self.stdout_line(severity, time, message)
    fields = { "@timestamp" => timestamp(time), "hostname" => ENV["HOSTNAME"], "pid" => Process.pid,
               "tid" => Thread.current.object_id.to_s(16), "service" => PROGNAME,
               "level" => SEVERITIES.fetch(severity)[2], "message" => message }
    $stdout.write(JSON.generate(fields.reject { |_, value| value.nil? }) + "\n")
    $stdout.flush
  end

  def self.timestamp(time)
    time.strftime("%Y-%m-%dT%H:%M:%S.%6N")
  end

  def self.monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def self.elapsed_ms(started_at)
    ((monotonic - started_at) * 1000).round
  end

  def self.parse_settings(env = ENV, root = rails_root)
    Settings.new(
      env_regexp(env, "MIQ_MEMLOG_WORKERS", "."),
      env_integer(env, "MIQ_MEMLOG_EVERY", 1, 1),
      env_flag(env, "MIQ_MEMLOG_GC"),
      env_integer(env, "MIQ_MEMLOG_DUMP_EVERY", 0, 0),
      env_integer(env, "MIQ_MEMLOG_DUMP_MAX", 3, 0),
      env_flag(env, "MIQ_MEMLOG_TRACE"),
      File.expand_path(env_text(env, "MIQ_MEMLOG_DUMP_DIR", "tmp"), root),
      File.expand_path(env_text(env, "MIQ_MEMLOG_FILE", "log/memlog.log"), root),
      env_sinks(env)
    )
  end

  def self.rails_root
    root = defined?(::Rails) && ::Rails.respond_to?(:root) && ::Rails.root
    root ? root.to_s : Dir.pwd
  end

  def self.env_text(env, name, default)
    value = env[name].to_s.strip
    value.empty? ? default : value
  end

  def self.env_regexp(env, name, default)
    Regexp.new(env_text(env, name, default))
  rescue RegexpError => error
    raise ArgumentError, "#{name} is not a regular expression: #{error.message}"
  end

  def self.env_integer(env, name, default, minimum)
    text = env_text(env, name, default.to_s)
    value = text =~ /\A\d+\z/ ? text.to_i : nil
    return value if value && value >= minimum
    raise ArgumentError, "#{name} must be an integer >= #{minimum}, got #{text.inspect}"
  end

  def self.env_flag(env, name)
    text = env_text(env, name, "0")
    return true if %w(1 true yes).include?(text.downcase)
    return false if %w(0 false no).include?(text.downcase)
    raise ArgumentError, "#{name} must be 1 or 0, got #{text.inspect}"
  end

  def self.env_sinks(env)
    sinks = env_text(env, "MIQ_MEMLOG_SINKS", "file").split(",").map(&:strip).reject(&:empty?).uniq
    unknown = sinks - SINKS
    return sinks if unknown.empty? && !sinks.empty?
    raise ArgumentError, "MIQ_MEMLOG_SINKS: unknown sink #{unknown.join(",").inspect} " \
                         "(known: #{SINKS.join(", ")})"
  end
end

Rails.application.config.to_prepare { MiqMemlog.install } if MiqMemlog.wanted?
