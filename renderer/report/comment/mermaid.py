"""The layer graph as a Mermaid flowchart (GitHub and Gitea draw ```mermaid blocks).

Layers are subgraphs, lowest at the bottom; an edge goes from a release to what it
depends on; a red edge breaks the layer rule. Ids are rail's own (``r0``, ``L0``);
every label is quoted and any character but letters, digits and ``./:_-`` and the
space is written as a Mermaid entity (``#35;``), so no name can end a label, start a
directive or close the code block.
"""

from __future__ import annotations

import re

from ...diff.compare import ADDED, MODIFIED, MOVED, REMOVED, RENAMED
from ...diff.graph import UNCHANGED, GraphNode, LayerGraph

LARGE = 60  # more releases than this: only the changed ones and their direct neighbours
MAX_EDGES = 400  # Mermaid refuses a diagram of more than 500 edges (its maxEdges)
_PLAIN = re.compile(r"[A-Za-z0-9 ./:_-]")
_STYLES = {
    ADDED: "fill:#dafbe1,stroke:#1a7f37,stroke-width:2px",
    REMOVED: "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 5",
    MODIFIED: "fill:#fff8c5,stroke:#9a6700,stroke-width:2px",
    MOVED: "fill:#ddf4ff,stroke:#0969da,stroke-width:2px",
    RENAMED: "fill:#fbefff,stroke:#8250df,stroke-width:2px",
    UNCHANGED: "fill:#f6f8fa,stroke:#8c959f",
}
LEGEND = (
    "Green: added; red, dashed: removed; yellow: modified; blue: moved; purple: renamed; grey: unchanged."
    " An arrow points at what a release depends on; a red arrow breaks the layer rule"
    " (a lower layer depending on a higher one)."
)


def shortened(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def label(text: str) -> str:
    """``text`` as the inside of a quoted Mermaid label."""
    return "".join(char if _PLAIN.fullmatch(char) else f"#{ord(char)};" for char in text)


def shown(graph: LayerGraph, context: bool) -> tuple[list[GraphNode], str]:
    """The nodes to draw, and a sentence saying what was left out (or "")."""
    changed = graph.changed
    if not context:
        left = len(graph.nodes) - len(changed)
        return list(changed), f"Only the {len(changed)} changed release(s) are drawn ({left} unchanged left out)."
    if len(graph.nodes) <= LARGE:
        return list(graph.nodes), ""
    keys = {node.key for node in changed}
    near = {edge.target for edge in graph.edges if edge.source in keys}
    near |= {edge.source for edge in graph.edges if edge.target in keys}
    kept = [node for node in graph.nodes if node.key in keys or node.key in near]
    if len(kept) == len(graph.nodes):
        return kept, ""
    return kept, (
        f"{len(graph.nodes)} releases: only the {len(changed)} changed one(s) and their direct"
        f" neighbours are drawn ({len(graph.nodes) - len(kept)} left out)."
    )


def diagram(graph: LayerGraph, context: bool = True) -> list[str]:
    """The markdown lines of the diagram (fenced), with its legend; [] if nothing changed."""
    if not graph.changed:
        return []
    nodes, note = shown(graph, context)
    ids = {node.key: f"r{index}" for index, node in enumerate(nodes)}
    lines = ["```mermaid", "flowchart TB"]
    layers = [*graph.layers]
    known = {layer for layer, _ in layers}
    if any(node.layer not in known for node in nodes):
        layers.append(("", "no layer"))
    # Highest layer first: Mermaid draws subgraphs in the order given, so S2 ends at the bottom.
    for index, (layer, name) in reversed(list(enumerate(layers))):
        members = [node for node in nodes if (node.layer if node.layer in known else "") == layer]
        if not members:
            continue
        title = f"{layer} {name}".strip()
        lines.append(f'  subgraph L{index}["{label(shortened(title))}"]')
        for node in members:
            text = shortened(node.label) + ("" if node.state == UNCHANGED else f" ({node.state})")
            lines.append(f'    {ids[node.key]}["{label(text)}"]')
        lines.append("  end")
    upward = []
    edges = [edge for edge in graph.edges if edge.source in ids and edge.target in ids]
    if len(edges) > MAX_EDGES:  # the edges that break the layer rule first, then those of changed releases
        changed = {node.key for node in graph.changed}
        ranked = sorted(edges, key=lambda e: (not e.upward, e.source not in changed and e.target not in changed))
        kept = set(ranked[:MAX_EDGES])
        note = f"{note} {len(edges) - MAX_EDGES} dependency edge(s) not drawn.".strip()
        edges = [edge for edge in edges if edge in kept]
    for index, edge in enumerate(edges):
        lines.append(f"  {ids[edge.source]} --> {ids[edge.target]}")
        if edge.upward:
            upward.append(str(index))
    for state, style in _STYLES.items():
        styled = [ids[node.key] for node in nodes if node.state == state]
        if styled:
            lines.append(f"  classDef {state} {style}")
            lines.append(f"  class {','.join(styled)} {state}")
    if upward:
        lines.append(f"  linkStyle {','.join(upward)} stroke:#cf222e,stroke-width:3px")
    lines += ["```", "", LEGEND + (f" {note}" if note else ""), ""]
    return lines
