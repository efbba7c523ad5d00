"""Where rail's time goes: import time and a cProfile of ``rail lint``, ``rail render`` and ``rail diff``.

    python bench/profile.py [--releases 1000] [--seed 1] [--top 20] [--commands lint,render,diff]

Generates a synthetic stack (bench/generate.py), commits and renders it, then
prints ``python -X importtime -c "import renderer.cli"`` (total and the slowest
imports) and the top ``--top`` functions by cumulative time of ``rail lint``, of
``rail render`` into an empty rendered/ and of ``rail diff --base HEAD`` with 10%
of the releases changed, each profiled in a fresh process, imports included.
It profiles the rail installed beside this Python (the working tree, if editable).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RAIL = str(Path(sys.executable).parent / "rail")

PROFILE = """
import cProfile, pstats, sys
args, top = sys.argv[1:-1], int(sys.argv[-1])
profiler = cProfile.Profile()
profiler.enable()
try:
    from renderer.cli import main
    main(args, prog_name="rail", standalone_mode=False)
except SystemExit:
    pass
profiler.disable()
pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(top)
"""


def import_time() -> tuple[float, list[tuple[int, str]]]:
    """Total self time of every import (ms), and the slowest imports by cumulative time (us, name)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import renderer.cli"],
        cwd=tempfile.gettempdir(),  # not the repository: import the installed rail
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    cumulative: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cum, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        total += int(own)
        cumulative.append((int(cum), name))
    return total / 1000, sorted(cumulative, reverse=True)


def shorten(text: str) -> str:
    for prefix in (sysconfig.get_paths()["purelib"], str(ROOT), sysconfig.get_paths()["stdlib"]):
        text = text.replace(prefix + "/", "")
    return text


def profile(stack: Path, args: Sequence[str], top: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROFILE, *args, str(top)], cwd=stack, capture_output=True, text=True, check=False
    )
    lines = done.stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if "function calls" in line), 0)
    return "\n".join(shorten(line) for line in lines[start:] if line.strip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--commands", default="lint,render,diff", help="which of lint,render,diff to profile")
    args = parser.parse_args(argv)
    total, slowest = import_time()
    print(f"## python -X importtime -c 'import renderer.cli': {total:.1f} ms in total (self times summed)\n")
    for micros, name in slowest[:12]:
        print(f"    {micros / 1000:8.1f} ms  {name}", flush=True)
    sys.path.insert(0, str(BENCH))
    from generate import stack_files, write_changed, write_files

    wanted = set(args.commands.split(","))
    with tempfile.TemporaryDirectory(prefix="rail-profile-") as folder:
        stack = Path(folder) / "stack"
        write_files(stack, stack_files(args.releases, args.seed))
        setup(stack)
        if "lint" in wanted:
            print(f"\n## cProfile: rail lint, {args.releases} releases (top {args.top}, cumulative)\n")
            print(profile(stack, ["lint"], args.top), flush=True)
        if "render" in wanted:
            shutil.rmtree(stack / "rendered")
            heading = f"rail render into an empty rendered/, {args.releases} releases"
            print(f"\n## cProfile: {heading} (top {args.top}, cumulative)\n")
            print(profile(stack, ["render"], args.top), flush=True)
        if "diff" in wanted:
            changed = Path(folder) / "changed"
            for relative in write_changed(stack, changed, 10.0, args.seed):
                shutil.copyfile(changed / relative, stack / relative)
            subprocess.run([RAIL, "render"], cwd=stack, check=True, capture_output=True)
            heading = f"rail diff --base HEAD, 10% of {args.releases} releases changed"
            print(f"\n## cProfile: {heading} (top {args.top}, cumulative)\n")
            print(profile(stack, ["diff", "--base", "HEAD"], args.top), flush=True)
    return 0


def setup(stack: Path) -> None:
    """Commit the stack, render it, commit rendered/: what a stack repository looks like."""
    git = ["git", "-c", "user.name=rail-bench", "-c", "user.email=bench@example.invalid"]
    steps = (
        [*git, "init", "-q"],
        [*git, "add", "-A"],
        [*git, "commit", "-q", "-m", "synthetic stack"],
        [RAIL, "render"],
        [*git, "add", "-A"],
        [*git, "commit", "-q", "-m", "rail render"],
    )
    for argv in steps:
        subprocess.run(argv, cwd=stack, check=True, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
