"""Migration records of the head, and which data event each one names.

A record accepts only the change it names: a move or rename by where it comes from
(``from: namespace/name``), another data event of its release by kind (``change:``),
a removal by the release or namespace (rail.yaml ``migrations:``). A record left over
from an earlier change names nothing of this one: it accepts nothing.

Where a record lives: the release's spec (``migration:``), rail.yaml (``migrations:``,
for what no spec is left to hold), or, in a repository without specs, the head object's
annotations (``railiance.io/migration`` the reason, ``railiance.io/migration-from``,
``railiance.io/migration-change`` a comma-separated list of kinds).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ...lint.finding import Finding, Location
from ...model import Migration
from ..rule import Accepted, DiffContext, Event
from ..sides import DiffObject, ObjectKey

MIGRATION_ANNOTATION = "railiance.io/migration"
FROM_ANNOTATION = "railiance.io/migration-from"
CHANGE_ANNOTATION = "railiance.io/migration-change"

MOVES = ("moved", "renamed")  # named by ``from``
STACK_CHANGES = ("removed", "namespace-removed", "moved-out")  # named in rail.yaml: no spec is left


@dataclass(frozen=True)
class Record:
    """A migration record of the head, and what it is attached to: a spec (``origin``),
    a head object's annotations (``key``), or neither (rail.yaml)."""

    migration: Migration
    origin: str | None = None
    key: ObjectKey | None = None

    @property
    def location(self) -> Location:
        return Location(self.migration.path, self.migration.line)

    def parts(self) -> tuple[str, ...]:
        """What the record names, one part each: ``from: ...``, ``change: ...``."""
        record = self.migration
        if self.origin is None and self.key is None:
            subject = record.release or record.namespace
            return tuple(f"change: {change} of {subject}" for change in record.changes)
        found = (f"from: {record.source}",) if record.source else ()
        return found + tuple(f"change: {change}" for change in record.changes)

    def names(self, event: Event) -> str | None:
        """The part of this record that names ``event`` exactly, or None."""
        record = self.migration
        if self.origin is None and self.key is None:
            if event.change not in record.changes:
                return None
            subject = record.namespace if event.change == "namespace-removed" else record.release
            return f"change: {event.change} of {subject}" if subject == event.subject else None
        if event.obj is None or not self._about(event.obj):
            return None
        if event.change in MOVES:
            return f"from: {record.source}" if record.source and record.source in event.sources else None
        return f"change: {event.change}" if event.change in record.changes else None

    def _about(self, obj: DiffObject) -> bool:
        if self.origin is not None:
            return obj.origin == self.origin
        return obj.key == self.key


def records(context: DiffContext) -> list[Record]:
    """Every migration record of the head, in a fixed order."""
    found: list[Record] = []
    loaded = context.head.loaded
    if loaded is not None:
        for release in loaded.stack.releases:
            if release.migration_record is not None:
                found.append(Record(release.migration_record, origin=release.origin))
        found.extend(Record(migration) for migration in loaded.stack.config.migrations)
    for key in sorted(context.head.objects):
        obj = context.head.objects[key]
        if obj.origin is None:  # rendered from a spec: the spec holds the record
            annotated = _annotated(obj)
            if annotated is not None:
                found.append(Record(annotated, key=key))
    return found


def _annotated(obj: DiffObject) -> Migration | None:
    annotations = (obj.data.get("metadata") or {}).get("annotations") or {}
    if not isinstance(annotations, dict):
        return None
    reason = str(annotations.get(MIGRATION_ANNOTATION, "")).strip()
    if not reason:
        return None
    changes = str(annotations.get(CHANGE_ANNOTATION, ""))
    line = None
    if obj.document is not None:
        line, _ = obj.document.locate(("metadata", "annotations", MIGRATION_ANNOTATION))
    return Migration(
        reason=reason,
        path=obj.path,
        line=line,
        source=str(annotations.get(FROM_ANNOTATION, "")).strip(),
        changes=tuple(part.strip() for part in changes.split(",") if part.strip()),
    )


def events(context: DiffContext, rules: Iterable[object]) -> Iterator[tuple[Event, Finding]]:
    """The data events of ``rules`` (diff rules with ``events``), with their findings."""
    for rule in rules:
        produce = getattr(rule, "events", None)
        if produce is not None:
            yield from produce(context)


def stateful_subject(obj: DiffObject) -> str:
    """namespace/name as Helm installs the release: its target namespace and release name."""
    spec = mapping(obj.data.get("spec"))
    destination, source = mapping(spec.get("destination")), mapping(spec.get("source"))
    helm = mapping(source.get("helm"))
    namespace = spec.get("targetNamespace") or destination.get("namespace") or obj.namespace
    name = spec.get("releaseName") or helm.get("releaseName") or obj.name
    return f"{namespace}/{name}"


def accept(
    context: DiffContext, findings: list[Finding], rules: Iterable[object]
) -> tuple[list[Finding], list[Accepted]]:
    """The findings no record accepts, and those a record of the head names exactly.

    Findings are matched by rule, place and message: the engine merges a spec's Flux and
    Argo CD findings into one, which is accepted when the event behind it is."""
    found = records(context)
    named: dict[tuple[object, ...], Record] = {}
    if found:
        for event, item in events(context, rules):
            record = next((record for record in found if record.names(event) is not None), None)
            if record is not None:
                named.setdefault(_key(item), record)
    kept: list[Finding] = []
    accepted: list[Accepted] = []
    for item in findings:
        record = named.get(_key(item))
        if record is None:
            kept.append(item)
        else:
            accepted.append(Accepted(item, record.migration.reason, record.location))
    return kept, accepted


def _key(item: Finding) -> tuple[object, ...]:
    where = item.location
    return (item.rule, where.path, where.line, where.column, item.message, item.object)


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
