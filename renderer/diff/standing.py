"""The linked folders of the index and of the working tree kept between runs (issue 16):
the next run links only what changed.

The index's side is a private folder of hard links into the working tree (:mod:`.indexed`).
Making ~3,100 links and removing them again cost ~0.05 s of a 1,000-release pre-commit
hook, though a commit changes a few files. So, with the cache on, the folder is kept in the
git folder after the run, under a name of its stack folder's (``rail-index-<digest>``), and
the next run takes it over: renamed to a name of its own first, so two runs at once never
share one. Nothing in it is trusted. It is taken over only if it is a private folder of this
user's; every entry the index does not have is removed (a file it no longer holds, a symlink,
a folder where a file is now); a link is kept only if it names the very file git vouches for
this time (lstat'd before git looked, as :mod:`.indexed` links), else it is removed before
anything is linked or written at its path, so nothing is ever written through a link into
the working tree. It is kept with links only: the files a run wrote from git objects are
removed first, so no bytes stay at rest that the working tree and git's store do not hold.
With the cache off the folder is neither kept nor taken over, and ``rail cache clear`` does
not reach it: it may be removed at any time.

The working tree's side (``rail diff`` without ``--head``) is a folder of links too
(:func:`.sides.linked`), kept the same way under a name of its own (``rail-worktree-``):
at 10,000 releases (60,652 files) making and removing the links took 3.4-4.0 s of every
diff, taking the kept folder over 0.6 s; and each link made and removed changes its file's
ctime, so git hashed the whole tree again on the user's next ``git status`` (1.5 s, 0.2 s
without). A link there is kept only if it names the very file the working tree holds at
its path now (the same device and inode: a file saved in place is the same file, one
replaced is another); the folder is kept with links only. A file deleted from the working
tree stays linked there until the next run tidies it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Collection
from pathlib import Path

from .. import cache

PREFIX = "rail-index-"  # the index's folder
WORKTREE_PREFIX = "rail-worktree-"  # the working tree's: a hook and a diff never share one


def standing_folder(git_dir: Path, worktree: str, prefix: str = PREFIX) -> str:
    """Where the folder of the stack folder ``worktree`` is kept between runs."""
    digest = hashlib.sha256(worktree.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.fspath(git_dir / f"{prefix}{digest}")


def take_over(git_dir: Path | None, worktree: str, prefix: str = PREFIX) -> str | None:
    """The folder an earlier run kept, under a name of this run's; None when there is none
    (or it is not a private folder of this user's: then it is removed)."""
    if git_dir is None or not cache.enabled():
        return None
    standing = standing_folder(git_dir, worktree, prefix)
    taken = f"{standing}.{os.getpid()}.{os.urandom(4).hex()}"
    try:
        os.rename(standing, taken)
        info = os.lstat(taken)
    except OSError:
        return None  # none kept, or another run took it first
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077:
        return taken
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(taken, ignore_errors=True)
    else:
        os.unlink(taken)
    return None


def keep(folder: str, git_dir: Path | None, worktree: str, prefix: str = PREFIX) -> bool:
    """Keep ``folder`` for the next run; False when it is not kept (the cache is off, or
    another run kept one first): the caller removes it."""
    if git_dir is None or not cache.enabled():
        return False
    try:
        os.rename(folder, standing_folder(git_dir, worktree, prefix))  # never over a folder that is not empty
    except OSError:
        return False
    return True


def tidy(folder: str, expected: Collection[str]) -> None:
    """Remove every entry of ``folder`` that is not a regular file at one of the paths of
    ``expected`` ("/"-separated, relative) or a real folder on the way to one. Links to
    folders are removed, never followed."""
    on_the_way: set[str] = set()
    for path in expected:
        at = path.rfind("/")
        while at > 0 and path[:at] not in on_the_way:
            on_the_way.add(path[:at])
            at = path.rfind("/", 0, at)
    _tidy(folder, "", expected, on_the_way)


def _tidy(folder: str, relative: str, expected: Collection[str], on_the_way: set[str]) -> None:
    with os.scandir(f"{folder}/{relative}" if relative else folder) as entries:
        found = list(entries)
    for entry in found:
        path = f"{relative}/{entry.name}" if relative else entry.name
        if entry.is_dir(follow_symlinks=False):
            if path in on_the_way:
                _tidy(folder, path, expected, on_the_way)
            else:
                shutil.rmtree(entry.path)  # removes links, never follows one
        elif not (entry.is_file(follow_symlinks=False) and path in expected):
            os.unlink(entry.path)
