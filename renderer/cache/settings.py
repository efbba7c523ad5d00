"""Where rail's cache lives, whether this run may use it, and how big it may grow.

The folder is ``RAIL_CACHE_DIR``, else ``$XDG_CACHE_HOME/rail``, else ``~/.cache/rail``.
It is used only when it is private: a directory (not a link to one), owned by the user
running rail, that neither group nor others can write. An entry is data rail trusts
(a parsed document, a rendered object, a verdict, compiled template code that runs on
loading): a folder someone else can write to would let them choose what rail believes,
so such a folder is never used, and ``rail cache info`` says why. The run goes on
without the cache; nothing else changes.

``RAIL_NO_CACHE=1`` or ``rail --no-cache`` turns the cache off for the run. In CI (``CI``
set) it is off unless ``RAIL_CACHE_DIR`` names a folder: see :func:`resolve`.

The size cap is ``RAIL_CACHE_MAX_BYTES``, default 2 GiB (see ``DEFAULT_CAP``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Entries take about 60 MB on disk per 1,000 releases for one version of a stack
# (~10,000 small files: parses, positions, rendered objects, verdicts, rule results;
# measured at 1,000 releases), plus a few MB a kept diff side. 2 GiB holds the working
# tree and a diff's base side of a 10,000-release stack, the largest rail is built for,
# with room for recent revisions: a smaller cap there would prune what the next run
# reads. Small stacks never come near it.
DEFAULT_CAP = 2 * 1024 * 1024 * 1024

TEMPLATES = "templates"  # the compiled-template subfolder (renderer/render/bytecode.py)

_ENVIRONMENT = ("RAIL_NO_CACHE", "RAIL_CACHE_DIR", "XDG_CACHE_HOME", "HOME", "RAIL_CACHE_MAX_BYTES", "CI")


@dataclass(frozen=True)
class Settings:
    """The cache this run uses: ``folder`` when in use, else None and ``reason`` why not.
    ``location`` is where the folder is (or would be), known even when it is not used."""

    folder: Path | None
    location: Path | None
    reason: str
    cap: int

    @property
    def in_use(self) -> bool:
        return self.folder is not None


_switched_off = False
_resolved: dict[tuple[str | None, ...], Settings] = {}


def switch_off() -> None:
    """Turn the cache off for the rest of this process (``rail --no-cache``)."""
    global _switched_off
    _switched_off = True
    _resolved.clear()


def switch_on() -> None:
    """Undo :func:`switch_off` (tests run many commands in one process)."""
    global _switched_off
    _switched_off = False
    _resolved.clear()


def switched_off() -> bool:
    """Whether ``--no-cache`` turned the cache off for this process."""
    return _switched_off


def current() -> Settings:
    """This run's settings, worked out once per environment (tests change it between runs)."""
    environ = os.environ
    key = (str(_switched_off), *(environ.get(name) for name in _ENVIRONMENT))
    found = _resolved.get(key)
    if found is None:
        found = _resolved[key] = resolve(environ, off=_switched_off)
    return found


def location(environ: Mapping[str, str]) -> Path | None:
    """The folder the environment names, or None (no home folder to default to)."""
    if environ.get("RAIL_CACHE_DIR"):
        return Path(environ["RAIL_CACHE_DIR"])
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "rail"
    try:
        return Path(environ["HOME"]) / ".cache" / "rail" if environ.get("HOME") else Path.home() / ".cache" / "rail"
    except RuntimeError:
        return None  # no home folder (a bare container user)


def cap_bytes(environ: Mapping[str, str]) -> int:
    """``RAIL_CACHE_MAX_BYTES`` (a whole number of bytes), else ``DEFAULT_CAP``."""
    try:
        return max(int(environ.get("RAIL_CACHE_MAX_BYTES", "")), 0)
    except ValueError:
        return DEFAULT_CAP


def in_ci(environ: Mapping[str, str]) -> bool:
    """``CI`` set, as GitHub Actions, GitLab CI, Gitea/Forgejo Actions and most others do."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def turned_off(environ: Mapping[str, str]) -> bool:
    return environ.get("RAIL_NO_CACHE", "") not in ("", "0")


def resolve(environ: Mapping[str, str], *, off: bool = False, create: bool = True) -> Settings:
    """The settings ``environ`` gives; ``off``: ``--no-cache`` was given. With ``create``
    a missing folder is made (0700); an existing one is checked, never changed."""
    where = location(environ)
    cap = cap_bytes(environ)
    if off or turned_off(environ):
        return Settings(None, where, "turned off (--no-cache)" if off else "turned off (RAIL_NO_CACHE)", cap)
    if where is None:
        return Settings(None, None, "no folder for it (no RAIL_CACHE_DIR, XDG_CACHE_HOME or home folder)", cap)
    if in_ci(environ) and not environ.get("RAIL_CACHE_DIR"):
        # A fresh CI runner never reads what it writes (with admission on second
        # sighting it would only write the sightings record, but even that is waste):
        # a CI that keeps the folder between jobs names it.
        return Settings(None, where, "off in CI (CI is set): set RAIL_CACHE_DIR to a folder the CI keeps", cap)
    reason = unsafe(where, create=create)
    return Settings(None if reason else where, where, reason, cap)


def unsafe(folder: Path, *, create: bool = True) -> str:
    """Why ``folder`` may not hold rail's cache, or "" when it may (made 0700 if missing)."""
    if create:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except FileExistsError:
            pass  # a file or a link: said below
        except OSError as error:
            return f"cannot create it ({error.strerror or type(error).__name__})"
    try:
        info = os.stat(folder, follow_symlinks=False)
    except OSError as error:
        return f"cannot read it ({error.strerror or type(error).__name__})"
    return private(info, "folder")


def private(info: os.stat_result, what: str) -> str:
    """Why a file or folder with ``info`` is not private to this user, or ""."""
    if what == "folder" and not stat.S_ISDIR(info.st_mode):
        return "it is not a directory" + (" (a symbolic link)" if stat.S_ISLNK(info.st_mode) else "")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"others can write to it (mode {stat.S_IMODE(info.st_mode):04o}; run chmod 700 on it)"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"it belongs to another user (uid {info.st_uid})"
    return ""
