"""A clean working tree is its index's tree (renderer/diff/clean.py): ``rail lint`` and
``rail check`` of one are kept by the tree id, and nothing else passes for clean."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from gitstack import count_side_reads, edit, git, rail, render, shipped_clone

from renderer.diff.clean import clean_tree
from renderer.lint import inputs

VALKEY = "releases/s3/valkey.yaml"


@pytest.fixture
def folder(cache_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no global attributes of this machine
    return cache_folder


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_clone(tmp_path, tmp_path_factory)


@pytest.fixture
def lints(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every stack ``rail lint`` / ``rail check`` really lints (not served from the cache)."""
    seen: list[Path] = []
    original = inputs.collect  # run_lint imports it when it runs: patched where it lives

    def counted(start: Path, paths: list[Path], all_files: bool = False) -> inputs.LintInputs:
        seen.append(start)
        return original(start, paths, all_files)

    monkeypatch.setattr(inputs, "collect", counted)
    return seen


def test_a_clean_tree_is_the_index_tree(stack: Path, folder: Path) -> None:
    found = clean_tree(stack)
    assert found is not None and found[1] == git(stack, "rev-parse", "HEAD^{tree}").strip()


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda repo: edit(repo, VALKEY, "size: 2Gi", "size: 4Gi"), id="modified"),
        pytest.param(lambda repo: (repo / "releases" / "new.yaml").write_text("x: 1\n"), id="untracked"),
        pytest.param(
            lambda repo: (
                (repo / ".gitignore").write_text("*.local\n"),
                git(repo, "add", ".gitignore"),
                (repo / "notes.local").write_text("x: 1\n"),
            ),
            id="ignored",
        ),
        pytest.param(
            lambda repo: ((repo / ".gitattributes").write_text("* text=auto\n"), git(repo, "add", ".gitattributes")),
            id="attributes",
        ),
        pytest.param(lambda repo: git(repo, "config", "core.autocrlf", "input"), id="autocrlf"),
    ],
)
def test_what_is_not_clean(stack: Path, folder: Path, spoil: object) -> None:
    spoil(stack)  # type: ignore[operator]
    assert clean_tree(stack) is None


def test_a_changed_ctime_alone_leaves_a_tree_clean(stack: Path, folder: Path) -> None:
    """rail links every file to read it, which changes its ctime: git's stat data must still
    vouch for the file (ctime untrusted), or each run would hash the whole tree. The file
    below is rewritten in place at its old size with its old mtime put back (back in 2020,
    so git's racy check does not compare its bytes): only its ctime tells, so it passes
    for clean. Git trusting ctime would call it modified."""
    path = stack / VALKEY
    past = 1_600_000_000_123_456_789
    os.utime(path, ns=(past, past))
    git(stack, "add", VALKEY)  # the index records the 2020 mtime
    assert clean_tree(stack) is not None
    text = path.read_text()
    changed = text.replace("size: 2Gi", "size: 4Gi")
    assert len(changed) == len(text) and changed != text
    inode = path.stat().st_ino
    time.sleep(1.05)  # git may compare ctime to the second only
    with path.open("r+") as rewritten:  # in place: the same inode
        rewritten.write(changed)
    os.utime(path, ns=(past, past))
    assert path.stat().st_ino == inode
    assert clean_tree(stack) is not None
    assert git(stack, "-c", "core.trustctime=true", "status", "--porcelain", "--", VALKEY).strip()


def test_a_staged_change_is_clean_as_the_index(stack: Path, folder: Path) -> None:
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    git(stack, "add", VALKEY)
    found = clean_tree(stack)
    assert found is not None and found[1] == git(stack, "write-tree").strip()
    assert found[1] != git(stack, "rev-parse", "HEAD^{tree}").strip()


def test_lint_and_check_of_a_clean_tree_are_kept(stack: Path, folder: Path, lints: list[Path]) -> None:
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")  # a finding: rendered/ is stale
    git(stack, "add", VALKEY)
    first = rail(stack, "check", "--format", "json")
    assert first.exit_code == 1 and "rendered-drift" in first.stdout
    assert len(lints) == 1
    again = rail(stack, "check", "--format", "json")
    assert (again.exit_code, again.stdout) == (first.exit_code, first.stdout)
    assert len(lints) == 1  # kept
    render(stack)  # the working tree changes: linted again
    fresh = rail(stack, "check", "--format", "json")
    assert len(lints) == 2 and "rendered-drift" not in fresh.stdout
    assert rail(stack, "lint", "releases").exit_code in (0, 1) and len(lints) == 3  # paths named: never kept


def test_a_clean_working_tree_is_restored_in_a_diff(stack: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    render(stack)
    git(stack, "add", "-A")
    assert rail(stack, "check", "--staged").exit_code in (0, 1)  # keeps the index's tree
    reads = count_side_reads(monkeypatch)
    warm = rail(stack, "diff", "--base", "HEAD", "--format", "json")
    assert reads == []
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    plain = rail(stack, "diff", "--base", "HEAD", "--format", "json")
    assert reads and (warm.exit_code, warm.stdout) == (plain.exit_code, plain.stdout)


def test_a_diff_of_a_clean_working_tree_keeps_its_base(
    stack: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):  # the second run finds its parses kept (stored on a second sighting) and keeps the side
        assert rail(stack, "diff", "--base", "HEAD").exit_code == 0
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    render(stack)
    reads = count_side_reads(monkeypatch)
    warm = rail(stack, "diff", "--base", "HEAD", "--format", "json")
    assert len(reads) == 1 and reads[0].startswith("head (the working tree")
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    plain = rail(stack, "diff", "--base", "HEAD", "--format", "json")
    assert (warm.exit_code, warm.stdout) == (plain.exit_code, plain.stdout)
