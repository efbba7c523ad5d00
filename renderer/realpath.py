"""Real paths, each folder resolved once per walk.

The apply model resolves every path it reads (a link out of the repository is
refused), and ``Path.resolve`` checks each component of the path with a system call:
a repository of 1,000 apps spends most of its build time there, resolving the same
parent folders again and again. Inside :func:`sharing_resolves` a path's real form
is its parent's (remembered) joined with its own name, with one check of that name.
Outside, :func:`real` is ``Path.resolve``.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from pathlib import Path

from .memo import memo_scope

_RESOLVED: ContextVar[dict[Path, Path] | None] = ContextVar("rail_resolved", default=None)


def sharing_resolves() -> AbstractContextManager[None]:
    """Inside, each folder is resolved once (the files do not change during a walk);
    inside another such scope, that one's memo is shared."""
    if _RESOLVED.get() is not None:
        return nullcontext()
    return memo_scope(_RESOLVED)


def real(path: Path) -> Path:
    """``path.resolve()``: links followed, ``..`` taken after them, as the system does."""
    memo = _RESOLVED.get()
    if memo is None or not path.is_absolute():
        return path.resolve()
    return _real(path, memo)


def _real(path: Path, memo: dict[Path, Path]) -> Path:
    found = memo.get(path)
    if found is not None:
        return found
    parent = path.parent
    if parent == path:  # the root
        result = path
    elif path.name == "..":
        result = _real(parent, memo).parent
    else:
        joined = _real(parent, memo) / path.name
        # Only a link needs the full resolution (its target may hold links and ..).
        result = joined.resolve() if os.path.islink(joined) else joined
    memo[path] = result
    return result
