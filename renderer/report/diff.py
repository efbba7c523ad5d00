"""What ``rail diff`` shows: per object, the field paths with old and new values.

Secret values never appear: the comparison already replaced them with
``(redacted)``; reporters print field changes only through :func:`_value`. Nothing
from the input is live either: the text report escapes control characters (one line
stays one line in a CI log), the markdown comment shows every path, name, value and
message through :mod:`.markdown`.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..diff.compare import ADDED, MODIFIED, MOVED, REMOVED, RENAMED, ObjectChange
from ..diff.engine import DiffOutcome
from ..lint.finding import Finding
from ..quoting import printable
from .comment import MARKDOWN_BUDGET
from .comment.links import Links

_SIGN = {ADDED: "+", REMOVED: "-", MODIFIED: "~", MOVED: ">", RENAMED: ">"}
_COLOUR = {ADDED: "green", REMOVED: "red", MODIFIED: "yellow", MOVED: "cyan", RENAMED: "cyan"}
_KINDS = (ADDED, REMOVED, MODIFIED, MOVED, RENAMED)


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def _object(change: ObjectChange) -> str:
    obj = change.current
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    if change.change in (MOVED, RENAMED) and change.old is not None:
        old = change.old
        where = f"{old.namespace or '-'}/{old.name} -> {where}"
    if obj.stack:  # a release moved out: its new side lives in another stack
        where += f" (in {obj.stack}, {obj.path})"
    return f"{obj.kind} {where}"


def _finding_line(finding: Finding) -> str:
    where = finding.location.path + (f":{finding.location.line}" if finding.location.line else "")
    return f"{where}: {finding.severity} {finding.rule} {finding.message}"


def text(outcome: DiffOutcome, colour: bool = False) -> str:
    import click

    def paint(value: str, name: str) -> str:
        return click.style(value, fg=name) if colour else value

    # Each line is escaped whole (rail's own text has no control character), then painted.
    lines = [printable(f"rail diff {_base_named(outcome)} .. {_head_named(outcome)}")]
    lines.extend(printable(f"note: {note}") for note in outcome.notes)
    for change in outcome.result.changes:
        layer = f" [{change.layer}]" if change.layer else ""
        head = f"{_SIGN[change.change]} {change.change} {_object(change)}{layer}"
        lines.append(paint(printable(head), _COLOUR[change.change]))
        lines.extend(printable(f"    {f.path}: {_value(f.old)} -> {_value(f.new)}") for f in change.fields)
    if not outcome.result.changes:
        lines.append("no change to any rendered object")
    for finding in outcome.findings:
        lines.append(paint(printable(_finding_line(finding)), "red" if finding.severity == "error" else "yellow"))
        if finding.hint:
            lines.append(printable(f"  hint: {finding.hint}"))
    for accepted in outcome.accepted:
        record = accepted.record.path + (f":{accepted.record.line}" if accepted.record.line else "")
        lines.append(printable(f"accepted: {_finding_line(accepted.finding)}"))
        lines.append(printable(f"  migration recorded at {record}: {accepted.reason}"))
    lines.append(_summary_line(outcome))
    return "\n".join(lines) + "\n"


def _base_named(outcome: DiffOutcome) -> str:
    if outcome.base_commit is None:
        return f"{outcome.base_label} (empty)"
    how = " (merge base)" if outcome.merge_base else ""
    return f"{outcome.base_label} @ {outcome.base_commit[:12]}{how}"


def _head_named(outcome: DiffOutcome) -> str:
    return outcome.head_label + (f" @ {outcome.head_commit[:12]}" if outcome.head_commit else "")


def _summary_line(outcome: DiffOutcome) -> str:
    counts = Counter(change.change for change in outcome.result.changes)
    parts = [f"{counts.get(kind, 0)} {kind}" for kind in _KINDS]
    verdict = "blocked" if outcome.failed else "ok"
    return (
        f"rail: {', '.join(parts)}; {outcome.result.unchanged} unchanged;"
        f" {outcome.result.noise_hidden} noise change(s) hidden;"
        f" lint {sum(1 for f in outcome.findings if f.rule not in _DIFF_RULE_IDS)} new,"
        f" {len(outcome.lint_fixed)} fixed, {outcome.lint_unchanged} unchanged;"
        f" {outcome.errors} error(s), {outcome.warnings} warning(s)"
        + (f", {len(outcome.accepted)} accepted as recorded migration(s)" if outcome.accepted else "")
        + f": {verdict}"
    )


def _diff_rule_ids() -> frozenset[str]:
    from ..diff.rules import DIFF_RULES

    return frozenset(rule.id for rule in DIFF_RULES)


_DIFF_RULE_IDS = _diff_rule_ids()


def as_json(outcome: DiffOutcome) -> str:
    changes = []
    for change in outcome.result.changes:
        obj = change.current
        item: dict[str, Any] = {
            "change": change.change,
            "object": {"group": obj.key[0], "kind": obj.kind, "namespace": obj.namespace or None, "name": obj.name},
            "layer": change.layer,
            "path": obj.path,
            "fields": [{"path": f.path, "old": f.old, "new": f.new, "redacted": f.redacted} for f in change.fields],
        }
        if change.change in (MOVED, RENAMED) and change.old is not None:
            item["from"] = {"namespace": change.old.namespace or None, "name": change.old.name, "path": change.old.path}
        if obj.stack:
            item["stack"] = obj.stack
        changes.append(item)
    payload = {
        "findings": [finding.to_json() for finding in outcome.findings],
        "changes": changes,
        "accepted": [
            {**accepted.finding.to_json(), "reason": accepted.reason, "record": accepted.record.to_json()}
            for accepted in outcome.accepted
        ],
        "summary": {
            "base": outcome.base_label,
            "head": outcome.head_label,
            "base_commit": outcome.base_commit,
            "head_commit": outcome.head_commit,
            "merge_base": outcome.merge_base,
            "notes": list(outcome.notes),
            **{kind: sum(1 for c in outcome.result.changes if c.change == kind) for kind in _KINDS},
            "unchanged": outcome.result.unchanged,
            "noise_hidden": outcome.result.noise_hidden,
            "lint_fixed": [finding.to_json() for finding in outcome.lint_fixed],
            "lint_unchanged": outcome.lint_unchanged,
            "errors": outcome.errors,
            "warnings": outcome.warnings,
            "failed": outcome.failed,
        },
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def github(outcome: DiffOutcome) -> str:
    from ..lint.engine import LintResult
    from ..report.findings import github as lint_github

    return lint_github(LintResult(findings=outcome.findings, notes=()))


def sarif(outcome: DiffOutcome) -> str:
    """SARIF 2.1.0: the findings (diff rules and new lint findings), every rule described."""
    from ..lint.engine import LintResult
    from ..report.findings import sarif as lint_sarif

    return lint_sarif(LintResult(findings=outcome.findings, notes=()))


def markdown(outcome: DiffOutcome, budget: int = MARKDOWN_BUDGET, links: Links | None = None) -> str:
    """A pull-request comment (see :mod:`.comment`); ``links``: where ``file:line`` links point."""
    from .comment import comment

    return comment(outcome, budget, links)
