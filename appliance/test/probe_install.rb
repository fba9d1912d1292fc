# Boots a fresh interpreter the way an appliance process would and reports what the
# enrichment did, as JSON on stdout (the install tests run it in a child process).
#   PROBE_ROOT      Rails.root
#   PROBE_PROGRAM   $PROGRAM_NAME to boot as (e.g. rake, bin/rails, run_single_worker.rb)
#   PROBE_PREPARES  how many times to_prepare runs (default 1)
#   PROBE_WORKERS   0 = no MiqQueueWorkerBase::Runner in this release (default 1)
require "json"
require_relative "stand_in/rails"
with_workers = ENV["PROBE_WORKERS"] != "0"
require_relative "stand_in/workers" if with_workers

Rails.root = Pathname.new(ENV.fetch("PROBE_ROOT"))
$0 = ENV.fetch("PROBE_PROGRAM", "lib/workers/bin/run_single_worker.rb")
load File.expand_path("../miq_memlog.rb", __dir__)
Integer(ENV.fetch("PROBE_PREPARES", "1")).times { Rails.application.run_to_prepare }

report = { "to_prepare_blocks" => Rails.application.config.to_prepare_blocks.size }
if with_workers
  hook = defined?(MiqMemlog::DeliverMessageHook) && MiqMemlog::DeliverMessageHook
  report["hooks"] = MiqQueueWorkerBase::Runner.ancestors.count(hook)
  runner = MiqGenericWorker::Runner.new
  MiqQueue.work["perf_process"] = proc { :processed }
  report["results"] = [runner.deliver_message("sync_config"),
                       runner.deliver_message(MiqQueue.new(id: 1, method_name: "perf_process"))]
end
report["log"] = $log_io.string
puts JSON.generate(report)
