require_relative "helper"

class SamplesTest < Minitest::Test
  include MemlogTest

  FIXTURE_BYTES = { rss: 553_012 * 1024, pss: 501_506 * 1024, uss: 450_008 * 1024, swap: 12_288 * 1024 }.freeze
  SUMMARY = '#<MiqQueue id: 1000000000123, class_name: "Storage", method_name: "perf_process", ' \
            'instance_id: 84, queue_name: "generic", role: "ems_metrics_processor", zone: "default", ' \
            'task_id: "abc">'.freeze

  def utc_time(text)
    year, month, day, hour, minute, second, usec = text.scan(/\d+/).map(&:to_i)
    Time.utc(year, month, day, hour, minute, second, usec)
  end

  def test_a_sample_after_each_message_has_the_exact_shape
    MiqQueue.work["perf_process"] = proc { sleep 0.02; :processed }
    runner = MiqGenericWorker::Runner.new
    before = Time.now.utc
    results = deliver(runner, queue_message, queue_message(id: 1_000_000_000_124))
    after = Time.now.utc

    assert_equal %i(processed processed), results
    lines = memlog_lines
    assert_equal 3, lines.size, "a started line, then one sample per message"
    sample_records = records(:sample)
    lines[1..2].zip(sample_records).each_with_index do |(line, record), index|
      assert_equal ["I", " INFO"], [line.letter, line.severity]
      assert_equal Process.pid, line.pid.to_i
      assert_equal Thread.current.object_id.to_s(16), line.tid
      time = utc_time(line.time)
      assert_operator time, :>=, Time.at(before.to_i, before.usec).utc
      assert_operator time, :<=, after, "the header time is UTC (TZ is #{ENV["TZ"]})"
      assert_equal record[:time].strftime("%Y-%m-%dT%H:%M:%S.%6N"), line.time

      summary = index.zero? ? SUMMARY : SUMMARY.sub("1000000000123", "1000000000124")
      expected = "MIQ(MiqGenericWorker::Runner#deliver_message) Memory Info XXXX (#{summary}) => " \
                 "{Live: #{record[:live]}, Old: #{record[:old]}, RSS: #{FIXTURE_BYTES[:rss]}, " \
                 "PSS: #{FIXTURE_BYTES[:pss]}, USS: #{FIXTURE_BYTES[:uss]}, Swap: #{FIXTURE_BYTES[:swap]}, " \
                 "GCms: 0, Ms: #{record[:msg_ms]}, Msgs: #{index + 1}, Memlog: 1}"
      assert_equal expected, line.message
      assert_operator record[:msg_ms], :>=, 20, "Ms is the delivery's duration"
      assert_operator record[:live], :>, 10_000
      assert_operator record[:old], :>, 0
      assert_operator record[:old], :<=, record[:live]
      assert_in_delta GC.stat[:heap_live_slots], record[:live], GC.stat[:heap_live_slots] * 0.5
      assert_equal [1_000_000_000_123 + index, "Storage", "perf_process"],
                   record.values_at(:msg_id, :msg_class, :msg_method)
    end
  end

  def test_started_line_comes_once_before_the_first_sample_with_every_setting
    ENV["MIQ_MEMLOG_EVERY"] = "2"
    ENV["MIQ_MEMLOG_SINKS"] = "file, log"
    runner = MiqGenericWorker::Runner.new
    deliver(runner, "sync_config", "sync_config", "sync_config")

    messages = memlog_lines.map(&:message)
    expected = "MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog started: version 1, " \
               "ruby #{RUBY_VERSION}, pid #{Process.pid}, settings {workers: \".\", every: 2, gc: false, " \
               "dump_every: 0, dump_max: 3, trace: false, dump_dir: \"#{@root}/tmp\", " \
               "file: \"#{@root}/log/memlog.log\", sinks: \"file,log\"}"
    assert_equal expected, messages.first
    assert_equal 1, messages.grep(/miq_memlog started/).size
    assert_equal 2, messages.size, "started, then the sample of message 2"
    started = records(:started).first
    assert_equal({ workers: ".", every: 2, gc: false, dump_every: 0, dump_max: 3, trace: false,
                   dump_dir: "#{@root}/tmp", file: "#{@root}/log/memlog.log", sinks: "file,log" },
                 started[:settings])
    assert_equal [1, RUBY_VERSION, Process.pid], started.values_at(:version, :ruby, :pid)
  end

  def test_string_and_nil_messages
    runner = MiqGenericWorker::Runner.new
    assert_equal :config_synced, runner.deliver_message("sync_config")
    assert_equal 1, runner.synced
    error = assert_raises(RuntimeError) { runner.deliver_message(nil) }
    assert_match(/is of unknown type <NilClass>/, error.message)
    runner.deliver_message("x" * 500)

    assert_equal ['"sync_config"', "nil", "\"#{"x" * 200}\""], samples.map(&:summary)
    assert_equal [1, 2, 3], samples.map(&:msgs)
    assert_equal [[nil, nil, nil]] * 3, records(:sample).map { |r| r.values_at(:msg_id, :msg_class, :msg_method) }
  end

  def test_a_refresh_runner_overriding_deliver_queue_message_without_super_is_sampled
    runner = ManageIQ::Providers::Vmware::InfraManager::RefreshWorker::Runner.new
    result = runner.deliver_message(queue_message(class_name: "ManageIQ::Providers::Vmware::InfraManager",
                                                  method_name: "refresh", instance_id: 3))
    assert_equal :refreshed, result
    assert_equal [["ManageIQ::Providers::Vmware::InfraManager", 3]], runner.refreshed
    assert_equal ["ManageIQ::Providers::Vmware::InfraManager::RefreshWorker::Runner"], samples.map(&:runner)
    assert_match(/\A#<MiqQueue id: 1000000000123, class_name: "ManageIQ::Providers::Vmware::InfraManager", method_name: "refresh", instance_id: 3,/,
                 samples.first.summary)
  end

  def test_the_queue_runner_is_prepended_once_although_to_prepare_ran_twice
    assert_equal 1, Rails.application.config.to_prepare_blocks.size, "one block, which the helper ran twice"
    assert_equal 1, MiqQueueWorkerBase::Runner.ancestors.count(MiqMemlog::DeliverMessageHook)
    Rails.application.run_to_prepare
    assert_equal 1, MiqQueueWorkerBase::Runner.ancestors.count(MiqMemlog::DeliverMessageHook)
    deliver(MiqGenericWorker::Runner.new, "sync_config")
    assert_equal 1, samples.size
  end
end
