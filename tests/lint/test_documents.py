"""What the lint cache knows of a document (renderer/lint/documents.py): its content
digest, once per document, and a key's place kept on its own, never a Secret's."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from renderer import cache
from renderer.lint import documents
from renderer.lint.applied import AppliedDocument
from renderer.yamlio import Document, load_documents

TEXT = "a: 1\nb:\n  c: [x, y]\n---\nkind: ConfigMap\ndata: {k: v}\n"


def test_equal_content_has_one_key_and_any_difference_another() -> None:
    first, second = load_documents(TEXT, "f.yaml", shared=False)
    again = load_documents(TEXT, "f.yaml", shared=False)[0]
    assert first is not again and documents.content_key(first) == documents.content_key(again)
    keys = {
        documents.content_key(document)
        for document in (
            first,
            second,
            Document("f.yaml", {"a": 2, "b": {"c": ["x", "y"]}}, 0, TEXT),  # the data
            Document("g.yaml", first.data, 0, TEXT),  # the path
            Document("f.yaml", first.data, 1, TEXT),  # the index
            Document("f.yaml", first.data, 0, TEXT + "\n"),  # the text
            Document("f.yaml", {"b": first.data["b"], "a": 1}, 0, TEXT),  # the order of keys
            Document("f.yaml", {"a": True, "b": first.data["b"]}, 0, TEXT),  # true is not 1
        )
    }
    assert len(keys) == 8 and None not in keys


def test_a_document_not_of_one_file_or_without_text_has_no_key() -> None:
    assert documents.content_key(Document("f.yaml", {"a": 1})) is None
    assert documents.content_key(AppliedDocument(path="f.yaml", data={"a": 1}, text="a: 1\n")) is None


def test_data_marshal_cannot_spell_is_keyed_by_its_type_and_text() -> None:
    day = datetime.date(2024, 1, 2)
    dated = documents.content_key(Document("f.yaml", {"d": day}, 0, "d: 2024-01-02\n"))
    text = documents.content_key(Document("f.yaml", {"d": "\0date:" + repr(day)}, 0, "d: 2024-01-02\n"))
    assert dated is not None and text is not None and dated != text


@pytest.fixture
def digested(monkeypatch: pytest.MonkeyPatch) -> list[Document]:
    """Every document whose content digest is worked out from now on."""
    calls: list[Document] = []
    original = documents._content_digest

    def counting(document: Document) -> str | None:
        calls.append(document)
        return original(document)

    monkeypatch.setattr(documents, "_content_digest", counting)
    return calls


def test_a_document_is_digested_once(digested: list[Document]) -> None:
    document = load_documents(TEXT, "f.yaml", shared=False)[0]
    assert documents.content_key(document) == documents.content_key(document)
    assert len(digested) == 1
    ident = id(document)
    del document, digested[:]  # let it go: the memo holds no document alive
    assert ident not in documents._CONTENT


def test_a_twin_made_of_the_same_data_and_text_is_not_digested_again(digested: list[Document]) -> None:
    document = load_documents(TEXT, "f.yaml", shared=False)[0]
    key = documents.content_key(document)
    twin = dataclasses.replace(document, path="f.yaml")  # a rendered file's document, made afresh
    assert twin is not document and documents.content_key(twin) == key
    assert digested == [document]
    # Equal is not enough: other data or text objects, another path or index, are digested.
    others = (
        Document("f.yaml", dict(document.data), 0, document.text),
        Document("f.yaml", document.data, 0, "".join(document.text or "")),
        dataclasses.replace(document, path="g.yaml"),
        dataclasses.replace(document, index=1),
    )
    assert [documents.content_key(other) for other in others][:2] == [key, key]
    assert digested[1:] == list(others)
    ident = id(document)
    del document, twin, others, digested[:]
    assert not any(ident == made_of[0] for made_of in documents._TWINS)  # nothing held alive


def test_a_digest_remembered_is_taken_for_that_document_only(digested: list[Document]) -> None:
    document = load_documents(TEXT, "f.yaml", shared=False)[0]
    key = documents._content_digest(document)
    assert key is not None
    digested.clear()
    fresh = load_documents(TEXT, "f.yaml", shared=False)[0]
    documents.remember_content(document, key)  # as a restored diff side hands it back
    assert documents.known_content(document) == documents.content_key(document) == key
    assert documents.known_content(fresh) is None and documents.content_key(fresh) == key
    assert digested == [fresh]
    documents.remember_content(document, "another")  # never over what is known
    assert documents.content_key(document) == key


@pytest.fixture
def entries(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], bytes]:
    kept: dict[tuple[str, str], bytes] = {}
    monkeypatch.setattr(cache, "enabled", lambda: True)
    monkeypatch.setattr(cache, "get", lambda kind, key: kept.get((kind, key)))
    monkeypatch.setattr(cache, "admit", lambda kind, key: True)
    monkeypatch.setattr(cache, "put", lambda kind, key, payload: kept.__setitem__((kind, key), payload))
    return kept


def test_a_place_is_kept_and_read_back(entries: dict[tuple[str, str], bytes]) -> None:
    document = load_documents(TEXT, "f.yaml", shared=False)[0]
    assert documents.where(document, ("b", "c", 1)) == document.where(("b", "c", 1)) == ("f.yaml", 3, 10)
    assert documents.where(document, ("nowhere",)) == document.where(("nowhere",))
    assert sorted(entries.values()) == [b"1,1", b"3,10"]  # two numbers each, nothing of the document
    for key in entries:
        entries[key] = b"7,1"
    again = load_documents(TEXT, "f.yaml", shared=False)[0]  # the same content: the same entries
    assert documents.where(again, ("b", "c", 1)) == ("f.yaml", 7, 1)


def test_a_place_without_a_line_survives_the_stored_form() -> None:
    assert documents._place_from(b",") == (None, None)
    assert documents._place_from(b"4,") == (4, None)


def test_a_torn_place_is_worked_out_again(entries: dict[tuple[str, str], bytes]) -> None:
    document = load_documents(TEXT, "f.yaml", shared=False)[0]
    documents.where(document, ("a",))
    for key in entries:
        entries[key] = b"x,y"
    assert documents.where(document, ("a",)) == ("f.yaml", 1, 1)


@pytest.mark.parametrize(
    "text", ["kind: Secret\ndata: {password: c2VjcmV0}\n", "kind: ConfigMap\nsops: {mac: x}\ndata: {k: v}\n"]
)
def test_no_place_of_a_secret_is_kept(text: str, entries: dict[tuple[str, str], bytes]) -> None:
    document = load_documents(text, "s.yaml", shared=False)[0]
    assert documents.where(document, ("data",)) == document.where(("data",))
    assert entries == {}


def test_with_the_cache_off_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "enabled", lambda: False)
    monkeypatch.setattr(cache, "get", lambda kind, key: pytest.fail("asked the cache"))
    document = load_documents(TEXT, "f.yaml", shared=False)[0]
    assert documents.where(document, ("b",)) == ("f.yaml", 2, 1)
