# What a dump holds, read the slow, plain way: JSON.parse on every line (the
# method of heapy), stdlib only. Lines JSON cannot parse are counted as bad.
# Prints one JSON object: objects and memsize in all (free slots and the
# allocation tracer's own object left out), the tracer's, by type and by
# file:line.
#
#   ruby oracle.rb DUMP
require "json"

totals = { "objects" => 0, "bytes" => 0, "tracer_objects" => 0, "tracer_bytes" => 0,
           "bad_lines" => 0, "lines" => 0, "roots" => 0 }
by_type = Hash.new { |h, k| h[k] = [0, 0] }
by_site = Hash.new { |h, k| h[k] = [0, 0] }
File.open(ARGV.fetch(0), "rb") do |f|
  f.each_line do |line|
    totals["lines"] += 1
    begin
      o = JSON.parse(line)
    rescue JSON::ParserError, EncodingError
      totals["bad_lines"] += 1
      next
    end
    type = o["type"]
    if type == "ROOT"
      totals["roots"] += 1
      next
    end
    next if type == "NONE" || type == "SHAPE" || o["address"].nil?
    bytes = o["memsize"] || 0
    if o["struct"] == "ObjectTracing/allocation_info_tracer"
      totals["tracer_objects"] += 1
      totals["tracer_bytes"] += bytes
      next
    end
    totals["objects"] += 1
    totals["bytes"] += bytes
    by_type[type][0] += 1
    by_type[type][1] += bytes
    by_site["#{o["file"]}:#{o["line"]}"][0] += 1 if o["file"]
  end
end
puts JSON.generate(totals.merge("by_type" => by_type, "sites" => by_site.size))
