"""The patched-fleet workload, timed by benches/fleet.sh: sample-dense logs of
4 appliances x 14 days (1x), and the same fleet grown to 16 and 56 appliances
(4x, 14x: about 10 M samples), each measured against baselines in the same run.

Every figure is a median of ROUNDS runs; commands compared with each other run
in alternating rounds (A B, B A, ...), so the load other users put on the
machine falls on both alike. Writes the markdown section to stdout and puts it
in BENCHMARKS.md between `<!-- fleet:begin -->` and `<!-- fleet:end -->`
(appended with its markers when absent; nothing else is touched).

Environment: BIN (this binary), BASELINE (a binary of an earlier version, or
empty), WORK (data and databases), ROUNDS, OUT (BENCHMARKS.md, or /dev/null),
WRITE_PATH (the output of the write-path micro-benchmark).
"""

import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time

env = os.environ
BIN = env["BIN"]
ROOT = env["ROOT"]
BASELINE = env.get("BASELINE") or None
WORK = env["WORK"]
ROUNDS = int(env.get("ROUNDS", "5"))
SCALES = [("1x", "fleet", 4), ("4x", "fleet4x", 16), ("14x", "fleet14x", 56)]


def run(cmd, quiet=True):
    """Wall, user+sys CPU and peak RSS (kB) of one shell command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "bash", "-c", cmd],
        stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit(f"fleet: `{cmd}` failed: {out.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = int(out.stderr.strip().splitlines()[-1])
    return wall, cpu, peak


def rm_db(path):
    for end in ("", "-wal", "-shm"):
        if os.path.exists(path + end):
            os.remove(path + end)


def timed(cmds, rounds=ROUNDS, prepare=None):
    """Runs each (name, command) `rounds` times, the order alternating every
    round; returns name -> (median wall, median cpu, max peak kB)."""
    got = {name: [] for name, _ in cmds}
    for r in range(rounds):
        order = cmds if r % 2 == 0 else list(reversed(cmds))
        for name, cmd in order:
            if prepare:
                prepare(name)
            got[name].append(run(cmd))
    return {
        name: (
            statistics.median(w for w, _, _ in runs),
            statistics.median(c for _, c, _ in runs),
            max(p for _, _, p in runs),
        )
        for name, runs in got.items()
    }


def sql(db, query):
    return subprocess.run(["sqlite3", db, query], capture_output=True, text=True).stdout.strip()


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def files_of(data):
    return sorted(glob.glob(os.path.join(WORK, data, "*", "*.gz")))


def bytes_plain(data):
    return sum(int(sh(f"gzip -dc {f} | wc -c")) for f in files_of(data))


section = []
w = section.append
load_before = " ".join(open("/proc/loadavg").read().split()[:3])

# 1x: the corpus of the issue, against gzip -dc, the earlier binary and sqlite3.
data = "fleet"
gz_all = f"cat {WORK}/{data}/*/*.gz | gzip -dc"
db = os.path.join(WORK, "f1.db")
old_db = os.path.join(WORK, "f1-old.db")
cmds = [("gzip", gz_all), ("ingest", f"{BIN} --db {db} ingest -q {WORK}/{data}")]
if BASELINE:
    cmds.append(("ingest_old", f"{BASELINE} --db {old_db} ingest -q {WORK}/{data}"))
ingest1 = timed(cmds, prepare=lambda name: rm_db(old_db if name == "ingest_old" else db))
one_core = timed(
    [("ingest_1core", f"taskset -c 0 {BIN} --db {db} ingest -q {WORK}/{data}")],
    rounds=max(1, ROUNDS // 2),
    prepare=lambda name: rm_db(db),
)
rm_db(db)
run(f"{BIN} --db {db} ingest -q {WORK}/{data}")
if BASELINE:
    rm_db(old_db)
    run(f"{BASELINE} --db {old_db} ingest -q {WORK}/{data}")
samples1 = int(sql(db, "SELECT COUNT(*) FROM sample"))
pid = sql(db, "SELECT p.pid FROM process p JOIN process_summary s ON s.process_id = p.id "
              "ORDER BY s.samples DESC, p.pid LIMIT 1")
host = sql(db, f"SELECT host FROM process WHERE pid = {pid} LIMIT 1")
queries = [
    ("report", "report"),
    ("report_worker", "report --by worker"),
    ("report_message", "report --by message"),
    ("pids", "pids"),
    ("workers", "workers"),
    ("files", "files"),
]
cmds = [("read_all", f"sqlite3 {db} 'SELECT * FROM sample'"),
        ("files_sqlite", f"sqlite3 {db} '.read {ROOT}/queries/files.sql'")]
for name, args in queries:
    cmds.append((name, f"{BIN} --db {db} {args}"))
    if BASELINE:
        cmds.append((name + "_old", f"{BASELINE} --db {old_db} {args}"))
answers1 = timed(cmds)


def scale_row(label, data, appliances):
    """Ingest, report and listings at one size of the fleet."""
    if label == "1x":
        ing, ans, samples = ingest1, answers1, samples1
        dbp = db
        gz = ingest1["gzip"]
    else:
        dbp = os.path.join(WORK, f"f{label}.db")
        rounds = max(1, ROUNDS // 2)
        ing = timed(
            [("gzip", f"cat {WORK}/{data}/*/*.gz | gzip -dc"),
             ("ingest", f"{BIN} --db {dbp} ingest -q {WORK}/{data}")],
            rounds=rounds,
            prepare=lambda name: rm_db(dbp),
        )
        rm_db(dbp)
        run(f"{BIN} --db {dbp} ingest -q {WORK}/{data}")
        samples = int(sql(dbp, "SELECT COUNT(*) FROM sample"))
        ans = timed(
            [("read_all", f"sqlite3 {dbp} 'SELECT * FROM sample'"),
             ("files_sqlite", f"sqlite3 {dbp} '.read {ROOT}/queries/files.sql'")]
            + [(n, f"{BIN} --db {dbp} {a}") for n, a in queries],
            rounds=rounds,
        )
        gz = ing["gzip"]
    one = timed(
        [("export_one", f"{BIN} --db {dbp} export --format csv --host {host} --pid {pid}"),
         ("plot_one", f"{BIN} --db {dbp} plot --host {host} --pid {pid} --out {WORK}/plot-{label}")],
        rounds=max(1, ROUNDS // 2),
    )
    files = files_of(data)
    return {
        "label": label,
        "appliances": appliances,
        "file_count": len(files),
        "gz_bytes": sum(os.path.getsize(f) for f in files),
        "samples": samples,
        "db_bytes": os.path.getsize(dbp),
        "gzip": gz[0],
        "ingest": ing["ingest"][0],
        "ingest_cpu": ing["ingest"][1],
        "ingest_peak": ing["ingest"][2],
        **{n: ans[n][0] for n, _ in queries},
        "read_all": ans["read_all"][0],
        "files_sqlite": ans["files_sqlite"][0],
        "stored_files": int(sql(dbp, "SELECT COUNT(*) FROM source_file")),
        "export_one": one["export_one"][0],
        "plot_one": one["plot_one"][0],
    }


rows = [scale_row(*s) for s in SCALES]
load_after = " ".join(open("/proc/loadavg").read().split()[:3])
one = rows[0]
big = rows[-1]


def ratio(a, b):
    return a / b if b else float("nan")


def met(ok):
    return "met" if ok else "**not met**"


cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
w("<!-- fleet:begin -->")
w("## The patched fleet (`benches/fleet.sh`)")
w("")
w(f"Written by `benches/fleet.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {cpu}, "
  f"{os.cpu_count()} cores, load average {load_before} before and {load_after} after (the machine "
  f"is shared: medians of {ROUNDS} rounds at 1x, {max(1, ROUNDS // 2)} at 4x and 14x; commands "
  "compared with each other run in alternating rounds). "
  f"{sh(BIN + ' --version')}; sqlite3 {sh('sqlite3 --version').split(' ')[0]} (the shell); "
  f"{sh('gzip --version | head -1')}.")
w("")
w("Sample-dense logs: every patched worker logs a sample after every queue message "
  "(`miq-memlog generate --appliances K --days 14 --seed 3`, K = 4, 16, 56). "
  f"At 1x: {one['file_count']} gzip files, {one['gz_bytes'] / 1e6:.0f} MB compressed, "
  f"{bytes_plain('fleet') / 1e9:.2f} GB plain, {one['samples']:,} samples; the noise includes "
  "server `log_status` lines without memory and `MiqQueue.put` lines quoting the trigger words.")
w("")
w("### Targets")
w("")
w("| target | measured | |")
w("|---|---|---|")
w(f"| ingest of the 1x corpus <= 0.5 x `gzip -dc` of its files | {ratio(one['ingest'], one['gzip']):.2f} x "
  f"({one['ingest']:.2f} s against {one['gzip']:.2f} s) | {met(one['ingest'] <= 0.5 * one['gzip'])} |")
w(f"| `report` on the 1x database <= 1 s | {one['report']:.2f} s | {met(one['report'] <= 1.0)} |")
w(f"| `report --by worker`, `--by message` as fast | {one['report_worker']:.2f} s, {one['report_message']:.2f} s "
  f"| {met(max(one['report_worker'], one['report_message']) <= 1.0)} |")
w(f"| `pids`, `workers` <= 0.1 s at {big['samples'] / 1e6:.1f} M samples | "
  f"{big['pids']:.3f} s, {big['workers']:.3f} s | {met(max(big['pids'], big['workers']) <= 0.1)} |")
w(f"| `files` <= 0.1 s at {big['samples'] / 1e6:.1f} M samples | {big['files']:.3f} s for "
  f"{big['stored_files']:,} files (logs and heap dumps; the `sqlite3` shell printing the same "
  f"rows, times as stored: {big['files_sqlite']:.3f} s) | {met(big['files'] <= 0.1)} |")
w(f"| peak RSS of an ingest <= 64 MB | {max(r['ingest_peak'] for r in rows) / 1024:.0f} MB | "
  f"{met(max(r['ingest_peak'] for r in rows) <= 64 * 1024)} |")
if env.get("WRITE_PATH"):
    wp = json.loads(env["WRITE_PATH"])
    w(f"| SQLite write path <= 1.5 µs per new sample (`cargo bench --bench write_path`) | "
      f"{wp['store']:.2f} µs ({wp['ratio']:.2f} x a bare prepared INSERT of the same rows, "
      f"{wp['floor']:.2f} µs) | {met(wp['store'] <= 1.5)} |")
w("")
w("### At 1x, against the baselines")
w("")
w("| what | median s | compared with |")
w("|---|---:|---|")
w(f"| `gzip -dc` of the {one['file_count']} files | {one['gzip']:.2f} | |")
w(f"| ingest, new database, both cores | {one['ingest']:.2f} | {ratio(one['ingest'], one['gzip']):.2f} x `gzip -dc`; "
  f"{one['ingest_cpu']:.2f} s CPU; {one['ingest'] / one['samples'] * 1e6:.2f} µs per sample |")
w(f"| ingest, one core (`taskset -c 0`) | {one_core['ingest_1core'][0]:.2f} | "
  f"{ratio(one_core['ingest_1core'][0], one['ingest']):.2f} x the ingest on both cores |")
if BASELINE:
    w(f"| ingest by the earlier binary | {ingest1['ingest_old'][0]:.2f} | this one takes "
      f"{ratio(one['ingest'], ingest1['ingest_old'][0]):.2f} x its time |")
w(f"| `sqlite3` reading every sample (`SELECT * FROM sample`) | {one['read_all']:.2f} | |")
for name, args in queries:
    extra = ""
    if BASELINE:
        extra = (f"earlier binary {answers1[name + '_old'][0]:.2f} s "
                 f"({ratio(answers1[name][0], answers1[name + '_old'][0]):.2f} x its time)")
    w(f"| `{args}` | {answers1[name][0]:.3f} | {extra} |")
w("")
w("### From 1x to 14x")
w("")
w("| | " + " | ".join(r["label"] for r in rows) + " | 14x / 1x |")
w("|---|" + "---:|" * (len(rows) + 1))


def line(what, key, fmt, ratio_of=True):
    cells = [fmt(r[key]) for r in rows]
    grow = f"{ratio(big[key], one[key]):.1f} x" if ratio_of else ""
    w(f"| {what} | " + " | ".join(cells) + f" | {grow} |")


line("appliances", "appliances", str)
line("samples", "samples", lambda v: f"{v:,}")
line("compressed MB", "gz_bytes", lambda v: f"{v / 1e6:.0f}")
line("files stored (logs and heap dumps)", "stored_files", lambda v: f"{v:,}")
line("database MB", "db_bytes", lambda v: f"{v / 1e6:.0f}")
line("`gzip -dc` s", "gzip", lambda v: f"{v:.2f}")
line("ingest s", "ingest", lambda v: f"{v:.2f}")
line("ingest peak RSS MB", "ingest_peak", lambda v: f"{v / 1024:.0f}")
line("`sqlite3` reading every sample s", "read_all", lambda v: f"{v:.2f}")
for name, args in queries:
    line(f"`{args}` s", name, lambda v: f"{v:.3f}")
line("the `sqlite3` shell printing the same file rows (times as stored) s", "files_sqlite", lambda v: f"{v:.3f}")
line(f"`export --format csv` of one process (pid {pid}) s", "export_one", lambda v: f"{v:.3f}")
line("`plot` of that process s", "plot_one", lambda v: f"{v:.3f}")
w("")
per_sample = " / ".join(f"{r['ingest'] / r['samples'] * 1e6:.2f}" for r in rows)
against_gzip = " / ".join(f"{ratio(r['ingest'], r['gzip']):.2f}" for r in rows)
w(f"Ingest per sample: {per_sample} µs (1x / 4x / 14x); against `gzip -dc`: {against_gzip} x. "
  "The listings read the per-process summaries ingest keeps, and one process's export and plot "
  "read its own rows by the primary key: their time stays flat as the database grows. The leak "
  "report reads and fits every sample, so it grows with them.")
w("<!-- fleet:end -->")

text = "\n".join(section) + "\n"
print(text)
path = env.get("OUT", "BENCHMARKS.md")
if path != "/dev/null":
    begin, end = "<!-- fleet:begin -->", "<!-- fleet:end -->"
    old = open(path).read() if os.path.exists(path) else ""
    if begin in old and end in old:
        new = old[: old.index(begin)] + text.rstrip("\n") + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(new)
