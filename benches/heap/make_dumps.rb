# Three dumps of one process for the heap benchmark, written by real Ruby with
# allocation tracing on: a large steady structure of records (hashes, strings,
# arrays, objects) allocated at many sites in app and gem paths, a leak
# between the dumps, garbage churned before each.
#
#   ruby make_dumps.rb OUT PID EPOCH RECORDS
#
# A record is about 8 objects and 2.9 KB of dump (Ruby 3.1): 175 000 records
# make a first dump of ~515 MB.
require "objspace"
ObjectSpace.trace_object_allocations_start

out, pid, epoch, records = ARGV
records = Integer(records)

class Record
  def initialize(id, name, tags)
    @id = id
    @name = name
    @tags = tags
  end
end

# Builders at many sites: each defined from its own "file" and line.
PATHS = Array.new(40) do |i|
  if i.even?
    "/var/www/miq/vmdb/app/models/model_#{i}.rb"
  else
    "/usr/share/gems/gems/gem#{i}-1.#{i}.0/lib/gem#{i}/builder.rb"
  end
end
BUILDERS = PATHS.each_with_index.map do |path, i|
  Object.new.tap do |b|
    b.instance_eval(<<~RUBY, path, 10 + i)
      def build(id)
        name = "record \#{id} of builder #{i} with a name long enough to be heap-allocated"
        tags = ["tag-\#{id % 7}", "kind-#{i}", id.to_s]
        { id: id, name: name, record: Record.new(id, name, tags), meta: { "n" => id, "f" => id * 0.5 } }
      end
    RUBY
  end
end

STEADY = Array.new(records) { |i| BUILDERS[i % BUILDERS.size].build(i) }
LEAK = []

def dump(path)
  GC.start
  GC.disable
  20_000.times { |i| ["garbage", i.to_s] }
  File.open(path, "w") { |f| ObjectSpace.dump_all(output: f) }
  GC.enable
end

3.times do |k|
  if k > 0
    (records / 50).times { |i| LEAK << BUILDERS[i % 3].build(i) }
  end
  dump(File.join(out, "bench_#{Integer(epoch) + 3600 * k}_#{pid}.dump"))
end
