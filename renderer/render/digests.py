"""Render keys without spelling every release: context entries known by a digest of
what made them.

A rendered object is shared (``rail diff``: most objects are the same on both sides)
and kept on disk by a key that digests everything it depends on
(:func:`renderer.render.target.sharing_renders`). Spelling a release's whole data as
JSON for each of its objects cost more than the renders the key saves (1,000 releases:
~0.5 s of every ``rail check --staged``). So, inside that scope, the loader's and the
resolver's products are known by a digest of their inputs, by identity: a release by
its spec's path and text and the stack config, its values by the texts of the files
they merge (and the endpoints their references read). A key spells such an entry by
its digest, apart from the entries spelt in full, so no data spells as a digest does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

from ..memo import memo_scope

# Each entry holds its object: no id is reused while the scope lives.
_DIGESTS: ContextVar[dict[int, tuple[object, str]] | None] = ContextVar("rail_render_digests", default=None)


def sharing_digests() -> AbstractContextManager[None]:
    """Inside, :func:`spell_by_digest` records digests (outside, nothing is worked out)."""
    if _DIGESTS.get() is not None:
        return nullcontext()
    return memo_scope(_DIGESTS)


def wanted() -> bool:
    """Whether digests are recorded here: else their inputs need not be worked out."""
    return _DIGESTS.get() is not None


def spell_by_digest(value: object, *made_of: str | None) -> None:
    """Spell ``value`` (a whole context entry) in this scope's render keys by a digest of
    ``made_of``, which must determine it exactly; a None among them (an input without a
    text to digest) leaves it spelt in full."""
    memo = _DIGESTS.get()
    if memo is None or any(part is None for part in made_of):
        return
    memo[id(value)] = (value, digest_of(made_of))


def digests_of(context: Mapping[str, Any]) -> dict[str, str]:
    """The entries of ``context`` known by a digest in this scope, by name."""
    memo = _DIGESTS.get()
    if not memo:
        return {}
    found: dict[str, str] = {}
    for name, value in context.items():
        known = memo.get(id(value))
        if known is not None and known[0] is value:
            found[name] = known[1]
    return found


def digest_of(parts: tuple[str | None, ...]) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        encoded = (part or "").encode("utf-8", "surrogatepass")
        # Each part's length first: no two lists of parts hash the same bytes.
        hashed.update(len(encoded).to_bytes(8, "big"))
        hashed.update(encoded)
    return hashed.hexdigest()


def digest_of_spelling(value: object) -> str | None:
    """A digest of ``value`` as a render key spells it in full (None: it cannot be spelt)."""
    try:
        text = json.dumps(value, sort_keys=True, default=spelt, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return digest_of((text,))


def spelt(value: Any) -> Any:
    """The model's values as JSON: a dataclass by its type and every field, sets sorted."""
    if is_dataclass(value) and not isinstance(value, type):
        return {"~type": type(value).__qualname__, **{f.name: getattr(value, f.name) for f in fields(value)}}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(type(value).__name__)
