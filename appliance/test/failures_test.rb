require_relative "helper"

# The hook never raises into the worker, and the delivery runs once, unchanged.
class FailuresTest < Minitest::Test
  include MemlogTest

  # A $log whose every call fails, as a logger on a full or vanished device would.
  class BrokenLogger
    attr_reader :calls

    def initialize
      @calls = 0
    end

    %i(info warn error).each do |level|
      define_method(level) do |_message|
        @calls += 1
        raise IOError, "log device closed"
      end
    end
  end

  def setup
    super
    @deliveries = 0
    MiqQueue.work["count"] = proc { @deliveries += 1 }
  end

  def test_unreadable_smaps_logs_one_disabled_line_and_the_worker_carries_on
    MiqMemlog.proc_dir = "/nonexistent-proc"
    results = deliver(MiqGenericWorker::Runner.new, *Array.new(3) { queue_message(method_name: "count") })

    assert_equal [1, 2, 3], results
    assert_equal 3, @deliveries
    lines = memlog_lines
    assert_equal 2, lines.size, "started, then disabled; nothing after"
    assert_equal ["W", " WARN"], [lines.last.letter, lines.last.severity]
    assert_equal "MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog disabled: Errno::ENOENT: " \
                 "No such file or directory @ rb_sysopen - /nonexistent-proc/smaps", lines.last.message
    assert_equal 1, records(:disabled).size
  end

  def test_a_raising_sink_logs_one_disabled_line_to_the_sinks_that_work
    ENV["MIQ_MEMLOG_SINKS"] = "file,log"
    saved = $log
    $log = broken = BrokenLogger.new
    results = deliver(MiqGenericWorker::Runner.new, *Array.new(3) { queue_message(method_name: "count") })

    assert_equal [1, 2, 3], results
    assert_equal 3, @deliveries
    messages = memlog_lines.map(&:message)
    assert_match(/miq_memlog started/, messages[0])
    assert_equal ["MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog disabled: IOError: log device closed"],
                 messages[1..-1]
    assert_equal 2, broken.calls, "the started line, then the disabled line"
  ensure
    $log = saved
  end

  def test_a_raising_record_hook_is_absorbed_too
    MiqMemlog.on_record = proc { raise NoMethodError, "undefined method `bytes' for nil:NilClass" }
    assert_equal [1, 2], deliver(MiqGenericWorker::Runner.new, *Array.new(2) { queue_message(method_name: "count") })
    assert_equal ["MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog disabled: NoMethodError: " \
                  "undefined method `bytes' for nil:NilClass"], messages_matching(/disabled/)
  end

  def test_the_delivery_result_and_exception_pass_through_unchanged
    value = Object.new
    error = ArgumentError.new("bad target")
    MiqQueue.work["value"] = proc { @deliveries += 1; value }
    MiqQueue.work["fail"] = proc { @deliveries += 1; raise error }
    runner = MiqGenericWorker::Runner.new

    assert_same value, runner.deliver_message(queue_message(method_name: "value"))
    raised = assert_raises(ArgumentError) { runner.deliver_message(queue_message(method_name: "fail")) }
    assert_same error, raised
    assert_match(/failures_test\.rb/, raised.backtrace.first, "the backtrace is the delivery's own")
    assert_equal 2, @deliveries, "each message delivered exactly once"
    assert_equal [1, 2], samples.map(&:msgs), "a failed delivery is measured and counted too"
  end

  def test_a_failing_delivery_keeps_its_exception_when_sampling_fails_too
    error = ArgumentError.new("bad target")
    MiqQueue.work["fail"] = proc { @deliveries += 1; raise error }
    MiqMemlog.proc_dir = "/nonexistent-proc"
    raised = assert_raises(ArgumentError) { MiqGenericWorker::Runner.new.deliver_message(queue_message(method_name: "fail")) }
    assert_same error, raised
    assert_nil raised.cause
    assert_equal 1, @deliveries
    assert_equal 1, messages_matching(/disabled: Errno::ENOENT/).size
  end

  def test_signals_and_exits_are_not_absorbed
    MiqQueue.work["exit"] = proc { @deliveries += 1; raise SystemExit }
    assert_raises(SystemExit) { MiqGenericWorker::Runner.new.deliver_message(queue_message(method_name: "exit")) }
    assert_equal 1, @deliveries
    assert_equal [], samples, "no sample while the worker is exiting"
  end
end
