#!/usr/bin/env bash
# The heap-dump benchmark: three ~500 MB dumps of one process written by real
# Ruby (benches/heap/make_dumps.rb), read by miq-memlog and by the plain way
# (benches/heap/oracle_json.rb: JSON.parse on every line), medians of N
# rounds measured side by side in one run. Prints a markdown section and puts
# it in BENCHMARKS.md between `<!-- heap:begin -->` and `<!-- heap:end -->`
# (appended with its markers when they are absent; nothing else is touched).
#
#   benches/heap.sh            # 5 rounds, dumps cached in target/bench-heap
#   benches/heap.sh 9          # 9 rounds
#   RECORDS=50000 benches/heap.sh   # smaller dumps (about 3 KB of dump per record)
#   BENCH_OUT=/dev/null benches/heap.sh  # print only
#   REPORT_ONLY=1 benches/heap.sh   # the section again from the last run's results
#
# Needs: cargo, ruby, gzip, sqlite3, python3, taskset, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-${RUNS:-5}}
RECORDS=${RECORDS:-175000}
D=${BENCH_DIR:-$ROOT/target/bench-heap}
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
BIN=$ROOT/target/release/miq-memlog
PID=5151
EPOCH=1700000000

for tool in cargo ruby gzip sqlite3 python3 taskset /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "heap.sh: $tool is needed" >&2; exit 1; }
done

R=$D/results
# Everything up to the report is skipped with REPORT_ONLY=1.
if [ "${REPORT_ONLY:-0}" != 1 ]; then
cargo build --release --locked -q
mkdir -p "$D"

# The dumps are kept while the script making them, its size and Ruby are unchanged.
want="$(sha256sum benches/heap/make_dumps.rb | cut -c1-16) $RECORDS $(ruby -e 'print RUBY_VERSION')"
DUMPS=("$D/bench_${EPOCH}_$PID.dump" "$D/bench_$((EPOCH + 3600))_$PID.dump" "$D/bench_$((EPOCH + 7200))_$PID.dump")
GZ_DIR=$D/gz
GZ=$GZ_DIR/$(basename "${DUMPS[0]}").gz
if [ ! -f "$D/dumps.stamp" ] || [ "$(cat "$D/dumps.stamp")" != "$want" ] || [ ! -f "$GZ" ]; then
    echo "making three dumps of $RECORDS records in $D"
    rm -rf "${D:?}"/bench_*.dump "$GZ_DIR" "$D/dumps.stamp"
    ruby benches/heap/make_dumps.rb "$D" "$PID" "$EPOCH" "$RECORDS"
    mkdir -p "$GZ_DIR"
    gzip -6 -c "${DUMPS[0]}" >"$GZ"
    echo "$want" >"$D/dumps.stamp"
fi
RAW=${DUMPS[0]}

rm -f "$R"
# Appends "name seconds peak_kb" for one run of a command.
measure() {
    local name=$1
    shift
    /usr/bin/time -f "$name %e %M" -a -o "$R" "$@" >/dev/null 2>&1
}
fresh() { rm -f "$D/$1" "$D/$1-wal" "$D/$1-shm"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$RUNS"); do
    echo "round $round of $RUNS"
    measure gzip_dc gzip -dc "$GZ"
    fresh raw1.db
    measure ingest_raw_one_core taskset -c 0 "$BIN" --db "$D/raw1.db" ingest -q "$RAW"
    fresh raw.db
    measure ingest_raw "$BIN" --db "$D/raw.db" ingest -q "$RAW"
    fresh gz.db
    measure ingest_gz "$BIN" --db "$D/gz.db" ingest -q "$GZ"
    measure oracle ruby benches/heap/oracle_json.rb "$RAW"
done
fresh three.db
"$BIN" --db "$D/three.db" ingest -q "${DUMPS[@]}"
for _ in $(seq "$RUNS"); do
    measure heap "$BIN" --db "$D/three.db" heap
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

fresh empty.db
mkdir -p "$D/nothing"
"$BIN" --db "$D/empty.db" ingest -q "$D/nothing"
ruby benches/heap/oracle_json.rb "$RAW" >"$D/oracle.json"
# What miq-memlog stored of the dump, every object (live or garbage) counted.
sqlite3 -json "$D/raw1.db" "SELECT objects, garbage_objects, bytes, garbage_bytes, tracer_objects,
    tracer_bytes, lines, bad_lines, (SELECT COUNT(*) FROM heap_site) AS sites FROM heap_dump" >"$D/stored.json"
"$BIN" --db "$D/three.db" heap >"$D/heap.txt"

{
    echo "RUNS='$RUNS' RECORDS='$RECORDS' load_before='$load_before' load_after='$load_after'"
    echo "RAW_BYTES=$(stat -c %s "$RAW") GZ_BYTES=$(stat -c %s "$GZ")"
    echo "EMPTY_DB=$(stat -c %s "$D/empty.db") RAW_DB=$(stat -c %s "$D/raw1.db")"
    echo "THREE_BYTES=$(($(stat -c %s "${DUMPS[0]}") + $(stat -c %s "${DUMPS[1]}") + $(stat -c %s "${DUMPS[2]}")))"
    echo "THREE_DB=$(stat -c %s "$D/three.db") CORES=$(nproc)"
    echo "CPU='$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)'"
    echo "RUBY='$(ruby -e 'print RUBY_DESCRIPTION')' RUSTC='$(rustc --version)' VERSION='$("$BIN" --version)'"
    echo "DATE=$(date -u +%F)"
} >"$D/report.env"
fi

# shellcheck disable=SC1091
. "$D/report.env"
export R D OUT RUNS RECORDS load_before load_after RAW_BYTES GZ_BYTES EMPTY_DB RAW_DB
export THREE_BYTES THREE_DB CORES CPU RUBY RUSTC VERSION DATE
python3 - <<'PY'
import json, os, statistics

env = os.environ
runs = {}
for line in open(env["R"]):
    name, wall, kb = line.split()
    runs.setdefault(name, []).append((float(wall), int(kb)))
med = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
peak = {k: max(kb for _, kb in v) * 1024 for k, v in runs.items()}
raw, gz = int(env["RAW_BYTES"]), int(env["GZ_BYTES"])
oracle = json.load(open(os.path.join(env["D"], "oracle.json")))
stored = json.load(open(os.path.join(env["D"], "stored.json")))[0]
mb = lambda b: f"{b / 1e6:.0f} MB"
speed = raw / med["ingest_raw_one_core"] / 1e6
gz_ratio = med["ingest_gz"] / med["gzip_dc"]
rss = max(peak["ingest_raw_one_core"], peak["ingest_raw"], peak["ingest_gz"])
growth = int(env["RAW_DB"]) - int(env["EMPTY_DB"])
oracle_ratio = med["oracle"] / med["ingest_raw_one_core"]
oracle_ratio_both = med["oracle"] / med["ingest_raw"]
agrees = (
    oracle["objects"] == stored["objects"] + stored["garbage_objects"]
    and oracle["bytes"] == stored["bytes"] + stored["garbage_bytes"]
    and oracle["tracer_objects"] == stored["tracer_objects"]
    and oracle["tracer_bytes"] == stored["tracer_bytes"]
    and oracle["lines"] == stored["lines"]
    and oracle["bad_lines"] == stored["bad_lines"]
)
yes = lambda ok: "met" if ok else "**not met**"
verdict = next((l for l in open(os.path.join(env["D"], "heap.txt")) if l.startswith("verdict:")), "").strip()

out = []
w = out.append
w("## Heap dumps (`benches/heap.sh`)")
w("")
w(f"Written by `benches/heap.sh` on {env['DATE']}: {env['CPU']}, {env['CORES']} cores, "
  f"load average {env['load_before']} before and {env['load_after']} after (the machine is shared: "
  f"every figure is a median of {env['RUNS']} rounds, the rounds interleaved so that each ratio compares "
  f"runs made side by side). {env['VERSION']}, {env['RUSTC']}, {env['RUBY']}.")
w("")
w(f"Three dumps of one process made by `benches/heap/make_dumps.rb` ({env['RECORDS']} records, allocation "
  f"tracing on): {mb(raw)}, then {mb(int(env['THREE_BYTES']) - raw)} more in the other two; the first as "
  f"`gzip -6` is {mb(gz)}. It holds {stored['lines']:,} lines, {oracle['objects']:,} objects "
  f"({stored['objects']:,} live, {stored['garbage_objects']:,} garbage) in {stored['sites']} sites.")
w("")
w("| target | measured | |")
w("|---|---|---|")
w(f"| reading a raw dump on one core (`taskset -c 0`) at >= 500 MB/s | {speed:.0f} MB/s ({med['ingest_raw_one_core']:.2f} s) | {yes(speed >= 500)} |")
w(f"| ingest of its .gz <= 1.25 x `gzip -dc` of it | {gz_ratio:.2f} x ({med['ingest_gz']:.2f} s against {med['gzip_dc']:.2f} s) | {yes(gz_ratio <= 1.25)} |")
w(f"| peak RSS <= 0.3 x the raw dump | {rss / raw:.2f} x ({mb(rss)}) | {yes(rss <= 0.3 * raw)} |")
w(f"| database growth <= 5 % of the raw dump | {100 * growth / raw:.1f} % ({mb(growth)}) | {yes(growth <= 0.05 * raw)} |")
w(f"| `heap` over the three dumps within a few seconds | {med['heap']:.2f} s | {yes(med['heap'] <= 5)} |")
w(f"| >= 20 x faster than JSON.parse on every line | {oracle_ratio:.1f} x ({med['oracle']:.1f} s against {med['ingest_raw_one_core']:.2f} s on one core) | {yes(oracle_ratio >= 20)} |")
w(f"| the same on both cores (the lines parsed on two threads) | {oracle_ratio_both:.1f} x ({med['oracle']:.1f} s against {med['ingest_raw']:.2f} s) | {yes(oracle_ratio_both >= 20)} |")
w("")
w("| what | median | peak RSS (the largest of the rounds) |")
w("|---|---|---|")
rows = [
    ("gzip_dc", "`gzip -dc` of the .gz"),
    ("ingest_raw_one_core", "ingest of the raw dump, one core"),
    ("ingest_raw", "ingest of the raw dump, both cores (reading beside two parse threads)"),
    ("ingest_gz", "ingest of the .gz (inflating beside two parse threads)"),
    ("oracle", "`ruby benches/heap/oracle_json.rb` on the raw dump"),
    ("heap", "`heap` on the database of the three dumps"),
]
for key, what in rows:
    w(f"| {what} | {med[key]:.2f} s | {mb(peak[key])} |")
w("")
w(f"The database of the three dumps is {mb(int(env['THREE_DB']))} ({100 * int(env['THREE_DB']) / int(env['THREE_BYTES']):.1f} % of them). "
  f"The oracle's totals {'agree' if agrees else '**disagree**'} with what ingest stored: lines, bad lines, every "
  f"object and its memsize (live plus garbage), the allocation tracer's object apart. `heap` says: {verdict[len('verdict: '):]}")
section = "\n".join(out) + "\n"
print(section)

path = env["OUT"]
if path == "/dev/null":
    raise SystemExit
begin, end = "<!-- heap:begin -->", "<!-- heap:end -->"
text = open(path).read() if os.path.exists(path) else ""
block = f"{begin}\n{section}{end}"
if begin in text and end in text and text.index(begin) < text.index(end):
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    text = head + block + tail
else:
    text = text + ("" if text.endswith("\n") or not text else "\n") + ("\n" if text else "") + block + "\n"
with open(path + ".tmp", "w") as f:
    f.write(text)
os.replace(path + ".tmp", path)
print(f"wrote the heap section of {path}")
PY
