"""Equality of parsed data as a parse must give it back: the same values, of the same
types all the way down (1 is not True, nor 1.0), mappings in the same key order."""

from __future__ import annotations

from typing import Any


def identical(one: Any, other: Any) -> bool:
    if type(one) is not type(other):
        return False
    if isinstance(one, dict):
        return list(one) == list(other) and all(identical(one[key], other[key]) for key in one)
    if isinstance(one, list):
        return len(one) == len(other) and all(identical(a, b) for a, b in zip(one, other, strict=True))
    return bool(one == other)
