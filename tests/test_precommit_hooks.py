"""The published pre-commit hooks, run the way a user runs them: `pre-commit try-repo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STACK = ("rail.yaml", "releases", "values", "secrets", "templates", "rendered", "docs")
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit is not installed in this environment"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH"),
]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def stack_repo(tmp_path: Path) -> Path:
    work = tmp_path / "stack"
    work.mkdir()
    for name in STACK:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, work / name)
        elif source.exists():
            shutil.copy2(source, work / name)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "stack")
    return work


def _try_repo(hook: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(REPO), hook, "--all-files", "--verbose"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_clean_stack_passes_both_hooks(stack_repo: Path, pre_commit_home: Path) -> None:
    for hook in ("rail-render", "rail-lint"):
        done = _try_repo(hook, stack_repo, pre_commit_home)
        assert done.returncode == 0, done.stdout + done.stderr


def test_injected_coupling_fails_rail_lint_with_the_rule_id(stack_repo: Path, pre_commit_home: Path) -> None:
    spec = stack_repo / "releases/s5/gitea.yaml"
    spec.write_text(
        spec.read_text().replace("  postgresql-ha:\n    enabled: false", "  postgresql-ha:\n    enabled: true")
    )
    _git(stack_repo, "add", "-A")
    done = _try_repo("rail-lint", stack_repo, pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "subchart-coupling" in done.stdout


def test_stale_rendered_output_fails_rail_render(stack_repo: Path, pre_commit_home: Path) -> None:
    spec = stack_repo / "releases/s3/valkey.yaml"
    spec.write_text(spec.read_text().replace("size: 2Gi", "size: 4Gi"))
    _git(stack_repo, "add", "-A")
    done = _try_repo("rail-render", stack_repo, pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "4Gi" in (stack_repo / "rendered/flux/s3-platform/helmrelease-valkey.yaml").read_text()


def test_rail_check_passes_a_clean_stack_and_blocks_a_staged_shrink(stack_repo: Path, pre_commit_home: Path) -> None:
    done = _try_repo("rail-check", stack_repo, pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
    spec = stack_repo / "releases/s3/valkey.yaml"
    spec.write_text(spec.read_text().replace("size: 2Gi", "size: 1Gi"))
    _git(stack_repo, "add", "-A")
    done = _try_repo("rail-check", stack_repo, pre_commit_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "persistence-shrink" in done.stdout and "rendered-drift" in done.stdout
    assert "1Gi" not in (stack_repo / "rendered/flux/s3-platform/helmrelease-valkey.yaml").read_text()
