"""The three memos backed by the cache: parsed documents, rendered objects, verdicts."""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, copy_stack

from renderer import cache, yamlio
from renderer.app import caching, holds_secret, run_render
from renderer.cache import settings, store
from renderer.schemacheck import Validator


@pytest.fixture
def folder(cache_folder: Path) -> Path:
    """A fresh cache folder for this test, the cache on (conftest's)."""
    return cache_folder


def kind_entries(folder: Path, kind: str) -> list[Path]:
    return sorted(path for path in (folder / store.layout_name() / kind).rglob("*") if path.is_file())


TEXT = "a: 1\nb: [x, {c: 2.5, d: null, e: true}]\n---\nkind: ConfigMap\nmetadata: {name: n}\n"


def test_a_parse_is_stored_and_read_back_the_same(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with caching():
        first = yamlio.load_documents(TEXT, "one.yaml")
    assert kind_entries(folder, "parse") == []  # a first sighting is only remembered
    with caching():
        first = yamlio.load_documents(TEXT, "one.yaml")
    assert len(kind_entries(folder, "parse")) == 1
    calls: list[str] = []
    monkeypatch.setattr(yamlio, "_load_documents", lambda *args: calls.append("parsed") or [])
    with caching():
        again = yamlio.load_documents(TEXT, "two.yaml")
    assert calls == []  # from the cache
    assert [d.data for d in again] == [d.data for d in first]
    assert [(d.path, d.index, d.start_line) for d in again] == [("two.yaml", 0, 1), ("two.yaml", 1, 4)]
    assert again[1].locate(("metadata", "name")) == (5, 12)
    assert type(again[0].data["b"][1]["e"]) is bool


def test_no_cache_without_a_guard_or_outside_a_command(folder: Path) -> None:
    yamlio.load_documents(TEXT, "x.yaml")  # no memo: a library call reads no cache
    with yamlio.sharing_parses():  # a memo, but no guard registered: nothing judged, nothing stored
        yamlio.load_documents(TEXT, "x.yaml")
    assert kind_entries(folder, "parse") == []


def test_a_damaged_parse_entry_is_parsed_again(folder: Path) -> None:
    for _ in range(2):
        with caching():
            yamlio.load_documents(TEXT, "one.yaml")
    (entry,) = kind_entries(folder, "parse")
    data = bytearray(entry.read_bytes())
    data[-2] ^= 0xFF
    entry.write_bytes(bytes(data))
    for _ in range(2):  # read as absent: a missing entry, stored again on its second sighting
        with caching():
            assert yamlio.load_documents(TEXT, "one.yaml")[0].data == {
                "a": 1,
                "b": ["x", {"c": 2.5, "d": None, "e": True}],
            }
    assert store.Store(folder, settings.DEFAULT_CAP).get("parse", entry.name) is not None  # rewritten


SECRET_TEXTS = {
    "a Secret": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: aGVsbG8=}\n",
    "SOPS": "k: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]\nsops: {mac: x}\n",
    "a password": "db:\n  password: hunter2-canary\n",
    "a token": "url: https://user:s3cr3t-canary@example.com/x\n",
    "an embedded values file": "kind: ConfigMap\ndata:\n  values.yaml: |\n    auth:\n      password: canary-pw\n",
}


@pytest.mark.parametrize("name", sorted(SECRET_TEXTS))
def test_a_text_holding_a_secret_is_never_stored(folder: Path, name: str) -> None:
    with caching():
        documents = yamlio.load_documents(SECRET_TEXTS[name], "s.yaml")
        documents[0].locate(("x",))
    assert holds_secret([document.data for document in documents])
    assert kind_entries(folder, "parse") == []
    assert kind_entries(folder, "positions") == []


def test_a_template_output_is_not_kept(folder: Path) -> None:
    with caching():
        yamlio.load_documents("a: rail-value-123-0\n", "t.yaml (output)", shared=False)
    assert kind_entries(folder, "parse") == []


def test_renders_are_stored_and_reused_byte_for_byte(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from renderer.render import templating

    first = copy_stack(REPO_ROOT, tmp_path / "first", outputs=False)
    for _ in range(2):  # seen, then stored
        with caching():
            run_render(first, "all", check=False)
    assert kind_entries(folder, "render")
    for entry in kind_entries(folder, "render"):
        assert b"ENC[AES256_GCM" not in entry.read_bytes()

    def no_render(*args: Any) -> Any:
        raise AssertionError("rendered again")

    monkeypatch.setattr(templating.Templates, "documents", no_render)
    second = copy_stack(REPO_ROOT, tmp_path / "second", outputs=False)
    with caching():
        run_render(second, "all", check=False)
    files = sorted(p.relative_to(first).as_posix() for p in (first / "rendered").rglob("*") if p.is_file())
    assert files
    for name in files:
        assert (second / name).read_bytes() == (first / name).read_bytes(), name


def test_verdicts_are_stored_without_the_instance(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.schemacheck import sharing_verdicts

    validator = Validator({"type": "object", "required": ["a"]}, full=lambda: None)
    judged: list[Any] = []
    original = Validator._judge

    def spy(self: Validator, instance: Any) -> bool | None:
        judged.append(instance)
        return original(self, instance)

    monkeypatch.setattr(Validator, "_judge", spy)
    for _ in range(2):  # seen, then stored
        with sharing_verdicts():
            assert validator.fast_verdict({"a": "instance-canary"}) is True
            assert validator.fast_verdict({"b": 1}) is False
        cache.flush()  # the end of a run
    with sharing_verdicts():  # the next run: equal objects, answered from the cache
        assert validator.fast_verdict({"a": "instance-canary"}) is True
        assert validator.fast_verdict({"b": 1}) is False
        assert validator.fast_verdict({"a": 1.0}) is True  # another instance: judged (and only seen)
    assert len(judged) == 5
    payloads = {entry.read_bytes()[-10:] for entry in kind_entries(folder, "verdict")}
    assert all(b"canary" not in entry.read_bytes() for entry in kind_entries(folder, "verdict"))
    assert len(kind_entries(folder, "verdict")) == 2
    assert any(payload.endswith(b"valid") for payload in payloads)


def test_parse_entries_load_faster_than_parsing() -> None:
    """The point of the parse cache, on a values file of the shipped stack."""
    import time

    text = (REPO_ROOT / "releases" / "s3" / "postgresql-ha.yaml").read_text(encoding="utf-8") * 1
    documents = yamlio._load_documents(text, "x.yaml", True)
    payload = yamlio._encoded(documents)
    assert payload is not None
    start = time.perf_counter()
    for _ in range(20):
        yamlio._load_documents(text, "x.yaml", True)
    parsing = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(20):
        loaded = yamlio._decoded(payload, text, "x.yaml")
    loading = time.perf_counter() - start
    assert loaded is not None and [d.data for d in loaded] == [d.data for d in documents]
    assert loading * 5 < parsing
    assert marshal.loads(payload)[0] == 1


@pytest.mark.parametrize(
    "stored",
    [b'{"findings": [', b"", b"\x00" * 31, b"\x00" * 32 + b"# a doc", None],
    ids=["torn", "empty", "short", "another-text", "absent"],
)
def test_a_text_entry_that_is_not_what_put_text_wrote_is_never_read(
    folder: Path, monkeypatch: pytest.MonkeyPatch, stored: bytes | None
) -> None:
    key = cache.digest("doc", "a release")
    with caching():
        cache.put_text("doc", key, "# wiki\n\nthe release's doc\n")
        assert cache.get_text("doc", key) == "# wiki\n\nthe release's doc\n"
        monkeypatch.setattr(cache, "get", lambda kind, asked: stored)
        assert cache.get_text("doc", key) is None
