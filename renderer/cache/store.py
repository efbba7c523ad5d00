"""The entries on disk: one file each, self-checking, written atomically, pruned by use.

Layout: ``<folder>/v<FORMAT>-<rail version>-<code>/<kind>/<key[:2]>/<key>``. A new rail (or a
new entry format, or edited code) reads and writes a folder of its own, so an upgrade never reads an
old entry; the first write of a new version removes the others' folders, and
``prune`` does too.

An entry is a header and the payload: a magic string, the format version, the kind,
the key, the payload's length and its SHA-256, then the payload. Reading checks all
of them: a torn write, a truncated or damaged file, a file of another kind or key
copied in, or anything else is read as absent, as a missing entry is: stored again
when it is missed a second time (see :mod:`.seen`, which also keeps the ``seen``
record in the version folder). Nothing read is trusted further than that: the folder is private (see
:mod:`.settings`), and each entry file must be a regular file of this user that
others cannot write.

Writes go to a temporary file (0600) in the entry's own folder, then ``os.replace``:
two runs writing the same key at once each replace the file with a whole entry, and a
reader sees the old entry or the new one, never half of either.

Size: every run adds what it writes to an estimate kept in ``<version>/usage``
(rewritten every few MiB, or every 1/16 of a small cap, and when the run ends). When the estimate passes the cap,
the run prunes once: it lists the entries, removes those used longest ago (an entry's
mtime, refreshed on reading at most once an hour) until three quarters of the cap
remain, and writes the true total back. So a put costs one file write, not a scan.
The estimate can drift low when runs race to update it; ``rail cache prune`` and the
next pass over the cap set it right.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from . import bundle
from .later import wait_for_writers
from .seen import Seen, limit_for
from .settings import TEMPLATES, private

FORMAT = 1
MAGIC = b"\x89rail-c\n"
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_KEY = re.compile(r"[0-9a-f]{16,128}")
_LAYOUT = re.compile(r"v[0-9]+-[A-Za-z0-9._+-]+")
_TOUCH_AFTER = 3600.0  # seconds: how stale an entry's mtime may get before a read refreshes it
_FLUSH_STEP = 4 * 1024 * 1024  # bytes written between updates of the usage estimate
_TMP = ".tmp-"
_HEAD = 8 + 2 + 1 + 1  # magic, format, kind length, key length
_DIGEST = 32


def layout_name() -> str:
    """This rail's folder inside the cache folder: the entry format, rail's version and
    a fingerprint of rail's own code (a working copy changes without a new version)."""
    return f"v{FORMAT}-{re.sub(r'[^A-Za-z0-9._+-]', '_', __version__)}-{code_fingerprint()}"


@functools.cache
def code_fingerprint() -> str:
    """Every module of rail by path, size and mtime (stat only: about a millisecond): an
    edit or a reinstall starts a new folder, so no entry outlives the code that wrote it."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for base, folders, files in os.walk(package):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(base, name))
                digest.update(
                    f"{os.path.relpath(os.path.join(base, name), package)} {info.st_size} {info.st_mtime_ns}\n".encode()
                )
    return digest.hexdigest()[:12]


def _header(kind: str, key: str, size: int, payload_digest: bytes) -> bytes:
    return b"".join(
        (
            MAGIC,
            FORMAT.to_bytes(2, "big"),
            len(kind).to_bytes(1, "big"),
            len(key).to_bytes(1, "big"),
            kind.encode("ascii"),
            key.encode("ascii"),
            size.to_bytes(8, "big"),
            payload_digest,
        )
    )


def check_name(kind: str, key: str) -> None:
    """A kind is a short lower-case name, a key a hex digest: anything else is a bug of the caller."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"cache kind {kind!r}: a short lower-case name")
    if not _KEY.fullmatch(key):
        raise ValueError("cache key: a hex digest (16 to 128 digits)")


@dataclass
class _Usage:
    """This process's view of one version folder's size."""

    estimate: int | None = None  # read from the usage file on first need
    unflushed: int = 0
    pruned: bool = False


@dataclass
class Store:
    """The entries under ``folder`` (a private cache folder), capped at ``cap`` bytes."""

    folder: Path
    cap: int
    root: Path = field(init=False)
    _prefix: str = field(init=False)
    _made: set[Path] = field(default_factory=set)
    _usage: _Usage = field(default_factory=_Usage)
    seen: Seen = field(init=False)
    _tag: str = field(init=False)  # this process's temporary files: pid and a random part
    _written: int = 0
    _bundles: dict[str, bundle.Bundle] = field(default_factory=dict)  # this command's, by kind

    def __post_init__(self) -> None:
        self.root = self.folder / layout_name()
        self._prefix = f"{self.root}{os.sep}"  # a string path: pathlib costs more than the read
        self.seen = Seen(self.root, self.folder, limit_for(self.cap))
        self._tag = f"{os.getpid()}-{os.urandom(4).hex()}"
        wait_for_writers(self.folder)  # an earlier command's child may still be writing here

    def path(self, kind: str, key: str) -> Path:
        return Path(self._entry(kind, key))

    def _entry(self, kind: str, key: str) -> str:
        return f"{self._prefix}{kind}{os.sep}{key[:2]}{os.sep}{key}"

    # ------------------------------------------------------------------ entries

    def get(self, kind: str, key: str) -> bytes | None:
        check_name(kind, key)
        if kind not in bundle.BUNDLED:
            return self._read(kind, key)
        kept = self._bundle(kind)
        payload = kept.get(key)
        if payload is None:
            payload = self._read(kind, key)
            if payload is not None:
                kept.note(key, payload)
        return payload

    def _read(self, kind: str, key: str) -> bytes | None:
        """The payload of ``kind``/``key``'s own file."""
        try:
            handle = os.open(self._entry(kind, key), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode) or private(info, "file"):
                return None
            data = _read_all(handle, info.st_size)
            if time.time() - info.st_mtime > _TOUCH_AFTER:
                with contextlib.suppress(OSError):
                    os.utime(handle)  # used: pruning keeps it longest
        except OSError:
            return None
        finally:
            os.close(handle)
        return _payload(data, kind, key)

    def put(self, kind: str, key: str, payload: bytes) -> None:
        if type(payload) is not bytes:
            raise TypeError("a cache payload is bytes: the caller serialises, and decides what may be stored")
        self.put_pieces(kind, key, [payload])
        if kind in bundle.BUNDLED:
            self._bundle(kind).note(key, payload)

    def put_pieces(self, kind: str, key: str, pieces: list[bytes]) -> None:
        """Store the payload ``pieces`` make, in order, without joining them: a kept diff
        side is tens of MB at 10,000 releases, and a join would hold it twice."""
        check_name(kind, key)
        if any(type(piece) is not bytes for piece in pieces):
            raise TypeError("a cache payload is bytes: the caller serialises, and decides what may be stored")
        folder = self.root / kind / key[:2]
        digest = hashlib.sha256()
        for piece in pieces:
            digest.update(piece)
        size = sum(len(piece) for piece in pieces)
        header = _header(kind, key, size, digest.digest())
        try:
            if self._usage.estimate is None:
                self._first_write()
            if folder not in self._made:
                make_private(folder, self.folder)
                self._made.add(folder)
            handle, temporary = self._temporary(f"{self._prefix}{kind}{os.sep}{key[:2]}{os.sep}")
        except OSError:
            self._made.discard(folder)  # cleared meanwhile: the next put makes it again
            return  # a read-only or full cache only costs the next run the work
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(header)
                for piece in pieces:
                    stream.write(piece)
            os.replace(temporary, self._entry(kind, key))
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        self._grew(on_disk(len(header) + size))

    # ------------------------------------------------------------------ bundles

    def _bundle(self, kind: str) -> bundle.Bundle:
        """``kind``'s bundle, read at this command's first get or put of the kind."""
        found = self._bundles.get(kind)
        if found is None:
            found = self._bundles[kind] = bundle.Bundle(bundle.read(self._read(bundle.KIND, bundle.bundle_key(kind))))
        return found

    def new_command(self) -> None:
        """A command starts: the bundles are read again (another process may have
        written them since), and this one's use starts empty."""
        self._bundles.clear()

    def flush_bundles(self) -> None:
        """End of a command: each bundle it used an entry missing from is written again.
        At once, not on a second sighting: it holds only entries that were admitted
        themselves, and a command that reads them is the one the next command repeats."""
        for kind, kept in self._bundles.items():
            if kept.changed():
                self.put(bundle.KIND, bundle.bundle_key(kind), kept.payload())
        self._bundles.clear()  # written: a second flush of the same command writes nothing

    def _temporary(self, folder: str) -> tuple[int, str]:
        """A new 0600 file in ``folder`` (a path ending in a separator) for one entry: a name
        of this process's own, made exclusively (half the cost of ``mkstemp``'s random
        names, which count on a second-sighting run's thousands of writes)."""
        self._written += 1
        name = f"{folder}{_TMP}{self._tag}-{self._written}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:  # another process with this tag (a fork): a random name
            return tempfile.mkstemp(dir=folder, prefix=_TMP)

    # ------------------------------------------------------------------ size

    def _first_write(self) -> None:
        """The first put of this process: read the estimate; a version's very first
        write (no usage file yet) removes the other versions' folders."""
        known = _read_usage(self.root)
        if known is None:
            self.remove_other_versions()
            self._usage.estimate = 0
            make_private(self.root, self.folder)
            _write_usage(self.root, 0)
        else:
            self._usage.estimate = known

    def _grew(self, size: int) -> None:
        usage = self._usage
        usage.unflushed += size
        assert usage.estimate is not None
        if usage.estimate + usage.unflushed > self.cap and not usage.pruned:
            usage.pruned = True
            self.prune(self.cap * 3 // 4)
        elif usage.unflushed >= min(_FLUSH_STEP, self.cap // 16):
            self.flush()

    def flush(self) -> None:
        """Add what this process wrote to the usage estimate (at the end of a run)."""
        usage = self._usage
        if not usage.unflushed:
            return
        total = (_read_usage(self.root) or 0) + usage.unflushed
        usage.estimate, usage.unflushed = total, 0
        _write_usage(self.root, total)

    def entries(self) -> list[tuple[float, int, Path, str]]:
        """Every entry of this version: (mtime, size, path, kind); temporary files of
        crashed writes older than an hour are removed on the way."""
        found: list[tuple[float, int, Path, str]] = []
        now = time.time()
        for kind_folder in _folders(self.root):
            for shard in _folders(kind_folder):
                try:
                    listing = list(os.scandir(shard))
                except OSError:
                    continue
                for item in listing:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.startswith(_TMP):
                        if now - info.st_mtime > 3600:
                            Path(item.path).unlink(missing_ok=True)
                        continue
                    if stat.S_ISREG(info.st_mode):
                        found.append((info.st_mtime, on_disk(info.st_size), Path(item.path), kind_folder.name))
        return found

    def prune(self, target: int | None = None) -> tuple[int, int]:
        """Remove other versions' folders, then entries used longest ago until at most
        ``target`` bytes (default: the cap) remain. Returns (entries removed, bytes removed)."""
        target = self.cap if target is None else target
        removed, freed = self.remove_other_versions()
        found = self.entries()
        total = sum(size for _, size, _, _ in found)
        for _, size, path, _ in sorted(found, key=lambda item: (item[0], item[2])):
            if total <= target:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
            removed += 1
            freed += size
        self._usage.estimate, self._usage.unflushed = total, 0
        with contextlib.suppress(OSError):
            _write_usage(self.root, total)
        return removed, freed

    def remove_other_versions(self) -> tuple[int, int]:
        """Remove the folders of other rail versions and entry formats: (entries, bytes)."""
        removed = freed = 0
        for folder in _folders(self.folder):
            if _LAYOUT.fullmatch(folder.name) and folder.name != layout_name():
                count, size = _count(folder)
                shutil.rmtree(folder, ignore_errors=True)
                removed, freed = removed + count, freed + size
        return removed, freed

    def clear(self) -> tuple[int, int]:
        """Remove everything rail wrote here (every version's folder and the compiled
        templates), nothing else: (entries, bytes)."""
        removed = freed = 0
        for folder in _folders(self.folder):
            if _LAYOUT.fullmatch(folder.name) or folder.name == TEMPLATES:
                count, size = _count(folder)
                shutil.rmtree(folder, ignore_errors=True)
                removed, freed = removed + count, freed + size
        self._made.clear()
        self._bundles.clear()
        self._usage = _Usage()
        self.seen.forget()
        return removed, freed


def on_disk(size: int) -> int:
    """What a file of ``size`` bytes costs: whole 4 KiB blocks (most entries are small,
    and the cap bounds the disk used, not the bytes written)."""
    return max(-(-size // 4096), 1) * 4096


def _payload(data: bytes, kind: str, key: str) -> bytes | None:
    """The payload of entry ``data`` if it is whole and is the entry of ``kind``/``key``."""
    start = _HEAD + len(kind) + len(key) + 8 + _DIGEST
    if len(data) < start:
        return None
    header = data[:start]
    size = int.from_bytes(header[start - 8 - _DIGEST : start - _DIGEST], "big")
    payload = data[start:]
    if len(payload) != size:
        return None
    if header != _header(kind, key, size, header[start - _DIGEST :]):
        return None
    if hashlib.sha256(payload).digest() != header[start - _DIGEST :]:
        return None
    return payload


def _read_all(handle: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(handle, max(size, 65536))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def make_private(folder: Path, top: Path) -> None:
    """``folder`` and its parents up to ``top``, each 0700 (made with that mode: no window)."""
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        return
    except FileNotFoundError:
        if folder.parent == top or folder == top:
            raise
        make_private(folder.parent, top)
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            return


def _folders(folder: Path) -> list[Path]:
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(Path(item.path) for item in listing if item.is_dir(follow_symlinks=False))


def _count(folder: Path) -> tuple[int, int]:
    entries = size = 0
    for base, _, files in os.walk(folder):
        for name in files:
            try:
                size += on_disk(os.stat(os.path.join(base, name), follow_symlinks=False).st_size)
            except OSError:
                continue
            entries += 1
    return entries, size


def _read_usage(root: Path) -> int | None:
    try:
        return max(int((root / "usage").read_text(encoding="ascii").strip()), 0)
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _write_usage(root: Path, total: int) -> None:
    try:
        handle, temporary = tempfile.mkstemp(dir=root, prefix=_TMP)
    except OSError:
        return
    try:
        with os.fdopen(handle, "w", encoding="ascii") as stream:
            stream.write(f"{total}\n")
        os.replace(temporary, root / "usage")
    except OSError:
        Path(temporary).unlink(missing_ok=True)
