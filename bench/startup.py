#!/usr/bin/env python3
"""startup.py -- process start-to-exit times of short commands, measured side by side.

Usage: bench/startup.py RUNS NAME=COMMAND [NAME=COMMAND ...]

Each COMMAND is split like a shell word list (no shell runs it: the time is fork + exec + the
program, nothing else). The commands run one after the other, RUNS rounds, output to /dev/null,
and the script prints the median and first quartile of each, and each median as a multiple of the
first command's. Put `/bin/true` among them to see the cost of starting any process here.

Example:
  bench/startup.py 300 "pg=/usr/lib/postgresql/15/bin/pg_controldata D" "pgwal=out/pgwal controldata D" true=/bin/true
"""
import shlex
import statistics
import subprocess
import sys
import time


def main() -> int:
    if len(sys.argv) < 3 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        print(__doc__, file=sys.stderr)
        return 2
    runs = int(sys.argv[1])
    commands = []
    for spec in sys.argv[2:]:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            print(f"startup.py: expected NAME=COMMAND, got {spec!r}", file=sys.stderr)
            return 2
        commands.append((name, shlex.split(command)))
    times = {name: [] for name, _ in commands}
    for _ in range(runs):
        for name, argv in commands:
            start = time.perf_counter()
            result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
            if result.returncode != 0:
                print(f"startup.py: {name} exited with {result.returncode}: {shlex.join(argv)}", file=sys.stderr)
                return 1
    first = statistics.median(times[commands[0][0]])
    print(f"| command | median | first quartile | median / {commands[0][0]} |")
    print("|---|---|---|---|")
    for name, _ in commands:
        median = statistics.median(times[name])
        q1 = statistics.quantiles(times[name], n=4)[0] if runs > 1 else median
        print(f"| {name} | {median * 1000:.2f} ms | {q1 * 1000:.2f} ms | {median / first:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
