"""Parity: for the shipped stack, the Flux and the Argo CD output describe the
same releases. Two lint release graphs are built, one from only the rendered
Flux manifests and one from only the rendered Argo manifests, and compared:
release names, Helm release names, charts and their sources, versions,
destination namespaces, layers, values, dependency edges (Flux ``dependsOn``
against the ``railiance.io/depends-on`` annotation), and order (what Flux
reconciles first, through ``dependsOn`` and the layer Kustomizations, has a
lower sync wave)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from argo_stack import load_objects, wave, write_spec

from renderer.app import run_render
from renderer.lint.finding import ObjectRef
from renderer.lint.graph import ReleaseGraph, ReleaseNode, build
from renderer.lint.manifests import parse
from renderer.load import load_stack

RELEASE_EDGES = ("dependsOn", "reference")


def graph_of(root: Path, target: str) -> ReleaseGraph:
    config = load_stack(root).stack.config
    manifests = []
    for path in sorted((root / "rendered" / target).rglob("*.yaml")):
        manifests.extend(parse(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix()))
    return build(config, manifests)


@pytest.fixture(scope="module")
def chained_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped stack plus an S2 release and a chain app-a -> app-b -> app-c -> valkey in S5."""
    from conftest import REPO_ROOT, copy_stack

    root = copy_stack(REPO_ROOT, tmp_path_factory.mktemp("parity") / "stack", outputs=False)
    for layer, name, namespace, service_class, dependency in (
        ("S2", "ingress", "ingress-nginx", "cluster-runtime", ""),
        ("S5", "app-a", "apps", "application", "app-b"),
        ("S5", "app-b", "apps", "application", "app-c"),
        ("S5", "app-c", "apps", "application", "valkey"),
    ):
        body = (
            f"name: {name}\nlayer: {layer}\nnamespace: {namespace}\nclass: {service_class}\n"
            f"chart: {{source: gitea, name: {name}, version: 1.0.0}}\nvalues: {{replicaCount: 2}}\n"
        )
        write_spec(root, layer.lower(), name, body + (f"dependsOn: [{dependency}]\n" if dependency else ""))
    run_render(root, "all", check=False)
    return root


@pytest.fixture(scope="module", params=["shipped", "chained"])
def stack(request: pytest.FixtureRequest, rendered_stack: Path) -> Path:
    return rendered_stack if request.param == "shipped" else Path(request.getfixturevalue("chained_stack"))


@pytest.fixture(scope="module")
def graphs(stack: Path) -> tuple[ReleaseGraph, ReleaseGraph]:
    return graph_of(stack, "flux"), graph_of(stack, "argo")


def by_name(graph: ReleaseGraph) -> dict[str, ReleaseNode]:
    return {node.ref.name: node for node in graph.releases.values()}


def helm_release_name(node: ReleaseNode) -> str:
    spec = node.manifest.spec()
    if node.ref.kind == "Application":
        name = (spec["source"].get("helm") or {}).get("releaseName")
    else:
        name = spec.get("releaseName")
    return str(name or node.ref.name)


def chart_location(graph: ReleaseGraph, node: ReleaseNode) -> tuple[str, str]:
    """(where the chart comes from, its name there): a Helm repository URL and chart, or an OCI chart URL."""
    if node.ref.kind == "Application":
        source = node.manifest.spec()["source"]
        return str(source["repoURL"]), str(source.get("chart", ""))
    assert node.chart.source is not None, f"{node.ref} has no chart source"
    source_object = graph.objects[node.chart.source]
    url = str(source_object.spec()["url"])
    if source_object.kind == "OCIRepository":
        return url, ""
    return url, str(node.chart.name)


def edges_of(graph: ReleaseGraph) -> set[tuple[str, str | None, str]]:
    """(dependent, namespace of the dependency's release, dependency)."""
    found = set()
    for edge in graph.edges:
        if edge.kind not in RELEASE_EDGES:
            continue
        assert edge.target in graph.releases, f"{edge.source} -> {edge.target} names no release"
        target = graph.releases[edge.target]
        found.add((edge.source.name, target.namespace, target.ref.name))
    return found


def test_same_releases(graphs: tuple[ReleaseGraph, ReleaseGraph], stack: Path) -> None:
    flux, argo = (by_name(graph) for graph in graphs)
    specs = {release.name for release in load_stack(stack).stack.releases}
    assert set(flux) == set(argo) == specs
    assert specs >= {"postgresql-ha", "valkey", "gitea"}
    assert {node.ref.kind for node in flux.values()} == {"HelmRelease"}
    assert {node.ref.kind for node in argo.values()} == {"Application"}


FACTS: dict[str, Callable[[ReleaseNode], Any]] = {
    "helm release name": helm_release_name,
    "chart": lambda node: node.chart.name,
    "version": lambda node: node.chart.version,
    "namespace": lambda node: node.namespace,
    "layer": lambda node: node.layer.layer.id if node.layer.layer else None,
    "service class": lambda node: node.service_class,
    "ha": lambda node: node.ha,
    "values": lambda node: node.values,
}


@pytest.mark.parametrize("what", sorted(FACTS))
def test_same_release_facts(graphs: tuple[ReleaseGraph, ReleaseGraph], what: str) -> None:
    flux, argo = (by_name(graph) for graph in graphs)
    for name in flux:
        assert FACTS[what](flux[name]) == FACTS[what](argo[name]), f"{what} of {name}"
        assert not flux[name].unknown_values and not argo[name].unknown_values


def test_same_chart_sources(graphs: tuple[ReleaseGraph, ReleaseGraph]) -> None:
    flux_graph, argo_graph = graphs
    flux, argo = by_name(flux_graph), by_name(argo_graph)
    for name in flux:
        flux_url, flux_chart = chart_location(flux_graph, flux[name])
        argo_url, argo_chart = chart_location(argo_graph, argo[name])
        assert (flux_url, flux_chart) == (argo_url, argo_chart), name


def test_same_dependency_edges(graphs: tuple[ReleaseGraph, ReleaseGraph]) -> None:
    flux, argo = graphs
    assert edges_of(flux) == edges_of(argo)
    assert edges_of(flux) >= {("gitea", "platform", "postgresql-ha"), ("gitea", "platform", "valkey")}
    assert all(edge.resolved for edge in argo.edges if edge.kind in RELEASE_EDGES)


def flux_order(graph: ReleaseGraph, root: Path) -> set[tuple[str, str]]:
    """(first, then): Flux reconciles ``first`` before ``then``, through a release's
    ``dependsOn`` or a layer Kustomization's ``dependsOn`` on the Kustomization of
    another layer's folder; transitively closed."""
    before: set[tuple[str, str]] = {(target, source) for source, _, target in edges_of(graph)}
    layers = [doc for _, doc in _layer_kustomizations(root)]
    folder_of = {doc["metadata"]["name"]: Path(doc["spec"]["path"]).name for doc in layers}
    members: dict[str, set[str]] = {}
    for node in graph.releases.values():
        members.setdefault(Path(node.manifest.path).parent.name, set()).add(node.ref.name)
    for doc in layers:
        for dependency in doc["spec"].get("dependsOn") or []:
            earlier = members.get(folder_of[dependency["name"]], set())
            later = members.get(folder_of[doc["metadata"]["name"]], set())
            before |= set(itertools.product(earlier, later))
    while True:
        closed = before | {(a, d) for a, b in before for c, d in before if b == c}
        if closed == before:
            return before
        before = closed


def _layer_kustomizations(root: Path) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, doc)
        for path, doc in load_objects(root / "rendered" / "flux" / "layers")
        if doc.get("apiVersion", "").startswith("kustomize.toolkit.fluxcd.io/")
    ]


def test_waves_agree_with_the_flux_order(graphs: tuple[ReleaseGraph, ReleaseGraph], stack: Path) -> None:
    flux, argo = graphs
    waves = {node.ref.name: wave(node.manifest.data) for node in argo.releases.values()}
    order = flux_order(flux, stack)
    # gitea after what it depends on (and S3 before S5, by the layer Kustomizations).
    assert ("postgresql-ha", "gitea") in order and ("valkey", "gitea") in order
    for first, then in order:
        assert waves[first] < waves[then], f"Flux reconciles {first} before {then}; Argo waves {waves}"
    # Releases Flux may reconcile together are not forced apart: the same layer, no edge, the same wave.
    assert waves["postgresql-ha"] == waves["valkey"]


def test_the_flux_order_of_a_chain_and_of_layers(chained_stack: Path) -> None:
    """The order the wave test relies on is Flux's: edges and layer Kustomizations, closed."""
    order = flux_order(graph_of(chained_stack, "flux"), chained_stack)
    # Layer order alone (no edge): the S2 release before every S3 one, transitively before S5.
    assert {("ingress", "valkey"), ("ingress", "app-a"), ("app-c", "app-b"), ("app-b", "app-a")} <= order
    assert ("valkey", "postgresql-ha") not in order and ("gitea", "app-c") not in order


def test_argo_edges_point_at_applications(graphs: tuple[ReleaseGraph, ReleaseGraph]) -> None:
    _, argo = graphs
    targets = {edge.target for edge in argo.edges if edge.kind in RELEASE_EDGES}
    assert {
        ObjectRef("Application", "argocd", "postgresql-ha"),
        ObjectRef("Application", "argocd", "valkey"),
    } <= targets
    assert {target.kind for target in targets} == {"Application"}
