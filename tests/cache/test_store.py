"""The cache store: private, versioned, self-checking, atomic, bounded, switchable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from renderer import cache
from renderer.cache import settings, store

KEY = "ab" * 32
OTHER = "cd" * 32


@pytest.fixture
def folder(cache_folder: Path) -> Path:
    """A fresh cache folder for this test, the cache on (conftest's)."""
    return cache_folder


def entry_path(folder: Path, kind: str, key: str) -> Path:
    return folder / store.layout_name() / kind / key[:2] / key


def test_put_then_get(folder: Path) -> None:
    assert cache.enabled()
    assert cache.get("parse", KEY) is None
    cache.put("parse", KEY, b"payload")
    assert cache.get("parse", KEY) == b"payload"
    assert cache.get("render", KEY) is None  # kinds do not share keys
    assert cache.get("parse", OTHER) is None


def test_the_folder_and_entries_are_private(folder: Path) -> None:
    cache.put("parse", KEY, b"payload")
    assert folder.stat().st_mode & 0o777 == 0o700
    path = entry_path(folder, "parse", KEY)
    assert path.stat().st_mode & 0o777 == 0o600
    for parent in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert parent.stat().st_mode & 0o777 == 0o700


def test_a_folder_others_can_write_is_not_used(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    assert not cache.enabled()
    cache.put("parse", KEY, b"payload")
    assert not any(folder.iterdir())
    assert "others can write" in settings.current().reason


def test_a_folder_of_another_user_is_not_used(folder: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("changing a folder's owner needs root")
    folder.mkdir(mode=0o700)
    os.chown(folder, 12345, 12345)
    assert not cache.enabled()
    assert "another user (uid 12345)" in settings.current().reason


def test_a_file_or_a_link_is_not_a_cache_folder(folder: Path, tmp_path: Path) -> None:
    folder.write_text("", encoding="utf-8")
    assert not cache.enabled()
    assert "not a directory" in settings.current().reason
    folder.unlink()
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    folder.symlink_to(real)
    settings.switch_on()  # settings are worked out once a run: start a new one
    assert not cache.enabled()
    assert "symbolic link" in settings.current().reason


def test_an_entry_of_another_user_is_not_trusted(folder: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("changing a file's owner needs root")
    cache.put("parse", KEY, b"payload")
    os.chown(entry_path(folder, "parse", KEY), 12345, 12345)
    assert cache.get("parse", KEY) is None
    os.chown(entry_path(folder, "parse", KEY), 0, 0)
    entry_path(folder, "parse", KEY).chmod(0o666)
    assert cache.get("parse", KEY) is None


def test_switches(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    assert not cache.enabled()
    assert settings.current().reason == "turned off (RAIL_NO_CACHE)"
    cache.put("parse", KEY, b"payload")
    monkeypatch.setenv("RAIL_NO_CACHE", "0")
    assert cache.enabled()
    assert cache.get("parse", KEY) is None  # nothing was written while off
    cache.switch_off()
    assert not cache.enabled()
    assert settings.current().reason == "turned off (--no-cache)"


def test_in_ci_the_cache_is_off_unless_a_folder_is_named(tmp_path: Path) -> None:
    home = {"HOME": str(tmp_path / "home")}
    for value in ("true", "1", "yes"):
        found = settings.resolve({**home, "CI": value})
        assert not found.in_use
        assert found.reason == "off in CI (CI is set): set RAIL_CACHE_DIR to a folder the CI keeps"
    assert settings.resolve({**home, "CI": "false"}).in_use
    assert settings.resolve(home).in_use
    named = settings.resolve({**home, "CI": "true", "RAIL_CACHE_DIR": str(tmp_path / "kept")})
    assert named.in_use and named.folder == tmp_path / "kept"


def test_default_locations(tmp_path: Path) -> None:
    assert settings.location({"RAIL_CACHE_DIR": "/x", "XDG_CACHE_HOME": "/y"}) == Path("/x")
    assert settings.location({"XDG_CACHE_HOME": "/y", "HOME": "/h"}) == Path("/y/rail")
    assert settings.location({"HOME": "/h"}) == Path("/h/.cache/rail")
    assert settings.cap_bytes({}) == settings.DEFAULT_CAP
    assert settings.cap_bytes({"RAIL_CACHE_MAX_BYTES": "1000"}) == 1000
    assert settings.cap_bytes({"RAIL_CACHE_MAX_BYTES": "lots"}) == settings.DEFAULT_CAP


def test_a_payload_put_in_pieces_is_the_same_entry_as_one_put_whole(folder: Path) -> None:
    pieces = [b"a kept ", b"", b"diff side", b" in pieces"]
    cache.put_pieces("snapshot", KEY, pieces)
    cache.put("snapshot", OTHER, b"".join(pieces))
    assert cache.get("snapshot", KEY) == b"a kept diff side in pieces"
    assert entry_path(folder, "snapshot", KEY).read_bytes().replace(KEY.encode(), OTHER.encode()) == (
        entry_path(folder, "snapshot", OTHER).read_bytes()
    )
    with pytest.raises(TypeError):
        cache.put_pieces("snapshot", KEY, [b"x", "text"])  # type: ignore[list-item]


def test_payloads_are_bytes_and_names_are_checked(folder: Path) -> None:
    with pytest.raises(TypeError):
        cache.put("parse", KEY, "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cache.put("parse", KEY, bytearray(b"x"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cache.put("parse", "../../etc", b"x")
    with pytest.raises(ValueError):
        cache.get("Parse/x", KEY)


@pytest.mark.parametrize(
    "damage",
    ["truncate", "flip-payload", "flip-header", "empty", "extra", "other-kind", "other-key", "foreign"],
)
def test_a_damaged_or_foreign_entry_reads_as_absent_and_is_rewritten(folder: Path, damage: str) -> None:
    cache.put("parse", KEY, b"the payload of the entry")
    cache.put("render", KEY, b"another kind's entry")
    cache.put("parse", OTHER, b"another key's entry")
    path = entry_path(folder, "parse", KEY)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-3]
    elif damage == "flip-payload":
        data[-1] ^= 0x01
    elif damage == "flip-header":
        data[3] ^= 0x01
    elif damage == "empty":
        data = bytearray()
    elif damage == "extra":
        data += b"x"
    elif damage == "other-kind":
        data = bytearray(entry_path(folder, "render", KEY).read_bytes())
    elif damage == "other-key":
        data = bytearray(entry_path(folder, "parse", OTHER).read_bytes())
    else:
        data = bytearray(b"not an entry at all\n")
    path.write_bytes(bytes(data))
    assert cache.get("parse", KEY) is None
    cache.put("parse", KEY, b"the payload of the entry")
    assert cache.get("parse", KEY) == b"the payload of the entry"


def test_a_link_in_place_of_an_entry_is_not_followed(folder: Path, tmp_path: Path) -> None:
    cache.put("parse", KEY, b"payload")
    path = entry_path(folder, "parse", KEY)
    copy = tmp_path / "elsewhere"
    copy.write_bytes(path.read_bytes())
    copy.chmod(0o600)
    path.unlink()
    path.symlink_to(copy)
    assert cache.get("parse", KEY) is None


def test_versions_are_kept_apart(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.put("parse", KEY, b"old version's entry")
    old = folder / store.layout_name()
    monkeypatch.setattr(store, "__version__", "99.0")
    fresh = store.Store(folder, settings.DEFAULT_CAP)
    assert fresh.root != old
    assert fresh.get("parse", KEY) is None  # an upgrade never reads an old entry
    fresh.put("parse", KEY, b"new")  # its first write removes the other versions
    assert not old.exists()
    assert fresh.get("parse", KEY) == b"new"


def test_prune_removes_other_versions_and_least_recently_used(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    writer = store.Store(folder, 10**9)
    keys = [f"{index:02x}" * 32 for index in range(20)]
    for age, key in enumerate(keys):
        writer.put("render", key, b"y" * 1000)  # 4 KiB on disk each
        os.utime(writer.path("render", key), (1_000_000 + age, 1_000_000 + age))
    stale = folder / "v0-0.0.1" / "parse" / "ab"
    stale.mkdir(parents=True)
    (stale / KEY).write_bytes(b"x" * 100)
    unrelated = folder / "mine.txt"
    unrelated.write_text("not rail's", encoding="utf-8")
    the_store = store.Store(folder, 10_000)
    the_store.get("render", keys[0])  # a read refreshes an old entry: kept longest
    removed, _ = the_store.prune()
    assert not (folder / "v0-0.0.1").exists()
    assert unrelated.exists()
    kept = [key for key in keys if the_store.get("render", key) is not None]
    assert len(kept) * store.on_disk(1100) <= 10_000  # counted in whole blocks, as on disk
    assert keys[0] in kept
    assert kept[1:] == keys[-len(kept) + 1 :]  # the newest survive
    assert removed == 1 + len(keys) - len(kept)


def test_writing_past_the_cap_prunes_once_a_run(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    the_store = store.Store(folder, 20_000)
    for index in range(60):
        the_store.put("render", f"{index:04x}" * 16, b"z" * 1000)
    assert len(the_store.entries()) < 60  # pruned to 3/4 of the cap once, then writes went on
    assert the_store._usage.pruned
    the_store.flush()  # the end of the run
    next_run = store.Store(folder, 20_000)
    next_run.put("render", "ffff" * 16, b"z")  # the estimate says over the cap: this run prunes
    assert sum(size for _, size, _, _ in next_run.entries()) <= 20_000


def test_the_usage_estimate_survives_the_run(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    first = store.Store(folder, settings.DEFAULT_CAP)
    first.put("parse", KEY, b"p" * 5000)
    first.flush()
    second = store.Store(folder, settings.DEFAULT_CAP)
    second.put("parse", OTHER, b"q")
    assert second._usage.estimate is not None and second._usage.estimate >= 5000


def test_clear_removes_only_what_rail_wrote(folder: Path) -> None:
    cache.put("parse", KEY, b"payload")
    (folder / "templates").mkdir()
    (folder / "templates" / "x").write_bytes(b"code")
    (folder / "v0-0.0.1").mkdir()
    (folder / "yours").mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    removed, _ = store.Store(folder, settings.DEFAULT_CAP).clear()
    assert removed >= 2
    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt", "yours"]


_WORKER = textwrap.dedent(
    """
    import sys
    from renderer import cache
    name = sys.argv[1]
    bad = 0
    for round in range(15):
        for index in range(40):
            key = f"{index:04x}" * 16
            payload = (f"entry {index} " * (50 + index)).encode()
            found = cache.get("parse", key)
            if found is not None and found != payload:
                bad += 1
            cache.put("parse", key, payload)
    print(bad)
    """
)


def test_two_processes_writing_and_reading_the_same_keys(folder: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, name], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name in ("a", "b")
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], [error for _, error in outputs]
    assert [out.strip() for out, _ in outputs] == ["0", "0"]  # never a torn or mixed read
    for index in range(40):
        assert cache.get("parse", f"{index:04x}" * 16) == (f"entry {index} " * (50 + index)).encode()
    leftovers = [path for path in folder.rglob(".tmp-*")]
    assert leftovers == []


def test_the_guard_is_closed_until_registered() -> None:
    cache.set_guard(None)
    assert not cache.secret_free({"a": 1})
    cache.set_guard(lambda data: "password" in str(data))
    try:
        assert cache.secret_free({"a": 1})
        assert not cache.secret_free({"password": "x"})
    finally:
        cache.set_guard(None)
