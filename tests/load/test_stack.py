"""The loader's walk for references (renderer.load.stack.marker_strings)."""

from __future__ import annotations

from typing import Any

import pytest

from renderer.load.stack import marker_strings


def _every_string(data: Any, prefix: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """The plain recursive walk, key paths built everywhere: what marker_strings must equal."""
    if isinstance(data, dict):
        return [found for key, value in data.items() for found in _every_string(value, (*prefix, key))]
    if isinstance(data, list):
        return [found for index, item in enumerate(data) for found in _every_string(item, (*prefix, index))]
    return [(prefix, data)] if isinstance(data, str) and "${ref:" in data else []


@pytest.mark.parametrize(
    "data",
    [
        {"a": "${ref:x.y.z}", "b": [{"c": "no"}, {"d": "p ${ref:q.r.s}"}, ["${ref:deep.e.f}"]]},
        {1: {True: "${ref:k.l.m}"}, "n": [[], {}, [{"o": "${ref:p.q.r}"}]]},
        ["${ref:a.b.c}", {"x": None, "y": 3}],
        "${ref:top.level.string}",
        "plain",
        None,
        {},
    ],
)
def test_marker_strings_finds_what_a_full_walk_finds(data: Any) -> None:
    for prefix in ((), ("values",)):
        assert marker_strings(data, prefix) == _every_string(data, prefix)
