"""Times two commands in alternating runs (A B A B ...) so that the load other
users put on the machine falls on both alike; writes one hyperfine-style JSON
file per command (median, min, max, mean user and system CPU, every time).

    python3 benches/pair.py RUNS NAME_A 'COMMAND A' NAME_B 'COMMAND B' [--prepare-a CMD] [--prepare-b CMD]
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time


def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(["bash", "-c", cmd], stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"pair: `{cmd}` failed with {done.returncode}")
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main():
    args = sys.argv[1:]
    runs, name_a, cmd_a, name_b, cmd_b = int(args[0]), *args[1:5]
    rest = args[5:]
    prepare = {"a": None, "b": None}
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag in ("--prepare-a", "--prepare-b"):
            prepare[flag[-1]] = value
        else:
            sys.exit(f"pair: unknown option {flag}")
    out_dir = os.environ.get("PAIR_OUT", ".")
    samples = {"a": [], "b": []}
    for i in range(runs + 1):
        for key, cmd in (("a", cmd_a), ("b", cmd_b)) if i % 2 == 0 else (("b", cmd_b), ("a", cmd_a)):
            if prepare[key]:
                subprocess.run(["bash", "-c", prepare[key]], check=True)
            measured = run(cmd)
            if i > 0:  # the first round warms the caches
                samples[key].append(measured)
    for key, name, cmd in (("a", name_a, cmd_a), ("b", name_b, cmd_b)):
        times = [s[0] for s in samples[key]]
        result = {
            "command": cmd,
            "median": statistics.median(times),
            "mean": statistics.mean(times),
            "min": min(times),
            "max": max(times),
            "user": statistics.mean(s[1] for s in samples[key]),
            "system": statistics.mean(s[2] for s in samples[key]),
            "times": times,
        }
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump({"results": [result]}, f, indent=1)
        print(f"{name}: median {result['median']:.3f} s (min {result['min']:.3f}, max {result['max']:.3f})  {cmd}")


main()
