"""Reading files of a stack, refusing paths that leave it."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Problem
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


def read_text(path: Path, display: str) -> str:
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
