"""A kept side told as a delta of a side kept whole (renderer/diff/kept.py): a hook's next
side is kept as the few entries it does not share with the side it restored, restores as
the same side, and says the same, with the real store and real git."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path
from typing import Any

import pytest
from gitstack import count_side_reads, edit, git, rail, render, shipped_clone

from renderer import cache
from renderer.diff import cached, kept, snapshot
from renderer.diff.git import INDEX, Repository
from renderer.diff.sides import DiffObject
from renderer.yamlio import Document

VALKEY = "releases/s3/valkey.yaml"
SIZES = ("2Gi", "3Gi", "4Gi", "5Gi")


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_clone(tmp_path, tmp_path_factory)


def _check(stack: Path) -> str:
    run = rail(stack, "check", "--staged", "--format", "json")
    assert run.exit_code in (0, 1), run.output
    return run.stdout


def _stage(stack: Path, old: str, new: str) -> None:
    edit(stack, VALKEY, f"size: {old}", f"size: {new}")
    render(stack)
    git(stack, "add", "-A")


def _entry(stack: Path, side: str = INDEX) -> str:
    tree = cached.tree_id(Repository.of(stack), side)
    assert tree is not None
    return snapshot.key(tree)


def _read(entry: str) -> Any:
    payload = cache.get(snapshot.KIND, entry)
    assert payload is not None, "no side kept under this entry"
    return snapshot.read_kept(payload)


def test_a_hooks_next_side_is_told_against_the_side_it_restored_and_says_the_same(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_side_reads(monkeypatch)
    for number, (old, new) in enumerate(itertools.pairwise(SIZES)):
        _stage(stack, old, new)
        monkeypatch.setenv("RAIL_NO_CACHE", "1")
        plain = _check(stack)
        monkeypatch.delenv("RAIL_NO_CACHE")
        reads.clear()
        assert _check(stack) == plain
        if number:  # the base is the side the last hook kept: restored (from a delta after the first)
            assert len(reads) == 1 and reads[0].startswith("head (the index")
        told = _read(_entry(stack))
        assert isinstance(told, kept.Told) == bool(number)  # the first hook restored nothing
        git(stack, "commit", "-q", "--no-verify", "-m", f"valkey {new}")
    # Every delta names the side kept whole the second hook restored, never another delta.
    assert isinstance(told, kept.Told) and isinstance(_read(told.root), kept.Kept)
    written = sum(type(entry) is not int for table in told.tables.values() for entry in table)
    assert 0 < written * kept.OWN_AT_MOST <= sum(len(table) for table in told.tables.values())
    reads.clear()
    _check(stack)  # nothing staged: HEAD is that delta, restored
    assert reads == []


def test_a_delta_joins_back_to_the_side_kept_whole(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_at_most = kept.OWN_AT_MOST
    monkeypatch.setattr(kept, "OWN_AT_MOST", 10**9)  # every side kept whole
    _check(stack)
    git(stack, "commit", "-q", "--no-verify", "--allow-empty", "-m", "seen")
    _stage(stack, "2Gi", "3Gi")
    _check(stack)
    base, head = snapshot.read_entry(_entry(stack, "HEAD")), snapshot.read_entry(_entry(stack))
    assert isinstance(base, kept.Kept) and isinstance(head, kept.Kept)
    monkeypatch.setattr(kept, "OWN_AT_MOST", own_at_most)
    root = kept.Root("0" * 64, base)
    told = kept.tell(head, root)
    assert told is not None
    told = pickle.loads(pickle.dumps(told))  # as the store writes it and a restore reads it
    joined = kept.join(told, kept.Root("0" * 64, base))
    assert joined is not None
    for name, entries_of in kept.COLLECTIONS.items():
        expected, got = entries_of(head), entries_of(joined)
        assert [key for key, _ in got] == [key for key, _ in expected], name
        assert all(kept.same(a, b) for (_, a), (_, b) in zip(got, expected, strict=True)), name
    assert joined.side.config == head.side.config and joined.outputs == head.outputs
    assert kept.join(kept.Told(told.root, told.shell, {"objects": [10**6]}), root) is None  # no such place


def test_a_delta_whose_root_is_gone_is_read_as_usual(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_side_reads(monkeypatch)
    _stage(stack, "2Gi", "3Gi")
    _check(stack)
    git(stack, "commit", "-q", "--no-verify", "-m", "valkey 3Gi")
    _stage(stack, "3Gi", "4Gi")
    _check(stack)
    told = _read(_entry(stack))
    assert isinstance(told, kept.Told)
    git(stack, "commit", "-q", "--no-verify", "-m", "valkey 4Gi")
    root = _entry(stack, "HEAD~1")
    assert told.root == root
    gone = list(cache_folder.rglob(root))
    assert gone
    for path in gone:
        path.unlink()  # pruned
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    plain = _check(stack)
    monkeypatch.delenv("RAIL_NO_CACHE")
    reads.clear()
    assert _check(stack) == plain
    assert len(reads) == 1  # HEAD (the delta) read from git: nothing staged, one tree on both sides


def test_the_same_is_equality_that_counts_where_a_document_points() -> None:
    data = {"kind": "ConfigMap"}
    one = Document(path="a.yaml", data=data, text="kind: ConfigMap\n", start_line=1)
    moved = Document(path="a.yaml", data=data, text="\nkind: ConfigMap\n", start_line=2)
    assert one == moved and not kept.same(one, moved)  # equal, yet a finding's line differs
    again = Document(path="a.yaml", data=dict(data), text="kind: ConfigMap\n", start_line=1)
    assert kept.same(one, again)
    key = ("", "ConfigMap", "apps", "a")
    assert not kept.same(DiffObject(key, data, "a.yaml", "S5", one), DiffObject(key, data, "a.yaml", "S5", moved))
    assert kept.same(DiffObject(key, data, "a.yaml", "S5", one), DiffObject(key, data, "a.yaml", "S5", again))
    assert not kept.same([one], [moved]) and kept.same([one], [again])
    assert not kept.same(1, 1.0)  # equal, of another type
