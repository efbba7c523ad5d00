"""One secret scan per document and command, shared by the cache's guard and the
plaintext-secret rule: the shared form gives exactly the hits the rule's own scan does."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from conftest import REPO_ROOT

from renderer import secrets, yamlio
from renderer.app import holds_secret

CRAFTED: list[Any] = [
    {"values": {"auth": {"password": "hunter2-plain"}, "tokens": ["abc", "def"]}, "name": "x"},
    {"values": [{"password": "hunter2-plain"}], "password": "top-level-secret-1"},
    {"values": "password: not-a-map", "apiKey": "sk-live-0123456789abcdef0123"},
    {"values": None, "existingSecret": "db-credentials", "secretKeyRef": {"name": "n", "key": "password"}},
    {"values": {"existingSecret": {"password": "literal-under-holder"}}},
    {"other": {"values": {"password": "deep"}}},
    [{"password": "in-a-list"}, "ghp_0123456789abcdefghijABCDEFGHIJ012345"],
]


def _documents() -> list[Any]:
    found = list(CRAFTED)
    for folder in ("releases", "values", "secrets", "examples", "rendered"):
        for path in sorted((REPO_ROOT / folder).rglob("*.yaml")):
            found += [document.data for document in yamlio.load_documents(path.read_text("utf-8"), path.name)]
    return found


@pytest.mark.parametrize("shared", [False, True])
def test_the_shared_scan_finds_what_the_rules_own_scan_finds(shared: bool) -> None:
    documents = _documents()
    assert len(documents) > 20
    with secrets.sharing_scans() if shared else nullcontext():
        for data in documents:
            if shared:
                secrets.contains_secret(data)  # the guard's scan first, as in a run
            assert list(secrets.find_plaintext_in(data)) == list(secrets.find_plaintext(data, ()))
            if isinstance(data, dict):
                values = data.get("values")
                own = list(secrets.find_plaintext(values, ("values",)))
                assert list(secrets.find_plaintext_in(data, "values")) == own
            assert secrets.contains_secret(data) == any(True for _ in secrets.find_plaintext(data, ())) or (
                isinstance(data, dict) and isinstance(data.get("sops"), dict)
            )


def test_a_document_is_scanned_once_in_a_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = secrets._scan

    def counting(data: Any, prefix: tuple[Any, ...], under: str | None, holder: bool = False) -> Any:
        if not prefix:
            calls.append(data)
        return original(data, prefix, under, holder)

    monkeypatch.setattr(secrets, "_scan", counting)
    data = {"values": {"db": {"password": "hunter2-plain"}}, "name": "n"}
    with secrets.sharing_scans():
        assert holds_secret([data])
        assert [path for path, _ in secrets.find_plaintext_in(data, "values")] == [("values", "db", "password")]
    assert calls == [data]
