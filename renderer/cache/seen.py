"""Admission on second sighting: an entry is stored only when an earlier run asked for
its key too (issue 16).

A run that fills an empty cache pays, for every entry, the secret guard and a file
write, which cost a cold ``rail lint`` about as much again as the work itself; a run
whose folder is thrown away afterwards (a CI job, a one-off tree) gets nothing back
for it. So the first time a key is missed the run only remembers that it saw it, and
the entry is worked out, judged by the guard and written when a later run misses the
same key again: from the third run on, everything the runs share is read back.

What is remembered is one file per version folder, ``<version>/seen``: a header
(magic, format, count, SHA-256 of the rest) and then one 16-byte digest of each
(kind, key) the recent runs missed and did not store. Never any content, not even a
key as stored: a key is itself a digest, and the record holds a digest of it. It is
read on the first miss of a run (a warm run misses nothing, so never reads it) and
written once, atomically and 0600 like an entry, when the run ends and only if the run
changed it. A torn, damaged, foreign or unsafe file reads as empty: the next run
stores nothing it would have stored, nothing worse.

Bounded: at most ``limit`` digests (16 bytes each), this run's sightings first, then
the earlier ones it did not meet, oldest dropped. Two runs at once each write a whole
record and the last one wins: a lost sighting costs one more run, never a wrong entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .settings import private

NAME = "seen"
MAGIC = b"\x89rail-s\n"
FORMAT = 1
WIDTH = 16  # bytes of a sighting: 128 bits, no two keys of a cache's lifetime collide
_HEADER = len(MAGIC) + 2 + 4 + 32
_MOST = 1 << 18  # 4 MiB of sightings at the very most, whatever the cap
_LEAST = 1024


def limit_for(cap: int) -> int:
    """How many sightings to keep under a size cap: as many as entries of one 4 KiB
    block fit under it (no more keys could be stored anyway), within fixed bounds."""
    return max(_LEAST, min(_MOST, cap // 4096))


def sighting(kind: str, key: str) -> bytes:
    """What the record keeps of ``kind``/``key``: a digest, never the key itself."""
    return hashlib.sha256(f"{kind}\0{key}".encode("ascii")).digest()[:WIDTH]


@dataclass
class Seen:
    """One run's view of the record under version folder ``root``."""

    root: Path
    top: Path  # the cache folder: the version folder is made below it, private, when missing
    limit: int
    _earlier: list[bytes] | None = None  # read on the first miss, in the record's order
    _known: frozenset[bytes] = frozenset()
    _new: dict[bytes, None] = field(default_factory=dict)  # this run's first sightings, in order
    _admitted: set[bytes] = field(default_factory=set)
    _stored: set[bytes] = field(default_factory=set)  # admitted and then put: no longer waiting

    def admit(self, kind: str, key: str) -> bool:
        """Whether an entry for ``kind``/``key`` may be stored now: an earlier run missed
        it too. If not, this miss is remembered (when the run ends) for the next run."""
        seen = sighting(kind, key)
        if seen in self._admitted:
            return True
        if self._earlier is None:
            self._earlier = read(self.root / NAME)
            self._known = frozenset(self._earlier)
        if seen in self._known:
            self._admitted.add(seen)
            return True
        self._new[seen] = None
        return False

    def stored(self, kind: str, key: str) -> None:
        """An entry for ``kind``/``key`` was put: its sighting has done its work."""
        self._stored.add(sighting(kind, key))

    def flush(self) -> None:
        """End of a run: write the record if this run changed it, then forget it (the
        next command in this process reads it again, as a new process would). A key
        admitted but not stored (the guard refused it: a SOPS file's parse) stays, so
        every run asks about it without rewriting the record."""
        if self._earlier is not None and (self._new or self._stored):
            # Stored keys now have entries: only a prune could make them missing again.
            left = [seen for seen in self._earlier if seen not in self._stored and seen not in self._new]
            write(self.root, self.top, [*self._new, *left][: self.limit])
        self._earlier, self._known = None, frozenset()
        self._new.clear()
        self._admitted.clear()
        self._stored.clear()

    def forget(self) -> None:
        """``rail cache clear``: nothing of this run's view outlives the folder."""
        self._earlier, self._known = None, frozenset()
        self._new.clear()
        self._admitted.clear()
        self._stored.clear()


def read(path: Path) -> list[bytes]:
    """The sightings in the record at ``path``; none when it is absent, torn, damaged,
    foreign, or not a private regular file of this user."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or private(info, "file"):
            return []
        data = b""
        while chunk := os.read(handle, max(info.st_size, 65536)):
            data += chunk
    except OSError:
        return []
    finally:
        os.close(handle)
    return _parsed(data)


def _parsed(data: bytes) -> list[bytes]:
    if len(data) < _HEADER or not data.startswith(MAGIC):
        return []
    at = len(MAGIC)
    if int.from_bytes(data[at : at + 2], "big") != FORMAT:
        return []
    count = int.from_bytes(data[at + 2 : at + 6], "big")
    body = data[_HEADER:]
    if len(body) != count * WIDTH or hashlib.sha256(body).digest() != data[at + 6 : _HEADER]:
        return []
    return [body[start : start + WIDTH] for start in range(0, len(body), WIDTH)]


def encoded(sightings: list[bytes]) -> bytes:
    body = b"".join(sightings)
    return MAGIC + FORMAT.to_bytes(2, "big") + len(sightings).to_bytes(4, "big") + hashlib.sha256(body).digest() + body


def write(root: Path, top: Path, sightings: list[bytes]) -> None:
    """Replace the record atomically (a temporary 0600 file and a rename); a folder that
    cannot be written only costs the next run its sightings."""
    from .store import make_private

    try:
        make_private(root, top)
        handle, temporary = tempfile.mkstemp(dir=root, prefix=".tmp-")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(encoded(sightings))
        os.replace(temporary, root / NAME)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
