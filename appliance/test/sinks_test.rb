require_relative "helper"

# MIQ_MEMLOG_SINKS: the own file, ManageIQ's $log, and container JSON on stdout.
class SinksTest < Minitest::Test
  include MemlogTest

  def test_stdout_writes_container_json_lines
    ENV["MIQ_MEMLOG_SINKS"] = "stdout"
    ENV["HOSTNAME"] = "generic-7f9c4d-x2x8q"
    before = Time.now.utc
    stdout = capture_stdout { deliver(MiqGenericWorker::Runner.new, "sync_config", queue_message) }

    assert_equal "", memlog_text
    objects = stdout.lines.map { |line| JSON.parse(line) }
    assert_equal 3, objects.size
    assert_equal @records.map { |_, fields| fields[:message] }, objects.map { |o| o["message"] }
    objects.each do |object|
      assert_equal %w(@timestamp hostname pid tid service level message), object.keys
      assert_equal ["generic-7f9c4d-x2x8q", Process.pid, Thread.current.object_id.to_s(16), "miq_memlog", "info"],
                   object.values_at("hostname", "pid", "tid", "service", "level")
      assert_match(/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\z/, object["@timestamp"])
      assert_in_delta before.to_f, Time.utc(*object["@timestamp"].scan(/\d+/).map(&:to_i)).to_f, 5,
                      "UTC (TZ is #{ENV["TZ"]})"
    end
    assert_match(/\AMIQ\(MiqGenericWorker::Runner#deliver_message\) Memory Info XXXX \(#<MiqQueue id: /,
                 objects.last["message"])
  end

  def test_stdout_drops_an_unset_hostname_and_says_warning_for_warnings
    ENV["MIQ_MEMLOG_SINKS"] = "stdout"
    MiqMemlog.proc_dir = "/nonexistent-proc"
    stdout = capture_stdout { deliver(MiqGenericWorker::Runner.new, "sync_config") }
    objects = stdout.lines.map { |line| JSON.parse(line) }
    assert_equal %w(info warning), objects.map { |o| o["level"] }
    assert_equal %w(@timestamp pid tid service level message), objects.last.keys
  end

  def test_log_writes_the_same_messages_through_dollar_log
    ENV["MIQ_MEMLOG_SINKS"] = "log"
    MiqQueue.work["perf_process"] = proc { :processed }
    deliver(MiqGenericWorker::Runner.new, queue_message)
    MiqMemlog.proc_dir = "/nonexistent-proc"
    MiqMemlog.reset!
    deliver(MiqGenericWorker::Runner.new, queue_message)

    assert_equal "", memlog_text
    logged = $log_io.string.lines.map { |line| line.chomp.sub(/\A\[----\] [IW], \[[^\]]*\] /, "") }
    expected = @records.map do |kind, fields|
      "#{kind == :disabled ? ' WARN' : ' INFO'} -- evm: #{fields[:message]}"
    end
    assert_equal expected, logged
    assert_equal %i(started sample started disabled), @records.map(&:first)
  end

  def test_all_three_sinks_carry_the_same_message
    ENV["MIQ_MEMLOG_SINKS"] = "file,log,stdout"
    stdout = capture_stdout { deliver(MiqGenericWorker::Runner.new, "sync_config") }
    from_file = memlog_lines.map(&:message)
    assert_equal 2, from_file.size
    assert_equal from_file, stdout.lines.map { |line| JSON.parse(line)["message"] }
    assert_equal from_file, $log_io.string.lines.map { |line| line.chomp.split(" -- evm: ", 2).last }
  end
end
