"""Compiled templates kept between runs, so a pre-commit hook does not recompile them.

Jinja2 spends most of a small stack's render compiling templates to Python
(about 70 ms for rail's 13). Its bytecode cache keeps the compiled code, and is
exact: an entry is found by the template's name and file and used only if the
template's source checksum and Jinja2's bytecode version match. rail adds its
own version and the environment's settings to the key, since those change the
generated code too.

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
import tempfile
from pathlib import Path
from typing import Any

from .. import __version__

SUBFOLDER = "templates"


def cache_folder(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path | None:
    """Where compiled templates live, or None when caching is off or the folder is unsafe."""
    if environ.get("RAIL_NO_CACHE", "") not in ("", "0"):
        return None
    if environ.get("RAIL_CACHE_DIR"):
        base = Path(environ["RAIL_CACHE_DIR"])
    elif environ.get("XDG_CACHE_HOME"):
        base = Path(environ["XDG_CACHE_HOME"]) / "rail"
    else:
        try:
            base = Path.home() / ".cache" / "rail"
        except RuntimeError:
            return None  # no home folder (a bare container user): render without the cache
    folder = base / SUBFOLDER
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.stat(folder, follow_symlinks=False)
    except OSError:
        return None  # read-only home, no home: render without the cache
    private = stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if not private or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return None
    return folder


def bytecode_cache(salt: str) -> Any:
    """A Jinja2 bytecode cache in ``cache_folder()``, or None. ``salt`` names the environment's settings."""
    folder = cache_folder()
    if folder is None:
        return None
    from jinja2 import BytecodeCache

    class _FolderCache(BytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            key = f"{__version__}|{salt}|{name}|{filename}"
            return hashlib.sha256(key.encode("utf-8")).hexdigest()

        def load_bytecode(self, bucket: Any) -> None:
            try:
                with open(folder / bucket.key, "rb") as stream:
                    bucket.load_bytecode(stream)
            except OSError:
                return
            except Exception:  # noqa: BLE001 - a damaged entry is recompiled, never fatal
                bucket.reset()

        def dump_bytecode(self, bucket: Any) -> None:
            try:
                handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            except OSError:
                return  # a read-only cache only costs the next run a compile
            try:
                with os.fdopen(handle, "wb") as stream:
                    bucket.write_bytecode(stream)
                os.replace(temporary, folder / bucket.key)
            except OSError:
                Path(temporary).unlink(missing_ok=True)

    return _FolderCache()
