"""The index's side (``rail check --staged``) linked from the working tree where it holds
the index's bytes; only the other files are read from git (issue 16).

Writing the index out read every blob below the stack folder from git (6,000 at 1,000
releases) and created as many files. In a pre-commit run almost every file is as staged,
so the working tree holds those very bytes: a hard link costs a fraction of a write, as
for the working tree's own side (:func:`.sides.linked`).

Which files hold the index's bytes git decides first, from the stat data its index keeps
(:meth:`.Repository.stat_dirty`, ``git diff-files``: read only, racy entries handled,
``core.trustctime``/``core.checkStat``/``core.fileMode`` as configured): a file it vouches
for is linked without being read (at 1,000 releases, 3,100 files: opening, reading and
hashing each cost ~0.07 s of the side's ~0.3 s CPU). Git vouches for a path, not for the
file a link takes afterwards, so each file is lstat'd before git looks and the link must
name that very inode, unchanged in size and mtime; else it is hashed.

Every file git does not vouch for is decided by its bytes: linked, read through the link
and hashed as git hashes a blob. One that hashes to its index entry's id is that blob. Any
other (changed since it was staged, rewritten between the listing and the link, marked
assume-unchanged or skip-worktree, intent-to-add, missing, not a regular file) is unlinked
and read from git. What the side holds is what was checked: the link names the very file
git or the hash vouched for, so a file replaced afterwards (editors write a new file and
rename it) leaves the side as it was. One caveat, shared with every linked side and with
:func:`.sides.materialized`: a file written in place after it was checked changes through
the link too.

Linking changes each file's ctime, so git's stat data no longer vouches for it until the
index is refreshed (``git commit`` refreshes it before running the pre-commit hook; so do
``git add`` and ``git status``): a second run without one hashes every file, as before.
With the cache on, the folder is kept for the next run (:mod:`.standing`), which keeps the
links git still vouches for and links only the rest.

The output folder's files are not written (:func:`.sides.split_output`), nor read: the
drift check compares a rendered file with one by its blob id (the index has it), so a
file is read only when asked for its bytes (a file rail did not write, a kustomization
rail lists its files in), from the working tree where it holds that blob, else from git
(:class:`IndexOutput`). At 10,000 releases that is 30,000 files and ~90 MB not read.

The whole side takes the old path (every blob from git) where the index holds more than
plain files or linking cannot help: a symlink (resolved within the side from its link
text, :func:`.git.followed`), a submodule, an unmerged path, and a repository whose
attributes or config convert content (:func:`.clean.converts`: no file would hash the same).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..load import CONFIG_NAME
from ..render.output import HashedFiles
from .clean import converts
from .git import IndexEntry, Repository, naming_side
from .sides import is_written, kept_in_memory, output_folder, private_folder
from .standing import keep, take_over, tidy

_PLAIN = frozenset({"100644", "100755"})  # a regular file; 120000 is a symlink, 160000 a submodule
# Git's object ids by their length: SHA-1 (the default) and SHA-256 repositories.
_HASHES: dict[int, Callable[[bytes], Any]] = {40: hashlib.sha1, 64: hashlib.sha256}
# The empty blob: an intent-to-add entry's, whatever the file holds. Never taken on git's word.
_EMPTY = frozenset(hashing(b"blob 0\0").hexdigest() for hashing in _HASHES.values())
_CHUNK = 1 << 20
_VOUCHED_TAG = "H"  # git ls-files -v: an entry git checks by its stat data
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | os.O_CLOEXEC


def plain_entries(repository: Repository) -> dict[str, IndexEntry] | None:
    """The index's files below the stack folder by path relative to it, when every entry
    is a plain staged file and git converts no content; None when the side must be read
    the old way."""
    if converts(repository):
        return None
    entries = repository.index_entries()
    if any(entry.stage != 0 or entry.mode not in _PLAIN for entry in entries):
        return None
    return {repository.relative(entry.path): entry for entry in entries}


@contextmanager
def index_root(
    repository: Repository, entries: dict[str, IndexEntry], worktree: Path, label: str
) -> Iterator[tuple[Path, IndexOutput | None]]:
    """The index's files in a private folder, and its output folder's files (None without
    an output folder), read when asked, exactly as :func:`.sides.split_output` and
    :func:`.sides.materialized` make them from :meth:`.Repository.tree`. ``label``
    names the side in an error reading git."""
    git_dir, top = repository.git_dir(), os.fspath(worktree)
    taken = take_over(git_dir, top)  # the folder an earlier run kept (the cache on), see .standing
    folder = taken or private_folder(git_dir)
    kept = False
    try:
        output, from_git = _filled(Path(folder), repository, entries, worktree, label, taken is not None)
        yield Path(folder), output
        # Kept with links only: the files written from git objects (a partly staged file,
        # say) are not left at rest outside git's own store.
        for path in from_git:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{folder}/{path}")
        kept = keep(folder, git_dir, top)
    finally:
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)  # plain removal: linked files are the working tree's own


def _filled(
    root: Path, repository: Repository, entries: dict[str, IndexEntry], worktree: Path, label: str, reused: bool
) -> tuple[IndexOutput | None, list[str]]:
    """Fill ``root`` with the files written out; the output files, read when asked, and
    the paths written from git objects (the others are links). ``reused``: ``root`` is a
    folder an earlier run kept (:mod:`.standing`)."""
    output = output_folder(_config(repository, entries, worktree, label))
    # As split_output and materialized: a path with ``..`` (git refuses one) is never written.
    written = [path for path in entries if is_written(path, output) and ".." not in path.split("/")]
    kept = [path for path in entries if output is not None and kept_in_memory(path, output)]
    # Plain strings joined by "/", not paths: pathlib (and os.path.join of a Path) costs
    # more than the links at thousands of files. Git's paths are relative, "/"-separated.
    top, folder = os.fspath(worktree), os.fspath(root)
    vouched = _vouched(repository, entries, top, written, label)
    blobs = {path: entries[path].blob for path in written}
    if reused:
        tidy(folder, blobs)
    linked = _linked(folder, top, blobs, vouched, reused)
    unlinked = [path for path in written if path not in linked]
    with naming_side(label):
        read = repository.read_blobs({entries[path].path: entries[path].blob for path in unlinked})
    _write(root, read)
    files = None if output is None else IndexOutput(repository, {path: entries[path] for path in kept}, top, label)
    return files, unlinked


class IndexOutput(HashedFiles):
    """The index's output files (and docs) by path relative to the stack folder, each read
    when its bytes are asked for (and not kept: at 10,000 releases the docs alone are
    ~20 MB): from the working tree where it holds the entry's blob, else from git.
    Whether a file holds given bytes is told by the blob id alone."""

    def __init__(self, repository: Repository, entries: dict[str, IndexEntry], worktree: str, label: str) -> None:
        self._repository, self._entries, self._worktree, self._label = repository, entries, worktree, label

    def __getitem__(self, path: str) -> bytes:
        entry = self._entries[path]
        content = _blob_bytes(f"{self._worktree}/{path}", entry.blob)
        if content is None:
            with naming_side(self._label):
                content = self._repository.read_blobs({entry.path: entry.blob})[path]
        return content

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def holds(self, relative: str, content: bytes) -> bool:
        entry = self._entries.get(relative)
        if entry is None:
            return False
        hashing = _HASHES.get(len(entry.blob))
        if hashing is None:  # an object id of a kind this rail does not know: compare the bytes
            return bool(self[relative] == content)
        digest = hashing(b"blob %d\0" % len(content))
        digest.update(content)
        return bool(digest.hexdigest() == entry.blob)


def _config(repository: Repository, entries: dict[str, IndexEntry], worktree: Path, label: str) -> bytes | None:
    """The index's ``rail.yaml`` (it names the output folder), or None if it has none."""
    entry = entries.get(CONFIG_NAME)
    if entry is None:
        return None
    content = _blob_bytes(worktree / CONFIG_NAME, entry.blob)
    if content is None:
        with naming_side(label):
            content = repository.read_blobs({entry.path: entry.blob})[CONFIG_NAME]
    return content


def _vouched(
    repository: Repository, entries: dict[str, IndexEntry], worktree: str, paths: Iterable[str], label: str
) -> dict[str, os.stat_result]:
    """The files of ``paths`` git's stat data vouches for as their entries' bytes, by path,
    each with its lstat taken before git looked: a link must name that inode, unchanged.
    Not asked of git: an entry it does not check (assume-unchanged, skip-worktree), an
    intent-to-add one (the empty blob), a file that is not a regular one."""
    before: dict[str, os.stat_result] = {}
    for path in paths:
        entry = entries[path]
        if entry.tag != _VOUCHED_TAG or entry.blob in _EMPTY:
            continue
        try:
            info = os.lstat(f"{worktree}/{path}")
        except OSError:
            continue  # missing: read from git
        if stat.S_ISREG(info.st_mode):
            before[path] = info
    if not before:
        return {}
    with naming_side(label):
        dirty = repository.stat_dirty()
    return {path: info for path, info in before.items() if entries[path].path not in dirty}


def _same_inode(info: os.stat_result, before: os.stat_result) -> bool:
    """``info`` is the regular file ``before`` was, not written since (the ctime is not
    compared: linking the file changes it)."""
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_ino == before.st_ino
        and info.st_dev == before.st_dev
        and info.st_size == before.st_size
        and info.st_mtime_ns == before.st_mtime_ns
    )


def _linked(
    root: str, worktree: str, blobs: dict[str, str], vouched: dict[str, os.stat_result], reused: bool
) -> set[str]:
    """Link each file of ``blobs`` (path -> blob id) from the working tree into ``root``
    where it is that blob (``vouched`` by git, else by its hash): the paths linked. The
    others are left out of ``root``, to be read from git. ``reused``: ``root`` is a kept
    folder (:mod:`.standing`), tidied: a link it holds is kept where git vouches for it."""
    linked: set[str] = set()
    folders: set[str] = set()
    for path, blob in blobs.items():
        source, target = f"{worktree}/{path}", f"{root}/{path}"
        if reused and _kept_link(target, vouched.get(path)):
            linked.add(path)
            continue
        folder = os.path.dirname(target)
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        try:
            os.link(source, target, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            continue  # deleted in the working tree (or a folder of it is a file now)
        except OSError:
            if not _regular(source):
                continue  # a folder in the working tree
            break  # another file system, or links not allowed: the rest from git
        before = vouched.get(path)
        if before is not None and _links(target, before):
            linked.add(path)  # git vouched for it: not read at all
            continue
        if _blob_bytes(target, blob) is None:  # through the link: the very file the side holds
            os.unlink(target)
            continue
        linked.add(path)
    return linked


def _kept_link(target: str, before: os.stat_result | None) -> bool:
    """A kept folder's entry at ``target`` is the file git vouched for (lstat'd as
    ``before``, None: not vouched); any other is removed, to be linked or read anew."""
    try:
        info = os.lstat(target)
    except OSError:
        return False
    if before is not None and _same_inode(info, before):
        return True
    os.unlink(target)
    return False


def _links(target: str, before: os.stat_result) -> bool:
    """The link ``target`` names the file git vouched for, lstat'd as ``before``."""
    try:
        return _same_inode(os.lstat(target), before)
    except OSError:
        return False


def regular_bytes(path: str | Path, at_most: int | None = None) -> bytes | None:
    """The bytes of the regular file ``path``, opened without following a last symlink or
    blocking on a pipe; None for anything else, a file that cannot be read, or one larger
    than ``at_most``."""
    try:
        handle = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        size = os.fstat(handle)
        if not stat.S_ISREG(size.st_mode) or (at_most is not None and size.st_size > at_most):
            return None
        # The whole file and one byte more in one read call, not two: a short read is
        # its end; a file grown since is read on to its end (or past ``at_most``).
        chunks = [os.read(handle, size.st_size + 1)]
        if len(chunks[0]) > size.st_size:
            while chunk := os.read(handle, _CHUNK):
                chunks.append(chunk)
                if at_most is not None and sum(map(len, chunks)) > at_most:
                    return None
    except OSError:
        return None
    finally:
        os.close(handle)
    return b"".join(chunks)


def _blob_bytes(path: str | Path, blob: str) -> bytes | None:
    """The bytes of the regular file ``path`` if they are the blob ``blob``, else None
    (anything else, or unreadable here: read from git)."""
    hashing = _HASHES.get(len(blob))
    if hashing is None:
        return None
    content = regular_bytes(path)
    if content is None:
        return None
    digest = hashing(b"blob %d\0" % len(content))
    digest.update(content)
    return content if digest.hexdigest() == blob else None


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _write(root: Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        # A new file, never one already there: in a kept folder (.standing) that may be a
        # link into the working tree, which writing would change.
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        target.write_bytes(content)
