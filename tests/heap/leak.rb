# A process with a steady structure that churns garbage and leaks known objects
# at known lines between four dumps. Writes <out>/<prefix>_<epoch>_<pid>.dump
# (epochs an hour apart from <epoch>) and <out>.expected.json: what it planted,
# per window, by file:line, and the garbage left unswept in each dump.
#
#   ruby leak.rb OUT PID EPOCH [steady]
#
# With "steady" nothing leaks (the same churn and garbage).
require "objspace"
require "json"
ObjectSpace.trace_object_allocations_start

out, pid, epoch, mode = ARGV
pid = Integer(pid)
epoch = Integer(epoch)
leaking = mode != "steady"

class Order
  def initialize(id)
    @id = id
  end
end

STEADY = Array.new(20_000) { |i| "steady #{i}" }
LEAKED = []
SITES = { leaked: __LINE__ - 1 }


def leak_orders(n)
  n.times { |i| LEAKED << Order.new(i) }
end
SITES[:orders] = __LINE__ - 2

def leak_strings(n, round)
  n.times { |i| LEAKED << "leak #{round} #{i}" }
end
SITES[:strings] = __LINE__ - 2

def leak_hashes(n)
  n.times { |i| LEAKED << { id: i } }
end
SITES[:hashes] = __LINE__ - 2

def churn(n)
  n.times { |i| ["churn", i.to_s] }
end
SITES[:churn] = __LINE__ - 2

# Unreachable when the dump is written: the GC is off from here to the dump.
def garbage(n)
  n.times { |i| [i, i + 1, i + 2] }
end
SITES[:garbage] = __LINE__ - 2

PLANT = { orders: 300, strings: 500, hashes: 200 }
GARBAGE = 1000

def round(number, leaking, plant = PLANT)
  if leaking
    leak_orders(plant[:orders])
    leak_strings(plant[:strings], number)
    leak_hashes(plant[:hashes])
  end
  churn(20_000)
end

def dump(path)
  GC.start
  GC.disable
  garbage(GARBAGE)
  File.open(path, "w") { |f| ObjectSpace.dump_all(output: f) }
  GC.enable
end

# Frozen, so File.open keeps no copy of them; defined before the warm-up, as a
# new constant makes Ruby 3.1 renew every constant cache.
DUMPS = Array.new(4) { |k| File.join(out, "leaky_#{epoch + 3600 * k}_#{pid}.dump").freeze }
NOTHING = PLANT.transform_values { 0 }

# Warm-up: every call once, so the call caches Ruby makes on a first call
# predate the first dump.
round(0, true, PLANT.transform_values { 1 })
dump(File::NULL)

4.times do |k|
  round(k, leaking, k > 0 ? PLANT : NOTHING)
  dump(DUMPS[k])
end

file = __FILE__
planted = PLANT.to_h { |site, n| ["#{file}:#{SITES[site]}", leaking ? n : 0] }
File.write("#{out}.expected.json", JSON.pretty_generate(
  "dumps" => DUMPS.map { |d| File.basename(d) },
  "file" => file,
  "sites" => SITES.to_h { |k, v| [k.to_s, v] },
  # Every window (three consecutive dumps) retains what its middle round planted.
  "windows" => [planted, planted],
  "garbage_per_dump" => GARBAGE,
))
