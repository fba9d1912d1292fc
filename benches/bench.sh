#!/usr/bin/env bash
# The benchmark: miq-memlog against the tools it must keep up with, on the same
# generated files, in one run; writes BENCHMARKS.md (medians and ratios).
#
#   benches/bench.sh              # 5 runs per measurement, data in target/bench
#   RUNS=9 benches/bench.sh       # more runs on a noisy machine
#   PROFILE=0 benches/bench.sh    # skip the perf profiles
#   REPORT_ONLY=1 benches/bench.sh  # rewrite BENCHMARKS.md from the last run's results
#
# Needs: cargo, hyperfine, gzip, grep, sqlite3, python3, GNU time (/usr/bin/time),
# taskset (util-linux); perf for the profile section (skipped when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
PROFILE=${PROFILE:-1}
D=${BENCH_DIR:-$ROOT/target/bench}
BIN=$ROOT/target/release/miq-memlog
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}

if [ "${REPORT_ONLY:-0}" = 1 ]; then
    # shellcheck disable=SC1091
    . "$D/report.env"
    python3 "$ROOT/benches/report.py"
    echo "wrote $OUT"
    exit 0
fi

for tool in hyperfine gzip grep sqlite3 python3 taskset /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done

cargo build --release --locked
mkdir -p "$D/json"
rm -f "$D"/json/*.json

# Generated data is kept between runs while the generator and its options are unchanged.
GEN_VERSION=$(cat src/synth/*.rs | sha256sum | cut -c1-16)
gen() {
    local name=$1
    shift
    local want="$GEN_VERSION $*"
    if [ ! -f "$D/$name.stamp" ] || [ "$(cat "$D/$name.stamp")" != "$want" ]; then
        echo "generating $name: $*"
        rm -rf "${D:?}/$name" "$D/$name.stamp"
        "$BIN" generate --out "$D/$name" "$@"
        echo "$want" >"$D/$name.stamp"
    fi
}

# One appliance-day of 1 GiB: noise of every shape, 5 patched workers, log_status
# every 5 minutes, lines up to 4 MiB.
gen big --seed 1 --size 1G
# Four days of 256 MiB for the multi-core measurement.
gen multi --seed 2 --days 4 --size 256M
# Same volume, lines of 200 bytes vs lines of 5 MB (plain text).
gen short --seed 3 --size 1G --plain --line-bytes 200
gen long --seed 3 --size 1G --plain --line-bytes 5M
# Three days of a patched appliance at one message per second per worker: > 1 M samples.
gen export --seed 4 --days 3 --interval 1 --dump-every 0

GZ=$D/big/appliance-01/evm.log-20170302.gz
PLAIN=$D/big.log
if [ ! -f "$PLAIN" ] || [ "$GZ" -nt "$PLAIN" ]; then
    gzip -dc "$GZ" >"$PLAIN"
fi
SHORT=$D/short/appliance-01/evm.log-20170302
LONG=$D/long/appliance-01/evm.log-20170302
MULTI=$D/multi/appliance-01
DB=$D/run.db

# Databases the re-ingest and export measurements start from.
rm -f "$D"/once.db* "$D"/export.db*
"$BIN" --db "$D/once.db" ingest -q "$GZ"
"$BIN" --db "$D/export.db" ingest -q --host-from-folder "$D/export/appliance-01"
SAMPLES=$(sqlite3 "$D/export.db" "SELECT COUNT(*) FROM sample")

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Compared commands run in alternating rounds (benches/pair.py), so a build that
# other users start halfway slows both alike; a single command runs under hyperfine.
pair() {
    PAIR_OUT="$D/json" python3 "$ROOT/benches/pair.py" "$RUNS" "$@"
}
hf() {
    local name=$1
    shift
    hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$D/json/$name.json" "$@"
}
fresh="rm -f $DB $DB-wal $DB-shm"

pair ingest_gz "$BIN --db $DB ingest -q $GZ" gzip_dc "gzip -dc $GZ > /dev/null" --prepare-a "$fresh"
# Not to /dev/null: GNU grep stops at the first match when its output goes there.
pair ingest_plain "$BIN --db $DB ingest -q $PLAIN" \
    grep_plain "grep -c -e 'Memory Info XXXX' -e log_status -e 'exceeded limit' $PLAIN > $D/grep.count" \
    --prepare-a "$fresh"
pair multi_all "$BIN --db $DB ingest -q $MULTI" multi_one "taskset -c 0 $BIN --db $DB ingest -q $MULTI" \
    --prepare-a "$fresh" --prepare-b "$fresh"
hf reingest --prepare "$fresh; cp $D/once.db $DB" "$BIN --db $DB ingest -q $GZ"
hf ingest_dense --prepare "$fresh" "$BIN --db $DB ingest -q $D/export/appliance-01"
pair export_csv "$BIN --db $D/export.db export --format csv > /dev/null" \
    sqlite_csv "sqlite3 -csv $D/export.db '.read $ROOT/queries/export_samples.sql' > /dev/null"
pair lines_200 "$BIN --db $DB ingest -q $SHORT" lines_5m "$BIN --db $DB ingest -q $LONG" \
    --prepare-a "$fresh" --prepare-b "$fresh"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# Peak RSS (kB) of each ingest, from GNU time.
peak() {
    rm -f "$DB" "$DB-wal" "$DB-shm"
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
}
RSS_GZ=$(peak "$BIN" --db "$DB" ingest -q "$GZ")
RSS_PLAIN=$(peak "$BIN" --db "$DB" ingest -q "$PLAIN")
RSS_MULTI=$(peak "$BIN" --db "$DB" ingest -q "$MULTI")
RSS_LONG=$(peak "$BIN" --db "$DB" ingest -q "$LONG")
# A log that is nearly all samples: the writer, not reading, sets the pace.
RSS_DENSE=$(peak "$BIN" --db "$DB" ingest -q "$D/export/appliance-01")
RSS_EXPORT=$(/usr/bin/time -v "$BIN" --db "$D/export.db" export --format csv 2>&1 >/dev/null |
    awk -F': ' '/Maximum resident set size/ {print $2}')

# Where the time goes: perf samples by thread and function.
PROFILES=$D/profiles.txt
: >"$PROFILES"
if [ "$PROFILE" = 1 ] && perf record -q -o /dev/null true 2>/dev/null; then
    for target in "$GZ" "$PLAIN"; do
        rm -f "$DB" "$DB-wal" "$DB-shm"
        perf record -q -F 999 -o "$D/perf.data" "$BIN" --db "$DB" ingest -q "$target" 2>/dev/null
        {
            echo "### ingest $(basename "$target")"
            echo
            echo '```'
            perf report -i "$D/perf.data" --stdio --sort comm --percent-limit 1 2>/dev/null | grep -E '^ +[0-9]'
            echo
            perf report -i "$D/perf.data" --stdio --sort comm,sym --percent-limit 1.5 2>/dev/null | grep -E '^ +[0-9]' | head -14
            echo '```'
            echo
        } >>"$PROFILES"
    done
else
    echo "(perf not available: no profile this run)" >"$PROFILES"
fi

export D RUNS SAMPLES GZ PLAIN SHORT LONG MULTI BIN LOAD_BEFORE LOAD_AFTER PROFILES OUT \
    RSS_GZ RSS_PLAIN RSS_MULTI RSS_LONG RSS_DENSE RSS_EXPORT
export -p | grep -E ' (D|RUNS|SAMPLES|GZ|PLAIN|SHORT|LONG|MULTI|BIN|LOAD_BEFORE|LOAD_AFTER|PROFILES|OUT|RSS_[A-Z]+)=' >"$D/report.env"
python3 "$ROOT/benches/report.py"
echo "wrote $OUT"
