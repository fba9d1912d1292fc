require_relative "helper"

# MIQ_MEMLOG_WORKERS, MIQ_MEMLOG_EVERY, MIQ_MEMLOG_GC and the Msgs counter.
class FiltersTest < Minitest::Test
  include MemlogTest

  def test_workers_not_matching_the_filter_write_nothing_and_still_deliver
    ENV["MIQ_MEMLOG_WORKERS"] = "\\AMiqGenericWorker::Runner\\z"
    priority = MiqPriorityWorker::Runner.new
    assert_equal %i(config_synced config_synced), deliver(priority, "sync_config", "sync_config")
    assert_equal 2, priority.synced
    assert_equal "", memlog_text
    assert_empty @records

    deliver(MiqGenericWorker::Runner.new, "sync_config")
    assert_equal ["MiqGenericWorker::Runner"], samples.map(&:runner)
  end

  def test_every_nth_message_is_sampled_and_msgs_counts_every_message
    ENV["MIQ_MEMLOG_EVERY"] = "3"
    runner = MiqGenericWorker::Runner.new
    deliver(runner, "sync_config", queue_message, "sync_config", queue_message, queue_message,
            "sync_config", queue_message)
    assert_equal [3, 6], samples.map(&:msgs)
    assert_equal ['"sync_config"', '"sync_config"'], samples.map(&:summary)
    assert_equal 1, messages_matching(/miq_memlog started/).size
  end

  def test_gc_off_reports_zero_gc_ms
    deliver(MiqGenericWorker::Runner.new, "sync_config", "sync_config")
    assert_equal [0, 0], samples.map(&:gc_ms)
  end

  def test_gc_on_runs_a_full_gc_before_each_sample_and_reports_its_milliseconds
    ENV["MIQ_MEMLOG_GC"] = "1"
    retained = Array.new(400_000) { |i| [i] } # enough live objects for a full GC to take > 1 ms
    runner = MiqGenericWorker::Runner.new
    majors = []
    MiqQueue.work["count_gc"] = proc { majors << GC.stat[:major_gc_count] }
    deliver(runner, queue_message(method_name: "count_gc"), queue_message(method_name: "count_gc"))
    majors << GC.stat[:major_gc_count]

    assert_operator majors[1], :>, majors[0], "a full GC between the two deliveries"
    assert_operator majors[2], :>, majors[1]
    samples.each { |sample| assert_operator sample.gc_ms, :>=, 1 }
    assert_equal records(:sample).map { |r| r[:gc_ms] }, samples.map(&:gc_ms)
    assert_match(/gc: true/, messages_matching(/started/).first)
    assert_equal 400_000, retained.size
  end

  def test_invalid_settings_disable_the_enrichment_with_their_reason
    ENV["MIQ_MEMLOG_EVERY"] = "0"
    assert_equal [:config_synced], deliver(MiqGenericWorker::Runner.new, "sync_config")
    assert_equal "", memlog_text, "the settings name no sink yet: the line goes to $log"
    assert_equal [" WARN -- evm: MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog disabled: " \
                  "ArgumentError: MIQ_MEMLOG_EVERY must be an integer >= 1, got \"0\""],
                 $log_io.string.lines.map { |line| line.chomp[/ WARN -- .*/] }
  end

  def test_settings_parsing
    settings = MiqMemlog.parse_settings({ "MIQ_MEMLOG_WORKERS" => "Refresh", "MIQ_MEMLOG_EVERY" => "10",
                                          "MIQ_MEMLOG_GC" => "true", "MIQ_MEMLOG_DUMP_EVERY" => "500",
                                          "MIQ_MEMLOG_DUMP_MAX" => "0", "MIQ_MEMLOG_TRACE" => "1",
                                          "MIQ_MEMLOG_DUMP_DIR" => "/data/dumps", "MIQ_MEMLOG_FILE" => "log/x.log",
                                          "MIQ_MEMLOG_SINKS" => "stdout,log,stdout" }, "/vmdb")
    assert_equal [/Refresh/, 10, true, 500, 0, true, "/data/dumps", "/vmdb/log/x.log", %w(stdout log)],
                 settings.to_a
    defaults = MiqMemlog.parse_settings({ "MIQ_MEMLOG_EVERY" => " " }, "/var/www/miq/vmdb")
    assert_equal '{workers: ".", every: 1, gc: false, dump_every: 0, dump_max: 3, trace: false, ' \
                 'dump_dir: "/var/www/miq/vmdb/tmp", file: "/var/www/miq/vmdb/log/memlog.log", sinks: "file"}',
                 defaults.describe
    { "MIQ_MEMLOG_EVERY" => "x", "MIQ_MEMLOG_DUMP_MAX" => "-1", "MIQ_MEMLOG_GC" => "2",
      "MIQ_MEMLOG_WORKERS" => "(", "MIQ_MEMLOG_SINKS" => "file,syslog" }.each do |name, value|
      error = assert_raises(ArgumentError) { MiqMemlog.parse_settings({ name => value }, "/vmdb") }
      assert_match(/\A#{name}/, error.message)
    end
  end
end
