"""``rail cache info|prune|clear``: what the cache holds, and tidying it by hand.

Each returns the text to print; the command line only prints it. ``prune`` and
``clear`` act on the folder even when this run does not use the cache
(``RAIL_NO_CACHE``), but never on a folder that is not private: there, rail may not
know what it is deleting, and :class:`Unusable` says why.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import settings
from .seen import NAME as SEEN
from .seen import read as read_seen
from .store import _LAYOUT, Store, _count, _folders, layout_name

_MIB = 1024 * 1024


class Unusable(Exception):
    """The folder cannot be pruned or cleared: the message says why."""


def _size(size: int) -> str:
    return f"{size} bytes" if size < 10 * 1024 else f"{size / _MIB:.1f} MiB"


def info() -> str:
    """Where the cache is, whether this run uses it (and why not), what it holds, the cap."""
    current = settings.current()
    lines = [f"folder:  {current.location if current.location is not None else '(none)'}"]
    lines.append("in use:  yes" if current.in_use else f"in use:  no: {current.reason}")
    lines.append(f"cap:     {_size(current.cap)} (RAIL_CACHE_MAX_BYTES)")
    where = current.location
    readable = where is not None and not settings.unsafe(where, create=False)
    if not readable or where is None:
        return "\n".join(lines) + "\n"
    the_store = Store(where, current.cap)
    kinds: dict[str, list[int]] = {}
    for _, size, _, kind in the_store.entries():
        counted = kinds.setdefault(kind, [0, 0])
        counted[0] += 1
        counted[1] += size
    lines.append(f"version: {layout_name()}")
    total_entries = total_size = 0
    for name in sorted(kinds):
        entries, size = kinds[name]
        lines.append(f"  {name:10} {entries:8} entries  {_size(size)}")
        total_entries, total_size = total_entries + entries, total_size + size
    templates = where / settings.TEMPLATES
    if templates.is_dir():
        entries, size = _count(templates)
        lines.append(f"  {'templates':10} {entries:8} entries  {_size(size)} (compiled templates)")
        total_entries, total_size = total_entries + entries, total_size + size
    stale = [folder for folder in _folders(where) if _LAYOUT.fullmatch(folder.name) and folder.name != layout_name()]
    if stale:
        entries, size = (sum(values) for values in zip(*(_count(folder) for folder in stale), strict=True))
        names = ", ".join(folder.name for folder in stale)
        lines.append(f"  other versions ({names}): {entries} entries  {_size(size)} (rail cache prune removes them)")
        total_entries, total_size = total_entries + entries, total_size + size
    lines.append(f"total:   {total_entries} entries  {_size(total_size)}")
    waiting = len(read_seen(the_store.root / SEEN))
    lines.append(f"seen:    {waiting} keys seen once (each stored when a later run misses it again)")
    return "\n".join(lines) + "\n"


def _usable() -> Path:
    """The cache folder, if it exists and is private (the off switches do not matter here)."""
    where = settings.location(os.environ)
    if where is None:
        raise Unusable("no cache folder: no RAIL_CACHE_DIR, XDG_CACHE_HOME or home folder")
    if not where.exists() and not where.is_symlink():
        raise FileNotFoundError(where)
    reason = settings.unsafe(where, create=False)
    if reason:
        raise Unusable(f"{where}: not rail's private cache folder ({reason}): left as it is")
    return where


def prune() -> str:
    """Apply the cap now and remove other versions' folders."""
    try:
        where = _usable()
    except FileNotFoundError as missing:
        return f"nothing to prune: {missing.args[0]} does not exist\n"
    cap = settings.cap_bytes(os.environ)
    the_store = Store(where, cap)
    removed, freed = the_store.prune()
    left = the_store.entries()
    return (
        f"pruned {where}: removed {removed} entries ({_size(freed)}); "
        f"{len(left)} entries ({_size(sum(size for _, size, _, _ in left))}) remain, cap {_size(cap)}\n"
    )


def clear() -> str:
    """Remove everything rail wrote in the cache folder, and nothing else."""
    try:
        where = _usable()
    except FileNotFoundError as missing:
        return f"nothing to clear: {missing.args[0]} does not exist\n"
    removed, freed = Store(where, settings.cap_bytes(os.environ)).clear()
    return f"cleared {where}: removed {removed} entries ({_size(freed)})\n"
