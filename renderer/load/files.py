"""Reading files of a stack, refusing paths that leave it."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from pathlib import Path

from ..errors import InputError, Problem
from ..memo import memo_scope
from ..realpath import real
from ..yamlio import Document, load_document

# A spec or values file larger than this is not a spec: refuse before parsing.
MAX_FILE_BYTES = 5 * 1024 * 1024


def inside(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it stays inside ``root`` (symlinks resolved), else None."""
    if relative.startswith("/") or "\\" in relative:
        return None
    candidate = real(root / relative)  # in sharing_resolves (a load), each folder resolved once
    return candidate if _below(candidate, real(root)) else None


def _below(path: Path, folder: Path) -> bool:
    """``path.relative_to(folder)`` succeeds, for two real (absolute, normal) paths: their
    texts compared, not their parts (a load asks twice per values and secret file)."""
    text, prefix = str(path), str(folder)
    return text == prefix or text.startswith(prefix if prefix.endswith(os.sep) else prefix + os.sep)


# One symlink policy for render, lint and diff: a link that stays inside the stack root
# is followed; one that leaves it is refused (render: an input error; lint and diff: the
# finding symlink-escape), whether or not its target exists. The target is never read.
def escaping_link(root: Path, path: Path) -> str | None:
    """Where the link on the way from ``root`` to ``path`` points, if following it leaves
    ``root`` (the link's own text, as ``readlink`` gives it); else None."""
    real_root = real(root)
    try:
        if _below(real(path), real_root):
            return None
    except (OSError, RuntimeError):  # a link loop: refused as leaving
        pass
    current = path
    while current != root and current != current.parent:
        if current.is_symlink():
            try:
                return os.readlink(current)
            except OSError:
                return "(unreadable link)"
        current = current.parent
    return None


def escape_problem(display: str, target: str) -> Problem:
    """A link out of the repository, named with where it points (never what it holds)."""
    return Problem(
        path=display,
        message=f"symlink to '{target}' leaves the repository: not followed",
        hint="copy the file into the repository, or point the link at a file inside it",
    )


def escaping_links(root: Path, folder: Path) -> list[Problem]:
    """Every link below ``folder`` that leaves ``root``, sorted (links to folders are not walked into)."""
    problems = []
    for current, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            path = Path(current, name)
            if path.is_symlink():
                target = escaping_link(root, path)
                if target is not None:
                    problems.append(escape_problem(path.relative_to(root).as_posix(), target))
    return sorted(problems, key=Problem.sort_key)


# Within a walk (the apply models read a repository's files, then build folders of it):
# each file read once. Files do not change during a run.
_READS: ContextVar[dict[Path, str] | None] = ContextVar("rail_reads", default=None)


def sharing_reads() -> AbstractContextManager[None]:
    """Inside, a file read again (by the same path) is not read from disk twice."""
    if _READS.get() is not None:
        return nullcontext()
    return memo_scope(_READS)


def read_text(path: Path, display: str) -> str:
    memo = _READS.get()
    if memo is None:
        return _read_text(path, display)
    if path not in memo:
        memo[path] = _read_text(path, display)
    return memo[path]


def _read_text(path: Path, display: str) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(Problem(path=display, message=f"file is too large ({size} bytes)"))
        return decode_text(path.read_bytes(), display)
    except FileNotFoundError:
        raise InputError(Problem(path=display, message="file not found")) from None
    except OSError as exc:
        raise InputError(Problem(path=display, message=f"cannot read file: {exc.strerror}")) from None


def decode_text(content: bytes, display: str) -> str:
    """A file's bytes as text (read from disk or from git objects), with the same limits."""
    if len(content) > MAX_FILE_BYTES:
        raise InputError(Problem(path=display, message=f"file is too large ({len(content)} bytes)"))
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(path=display, message=f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8")
        ) from None


def read_yaml(path: Path, display: str) -> Document:
    return load_document(read_text(path, display), display)
