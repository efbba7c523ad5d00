"""What a kustomize build gives: the objects, each with where its fields came from.

A linter finding on a built object must point at the line a person edits: the
patch that set the field, not the base it was copied from. So every object keeps,
newest first, the documents that wrote into it (patches, the kustomization's own
``namespace``, ``commonLabels``...), each with the object key paths it set and
where those sit in that document; the last one is the source document itself.
Positions are read from the documents only when asked (see ``Document.locate``):
a clean run never needs one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..memo import cached_property
from ..yamlio import Document, KeyPath


@dataclass(frozen=True)
class Location:
    """A file and a 1-based line and column (either may be unknown)."""

    path: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Overlay:
    """The key paths of an object that one document set.

    ``fields`` maps an object key path to the key path in ``document`` that set it;
    anything below a mapped path came from below the document's path too. An inline
    patch (a string inside ``kustomization.yaml``) is parsed on its own, so its
    positions are shifted by ``line_offset`` and ``column_offset`` into the file.
    """

    document: Document
    fields: tuple[tuple[KeyPath, KeyPath], ...]
    line_offset: int = 0
    column_offset: int = 0

    @cached_property
    def _by_path(self) -> Mapping[KeyPath, KeyPath]:
        return dict(self.fields)

    def source_path(self, key_path: KeyPath) -> KeyPath | None:
        """The document key path that set ``key_path``, or None if this document did not."""
        for size in range(len(key_path), -1, -1):
            found = self._by_path.get(key_path[:size])
            if found is not None:
                return found + key_path[size:]
        return None

    def locate(self, source_path: KeyPath) -> Location:
        line, column = self.document.locate(source_path)
        return Location(
            path=self.document.path,
            line=None if line is None else line + self.line_offset,
            column=None if column is None else column + self.column_offset,
        )


@dataclass(frozen=True)
class AppliedObject:
    """One object as kustomize builds it, and where each of its fields came from.

    ``data`` is the object as plain data; ``source`` the repository-relative file of
    the document it started as, ``line`` that document's first line. ``overlays``
    are newest first and end with the source document. ``applied_by`` is the
    ``(namespace, name)`` of the Flux Kustomization that applies it (None from a
    plain kustomize build), so a finding can name the layer that owns the object;
    ``tree`` the file of the root whose tree that Kustomization belongs to.
    """

    data: dict[str, Any]
    source: str
    line: int
    overlays: tuple[Overlay, ...] = field(default=(), repr=False)
    applied_by: tuple[str, str] | None = None
    tree: str = ""  # the file of the root Kustomization whose tree applies it (one cluster)

    def locate(self, key_path: Iterable[str | int]) -> Location:
        """Where the value at ``key_path`` was written: the newest document that set it
        (or its nearest parent), else the source document."""
        parts = tuple(key_path)
        for overlay in self.overlays:
            found = overlay.source_path(parts)
            if found is not None:
                return overlay.locate(found)
        return Location(self.source, self.line)

    @property
    def api_version(self) -> str:
        return _text(self.data.get("apiVersion"))

    @property
    def kind(self) -> str:
        return _text(self.data.get("kind"))

    @property
    def name(self) -> str:
        return _text(self._metadata.get("name"))

    @property
    def namespace(self) -> str | None:
        value = self._metadata.get("namespace")
        return value if isinstance(value, str) and value else None

    @property
    def key(self) -> tuple[str, str, str | None, str]:
        """``(apiVersion, kind, namespace, name)``: what identifies it in a build."""
        return (self.api_version, self.kind, self.namespace, self.name)

    @property
    def _metadata(self) -> Mapping[str, Any]:
        value = self.data.get("metadata")
        return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class BuildNote:
    """Something rail did not build as Flux would: an unsupported feature, a missing
    or unreadable file, a refused path. ``file`` is repository-relative; ``feature``
    names the kustomization field or the kind of problem (``cycle``,
    ``path-traversal``, ``missing-file``, ``yaml``...)."""

    file: str
    feature: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class Build:
    """The objects one folder applies, in kustomize's output order, and the notes.

    ``files`` are the repository-relative YAML files the build read (manifests,
    kustomization files, patch files): what a Flux Kustomization building this
    folder applies, so files outside every build can be left out of linting."""

    objects: tuple[AppliedObject, ...] = ()
    notes: tuple[BuildNote, ...] = ()
    files: frozenset[str] = frozenset()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def copy_data(value: Any) -> Any:
    """A copy of parsed YAML data to change: new mappings and lists, the same scalars
    (strings, numbers and rail's string markers are immutable). ``copy.deepcopy`` does
    the same three times slower, keeping a memo for cycles that parsed data cannot
    hold (the reader expands aliases, bounded: an alias bomb is refused there)."""
    if isinstance(value, dict):
        return {key: copy_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_data(item) for item in value]
    return value
