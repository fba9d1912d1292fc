require_relative "helper"

# Loading the file: each case boots a fresh interpreter (probe_install.rb).
class InstallTest < Minitest::Test
  include MemlogTest

  PROBE = File.join(TEST_DIR, "probe_install.rb")

  def probe(env)
    stdout, stderr, status = run_ruby(PROBE, env: { "PROBE_ROOT" => @root, "MIQ_MEMLOG" => nil }.merge(env))
    assert status.success?, stderr
    JSON.parse(stdout)
  end

  def test_without_miq_memlog_1_nothing_is_prepended_or_written
    [{}, { "MIQ_MEMLOG" => "0" }, { "MIQ_MEMLOG" => "true" }].each do |env|
      report = probe(env)
      assert_equal [0, 0], report.values_at("to_prepare_blocks", "hooks"), env.inspect
      assert_equal %w(config_synced processed), report["results"]
      assert_equal "", report["log"]
      assert_equal [], Dir.children(File.join(@root, "log")) + Dir.children(File.join(@root, "tmp"))
    end
  end

  def test_rake_rails_and_irb_processes_stay_inert
    %w(/usr/bin/rake bin/rake bin/rails /usr/local/bin/irb).each do |program|
      report = probe("MIQ_MEMLOG" => "1", "PROBE_PROGRAM" => program)
      assert_equal [0, 0], report.values_at("to_prepare_blocks", "hooks"), program
      assert_equal "", memlog_text
    end
  end

  def test_server_and_worker_scripts_install_once_even_if_to_prepare_runs_twice
    %w(lib/workers/bin/evm_server.rb lib/workers/bin/run_single_worker.rb).each do |program|
      FileUtils.rm_f(memlog_path)
      report = probe("MIQ_MEMLOG" => "1", "PROBE_PROGRAM" => program, "PROBE_PREPARES" => "2")
      assert_equal [1, 1], report.values_at("to_prepare_blocks", "hooks"), program
      assert_equal %w(config_synced processed), report["results"]
      assert_equal 1, messages_matching(/miq_memlog started/).size
      assert_equal 2, samples.size
    end
  end

  def test_an_invalid_setting_is_reported_at_boot_and_nothing_is_prepended
    report = probe("MIQ_MEMLOG" => "1", "MIQ_MEMLOG_SINKS" => "file,syslog", "PROBE_PREPARES" => "2")
    assert_equal 0, report["hooks"]
    assert_equal [" WARN -- evm: MIQ(MiqMemlog.install) miq_memlog disabled: ArgumentError: MIQ_MEMLOG_SINKS: " \
                  "unknown sink \"syslog\" (known: file, log, stdout)"],
                 report["log"].lines.map { |line| line.chomp[/ WARN -- .*/] }
    assert_equal "", memlog_text
  end

  def test_a_release_without_the_queue_runner_logs_one_disabled_line
    report = probe("MIQ_MEMLOG" => "1", "PROBE_WORKERS" => "0", "PROBE_PREPARES" => "2")
    assert_equal 1, report["to_prepare_blocks"]
    lines = memlog_lines
    assert_equal 1, lines.size
    assert_equal ["W", " WARN", "MIQ(MiqMemlog.install) miq_memlog disabled: MiqQueueWorkerBase::Runner not found"],
                 [lines[0].letter, lines[0].severity, lines[0].message]
  end
end
