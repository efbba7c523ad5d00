"""realpath.real inside a sharing scope equals Path.resolve, links and .. included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from renderer.realpath import real, sharing_resolves


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "repo" / "apps" / "base").mkdir(parents=True)
    (tmp_path / "repo" / "apps" / "base" / "app.yaml").write_text("a: 1\n")
    (tmp_path / "outside" / "deep").mkdir(parents=True)
    os.symlink(tmp_path / "outside" / "deep", tmp_path / "repo" / "link")
    os.symlink("apps/base", tmp_path / "repo" / "relative")
    os.symlink("../repo/apps", tmp_path / "outside" / "back")
    return tmp_path


CASES = [
    "repo/apps/base/app.yaml",
    "repo/apps/base/../base/app.yaml",
    "repo/link",
    "repo/link/..",  # .. after a link leaves from the link's target, not from repo/
    "repo/link/../deep/../back/base",
    "repo/relative/app.yaml",
    "repo/missing/../apps",
    "repo/apps/nothing-here.yaml",
]


@pytest.mark.parametrize("relative", CASES)
def test_real_equals_resolve(tree: Path, relative: str) -> None:
    path = tree / relative
    with sharing_resolves():
        assert real(path) == path.resolve()
        assert real(path) == path.resolve()  # and again, from the memo


def test_outside_a_scope_it_is_resolve(tree: Path) -> None:
    assert real(tree / "repo" / "link" / "..") == (tree / "outside")
