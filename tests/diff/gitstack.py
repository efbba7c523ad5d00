"""Real git repositories in temporary folders for the ``rail diff`` tests.

Templates (a committed repository) are built once per session and copied per
test with :func:`shutil.copytree`: a git repository copies fine. Every test then
edits files, optionally commits, and runs ``rail diff`` in-process (click's
runner, fast) or as a process (the installed console script, for exit codes and
tracebacks as a user sees them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV, cache_written

REPO_ROOT = Path(__file__).resolve().parents[2]
RAIL = Path(sys.executable).parent / "rail"
STACK_ITEMS = ("rail.yaml", "releases", "values", "secrets", "templates")


_templates: dict[str, Path] = {}


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@pytest.fixture
def no_machine_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No git config or attributes of this machine: the test's repositories decide (a
    module takes it with ``pytestmark = pytest.mark.usefixtures("no_machine_config")``)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def init(repo: Path, message: str = "base") -> Path:
    git(repo, "init", "-q", "-b", "main")
    commit(repo, message)
    return repo


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def mini_stack(root: Path, names: str) -> Path:
    """A stack of specs (``releases/<name>.yaml``) and an output folder (``out/``), one
    file of each per letter of ``names``; not committed."""
    write(root, "rail.yaml", "name: mini\noutput: out\n")
    for name in names:
        write(root, f"releases/{name}.yaml", f"name: {name}\n")
        write(root, f"out/flux/{name}.yaml", f"kind: HelmRelease # {name}\n")
    return root


def write(repo: Path, relative: str, text: str) -> Path:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    """Replace the one occurrence of ``old`` in the file (fails loudly if it is not there once)."""
    path = repo / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative}: expected {old!r} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(repo: Path, relative: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first line containing ``needle`` (after the line containing ``after``)."""
    lines = (repo / relative).read_text(encoding="utf-8").splitlines()
    start = 0
    if after is not None:
        start = next(index for index, line in enumerate(lines) if after in line) + 1
    return next(index + 1 for index in range(start, len(lines)) if needle in lines[index])


def template(name: str, factory: pytest.TempPathFactory, build: Callable[[Path], None]) -> Path:
    """A committed repository built once per session by ``build(folder)``."""
    if name not in _templates:
        folder = factory.getbasetemp() / "diff-templates" / name
        shutil.rmtree(folder, ignore_errors=True)  # a build that failed earlier in the session
        folder.mkdir(parents=True)
        build(folder)
        _templates[name] = folder
    return _templates[name]


def clone(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination, symlinks=True)
    return destination


def copy_stack_files(destination: Path) -> None:
    """The shipped stack's own files (not what it rendered)."""
    for name in STACK_ITEMS:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, symlinks=True)
        else:
            shutil.copy2(source, destination / name)


def render(root: Path) -> None:
    from renderer.app import run_render

    run_render(root, "all", check=False)


def build_stack(folder: Path) -> None:
    """The shipped stack, freshly rendered (templates may be newer than rendered/), committed on main."""
    copy_stack_files(folder)
    render(folder)
    init(folder, "shipped stack")


def shipped_clone(tmp_path: Path, factory: pytest.TempPathFactory) -> Path:
    """A clone of the shipped stack's repository (built once a session) at ``tmp_path/repo``."""
    return clone(template("stack", factory, build_stack), tmp_path / "repo")


def count_side_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the label of every side a diff reads from its files (not restored)."""
    from renderer.diff import engine, sides

    seen: list[str] = []

    def counted(label: str, root: Path, output: Mapping[str, bytes] | None = None, reuse: Any = None) -> sides.Side:
        seen.append(label)
        return sides.read_side(label, root, output, reuse)

    monkeypatch.setattr(engine, "read_side", counted)
    return seen


def replace_tree(repo: Path, source: Path) -> None:
    """Make the working tree of ``repo`` hold exactly the files of ``source`` (its .git kept)."""
    for item in repo.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    for item in source.iterdir():
        if item.name == ".git":
            continue
        if item.is_dir():
            shutil.copytree(item, repo / item.name, symlinks=True)
        else:
            shutil.copy2(item, repo / item.name)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> dict[str, Any]:
        data = json.loads(self.stdout)
        assert isinstance(data, dict)
        return data


def rail(repo: Path, *args: str) -> Run:
    """``rail ARGS -C repo`` in-process (click's runner): exit code, stdout, stderr."""
    from click.testing import CliRunner

    from renderer.cli import main

    env = {"GITHUB_ACTIONS": None, "GITEA_ACTIONS": None, "NO_COLOR": "1", **GIT_ENV}
    result = CliRunner().invoke(main, [*args, "-C", str(repo)], env=env, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def rail_process(repo: Path, *args: str, env_extra: Mapping[str, str] | None = None) -> Run:
    """The installed ``rail`` console script, run in ``repo`` as a user runs it."""
    env = {**os.environ, **GIT_ENV, "NO_COLOR": "1", **(env_extra or {})}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITEA_ACTIONS", None)
    done = subprocess.run([str(RAIL), *args], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    cache_written(env)
    return Run(done.returncode, done.stdout, done.stderr)


def diff_json(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    run = rail(repo, "diff", "--format", "json", *args)
    assert run.exit_code in (0, 1), run.output
    return run.exit_code, run.json()


def changes_of(report: dict[str, Any], kind: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    return [
        change
        for change in report["changes"]
        if (kind is None or change["object"]["kind"] == kind) and (name is None or change["object"]["name"] == name)
    ]


def fields_of(change: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {field["path"]: (field["old"], field["new"]) for field in change["fields"]}


def rules_of(report: dict[str, Any]) -> list[str]:
    return [finding["rule"] for finding in report["findings"]]


def finding_of(report: dict[str, Any], rule: str) -> dict[str, Any]:
    """The one finding of ``rule`` in a JSON report."""
    found: dict[str, Any] = only([finding for finding in report["findings"] if finding["rule"] == rule])
    return found


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


def git_state(repo: Path) -> dict[str, str]:
    """What reading a revision must never change: HEAD, the branch, the index, the working tree's status."""
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "branch": git(repo, "symbolic-ref", "-q", "HEAD", check=False),
        "index": git(repo, "ls-files", "-s"),
        "status": git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
        "staged": git(repo, "diff", "--cached"),
        "unstaged": git(repo, "diff"),
        "refs": git(repo, "for-each-ref"),
        "stash": git(repo, "stash", "list"),
    }
