"""A side kept whole by its tree id (renderer/diff/snapshot.py), with the real store:
a tree seen before is neither written out nor read again, the report is the same byte
for byte, and no Secret is kept (its SOPS file is read again from git)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from gitstack import commit, count_side_reads, edit, git, rail, render, shipped_clone

from renderer.cache import store
from renderer.diff import snapshot
from renderer.diff.git import INDEX, Repository

SOPS_FILE = "secrets/s3/valkey-credentials.sops.yaml"
VALKEY = "releases/s3/valkey.yaml"
PG = "releases/s3/postgresql-ha.yaml"
CANARY = "qzvcanarysnapshot5f3e"  # a plaintext value inside the SOPS file: never at rest


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_clone(tmp_path, tmp_path_factory)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return count_side_reads(monkeypatch)


def _check(stack: Path) -> str:
    run = rail(stack, "check", "--staged", "--format", "json")
    assert run.exit_code in (0, 1), run.output
    return run.stdout


def _snapshots(folder: Path) -> list[Path]:
    return sorted(path for path in (folder / store.layout_name() / snapshot.KIND).rglob("*") if path.is_file())


def _stage_a_change(stack: Path) -> None:
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    render(stack)
    git(stack, "add", "-A")


def test_a_seen_tree_is_restored_and_says_the_same(
    stack: Path, cache_folder: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")  # a change the diff blocks: its finding is in the report
    render(stack)
    git(stack, "add", "-A")
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    plain = _check(stack)
    monkeypatch.delenv("RAIL_NO_CACHE")
    reads.clear()
    cold = _check(stack)
    assert len(reads) == 2 and len(_snapshots(cache_folder)) == 2
    reads.clear()
    warm = _check(stack)
    assert reads == []  # both trees restored: nothing written out, loaded or rendered
    assert plain == cold == warm
    assert "persistence-shrink" in warm


def test_the_commit_a_hook_checked_is_the_next_base(stack: Path, cache_folder: Path, reads: list[str]) -> None:
    _stage_a_change(stack)
    _check(stack)
    git(stack, "commit", "-q", "--no-verify", "-m", "grow valkey")
    edit(stack, VALKEY, "size: 4Gi", "size: 6Gi")
    render(stack)
    git(stack, "add", "-A")
    reads.clear()
    _check(stack)
    assert len(reads) == 1 and reads[0].startswith("head (the index")


def test_no_secret_is_kept(stack: Path, cache_folder: Path) -> None:
    sops = stack / SOPS_FILE
    sops.write_text(sops.read_text(encoding="utf-8").replace("stringData:\n", f"stringData:\n    extra: {CANARY}\n"))
    commit(stack, "a SOPS file with a plaintext value: lint's finding, never the cache's content")
    assert "sops-unencrypted" in _check(stack)
    kept = _snapshots(cache_folder)
    assert kept, "no side was kept: the search below proves nothing"
    ciphertexts = [part.split(b",")[0] for part in sops.read_bytes().split(b"ENC[AES256_GCM,data:")[1:]]
    assert ciphertexts
    for path in cache_folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert CANARY.encode() not in content, path
            assert not any(text in content for text in ciphertexts), path
    assert not any(b"ENC[" in path.read_bytes() for path in kept)


def test_a_secret_file_that_does_not_match_is_read_as_usual(
    stack: Path, cache_folder: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _check(stack)
    real = Repository.read_paths

    def changed(self: Repository, side: str, paths: list[str]) -> dict[str, bytes] | None:
        read = real(self, side, paths)
        return None if read is None else {path: content + b"\n# not the bytes kept\n" for path, content in read.items()}

    monkeypatch.setattr(Repository, "read_paths", changed)
    reads.clear()
    assert _check(stack) == first
    assert len(reads) == 1  # nothing staged: one tree on both sides, read once


def test_a_side_holding_a_plaintext_secret_is_not_kept(stack: Path, cache_folder: Path) -> None:
    edit(stack, VALKEY, "  architecture: standalone", f"  architecture: standalone\n  password: {CANARY}")
    commit(stack, "a plaintext password")
    _check(stack)
    assert _snapshots(cache_folder) == []
    assert not any(CANARY.encode() in path.read_bytes() for path in cache_folder.rglob("*") if path.is_file())


def test_a_damaged_snapshot_is_read_as_usual(stack: Path, cache_folder: Path, reads: list[str]) -> None:
    first = _check(stack)
    for path in _snapshots(cache_folder):
        path.write_bytes(path.read_bytes()[:-40] + b"\0" * 40)
    reads.clear()
    assert _check(stack) == first
    assert len(reads) == 1  # read again, kept again, restored for the other side (the same tree)


def test_read_paths_reads_a_side_and_refuses_a_missing_file_or_a_link(stack: Path) -> None:
    repository = Repository.of(stack)
    head = repository.resolve("HEAD")
    read = repository.read_paths(head, [SOPS_FILE, VALKEY])
    assert read == {SOPS_FILE: (stack / SOPS_FILE).read_bytes(), VALKEY: (stack / VALKEY).read_bytes()}
    assert repository.read_paths(head, [SOPS_FILE, "secrets/none.sops.yaml"]) is None
    (stack / "secrets" / "link.sops.yaml").symlink_to("s3/valkey-credentials.sops.yaml")
    git(stack, "add", "-A")
    assert repository.read_paths(INDEX, ["secrets/link.sops.yaml"]) is None
    assert repository.read_paths(INDEX, [SOPS_FILE]) == {SOPS_FILE: (stack / SOPS_FILE).read_bytes()}


def test_a_marker_split_across_two_writes_is_caught_and_a_payload_reads_back() -> None:
    split = snapshot._Compressed()
    split.write(b"data: ENC")
    split.write(b"[AES256_GCM,data:...]")
    assert split.close() is None
    clean = snapshot._Compressed()
    for piece in (b"a" * 70_000, b"ENCODED [", b"b" * 10):
        clean.write(piece)
    payload = clean.close()
    assert payload is not None
    reader = io.BufferedReader(snapshot._Decompressed(payload), 4096)
    assert reader.read() == b"a" * 70_000 + b"ENCODED [" + b"b" * 10


def test_a_side_the_guard_has_mostly_not_seen_is_not_kept_this_time(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged_at_most, admitted = snapshot._JUDGED_AT_MOST, snapshot.admitted
    monkeypatch.setattr(snapshot, "_JUDGED_AT_MOST", 3)
    monkeypatch.setattr(snapshot, "admitted", lambda document: False)  # as in a first run
    _check(stack)
    assert _snapshots(cache_folder) == []
    monkeypatch.setattr(snapshot, "_JUDGED_AT_MOST", judged_at_most)
    monkeypatch.setattr(snapshot, "admitted", admitted)
    _check(stack)
    assert _snapshots(cache_folder)
