# A dump with one line of several MB: an Array of 300 000 objects, the only
# way to them, so reading that line is what makes them live.
#
#   ruby big_line.rb DUMP    (prints the line of the array's elements)
require "objspace"
ObjectSpace.trace_object_allocations_start

BIG = Array.new(300_000) { Object.new }
puts __LINE__ - 1
GC.start
File.open(ARGV.fetch(0), "w") { |f| ObjectSpace.dump_all(output: f) }
