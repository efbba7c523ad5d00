"""The benchmark harness (bench/, issue 6): the CI smoke run at N=10 with no timing
assert, the generator's determinism, and a generated stack that renders and lints clean."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from renderer.app import run_lint, run_render
from renderer.lint.rule import LintOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH = REPO_ROOT / "bench"
RAIL = Path(sys.executable).parent / "rail"
EXIT_PEERS = 3  # bench/run.py: the peers' virtual environment could not be created
COMMANDS = {"render", "render-check", "lint", "diff", "check", "yamllint", "check-jsonschema", "floor-pure"}


def generate(out: Path, releases: int, seed: int, hash_seed: str = "0") -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    argv = [sys.executable, str(BENCH / "generate.py"), "--releases", str(releases), "--seed", str(seed)]
    subprocess.run([*argv, "--out", str(out)], check=True, capture_output=True, env=env)


def tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_generator_is_deterministic(tmp_path: Path) -> None:
    generate(tmp_path / "one", 40, seed=7, hash_seed="1")
    generate(tmp_path / "two", 40, seed=7, hash_seed="2")
    first, second = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert len(first) > 40
    assert first == second
    generate(tmp_path / "other", 40, seed=8)
    assert tree(tmp_path / "other") != first


def test_generated_stack_renders_and_lints_clean(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    generate(stack, 20, seed=3)
    assert run_render(stack, "all", check=False).plan.missing  # everything was new
    assert not run_render(stack, "all", check=True).plan.drift
    result = run_lint(stack, [], LintOptions())
    assert [f"{finding.rule}: {finding.message}" for finding in result.findings] == []


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH")
def test_harness_smoke_run(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    argv = [sys.executable, str(BENCH / "run.py"), "--sizes", "10", "--runs", "1", "--json", str(output)]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode == EXIT_PEERS:
        pytest.skip(f"bench/.venv-peers could not be created (no package index?): {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    commands = results["sizes"]["10"]["commands"]
    assert set(commands) >= COMMANDS, sorted(commands)
    for name in COMMANDS:
        assert commands[name]["runs"], name
        assert commands[name]["median_s"] > 0
    assert results["ratios"]
    assert set(results["shipped"]["commands"]) == {"lint", "lint-cold", "diff-staged", "yamllint"}


# --------------------------------------------------------------------------- issue 16's scenario


def bench_module(name: str) -> Any:
    """A module of bench/ (a script folder, not a package), imported as run.py imports it."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def rail_has_check_staged() -> bool:
    """Whether this rail has `check --staged` (issue 16): until it lands, the smoke run
    measures `rail check` in its place (bench/run.py's --precommit), and the test
    of the error path below shows what the default then reports."""
    done = subprocess.run([str(RAIL), "check", "--help"], capture_output=True, text=True, check=False)
    return "--staged" in done.stdout


INCREMENTAL = {
    "precommit",
    "precommit-rerun",
    "precommit-nocache",
    "hook-render-check",
    "hook-lint",
    "hook-diff-staged",
    "render-nocache",
    "diff-seen-base",
    "diff-rerun",
    "diff-nocache",
    "check-warm",
    "check-nocache",
}
TARGETS = {"precommit-20": 0.2, "precommit-20-seconds": 1.0, "diff-seen-base-20": 0.7, "check-20-warm": 5.0}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH")
def test_issue16_scenario_smoke_run(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    precommit = "check --staged" if rail_has_check_staged() else "check"
    argv = [sys.executable, str(BENCH / "run.py"), "--scenario", "issue16", "--sizes", "20", "--runs", "1"]
    argv += ["--precommit", precommit, "--workdir", str(tmp_path), "--json", str(output)]
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["meta"]["scenario"] == "issue16"
    assert results["meta"]["precommit"] == precommit
    assert "shipped" not in results
    size = results["sizes"]["20"]
    assert set(size["commands"]) == INCREMENTAL
    for name in INCREMENTAL:
        entry = size["commands"][name]
        assert "error" not in entry, (name, entry)
        assert len(entry["runs"]) == 1
        assert entry["median_s"] > 0 and entry["peak_rss_mib"] > 0
    facts = size["incremental"]
    assert facts["staged_change"].startswith("values/")
    assert facts["diff_changed_releases"] == 2  # 10% of 20
    assert "2 changed for issue 16's diff" in done.stdout  # not the issue-6 clone's count (none made)
    assert set(facts["cache_bytes"]) == {"precommit", "precommit-rerun", "diff-seen-base", "diff-rerun", "check-warm"}
    by_id = {ratio["id"]: ratio for ratio in results["ratios"]}
    for ident, target in TARGETS.items():
        assert by_id[ident]["target"] == target
        assert by_id[ident]["value"] is not None and by_id[ident]["value"] > 0
        assert by_id[ident]["pass"] is (by_id[ident]["value"] <= target)
    assert by_id["precommit-20-vs-hooks"]["target"] is None and by_id["precommit-20-vs-hooks"]["pass"] is None
    assert by_id["growth-check-warm"]["value"] is None  # 1,000 and 10,000 were not run
    assert all("yamllint" not in ratio["name"] for ratio in results["ratios"])  # the issue-6 ratios are left out


def test_a_failing_command_is_an_error_not_a_number(tmp_path: Path) -> None:
    """A command that exits 2 (`rail check --staged` before it exists) is reported as an
    error with its runs, has no median, and every ratio over it is n/a."""
    run = bench_module("run")
    incremental = bench_module("incremental")
    fail = (sys.executable, "-c", "import sys; print('Error: No such option'); sys.exit(2)")
    ok = (sys.executable, "-c", "pass")
    commands = [
        run.Command("precommit", fail, tmp_path, frozenset({0, 1})),
        run.Command("precommit-nocache", ok, tmp_path),
    ]
    errors: list[str] = []
    found = run.run_rounds(commands, (1, 2), tmp_path, 60.0, errors)
    assert set(found["precommit"]) == {"error", "runs"}
    assert found["precommit"]["error"].startswith("exited 2")
    assert [sample["exit"] for sample in found["precommit"]["runs"]] == [2]  # dropped after its first failure
    assert len(found["precommit-nocache"]["runs"]) == 2 and found["precommit-nocache"]["median_s"] > 0
    assert len(errors) == 1 and "No such option" in errors[0] and "exited 2" in errors[0]
    results = {"meta": {"scenario": "issue16"}, "sizes": {"1000": {"commands": found}}}
    by_id = {ratio["id"]: ratio for ratio in run.ratios(results)}
    assert by_id["precommit-1k"]["value"] is None and by_id["precommit-1k"]["pass"] is None
    assert by_id["precommit-1k-seconds"]["value"] is None
    assert run.median_of(results, 1000, "precommit") is None
    assert incremental.label(1000) == "1k" and incremental.label(10000) == "10k" and incremental.label(20) == "20"
    report = bench_module("report")
    assert "error: exited 2" in report._cell(found["precommit"])


def test_runs_in_the_staged_clone_find_the_index_refreshed_as_git_commit_leaves_it(tmp_path: Path) -> None:
    """rail links the files it reads, which changes their ctime: to git's stat data every
    file is then changed. ``git commit`` refreshes the index before its hooks run, so each
    run in the staged clone does too (untimed); elsewhere nothing is done."""
    incremental = bench_module("incremental")
    staged = tmp_path / "staged"
    staged.mkdir()
    git = ["git", "-c", "user.email=bench@example.invalid", "-c", "user.name=bench"]
    subprocess.run([*git, "init", "-q"], cwd=staged, check=True)
    (staged / "values.yaml").write_text("a: 1\n", encoding="utf-8")
    subprocess.run([*git, "add", "-A"], cwd=staged, check=True)
    subprocess.run([*git, "commit", "-qm", "one file"], cwd=staged, check=True)
    time.sleep(1.1)  # git keeps ctime in seconds: a link in the second of the commit changes none
    os.link(staged / "values.yaml", tmp_path / "linked.yaml")  # as rail's read of the index does

    def dirty() -> str:
        return subprocess.run(
            ["git", "diff-files", "--name-only"], cwd=staged, check=True, capture_output=True, text=True
        ).stdout

    assert dirty() == "values.yaml\n"
    refresh = incremental.committing(staged, staged)
    assert refresh is not None and incremental.committing(tmp_path, staged) is None
    refresh()
    assert dirty() == ""
