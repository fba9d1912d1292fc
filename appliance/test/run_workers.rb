# Runs the stand-in workers for real and writes what the enrichment wrote, plus an
# oracle built from the values it reported (MiqMemlog.on_record), never from its log:
#
#   ruby appliance/test/run_workers.rb OUTDIR
#
#   OUTDIR/log/memlog.log            the enrichment's own file, shared by every worker
#   OUTDIR/tmp/memlog_*.dump         its heap dumps
#   OUTDIR/expected/samples.csv      time,pid,worker,rss,pss,uss,swap,live,old,gc_ms,msg_ms,msgs,msg_id,msg_class,msg_method
#   OUTDIR/expected/dumps.csv        time,pid,worker,file,bytes
#   OUTDIR/expected/processes.csv    pid,worker,version,every,gc,dump_every,dump_max,trace,sinks
#
# Like a Euwe..Ivanchuk server, this process installs the enrichment, then forks one
# process per worker; they run at the same time. Rows are sorted by pid, then time.
# OUTDIR's log, tmp and expected folders are emptied first.
require "csv"
require "fileutils"
require_relative "stand_in"

outdir = ARGV.fetch(0) { abort "usage: ruby #{$PROGRAM_NAME} OUTDIR" }
outdir = File.expand_path(outdir)
%w(log tmp expected).each do |folder|
  FileUtils.rm_rf(File.join(outdir, folder))
  FileUtils.mkdir_p(File.join(outdir, folder))
end

ENV["MIQ_MEMLOG"] = "1"
ENV["MIQ_MEMLOG_WORKERS"] = "Generic|Priority|RefreshWorker" # MiqEventHandler is left out
ENV["MIQ_MEMLOG_DUMP_EVERY"] = "4"
ENV["MIQ_MEMLOG_DUMP_MAX"] = "3"
ENV["MIQ_MEMLOG_TRACE"] = "1"
%w(MIQ_MEMLOG_EVERY MIQ_MEMLOG_GC MIQ_MEMLOG_DUMP_DIR MIQ_MEMLOG_FILE MIQ_MEMLOG_SINKS).each { |name| ENV.delete(name) }
Rails.root = Pathname.new(outdir)
load File.expand_path("../miq_memlog.rb", __dir__)
Rails.application.run_to_prepare

# Work that grows the heap, as a slow leak would.
$retained = []
MiqQueue.work["perf_process"] = proc { |msg| $retained.concat(Array.new(2_000) { |i| "#{msg.id}-#{i}" * 4 }) }
MiqQueue.work["perf_rollup"] = proc { Array.new(5_000) { |i| [i] }.size }

def queue_message(id, method_name, class_name = "Storage")
  MiqQueue.new(id: id, target_id: nil, priority: 100, method_name: method_name,
               args: [{ password: "s3cr3t" }], task_id: nil, state: "ready", zone: "default",
               role: "ems_metrics_processor", class_name: class_name, instance_id: id % 97,
               queue_name: "generic", data: nil, miq_callback: nil)
end

def refresh_message(id)
  queue_message(id, "refresh", "ManageIQ::Providers::Vmware::InfraManager")
end

# Each worker: its runner, its own settings, and the batches its do_work loop gets;
# a nil stands for deliver_message(nil), which raises like the real one.
WORKERS = [
  [MiqGenericWorker::Runner, { "MIQ_MEMLOG_GC" => "1" },
   [[queue_message(1_000_000_000_001, "perf_process"), "sync_config", queue_message(1_000_000_000_002, "perf_rollup")],
    nil,
    [ManageIQ::Messaging::ReceivedMessage.new("ems_1", "refresh", { password: "s3cr3t" }, 7, nil)] +
      (3..14).map { |n| n.even? ? queue_message(1_000_000_000_000 + n, "perf_process") : "sync_config" }]],
  [MiqPriorityWorker::Runner, { "MIQ_MEMLOG_EVERY" => "3" },
   [(1..9).map { |n| queue_message(1_000_000_000_100 + n, n.odd? ? "perf_process" : "perf_rollup") }]],
  [ManageIQ::Providers::Vmware::InfraManager::RefreshWorker::Runner, {},
   [(1..10).map { |n| refresh_message(1_000_000_000_200 + n) }]],
  [MiqEventHandler::Runner, {}, [(1..5).map { |n| queue_message(1_000_000_000_300 + n, "perf_rollup") }]]
].freeze

def run_worker(runner_class, settings, batches)
  settings.each { |name, value| ENV[name] = value }
  runner = runner_class.new
  batches.each do |batch|
    if batch.nil?
      begin
        runner.deliver_message(nil)
      rescue RuntimeError
        nil # the real worker would log it; the sample is taken all the same
      end
    else
      runner.instance_variable_set(:@queue, batch.dup)
      runner.do_work
    end
  end
end

children = WORKERS.map do |runner_class, settings, batches|
  reader, writer = IO.pipe
  pid = fork do
    reader.close
    records = []
    MiqMemlog.on_record = proc { |kind, fields| records << [kind, fields] }
    run_worker(runner_class, settings, batches)
    writer.write(Marshal.dump(records))
    writer.close
    exit!(0)
  end
  writer.close
  [pid, reader]
end

records = children.flat_map do |pid, reader|
  data = reader.read
  reader.close
  Process.wait(pid)
  abort "worker #{pid} failed" unless $?.success?
  Marshal.load(data)
end

def utc(time)
  time.strftime("%Y-%m-%dT%H:%M:%S.%6NZ")
end

def worker(fields)
  fields[:runner].sub(/::Runner\z/, "")
end

# Sorted by pid, then time; rows of one pid and time keep the order they were written in.
def write_csv(path, header, rows)
  pid = header.index("pid")
  time = header.index("time")
  CSV.open(path, "w") do |csv|
    csv << header
    rows.sort_by.with_index { |row, index| [row[pid], time ? row[time] : "", index] }.each { |row| csv << row }
  end
end

def of_kind(records, kind)
  records.select { |record_kind, _| record_kind == kind }.map(&:last)
end

expected = File.join(outdir, "expected")
samples = of_kind(records, :sample).map do |f|
  [utc(f[:time]), f[:pid], worker(f), f[:rss], f[:pss], f[:uss], f[:swap], f[:live], f[:old], f[:gc_ms],
   f[:msg_ms], f[:msgs], f[:msg_id], f[:msg_class], f[:msg_method]]
end
write_csv(File.join(expected, "samples.csv"),
          %w(time pid worker rss pss uss swap live old gc_ms msg_ms msgs msg_id msg_class msg_method), samples)
dumps = of_kind(records, :dump).map { |f| [utc(f[:time]), f[:pid], worker(f), f[:file], f[:bytes]] }
write_csv(File.join(expected, "dumps.csv"), %w(time pid worker file bytes), dumps)
processes = of_kind(records, :started).map do |f|
  s = f[:settings]
  [f[:pid], worker(f), f[:version], s[:every], s[:gc], s[:dump_every], s[:dump_max], s[:trace], s[:sinks]]
end
write_csv(File.join(expected, "processes.csv"),
          %w(pid worker version every gc dump_every dump_max trace sinks), processes)

puts "wrote #{File.join(outdir, "log", "memlog.log")}: #{records.size} lines from #{processes.size} processes; " \
     "#{dumps.size} dumps in #{File.join(outdir, "tmp")}; #{samples.size} samples in #{expected}"
