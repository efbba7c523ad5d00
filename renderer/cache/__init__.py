"""rail's cache between runs: content-addressed entries, each keyed by the digest of
exactly what it depends on (issue 16).

This is the interface the pipelines code against. ``get``/``put`` take a kind (a short
name: ``parse``, ``render``, ``verdict``, ``rule``, ``side``) and a key (a hex digest
the caller computed from every input of the entry; the store folds in rail's version
and the cache format itself). The store is :mod:`.store`, its folder, switches and cap
:mod:`.settings`; ``rail cache info|prune|clear`` reads and tidies it.

**Never a secret at rest.** The store cannot judge a payload: it takes opaque bytes.
So the rule is the caller's, and it is this: an entry whose content comes from a
Secret (``kind: Secret``, a SOPS file's ciphertext included), or holds a value the
secret classifier (:mod:`renderer.secrets`) calls secret (a secret-shaped value, or a
literal under a secret-looking key), is not stored, or is stored only as a digest.
The classifier sits above this layer, so whoever starts a run registers it here
(:func:`set_guard`; ``renderer.app.register_cache_guard``) and callers ask
:func:`secret_free`, which says no while no guard is registered: a pipeline run
without one stores nothing that needs judging. ``put`` accepts only ``bytes``, so no
object reaches the disk without its caller serialising it on purpose.

**Stored on second sighting.** A key missed for the first time is only remembered (a
digest of it, in one record per folder: :mod:`.seen`); an entry is stored only when
an earlier run missed the same key. Callers ask :func:`admit` before they judge,
serialise or ``put`` anything, so a one-off run writes one small file, and the guard
and the serialising are paid only for entries about to be stored. Within one run a
key asked for twice is still a first sighting (the in-process memos answer the
second ask). A document is judged once per run (:func:`secret_free_document`).

**Read in bundles.** The small entries nearly every command reads again (lint rule
results, schema verdicts: thousands of files) are also kept together, those the last
command used in one entry per kind (:mod:`.bundle`): a command reads one file for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from . import settings

__all__ = [
    "admit",
    "digest",
    "digest_after",
    "enabled",
    "get",
    "get_text",
    "hand_over",
    "put",
    "put_text",
    "secret_free",
    "secret_free_document",
    "set_guard",
    "spelt",
    "switch_off",
]


def digest(*parts: bytes | str) -> str:
    """One hex digest of ``parts`` in order; each part is length-prefixed, so no two
    different sequences give the same digest by concatenation."""
    # One update of the joined pieces: ~40% less than one a piece, at ~12,000 digests a hook run.
    return hashlib.sha256(spelt(*parts)).hexdigest()


def spelt(*parts: bytes | str) -> bytes:
    """What :func:`digest` hashes: each part after its length. Leading parts many keys
    share (a rule's format, version, id and settings) are spelt once: ``digest(*a, *b)``
    is ``digest_after(spelt(*a), *b)``."""
    pieces: list[bytes] = []
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        pieces.append(len(data).to_bytes(8, "big"))
        pieces.append(data)
    return b"".join(pieces)


def digest_after(head: bytes, *parts: bytes | str) -> str:
    """:func:`digest` of the parts ``head`` spells (see :func:`spelt`), then ``parts``."""
    return hashlib.sha256(head + spelt(*parts)).hexdigest()


def enabled() -> bool:
    """Whether this run reads and writes the cache (off: ``--no-cache``, ``RAIL_NO_CACHE=1``,
    or no private folder to keep it in)."""
    return _current().in_use


def get(kind: str, key: str) -> bytes | None:
    """The entry stored under ``kind``/``key``, or None (absent, torn, foreign or off)."""
    store = _store()
    return None if store is None else store.get(kind, key)


def admit(kind: str, key: str) -> bool:
    """Whether a ``put`` of ``kind``/``key`` would store it (an earlier run missed this key
    too); if not, the miss is remembered for the next run. Ask before judging or
    serialising an entry: a first sighting costs neither."""
    store = _store()
    return store is not None and bool(store.seen.admit(kind, key))


def put(kind: str, key: str, payload: bytes) -> None:
    """Store ``payload``; the caller asked :func:`admit` first. The caller guarantees it
    holds no secret value (a Secret's data, or a value the secret classifier calls
    secret): such content is stored only as a digest, or not at all."""
    store = _store()
    if store is not None:
        store.put(kind, key, payload)
        store.seen.stored(kind, key)


def put_pieces(kind: str, key: str, pieces: list[bytes]) -> None:
    """:func:`put` of the payload ``pieces`` make, in order, never joined in memory (a
    kind that is not bundled: a kept diff side)."""
    store = _store()
    if store is not None:
        store.put_pieces(kind, key, pieces)
        store.seen.stored(kind, key)


def get_text(kind: str, key: str) -> str | None:
    """A text :func:`put_text` stored, or None: absent, or not what it wrote (torn,
    foreign: its own digest does not match), so never trusted."""
    payload = get(kind, key)
    if payload is None or len(payload) < _TEXT_DIGEST:
        return None
    head, body = payload[:_TEXT_DIGEST], payload[_TEXT_DIGEST:]
    if hashlib.sha256(body).digest() != head:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def put_text(kind: str, key: str, text: str) -> None:
    """Store ``text`` (the caller asked :func:`admit` and holds it secret-free) after a
    digest of itself, which :func:`get_text` checks: an entry read back as text (a
    rendered doc) is used as it is, so a payload that is not whole must not pass."""
    body = text.encode("utf-8")
    put(kind, key, hashlib.sha256(body).digest() + body)


_TEXT_DIGEST = 32  # bytes of SHA-256 before a text's own bytes


def flush() -> None:
    """End of a run: write the bundles it changed, record what it wrote in the size
    estimate and what it saw in the sightings record (see :mod:`.bundle`, :mod:`.store`,
    :mod:`.seen`)."""
    for store in _STORES.values():
        store.flush_bundles()  # before the sightings are written: a bundle is admitted as any entry
        store.flush()
        store.seen.flush()


def hand_over() -> None:
    """This process is done with the cache: a child finishes its writes and records
    (:mod:`.later`). From now on it reads and writes nothing there (no store: nothing to
    flush, and no wait for that child)."""
    _STORES.clear()
    _HANDED[:] = [True]


def switch_off() -> None:
    """Turn the cache off for the rest of this process (``rail --no-cache``)."""
    _PINNED.clear()
    settings.switch_off()


Guard = Callable[[Any], bool]
_GUARD: list[Guard] = []


# The guard's verdict on each document judged in this run, by the data's identity: a
# parsed file's entry and each of its documents' positions entry ask about the same
# objects. The data is kept beside its verdict, so its id cannot be reused meanwhile.
_JUDGED: dict[int, tuple[Any, bool]] = {}


def set_guard(holds_secret: Guard | None) -> None:
    """Register ``holds_secret(data) -> bool``: whether parsed or rendered data holds a
    secret (None removes it). Registered by whoever starts a run, above this layer."""
    _GUARD[:] = [] if holds_secret is None else [holds_secret]
    _JUDGED.clear()
    if holds_secret is not None:  # a command starts: its bundles are read afresh (renderer.cache.bundle)
        for store in _STORES.values():
            store.new_command()
    # A run's settings hold while it runs: read once here, not from the environment at
    # each of the ~30,000 lookups of a 1,000-release lint (half a second).
    _PINNED[:] = [] if holds_secret is None else [settings.current()]


_PINNED: list[settings.Settings] = []


def _current() -> settings.Settings:
    return _PINNED[0] if _PINNED else settings.current()


def secret_free(data: Any) -> bool:
    """Whether ``data`` may be stored: a guard is registered and finds no secret in it."""
    return bool(_GUARD) and not _GUARD[0](data)


def secret_free_document(data: Any) -> bool:
    """:func:`secret_free` for one document's data, judged once per run (asked again about
    the same object, the first verdict answers). The guard is shown it as a one-document
    list, as it is shown a whole file's documents: a file is free of secrets exactly when
    each of its documents is."""
    if not _GUARD:
        return False
    known = _JUDGED.get(id(data))
    if known is not None and known[0] is data:
        return known[1]
    free = not _GUARD[0]([data])
    _JUDGED[id(data)] = (data, free)
    return free


_STORES: dict[tuple[str, int], Any] = {}


_HANDED: list[bool] = []  # [True] once hand_over was called


def _store() -> Any:
    """The store of this run's folder, or None when the cache is off (or handed over)."""
    current = _current()
    if current.folder is None or _HANDED:
        return None
    key = (str(current.folder), current.cap)
    found = _STORES.get(key)
    if found is None:
        from .store import Store

        found = _STORES[key] = Store(current.folder, current.cap)
    return found
