"""Small entries of one kind kept together: one read instead of thousands (issue 16).

A warm ``rail check --staged`` at 1,000 releases asked the store for ~6,500 lint rule
results and schema verdicts, one small file each: opening, checking and reading them
cost about half a second, though nearly all of them held what the previous command
read too. So for a bundled kind the store also keeps the entries the last command used
in one more entry (kind ``bundle``, one fixed key per bundled kind). It is read once,
at the first get of its kind, and answers the gets it holds; what the command reads
from single files or puts is added to what it used, and when the command ends
(:func:`renderer.cache.flush`) the bundle is written again, only if the command used an
entry it did not hold. The single files stay as they are: the bundle only saves reads.

Still content-addressed where it counts: each entry in a bundle stays under its own
key, so a bundle another command wrote (another stack, another branch) holds entries
that are right or absent for this one, never wrong; only how many gets it answers
depends on what ran last. It holds payloads that were put (their caller's guarantee: no
secret value, see :mod:`renderer.cache`) or read back from such entries, nothing else.

Bounded: the entries this command used, in the order it used them, then those of the
previous bundle it did not use (the other side of a branch switch), at most twice as
many as it used (and at least ``_LEAST``). Written at once, not on a second sighting:
it holds only entries that were themselves admitted, so a one-off run writes none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

KIND = "bundle"
BUNDLED = frozenset({"rule", "verdict"})  # small, many, and read again by nearly every command
_LEAST = 4096


def bundle_key(kind: str) -> str:
    """The fixed key of ``kind``'s bundle (a hex digest, as every key of the store)."""
    return hashlib.sha256(f"{KIND}\0{kind}".encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Bundle:
    """One command's view of one kind's bundle: what the last one left (``held``) and
    what this one used (``used``), both key -> payload, in order."""

    held: dict[str, bytes]
    used: dict[str, bytes] = field(default_factory=dict)

    def get(self, key: str) -> bytes | None:
        payload = self.held.get(key)
        if payload is not None:
            self.used[key] = payload
        return payload

    def note(self, key: str, payload: bytes) -> None:
        """An entry of this kind the command read from its own file, or put."""
        self.used[key] = payload

    def changed(self) -> bool:
        """Whether this command used an entry the bundle does not hold: else writing it
        again would only cost the write."""
        held = self.held
        return any(key not in held for key in self.used)

    def payload(self) -> bytes:
        """The next bundle: what this command used, then what it did not of the last one."""
        kept = dict(self.used)
        most = max(2 * len(kept), _LEAST)
        for key, payload in self.held.items():
            if len(kept) >= most:
                break
            kept.setdefault(key, payload)
        # latin-1 spells every byte as one character: any payload goes through JSON as it is.
        return json.dumps({key: payload.decode("latin-1") for key, payload in kept.items()}).encode("ascii")


def read(payload: bytes | None) -> dict[str, bytes]:
    """The entries of a stored bundle (the store checked its header and digest); anything
    not of the shape :meth:`Bundle.payload` writes reads as an empty bundle."""
    if payload is None:
        return {}
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    try:
        return {key: text.encode("latin-1") for key, text in data.items() if isinstance(text, str)}
    except UnicodeEncodeError:
        return {}
