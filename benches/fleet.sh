#!/usr/bin/env bash
# The patched-fleet workload: 4 appliances x 14 days of sample-dense logs
# (generate --appliances 4 --days 14 --seed 3), timed against `gzip -dc` of the
# same files, with medians of N rounds. Usage: benches/fleet.sh [WORK_DIR] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench-fleet}
rounds=${2:-5}
cargo build --release --locked -q
bin=$PWD/target/release/miq-memlog
mkdir -p "$work"
cd "$work"
[ -d fleet ] || "$bin" generate --appliances 4 --days 14 --seed 3 --out fleet >/dev/null

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Wall seconds of a command, one line per round.
wall() { for _ in $(seq "$rounds"); do "$@"; done; }
t() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }

gz=$(for _ in $(seq "$rounds"); do t sh -c 'cat fleet/*/*.gz | gzip -dc'; done | median)
ingest=$(for _ in $(seq "$rounds"); do rm -f f.db f.db-wal f.db-shm; t "$bin" --db f.db ingest -q fleet; done | median)
peak=$(rm -f f.db f.db-wal f.db-shm; /usr/bin/time -f %M "$bin" --db f.db ingest -q fleet 2>&1 | tail -1)
samples=$(sqlite3 f.db 'SELECT COUNT(*) FROM sample')
read_all=$(for _ in $(seq "$rounds"); do t sqlite3 f.db 'SELECT * FROM sample'; done | median)
row() { printf '| %s | %s s |\n' "$1" "$(for _ in $(seq "$rounds"); do t "$bin" --db f.db "${@:2}"; done | median)"; }
echo "| what | median |"
echo "|---|---|"
echo "| gzip -dc of the 56 files | $gz s |"
echo "| ingest of the 56 files ($samples samples) | $ingest s ($(awk "BEGIN {printf \"%.2f\", $ingest / $gz}") x gzip -dc), peak $((peak / 1024)) MB |"
echo "| sqlite3 reading every sample | $read_all s |"
row report report
row "report --by worker" report --by worker
row "report --by message" report --by message
row pids pids
row workers workers
row files files
