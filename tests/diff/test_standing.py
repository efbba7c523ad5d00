"""The linked folders of the index and the working tree kept between runs
(renderer/diff/standing.py): the next run links only what changed, trusts nothing it
finds, and never writes through a link."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from gitstack import git, init, mini_stack, no_machine_config, write  # noqa: F401 (a fixture, taken by pytestmark)

from renderer.diff import indexed, standing
from renderer.diff.git import INDEX, Repository
from renderer.diff.sides import split_output

STAGED = "releases/a.yaml"

pytestmark = pytest.mark.usefixtures("no_machine_config", "cache_folder")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return init(mini_stack(tmp_path / "repo", "abc"))


@pytest.fixture
def links(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The targets of every hard link made."""
    made: list[str] = []
    original = os.link

    def counted(source: object, target: object, **kwargs: object) -> None:
        made.append(os.fspath(target))  # type: ignore[arg-type]
        original(source, target, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(indexed.os, "link", counted)
    return made


def _side(repo: Path) -> dict[str, bytes]:
    """The index's side as linked, its files and bytes (each checked against git's)."""
    repository = Repository.of(repo)
    entries = indexed.plain_entries(repository)
    assert entries is not None
    with indexed.index_root(repository, entries, repo.resolve(), "head") as (folder, _):
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    written, _ = split_output(Repository.of(repo).tree(INDEX)[0])
    assert files == written
    return files


def _standing(repo: Path) -> Path:
    found = sorted((repo / ".git").glob(f"{standing.PREFIX}*"))
    assert len(found) == 1, found
    return found[0]


def _refreshed(repo: Path) -> None:
    git(repo, "update-index", "-q", "--refresh")


def test_the_next_run_links_only_what_changed(repo: Path, links: list[str]) -> None:
    _side(repo)
    assert len(links) == 4 and _standing(repo).is_dir()  # rail.yaml and three specs; out/ stays in memory
    links.clear()
    _refreshed(repo)
    _side(repo)
    assert links == []
    write(repo, STAGED, "name: a\nchanged: true\n")  # in place: the inode the kept link names
    git(repo, "add", STAGED)
    assert _side(repo)[STAGED] == b"name: a\nchanged: true\n"
    assert links == []
    write(repo, "releases/b.tmp", "name: b\nchanged: true\n")
    os.replace(repo / "releases/b.tmp", repo / "releases/b.yaml")  # as editors save: a new file
    git(repo, "add", "releases")
    assert _side(repo)["releases/b.yaml"] == b"name: b\nchanged: true\n"
    assert [target.endswith("/releases/b.yaml") for target in links] == [True]


def test_a_kept_link_to_a_file_the_index_no_longer_holds_is_never_written_through(repo: Path) -> None:
    _side(repo)
    write(repo, STAGED, "name: a\nstaged: true\n")
    git(repo, "add", STAGED)
    write(repo, STAGED, "name: a\nunstaged: true\n")  # the same inode the kept folder links
    assert _side(repo)[STAGED] == b"name: a\nstaged: true\n"  # from git
    assert (repo / STAGED).read_text() == "name: a\nunstaged: true\n"
    assert not (_standing(repo) / STAGED).exists()  # kept with links only: nothing from git at rest
    assert (_standing(repo) / "releases/b.yaml").stat().st_ino == (repo / "releases/b.yaml").stat().st_ino
    assert _side(repo)[STAGED] == b"name: a\nstaged: true\n"


def test_what_the_index_does_not_hold_is_removed_from_a_kept_folder(repo: Path, tmp_path: Path) -> None:
    _side(repo)
    kept = _standing(repo)
    outside = tmp_path / "outside"
    write(outside, "releases/x.yaml", "name: x\n")
    write(kept, "releases/old.yaml", "name: old\n")  # a file deleted since
    (kept / "extra").symlink_to(outside)  # a link to a folder: removed, never followed
    (kept / "releases" / "a.yaml").unlink()
    (kept / "releases" / "a.yaml").symlink_to(outside / "releases" / "x.yaml")
    files = _side(repo)
    assert "releases/old.yaml" not in files and files[STAGED] == b"name: a\n"
    assert (outside / "releases" / "x.yaml").read_text() == "name: x\n"
    assert not (_standing(repo) / "extra").exists()


@pytest.mark.parametrize("planted", ["shared", "link", "file"])
def test_a_kept_folder_that_is_not_a_private_folder_is_not_taken_over(
    repo: Path, tmp_path: Path, links: list[str], planted: str
) -> None:
    _side(repo)
    kept = _standing(repo)
    if planted == "shared":
        kept.chmod(0o755)
    else:
        os.rename(kept, tmp_path / "moved")
        if planted == "link":
            kept.symlink_to(tmp_path / "moved")
        else:
            kept.write_text("not a folder\n")
    links.clear()
    _refreshed(repo)
    assert _side(repo)[STAGED] == b"name: a\n"
    assert len(links) == 4  # all made anew
    assert _standing(repo).is_dir() and not _standing(repo).is_symlink()
    assert _standing(repo).stat().st_mode & 0o077 == 0


@contextmanager
def _cache_off() -> Iterator[None]:
    from renderer.cache import settings

    settings.switch_off()
    try:
        yield
    finally:
        settings.switch_on()


def _refused(*args: object, **kwargs: object) -> None:
    raise PermissionError(errno.EPERM, "links not allowed")


def test_with_the_cache_off_nothing_is_kept_nor_taken_over(repo: Path, links: list[str]) -> None:
    _side(repo)
    links.clear()
    with _cache_off():
        _refreshed(repo)
        _side(repo)
    assert len(links) == 4  # the kept one was not taken over
    _standing(repo)  # and is still there, as it was
    with _cache_off():
        os.rename(_standing(repo), repo.parent / "moved")
        _side(repo)
    assert list((repo / ".git").glob(f"{standing.PREFIX}*")) == []


def test_two_runs_never_take_over_one_folder(repo: Path) -> None:
    _side(repo)
    git_dir, top = repo / ".git", os.fspath(repo.resolve())
    first = standing.take_over(git_dir, top)
    assert first is not None and standing.take_over(git_dir, top) is None
    assert standing.keep(first, git_dir, top)


def test_a_file_read_from_git_replaces_a_kept_link_it_finds_rather_than_writing_through(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linking stops at the first file it cannot link (another file system, links not
    allowed) and the rest is read from git: a kept link at one of those paths is replaced,
    never written through into the working tree."""
    _side(repo)
    for path in (STAGED, "releases/c.yaml"):
        write(repo, path, "name: staged\n")
    git(repo, "add", "releases")
    for path in (STAGED, "releases/c.yaml"):
        write(repo, path, "name: unstaged work\n")  # in place: the inodes the kept links name

    monkeypatch.setattr(indexed.os, "link", _refused)
    files = _side(repo)
    assert files[STAGED] == files["releases/c.yaml"] == b"name: staged\n"
    assert (repo / STAGED).read_text() == (repo / "releases/c.yaml").read_text() == "name: unstaged work\n"


# The working tree's folder of links (renderer.diff.sides.linked, kept_in the git folder) ---------


@pytest.fixture
def work(tmp_path: Path) -> Path:
    write(tmp_path / "work", "a.yaml", "a: 1\n")
    write(tmp_path / "work", "sub/b.yaml", "b: 1\n")
    (tmp_path / "git").mkdir()
    return tmp_path / "work"


def _worktree_side(work: Path, paths: tuple[str, ...] = ("a.yaml", "sub/b.yaml")) -> dict[str, bytes]:
    from renderer.diff.sides import linked

    with linked(list(paths), work, scratch=work.parent / "git", keep_in=work.parent / "git") as root:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _kept_worktree(work: Path) -> Path:
    found = sorted((work.parent / "git").glob(f"{standing.WORKTREE_PREFIX}*"))
    assert len(found) == 1, found
    return found[0]


def test_the_working_tree_folder_is_kept_and_the_next_run_links_only_files_replaced(
    work: Path, links: list[str]
) -> None:
    assert _worktree_side(work) == {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 1\n"}
    assert len(links) == 2 and _kept_worktree(work).stat().st_mode & 0o077 == 0
    links.clear()
    changed = (work / "a.yaml").stat().st_ctime_ns
    time.sleep(0.05)  # past the clock's tick: a link made now would change the file's ctime
    assert _worktree_side(work) == {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 1\n"}
    assert links == []
    assert (work / "a.yaml").stat().st_ctime_ns == changed  # git status has nothing to hash again
    write(work, "a.yaml", "a: 2\n")  # in place: the inode the kept link names
    write(work, "sub/b.tmp", "b: 2\n")
    os.replace(work / "sub/b.tmp", work / "sub/b.yaml")  # as editors save: a new file
    assert _worktree_side(work) == {"a.yaml": b"a: 2\n", "sub/b.yaml": b"b: 2\n"}
    assert [target.endswith("/sub/b.yaml") for target in links] == [True]


def test_what_the_working_tree_no_longer_holds_is_removed_from_its_kept_folder(work: Path, tmp_path: Path) -> None:
    _worktree_side(work)
    kept = _kept_worktree(work)
    outside = tmp_path / "outside"
    write(outside, "x.yaml", "x: 1\n")
    write(kept, "old.yaml", "old: 1\n")  # a file no longer listed
    (kept / "extra").symlink_to(outside)  # a link to a folder: removed, never followed
    (work / "a.yaml").unlink()  # listed by git, deleted since
    assert _worktree_side(work) == {"sub/b.yaml": b"b: 1\n"}
    assert sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*")) == ["sub", "sub/b.yaml"]
    assert (outside / "x.yaml").read_text() == "x: 1\n"


def test_a_working_tree_folder_of_copies_is_not_kept(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where links cannot be made the files are copied, and copies would leave the working
    tree's bytes at rest in the git folder: such a folder is removed, as without the cache."""
    monkeypatch.setattr(os, "link", _refused)
    assert _worktree_side(work) == {"a.yaml": b"a: 1\n", "sub/b.yaml": b"b: 1\n"}
    assert list((work.parent / "git").iterdir()) == []


def test_with_the_cache_off_no_working_tree_folder_is_kept_nor_taken_over(work: Path, links: list[str]) -> None:
    _worktree_side(work)
    links.clear()
    with _cache_off():
        _worktree_side(work)
        assert len(links) == 2  # the kept one was not taken over
        _kept_worktree(work)  # and is still there, as it was
        os.rename(_kept_worktree(work), work.parent / "moved")
        _worktree_side(work)
    assert list((work.parent / "git").iterdir()) == []
