require_relative "helper"

# Per-process state: a forked child (Euwe..Ivanchuk workers are forks of the server) starts fresh.
class ForkTest < Minitest::Test
  include MemlogTest

  def test_a_forked_child_writes_its_own_started_line_pid_counters_and_dumps
    ENV["MIQ_MEMLOG_DUMP_EVERY"] = "2"
    ENV["MIQ_MEMLOG_DUMP_MAX"] = "1"
    ENV["MIQ_MEMLOG_TRACE"] = "1"
    runner = MiqGenericWorker::Runner.new
    deliver(runner, "sync_config", "sync_config")
    assert MiqMemlog.state.tracing

    child = in_child do
      raise "the child inherited its parent's state" if MiqMemlog.state.tracing || MiqMemlog.state.msgs != 0
      deliver(runner, "sync_config", "sync_config", "sync_config", "sync_config")
      raise "the child did not start its own allocation tracing" unless MiqMemlog.state.tracing
    end
    deliver(runner, "sync_config")
    ObjectSpace.trace_object_allocations_stop

    by_pid = memlog_lines.group_by { |line| line.pid.to_i }
    assert_equal [Process.pid, child].sort, by_pid.keys.sort
    [[Process.pid, [1, 2, 3]], [child, [1, 2, 3, 4]]].each do |pid, msgs|
      messages = by_pid.fetch(pid).map(&:message)
      assert_match(/\AMIQ\(MiqGenericWorker::Runner#deliver_message\) miq_memlog started: version 1, ruby [\d.]+, pid #{pid}, settings \{.*trace: true/,
                   messages.first)
      assert_equal 1, messages.grep(/started/).size
      assert_equal msgs, messages.map { |m| m[/Msgs: (\d+)/, 1] }.compact.map(&:to_i)
      assert_equal 1, messages.grep(/miq_memlog dump: file memlog_1_\d+_#{pid}\.dump, bytes \d+, ms \d+\z/).size
    end
    assert_equal 1, by_pid.fetch(child).map(&:message).grep(/dump skipped: cap 1 reached/).size,
                 "the child's fourth message is no dump: its cap of 1 is its own"
    dumps = Dir.children(File.join(@root, "tmp")).sort
    assert_equal ["memlog_1_", "memlog_1_"], dumps.map { |name| name[/\Amemlog_1_/] }
    assert_equal [child, Process.pid].sort, dumps.map { |name| name[/_(\d+)\.dump\z/, 1].to_i }.sort
  end
end
