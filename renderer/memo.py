"""Memos that live for one scope: ``rail diff`` reads two versions of a stack and
shares what they have in common (parsed files, rendered objects), then forgets it."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")


# Memos whose scope ended, held to the end of a process that runs once and ends (see
# :func:`hold_ended_memos`); None: freed as their scope ends.
_ENDED: list[object] | None = None


def hold_ended_memos() -> None:
    """From now on, a memo whose scope ends is held, not freed: for a process that runs one
    command and ends without the interpreter's teardown (``rail``'s entry point). Freeing a
    diff's memos (every parse, render and object of both sides) took ~25 ms of a
    1,000-release pre-commit hook, all of it at its end."""
    global _ENDED
    if _ENDED is None:
        _ENDED = []


@contextmanager
def memo_scope(memo: ContextVar[dict[K, V] | None]) -> Iterator[None]:
    """Inside, ``memo`` holds a fresh, empty memo; after, what it held before."""
    token = memo.set({})
    try:
        yield
    finally:
        if _ENDED is not None:
            _ENDED.append(memo.get())
        memo.reset(token)


class cached_property(functools.cached_property[V]):
    """:func:`functools.cached_property` without its lock: worked out on the first read,
    then an attribute of the instance. Python 3.11's takes a lock on every first read (a
    lint reads tens of thousands, ~10 ms of a pre-commit hook at 1,000 releases); 3.12
    dropped it, as it never kept two threads from working the value out twice. rail reads
    them from one thread."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> cached_property[V]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> V: ...
    def __get__(self, instance: object, owner: type[Any] | None = None) -> V | cached_property[V]:
        if instance is None:
            return self
        name = self.attrname
        if name is None:
            raise TypeError("a cached_property is named by the class that holds it")
        value = self.func(instance)
        vars(instance)[name] = value
        return value
