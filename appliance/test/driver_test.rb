require_relative "helper"
require "csv"

# run_workers.rb's oracle agrees with what a reader of its memlog.log finds.
class DriverTest < Minitest::Test
  DRIVER = File.join(TEST_DIR, "run_workers.rb")

  def setup
    @out = Dir.mktmpdir("memlog-driver")
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    _, @stderr, @status = Open3.capture3({ "MIQ_MEMLOG" => nil }, RbConfig.ruby, DRIVER, @out)
    @seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end

  def teardown
    FileUtils.rm_rf(@out)
  end

  def csv(name)
    CSV.read(File.join(@out, "expected", name))
  end

  def sorted(rows)
    rows.sort_by.with_index { |row, index| [row[1].to_i, row[0], index] }
  end

  def test_the_oracle_matches_the_log_line_for_line
    assert @status.success?, @stderr
    assert_operator @seconds, :<, 10
    log = File.read(File.join(@out, "log", "memlog.log"))
    lines = log.lines.map { |line| CLASSIC_LINE.match(line) || flunk("not a memlog line: #{line}") }
    refute_match(/s3cr3t/, log)
    refute_match(/MiqEventHandler/, log, "left out by MIQ_MEMLOG_WORKERS")

    from_log = lines.map do |line|
      sample = SAMPLE_MESSAGE.match(line[6])
      next unless sample
      summary = sample[2]
      queue = summary.start_with?("#<MiqQueue ")
      ["#{line[2]}Z", line[3], sample[1].sub(/::Runner\z/, ""), *sample.captures.values_at(4, 5, 6, 7, 2, 3, 8, 9, 10),
       queue ? summary[/\A#<MiqQueue id: (\d+)/, 1] : nil, queue ? summary[/ class_name: "([^"]*)"/, 1] : nil,
       queue ? summary[/ method_name: "([^"]*)"/, 1] : nil]
    end.compact
    samples = csv("samples.csv")
    assert_equal %w(time pid worker rss pss uss swap live old gc_ms msg_ms msgs msg_id msg_class msg_method), samples[0]
    assert_equal sorted(from_log), samples[1..-1]
    assert_equal 30, from_log.size

    dump_lines = lines.map { |line| [line, /miq_memlog dump: file (\S+), bytes (\d+), ms \d+\z/.match(line[6])] }
                      .select(&:last)
    dumps = csv("dumps.csv")
    assert_equal %w(time pid worker file bytes), dumps[0]
    assert_equal sorted(dump_lines.map { |line, m| ["#{line[2]}Z", line[3], line[6][/\AMIQ\(([\w:]+)::Runner#/, 1], m[1], m[2]] }),
                 dumps[1..-1]
    per_worker = dumps[1..-1].group_by { |row| row[2] }.map { |worker, rows| [worker, rows.size] }.sort
    assert_equal [["ManageIQ::Providers::Vmware::InfraManager::RefreshWorker", 2], ["MiqGenericWorker", 3],
                  ["MiqPriorityWorker", 2]], per_worker
    tmp = File.join(@out, "tmp")
    assert_equal dumps[1..-1].map { |row| row[3] }.sort, Dir.children(tmp).sort, "no .tmp left"
    dumps[1..-1].each do |_, pid, _, file, bytes|
      assert_match(/\Amemlog_[123]_\d{10}_#{pid}\.dump\z/, file)
      assert_equal bytes.to_i, File.size(File.join(tmp, file))
      traced = File.foreach(File.join(tmp, file)).any? { |line| line =~ /"file":"[^"]*run_workers\.rb", "line":\d+/ }
      assert traced, "#{file}: allocation tracing was on, objects carry file and line"
    end
    assert_equal 1, lines.count { |line| line[6].end_with?("miq_memlog dump skipped: cap 3 reached") }

    processes = csv("processes.csv")
    assert_equal %w(pid worker version every gc dump_every dump_max trace sinks), processes[0]
    started = lines.map { |line| [line[3], /\AMIQ\(([\w:]+)::Runner#deliver_message\) miq_memlog started: version (\d+), ruby [\d.]+, pid (\d+), settings \{workers: "[^"]*", every: (\d+), gc: (\w+), dump_every: (\d+), dump_max: (\d+), trace: (\w+), dump_dir: "[^"]*", file: "[^"]*", sinks: "([^"]*)"\}\z/.match(line[6])] }
                   .select(&:last)
    assert_equal started.map { |pid, m| [pid, *m.captures.values_at(0, 1, 3, 4, 5, 6, 7, 8)] }.sort_by { |row| row[0].to_i },
                 processes[1..-1]
    assert_equal [%w(MiqGenericWorker 1 true), %w(MiqPriorityWorker 3 false),
                  %w(ManageIQ::Providers::Vmware::InfraManager::RefreshWorker 1 false)].sort,
                 processes[1..-1].map { |row| row.values_at(1, 3, 4) }.sort
  end
end
