"""stale-migration: a migration record of the head names no change of this diff.

A migration record accepts exactly the data event it names (see
``stateful-relocation``, ``stateful-removed``, ``namespace-pruned``,
``subchart-disabled``, ``volume-class-change``). A record that names anything else,
typically one left in a spec or in rail.yaml from an earlier migration, accepts
nothing: were it to approve any later move, the next relocation would pass
unreviewed. A warning on each part (``from: ...``, ``change: ...``) that names
nothing this diff does: remove the record, or correct it.

Fails: the spec still says ``migration: {from: flux-system/gitea, ...}`` while this
diff moves Gitea from ``apps`` to ``tools`` (the move is reported, and so is the record).

Passes: the record is removed once the migration it records has merged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...lint.finding import WARNING, Finding, ObjectRef
from ...lint.rule import GRAPH_WIDE
from ..rule import DiffContext, DiffRule
from ._migrations import Record, events, records


def _subject(context: DiffContext, record: Record) -> ObjectRef | None:
    for obj in context.head.objects.values():
        if (record.origin is not None and obj.origin == record.origin) or obj.key == record.key:
            return ObjectRef(obj.kind, obj.namespace or None, obj.name)
    return None


def check(context: DiffContext) -> Iterator[Finding]:
    from . import DIFF_RULES  # the registry imports this module: look it up when it is complete

    kept = records(context)
    if not kept:
        return
    happened = [event for event, _ in events(context, DIFF_RULES)]
    for record in kept:
        named = {part for event in happened for part in [record.names(event)] if part is not None}
        unused = [part for part in record.parts() if part not in named]
        if record.parts() and not unused:
            continue
        what = "; ".join(unused) if unused else "no change (neither from: nor change:)"
        found_here = Finding(
            rule=RULE.id,
            severity=RULE.severity,
            message=f"stale migration record: {what} names no data event of this change, so it accepts nothing",
            location=record.location,
            object=_subject(context, record),
            hint="remove the record once its migration has merged, or name this change exactly"
            " (from: <namespace>/<name>, change: <kind>)",
        )
        yield replace(found_here, change=context.change_of(found_here))


RULE = DiffRule(
    id="stale-migration",
    scope=GRAPH_WIDE,  # every finding of the diff
    severity=WARNING,
    summary="a migration record names no change of this diff: it accepts nothing",
    check=check,
    doc=__doc__ or "",
)
