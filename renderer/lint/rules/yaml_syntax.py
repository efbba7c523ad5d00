"""yaml-syntax: a manifest file that cannot be read as YAML.

Flux and Argo CD stop at a file they cannot parse: its folder's objects are not
applied until it is fixed. Checked: every file ``rail lint`` reads that rail did not
write (the files and folders named on the command line, and stray files in
``rendered/``). Reported at the file, line and column where the reader gave up, with
the parser's one-line diagnosis; the offending text itself is never shown (it may be
a secret). Every other file is still linted. Also reported: what rail refuses in any
YAML file, foreign or its own (there, it is an input error, exit 2): a duplicate key,
an alias expanding past 250,000 nodes, nesting deeper than 100 levels, an integer of
more than 640 digits, and a file that is too large or not UTF-8.

Not reported: a file that no Flux Kustomization or Argo CD Application applies,
when a folder is linted by its Flux or Argo CD roots (one note per folder;
``--all-files`` reports it). A Helm chart's ``templates/`` folder (beside a ``Chart.yaml``) is not
read when a folder is linted, and a file with Go template or Jinja syntax where YAML
expects a value (``{{ ... }}``, ``{% ... %}``) is a template, not a manifest; each
is a note. An anchor defined twice is valid YAML: an alias takes the latest definition.

Fails (the quote is never closed)::

    apiVersion: v1
    kind: ConfigMap
    metadata: {name: app, namespace: apps}
    data:
      greeting: "hello

Passes::

    data:
      greeting: "hello"
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from ...errors import Problem
from ..finding import ERROR, Finding, Location
from ..rule import GRAPH_WIDE, LintContext, Rule


def check(context: LintContext) -> Iterator[Finding]:
    left_out: dict[str, set[str]] = {}
    for problem in context.unreadable:
        level = severity(context, problem)
        if level is None:
            left_out.setdefault(posixpath.dirname(problem.path) or ".", set()).add(problem.path)
            continue
        message = problem.message + (f" (at {problem.key_path})" if problem.key_path else "")
        yield Finding(
            rule=RULE.id,
            severity=level,
            message=message,
            location=Location(problem.path, problem.line, problem.column),
            hint=problem.hint or "fix the file so it reads as YAML",
        )
    context.graph.notes.extend(
        f"{folder}: {len(paths)} file(s) that do not read as YAML, which no Flux Kustomization or Argo CD"
        " Application applies: not linted"
        for folder, paths in sorted(left_out.items())
    )


def severity(context: LintContext, problem: Problem) -> str | None:
    """An error in a file a cluster receives (Flux stops at it). A file no Flux root
    applies (``context.applied``, when a folder is linted by its roots) breaks nothing:
    None, a note."""
    if context.applied is not None and problem.path not in context.applied:
        return None
    return ERROR


RULE = Rule(
    id="yaml-syntax",
    scope=GRAPH_WIDE,  # a broken file outside what the Flux roots apply is a note, and the notes are summed up
    severity=ERROR,
    summary="a manifest file that cannot be read as YAML",
    check=check,
    doc=__doc__ or "",
)
