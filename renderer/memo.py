"""Memos that live for one scope: ``rail diff`` reads two versions of a stack and
shares what they have in common (parsed files, rendered objects), then forgets it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


@contextmanager
def memo_scope(memo: ContextVar[dict[K, V] | None]) -> Iterator[None]:
    """Inside, ``memo`` holds a fresh, empty memo; after, what it held before."""
    token = memo.set({})
    try:
        yield
    finally:
        memo.reset(token)
