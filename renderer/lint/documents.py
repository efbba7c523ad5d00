"""What the lint cache knows of a document: a digest of its content, and where its keys
are (issue 16).

A document's content digest (its path, index, text and data) keys the per-object rule
results (:mod:`.results`) and the places below; it is worked out once per document.

A finding points at a key: its line and column come from the document's positions, a
map of every key of the file, worked out from its text or read back from the cache as a
whole (``renderer.yamlio``). A warm lint of 1,000 releases read 538 of these maps (a
millisecond and a half each) for one or two keys of each: backup-coverage's and the
suppressions' spec keys. So a key's place is kept on its own too, under the document's
content digest and the key path: two numbers, never a value, and never for a Secret's
document (nothing that comes from a Secret is kept).
"""

from __future__ import annotations

import json
import marshal
import weakref
from collections.abc import Iterable
from typing import Any

from .. import __version__, cache
from ..yamlio import Document

KIND = "rule"
FORMAT = "document-places/1"  # bump when how a place is keyed or stored changes


# Each document's content digest, worked out once per document while it lives (by its
# identity: rules key the same document again, and a diff's two sides share most
# documents). A weak reference, so this memo never keeps a document alive: at 10,000
# releases a side's documents are let go while the other side is read.
_CONTENT: dict[int, tuple[weakref.ref[Document], str | None]] = {}
# The same digests by what they are made of: the identities of a document's data and text,
# its path and index. A rendered file's document is made afresh for its path in every render
# (``dataclasses.replace`` of the rendered object), from data and text a restored diff side
# shares: such a twin of a document kept with its digest has that digest.
_TWINS: dict[tuple[int, int, str, int], tuple[weakref.ref[Document], str | None]] = {}


def content_key(document: Document) -> str | None:
    """The digest of ``document``'s path, index, text and data; None for a document that
    is not one file's own text (the apply model's patched objects, one without its text)
    or whose data cannot be spelt exactly (keys of mixed types, a cycle)."""
    if type(document) is not Document or document.text is None:
        return None
    ident = id(document)
    known = _CONTENT.get(ident)
    if known is not None and known[0]() is document:
        return known[1]
    twin = _TWINS.get(_made_of(document))
    found = twin[0]() if twin is not None else None
    # Alive, so the identities it was filed under are still its data's and text's.
    if twin is not None and found is not None and found.data is document.data and found.text is document.text:
        content = twin[1]
    else:
        content = _content_digest(document)
    _remember(document, content)
    return content


def _made_of(document: Document) -> tuple[int, int, str, int]:
    return id(document.data), id(document.text), document.path, document.index


def known_content(document: Document) -> str | None:
    """``document``'s content digest if this run has worked it out (or been told it), else
    None: never worked out here."""
    known = _CONTENT.get(id(document))
    return known[1] if known is not None and known[0]() is document else None


def remember_content(document: Document, content: str) -> None:
    """Take ``content`` as ``document``'s content digest: what :func:`content_key` worked
    out for this very document in an earlier run (a diff side kept with its documents'
    digests, renderer.diff.snapshot), so it is not worked out again."""
    if type(document) is Document and document.text is not None and known_content(document) is None:
        _remember(document, content)


def _remember(document: Document, content: str | None) -> None:
    ident, made_of = id(document), _made_of(document)

    def forget(reference: weakref.ref[Document]) -> None:
        if _CONTENT.get(ident, (None,))[0] is reference:
            del _CONTENT[ident]
        if _TWINS.get(made_of, (None,))[0] is reference:
            del _TWINS[made_of]

    reference = weakref.ref(document, forget)
    _CONTENT[ident] = (reference, content)
    _TWINS.setdefault(made_of, (reference, content))


def _content_digest(document: Document) -> str | None:
    """The data is spelt by marshal (version 2: no back-references, so equal data spells
    the same bytes whatever it shares), ten times faster than JSON; data marshal cannot
    spell (a timestamp, a str subclass) by JSON, under a tag of its own so the two
    spellings never meet."""
    assert document.text is not None
    try:
        spelt, how = marshal.dumps(document.data, 2), "marshal"
    except ValueError:
        try:
            data = json.dumps(document.data, sort_keys=True, separators=(",", ":"), default=typed)
        except (TypeError, ValueError):  # keys of mixed types, a cycle: not keyed, so never cached
            return None
        spelt, how = data.encode("utf-8"), "json"
    return cache.digest(how, document.path, str(document.index), document.text, spelt)


def typed(value: Any) -> str:
    """A YAML value JSON has no type for (a timestamp): its type and text, never mistaken
    for a string holding the same text."""
    return f"\0{type(value).__name__}:{value!r}"


def where(document: Document, key_path: Iterable[str | int]) -> tuple[str, int | None, int | None]:
    """``document.where(key_path)``; with the cache on, the line and column from the cache
    when kept (else worked out and kept on their second sighting)."""
    parts = tuple(key_path)
    key = _place_key(document, parts) if cache.enabled() else None
    if key is None:
        return document.where(parts)
    stored = _place_from(cache.get(KIND, key))
    if stored is not None:
        return (document.path, *stored)
    path, line, column = document.where(parts)
    if cache.admit(KIND, key):
        cache.put(KIND, key, f"{_number(line)},{_number(column)}".encode("ascii"))
    return path, line, column


def _place_key(document: Document, parts: tuple[Any, ...]) -> str | None:
    data = document.data
    if isinstance(data, dict) and (data.get("kind") == "Secret" or "sops" in data):
        return None  # a Secret's (or a SOPS file's): nothing of it is kept, not even a place
    content = content_key(document)
    if content is None:
        return None
    try:
        spelt = marshal.dumps(parts, 2)
    except ValueError:  # a key marshal cannot spell: worked out each time
        return None
    return cache.digest(FORMAT, __version__, content, spelt)


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _place_from(payload: bytes | None) -> tuple[int | None, int | None] | None:
    """Line and column as stored, or None (absent, or not what :func:`where` writes)."""
    if payload is None:
        return None
    try:
        line, column = payload.decode("ascii").split(",")
        return (int(line) if line else None, int(column) if column else None)
    except ValueError:
        return None
