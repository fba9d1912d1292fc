# Three dumps of one process with GC.compact between the first two: moved
# objects lose their allocation info on Ruby 2.7-3.3, so the count of objects
# without it rises and that pair's diff cannot be trusted.
#
#   ruby compact.rb OUT PID EPOCH
require "objspace"
ObjectSpace.trace_object_allocations_start

out, pid, epoch = ARGV
KEPT = []

def dump(path)
  GC.start
  File.open(path, "w") { |f| ObjectSpace.dump_all(output: f) }
end

paths = Array.new(3) { |k| File.join(out, "compacted_#{Integer(epoch) + 3600 * k}_#{pid}.dump").freeze }
# Every other object freed: sparse pages compaction will empty.
objects = Array.new(100_000) { |i| "object #{i}" }
objects.each_with_index { |o, i| KEPT << o if i.odd? }
objects = nil
dump(paths[0])
200.times { |i| KEPT << "leak #{i}" }
GC.compact
dump(paths[1])
dump(paths[2])
