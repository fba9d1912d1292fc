# The plain way to read a dump, as heapy does: JSON.parse on every line, then
# objects and memsize by type and by file:line. Stdlib only; the yardstick the
# heap benchmark times miq-memlog against, and a check of its totals (every
# object, live or garbage, the allocation tracer's own object apart).
#
#   ruby oracle_json.rb DUMP
#
# Prints one JSON object: lines, bad lines, objects and bytes, the tracer's,
# by type, the number of file:line sites and the five largest by bytes.
require "json"

TRACER = "ObjectTracing/allocation_info_tracer"
lines = bad = objects = bytes = tracer_objects = tracer_bytes = 0
by_type = Hash.new { |h, k| h[k] = [0, 0] }
by_site = Hash.new { |h, k| h[k] = [0, 0] }
File.open(ARGV.fetch(0), "rb") do |f|
  f.each_line do |line|
    lines += 1
    begin
      o = JSON.parse(line)
    rescue JSON::ParserError, EncodingError
      bad += 1
      next
    end
    type = o["type"]
    next if type == "ROOT" || type == "SHAPE" || type == "NONE" || o["address"].nil?
    memsize = o["memsize"] || 0
    if o["struct"] == TRACER
      tracer_objects += 1
      tracer_bytes += memsize
      next
    end
    objects += 1
    bytes += memsize
    t = by_type[type]
    t[0] += 1
    t[1] += memsize
    if (file = o["file"])
      s = by_site["#{file}:#{o["line"]}"]
      s[0] += 1
      s[1] += memsize
    end
  end
end
top = by_site.max_by(5) { |_, (_, b)| b }.map { |site, (n, b)| { "site" => site, "objects" => n, "bytes" => b } }
puts JSON.generate(
  "lines" => lines, "bad_lines" => bad, "objects" => objects, "bytes" => bytes,
  "tracer_objects" => tracer_objects, "tracer_bytes" => tracer_bytes,
  "by_type" => by_type.sort.to_h { |type, (n, b)| [type, { "objects" => n, "bytes" => b }] },
  "sites" => by_site.size, "top_sites" => top,
)
