"""The loader's walk for references (renderer.load.stack.marker_strings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderer.load import stack
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


def test_inside_a_scope_the_same_values_are_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[int] = []
    real = stack._walk

    def counted(data: Any, path: list[Any], found: list[Any]) -> None:
        walks.append(id(data))
        real(data, path, found)

    monkeypatch.setattr(stack, "_walk", counted)
    values = {"a": {"url": "${ref:db.postgres.host}"}}
    other = {"a": {"url": "${ref:db.postgres.host}"}}  # equal, not the same: walked on its own
    with stack.sharing_marks():
        first = marker_strings(values, ("values",))
        with stack.sharing_marks():  # a nested scope shares the outer one's walks
            assert marker_strings(values, ("values",)) is first
        assert marker_strings(values) == [(("a", "url"), "${ref:db.postgres.host}")]  # another prefix
        assert marker_strings(other, ("values",)) == first
    assert walks.count(id(values)) == 2 and walks.count(id(other)) == 1
    walks.clear()
    assert marker_strings(values, ("values",)) == first and marker_strings(values, ("values",)) == first
    assert walks.count(id(values)) == 2  # outside a scope: walked each time


def _rglob_specs(root: Path, folder: Path) -> list[tuple[str, bool]]:
    """What the spec walk found when it was ``rglob``: the reference it must agree with."""
    depth = len(folder.parts)
    found = [
        (path.relative_to(root).as_posix(), path.is_symlink())
        for path in folder.rglob("*")
        if path.suffix in (".yaml", ".yml")
        and not any(part.startswith(".") for part in path.parts[depth:])
        and path.is_file()
    ]
    return sorted(found)


def test_the_spec_walk_finds_what_rglob_found(tmp_path: Path) -> None:
    root = tmp_path / "stack"
    releases = root / "releases"
    for relative in (
        "s3/valkey.yaml",
        "s3/postgresql-ha.yml",
        "s3/notes.txt",
        "s3/deep/er/still.yaml",
        "s5/.hidden.yaml",
        "s5/.cache/inside.yaml",
        "s5/gitea.yaml",
        "s5/folder.yaml/inner.yaml",
        "top.yaml",
    ):
        path = releases / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kind: x\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "linked.yaml").write_text("kind: x\n")
    (releases / "s5" / "linked-folder").symlink_to(outside, target_is_directory=True)  # never walked into
    (releases / "s5" / "linked.yaml").symlink_to(outside / "linked.yaml")  # a linked file: found, as a link
    (releases / "s5" / "broken.yaml").symlink_to(tmp_path / "missing.yaml")  # no file: not found
    found = stack._spec_files(root, "releases", required=True)
    assert [(display, linked) for display, _, linked in found] == _rglob_specs(root, releases)
    assert [display for display, _, _ in found] == [
        "releases/s3/deep/er/still.yaml",
        "releases/s3/postgresql-ha.yml",
        "releases/s3/valkey.yaml",
        "releases/s5/folder.yaml/inner.yaml",
        "releases/s5/gitea.yaml",
        "releases/s5/linked.yaml",
        "releases/top.yaml",
    ]
    assert all(Path(path) == root / display for display, path, _ in found)
    assert [display for display, _, _ in stack._spec_files(releases, ".", required=True)][:1] == [
        "s3/deep/er/still.yaml"
    ]
