"""What a diff side is kept as (:mod:`.snapshot`), whole or as a delta of another (issue 16).

A side kept whole is its :class:`Kept` form. The side a pre-commit hook keeps (the index)
differs from the side it restored (the base) in the few releases the commit touched, yet
pickling it whole cost half a second of a 1,000-release run and, at 10,000, the pickler's
memo of millions of objects (~90 MB of the run's peak memory). So a side is kept as a
:class:`Told`: the differences from a side kept whole (its *root*, :class:`Root`). Each of
its collections (objects, files, documents, releases, resolved values, parses, renders,
skeletons, content digests, walks, rule entries, release renders) is a table in its own
order: an entry the same as the root's entry under the same key is the root's entry's
place there; any other entry is written out. A side that differs from its root in more than one entry in
:data:`OWN_AT_MOST` is kept whole, and is the root of the sides kept after it: a delta
always names a side kept whole, never another delta.

"The same" is equality that misses nothing: dataclass equality leaves a document's text
and first line out (:class:`renderer.yamlio.Document`), which say where a finding points,
so those are compared too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..lint.results import Resolved
from ..load.stack import Marks, SecretFile
from ..render import Rendered
from ..render.target import OutputFile, ReleaseRenders
from ..yamlio import Document, ParseEntries, Skeleton
from .sides import DiffObject, ObjectKey, Side

OWN_AT_MOST = 8  # a side with more than one entry in this many of its own is kept whole

# An entry of a table: the root's entry at this place, or a key and value of its own.
Entry = int | tuple[Any, Any]
Entries = list[tuple[Any, Any]]


@dataclass(frozen=True)
class Kept:
    side: Side  # with every Secret cut out
    secrets: dict[str, str]  # secret file path -> SHA-256 of its bytes
    outputs: dict[int, str]  # index in rendered.files -> the secret file it passes through
    as_text: frozenset[int]  # indexes in rendered.files whose bytes are their document's text
    objects: dict[ObjectKey, str]  # a Secret object -> the secret file it is
    # What reading the side parsed and rendered, given to the run that restores it: the
    # other side then reads and renders what the two share once, as one set of objects.
    parses: ParseEntries
    renders: dict[str, Document]
    # A secret file's parse without its values (see renderer.yamlio.skeleton): restoring
    # rebuilds it from the file's text, not parsing it again. A file with none is parsed.
    skeletons: dict[str, Skeleton]
    # The lint's content digest of each document kept (renderer.lint.documents) that the
    # run keeping it worked out: restoring hands them back, so a side linked to this one
    # (the next index, sharing most documents) keys its per-object results without
    # spelling and hashing thousands of documents again.
    contents: dict[str, Document]
    # The walks of its values for references (renderer.load.stack.marks_of): the other
    # side's load and render, sharing most values, walk only the changed ones.
    marks: Marks
    # The per-object rule entries its lint resolved (renderer.lint.results.recording): the
    # next index's lint finds its unchanged objects' results with no digest made.
    results: Resolved
    # The content digests (renderer.lint.documents) of its Secrets' documents, by path and
    # index: the documents are cut out, and rebuilt when it is restored; a digest is kept.
    secret_contents: dict[tuple[str, int], str]
    # What each release rendered, by its inputs (renderer.render.target.recorded): file names
    # and render keys (of ``renders``): the other side renders only the changed releases.
    release_renders: ReleaseRenders


@dataclass(frozen=True)
class Told:
    """A side kept as its differences from the side kept whole under ``root``."""

    root: str  # the cache entry of the side kept whole
    shell: Kept  # the side with its collections empty
    tables: dict[str, list[Entry]]  # per collection (see COLLECTIONS)


@dataclass(frozen=True)
class Root:
    """A side kept whole, restored in this run (from its ``entry``): what deltas name."""

    entry: str
    kept: Kept

    def table(self, name: str) -> tuple[list[Any], list[Any], dict[Any, int]]:
        """The collection ``name``'s keys and entries in order, and each key's place: made
        anew when asked (once a join or a tell), never held through the run (at 10,000
        releases some 15 MB)."""
        entries = COLLECTIONS[name](self.kept)
        keys = [key for key, _ in entries]
        return keys, [value for _, value in entries], {key: place for place, key in enumerate(keys)}


def tell(kept: Kept, root: Root) -> Told | None:
    """``kept`` as a delta of ``root``; None if it differs in too much (keep it whole)."""
    tables: dict[str, list[Entry]] = {}
    own = total = 0
    for name, entries_of in COLLECTIONS.items():
        _, values, places = root.table(name)
        table: list[Entry] = []
        for key, value in entries_of(kept):
            place = places.get(key)
            if place is not None and same(value, values[place]):
                table.append(place)
            else:
                table.append((key, value))
                own += 1
        tables[name] = table
        total += len(table)
    if own * OWN_AT_MOST > total:
        return None
    return Told(root.entry, _with({name: [] for name in COLLECTIONS}, kept), tables)


def join(told: Told, root: Root) -> Kept | None:
    """The side ``told`` tells; None if it names a place ``root`` does not have."""
    collections: dict[str, Entries] = {}
    for name in COLLECTIONS:
        keys, values, _ = root.table(name)
        entries: Entries = []
        for entry in told.tables.get(name, []):
            if type(entry) is int:
                if not 0 <= entry < len(values):
                    return None
                entries.append((keys[entry], values[entry]))
            elif type(entry) is tuple and len(entry) == 2:
                entries.append(entry)
            else:
                return None
        collections[name] = entries
    return _with(collections, told.shell)


def same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are interchangeable: equal, their documents' texts and first lines too."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    return bool(a == b) and _placed(a) == _placed(b)


def _placed(value: Any) -> tuple[Any, ...]:
    """What equality leaves out of ``value``: its documents' texts and first lines."""
    if isinstance(value, Document):
        return (value.text, value.start_line)
    if isinstance(value, (DiffObject, OutputFile, SecretFile)):
        return _placed(value.document) if value.document is not None else ()
    if isinstance(value, list):
        return tuple(_placed(item) for item in value)
    return ()


def _parts(kept: Kept) -> tuple[Side, Any, Rendered]:
    side, loaded, rendered = kept.side, kept.side.loaded, kept.side.rendered
    assert loaded is not None and rendered is not None  # a side kept is read from specs
    return side, loaded, rendered


def _with(collections: dict[str, Entries], kept: Kept) -> Kept:
    """``kept`` with its collections these entries."""
    side, loaded, rendered = _parts(kept)

    def values(name: str) -> list[Any]:
        return [value for _, value in collections[name]]

    loaded = replace(
        loaded,
        stack=replace(loaded.stack, releases=tuple(values("releases"))),
        spec_documents=dict(collections["specs"]),
        values_documents=dict(collections["values"]),
        secret_files=dict(collections["secrets"]),
    )
    resolution = replace(
        rendered.resolution,
        values=dict(collections["resolved"]),
        endpoints=dict(collections["endpoints"]),
        referenced=dict(collections["referenced"]),
    )
    side = replace(
        side, objects=dict(collections["objects"]), loaded=loaded, rendered=Rendered(values("files"), resolution)
    )
    return replace(
        kept,
        side=side,
        parses=dict(collections["parses"]),
        renders=dict(collections["renders"]),
        skeletons=dict(collections["skeletons"]),
        contents=dict(collections["contents"]),
        marks=dict(collections["marks"]),
        results=dict(collections["results"]),
        secret_contents=dict(collections["secret_contents"]),
        release_renders=dict(collections["release_renders"]),
    )


def _loaded(kept: Kept) -> Any:
    return _parts(kept)[1]


def _resolution(kept: Kept) -> Any:
    return _parts(kept)[2].resolution


# Each collection of a kept side: its entries as (key, value) pairs in order. ``_with``
# puts them back; a collection left out of here is kept whole in the shell.
COLLECTIONS: dict[str, Callable[[Kept], Entries]] = {
    "objects": lambda kept: list(kept.side.objects.items()),
    "files": lambda kept: [(file.path, file) for file in _parts(kept)[2].files],
    "specs": lambda kept: list(_loaded(kept).spec_documents.items()),
    "values": lambda kept: list(_loaded(kept).values_documents.items()),
    "secrets": lambda kept: list(_loaded(kept).secret_files.items()),
    "releases": lambda kept: [(release.name, release) for release in _loaded(kept).stack.releases],
    "resolved": lambda kept: list(_resolution(kept).values.items()),
    "endpoints": lambda kept: list(_resolution(kept).endpoints.items()),
    "referenced": lambda kept: list(_resolution(kept).referenced.items()),
    "parses": lambda kept: list(kept.parses.items()),
    "renders": lambda kept: list(kept.renders.items()),
    "skeletons": lambda kept: list(kept.skeletons.items()),
    "contents": lambda kept: list(kept.contents.items()),
    "marks": lambda kept: list(kept.marks.items()),
    "results": lambda kept: list(kept.results.items()),
    "secret_contents": lambda kept: list(kept.secret_contents.items()),
    "release_renders": lambda kept: list(kept.release_renders.items()),
}
