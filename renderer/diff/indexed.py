"""The index's side (``rail check --staged``) linked from the working tree where it holds
the index's bytes; only the other files are read from git (issue 16).

Writing the index out read every blob below the stack folder from git (6,000 at 1,000
releases) and created as many files. In a pre-commit run almost every file is as staged,
so the working tree holds those very bytes: a hard link costs a fraction of a write, as
for the working tree's own side (:func:`.sides.linked`).

Which files hold the index's bytes is decided by the bytes, never by git's stat cache
(``git diff-files``): each file is linked and its bytes, read through the link, hashed
as git hashes a blob. One that hashes to its index entry's id is that blob. Any other
(changed since it was staged, rewritten between the listing and the link, marked
assume-unchanged or skip-worktree, missing, not a regular file) is unlinked and read
from git. What was hashed is what the side holds: the link names the very file read, so
a file replaced afterwards (editors write a new file and rename it) leaves the side as
it was. One caveat, shared with every linked side and with :func:`.sides.materialized`:
a file written in place after it was hashed changes through the link too.

The output folder's files are kept in memory, not written (:func:`.sides.split_output`):
they are read from the working tree and hashed the same way.

The whole side takes the old path (every blob from git) where the index holds more than
plain files or linking cannot help: a symlink (resolved within the side from its link
text, :func:`.git.followed`), a submodule, an unmerged path, and a repository whose
attributes or config convert content (:func:`.clean.converts`: no file would hash the same).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..load import CONFIG_NAME
from .clean import converts
from .git import IndexEntry, Repository, naming_side
from .sides import is_written, kept_in_memory, output_folder, private_folder

_PLAIN = frozenset({"100644", "100755"})  # a regular file; 120000 is a symlink, 160000 a submodule
# Git's object ids by their length: SHA-1 (the default) and SHA-256 repositories.
_HASHES: dict[int, Callable[[bytes], Any]] = {40: hashlib.sha1, 64: hashlib.sha256}
_CHUNK = 1 << 20
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
) -> Iterator[tuple[Path, dict[str, bytes] | None]]:
    """The index's files in a private folder, and its output folder's files in memory
    (None without an output folder), exactly as :func:`.sides.split_output` and
    :func:`.sides.materialized` make them from :meth:`.Repository.tree`. ``label``
    names the side in an error reading git."""
    folder = private_folder(repository.git_dir())
    try:
        yield Path(folder), _filled(Path(folder), repository, entries, worktree, label)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # plain removal: linked files are the working tree's own


def _filled(
    root: Path, repository: Repository, entries: dict[str, IndexEntry], worktree: Path, label: str
) -> dict[str, bytes] | None:
    """Fill ``root`` with the files written out; the output files kept in memory."""
    output = output_folder(_config(repository, entries, worktree, label))
    # As split_output and materialized: a path with ``..`` (git refuses one) is never written.
    written = [path for path in entries if is_written(path, output) and ".." not in path.split("/")]
    kept = [path for path in entries if output is not None and kept_in_memory(path, output)]
    linked, in_memory = _linked(root, worktree, {path: entries[path].blob for path in written}, set(kept))
    for path in kept:
        if path not in in_memory:  # the output folder's (never written) or one not linked
            content = _blob_bytes(os.path.join(worktree, path), entries[path].blob)
            if content is not None:
                in_memory[path] = content
    unlinked = [path for path in written if path not in linked]
    missing = dict.fromkeys([*unlinked, *(path for path in kept if path not in in_memory)])
    with naming_side(label):
        read = repository.read_blobs({entries[path].path: entries[path].blob for path in missing})
    _write(root, {path: read[path] for path in unlinked})
    in_memory.update(read)
    return None if output is None else {path: in_memory[path] for path in kept}


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


def _linked(root: Path, worktree: Path, blobs: dict[str, str], keep: set[str]) -> tuple[set[str], dict[str, bytes]]:
    """Link each file of ``blobs`` (path -> blob id) from the working tree into ``root``
    where it is that blob: the paths linked, and the bytes of those in ``keep``. The others
    are left out of ``root``, to be read from git. Plain strings, not paths: pathlib costs
    more than the links at thousands of files."""
    linked: set[str] = set()
    kept: dict[str, bytes] = {}
    folders: set[str] = set()
    for path, blob in blobs.items():
        source, target = os.path.join(worktree, path), os.path.join(root, path)
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
        content = _blob_bytes(target, blob)  # through the link: the very file the side holds
        if content is None:
            os.unlink(target)
            continue
        linked.add(path)
        if path in keep:
            kept[path] = content
    return linked, kept


def _blob_bytes(path: str | Path, blob: str) -> bytes | None:
    """The bytes of the regular file ``path`` if they are the blob ``blob``, else None.
    Opened without following a last symlink or blocking on a pipe."""
    hashing = _HASHES.get(len(blob))
    if hashing is None:
        return None
    try:
        handle = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        chunks = []
        while chunk := os.read(handle, _CHUNK):
            chunks.append(chunk)
    except OSError:
        return None  # unreadable here: read from git
    finally:
        os.close(handle)
    content = b"".join(chunks)
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
        target.write_bytes(content)
