"""Run one command; write its wall time, peak RSS and exit code as JSON (bench/run.py's helper).

    python -S bench/spawn.py REPORT.json COMMAND [ARG ...]

Why a helper: Linux records the resident size a process had before ``exec`` into its
``ru_maxrss``, so every child exec'd straight from bench/run.py (about 100 MiB at
10,000 releases) would report at least run.py's size. Spawned from this small
process instead, a command's peak RSS is floored at a few MiB, not at run.py's.
"""

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    report, command = argv[0], argv[1:]
    start = time.perf_counter()
    try:
        pid = os.posix_spawnp(command[0], command, os.environ)
    except OSError as error:
        print(f"spawn: cannot run {command[0]}: {error}", file=sys.stderr)
        return 127
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(report, "w", encoding="utf-8") as out:
        json.dump({"wall_s": wall, "maxrss_kib": usage.ru_maxrss, "exit": code}, out)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
