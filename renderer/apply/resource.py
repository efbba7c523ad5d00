"""An object while a build changes it: its data, its past names, where its fields came from.

The build needs a mutable object (kustomize transforms in place, level after level)
while the model is frozen: :class:`Resource` is the working copy, frozen into an
:class:`~renderer.apply.model.AppliedObject` at the end.

Provenance is a stack of layers, one per document that wrote into the object, each a
sparse map "object key path -> document key path". Lists complicate it: a strategic
merge or a JSON patch moves items, so :meth:`Resource.reindex` renames the keys of
every older layer, and where an older layer only covered the list through a parent
(the source document maps ``()`` to ``()``) it gets explicit entries for the items
that moved. Changes are buffered by a :class:`Recorder` and applied only when a
patch succeeds, so a failed patch leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..yamlio import Document, KeyPath
from .kinds import Gvk, gvk_of, is_cluster_scoped
from .model import AppliedObject, Overlay, copy_data


@dataclass(frozen=True)
class ResId:
    """kustomize's resource id: type, name and namespace (empty when unset)."""

    gvk: Gvk
    name: str
    namespace: str

    @property
    def cluster_scoped(self) -> bool:
        return is_cluster_scoped(self.gvk)

    @property
    def effective_namespace(self) -> str:
        """kustomize's ``EffectiveNamespace``: unset means ``default``; none for cluster-scoped kinds."""
        if self.cluster_scoped:
            return "_non_namespaceable_"
        return self.namespace or "default"

    def same_namespace(self, other: ResId) -> bool:
        """kustomize's ``IsNsEquals``."""
        if self.cluster_scoped and other.cluster_scoped:
            return True
        return self.effective_namespace == other.effective_namespace

    def equals(self, other: ResId) -> bool:
        return self.key == other.key

    @property
    def key(self) -> tuple[Gvk, str, str]:
        """Equal for ids kustomize takes as the same object."""
        return (self.gvk, self.name, self.effective_namespace)


@dataclass
class Layer:
    """Mutable form of an :class:`Overlay`."""

    document: Document
    entries: dict[KeyPath, KeyPath] = field(default_factory=dict)
    line_offset: int = 0
    column_offset: int = 0

    def covers(self, key_path: KeyPath) -> bool:
        return any(key_path[:size] in self.entries for size in range(len(key_path) + 1))


class Resource:
    """One object being built."""

    def __init__(self, data: dict[str, Any], document: Document, base: KeyPath = ()) -> None:
        self.data = data
        self.document = document
        self.base = base
        self.layers: list[Layer] = [Layer(document, {(): base})]  # oldest first
        self.previous: list[ResId] = []  # kustomize's PrevIds, oldest first
        self.needs_hash = False  # set by generators: the name gets kustomize's content hash

    # ---------------------------------------------------------------- identity

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.data.get("metadata")
        if not isinstance(value, dict):
            value = {}
            self.data["metadata"] = value
        return value

    @property
    def gvk(self) -> Gvk:
        return gvk_of(self.data)

    @property
    def kind(self) -> str:
        return self.gvk.kind

    @property
    def name(self) -> str:
        value = self.data.get("metadata", {}).get("name") if isinstance(self.data.get("metadata"), dict) else None
        return value if isinstance(value, str) else ""

    @property
    def namespace(self) -> str:
        metadata = self.data.get("metadata")
        value = metadata.get("namespace") if isinstance(metadata, dict) else None
        return value if isinstance(value, str) else ""

    @property
    def current_id(self) -> ResId:
        return ResId(self.gvk, self.name, self.namespace)

    @property
    def original_id(self) -> ResId:
        """kustomize's ``OrgId``: the id before the first rename."""
        return self.previous[0] if self.previous else self.current_id

    def remember_id(self) -> None:
        """kustomize's ``StorePreviousId``: call before a rename or a namespace change."""
        self.previous.append(self.current_id)

    def any_id_equals(self, wanted: ResId) -> bool:
        return any(known.equals(wanted) for known in (self.current_id, *self.previous))

    def labels(self) -> dict[str, Any]:
        value = self.data.get("metadata", {}).get("labels") if isinstance(self.data.get("metadata"), dict) else None
        return value if isinstance(value, dict) else {}

    def annotations(self) -> dict[str, Any]:
        metadata = self.data.get("metadata")
        value = metadata.get("annotations") if isinstance(metadata, dict) else None
        return value if isinstance(value, dict) else {}

    # ---------------------------------------------------------------- provenance

    def record(
        self,
        document: Document,
        entries: Iterable[tuple[KeyPath, KeyPath]],
        line_offset: int = 0,
        column_offset: int = 0,
    ) -> None:
        """``document`` set these object key paths (from these document key paths)."""
        entries = list(entries)
        if not entries:
            return
        last = self.layers[-1]
        if not (last.document is document and last.line_offset == line_offset and last.column_offset == column_offset):
            last = Layer(document, line_offset=line_offset, column_offset=column_offset)
            self.layers.append(last)
        for key_path, source_path in entries:
            last.entries[key_path] = source_path

    def origin(self, key_path: KeyPath) -> tuple[Layer, KeyPath]:
        """The newest layer that wrote ``key_path`` (or a parent of it) and the document
        key path it came from: what :meth:`AppliedObject.locate` will answer, read while
        building (a replacement copies a field, and where it came from, to another object)."""
        for layer in reversed(self.layers):
            for size in range(len(key_path), -1, -1):
                found = layer.entries.get(key_path[:size])
                if found is not None:
                    return layer, found + key_path[size:]
        return self.layers[0], (*self.base, *key_path)

    def reindex(self, list_path: KeyPath, moves: Mapping[int, int | None]) -> None:
        """Items of the list at ``list_path`` moved: old index -> new index (None: removed).
        Indices not in ``moves`` stay where they are."""
        if all(old == new for old, new in moves.items()):
            return
        depth = len(list_path)
        for layer in self.layers:
            renamed: dict[KeyPath, KeyPath] = {}
            for key, value in layer.entries.items():
                index = key[depth] if len(key) > depth and key[:depth] == list_path else None
                if isinstance(index, int):
                    new = moves.get(index, index)
                    if new is not None:
                        renamed[(*list_path, new, *key[depth + 1 :])] = value
                else:
                    renamed[key] = value
            # An entry above the list covered its items by position: pin the moved ones.
            for size in range(depth, -1, -1):
                cover = layer.entries.get(list_path[:size])
                if cover is None:
                    continue
                for old, new in moves.items():
                    if new is not None and new != old:
                        renamed.setdefault((*list_path, new), (*cover, *list_path[size:], old))
                break
            layer.entries = renamed

    def copy(self) -> Resource:
        """An independent copy (a base reused by two overlays is changed twice)."""
        made = Resource.__new__(Resource)
        made.data = copy_data(self.data)
        made.document = self.document
        made.base = self.base
        made.layers = [Layer(x.document, dict(x.entries), x.line_offset, x.column_offset) for x in self.layers]
        made.previous = list(self.previous)
        made.needs_hash = self.needs_hash
        return made

    def freeze(self) -> AppliedObject:
        line = (self.document.locate(self.base)[0] if self.base else start_line(self.document)) or 1
        overlays = tuple(
            Overlay(
                document=layer.document,
                fields=tuple(layer.entries.items()),
                line_offset=layer.line_offset,
                column_offset=layer.column_offset,
            )
            for layer in reversed(self.layers)
            if layer.entries
        )
        return AppliedObject(data=self.data, source=self.document.path, line=line, overlays=overlays)


def start_line(document: Document) -> int:
    """The first line of ``document``'s content, read from the text without building the
    position map (a clean run never needs one; see ``Document.positions``)."""
    if document.text is None:
        return 1
    current, started = 0, False  # document number; has it begun (marker or content)?
    for number, line in enumerate(document.text.split("\n"), 1):
        marker = line[:3] in ("---", "...") and (len(line) == 3 or line[3] in " \t")
        if marker:
            if started:
                current += 1
            started = line.startswith("---")
            rest = line[3:].strip()
            if line.startswith("---") and rest and not rest.startswith("#") and current == document.index:
                return number
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "%")):
            continue
        started = True
        if current == document.index:
            return number
    return 1


class Recorder:
    """Provenance changes of one patch, applied to the resource only if the patch succeeds."""

    def __init__(self, document: Document, line_offset: int = 0, column_offset: int = 0) -> None:
        self.document = document
        self.line_offset = line_offset
        self.column_offset = column_offset
        self._events: list[tuple[str, Any, Any]] = []

    def set(self, key_path: KeyPath, source_path: KeyPath) -> None:
        self._events.append(("set", key_path, source_path))

    def reindex(self, list_path: KeyPath, moves: Mapping[int, int | None]) -> None:
        self._events.append(("reindex", list_path, dict(moves)))

    def insert(self, list_path: KeyPath, index: int, length: int) -> None:
        """An item was inserted at ``index`` of a list that had ``length`` items."""
        self.reindex(list_path, {old: old + 1 for old in range(index, length)})

    def remove(self, list_path: KeyPath, index: int, length: int) -> None:
        """The item at ``index`` was removed from a list that had ``length`` items."""
        moves: dict[int, int | None] = {old: old - 1 for old in range(index + 1, length)}
        moves[index] = None
        self.reindex(list_path, moves)

    def commit(self, resource: Resource) -> None:
        for event, key_path, value in self._events:
            if event == "set":
                resource.record(self.document, [(key_path, value)], self.line_offset, self.column_offset)
            else:
                resource.reindex(key_path, value)
        self._events.clear()
