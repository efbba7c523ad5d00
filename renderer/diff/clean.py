"""A working tree git calls clean is its index's tree, byte for byte (issue 16).

``rail lint`` and ``rail check`` read the working tree, which git names by no tree id.
But when every file below the stack folder is as the index has it (no modified file,
none untracked, none ignored), the folder holds exactly the tree ``git write-tree``
names, and a result kept by that id is exact. That is a CI checkout run again, a
``rail check`` after the pre-commit hook, an editor's lint on save of nothing new.

Only where git's idea of clean means the same bytes: a repository whose attributes or
config convert content between the index and the working tree (``filter``, ``eol``,
``text``, ``crlf``, ``ident``, ``working-tree-encoding``; ``core.autocrlf``) is never
called clean, since a smudged file (git-crypt, LFS, CRLF) is clean to git yet not the
blob's bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .git import INDEX, Repository

_CONVERTING = (b"filter", b"eol", b"text", b"crlf", b"ident", b"working-tree-encoding")


def clean_tree(stack_root: Path) -> tuple[Repository, str] | None:
    """The repository and the index's tree id of the stack folder when the working tree
    below it is exactly that tree; None otherwise (or outside a git repository)."""
    try:
        repository = Repository.of(stack_root)
    except InputError:
        return None
    if converts(repository) or not _as_indexed(repository):
        return None
    from .cached import tree_id

    tree = tree_id(repository, INDEX)
    return None if tree is None else (repository, tree)


def _as_indexed(repository: Repository) -> bool:
    """Whether no file below the stack folder differs from the index, and none is untracked
    or ignored (``git status`` checks content where the stat data cannot tell).

    Without trusting ctime (``core.trustctime=false``, for this question only): rail itself
    changes every file's ctime, by linking the working tree into a private folder to read
    it (:func:`.sides.linked`) and unlinking it after. Trusted, ctime would make git read
    and hash every file below the stack folder on the next run (at 10,000 releases, 60,000
    files: ~2-4 s, against ~0.3 s of stat). What a changed file changes, git still sees:
    its size, mtime and inode; and a file changed in the second the index was written is
    compared by its bytes (git's "racy" check). Only a file rewritten in place at its old
    size with its old mtime put back is called clean."""
    done = _git(
        repository,
        "-c",
        "core.trustctime=false",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--ignored=matching",
        "--no-renames",
        "--",
        repository.prefix or ".",
    )
    if done is None:
        return False
    entries = [entry for entry in done.split(b"\0") if entry]
    # "XY path": Y is the working tree against the index; ?? untracked, !! ignored.
    return all(entry[1:2] == b" " and entry[:2] not in (b"??", b"!!") for entry in entries)


# What :func:`converts` asks git (to ask it ahead).
CONVERTS_ASKS = (
    ("config", "--get", "core.autocrlf"),
    ("ls-files", "-z", "--", ":(glob,top)**/.gitattributes"),
    ("config", "--path", "--get", "core.attributesFile"),
)


def converts(repository: Repository) -> bool:
    """Whether git may change bytes between the index and the working tree here."""
    autocrlf = _git(repository, *CONVERTS_ASKS[0])
    if autocrlf is not None and autocrlf.strip().lower() not in (b"", b"false"):
        return True
    listed = _git(repository, *CONVERTS_ASKS[1])
    sources = [repository.top / path.decode() for path in (listed or b"").split(b"\0") if path]
    git_dir = repository.git_dir()
    if git_dir is not None:
        sources.append(git_dir / "info" / "attributes")
    configured = _git(repository, *CONVERTS_ASKS[2])
    if configured and configured.strip():
        sources.append(Path(configured.strip().decode()))
    else:  # git's default: $XDG_CONFIG_HOME/git/attributes
        sources.append(Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "git" / "attributes")
    for source in sources:
        try:
            text = source.read_bytes()
        except FileNotFoundError:
            continue
        except OSError:
            return True  # unreadable: assume the worst
        if any(word in text for word in _CONVERTING):
            return True
    return False


def _git(repository: Repository, *args: str) -> bytes | None:
    done = repository.run(*args)
    return done.stdout if done.returncode == 0 else None
