"""The pull-request comment of ``rail diff --format markdown``.

Top to bottom: a marker (a workflow finds the comment by it and updates it in place),
the verdict, the findings (identical ones on many releases in one row), the data-safety
table, the layer graph, the releases changed (one entry per release, both targets
together), and what was accepted, suppressed or fixed.

GitHub refuses a comment over 65,536 characters. Past the budget, the least
important goes first: the graph's unchanged releases, then the graph, then the
releases' details (whole sections, from the end); never a finding, never the verdict.
What rail writes is markup; what the input holds is text, through :mod:`..markdown`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ...diff.compare import ADDED, MODIFIED, MOVED, REMOVED, RENAMED
from ...diff.engine import DiffOutcome
from ...diff.graph import ReleaseKey
from ...lint.finding import ERROR, Finding
from ..markdown import escape_text
from . import findings as found
from . import mermaid, releases, safety
from .links import Links

MARKER = "<!-- rail-diff -->"
MARKDOWN_BUDGET = 65_000  # GitHub's limit is 65,536: room for a workflow's own line
_KINDS = (ADDED, REMOVED, MODIFIED, MOVED, RENAMED)


def comment(outcome: DiffOutcome, budget: int = MARKDOWN_BUDGET, links: Links | None = None) -> str:
    names = _names(outcome)
    entries = releases.entries(outcome.result.changes, outcome.layer_graph)
    head = _head(outcome, entries)
    must = head + _findings(outcome, links, names, (budget - _size(head)) // 3)
    added = [entry for entry in entries if entry.state == ADDED]
    removed = [entry for entry in entries if entry.state == REMOVED]
    changed = [entry for entry in entries if entry.state not in (ADDED, REMOVED)]
    data = safety.table(outcome.layer_graph, _actions(outcome))
    lists = _listed(outcome, links, names)
    room = budget - _size(must) - _NOTE_ROOM
    # Most important first: the data-safety table and the lists are short and must stay.
    room -= _size(data) + _size(lists)
    graph = mermaid.diagram(outcome.layer_graph) if outcome.layer_graph is not None else []
    if _size(graph) > room // 2 and outcome.layer_graph is not None:  # the releases' detail needs room too
        graph = mermaid.diagram(outcome.layer_graph, context=False)
        if _size(graph) > room // 2:
            graph = ["_The layer graph is left out to stay within the size limit._", ""]
    room -= _size(graph)
    detail: list[str] = []
    alike = releases.alike(changed)
    blocks: list[tuple[list[str], int]] = [  # the lines, and how many releases they show
        *([(releases.listing("Added", added), len(added))] if added else []),
        *([(releases.listing("Removed", removed), len(removed))] if removed else []),
        *([(["#### Changed", ""], 0)] if changed else []),
        *([([*releases.section(group).split("\n"), ""], len(group)) for group in alike]),
    ]
    for index, (block, _) in enumerate(blocks):
        if _size(block) > room:
            left = sum(count for _, count in blocks[index:])
            detail.append(
                f"_{left} more release(s) or object(s) left out to stay within {budget} characters;"
                " run `rail diff` locally for all of it._"
            )
            detail.append("")
            break
        detail += block
        room -= _size(block)
    return "\n".join([*must, *data, *graph, *detail, *lists]).rstrip("\n") + "\n"


_NOTE_ROOM = 200  # the "left out" line


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _head(outcome: DiffOutcome, entries: Sequence[releases.Entry]) -> list[str]:
    def side(label: str, commit: str | None) -> str:
        return escape_text(label) + (f" ({commit[:12]})" if commit else "")

    lines = [
        MARKER,
        f"### rail diff: {side(outcome.base_label, outcome.base_commit)}"
        f" .. {side(outcome.head_label, outcome.head_commit)}",
        "",
    ]
    if outcome.failed:
        lines.append(f"**Blocked:** {outcome.errors} error(s), {outcome.warnings} warning(s).")
    elif outcome.findings:
        lines.append(f"**Passes,** with {outcome.warnings} warning(s).")
    else:
        lines.append("**Passes:** no finding.")
    lines.append("")
    counts = Counter(entry.state for entry in entries)
    if entries:
        parts = ", ".join(f"{counts[kind]} {kind}" for kind in _KINDS if counts[kind])
        lines.append(f"{len(entries)} release(s) or object(s) changed: {parts}.")
    else:
        lines.append("No change to any rendered object.")
    lines[-1] += (
        f" {outcome.result.unchanged} object(s) unchanged, {outcome.result.noise_hidden} noise change(s) hidden;"
        f" lint: {len(outcome.lint_fixed)} fixed, {outcome.lint_unchanged} unchanged."
    )
    lines.append("")
    if outcome.notes:
        lines += [f"- note: {escape_text(note)}" for note in outcome.notes]
        lines.append("")
    return lines


def _findings(outcome: DiffOutcome, links: Links | None, names: found.Names, room: int) -> list[str]:
    """Every finding, in a table; findings alike but for a word in one row if it would
    take more than ``room`` characters otherwise."""
    if not outcome.findings:
        return []
    groups = found.grouped(outcome.findings)
    rows = found.table(groups, links, names)
    if _size(rows) > room:
        rows = found.table(found.alike(groups), links, names)
    return ["#### Findings", "", *rows, ""]


def _names(outcome: DiffOutcome) -> dict[tuple[str, str, str], str]:
    """Each changed object's release, as the comment names it (``namespace/name``)."""
    if outcome.layer_graph is None:
        return {}
    return {(key[1], key[2], key[3]): f"{ns}/{name}" if ns else name for key, (ns, name) in outcome.layer_graph.owners}


def _listed(outcome: DiffOutcome, links: Links | None, names: found.Names) -> list[str]:
    lines: list[str] = []
    if outcome.accepted:
        lines += ["#### Accepted migrations", ""]
        by_reason: dict[str, list[Finding]] = {}
        for item in outcome.accepted:
            record = found.where(item.record, links, table=False)
            by_reason.setdefault(f"accepted: {escape_text(item.reason)} (recorded at {record})", []).append(
                item.finding
            )
        for reason, members in by_reason.items():
            groups = found.grouped(members)
            lines += found.items(groups, links, names, [reason] * len(groups))
        lines.append("")
    for title, items in (("Suppressed", outcome.suppressed), ("Fixed by this change", outcome.lint_fixed)):
        if items:
            lines += [f"#### {title} ({len(items)})", "", *found.items(found.grouped(items), links, names), ""]
    return lines


def _actions(outcome: DiffOutcome) -> dict[ReleaseKey, list[str]]:
    """What each release's findings say to do, errors first; accepted migrations say so."""
    graph = outcome.layer_graph
    if graph is None:
        return {}
    owners = {(key[1], key[2], key[3]): owner for key, owner in graph.owners}
    actions: dict[ReleaseKey, list[str]] = {}
    ordered = sorted(outcome.findings, key=lambda f: (f.severity != ERROR, f.sort_key()))
    texts = [(f, f.hint or f.message) for f in ordered]
    texts += [(item.finding, f"accepted migration: {item.reason}") for item in outcome.accepted]
    for finding, text in texts:
        ref = finding.object
        owner = owners.get((ref.kind, ref.namespace or "", ref.name)) if ref is not None else None
        if owner is not None:
            actions.setdefault(owner, []).append(text)
    return actions
