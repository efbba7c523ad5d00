"""Notes: what a lint run could not check, or left out, and why. Not findings.

A producer appends a plain string (a one-off, already naming its file) or a
:class:`Note` of a kind. On a real repository the same note comes from dozens of
objects (every release on a deprecated API version, every release defined twice):
printed one by one they bury the findings. So the run prints notes grouped, in
every format (text, JSON ``summary.notes``, GitHub ``::notice::``): exact repeats
once, and the notes of one kind and message as one line with how many, the first
few files and the first one's detail::

    HelmRelease helm.toolkit.fluxcd.io/v2beta2 is a deprecated version ...: 6 object(s),
    in clusters/a.yaml, clusters/b.yaml, clusters/c.yaml and 3 more; first: HelmRelease podinfo

A kind alone is a note printed as ``path: detail`` (or ``path: message``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SHOWN_PATHS = 3

DEPRECATED_API = "deprecated-api"
NO_SCHEMA = "no-schema"
DUPLICATE_RELEASE = "duplicate-release"
LAYERS_UNDECLARED = "layers-undeclared"


@dataclass(frozen=True)
class Note:
    """One note of a kind. Notes with equal ``kind`` and ``message`` are one line, so
    ``message`` must not name the object (``detail`` does, shown for the first only)."""

    kind: str
    message: str
    path: str = ""
    detail: str = ""


def grouped(notes: Iterable[str | Note]) -> tuple[str, ...]:
    """Each note once; the notes of one kind and message as one line, in first-seen order."""
    groups: dict[tuple[str, str], list[Note]] = {}
    for note in dict.fromkeys(notes):
        if isinstance(note, str):
            groups.setdefault(("", note), [])
        else:
            groups.setdefault((note.kind, note.message), []).append(note)
    return tuple(message if not found else _line(found) for (_, message), found in groups.items())


def _line(found: list[Note]) -> str:
    first = found[0]
    if len(found) == 1:
        text = first.message if not first.detail else f"{first.detail}: {first.message}"
        return f"{first.path}: {text}" if first.path else text
    paths = [path for path in dict.fromkeys(note.path for note in found) if path]
    more = len(paths) - SHOWN_PATHS
    shown = ", ".join(paths[:SHOWN_PATHS]) + (f" and {more} more" if more > 0 else "")
    where = f", in {shown}" if shown else ""
    detail = f"; first: {first.detail}" if first.detail else ""
    return f"{first.message}: {len(found)} times{where}{detail}"
