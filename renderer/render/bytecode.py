"""Compiled templates kept between runs, so a pre-commit hook does not recompile them.

Jinja2 spends most of a small stack's render compiling templates to Python
(about 70 ms for rail's 13). rail's own templates come compiled with rail
(``compiled.py``, built into the wheel); this cache is for the rest: a stack's
own templates, edited ones, or rail run from a source tree that was never
installed. Jinja2's bytecode cache keeps their compiled code. An entry
is found by the template's name and its source's checksum, not by its file:
``rail diff`` renders each side from a temporary folder, and a key with the path
in it would write entries no run ever reads again (16 a diff). rail adds its own
version and the environment's settings to the key, since those change the
generated code too; Jinja2 checks its bytecode version on loading. (The code
keeps the file name it was first compiled from; rail locates template errors by
the template's name, never by that file.)

The folder is capped (``RAIL_CACHE_MAX_BYTES``, default 16 MiB): after a write,
the entries used longest ago go first. Using an entry marks it used.

Only compiled templates are stored, never spec values or rendered output. The
folder is private (0700, owned by the user): loading an entry runs its code, so
a folder someone else could write to is not used.

``RAIL_CACHE_DIR`` moves the folder (default ``$XDG_CACHE_HOME/rail``, else
``~/.cache/rail``); ``RAIL_NO_CACHE=1`` turns it off. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from .. import __version__

SUBFOLDER = "templates"
MAX_BYTES = 16 * 1024 * 1024


def cache_folder(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path | None:
    """Where compiled templates live, or None when caching is off or the folder is unsafe.
    The cache folder, its switches and its privacy check are renderer.cache's (settings)."""
    from ..cache import settings

    found = settings.resolve(environ, off=settings.switched_off())
    if found.folder is None:
        return None
    folder = found.folder / SUBFOLDER
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(folder, follow_symlinks=False)
    except OSError:
        return None  # read-only home, no home: render without the cache
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not private or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return None
    return folder


def cap_bytes(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    try:
        return max(int(environ.get("RAIL_CACHE_MAX_BYTES", "")), 0)
    except ValueError:
        return MAX_BYTES


def prune(folder: Path, cap: int) -> None:
    """Remove entries, least recently used first, until the folder holds at most ``cap`` bytes."""
    entries = []
    with os.scandir(folder) as listing:
        for entry in listing:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and not entry.name.startswith(".tmp-"):  # another run's write
                entries.append((info.st_mtime_ns, entry.name, info.st_size))
    total = sum(size for _, _, size in entries)
    for _, name, size in sorted(entries):  # oldest first; the name breaks ties the same way every time
        if total <= cap:
            return
        try:
            os.unlink(folder / name)
        except OSError:
            continue
        total -= size


def bytecode_cache(salt: str) -> Any:
    """A Jinja2 bytecode cache in ``cache_folder()``, or None. ``salt`` names the environment's settings."""
    found = cache_folder()
    if found is None:
        return None
    folder, cap = found, cap_bytes()
    from jinja2 import BytecodeCache
    from jinja2.bccache import Bucket

    class _FolderCache(BytecodeCache):
        def get_bucket(self, environment: Any, name: str, filename: str | None, source: str) -> Any:
            checksum = self.get_source_checksum(source)
            key = f"{__version__}|{salt}|{name}|{checksum}"
            bucket = Bucket(environment, hashlib.sha256(key.encode("utf-8")).hexdigest(), checksum)
            self.load_bytecode(bucket)
            return bucket

        def load_bytecode(self, bucket: Any) -> None:
            try:
                with open(folder / bucket.key, "rb") as stream:
                    bucket.load_bytecode(stream)
                os.utime(folder / bucket.key)  # used: pruning keeps it longest
            except OSError:
                return
            except Exception:  # noqa: BLE001 - a damaged entry is recompiled, never fatal
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            import tempfile  # only a compile writes: a run that finds everything never imports it

            try:
                handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            except OSError:
                return  # a read-only cache only costs the next run a compile
            try:
                with os.fdopen(handle, "wb") as stream:
                    bucket.write_bytecode(stream)
                os.replace(temporary, folder / bucket.key)
                prune(folder, cap)
            except OSError:
                Path(temporary).unlink(missing_ok=True)

    return _FolderCache()
