"""Bundles (renderer.cache.bundle): a command reads the small entries the last one used
in one file; what they answer is what the single entries hold, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer import cache
from renderer.cache import bundle, store

KEYS = [f"{index:02x}" * 32 for index in range(1, 6)]


def entry_path(folder: Path, kind: str, key: str) -> Path:
    return folder / store.layout_name() / kind / key[:2] / key


def bundle_path(folder: Path, kind: str) -> Path:
    return entry_path(folder, bundle.KIND, bundle.bundle_key(kind))


def command() -> None:
    """A command starts (the guard registered, as ``renderer.app.caching`` does)."""
    cache.set_guard(lambda data: False)


def end() -> None:
    cache.set_guard(None)
    cache.flush()


@pytest.fixture
def folder(cache_folder: Path) -> Path:
    return cache_folder


def test_the_next_command_reads_what_the_last_one_used_from_the_bundle(folder: Path) -> None:
    command()
    for key in KEYS[:3]:
        cache.put("rule", key, key.encode("ascii"))
    cache.put("parse", KEYS[0], b"a parse")
    end()
    assert bundle_path(folder, "rule").is_file()
    assert not bundle_path(folder, "parse").exists()  # only small, many entries are bundled
    for key in KEYS[:3]:
        entry_path(folder, "rule", key).unlink()  # only the bundle can answer now
    command()
    assert [cache.get("rule", key) for key in KEYS[:3]] == [key.encode("ascii") for key in KEYS[:3]]
    assert cache.get("rule", KEYS[3]) is None
    assert cache.get("verdict", KEYS[0]) is None  # kinds do not share keys
    end()


def test_a_bundle_is_written_again_only_when_a_command_used_an_entry_it_lacks(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command()
    cache.put("verdict", KEYS[0], b"valid")
    end()
    written: list[str] = []
    original = store.Store.put

    def counting(self: store.Store, kind: str, key: str, payload: bytes) -> None:
        written.append(kind)
        original(self, kind, key, payload)

    monkeypatch.setattr(store.Store, "put", counting)
    command()
    assert cache.get("verdict", KEYS[0]) == b"valid"
    end()
    assert written == []  # everything it used was in the bundle
    command()
    assert cache.get("verdict", KEYS[0]) == b"valid"
    cache.put("verdict", KEYS[1], b"invalid")
    end()
    assert written == ["verdict", bundle.KIND]
    entry_path(folder, "verdict", KEYS[1]).unlink()
    command()
    assert cache.get("verdict", KEYS[1]) == b"invalid"
    end()


def test_a_damaged_bundle_reads_as_empty_and_the_entries_answer(folder: Path) -> None:
    command()
    cache.put("rule", KEYS[0], b"kept")
    end()
    path = bundle_path(folder, "rule")
    path.write_bytes(path.read_bytes()[:-3])  # torn: the store's digest check refuses it
    command()
    assert cache.get("rule", KEYS[0]) == b"kept"  # from its own file
    assert cache.get("rule", KEYS[1]) is None
    end()


def test_what_a_bundle_holds_comes_back_byte_for_byte() -> None:
    payloads = {KEYS[0]: b"\x00\xff\x80 any bytes", KEYS[1]: "caf\u00e9".encode()}
    kept = bundle.Bundle({})
    for key, payload in payloads.items():
        kept.note(key, payload)
    assert bundle.read(kept.payload()) == payloads


@pytest.mark.parametrize("payload", [None, b"", b"{", b"[]", b'"x"', b'{"k": "\\u0100"}'])
def test_a_foreign_bundle_holds_nothing(payload: bytes | None) -> None:
    assert bundle.read(payload) == {}


def test_a_bundle_keeps_what_the_command_used_first_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle, "_LEAST", 2)
    held = {key: b"old" for key in KEYS}
    kept = bundle.Bundle(held)
    assert not kept.changed()
    assert kept.get(KEYS[4]) == b"old"
    assert not kept.changed()  # used only what it holds: nothing to write
    kept.note("ff" * 32, b"new")
    assert kept.changed()
    again = bundle.read(kept.payload())
    # The two it used, then the last bundle's others, up to twice as many as it used.
    assert list(again) == [KEYS[4], "ff" * 32, KEYS[0], KEYS[1]]


def test_clearing_the_cache_forgets_the_bundle(folder: Path) -> None:
    command()
    cache.put("rule", KEYS[0], b"kept")
    end()
    command()
    assert cache.get("rule", KEYS[0]) == b"kept"
    cache._store().clear()
    assert cache.get("rule", KEYS[0]) is None
    end()
