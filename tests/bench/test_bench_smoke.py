"""The benchmark harness (bench/, issue 6): the CI smoke run at N=10 with no timing
assert, the generator's determinism, and a generated stack that renders and lints clean."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from renderer.app import run_lint, run_render
from renderer.lint.rule import LintOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH = REPO_ROOT / "bench"
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
