"""Reading files of a stack, refusing paths that leave it."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from pathlib import Path

from ..errors import InputError, Problem
from ..memo import memo_scope
from ..yamlio import Document, load_document

# A spec or values file larger than this is not a spec: refuse before parsing.
MAX_FILE_BYTES = 5 * 1024 * 1024


def inside(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it stays inside ``root`` (symlinks resolved), else None."""
    if relative.startswith("/") or "\\" in relative:
        return None
    candidate = (root / relative).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    return candidate


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
