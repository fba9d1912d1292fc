require_relative "helper"

# smaps_rollup (kernel 4.14+, EL8 on) and the summed smaps (EL7) give the same bytes.
class MemoryTest < Minitest::Test
  include MemlogTest

  def proc_fixture(name)
    File.join(FIXTURES_DIR, "proc", name)
  end

  def test_rollup_and_summed_smaps_fixtures_give_the_same_true_bytes
    expected = { rss: 553_012 * 1024, pss: 501_506 * 1024, uss: (8 + 450_000) * 1024, swap: 12_288 * 1024 }
    assert File.exist?(File.join(proc_fixture("el8"), "smaps_rollup"))
    refute File.exist?(File.join(proc_fixture("el7"), "smaps_rollup"))
    assert_equal expected, MiqMemlog.read_memory(proc_fixture("el8"))
    assert_equal expected, MiqMemlog.read_memory(proc_fixture("el7")), "SwapPss and Pss_Anon are not summed"
  end

  def test_a_live_process_reads_the_same_from_both_files
    rollup = File.join("/proc", Process.pid.to_s, "smaps_rollup")
    skip "this kernel has no smaps_rollup" unless File.exist?(rollup)
    pid = spawn("sleep", "10")
    sleep 0.1
    Dir.mktmpdir do |dir|
      Dir.mkdir(File.join(dir, "rollup"))
      Dir.mkdir(File.join(dir, "summed"))
      smaps = File.read("/proc/#{pid}/smaps")
      File.write(File.join(dir, "rollup", "smaps_rollup"), File.read("/proc/#{pid}/smaps_rollup"))
      File.write(File.join(dir, "summed", "smaps"), smaps)
      from_rollup = MiqMemlog.read_memory(File.join(dir, "rollup"))
      summed = MiqMemlog.read_memory(File.join(dir, "summed"))
      assert_operator from_rollup[:rss], :>, 0
      assert_equal from_rollup.values_at(:rss, :uss, :swap), summed.values_at(:rss, :uss, :swap)
      # The kernel sums Pss unrounded in the rollup; per mapping it rounds down to a kB.
      mappings = smaps.lines.grep(/\A\h+-\h+ /).size
      assert_in_delta from_rollup[:pss], summed[:pss], mappings * 1024
    end
  ensure
    if pid
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
  end

  def test_the_default_reads_this_process
    MiqMemlog.proc_dir = nil
    memory = MiqMemlog.read_memory
    assert_operator memory[:rss], :>, 10 * 1024 * 1024
    assert_operator memory[:uss], :<=, memory[:rss]
    assert_equal 0, memory[:rss] % 1024
  end
end
