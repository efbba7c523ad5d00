"""The data-safety table: every stateful release the change touches, its volumes,
replicas and PodDisruptionBudget before and after, and what to do before merging."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...diff.compare import ADDED, MODIFIED, MOVED, REMOVED, RENAMED
from ...diff.graph import Facts, GraphNode, LayerGraph
from ..markdown import escape_text

_ACTION = {
    REMOVED: "its volumes go with it: back up first, or keep the claims (helm.sh/resource-policy: keep)",
    MOVED: "Helm installs it afresh with empty volumes: migrate the data",
    RENAMED: "Helm installs it afresh with empty volumes: migrate the data",
    ADDED: "none: new, empty volumes",
    MODIFIED: "none: volumes kept",
}


def _pairs(old: Sequence[tuple[str, object]], new: Sequence[tuple[str, object]]) -> str:
    before, after = dict(old), dict(new)
    parts = []
    for path in sorted(before.keys() | after.keys()):
        one, two = before.get(path), after.get(path)
        shown = _plain(one) if one == two else f"{_plain(one)} → {_plain(two)}"
        parts.append(f"{path} {shown}")
    return "; ".join(parts)


def _plain(item: object) -> str:
    if item is None:
        return "(absent)"
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def _cell(node: GraphNode, pick: str) -> str:
    old, new = node.old or Facts(), node.new or Facts()
    return escape_text(_pairs(getattr(old, pick), getattr(new, pick))) or "—"


def table(graph: LayerGraph | None, actions: Mapping[tuple[str, str], Sequence[str]]) -> list[str]:
    """``actions``: what the findings on each release say to do (their fix), errors first."""
    nodes = [node for node in graph.changed if node.stateful] if graph is not None else []
    if not nodes:
        return []
    lines = [
        "#### Data safety",
        "",
        "| release | change | volumes | replicas | PodDisruptionBudget | action required |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    rows: dict[tuple[str, ...], list[str]] = {}  # releases alike share a row
    for node in nodes:
        hints = list(dict.fromkeys(actions.get(node.key, ())))
        action = "; ".join(hints) if hints else _ACTION.get(node.state, "")
        cells = (
            escape_text(node.state),
            _cell(node, "volumes"),
            _cell(node, "replicas"),
            _cell(node, "disruption_budget"),
            escape_text(action),
        )
        rows.setdefault(cells, []).append(node.label)
    for row, labels in rows.items():
        names = escape_text(", ".join(labels))
        release = names if len(labels) == 1 else f"same in {len(labels)} releases: {names}"
        lines.append("| " + " | ".join((release, *row)) + " |")
    return [*lines, ""]
