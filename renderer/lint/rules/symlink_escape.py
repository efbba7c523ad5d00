"""symlink-escape: a symlink that leaves the repository.

rail follows a symlink only while it stays inside the stack (the folder of
``rail.yaml``): a release spec, a values file or a file in ``rendered/`` that links
out of it (to a file elsewhere on the machine, or to ``/etc/passwd``) would make
what rail reads depend on the machine it runs on, and could put a file that is not
the repository's into a report. Such a link is not followed: ``rail render`` stops
with an input error naming it, ``rail lint`` and ``rail diff`` report this finding
at the link, with where it points. What the target holds is never read or shown.
A link that stays inside the stack is followed, by every command alike.

Fails (``releases/s5/app.yaml`` is a link)::

    releases/s5/app.yaml -> /home/me/drafts/app.yaml

Passes (a link inside the stack)::

    values/app-prod.yaml -> app-common.yaml
"""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import Problem
from ..finding import ERROR, Finding, Location
from ..rule import PER_OBJECT, LintContext, Rule


def finding(problem: Problem) -> Finding:
    """The finding for one refused link (lint and diff report it the same way)."""
    return Finding(
        rule=RULE.id,
        severity=ERROR,
        message=problem.message,
        location=Location(problem.path, problem.line, problem.column),
        hint=problem.hint,
    )


def check(context: LintContext) -> Iterator[Finding]:
    for problem in context.escaped:
        yield finding(problem)


RULE = Rule(
    id="symlink-escape",
    scope=PER_OBJECT,  # one finding per refused link, from the link alone (nothing worth caching)
    severity=ERROR,
    summary="a symlink that leaves the repository (not followed)",
    check=check,
    doc=__doc__ or "",
)
