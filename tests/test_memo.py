"""A memo scope is fresh inside and gone after, even when the scope fails."""

from __future__ import annotations

from contextvars import ContextVar

import pytest

from renderer.memo import memo_scope

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
