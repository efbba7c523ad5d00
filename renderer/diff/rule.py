"""What a diff rule is, and what it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..lint.finding import Finding, Location, ObjectRef
from .compare import MODIFIED, MOVED, RENAMED, DiffResult, ObjectChange
from .sides import DiffObject, Side


@dataclass(frozen=True)
class DiffContext:
    base: Side
    head: Side
    result: DiffResult
    lint_base: tuple[Finding, ...] = ()
    lint_head: tuple[Finding, ...] = ()

    def changes(self, *kinds: str) -> list[ObjectChange]:
        return [change for change in self.result.changes if not kinds or change.change in kinds]

    def lint_key(self, finding: Finding, *, base: bool) -> tuple[str, str, str]:
        """What makes a lint finding of one side the same as one of the other: rule, object
        and message. A base finding on an object the change moves is taken to its new place,
        so a moved release keeps its old findings as unchanged, not new."""
        subject = finding.object
        if base and subject is not None:
            subject = self._moves().get(subject, subject)
        return (finding.rule, str(subject) if subject else finding.location.path, finding.message)

    def change_of(self, finding: Finding) -> str:
        """How the change touches the finding's object (``modified`` if it is not changed)."""
        if finding.object is not None:
            for change in self.result.changes:
                obj = change.current
                if (obj.kind, obj.namespace or None, obj.name) == (
                    finding.object.kind,
                    finding.object.namespace,
                    finding.object.name,
                ):
                    return change.change
        return MODIFIED

    def _moves(self) -> dict[ObjectRef, ObjectRef]:
        moves = {}
        for change in self.changes(MOVED, RENAMED):
            if change.old is not None and change.new is not None:
                old, new = change.old, change.new
                moves[ObjectRef(old.kind, old.namespace or None, old.name)] = ObjectRef(
                    new.kind, new.namespace or None, new.name
                )
        return moves


@dataclass(frozen=True)
class Event:
    """A data event a diff rule found: what a migration record must name to accept its finding.

    ``change`` is the kind (``moved``, ``renamed``, ``removed``, ``namespace-removed``,
    ``subchart-disabled``, ``storage-class``, ``access-modes``); ``subject`` the release's
    namespace/name (the namespace, for ``namespace-removed``); ``obj`` the head object whose
    spec or annotations may hold the record (None: nothing is left in the head);
    ``sources``: where a move or rename comes from, any of which a record's ``from`` may name.
    """

    change: str
    subject: str
    obj: DiffObject | None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Accepted:
    """A diff rule's finding that a migration record in the head names exactly: listed, not failed."""

    finding: Finding
    reason: str  # the record's reason: the backup, the dump/restore, the ticket
    record: Location  # where the head records it


@dataclass(frozen=True)
class DiffRule:
    """``doc`` is the rule's documentation (its module docstring): ``rail explain`` prints it."""

    id: str
    severity: str
    summary: str
    check: Callable[[DiffContext], Iterable[Finding]]
    doc: str
    # PER_OBJECT (one change: an object's two sides, and the head spec that locates it) or
    # GRAPH_WIDE (other objects, the lint findings of a side, the stack's interface).
    scope: str = field(kw_only=True)  # every rule says which: no default
    # Data events (a migration record may accept them): each finding with the event it reports.
    events: Callable[[DiffContext], Iterable[tuple[Event, Finding]]] | None = None


def finding(
    rule: DiffRule,
    change: ObjectChange,
    message: str,
    hint: str = "",
    severity: str = "",
    *,
    context: DiffContext | None = None,
    key_path: tuple[str | int, ...] = (),
) -> Finding:
    """A finding on ``change``, at ``key_path`` of the head object (or the base one, if removed)."""
    obj = change.current
    location = Location(obj.path)
    if context is not None:
        side = context.head if change.new is not None else context.base
        location = side.locate(obj, key_path)
    related = (Location(obj.path),) if location.path != obj.path else ()
    return Finding(
        rule=rule.id,
        severity=severity or rule.severity,
        message=message,
        location=location,
        related=related,
        object=ObjectRef(obj.kind, obj.namespace or None, obj.name),
        hint=hint,
        change=change.change,
    )
