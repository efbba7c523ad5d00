"""rendered-drift: ``rendered/`` differs from a fresh render of the specs.

Flux reconciles what is committed in ``rendered/``, not the specs: a spec change
without ``rail render`` never reaches the cluster. Reports missing, stale and
extra files (files rail did not write are extra too: ``rendered/`` is rail's).

Fails: ``releases/s3/valkey.yaml`` sets ``size: 4Gi`` but
``rendered/flux/s3-platform/helmrelease-valkey.yaml`` still says ``2Gi``.

Passes: ``rail render`` was run and its output committed.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import ERROR, Finding, Location
from ..rule import GRAPH_WIDE, LintContext, Rule

_WHAT = {
    "missing": ("missing: the specs render this file", "run `rail render` and commit the result"),
    "stale": ("stale: differs from what the specs render", "run `rail render` and commit the result"),
    "obsolete": ("extra: rendered by rail before, no longer", "run `rail render`: it removes the file"),
    "foreign": ("extra: not written by rail", "move it out of the output folder, or into a spec"),
}


def check(context: LintContext) -> Iterator[Finding]:
    plan = context.drift
    if plan is None:
        return
    for state, paths in (
        ("missing", plan.missing),
        ("stale", plan.stale),
        ("obsolete", plan.obsolete),
        ("foreign", plan.foreign),
    ):
        message, hint = _WHAT[state]
        for path in paths:
            yield Finding(rule=RULE.id, message=message, location=Location(path), hint=hint)


RULE = Rule(
    id="rendered-drift",
    scope=GRAPH_WIDE,  # the whole output folder against a fresh render
    severity=ERROR,
    summary="rendered/ differs from a fresh render",
    check=check,
    doc=__doc__ or "",
)
