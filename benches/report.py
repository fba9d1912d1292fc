"""Writes BENCHMARKS.md from the hyperfine results of benches/bench.sh."""

import json
import os
import platform
import subprocess
import time

env = os.environ
D = env["D"]


def result(name):
    with open(os.path.join(D, "json", name + ".json")) as f:
        r = json.load(f)["results"][0]
    return r


def median(name):
    return result(name)["median"]


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(path) for f in fs if ".log" in f)
    return os.path.getsize(path)


def inflated(path):
    out = sh(f"gzip -dc {path} | wc -c")
    return int(out)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def short(cmd):
    return cmd.replace(D + "/", "$D/").replace(env["BIN"], "miq-memlog").replace(ROOT + "/", "")


gz_bytes = size(env["GZ"])
plain_bytes = size(env["PLAIN"])
short_bytes = size(env["SHORT"])
long_bytes = size(env["LONG"])
multi_files = sorted(f for f in os.listdir(env["MULTI"]) if ".log" in f)
multi_gz = size(env["MULTI"])
multi_plain = sum(inflated(os.path.join(env["MULTI"], f)) for f in multi_files)

t = {n: median(n) for n in [
    "gzip_dc", "ingest_gz", "ingest_plain", "grep_plain", "multi_all", "multi_one",
    "reingest", "export_csv", "sqlite_csv", "lines_200", "lines_5m"]}

gz_ratio = t["ingest_gz"] / t["gzip_dc"]
plain_gbs = plain_bytes / t["ingest_plain"] / 1e9
grep_ratio = t["ingest_plain"] / t["grep_plain"]
multi_speedup = t["multi_one"] / t["multi_all"]
reingest_ratio = t["reingest"] / t["ingest_gz"]
export_ratio = t["export_csv"] / t["sqlite_csv"]
per_byte_short = t["lines_200"] / short_bytes
per_byte_long = t["lines_5m"] / long_bytes
linear_ratio = per_byte_long / per_byte_short
RSS_INGESTS = ["RSS_GZ", "RSS_PLAIN", "RSS_MULTI", "RSS_LONG", "RSS_DENSE"]
rss = {k: int(env[k]) for k in RSS_INGESTS + ["RSS_EXPORT"]}
rss_max_mb = max(rss[k] for k in RSS_INGESTS) / 1024
dense_dir = os.path.join(D, "export", "appliance-01")
dense_plain = sum(inflated(os.path.join(dense_dir, f)) for f in sorted(os.listdir(dense_dir)) if ".log" in f)


def ok(cond):
    return "met" if cond else "**missed**"


rows = [
    ("gzip ingest vs `gzip -dc`", f"{gz_ratio:.2f} x", "<= 0.8 x", ok(gz_ratio <= 0.8)),
    ("plain ingest", f"{plain_gbs:.2f} GB/s ({plain_bytes / t['ingest_plain'] / 1e6:.0f} MB/s)", ">= 1 GB/s", ok(plain_gbs >= 1.0)),
    ("plain ingest vs `grep -c -e ... -e ... -e ...`", f"{grep_ratio:.2f} x", "(reported)", "-"),
    ("5 MB lines vs 200-byte lines, time per byte", f"{linear_ratio:.2f} x", "<= 1.0 x", ok(linear_ratio <= 1.0)),
    (f"{len(multi_files)} files: all cores vs one core", f"{multi_speedup:.2f} x faster", ">= 1.7 x", ok(multi_speedup >= 1.7)),
    ("re-ingest of the unchanged 1 GB gzip file vs its first ingest", f"{reingest_ratio:.3f} x", "<= 0.1 x", ok(reingest_ratio <= 0.1)),
    (f"CSV export of {int(env['SAMPLES']):,} samples vs `sqlite3 -csv`", f"{export_ratio:.2f} x", "<= 1.0 x", ok(export_ratio <= 1.0)),
    ("peak RSS of any ingest", f"{rss_max_mb:.1f} MB", "<= 64 MB", ok(rss_max_mb <= 64)),
]

mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
machine = [
    f"- CPU: {cpu}, {os.cpu_count()} cores (`nproc`: {sh('nproc')})",
    f"- memory: {mem_gb} GB; kernel {platform.release()}",
    f"- {sh('rustc --version')}; {sh('gzip --version | head -1')}; {sh('grep --version | head -1')}; "
    f"sqlite3 {sh('sqlite3 --version').split(' ')[0]}; {sh('hyperfine --version')}",
    f"- load average (1, 5, 15 min) before the timed runs: {env['LOAD_BEFORE']}, after: {env['LOAD_AFTER']}",
    f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
]

timing_names = [
    ("gzip_dc", "decompress the 1 GB log"),
    ("ingest_gz", "ingest it (new database)"),
    ("ingest_plain", "ingest the same log, plain"),
    ("grep_plain", "multi-pattern scan of the plain log"),
    ("multi_all", f"ingest {len(multi_files)} gzip files, all cores"),
    ("multi_one", f"ingest {len(multi_files)} gzip files, one core"),
    ("reingest", "re-ingest the unchanged gzip log"),
    ("export_csv", "export every sample as CSV"),
    ("sqlite_csv", "the same select through `sqlite3 -csv` (selector parameters unbound: NULL)"),
    ("lines_200", "ingest 1 GiB of 200-byte lines"),
    ("lines_5m", "ingest 1 GiB of 5 MB lines"),
    ("ingest_dense", "ingest the export data: 3 files, nearly all samples"),
]

lines = []
w = lines.append
w("# Benchmarks")
w("")
w("Written by `benches/bench.sh` (see the README); every number below comes from one run of it,")
w(f"medians of {env['RUNS']} runs (after one warm-up round) on the same files. The two commands")
w("of each comparison run in alternating rounds (A B, B A, A B, ...: `benches/pair.py`), so")
w("that load from other users of the machine (it is shared; other builds run at the same")
w("time) falls on both alike; the re-ingest runs under hyperfine.")
w("")
w("## Targets")
w("")
w("| measurement | result | target | |")
w("| --- | --- | --- | --- |")
for r in rows:
    w("| " + " | ".join(r) + " |")
w("")
w("## Machine")
w("")
lines.extend(machine)
w("")
w("## Data")
w("")
w("Generated by `miq-memlog generate` (deterministic: the same seed gives the same bytes):")
w("")
w(f"- the 1 GB log: `generate --seed 1 --size 1G`, one appliance-day, {plain_bytes:,} bytes plain, "
  f"{gz_bytes:,} bytes gzip; noise lines of every shape with lines up to 4 MiB, 5 patched workers, "
  "`log_status` every 5 minutes;")
w(f"- {len(multi_files)} files: `generate --seed 2 --days 4 --size 256M`: {multi_plain:,} bytes plain, {multi_gz:,} gzip;")
w(f"- line lengths: `generate --seed 3 --size 1G --plain --line-bytes 200` ({short_bytes:,} bytes) "
  f"and `--line-bytes 5M` ({long_bytes:,} bytes);")
w(f"- export: `generate --seed 4 --days 3 --interval 1 --dump-every 0`, ingested: {int(env['SAMPLES']):,} samples.")
w("")
w("## Timings")
w("")
w("| what | command | median s | min s | max s | CPU s (user + sys, mean) |")
w("| --- | --- | ---: | ---: | ---: | ---: |")
for name, what in timing_names:
    r = result(name)
    cpu_s = r["user"] + r["system"]
    w(f"| {what} | `{short(r['command'])}` | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | {cpu_s:.3f} |")
w("")
w("CPU time is less sensitive to the other users of the machine than wall time; an ingest")
w("uses more CPU than wall time when its threads overlap.")
w("")
w("Each ingest starts from an empty database (removed before each run), except the re-ingest,")
w("which starts from a copy of the database holding the first ingest. \"One core\" is")
w("`taskset -c 0`: every thread of the ingest shares one CPU.")
w("")
w(f"Per byte: 200-byte lines {per_byte_short * 1e9:.3f} ns/byte, 5 MB lines {per_byte_long * 1e9:.3f} ns/byte.")
w("")
w("Peak RSS (`/usr/bin/time -v`, maximum resident set size):")
w("")
w(f"| ingest 1 GB gzip | ingest 1 GB plain | ingest {len(multi_files)} files | ingest 5 MB lines | ingest the export data | export |")
w("| ---: | ---: | ---: | ---: | ---: | ---: |")
w("| " + " | ".join(f"{rss[k] / 1024:.1f} MB" for k in RSS_INGESTS + ["RSS_EXPORT"]) + " |")
w("")
w(f"The export data ({dense_plain:,} bytes plain, {int(env['SAMPLES']):,} samples) ingests at "
  f"{dense_plain / median('ingest_dense') / 1e6:.0f} MB/s: with a sample on nearly every line the single SQLite "
  f"writer sets the pace, about {median('ingest_dense') / int(env['SAMPLES']) * 1e6:.1f} µs per sample.")
w("")
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "where-the-time-goes.md")) as f:
    w(f.read().rstrip())
w("")
w("## Profiles of this run")
w("")
w("`perf record` of one ingest each, shares of the samples by thread (`read` reads, and for")
w("gzip hashes and inflates; `parse` hashes plain files, scans and parses; `miq-memlog` is")
w("the main thread, the single SQLite writer), then by thread and function.")
w("")
with open(env["PROFILES"]) as f:
    w(f.read().rstrip())
w("")
# The sections other scripts own (benches/fleet.sh, benches/heap.sh) are kept
# as they are, marked blocks and all.
try:
    with open(env["OUT"]) as f:
        old = f.read()
except FileNotFoundError:
    old = ""
for name in ("fleet", "heap"):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin in old and end in old:
        block = old[old.index(begin):old.index(end) + len(end)]
        w(block)
        w("")
with open(env["OUT"], "w") as f:
    f.write("\n".join(lines))
for r in rows:
    print(" | ".join(r))
