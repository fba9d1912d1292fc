# Loads the stand-in and miq_memlog.rb once, as an appliance boot would (to_prepare runs
# twice, like a boot followed by a code reload), and gives each test a fresh Rails.root,
# environment and per-process state.
ENV["TZ"] = "America/New_York" # local time differs from UTC: a local timestamp shows

require "minitest"
require "json"
require "open3"
require "rbconfig"
require "tmpdir"
require_relative "stand_in"

APPLIANCE_DIR = File.expand_path("..", __dir__)
MEMLOG_RB = File.join(APPLIANCE_DIR, "miq_memlog.rb")
FIXTURES_DIR = File.join(__dir__, "fixtures")
TEST_DIR = __dir__

MEMLOG_VARIABLES = %w(MIQ_MEMLOG_WORKERS MIQ_MEMLOG_EVERY MIQ_MEMLOG_GC MIQ_MEMLOG_DUMP_EVERY
                      MIQ_MEMLOG_DUMP_MAX MIQ_MEMLOG_TRACE MIQ_MEMLOG_DUMP_DIR MIQ_MEMLOG_FILE
                      MIQ_MEMLOG_SINKS HOSTNAME).freeze

ENV["MIQ_MEMLOG"] = "1"
load MEMLOG_RB
2.times { Rails.application.run_to_prepare }

# The header: "[----] I, [<UTC time> #<pid>:<tid hex>]  INFO -- miq_memlog: <message>"
CLASSIC_LINE = /\A\[----\] ([IWE]), \[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}) #(\d+):([0-9a-f]+)\] ( INFO| WARN|ERROR) -- miq_memlog: (.*)\n\z/
SAMPLE_MESSAGE = /\AMIQ\(([\w:]+)#deliver_message\) Memory Info XXXX \((.*)\) => \{Live: (\d+), Old: (\d+), RSS: (\d+), PSS: (\d+), USS: (\d+), Swap: (\d+), GCms: (\d+), Ms: (\d+), Msgs: (\d+), Memlog: 1\}\z/

ClassicLine = Struct.new(:letter, :time, :pid, :tid, :severity, :message)
Sample = Struct.new(:runner, :summary, :live, :old, :rss, :pss, :uss, :swap, :gc_ms, :ms, :msgs)

module MemlogTest
  def setup
    @saved_env = MEMLOG_VARIABLES.map { |name| [name, ENV.delete(name)] }
    @root = Dir.mktmpdir("memlog-test")
    Dir.mkdir(File.join(@root, "log"))
    Dir.mkdir(File.join(@root, "tmp"))
    Rails.root = Pathname.new(@root)
    @records = []
    MiqMemlog.on_record = proc { |kind, fields| @records << [kind, fields] }
    MiqMemlog.proc_dir = File.join(FIXTURES_DIR, "proc", "el8")
    MiqMemlog.reset!
    $log_io.truncate(0)
    $log_io.rewind
    $rails_log_io.truncate(0)
    $rails_log_io.rewind
  end

  def teardown
    MiqMemlog.on_record = nil
    MiqMemlog.proc_dir = nil
    MiqMemlog.reset!
    @saved_env.each { |name, value| value.nil? ? ENV.delete(name) : ENV[name] = value }
    FileUtils.rm_rf(@root)
  end

  def memlog_path
    File.join(@root, "log", "memlog.log")
  end

  def memlog_text
    File.exist?(memlog_path) ? File.read(memlog_path) : ""
  end

  def memlog_lines
    memlog_text.lines.map do |line|
      match = CLASSIC_LINE.match(line)
      assert match, "not a classic memlog line: #{line.inspect}"
      ClassicLine.new(*match.captures)
    end
  end

  def samples
    memlog_lines.map { |line| SAMPLE_MESSAGE.match(line.message) }.compact.map do |match|
      Sample.new(match[1], match[2], *match.captures[2..-1].map(&:to_i))
    end
  end

  def messages_matching(pattern)
    memlog_lines.map(&:message).grep(pattern)
  end

  def records(kind)
    @records.select { |record_kind, _| record_kind == kind }.map(&:last)
  end

  def deliver(runner, *messages)
    messages.map { |msg| runner.deliver_message(msg) }
  end

  def queue_message(attributes = {})
    MiqQueue.new({ id: 1_000_000_000_123, target_id: nil, priority: 100, method_name: "perf_process",
                   args: [], task_id: "abc", state: "ready", zone: "default",
                   role: "ems_metrics_processor", class_name: "Storage", instance_id: 84,
                   queue_name: "generic", data: nil, miq_callback: nil }.merge(attributes))
  end

  def capture_stdout
    saved = $stdout
    $stdout = StringIO.new
    yield
    $stdout.string
  ensure
    $stdout = saved
  end

  # Runs ruby on a script with the given environment; returns [stdout, stderr, status].
  def run_ruby(script, *args, env: {})
    Open3.capture3(env, RbConfig.ruby, script, *args)
  end

  # Runs the block in a forked child, waits, and fails on a non-zero exit.
  def in_child
    pid = fork do
      begin
        yield
        exit!(0)
      rescue Exception => error # rubocop:disable Lint/RescueException
        warn "child failed: #{error.class}: #{error.message}\n#{error.backtrace.join("\n")}"
        exit!(1)
      end
    end
    Process.wait(pid)
    assert $?.success?, "child #{pid} failed"
    pid
  end
end
