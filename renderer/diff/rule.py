"""What a diff rule is, and what it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..lint.finding import Finding, Location, ObjectRef
from .compare import DiffResult, ObjectChange
from .sides import Side


@dataclass(frozen=True)
class DiffContext:
    base: Side
    head: Side
    result: DiffResult
    lint_base: tuple[Finding, ...] = ()
    lint_head: tuple[Finding, ...] = ()

    def changes(self, *kinds: str) -> list[ObjectChange]:
        return [change for change in self.result.changes if not kinds or change.change in kinds]


@dataclass(frozen=True)
class DiffRule:
    """``doc`` is the rule's documentation (its module docstring): ``rail explain`` prints it."""

    id: str
    severity: str
    summary: str
    check: Callable[[DiffContext], Iterable[Finding]]
    doc: str


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
