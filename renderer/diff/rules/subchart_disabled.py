"""subchart-disabled: the change switches off a bundled database or cache that held data.

The ``subchart-coupling`` lint rule runs on both revisions; a coupling error of the
base that the head no longer has, on a release the head still deploys, means this
change turned a bundled database or cache off (a values key, a chart that no longer
bundles it). It is what the workplan asks for, but Helm deletes the subchart's
StatefulSet and leaves its volumes behind: the data stays in the old volumes, and
the application starts on an empty platform database. An error, unless the head
spec records it: ``migration: {change: subchart-disabled, reason: ...}`` naming the
backup and the dump/restore into the platform service (without specs: the
annotation ``railiance.io/migration-change: subchart-disabled``).

Fails: Gitea's ``postgresql-ha.enabled: true`` becomes ``false``, nothing recorded.

Passes: the same, with ``migration: {change: subchart-disabled, reason: "pg_dump from
the bundled pgpool, pg_restore into platform postgresql-ha; backup job 2024-06-01"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...lint.finding import ERROR, Finding, ObjectRef
from ...lint.rule import GRAPH_WIDE
from ..compare import MODIFIED, MOVED, RENAMED
from ..rule import DiffContext, DiffRule, Event, finding
from ..sides import DiffObject
from ._migrations import stateful_subject
from ._values import is_release
from .subchart_enabled import COUPLING_RULE

SUBCHART_DISABLED = "subchart-disabled"
# How a subchart-coupling message names the component: "as subchart 'x'", "'x' from its own templates".
_NAMED = re.compile(r"as subchart '([^']+)'|'([^']+)' from its own templates")


def _ref(obj: DiffObject) -> ObjectRef:
    return ObjectRef(obj.kind, obj.namespace or None, obj.name)


def _coupled(findings: tuple[Finding, ...]) -> dict[ObjectRef, set[str]]:
    """Object -> the bundled components its coupling errors name."""
    found: dict[ObjectRef, set[str]] = {}
    for item in findings:
        if item.rule != COUPLING_RULE or item.severity != ERROR or item.object is None:
            continue
        match = _NAMED.search(item.message)
        if match:
            found.setdefault(item.object, set()).add(match.group(1) or match.group(2))
    return found


def events(context: DiffContext) -> Iterator[tuple[Event, Finding]]:
    before, after = _coupled(context.lint_base), _coupled(context.lint_head)
    for change in context.changes(MODIFIED, MOVED, RENAMED):
        old, new = change.old, change.new
        if old is None or new is None or not is_release(new):
            continue
        for name in sorted(before.get(_ref(old), set()) - after.get(_ref(new), set())):
            yield (
                Event(SUBCHART_DISABLED, stateful_subject(new), new),
                finding(
                    RULE,
                    change,
                    f"release '{new.name}' switches its bundled '{name}' off: its data stays in the old"
                    " volumes, the application starts on an empty database or cache",
                    "back up, dump the bundled data and restore it into the platform service first, then"
                    f" record it in the head spec: migration: {{change: {SUBCHART_DISABLED}, reason: ...}}",
                    context=context,
                    key_path=("spec", "values", name, "enabled"),
                ),
            )


def check(context: DiffContext) -> Iterator[Finding]:
    for _, found in events(context):
        yield found


RULE = DiffRule(
    id="subchart-disabled",
    scope=GRAPH_WIDE,  # lint findings of both sides
    severity=ERROR,
    summary="the change switches off a bundled database or cache: its data stays in the old volumes",
    check=check,
    doc=__doc__ or "",
    events=events,
)
