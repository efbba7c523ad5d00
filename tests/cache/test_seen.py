"""Admission on second sighting (renderer.cache.seen): a first run stores nothing but
a record of digests; the next run stores what it sees again; the record is never
trusted further than its own checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REPO_ROOT, RunRail, copy_stack

from renderer import yamlio
from renderer.app import caching
from renderer.cache import bundle, seen, settings, store

KINDS = ("parse", "positions", "render", "verdict", "rule")
CANARY = "qzvseencanary0d2f5e9a"  # in no template or schema: any trace of it is a leak


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    root = copy_stack(REPO_ROOT, tmp_path / "stack")
    values = root / "values" / "s3" / "postgresql-ha.yaml"
    values.write_text(values.read_text(encoding="utf-8") + f"canaryNote: {CANARY}\n", "utf-8")
    return root


def env_for(folder: Path) -> dict[str, str]:
    return {"RAIL_CACHE_DIR": str(folder), "RAIL_NO_CACHE": "", "RAIL_CACHE_MAX_BYTES": ""}


def files(folder: Path) -> list[str]:
    """What rail wrote, relative to its version folder (compiled templates aside)."""
    layout = folder / store.layout_name()
    return sorted(path.relative_to(layout).as_posix() for path in layout.rglob("*") if path.is_file())


def lint(run_rail: RunRail, stack: Path, folder: Path) -> str:
    done = run_rail("lint", cwd=stack, env=env_for(folder))
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_a_first_run_keeps_only_its_sightings_the_second_stores(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    first = lint(run_rail, stack, folder)
    assert files(folder) == ["seen"]
    record = folder / store.layout_name() / seen.NAME
    assert record.stat().st_mode & 0o777 == 0o600
    sightings = seen.read(record)
    assert len(sightings) > 50
    # Only digests: a header and 16 bytes a sighting, nothing of any file's text.
    assert record.stat().st_size == len(seen.MAGIC) + 2 + 4 + 32 + seen.WIDTH * len(sightings)
    assert CANARY.encode() not in record.read_bytes()

    second = lint(run_rail, stack, folder)
    stored = files(folder)
    for kind in KINDS:
        assert any(name.startswith(f"{kind}/") for name in stored), (kind, stored)
    # Every entry stored was sighted by the first run; the record holds digests of keys, not keys.
    data = record.read_bytes() if record.exists() else b""
    bundled: set[str] = set()
    for name in stored:
        if "/" in name:
            kind, _, key = name.split("/")
            if kind == bundle.KIND:  # written at once: it holds only entries admitted themselves
                entry = (folder / store.layout_name() / name).read_bytes()
                bundled |= set(bundle.read(store._payload(entry, kind, key)))
                continue
            assert seen.sighting(kind, key) in sightings
            assert key.encode() not in data and bytes.fromhex(key)[: seen.WIDTH] not in data
            assert seen.sighting(kind, key) not in seen.read(record)  # admitted: no longer kept
    assert bundled and bundled <= {name.split("/")[2] for name in stored if name.split("/")[0] in bundle.BUNDLED}
    third = lint(run_rail, stack, folder)
    assert first == second == third


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign", "empty", "link", "shared"])
def test_a_torn_or_foreign_record_is_ignored(run_rail: RunRail, stack: Path, tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "cache"
    lint(run_rail, stack, folder)
    record = folder / store.layout_name() / seen.NAME
    data = record.read_bytes()
    if damage == "truncate":
        record.write_bytes(data[:-7])
    elif damage == "flip":
        record.write_bytes(data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:])
    elif damage == "foreign":
        record.write_bytes(b"\x89rail-c\n" + data[8:])  # an entry's magic
    elif damage == "empty":
        record.write_bytes(b"")
    elif damage == "link":
        moved = tmp_path / "elsewhere"
        record.rename(moved)
        record.symlink_to(moved)
    else:
        os.chmod(record, 0o666)
    lint(run_rail, stack, folder)
    assert [name for name in files(folder) if "/" in name] == []  # nothing admitted
    assert seen.read(record) != []  # written again, whole
    lint(run_rail, stack, folder)
    assert any(name.startswith("parse/") for name in files(folder))


def test_a_key_asked_twice_in_one_run_is_still_a_first_sighting(tmp_path: Path) -> None:
    record = seen.Seen(tmp_path / "v", tmp_path, limit=8)
    assert not record.admit("parse", "ab" * 32)
    assert not record.admit("parse", "ab" * 32)
    record.flush()
    assert seen.read(tmp_path / "v" / seen.NAME) == [seen.sighting("parse", "ab" * 32)]
    assert record.admit("parse", "ab" * 32)
    assert not record.admit("render", "ab" * 32)  # the kind is part of the sighting
    record.stored("parse", "ab" * 32)
    record.flush()
    assert seen.read(tmp_path / "v" / seen.NAME) == [seen.sighting("render", "ab" * 32)]


def test_a_key_admitted_but_not_stored_stays_and_the_record_is_not_rewritten(tmp_path: Path) -> None:
    """A SOPS file's parse: admitted on its second sighting, refused by the guard. It stays
    in the record, so every later run asks about it without writing the record again."""
    record = seen.Seen(tmp_path / "v", tmp_path, limit=8)
    record.admit("parse", "ab" * 32)
    record.flush()
    path = tmp_path / "v" / seen.NAME
    assert record.admit("parse", "ab" * 32)  # not put: the guard said no
    record.flush()
    written = path.stat()
    assert record.admit("parse", "ab" * 32)
    record.flush()
    assert seen.read(path) == [seen.sighting("parse", "ab" * 32)]
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


def test_the_record_is_bounded_newest_first(tmp_path: Path) -> None:
    record = seen.Seen(tmp_path / "v", tmp_path, limit=4)
    keys = [f"{number:064x}" for number in range(10)]
    for key in keys[:3]:
        record.admit("rule", key)
    record.flush()
    for key in keys[3:6]:
        record.admit("rule", key)
    record.flush()
    kept = seen.read(tmp_path / "v" / seen.NAME)
    assert kept == [seen.sighting("rule", key) for key in (keys[3], keys[4], keys[5], keys[0])]
    assert seen.limit_for(settings.DEFAULT_CAP) * seen.WIDTH <= 4 * 1024 * 1024


def test_a_run_that_misses_nothing_reads_and_writes_no_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RAIL_CACHE_DIR", str(folder))
    monkeypatch.delenv("RAIL_NO_CACHE", raising=False)
    settings.switch_on()
    for _ in range(2):  # seen, then stored
        with caching():
            yamlio.load_documents("a: 1\n", "a.yaml")
    record = folder / store.layout_name() / seen.NAME
    record.unlink()  # a warm run needs no record: it is neither read nor written
    with caching():
        assert yamlio.load_documents("a: 1\n", "a.yaml")[0].data == {"a": 1}
    assert not record.exists()


def test_each_document_is_judged_once_for_its_parse_and_positions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from renderer import app

    monkeypatch.setenv("RAIL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RAIL_NO_CACHE", raising=False)
    settings.switch_on()
    judged: list[object] = []
    original = app.holds_secret

    def counting(data: object) -> bool:
        judged.append(data)
        return original(data)

    text = "a: 1\n---\nkind: ConfigMap\nmetadata: {name: n}\n"
    monkeypatch.setattr(app, "holds_secret", counting)
    with caching():  # a first sighting: nothing judged
        for document in yamlio.load_documents(text, "a.yaml"):
            document.locate(("a",))
    assert judged == []
    with caching():  # stored now: each document judged once, for its parse and its positions
        for document in yamlio.load_documents(text, "a.yaml"):
            document.locate(("a",))
    assert judged == [[{"a": 1}], [{"kind": "ConfigMap", "metadata": {"name": "n"}}]]
    layout = tmp_path / "cache" / store.layout_name()
    assert list((layout / "parse").rglob("*/*")) and len(list((layout / "positions").rglob("*/*"))) == 2
