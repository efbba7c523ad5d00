"""renderer.load.files: paths checked within a load (each folder resolved once, renderer.realpath)
are judged as ``Path.resolve`` judges them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from renderer.load.files import escaping_link, inside
from renderer.realpath import sharing_resolves


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A stack with a plain file, a linked file, a linked folder, a link out and a loop."""
    root = tmp_path / "stack"
    (root / "values" / "deep").mkdir(parents=True)
    (root / "values" / "a.yaml").write_text("a: 1\n")
    (root / "values" / "deep" / "b.yaml").write_text("b: 1\n")
    (tmp_path / "outside.yaml").write_text("x: 1\n")
    os.symlink("a.yaml", root / "values" / "linked.yaml")
    os.symlink("values/deep", root / "folder-link")
    os.symlink("../../outside.yaml", root / "values" / "out.yaml")
    os.symlink("loop-b", root / "loop-a")
    os.symlink("loop-a", root / "loop-b")
    return root


RELATIVES = [
    "values/a.yaml",
    "values/linked.yaml",
    "folder-link/b.yaml",
    "values/deep/../a.yaml",
    "values/./a.yaml",
    "values/missing.yaml",
    "missing-folder/x.yaml",
    "values/out.yaml",
    "values/..",
    "folder-link/..",
    "values",
]


@pytest.mark.parametrize("relative", RELATIVES)
def test_inside_is_the_same_with_and_without_the_memo(tree: Path, relative: str) -> None:
    plain = inside(tree, relative)
    with sharing_resolves():
        remembered = inside(tree, relative)
    assert remembered == plain


def test_a_link_out_is_refused_with_the_memo(tree: Path) -> None:
    with sharing_resolves():
        assert inside(tree, "values/a.yaml") == (tree / "values" / "a.yaml").resolve()
        assert inside(tree, "values/out.yaml") is None
        assert escaping_link(tree, tree / "values" / "out.yaml") == "../../outside.yaml"
        assert escaping_link(tree, tree / "values" / "linked.yaml") is None


def test_a_link_loop_is_what_resolve_makes_of_it(tree: Path) -> None:
    def outcome() -> object:
        try:
            return inside(tree, "loop-a/x.yaml")
        except RuntimeError as error:
            return type(error)

    plain = outcome()
    with sharing_resolves():
        assert outcome() == plain


def test_the_memo_ends_with_its_scope(tree: Path) -> None:
    with sharing_resolves():
        before = inside(tree, "folder-link/b.yaml")
    (tree / "folder-link").unlink()
    os.symlink("values", tree / "folder-link")
    (tree / "values" / "b.yaml").write_text("b: 2\n")
    with sharing_resolves():
        after = inside(tree, "folder-link/b.yaml")
    assert before == (tree / "values" / "deep" / "b.yaml").resolve()
    assert after == (tree / "values" / "b.yaml").resolve()


@pytest.mark.parametrize(
    ("path", "folder"),
    [
        ("/tmp/a/x", "/tmp/a"),
        ("/tmp/a", "/tmp/a"),
        ("/tmp/ab/x", "/tmp/a"),  # a sibling whose name starts with the folder's
        ("/tmp", "/tmp/a"),
        ("/tmp/a/b/c", "/"),
        ("/", "/"),
        ("/tmp/a/x", "/tmp/b"),
    ],
)
def test_below_is_relative_to(path: str, folder: str) -> None:
    from renderer.load.files import _below

    try:
        Path(path).relative_to(Path(folder))
        expected = True
    except ValueError:
        expected = False
    assert _below(Path(path), Path(folder)) is expected
