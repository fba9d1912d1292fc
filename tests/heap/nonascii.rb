# A dump holding objects allocated in a method with a non-ASCII name: Ruby
# 3.0-3.1 write such a name with raw NUL bytes, making the line invalid JSON.
#
#   ruby nonascii.rb DUMP
require "objspace"
ObjectSpace.trace_object_allocations_start

def grüße(n)
  Array.new(n) { |i| "grüße #{i}" }
end

KEPT = grüße(50)
GC.start
File.open(ARGV.fetch(0), "w") { |f| ObjectSpace.dump_all(output: f) }
