"""A memo scope is fresh inside and gone after, even when the scope fails."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import pytest

from renderer import memo
from renderer.memo import cached_property, memo_scope

MEMO: ContextVar[dict[str, int] | None] = ContextVar("test_memo", default=None)


def test_fresh_inside_and_restored_after_an_error() -> None:
    with memo_scope(MEMO):
        outer = MEMO.get()
        assert outer == {}
        outer["a"] = 1
        with pytest.raises(RuntimeError), memo_scope(MEMO):
            assert MEMO.get() == {}
            raise RuntimeError
        assert MEMO.get() is outer
    assert MEMO.get() is None


class _Counted:
    def __init__(self) -> None:
        self.calls = 0

    @cached_property
    def value(self) -> int:
        self.calls += 1
        return self.calls * 10


def test_cached_property_works_out_once_then_is_an_attribute() -> None:
    counted = _Counted()
    assert (counted.value, counted.value) == (10, 10)
    assert counted.calls == 1
    assert vars(counted)["value"] == 10  # read from the instance from now on, not through the descriptor
    del counted.value  # as functools': deleting it makes the next read work it out again
    assert counted.value == 20


def test_cached_property_on_the_class_is_the_descriptor() -> None:
    assert isinstance(_Counted.value, cached_property)


def test_cached_property_on_a_frozen_dataclass() -> None:
    @dataclass(frozen=True)
    class Frozen:
        number: int

        @cached_property
        def double(self) -> int:
            return self.number * 2

    frozen = Frozen(3)
    assert frozen.double == 6
    assert frozen == Frozen(3)  # equality and hashing ignore the cached value
    assert hash(frozen) == hash(Frozen(3))


def test_ended_memos_are_held_once_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "_ENDED", None)
    with memo_scope(MEMO):
        freed = MEMO.get()
    assert memo._ENDED is None and freed is not None  # by default a memo is freed as its scope ends
    memo.hold_ended_memos()
    with memo_scope(MEMO):
        held = MEMO.get()
        assert held is not None
        held["a"] = 1
    assert MEMO.get() is None
    assert memo._ENDED is not None and any(ended is held for ended in memo._ENDED)
    memo.hold_ended_memos()  # asked again: the same list, nothing lost
    assert any(ended is held for ended in memo._ENDED)
