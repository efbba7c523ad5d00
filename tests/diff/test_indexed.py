"""The index's side linked from the working tree (renderer/diff/indexed.py): the same files
and bytes as writing every blob out from git, with only the files the working tree does
not hold as staged read from git; anything else takes the old path."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gitstack import (
    edit,
    git,
    init,
    mini_stack,
    no_machine_config,  # noqa: F401 (a fixture, taken by pytestmark)
    rail,
    render,
    shipped_clone,
    write,
)

from renderer.diff import engine, indexed
from renderer.diff.git import INDEX, Repository
from renderer.diff.sides import split_output
from renderer.errors import InputError

CONFIG = "name: mini\noutput: out\n"
STAGED = "releases/a.yaml"
PG = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"


pytestmark = pytest.mark.usefixtures("no_machine_config")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed mini stack: inputs, an output folder (kept in memory), docs (both)."""
    root = mini_stack(tmp_path / "repo", "abcdef")
    write(root, "docs/a.md", "# a\n")
    write(root, "tools/run.sh", "#!/bin/sh\n")
    (root / "tools" / "run.sh").chmod(0o755)
    return init(root)


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every ``git cat-file --batch`` request: the blobs read from git."""
    seen: list[list[str]] = []
    original = Repository._batch

    def counted(self: Repository, names: list[str]) -> list[bytes | None]:
        if names:  # an empty request runs no git
            seen.append(list(names))
        return original(self, names)

    monkeypatch.setattr(Repository, "_batch", counted)
    return seen


def _blob(repo: Path, path: str) -> str:
    return git(repo, "rev-parse", f":{path}").strip()


def _old(repo: Path) -> tuple[dict[str, bytes], dict[str, bytes] | None]:
    """The side as it was read before: every blob from git, split as ever."""
    files, escaped = Repository.of(repo).tree(INDEX)
    assert escaped == []
    return split_output(files)


def _on_disk(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _new(repo: Path) -> tuple[dict[str, bytes], dict[str, bytes] | None]:
    repository = Repository.of(repo)
    entries = indexed.plain_entries(repository)
    assert entries is not None, "the linked path must be taken here"
    with indexed.index_root(repository, entries, repo.resolve(), "head") as (folder, output):
        return _on_disk(folder), output


def _reads(repo: Path, batches: list[list[str]]) -> list[str]:
    """The blobs the linked side reads from git, sorted."""
    batches.clear()
    _new(repo)
    return sorted(name for names in batches for name in names)


def _blobs(repo: Path, *paths: str) -> list[str]:
    return sorted(_blob(repo, path) for path in paths)


def _same_as_before(repo: Path) -> dict[str, bytes]:
    """The linked side equals the side written from git (output order included); its files."""
    old_files, old_output = _old(repo)
    files, output = _new(repo)
    assert files == old_files
    assert output == old_output and list(output or ()) == list(old_output or ())
    return files


def test_an_unchanged_index_is_linked_and_reads_nothing_from_git(repo: Path, batches: list[list[str]]) -> None:
    repository = Repository.of(repo)
    entries = indexed.plain_entries(repository)
    assert entries is not None
    with indexed.index_root(repository, entries, repo, "head") as (folder, output):
        assert (folder / STAGED).stat().st_ino == (repo / STAGED).stat().st_ino
        assert not (folder / "out").exists()  # the output folder stays in memory
        assert output is not None and output["out/flux/a.yaml"] == b"kind: HelmRelease # a\n"
        assert (folder / "docs/a.md").read_bytes() == output["docs/a.md"] == b"# a\n"
    assert batches == []
    assert not folder.exists()
    assert _same_as_before(repo)[STAGED] == b"name: a\n"


def test_a_staged_then_edited_file_holds_the_staged_bytes(repo: Path, batches: list[list[str]]) -> None:
    write(repo, STAGED, "name: a\nstaged: true\n")
    write(repo, "out/flux/b.yaml", "kind: HelmRelease # b staged\n")
    git(repo, "add", "-A")
    write(repo, STAGED, "name: a\nunstaged: true\n")
    write(repo, "out/flux/b.yaml", "kind: HelmRelease # b unstaged\n")
    write(repo, "docs/a.md", "# unstaged\n")

    files = _same_as_before(repo)

    assert files[STAGED] == b"name: a\nstaged: true\n"
    assert files["docs/a.md"] == b"# a\n"
    assert _reads(repo, batches) == _blobs(repo, STAGED, "docs/a.md")  # the output folder: not read yet
    output = _new(repo)[1]
    assert output is not None
    batches.clear()
    assert output["out/flux/b.yaml"] == b"kind: HelmRelease # b staged\n"  # asked: from git
    assert output["out/flux/b.yaml"] == b"kind: HelmRelease # b staged\n"
    assert output["out/flux/a.yaml"] == b"kind: HelmRelease # a\n"  # from the working tree
    assert [blob for names in batches for blob in names] == _blobs(repo, "out/flux/b.yaml") * 2  # nothing kept


def test_a_file_deleted_in_the_working_tree_is_read_from_git(repo: Path, batches: list[list[str]]) -> None:
    (repo / STAGED).unlink()
    (repo / "out/flux/c.yaml").unlink()
    (repo / "docs").joinpath("a.md").unlink()

    assert _same_as_before(repo)[STAGED] == b"name: a\n"
    assert _reads(repo, batches) == _blobs(repo, STAGED, "docs/a.md")  # out/flux/c.yaml when asked


def test_the_output_folder_is_compared_by_blob_id_without_reading_a_file(
    repo: Path, batches: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, "out/flux/b.yaml", "kind: HelmRelease # b unstaged\n")  # the index holds another blob
    output = _new(repo)[1]
    assert isinstance(output, indexed.IndexOutput)
    monkeypatch.setattr(indexed, "regular_bytes", lambda *args: pytest.fail("a file was read"))
    batches.clear()
    assert output.holds("out/flux/a.yaml", b"kind: HelmRelease # a\n")
    assert not output.holds("out/flux/a.yaml", b"kind: HelmRelease # a, rendered anew\n")
    assert output.holds("out/flux/b.yaml", (repo / "out/flux/b.yaml").read_bytes()) is False
    assert not output.holds("out/flux/none.yaml", b"")
    assert batches == []


def test_an_untracked_file_is_not_in_the_index_side(repo: Path) -> None:
    write(repo, "releases/new.yaml", "name: new\n")
    write(repo, "out/flux/new.yaml", "kind: HelmRelease # new\n")

    files = _same_as_before(repo)

    assert "releases/new.yaml" not in files
    assert "out/flux/new.yaml" not in (_new(repo)[1] or {})


def test_a_staged_new_file_and_a_staged_removal(repo: Path, batches: list[list[str]]) -> None:
    write(repo, "releases/new.yaml", "name: new\n")
    git(repo, "add", "releases/new.yaml")
    git(repo, "rm", "-q", "--cached", "releases/b.yaml")  # still in the working tree

    files = _same_as_before(repo)

    assert files["releases/new.yaml"] == b"name: new\n" and "releases/b.yaml" not in files
    assert _reads(repo, batches) == []  # both linked: nothing from git


def test_an_intent_to_add_file_is_as_git_writes_it(repo: Path) -> None:
    write(repo, "releases/later.yaml", "name: later\n")
    git(repo, "add", "-N", "releases/later.yaml")

    assert _same_as_before(repo)["releases/later.yaml"] == b""


def test_an_assume_unchanged_edit_is_caught_by_its_bytes(repo: Path, batches: list[list[str]]) -> None:
    """git's stat cache does not see this edit (git diff-files lists nothing): the hash does."""
    git(repo, "update-index", "--assume-unchanged", STAGED)
    write(repo, STAGED, "name: a\nhidden: true\n")
    assert git(repo, "diff-files", "--name-only") == ""

    files = _same_as_before(repo)

    assert files[STAGED] == b"name: a\n"
    assert _reads(repo, batches) == _blobs(repo, STAGED)


def test_a_file_replaced_by_a_symlink_or_a_folder_is_read_from_git(repo: Path, batches: list[list[str]]) -> None:
    (repo / STAGED).unlink()
    (repo / STAGED).symlink_to("b.yaml")  # same bytes as another file: still not this blob
    (repo / "releases/c.yaml").unlink()
    (repo / "releases/c.yaml").mkdir()
    fifo = repo / "releases/d.yaml"
    fifo.unlink()
    os.mkfifo(fifo)  # reading it must not block

    files = _same_as_before(repo)

    assert files[STAGED] == b"name: a\n" and files["releases/c.yaml"] == b"name: c\n"
    assert files["releases/d.yaml"] == b"name: d\n"
    assert _reads(repo, batches) == _blobs(repo, STAGED, "releases/c.yaml", "releases/d.yaml")


def test_a_file_written_between_the_link_and_the_hash_is_read_from_git(
    repo: Path, monkeypatch: pytest.MonkeyPatch, batches: list[list[str]]
) -> None:
    """What is hashed is what the side holds: a file racing the link is never taken as staged."""
    real_link = os.link

    def racing(source: str, target: str, *, follow_symlinks: bool = True) -> None:
        real_link(source, target, follow_symlinks=follow_symlinks)
        if source.endswith(STAGED):
            with open(source, "ab") as file:  # in place: the link sees it too
                file.write(b"raced: true\n")

    monkeypatch.setattr(indexed.os, "link", racing)

    files, _ = _new(repo)

    assert files[STAGED] == b"name: a\n"
    assert batches == [[_blob(repo, STAGED)]]


def test_no_links_allowed_reads_the_rest_from_git(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(source: str, target: str, *, follow_symlinks: bool = True) -> None:
        raise OSError(errno.EXDEV, "cross-device link")

    monkeypatch.setattr(indexed.os, "link", refused)
    write(repo, STAGED, "name: a\nunstaged: true\n")

    files = _same_as_before(repo)

    assert files[STAGED] == b"name: a\n"


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda repo: (write(repo, ".gitattributes", "* text=auto\n"), git(repo, "add", "-A")), id="text"),
        pytest.param(lambda repo: git(repo, "config", "core.autocrlf", "true"), id="autocrlf"),
        pytest.param(
            lambda repo: ((repo / "releases/link.yaml").symlink_to("a.yaml"), git(repo, "add", "-A")), id="symlink"
        ),
        pytest.param(
            lambda repo: git(
                repo, "update-index", "--add", "--cacheinfo", f"160000,{git(repo, 'rev-parse', 'HEAD').strip()},sub"
            ),
            id="submodule",
        ),
        pytest.param(lambda repo: _conflict(repo, STAGED), id="unmerged"),
    ],
)
def test_anything_but_plain_files_takes_the_old_path(
    repo: Path, setup: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup(repo)  # type: ignore[operator]
    repository = Repository.of(repo)

    assert indexed.plain_entries(repository) is None

    def unused(*args: object) -> Iterator[object]:
        raise AssertionError("the linked path was taken")

    monkeypatch.setattr(engine, "index_root", unused)
    _through_the_engine(repo)


def _conflict(repo: Path, path: str) -> None:
    """Stages 1-3 of ``path``, as a merge that stopped leaves them."""
    blob = _blob(repo, path)
    lines = "".join(f"100644 {blob} {stage}\t{path}\n" for stage in (1, 2, 3))
    git(repo, "update-index", "--force-remove", path)
    subprocess.run(["git", "update-index", "--index-info"], cwd=repo, input=lines.encode(), check=True)


def _through_the_engine(repo: Path) -> None:
    """The engine's index side runs the old path: a folder, or an input error as before
    (a submodule's commit is no blob)."""
    repository = Repository.of(repo)
    try:
        with engine._head_root(repository, repo, INDEX, "head", engine._plain_index(repository, INDEX, "head")) as (
            folder,
            _,
            _,
        ):
            assert folder.is_dir()
    except InputError as error:
        assert "cat-file" in str(error.problems[0].message)


def test_the_engine_links_a_plain_index(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, STAGED, "name: a\nstaged: true\n")
    git(repo, "add", "-A")
    write(repo, STAGED, "name: a\nunstaged: true\n")
    taken: list[str] = []
    original = indexed.index_root

    def counted(*args: object, **kwargs: object) -> object:
        taken.append("linked")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "index_root", counted)
    repository = Repository.of(repo)
    with engine._head_root(repository, repo, INDEX, "head", engine._plain_index(repository, INDEX, "head")) as (
        folder,
        output,
        escaped,
    ):
        assert (folder / STAGED).read_bytes() == b"name: a\nstaged: true\n"
        assert output == _old(repo)[1] and escaped == []
    assert taken == ["linked"]


def test_a_stack_in_a_subfolder(tmp_path: Path, batches: list[list[str]]) -> None:
    root = tmp_path / "mono"
    write(root, "stacks/prod/rail.yaml", CONFIG)
    write(root, "stacks/prod/releases/a.yaml", "name: a\n")
    write(root, "stacks/prod/out/flux/a.yaml", "kind: A\n")
    write(root, "elsewhere.yaml", "other: 1\n")
    init(root)
    write(root, "stacks/prod/releases/a.yaml", "name: a\nunstaged: true\n")
    stack = root / "stacks" / "prod"

    files = _same_as_before(stack)

    assert sorted(files) == ["rail.yaml", "releases/a.yaml"]
    assert _reads(stack, batches) == _blobs(root, "stacks/prod/releases/a.yaml")


def test_a_sha256_repository_is_linked(tmp_path: Path, batches: list[list[str]]) -> None:
    root = tmp_path / "sha256"
    write(root, "rail.yaml", CONFIG)
    write(root, "releases/a.yaml", "name: a\n")
    git(root, "init", "-q", "--object-format=sha256", "-b", "main")
    git(root, "add", "-A")
    write(root, "releases/a.yaml", "name: a\nunstaged: true\n")
    assert len(_blob(root, "rail.yaml")) == 64

    files = _same_as_before(root)

    assert files["releases/a.yaml"] == b"name: a\n"
    assert _reads(root, batches) == _blobs(root, "releases/a.yaml")


def test_rail_check_staged_is_byte_identical_either_way(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole pre-commit check, linked or every blob from git: the same report and exit
    code, with a staged shrink, a different unstaged edit of that file, a stale unstaged
    render and a file deleted in the working tree only."""
    stack = shipped_clone(tmp_path, tmp_path_factory)
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)
    git(stack, "add", "-A")
    edit(stack, PG, "size: 8Gi", "size: 30Gi")
    next((stack / "rendered").rglob("*.yaml")).unlink()
    (stack / VALKEY).unlink()
    monkeypatch.setenv("RAIL_NO_CACHE", "1")  # both runs read the side, none restores it
    taken: list[object] = []
    original = engine.index_root

    def counted(*args: Any, **kwargs: Any) -> Any:
        taken.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "index_root", counted)
    linked = rail(stack, "check", "--staged", "--format", "json")
    monkeypatch.setattr(engine, "plain_entries", lambda repository: None)
    from_git = rail(stack, "check", "--staged", "--format", "json")

    assert len(taken) == 1
    assert (linked.exit_code, linked.stdout) == (from_git.exit_code, from_git.stdout)
    assert linked.exit_code == 1 and "persistence-shrink" in linked.stdout


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read and hashed (their full paths)."""
    seen: list[str] = []
    original = indexed._blob_bytes

    def counted(path: str | Path, blob: str) -> bytes | None:
        seen.append(str(path))
        return original(path, blob)

    monkeypatch.setattr(indexed, "_blob_bytes", counted)
    return seen


def _refreshed(repo: Path) -> None:
    """As ``git commit`` leaves the index before its pre-commit hook: stat data refreshed."""
    git(repo, "update-index", "-q", "--refresh", check=False)


def test_files_git_vouches_for_are_linked_unread(repo: Path, hashed: list[str], batches: list[list[str]]) -> None:
    """After a refresh (as ``git commit`` does before the hook) of the files linked, only the
    one git's stat data cannot vouch for is hashed, and rail.yaml (read to find the output
    folder); the output folder is not read at all (compared by blob id, read when asked)."""
    write(repo, STAGED, "name: a\nstaged: true\n")
    git(repo, "add", "-A")
    write(repo, STAGED, "name: a\nunstaged: true\n")
    _refreshed(repo)
    hashed.clear()

    files = _same_as_before(repo)

    assert files[STAGED] == b"name: a\nstaged: true\n"
    assert _new_hashed(repo, hashed) == sorted(["rail.yaml", STAGED])


def _new_hashed(repo: Path, hashed: list[str]) -> list[str]:
    """The files one linked side hashes, the index refreshed first (linking changes ctimes)."""
    _refreshed(repo)
    hashed.clear()
    repository = Repository.of(repo)
    entries = indexed.plain_entries(repository)
    assert entries is not None
    with indexed.index_root(repository, entries, repo, "head") as (folder, _):
        assert (folder / "releases/b.yaml").stat().st_ino == (repo / "releases/b.yaml").stat().st_ino
    return sorted(_within(path, folder, repo) for path in hashed)


def _within(path: str, *folders: Path) -> str:
    """``path`` relative to the first of ``folders`` holding it."""
    return next(Path(path).relative_to(folder).as_posix() for folder in folders if Path(path).is_relative_to(folder))


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({}, id="default"),
        pytest.param({"core.trustctime": "false", "core.checkStat": "minimal"}, id="minimal"),
        pytest.param({"core.fileMode": "false", "core.trustctime": "false"}, id="filemode"),
    ],
)
def test_a_racy_same_size_rewrite_is_caught(repo: Path, hashed: list[str], config: dict[str, str]) -> None:
    """A file rewritten with the same size in the second ``git add`` wrote the index (its
    mtime as staged: git's stat data is the same) is not taken on git's word: the index
    is no older than the file, so git compares the bytes (racy git) and lists it."""
    for key, value in config.items():
        git(repo, "config", key, value)
    path = repo / STAGED
    when = time_ns_ahead(path)
    git(repo, "add", STAGED)
    path.write_bytes(b"name: A\n")  # same size
    os.utime(path, ns=(when, when))
    assert git(repo, "diff-files", "--name-only") == f"{STAGED}\n"  # git's racy check saw it

    files = _same_as_before(repo)

    assert files[STAGED] == b"name: a\n"
    assert STAGED in _new_hashed(repo, hashed)


def time_ns_ahead(path: Path) -> int:
    """Give ``path`` an mtime a little ahead of now (the same second as an index written
    now, at any clock resolution) and return it."""
    when = (int(path.stat().st_mtime) + 2) * 1_000_000_000
    os.utime(path, ns=(when, when))
    return when


def test_a_file_replaced_after_git_looked_is_hashed(
    repo: Path, monkeypatch: pytest.MonkeyPatch, batches: list[list[str]]
) -> None:
    """Git vouches for a path, not for the file linked a moment later: a file renamed over
    it in between (same size and mtime) is a new inode, so it is hashed and read from git."""
    _refreshed(repo)
    original = Repository.stat_dirty

    def then_replaced(self: Repository) -> set[str]:
        dirty = original(self)
        for relative, text in ((STAGED, b"name: A\n"), ("out/flux/a.yaml", b"kind: HelmRelease # A\n")):
            path = repo / relative
            before = path.stat()
            (repo / "new").write_bytes(text)
            os.utime(repo / "new", ns=(before.st_atime_ns, before.st_mtime_ns))
            os.replace(repo / "new", path)
        return dirty

    monkeypatch.setattr(Repository, "stat_dirty", then_replaced)

    files, output = _new(repo)

    assert files[STAGED] == b"name: a\n"
    assert output is not None and output["out/flux/a.yaml"] == b"kind: HelmRelease # a\n"
    assert sorted(name for names in batches for name in names) == _blobs(repo, STAGED, "out/flux/a.yaml")


def test_a_file_written_in_place_after_git_looked_is_hashed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _refreshed(repo)
    original = Repository.stat_dirty

    def then_written(self: Repository) -> set[str]:
        dirty = original(self)
        for relative in (STAGED, "out/flux/b.yaml"):
            with open(repo / relative, "ab") as file:
                file.write(b"late: true\n")
        return dirty

    monkeypatch.setattr(Repository, "stat_dirty", then_written)

    files, output = _new(repo)

    assert files[STAGED] == b"name: a\n"
    assert output is not None and output["out/flux/b.yaml"] == b"kind: HelmRelease # b\n"


def test_a_skip_worktree_edit_is_caught_by_its_bytes(repo: Path, batches: list[list[str]]) -> None:
    """Git never stats a skip-worktree entry (git diff-files lists nothing): the hash does."""
    git(repo, "update-index", "--skip-worktree", STAGED, "out/flux/c.yaml")
    write(repo, STAGED, "name: a\nhidden: true\n")
    write(repo, "out/flux/c.yaml", "kind: Hidden\n")
    _refreshed(repo)
    assert git(repo, "diff-files", "--name-only") == ""

    files, output = _new(repo)

    assert files[STAGED] == b"name: a\n"
    assert output is not None and output["out/flux/c.yaml"] == b"kind: HelmRelease # c\n"


def test_an_assume_unchanged_edit_after_a_refresh_is_caught_by_its_bytes(repo: Path) -> None:
    git(repo, "update-index", "--assume-unchanged", "releases/d.yaml", "out/flux/d.yaml")
    write(repo, "releases/d.yaml", "name: hidden\n")
    write(repo, "out/flux/d.yaml", "kind: Hidden\n")
    _refreshed(repo)
    assert git(repo, "diff-files", "--name-only") == ""

    files, output = _new(repo)

    assert files["releases/d.yaml"] == b"name: d\n"
    assert output is not None and output["out/flux/d.yaml"] == b"kind: HelmRelease # d\n"


def test_the_index_is_never_written(repo: Path) -> None:
    """Stat-dirty entries (every file touched) are left as they are: a pre-commit hook must
    not write the index that ``git commit`` is about to commit."""
    for path in sorted(repo.rglob("*.yaml")):
        if ".git" not in path.parts:
            os.utime(path, ns=(0, 10**18))
    index = repo / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns, index.stat().st_ino)

    _same_as_before(repo)

    assert (index.read_bytes(), index.stat().st_mtime_ns, index.stat().st_ino) == before
