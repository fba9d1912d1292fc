require_relative "helper"

# Time.now stands still while FrozenClock.at is set: "two dumps in one second" on demand.
module FrozenClock
  class << self
    attr_accessor :at
  end

  def now(*args, **options)
    FrozenClock.at || super
  end
end
Time.singleton_class.prepend(FrozenClock)

# Makes ObjectSpace.dump_all write a little, then fail as a full disk would.
module FullDisk
  def dump_all(output: nil, **)
    output.write("{\"type\":\"ROOT\"")
    raise Errno::ENOSPC
  end
end

class DumpsTest < Minitest::Test
  include MemlogTest

  def setup
    super
    ENV["MIQ_MEMLOG_DUMP_EVERY"] = "1"
    ENV["MIQ_MEMLOG_DUMP_MAX"] = "2"
    @epoch = Time.now.to_i
    FrozenClock.at = Time.at(@epoch, 250_000)
  end

  def teardown
    FrozenClock.at = nil
    super
  end

  def dump_dir
    File.join(@root, "tmp")
  end

  def test_two_dumps_in_one_second_are_both_kept_and_the_cap_is_logged_once
    deliver(MiqGenericWorker::Runner.new, "sync_config", "sync_config", "sync_config", "sync_config")

    names = ["memlog_1_#{@epoch}_#{Process.pid}.dump", "memlog_2_#{@epoch}_#{Process.pid}.dump"]
    assert_equal names, Dir.children(dump_dir).sort, "no .tmp left, nothing overwritten"
    dumps = records(:dump)
    assert_equal names, dumps.map { |dump| dump[:file] }
    dump_lines = messages_matching(/miq_memlog dump: /)
    dumps.zip(dump_lines).each do |dump, line|
      path = File.join(dump_dir, dump[:file])
      assert_equal File.size(path), dump[:bytes]
      assert_operator dump[:bytes], :>, 100_000
      assert_equal 0o600, File.stat(path).mode & 0o777, "a dump holds every string: owner only"
      assert_equal "MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog dump: file #{dump[:file]}, " \
                   "bytes #{dump[:bytes]}, ms #{dump[:ms]}", line
      first = JSON.parse(File.open(path, &:readline))
      assert first.key?("type"), "ObjectSpace.dump_all output"
    end
    assert_equal ["MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog dump skipped: cap 2 reached"],
                 messages_matching(/dump skipped/)
    assert_equal [1, 2, 3, 4], samples.map(&:msgs)
    kinds = @records.map(&:first)
    assert_equal %i(started sample dump sample dump sample dump_skipped sample), kinds
  end

  def test_an_existing_dump_is_never_overwritten
    taken = File.join(dump_dir, "memlog_1_#{@epoch}_#{Process.pid}.dump")
    File.write(taken, "an earlier process with this pid")
    ENV["MIQ_MEMLOG_DUMP_MAX"] = "1"
    deliver(MiqGenericWorker::Runner.new, "sync_config")

    assert_equal "an earlier process with this pid", File.read(taken)
    assert_equal ["memlog_1_#{@epoch}_#{Process.pid}.dump", "memlog_2_#{@epoch}_#{Process.pid}.dump"],
                 Dir.children(dump_dir).sort
  end

  def test_a_failing_dump_leaves_no_file_and_disables_the_enrichment
    ObjectSpace.singleton_class.prepend(FullDisk)
    results = deliver(MiqGenericWorker::Runner.new, "sync_config", "sync_config")
    assert_equal %i(config_synced config_synced), results
    assert_equal [], Dir.children(dump_dir)
    assert_equal ["MIQ(MiqGenericWorker::Runner#deliver_message) miq_memlog disabled: " \
                  "Errno::ENOSPC: No space left on device"], messages_matching(/disabled/)
    assert_equal [1], samples.map(&:msgs), "nothing more after the disabled line"
  ensure
    FullDisk.send(:remove_method, :dump_all)
  end

  def test_dump_dir_is_created_when_missing
    ENV["MIQ_MEMLOG_DUMP_DIR"] = File.join(@root, "dumps", "generic")
    deliver(MiqGenericWorker::Runner.new, "sync_config")
    assert_equal ["memlog_1_#{@epoch}_#{Process.pid}.dump"], Dir.children(ENV["MIQ_MEMLOG_DUMP_DIR"])
  end
end
