"""The comment's layer graph, read by Mermaid's own parser (npm's ``mermaid`` under node).

The set-up installs a pinned Mermaid (and jsdom, the DOM its sanitizer needs) once
into ``~/.cache/rail-tests/node`` (``RAIL_TEST_NODE_CACHE`` to move it). Without node
or npm on the machine these tests are skipped, saying so; a failed install fails them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from comment_scenarios import SCENARIOS

from renderer.diff.graph import UNCHANGED, GraphEdge, GraphNode, LayerGraph
from renderer.report.comment.mermaid import MAX_EDGES, diagram, shortened

MERMAID, JSDOM = "11.12.0", "26.1.0"
SCRIPT = Path(__file__).parent / "mermaid_parse.mjs"
FENCE = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)
HOSTILE = (
    'a"b',
    "x]; click r0 call alert(1)",
    "end",
    "%%{init: {'theme': 'dark'}}%%",
    "```\n# heading",
    "a --> b",
    "classDef x fill:red",
    "<img src=x onerror=alert(1)>",
    "#35; &amp; &#x41;",
    "tab\there\r\nand\u2028line",
    "\u00e9t\u00e9 \u6f22\u5b57 \U0001f600",
    "|pipe| {curly} (round) [square]",
    "\\ back\\slash ;semi:colon",
)


@pytest.fixture(scope="session")
def mermaid_parser() -> Path:
    """A folder with Mermaid and jsdom installed (once, then reused)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: the Mermaid diagrams cannot be parsed here")
    cache = Path(os.environ.get("RAIL_TEST_NODE_CACHE", Path.home() / ".cache" / "rail-tests" / "node"))
    folder = cache / f"mermaid-{MERMAID}-jsdom-{JSDOM}"
    if not (folder / "node_modules" / "mermaid" / "package.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="install-", dir=cache))
        (scratch / "package.json").write_text('{"private": true, "type": "module"}\n', encoding="utf-8")
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", f"mermaid@{MERMAID}", f"jsdom@{JSDOM}"],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            pytest.fail(f"npm install of mermaid@{MERMAID} failed:\n{done.stderr[-2000:]}")
        try:
            scratch.rename(folder)  # whole or not at all: a parallel run may have won
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
    shutil.copyfile(SCRIPT, folder / SCRIPT.name)
    return folder


def parse(folder: Path, texts: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", SCRIPT.name],
        cwd=folder,
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def _block(text: str) -> str:
    (found,) = FENCE.findall(text)
    return str(found)


def test_the_parser_refuses_a_broken_diagram(mermaid_parser: Path) -> None:
    """The check can fail: an unescaped quote and bracket in a label end it early."""
    broken, fine = parse(mermaid_parser, ['flowchart TB\n  r0["a"]"]\n', 'flowchart TB\n  r0["a#34;#93;"]\n'])

    assert not broken["ok"]
    assert fine["ok"] and fine["vertices"] == [["r0", 'a"]']]


def test_every_scenario_graph_parses_as_drawn(mermaid_parser: Path) -> None:
    names, texts = [], []
    for name, build in sorted(SCENARIOS.items()):
        built, _ = build()
        lines = diagram(built.layer_graph) if built.layer_graph is not None else []
        if lines:
            names.append(name)
            texts.append(_block("\n".join(lines) + "\n"))
    assert "hostile-names" in names and "no-change" not in names
    for name, result, built in zip(
        names, parse(mermaid_parser, texts), (SCENARIOS[n]()[0] for n in names), strict=True
    ):
        assert result["ok"], (name, result)
        assert result["type"] == "flowchart-v2"
        graph = built.layer_graph
        assert graph is not None
        shown = {label.removesuffix(f" ({node.state})") for _, label in result["vertices"] for node in graph.nodes}
        for node in graph.nodes:  # every release is a node, labelled with its name exactly (long ones cut)
            assert shortened(node.label) in shown, (name, node.label)
        assert len(result["vertices"]) == len(graph.nodes)
        assert len(result["edges"]) == len(graph.edges)
        red = [edge for edge in result["edges"] if any("stroke:#cf222e" in style for style in edge[2])]
        assert len(red) == sum(edge.upward for edge in graph.edges)


def test_hostile_labels_reach_mermaid_as_text(mermaid_parser: Path) -> None:
    """Each hostile name is one node whose label is the name (line endings as Mermaid
    shows them), in the layer's subgraph; no directive, click or class sneaks in."""
    nodes = tuple(
        GraphNode(namespace="apps", name=name, layer="S5", state=UNCHANGED if index % 2 else "modified")
        for index, name in enumerate(HOSTILE)
    )
    edges = (GraphEdge(nodes[0].key, nodes[1].key, upward=True),)
    graph = LayerGraph(layers=(("S2", "cluster"), ("S5", 'apps"] end')), nodes=nodes, edges=edges)
    text = "\n".join(diagram(graph))
    (result,) = parse(mermaid_parser, [_block(text)])

    assert result["ok"], result
    labels = [label for _, label in result["vertices"]]
    expected = [
        f"apps/{name}" + ("" if node.state == UNCHANGED else " (modified)")
        for name, node in zip(HOSTILE, nodes, strict=True)
    ]
    assert sorted(labels) == sorted(expected)
    assert [title for _, title, _ in result["subgraphs"]] == ['S5 apps"] end']
    assert len(result["edges"]) == 1 and "stroke:#cf222e" in "".join(result["edges"][0][2])
    assert "click" not in text.split("```mermaid", 1)[1].split("  subgraph", 1)[0]


def test_a_large_graph_draws_changed_releases_and_neighbours(mermaid_parser: Path) -> None:
    nodes = [GraphNode("apps", f"app-{index:03d}", "S5", UNCHANGED) for index in range(200)]
    nodes[10] = GraphNode("apps", "app-010", "S5", "modified")
    nodes.append(GraphNode("platform", "db", "S3", UNCHANGED))
    edges = tuple(GraphEdge(node.key, ("platform", "db"), upward=False) for node in nodes[:-1])
    graph = LayerGraph(layers=(("S3", "platform"), ("S5", "apps")), nodes=tuple(nodes), edges=edges)

    text = "\n".join(diagram(graph))
    (result,) = parse(mermaid_parser, [_block(text)])

    assert result["ok"], result
    assert sorted(label for _, label in result["vertices"]) == ["apps/app-010 (modified)", "platform/db"]
    assert "only the 1 changed one(s) and their direct neighbours are drawn (199 left out)" in text


def test_edges_past_mermaids_limit_are_dropped_saying_so(mermaid_parser: Path) -> None:
    nodes = tuple(GraphNode("apps", f"app-{index:03d}", "S5", "modified") for index in range(30))
    edges = tuple(
        GraphEdge(one.key, two.key, upward=False) for one in nodes for two in nodes if one.key < two.key
    )  # 435 edges
    graph = LayerGraph(layers=(("S5", "apps"),), nodes=nodes, edges=edges)

    text = "\n".join(diagram(graph))
    (result,) = parse(mermaid_parser, [_block(text)])

    assert result["ok"], result
    assert len(result["edges"]) == MAX_EDGES
    assert f"{len(edges) - MAX_EDGES} dependency edge(s) not drawn." in text


def test_the_graph_of_three_hundred_changed_releases_parses(mermaid_parser: Path) -> None:
    from test_comment import _three_hundred

    graph = _three_hundred().graph
    assert graph is not None
    (result,) = parse(mermaid_parser, [_block("\n".join(diagram(graph, context=False)))])

    assert result["ok"], result
    assert len(result["vertices"]) == len(graph.changed) == 300
