#!/usr/bin/env bash
# The patched-fleet workload: sample-dense logs of 4 appliances x 14 days
# (generate --appliances 4 --days 14 --seed 3), and the same fleet at 16 and 56
# appliances (about 10 M samples), timed against `gzip -dc` of the same files,
# `sqlite3` reading the same rows and, where one is given, an earlier binary;
# medians of ROUNDS rounds. Rewrites its own section of BENCHMARKS.md (between
# `<!-- fleet:begin -->` and `<!-- fleet:end -->`) and nothing else.
#
#   benches/fleet.sh [WORK_DIR]      # ROUNDS=5; data kept in WORK_DIR (default target/bench-fleet)
#   BASELINE=path/to/miq-memlog benches/fleet.sh     # compare with that binary
#   BASELINE_REV=064d111 benches/fleet.sh            # build that commit and compare with it
#
# Needs sqlite3, gzip, GNU time and python3; about 15 minutes and 3 GB.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mkdir -p "${1:-target/bench-fleet}" && cd "${1:-target/bench-fleet}" && pwd)
cargo build --release --locked -q
BIN=$ROOT/target/release/miq-memlog

if [ -z "${BASELINE:-}" ] && [ -n "${BASELINE_REV:-}" ]; then
    # The earlier binary, built once in a worktree of its own.
    tree=$WORK/baseline-$BASELINE_REV
    if [ ! -x "$tree/target/release/miq-memlog" ]; then
        git worktree add --detach "$tree" "$BASELINE_REV" >/dev/null
        (cd "$tree" && cargo build --release --locked -q)
    fi
    BASELINE=$tree/target/release/miq-memlog
fi

# The data: kept while the generator writes the same bytes (same seed).
for k in 4 16 56; do
    case $k in 4) dir=fleet ;; 16) dir=fleet4x ;; 56) dir=fleet14x ;; esac
    if [ ! -f "$WORK/$dir/.complete" ]; then
        rm -rf "${WORK:?}/$dir"
        "$BIN" generate --appliances "$k" --days 14 --seed 3 --out "$WORK/$dir" >/dev/null
        touch "$WORK/$dir/.complete"
    fi
done

# The write path alone, as the micro-benchmark measures it.
write_path=$(cargo bench --locked -q --bench write_path -- 520000 "${ROUNDS:-5}" 2>/dev/null)
echo "$write_path" >&2
WRITE_PATH=$(echo "$write_path" | awk '
    /store write path/ {s=$4} /bare INSERT floor/ {f=$4} /^ratio/ {r=$2}
    END {printf "{\"store\": %s, \"floor\": %s, \"ratio\": %s}", s, f, r}')

ROOT=$ROOT BIN=$BIN BASELINE=${BASELINE:-} WORK=$WORK ROUNDS=${ROUNDS:-5} OUT=${OUT:-$ROOT/BENCHMARKS.md} \
    WRITE_PATH=$WRITE_PATH python3 "$ROOT/benches/fleet.py"
