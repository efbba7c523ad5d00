"""What git says about the index (renderer/diff/git.py): each entry's ``ls-files -v`` tag,
and the paths whose working-tree file git's stat data cannot vouch for, read without
ever writing the index."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gitstack import (
    git,
    init,
    no_machine_config,  # noqa: F401 (a fixture, taken by pytestmark)
    write,
)

from renderer.diff.git import Repository

pytestmark = pytest.mark.usefixtures("no_machine_config")


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    """A committed stack in a subfolder, a file beside it, the index refreshed."""
    root = tmp_path / "mono"
    for name in "abcd":
        write(root, f"stack/{name}.yaml", f"name: {name}\n")
    write(root, "beside.yaml", "other: 1\n")
    init(root)
    git(root, "update-index", "-q", "--refresh")
    return root / "stack"


def test_each_entry_has_its_tag(stack: Path) -> None:
    git(stack, "update-index", "--assume-unchanged", "b.yaml")
    git(stack, "update-index", "--skip-worktree", "c.yaml")

    tags = {entry.path: entry.tag for entry in Repository.of(stack).index_entries()}

    assert tags == {"stack/a.yaml": "H", "stack/b.yaml": "h", "stack/c.yaml": "S", "stack/d.yaml": "H"}


def test_stat_dirty_lists_what_git_cannot_vouch_for(stack: Path) -> None:
    write(stack, "a.yaml", "name: a\nedited: true\n")
    (stack / "b.yaml").unlink()
    write(stack, "new.yaml", "name: new\n")
    git(stack, "add", "-N", "new.yaml")
    write(stack, "untracked.yaml", "name: untracked\n")
    write(stack.parent, "beside.yaml", "other: 2\n")  # outside the stack folder

    assert Repository.of(stack).stat_dirty() == {"stack/a.yaml", "stack/b.yaml", "stack/new.yaml"}


def test_stat_dirty_is_empty_for_a_refreshed_index(stack: Path) -> None:
    assert Repository.of(stack).stat_dirty() == set()


def test_stat_dirty_never_writes_the_index(stack: Path) -> None:
    """Touched files are stat-dirty: listed, and the index is left as it was (no refresh)."""
    for name in "abcd":
        os.utime(stack / f"{name}.yaml", ns=(0, 10**18))
    index = stack.parent / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)

    assert len(Repository.of(stack).stat_dirty()) == 4
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before


def test_stat_dirty_asks_no_fsmonitor(stack: Path) -> None:
    """A configured fsmonitor hook is not consulted: git stats each file itself."""
    called = stack.parent / "called"
    hook = write(stack.parent, "hook.sh", f"#!/bin/sh\ntouch {called}\nexit 1\n")
    hook.chmod(0o755)
    git(stack, "config", "core.fsmonitor", str(hook))
    write(stack, "a.yaml", "name: a\nedited: true\n")

    assert Repository.of(stack).stat_dirty() == {"stack/a.yaml"}
    assert not called.exists()


def test_staged_changes_are_what_the_index_changed_since_the_commit(stack: Path) -> None:
    write(stack, "a.yaml", "name: changed\n")  # changed and staged
    (stack / "b.yaml").unlink()  # removed and staged
    write(stack, "e.yaml", "name: e\n")  # added and staged
    (stack / "c.yaml").chmod(0o755)  # its mode only
    git(stack, "add", "-A", ".")
    write(stack, "d.yaml", "name: not staged\n")  # the working tree only: not the index's
    write(stack.parent, "beside.yaml", "other: 2\n")  # outside the stack folder
    git(stack.parent, "add", "beside.yaml")

    changed = Repository.of(stack).staged_changes(git(stack, "rev-parse", "HEAD").strip())

    assert changed == {"a.yaml", "b.yaml", "c.yaml", "e.yaml"}  # relative to the stack folder


def _counting_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    asked: list[tuple[str, ...]] = []
    real = subprocess.run

    def counted(args: list[str], *rest: object, **options: object) -> object:
        asked.append(tuple(args))
        return real(args, *rest, **options)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", counted)
    return asked


def test_an_object_id_is_asked_of_git_once_and_a_ref_every_time(stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repository = Repository.of(stack)
    first = repository.resolve("HEAD")
    git_dir = Path(git(stack, "rev-parse", "--absolute-git-dir").strip())
    asked = _counting_runs(monkeypatch)
    assert repository.resolve(first) == repository.resolve(first) == first
    assert not [args for args in asked if first + "^{commit}" in args]  # HEAD's answer is a commit: its own
    other = git(stack, "rev-parse", "HEAD^{tree}").strip()
    assert not repository.is_commit(other) and not repository.is_commit(other)
    assert len([args for args in asked if other + "^{commit}" in args]) == 1
    (stack / "more.txt").write_text("more\n")
    git(stack, "add", "-A")
    git(stack, "commit", "-q", "-m", "more")
    assert repository.resolve("HEAD") != first  # a ref moves: never remembered
    assert repository.git_dir() == repository.git_dir() == git_dir
    assert not [args for args in asked if "--absolute-git-dir" in args]  # answered with the top folder, in one git
    assert repository.merge_base(first, first) == first  # a commit is its own merge base: no git asked
    assert not [args for args in asked if "merge-base" in args]


def test_an_answer_asked_ahead_is_the_answer_asked_now(stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(stack, "a.yaml", "name: a, staged\n")
    git(stack, "add", "a.yaml")
    direct = Repository.of(stack)
    entries, changed = direct.index_entries(), direct.staged_changes(direct.resolve("HEAD"))
    unset = direct.run("config", "--get", "rail.no-such-key")  # exit 1, nothing said: a common answer

    ahead = Repository.of(stack)
    head = ahead.resolve("HEAD")
    ahead.ask_ahead(ahead.index_listing(), ahead.staged_listing(head), ("config", "--get", "rail.no-such-key"))
    asked = _counting_runs(monkeypatch)
    assert ahead.index_entries() == entries
    assert ahead.staged_changes(head) == changed == {"a.yaml"}
    late = ahead.run("config", "--get", "rail.no-such-key")
    assert (late.returncode, late.stdout) == (unset.returncode, unset.stdout) == (1, b"")
    assert asked == []  # every answer was the one started ahead
    assert ahead.index_entries() == entries and len(asked) == 1  # taken once: asked again, git is asked


def test_a_failure_asked_ahead_says_what_git_said(stack: Path) -> None:
    repository = Repository.of(stack)
    wrong = ("diff-index", "--cached", "--name-only", "no-such-revision", "--")
    direct = repository.run(*wrong)
    repository.ask_ahead(wrong)
    late = repository.run(*wrong)
    assert late.returncode == direct.returncode != 0
    assert late.stderr == direct.stderr and b"no-such-revision" in late.stderr


def test_answers_never_asked_for_are_dropped(stack: Path) -> None:
    repository = Repository.of(stack)
    repository.ask_ahead(("cat-file", "--batch"))  # waits for its input: never ends by itself
    started = list(repository._ahead.values())
    assert len(started) == 1
    process, out, err = started[0]
    repository.drop_ahead()
    assert process.returncode is not None  # ended and reaped, not left waiting
    assert out.closed and err.closed
    assert not repository._ahead
