"""rail's cache between runs: content-addressed entries, each keyed by the digest of
exactly what it depends on (issue 16).

This is the interface the pipelines code against. ``get``/``put`` take a kind (a short
name: ``parse``, ``render``, ``verdict``, ``rule``, ``side``) and a key (a hex digest
the caller computed from every input of the entry; the store folds in rail's version
and the cache format itself). A caller never stores a secret value: see ``put``.
"""

from __future__ import annotations

import hashlib

__all__ = ["digest", "enabled", "get", "put"]


def digest(*parts: bytes | str) -> str:
    """One hex digest of ``parts`` in order; each part is length-prefixed, so no two
    different sequences give the same digest by concatenation."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def enabled() -> bool:
    """Whether this run reads and writes the cache (off: ``--no-cache``, ``RAIL_NO_CACHE=1``,
    or no private folder to keep it in)."""
    return False


def get(kind: str, key: str) -> bytes | None:
    """The entry stored under ``kind``/``key``, or None (absent, torn, foreign or off)."""
    return None


def put(kind: str, key: str, payload: bytes) -> None:
    """Store ``payload``. The caller guarantees it holds no secret value (a Secret's data,
    or a value the secret classifier calls secret): such content is stored only as a
    digest, or not at all."""
    return None
