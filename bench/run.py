"""Benchmark rail against the tools teams run today (issue 6).

    python bench/run.py [--sizes 10,100,1000,10000] [--runs 5] [--json FILE]

For every size: generate a synthetic stack (bench/generate.py), commit it and its
rendered/ to a throwaway git repository, then time WHOLE processes, a warm-up
round and ``--runs`` measured rounds, the commands alternated round-robin (each
round starts one command later) so that drift on a shared machine hits all alike:

- ``rail render`` into an empty rendered/ (a clone of the repository; deleted before each run),
- ``rail render --check`` and ``rail lint`` and ``rail check`` with nothing changed,
- ``rail diff --base HEAD`` in a second clone whose specs change ``--changed``% of the releases,
- the peers on the same rendered files: ``yamllint -d default rendered/`` and
  ``check-jsonschema`` with the HelmRelease CRD schema on every rendered HelmRelease,
- the floor: one process that only parses the rendered files with ruamel.yaml's
  safe loader: ``floor-c`` with the C parser (ruamel.yaml.clib, from rail's venv if
  it has it, else from the peers'), ``floor-pure`` with the pure-Python one.

Wall time is ``time.perf_counter`` around the child; peak RSS is the child's own
``ru_maxrss`` from ``os.wait4``, both taken by bench/spawn.py, a small process that
starts the command (spawned from run.py itself, a command would inherit run.py's
resident size into its ``ru_maxrss``). The peers live in bench/.venv-peers, created on
first use, so rail's own environment stays as it is. Prints a table and the
ratios of issue 6 with their targets, and writes everything as JSON (``--json``).
Exit 0 when every command exited as expected, 1 when one failed or timed out (a
failed command is an error in the results, never a number), 3 when the peers'
environment could not be created (no package index).

``--scenario issue16`` measures issue 16's cache instead (bench/incremental.py): the
pre-commit hook, a diff against a base already seen and a warm ``rail check``, each
against the same command with the cache off; ``--scenario all`` both.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import incremental
from harness import Command, SetupError, child_env, median_of, run_quiet  # bench/ is the script's folder
from harness import git as _git
from harness import ratio as _ratio

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / ".venv-peers"
SPAWN = BENCH / "spawn.py"
DEFAULT_CRD = ROOT.parent / "shared" / "crds" / "json" / "helm.toolkit.fluxcd.io" / "helmrelease_v2.json"
EXIT_PEERS = 3
MIB = 1024

RAIL_COMMANDS = ("render", "render-check", "lint", "diff", "check")
PEER_COMMANDS = ("yamllint", "check-jsonschema")


class PeerSetupError(RuntimeError):
    """The peers' virtual environment could not be created (usually: no package index)."""


@dataclass(frozen=True)
class Sample:
    wall_s: float
    maxrss_kib: int
    exit: int
    timed_out: bool = False


@dataclass
class Summary:
    median_s: float
    min_s: float
    max_s: float
    peak_rss_mib: float
    runs: list[Sample] = field(default_factory=list)


# --------------------------------------------------------------------------- processes


def measure(command: Command, log: Path, timeout: float) -> Sample:
    """Run ``command`` once through bench/spawn.py: wall time, the command's own peak RSS, exit code."""
    if command.prepare is not None:
        command.prepare()
    report = log.with_suffix(".rusage.json")
    report.unlink(missing_ok=True)
    argv = (sys.executable, "-S", str(SPAWN), str(report), *command.argv)
    with log.open("wb") as out:
        start = time.perf_counter()
        env = child_env(command.env)
        process = subprocess.Popen(
            argv, cwd=command.cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        fired = threading.Event()
        timer = threading.Timer(timeout, _kill_group, (process.pid, fired))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    if not report.exists():  # killed, or could not start: what run.py saw itself
        return Sample(wall_s=wall, maxrss_kib=usage.ru_maxrss, exit=process.returncode, timed_out=fired.is_set())
    own = json.loads(report.read_text(encoding="utf-8"))
    return Sample(wall_s=own["wall_s"], maxrss_kib=own["maxrss_kib"], exit=own["exit"], timed_out=fired.is_set())


def _kill_group(pid: int, fired: threading.Event) -> None:
    fired.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def tail(log: Path, lines: int = 15) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return "\n  ".join(text[-lines:])


# --------------------------------------------------------------------------- the peers' environment


def peer_bin(name: str) -> Path:
    return PEERS / "bin" / name


def ensure_peers() -> None:
    """bench/.venv-peers with yamllint, check-jsonschema and ruamel.yaml (+ its C loader)."""
    if peer_bin("yamllint").exists() and peer_bin("check-jsonschema").exists():
        return
    try:
        ruamel = f"ruamel.yaml=={metadata.version('ruamel.yaml')}"
    except metadata.PackageNotFoundError:
        ruamel = "ruamel.yaml"
    steps = (
        [sys.executable, "-m", "venv", str(PEERS)],
        [str(peer_bin("python")), "-m", "pip", "install", "-q", "yamllint", "check-jsonschema", ruamel],
    )
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(PEERS, ignore_errors=True)
            raise PeerSetupError(f"`{' '.join(argv)}` exited {done.returncode}: {done.stderr.strip()[-600:]}")
    # The C loader is optional: without it the C floor is simply not measured.
    subprocess.run([str(peer_bin("python")), "-m", "pip", "install", "-q", "ruamel.yaml.clib"], capture_output=True)


def floor_commands(loaders: dict[str, bool]) -> dict[str, tuple[str, str]]:
    """floor-pure: rail's Python, pure-Python loader; floor-c: the C loader, from rail's venv if it has
    ruamel.yaml.clib, else from the peers' (each row is then the same whatever gets installed meanwhile)."""
    floors = {"floor-pure": (sys.executable, "pure")}
    if loaders["project"]:
        floors["floor-c"] = (sys.executable, "c")
    elif loaders["peers"]:
        floors["floor-c"] = (str(peer_bin("python")), "c")
    return floors


def c_loader(python: Path | str) -> bool:
    done = subprocess.run([str(python), "-c", "import _ruamel_yaml"], capture_output=True, check=False)
    return done.returncode == 0


# --------------------------------------------------------------------------- a snapshot of rail


def snapshot_rail(revision: str, folder: Path) -> tuple[str, Path]:
    """Install rail as committed at ``revision`` into its own venv (non-editable, rail's venv's
    versions as constraints): the benchmark then does not see edits in the working tree.
    Returns the rail executable and the snapshot's tree (its shipped stack)."""
    tree, venv = folder / "tree", folder / "venv"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=False)
    if archive.returncode != 0:
        raise SetupError(f"git archive {revision}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    freeze = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    )
    constraints = folder / "constraints.txt"
    constraints.write_text(freeze.stdout, encoding="utf-8")
    run_quiet([sys.executable, "-m", "venv", str(venv)], folder, "venv for the rail snapshot")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints), str(tree)]
    run_quiet(pip, folder, f"pip install of rail at {revision}")
    return str(venv / "bin" / "rail"), tree


# --------------------------------------------------------------------------- one size


@dataclass(frozen=True)
class Workspace:
    stack: Path  # the committed stack with rendered/: check, lint and the peers run here
    render: Path  # a clone whose rendered/ is deleted before each `rail render`
    diff: Path  # a clone with --changed% of the releases changed (and re-rendered), uncommitted
    changed: int  # releases changed in the diff clone


def prepare(size: int, seed: int, changed_percent: float | None, rail: str, work: Path) -> Workspace:
    """The committed stack and its clones; ``changed_percent`` None: no diff clone (diff not measured)."""
    sys.path.insert(0, str(BENCH))
    from generate import stack_files, write_changed, write_files

    stack, render, diff, changed = work / "stack", work / "render", work / "diff", work / "changed"
    write_files(stack, stack_files(size, seed))
    _git(stack, "init", "-q")
    _git(stack, "add", "-A")
    _git(stack, "commit", "-q", "-m", f"synthetic stack: {size} releases, seed {seed}")
    run_quiet([rail, "render"], stack, f"rail render (setup, {size} releases)")
    _git(stack, "add", "-A")
    _git(stack, "commit", "-q", "-m", "rail render")
    # A repository this size is packed in real life (a clone or fetch brings a pack; git
    # gc --auto packs past 6,700 loose objects); thousands of freshly committed loose
    # objects would make every git read here slower than anywhere else.
    _git(stack, "repack", "-adq")
    _git(work, "clone", "-q", str(stack), str(render))
    if changed_percent is None:
        return Workspace(stack=stack, render=render, diff=diff, changed=0)
    _git(work, "clone", "-q", str(stack), str(diff))
    paths = write_changed(stack, changed, changed_percent, seed)
    for relative in paths:
        shutil.copyfile(changed / relative, diff / relative)
    # A pull request re-renders: otherwise the diff's lint blocks on rendered-drift.
    run_quiet([rail, "render"], diff, f"rail render (setup of the changed clone, {size} releases)")
    shutil.rmtree(changed)
    return Workspace(stack=stack, render=render, diff=diff, changed=len(paths))


def yamllint(stack: Path) -> Command:
    """yamllint with its default config (``-d default``: no .yamllint file or user config changes it)."""
    return Command("yamllint", (str(peer_bin("yamllint")), "-d", "default", "rendered/"), stack, frozenset({0, 1}))


def size_commands(
    space: Workspace, rail: str, crd: Path, peers: bool, floors: dict[str, tuple[str, str]]
) -> list[Command]:
    def empty_output() -> None:
        shutil.rmtree(space.render / "rendered", ignore_errors=True)

    commands = [
        Command("render", (rail, "render"), space.render, prepare=empty_output),
        Command("render-check", (rail, "render", "--check"), space.stack),
        Command("lint", (rail, "lint"), space.stack),
        Command("diff", (rail, "diff", "--base", "HEAD"), space.diff),
        Command("check", (rail, "check"), space.stack),
    ]
    if peers:
        found = space.stack.glob("rendered/*/*/helmrelease-*.yaml")
        releases = sorted(path.relative_to(space.stack).as_posix() for path in found)
        commands.append(yamllint(space.stack))
        commands.append(
            Command(
                "check-jsonschema",
                (str(peer_bin("check-jsonschema")), "--schemafile", str(crd), *releases),
                space.stack,
                frozenset({0, 1}),
            )
        )
    for name, (python, loader) in floors.items():
        commands.append(Command(name, (python, str(BENCH / "floor.py"), "--loader", loader, "rendered"), space.stack))
    return commands


def selected(commands: list[Command], names: set[str] | None) -> list[Command]:
    return commands if names is None else [command for command in commands if command.name in names]


def run_rounds(
    commands: Sequence[Command], rounds: tuple[int, int], logs: Path, timeout: float, errors: list[str]
) -> dict[str, Any]:
    """``rounds`` = (warm-ups, runs); each round starts one command later than the one before."""
    warmups, runs = rounds
    samples: dict[str, list[Sample]] = {command.name: [] for command in commands}
    failed: dict[str, str] = {}
    active = list(commands)
    for round_index in range(warmups + runs):
        shift = round_index % len(active) if active else 0
        for command in active[shift:] + active[:shift]:
            log = logs / f"{command.name}.log"
            sample = measure(command, log, timeout)
            measured = round_index >= warmups
            label = f"run {round_index - warmups + 1}" if measured else "warm-up"
            print(
                f"    {command.name:<18} {label:<8} {sample.wall_s:9.3f} s {sample.maxrss_kib / MIB:8.1f} MiB"
                f"  exit {sample.exit}",
                flush=True,
            )
            if sample.timed_out or sample.exit not in command.expect:
                why = f"timed out after {timeout:.0f} s" if sample.timed_out else f"exited {sample.exit}"
                if sample.exit == 2 and not sample.timed_out:
                    why += " (a usage or input error: an option this rail does not have?)"
                errors.append(f"{command.name} ({' '.join(command.argv[:4])}) {why} in {command.cwd}:\n  {tail(log)}")
                failed[command.name] = why
                active = [c for c in active if c is not command]
                samples[command.name].append(sample)
                continue
            if measured:
                samples[command.name].append(sample)
    return {name: entry(found, failed.get(name)) for name, found in samples.items() if found}


def entry(samples: Sequence[Sample], error: str | None) -> dict[str, Any]:
    """A command's summary; a command that failed is an error with its runs, never a median."""
    if error is not None:
        return {"error": error, "runs": [asdict(sample) for sample in samples]}
    return asdict(summarize(samples))


def summarize(samples: Sequence[Sample]) -> Summary:
    walls = [sample.wall_s for sample in samples]
    return Summary(
        median_s=statistics.median(walls),
        min_s=min(walls),
        max_s=max(walls),
        peak_rss_mib=max(sample.maxrss_kib for sample in samples) / MIB,
        runs=list(samples),
    )


def bench_size(
    size: int, args: argparse.Namespace, floors: dict[str, tuple[str, str]], errors: list[str]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"rail-bench-{size}-", dir=args.workdir) as folder:
        work = Path(folder)
        print(f"N={size}: generating, committing, rendering", flush=True)
        started = time.perf_counter()
        issue6 = args.scenario in ("issue6", "all")
        wanted = issue6 and (args.commands is None or "diff" in args.commands)
        space = prepare(size, args.seed, args.changed if wanted else None, args.rail, work)
        extra: dict[str, Any] = {}
        commands = size_commands(space, args.rail, args.crd, args.peers, floors) if issue6 else []
        changed = [f"{space.changed} releases changed for the diff"] if wanted else []
        if args.scenario in ("issue16", "all"):
            print(f"N={size}: issue 16's clones (one release staged; {args.changed:g}% changed), seeding caches")
            more = incremental.prepare(space.stack, work, args.rail, args.seed, args.changed, args.precommit)
            commands += incremental.commands(space.stack, space.render, more, args.rail, args.precommit)
            changed.append(f"{more.changed} changed for issue 16's diff")
        rendered = sorted(space.stack.glob("rendered/**/*.yaml"))
        print(
            f"N={size}: ready in {time.perf_counter() - started:.1f} s"
            f" ({', '.join([f'{len(rendered)} rendered files', *changed])})",
            flush=True,
        )
        logs = work / "logs"
        logs.mkdir()
        results = run_rounds(selected(commands, args.commands), (args.warmups, args.runs), logs, args.timeout, errors)
        if args.scenario in ("issue16", "all"):
            extra["incremental"] = incremental.facts(more)
        return {
            "releases": size,
            "rendered_files": len(rendered),
            "rendered_bytes": sum(path.stat().st_size for path in rendered),
            "helmreleases": len(list(space.stack.glob("rendered/*/*/helmrelease-*.yaml"))),
            "changed_releases": space.changed,
            "commands": results,
            **extra,
        }


# What the staged change of the pre-commit diff does: Valkey's volume grows (a value
# change that re-renders one release for both targets, as a real commit would).
_STAGED_EDIT = ("releases/s3/valkey.yaml", "size: 2Gi", "size: 4Gi")


def staged_copy(shipped: Path, rail: str, work: Path) -> Path:
    """The shipped stack in a throwaway git repository, one change re-rendered and staged:
    what the pre-commit hook `rail diff --staged` sees on a commit."""
    stack = work / "staged"
    for name in ("rail.yaml", ".sops.yaml", "releases", "values", "secrets", "templates", "rendered", "docs"):
        source = shipped / name
        if source.is_dir():
            shutil.copytree(source, stack / name)
        elif source.is_file():
            stack.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, stack / name)
    _git(stack, "init", "-q")
    _git(stack, "add", "-A")
    _git(stack, "commit", "-q", "-m", "shipped stack")
    relative, old, new = _STAGED_EDIT
    path = stack / relative
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SetupError(f"{relative}: '{old}' not found: update bench/run.py's staged edit")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    run_quiet([rail, "render"], stack, "rail render")
    _git(stack, "add", "-A")
    return stack


def bench_shipped(args: argparse.Namespace, errors: list[str]) -> dict[str, Any]:
    """Pre-commit latency on the shipped stack itself: rail lint and rail diff --staged vs
    yamllint on its rendered/."""
    print(f"shipped stack ({args.shipped_root}): rail lint, rail diff --staged vs yamllint", flush=True)
    with tempfile.TemporaryDirectory(prefix="rail-bench-shipped-") as folder:
        staged = staged_copy(args.shipped_root, args.rail, Path(folder))
        commands = [
            Command("lint", (args.rail, "lint"), args.shipped_root),
            # With no compiled templates kept from an earlier run (a first run, or RAIL_NO_CACHE=1).
            Command("lint-cold", (args.rail, "lint"), args.shipped_root, env=(("RAIL_NO_CACHE", "1"),)),
            # The pre-commit diff hook; exit 1 is its verdict on the change, not a failure.
            Command("diff-staged", (args.rail, "diff", "--staged"), staged, frozenset({0, 1})),
        ]
        if args.peers:
            commands.append(yamllint(args.shipped_root))
        commands = selected(commands, args.commands)
        logs = Path(folder) / "logs"
        logs.mkdir()
        results = run_rounds(commands, (args.warmups, args.runs), logs, args.timeout, errors)
    return {"path": str(args.shipped_root), "commands": results}


# --------------------------------------------------------------------------- ratios


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    if results.get("meta", {}).get("scenario") == "issue16":
        return incremental.ratios(results)
    shipped = results.get("shipped", {}).get("commands", {})
    lint_shipped = shipped.get("lint", {}).get("median_s")
    yamllint_shipped = shipped.get("yamllint", {}).get("median_s")
    found = [
        _ratio("pre-commit: rail lint / yamllint (shipped stack)", lint_shipped, yamllint_shipped, 1.0, "wall time"),
        _ratio(
            "pre-commit: rail diff --staged / yamllint (shipped stack)",
            shipped.get("diff-staged", {}).get("median_s"),
            yamllint_shipped,
            1.0,
            "wall time; one value change staged and re-rendered",
        ),
        _ratio(
            "pre-commit, no template cache: rail lint / yamllint (shipped stack)",
            shipped.get("lint-cold", {}).get("median_s"),
            yamllint_shipped,
            1.0,
            "RAIL_NO_CACHE=1: every template compiled",
        ),
    ]
    yl, cj = median_of(results, 1000, "yamllint"), median_of(results, 1000, "check-jsonschema")
    peers_sum = yl + cj if yl is not None and cj is not None else None
    found.append(
        _ratio(
            "rail check / (yamllint + check-jsonschema) @1000",
            median_of(results, 1000, "check"),
            peers_sum,
            0.5,
            "sum of the peers' medians",
        )
    )
    for floor in ("floor-c", "floor-pure"):
        found.append(
            _ratio(
                f"rail lint / parse {floor} @1000",
                median_of(results, 1000, "lint"),
                median_of(results, 1000, floor),
                5.0,
                FLOOR_NOTES[floor],
            )
        )
    found.append(
        _ratio(
            "rail diff (10% changed) / rail render @1000",
            median_of(results, 1000, "diff"),
            median_of(results, 1000, "render"),
            1.0,
            "",
        )
    )
    for command in (*RAIL_COMMANDS, *PEER_COMMANDS):
        found.append(
            _ratio(
                f"growth {command}: t(10000) / t(1000)",
                median_of(results, 10000, command),
                median_of(results, 1000, command),
                11.0,
                "" if command in RAIL_COMMANDS else "peer, for reference",
            )
        )
    for command in RAIL_COMMANDS:
        entry = results.get("sizes", {}).get("10000", {}).get("commands", {}).get(command)
        peak = float(entry["peak_rss_mib"]) if entry and "peak_rss_mib" in entry else None
        found.append(_ratio(f"peak RSS {command} @10000 (MiB)", peak, 1.0, 1024.0, "at most 1 GiB"))
    return found + incremental.ratios(results)


FLOOR_NOTES = {
    "floor-c": "ruamel.yaml safe loader with the C parser (ruamel.yaml.clib): the issue's floor",
    "floor-pure": "ruamel.yaml safe loader, pure Python, in rail's own venv",
}


# --------------------------------------------------------------------------- reporting


def print_table(results: dict[str, Any]) -> None:
    sizes = list(results["sizes"])
    names: list[str] = []
    for size in sizes:
        names.extend(name for name in results["sizes"][size]["commands"] if name not in names)
    header = f"{'command':<18}" + "".join(f"{'N=' + size:>24}" for size in sizes)
    width = max([18, *(len(name) + 1 for name in names)])
    header = f"{'command':<{width}}" + header[18:]
    meta = results["meta"]
    print(f"\nmedian wall time / peak RSS ({meta['runs']} runs after {meta['warmups']} warm-up round(s))")
    print(header)
    for name in names:
        cells = []
        for size in sizes:
            entry = results["sizes"][size]["commands"].get(name)
            cells.append(_cell(entry))
        print(f"{name:<{width}}" + "".join(cells))
    for size in sizes:
        yl = median_of(results, size, "yamllint")
        cj = median_of(results, size, "check-jsonschema")
        if yl is not None and cj is not None:
            print(f"peers summed at N={size}: {yl + cj:.3f} s")
    shipped = results.get("shipped", {}).get("commands", {})
    for name, entry in shipped.items():
        print(f"shipped stack: {name:<10} {_cell(entry).strip()}")
    print("\nratios (issue 6 and issue 16 targets)")
    for ratio in results["ratios"]:
        value = "n/a" if ratio["value"] is None else f"{ratio['value']:.2f}"
        if ratio["target"] is None:
            print(f"  {ratio['name']:<60} {value:>8}  for reference")
            continue
        verdict = {True: "PASS", False: "FAIL", None: "n/a (size not run or failed)"}[ratio["pass"]]
        print(f"  {ratio['name']:<60} {value:>8}  target <= {ratio['target']:<6g} {verdict}")


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return f"{'-':>24}"
    if "error" in entry:
        return f"{'ERROR: ' + entry['error'].split(' (')[0]:>24}"
    return f"{entry['median_s']:>11.3f} s {entry['peak_rss_mib']:>6.0f} MiB"


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def rail_state(rail: str, snapshot: str | None) -> dict[str, Any]:
    """Which rail was measured: the snapshot's commit, or the working tree (and how far it is from HEAD)."""
    version = subprocess.run([rail, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    revision = snapshot or "HEAD"
    head = subprocess.run(["git", "rev-parse", revision], cwd=ROOT, capture_output=True, text=True, check=False)
    state: dict[str, Any] = {"executable": rail, "version": version, "commit": head.stdout.strip()}
    if snapshot:
        state["source"] = f"snapshot of {snapshot} (git archive, non-editable install)"
    else:
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False)
        state["source"] = f"working tree ({len(dirty.stdout.splitlines())} paths differ from HEAD)"
    return state


# --------------------------------------------------------------------------- command line


def default_rail() -> str:
    beside = Path(sys.executable).parent / "rail"
    return str(beside) if beside.exists() else shutil.which("rail") or "rail"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,10000", help="comma-separated release counts")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per command (after one warm-up)")
    parser.add_argument("--json", type=Path, help="write the results and every raw timing here")
    parser.add_argument(
        "--warmups",
        type=int,
        default=1,
        help="unmeasured rounds first (0 only for a quick probe; issue16: 2, the cache stores on a second sighting)",
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--changed", type=float, default=10.0, help="percentage of releases the diff changes")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before one run is killed")
    parser.add_argument("--rail", default=default_rail(), help="the rail executable (default: beside this python)")
    parser.add_argument(
        "--snapshot",
        metavar="REV",
        help="benchmark rail as committed at REV (git archive + its own venv), not the working tree;"
        " the shipped stack is then REV's too",
    )
    parser.add_argument("--crd", type=Path, default=DEFAULT_CRD, help="the HelmRelease CRD JSON schema")
    parser.add_argument("--workdir", type=Path, help="where the temporary stacks go (default: the system's)")
    parser.add_argument(
        "--commands", help="only these (comma-separated: render,render-check,lint,diff,check,yamllint,...)"
    )
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="skip yamllint and check-jsonschema")
    parser.add_argument("--no-shipped", dest="shipped", action="store_false", help="skip the shipped-stack run")
    parser.add_argument(
        "--scenario",
        choices=("issue6", "issue16", "all"),
        default="issue6",
        help="issue6: rail against its peers (the default); issue16: the cache, warm against off"
        " (bench/incremental.py; no shipped-stack run, no peers); all: both",
    )
    parser.add_argument(
        "--precommit",
        default=incremental.PRECOMMIT,
        help=f"the pre-commit command of issue 16 (default: '{incremental.PRECOMMIT}'; 'check' to try the"
        " harness on a rail without it)",
    )
    args = parser.parse_args(argv)
    args.size_list = [int(size) for size in args.sizes.split(",") if size.strip()]
    args.commands = {name.strip() for name in args.commands.split(",")} if args.commands else None
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.scenario == "issue16":
        args.shipped = args.peers = False
    if args.scenario != "issue6" and args.warmups == 1:
        # rail stores a cache entry on its key's second sighting: the "rerun" commands'
        # folders are warm after two untimed rounds, not one (0 stays a quick probe).
        args.warmups = 2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rail-bench-snapshot-", dir=args.workdir) as folder:
        # rail's compiled-template cache: the bench's own, filled by the warm-up round.
        os.environ["RAIL_CACHE_DIR"] = str(Path(folder) / "rail-cache")
        args.shipped_root = ROOT
        if args.snapshot:
            args.snapshot = run_quiet(["git", "rev-parse", args.snapshot], ROOT, "git rev-parse").strip()
            print(f"installing rail as committed at {args.snapshot} into its own venv", flush=True)
            args.rail, args.shipped_root = snapshot_rail(args.snapshot, Path(folder))
        return bench(args)


def bench(args: argparse.Namespace) -> int:
    if args.peers:
        try:
            ensure_peers()
        except PeerSetupError as error:
            print(f"run.py: the peers' environment {PEERS} could not be created: {error}", file=sys.stderr)
            return EXIT_PEERS
    loaders = {"project": c_loader(sys.executable), "peers": args.peers and c_loader(peer_bin("python"))}
    floors = floor_commands(loaders)
    print(f"C loader (ruamel.yaml.clib) importable: rail's venv {loaders['project']}, peers' venv {loaders['peers']}")
    if not loaders["project"]:
        print("  rail's venv has no ruamel.yaml.clib: floor-c runs in the peers' venv", flush=True)
    errors: list[str] = []
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "runs": args.runs,
            "warmups": args.warmups,
            "seed": args.seed,
            "changed_percent": args.changed,
            "scenario": args.scenario,
            "precommit": args.precommit,
            "machine": machine(),
            "rail": rail_state(args.rail, args.snapshot),
            "c_loader": loaders,
            "crd": str(args.crd),
        },
        "sizes": {},
        "errors": errors,
    }
    if args.shipped:
        results["shipped"] = bench_shipped(args, errors)
    for size in args.size_list:
        try:
            results["sizes"][str(size)] = bench_size(size, args, floors, errors)
        except SetupError as error:
            errors.append(str(error))
            print(f"N={size}: setup failed: {error}", file=sys.stderr)
    results["ratios"] = ratios(results)
    print_table(results)
    for error in errors:
        print(f"\nERROR: {error}", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
