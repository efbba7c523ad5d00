"""The compiled-template cache and ``rail diff``: each side renders from a temporary
folder, and nothing is written that no later run reads; the folder stays under its cap."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gitstack import build_stack, clone, commit, edit, rail_process, template

from renderer.render import bytecode

PG = "releases/s3/postgresql-ha.yaml"


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped stack with templates of its own: rail's, each with a comment in front
    (the same output), so they are not the ones rail was built with (renderer/render/compiled.py)
    and are compiled, and cached, at run time."""
    repo = clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")
    for path in sorted((repo / "templates").rglob("*.j2")):
        path.write_text("{# the stack's own copy #}" + path.read_text(encoding="utf-8"), encoding="utf-8")
    commit(repo, "templates of its own")
    return repo


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RAIL_CACHE_DIR", str(folder))  # rail_process passes the environment on
    monkeypatch.delenv("RAIL_NO_CACHE", raising=False)
    monkeypatch.delenv("RAIL_CACHE_MAX_BYTES", raising=False)
    return folder / bytecode.SUBFOLDER


def entries(folder: Path) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in folder.iterdir()} if folder.is_dir() else {}


def test_a_second_diff_adds_no_entry(stack: Path, cache: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    assert rail_process(stack, "render").exit_code == 0  # rendered/ up to date: no drift finding
    for path in cache.iterdir():
        path.unlink()  # what the diff itself writes

    first = rail_process(stack, "diff", "--base", "main")
    after_first = entries(cache)
    second = rail_process(stack, "diff", "--base", "main")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert after_first  # the first run compiled and kept the templates
    assert entries(cache) == after_first


def test_render_and_diff_share_entries(stack: Path, cache: Path) -> None:
    assert rail_process(stack, "render").exit_code == 0
    rendered = entries(cache)

    assert rail_process(stack, "diff", "--base", "main").exit_code == 0

    assert rendered
    assert entries(cache) == rendered  # the same templates, from another folder: the same entries


def test_the_cap_holds(stack: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert rail_process(stack, "render").exit_code == 0
    sizes = sorted(entries(cache).values())
    assert len(sizes) > 3
    cap = sum(sizes[-3:])  # room for the three largest entries, not for all
    for path in cache.iterdir():
        path.unlink()
    monkeypatch.setenv("RAIL_CACHE_MAX_BYTES", str(cap))

    run = rail_process(stack, "diff", "--base", "main")

    assert run.exit_code == 0, run.output
    assert 0 < sum(entries(cache).values()) <= cap


def test_prune_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    for age, name in enumerate(["newest", "middle", "oldest"]):
        path = tmp_path / name
        path.write_bytes(b"x" * 100)
        os.utime(path, ns=(1_000_000_000_000 - age * 1_000_000_000, 1_000_000_000_000 - age * 1_000_000_000))
    (tmp_path / ".tmp-writing").write_bytes(b"x" * 100)  # another run's write in progress: not touched

    bytecode.prune(tmp_path, 200)

    assert sorted(path.name for path in tmp_path.iterdir()) == [".tmp-writing", "middle", "newest"]
    bytecode.prune(tmp_path, 0)
    assert [path.name for path in tmp_path.iterdir()] == [".tmp-writing"]


def test_the_cap_comes_from_the_environment() -> None:
    assert bytecode.cap_bytes({"RAIL_CACHE_MAX_BYTES": "1234"}) == 1234
    assert bytecode.cap_bytes({"RAIL_CACHE_MAX_BYTES": "lots"}) == bytecode.MAX_BYTES
    assert bytecode.cap_bytes({}) == bytecode.MAX_BYTES
