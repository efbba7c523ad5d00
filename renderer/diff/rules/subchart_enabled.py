"""subchart-enabled: the change turns on a bundled database or cache.

The ``subchart-coupling`` lint rule runs on both revisions; a coupling finding
that only the head revision has means this change switched a subchart on (a
values key, a chart upgrade that turns one on by default, a removed
``enabled: false``). Reported once, here, rather than as a new lint finding.

Fails: ``postgresql-ha.enabled: false`` is removed from Gitea's values.

Passes: the change leaves every bundled database and cache off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ...lint.finding import ERROR, Finding
from ...lint.rule import GRAPH_WIDE
from ..rule import DiffContext, DiffRule

COUPLING_RULE = "subchart-coupling"


def check(context: DiffContext) -> Iterator[Finding]:
    before = {context.lint_key(finding, base=True) for finding in context.lint_base if finding.rule == COUPLING_RULE}
    for finding in context.lint_head:
        if finding.rule != COUPLING_RULE or finding.severity != ERROR:
            continue
        if context.lint_key(finding, base=False) not in before:
            yield replace(finding, rule=RULE.id, severity=RULE.severity, change=context.change_of(finding))


RULE = DiffRule(
    id="subchart-enabled",
    scope=GRAPH_WIDE,  # lint findings of both sides
    severity=ERROR,
    summary="the change turns on a bundled database or cache",
    check=check,
    doc=__doc__ or "",
)
