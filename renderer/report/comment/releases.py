"""The changes of a comment, one entry per release: its HelmRelease, its Argo CD
Application, its chart source and its Secrets together; a field changed the same way
in both targets is one row ("Flux and Argo CD"); releases changed the same way are one
section ("same change in 51 releases")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...diff.compare import ADDED, MODIFIED, MOVED, REMOVED, RENAMED, ObjectChange
from ...diff.graph import LayerGraph, ReleaseKey, release_key
from ...diff.rules._values import chart_of
from ...diff.sides import DiffObject
from ..markdown import code_span, escape_html, escape_text

SIGN = {ADDED: "+", REMOVED: "-", MODIFIED: "~", MOVED: ">", RENAMED: ">"}
FLUX, ARGO, BOTH = "Flux", "Argo CD", "Flux and Argo CD"
# Where the two targets write the same thing: the values, the chart version, the namespace.
_PREFIXES = (("spec.values.", "values."), ("spec.source.helm.valuesObject.", "values."))
_SAME_FIELD = {
    "spec.chart.spec.version": "chart version",
    "spec.source.targetRevision": "chart version",
    "spec.targetNamespace": "namespace",
    "spec.destination.namespace": "namespace",
    "spec.releaseName": "release name",
    "spec.source.helm.releaseName": "release name",
    "spec.values": "values",
    "spec.source.helm.valuesObject": "values",
    "metadata.name": "name",
}
# A HelmRelease installs into its own namespace (unless targetNamespace says otherwise).
_FLUX_FIELD = {"metadata.namespace": "namespace"}


def value(item: Any) -> str:
    """A field's value as every diff report shows it (already redacted by the comparison)."""
    if item is None:
        return "(absent)"
    text = json.dumps(item, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class Row:
    subject: str  # "" for the release itself, else the object ("Secret gitea-admin")
    field: str
    old: str
    new: str


@dataclass
class Entry:
    """One release (or one object no release claims) and its changes."""

    label: str
    layer: str | None
    changes: list[ObjectChange]
    release: bool
    was: str = ""  # where a moved or renamed release was
    _rows: list[tuple[str, Row]] | None = field(default=None, repr=False)  # worked out once, when complete
    _state: str | None = field(default=None, repr=False)

    @property
    def state(self) -> str:
        if self._state is None:
            kinds = {change.change for change in self.changes if _is_release_object(change)}
            kinds = kinds or {change.change for change in self.changes}
            strongest = next((kind for kind in (RENAMED, MOVED) if kind in kinds), None)
            self._state = strongest or (next(iter(kinds)) if len(kinds) == 1 else MODIFIED)
        return self._state

    @property
    def targets(self) -> str:
        return _joined({target(change.current) for change in self.changes})

    def rows(self) -> list[tuple[str, Row]]:
        """(targets, row): a row two targets share is one row."""
        if self._rows is None:
            seen: dict[Row, set[str]] = {}
            for change in self.changes:
                for row in _rows(change):
                    seen.setdefault(row, set()).add(target(change.current))
            rows = [(_joined(targets) or "—", row) for row, targets in seen.items()]
            self._rows = sorted(rows, key=lambda item: item[1].subject != "")  # the release's own fields first
        return self._rows

    def signature(self) -> tuple[object, ...]:
        return (self.state, self.release, tuple(sorted((t, r.subject, r.field, r.old, r.new) for t, r in self.rows())))


def _joined(targets: set[str]) -> str:
    if {FLUX, ARGO} <= targets:
        return BOTH
    return ", ".join(sorted(targets - {""}))


def target(obj: DiffObject) -> str:
    group = obj.key[0]
    if group.endswith("fluxcd.io"):
        return FLUX
    if group.endswith("argoproj.io"):
        return ARGO
    parts = obj.path.split("/")
    return ARGO if "argo" in parts else FLUX if "flux" in parts else ""


def _is_release_object(change: ObjectChange) -> bool:
    return release_key(change.current) is not None


def _field(change: ObjectChange, path: str, own: bool) -> str:
    if not own:
        return path
    for prefix, shared in _PREFIXES:
        if path.startswith(prefix):
            return shared + path[len(prefix) :]
    if change.current.kind == "HelmRelease" and path in _FLUX_FIELD:
        return _FLUX_FIELD[path]
    return _SAME_FIELD.get(path, path)


def _rows(change: ObjectChange) -> list[Row]:
    obj = change.current
    own = _is_release_object(change)
    subject = "" if own else f"{obj.kind} {obj.name}"
    if change.change in (ADDED, REMOVED) and not change.fields:
        if not subject:
            return []  # the release itself: the entry's state says it
        before, after = ("(absent)", "(added)") if change.change == ADDED else ("(present)", "(removed)")
        return [Row(subject, "", before, after)]
    rows = [
        Row("", "chart version", value(f.old), value(f.new))
        if obj.kind == "OCIRepository" and f.path == "spec.ref.tag"  # a chartRef's version: the release's own
        else Row(subject, _field(change, f.path, own), value(f.old), value(f.new))
        for f in change.fields
    ]
    if change.change in (MOVED, RENAMED) and change.old is not None and change.new is not None:
        old, new = change.old, change.new  # the key's namespace and name are no field: shown as fields
        for label, before, after in (("namespace", old.namespace, new.namespace), ("name", old.name, new.name)):
            row = Row(subject, label if not subject else f"metadata.{label}", value(before), value(after))
            if before != after and row not in rows:
                rows.insert(0, row)
    return rows


def entries(changes: Sequence[ObjectChange], graph: LayerGraph | None) -> list[Entry]:
    """Changes by release, in the order of their first change (layer, then key)."""
    owners: dict[object, ReleaseKey] = dict(graph.owners) if graph is not None else {}
    found: dict[object, Entry] = {}
    for change in changes:
        owner = owners.get(change.key) or (owners.get(change.old.key) if change.old is not None else None)
        owner = owner or release_key(change.current)
        if owner is not None:
            label = f"{owner[0]}/{owner[1]}" if owner[0] else owner[1]
            entry = found.setdefault(owner, Entry(label, None, [], True))
        else:
            entry = found.setdefault(change.key, Entry(_object(change), change.layer, [], False))
        entry.changes.append(change)
        if entry.layer is None or (change.new is not None and _is_release_object(change)):
            entry.layer = change.layer  # the head's layer of the release itself, before its parts'
    previous = {node.key: node.previous for node in graph.nodes if node.previous} if graph is not None else {}
    for key, entry in found.items():
        was = previous.get(key) if isinstance(key, tuple) and len(key) == 2 else None
        if was is not None:
            entry.was = "/".join(part for part in was if part)
        stack = next((change.new.stack for change in entry.changes if change.new and change.new.stack), None)
        if stack:  # moved out of this stack: the new side is in another repository
            entry.was = f"{entry.was or 'here'}; now in {stack}"
    return list(found.values())


def _object(change: ObjectChange) -> str:
    obj = change.current
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    return f"{obj.kind} {where}"


def chart(entry: Entry) -> str:
    for change in entry.changes:
        name, version = chart_of(change.current)
        if name:
            return f"{name} {version}" if version else name
    return ""


def listing(title: str, items: Sequence[Entry]) -> list[str]:
    """Added or removed releases: one table row each, not a section each."""
    lines = [f"#### {title} ({len(items)})", "", "| release | layer | chart | targets |", "| --- | --- | --- | --- |"]
    for entry in items:
        cells = (escape_text(entry.label), escape_text(entry.layer or ""), code_span(chart(entry), table=True))
        lines.append("| " + " | ".join((*cells, escape_text(entry.targets))) + " |")
    return [*lines, ""]


def section(group: Sequence[Entry]) -> str:
    """One collapsible section: one release, or several changed exactly alike."""
    entry = group[0]
    sign = SIGN.get(entry.state, "~")  # rail's own: the one character not escaped
    if len(group) == 1:
        layer = f" ({entry.layer})" if entry.layer else ""
        title = f"{entry.state}: {entry.label}{layer}" + (f", was {entry.was}" if entry.was else "")
    else:
        title = f"{entry.state}: same change in {len(group)} releases"
    if entry.targets:
        title += f", {entry.targets}"
    lines = [f"<details><summary>{sign} {escape_html(title)}</summary>", ""]
    if len(group) > 1:
        lines += ["Releases: " + escape_text(", ".join(item.label for item in group)), ""]
    rows = entry.rows()
    if rows:
        lines += ["| target | field | old | new |", "| --- | --- | --- | --- |"]
        for targets, row in rows:
            name = f"{row.subject}: {row.field}" if row.subject and row.field else row.subject or row.field
            cells = [escape_text(targets), *(code_span(text, table=True) for text in (name, row.old, row.new))]
            lines.append("| " + " | ".join(cells) + " |")
    else:
        paths = sorted({change.current.path for change in entry.changes})
        lines.append(", ".join(code_span(path) for path in paths))
    lines += ["", "</details>"]
    return "\n".join(lines)


def alike(items: Sequence[Entry]) -> list[list[Entry]]:
    """Modified, moved and renamed releases, those changed identically together (one section)."""
    groups: dict[tuple[object, ...], list[Entry]] = {}
    for entry in items:
        groups.setdefault(entry.signature(), []).append(entry)
    return list(groups.values())
