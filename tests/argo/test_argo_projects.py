"""Each rendered AppProject, evaluated the way Argo CD evaluates it (see
argocd_semantics.py for the rules relied on), admits every Application rail
puts in it, and refuses what the layer boundary forbids: an S5 application
aimed at ``platform``, a chart from a source the stack does not list, a
cluster-scoped resource outside S2."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from argo_stack import LAYER_LABEL, labels, load_objects, of_kind, releases
from argocd_semantics import (
    Destination,
    destination_permitted,
    glob_match,
    kind_permitted,
    refusals,
    source_permitted,
)

from renderer.load import load_stack


def rendered(root: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    objects = load_objects(root / "rendered" / "argo")
    projects = {project["metadata"]["name"]: project for project in of_kind(objects, "AppProject")}
    return projects, releases(objects)


def test_every_application_is_admitted_by_its_project(rendered_stack: Path) -> None:
    projects, apps = rendered(rendered_stack)
    assert set(projects) == {"s2-cluster", "s3-platform", "s5-apps"}
    assert len(apps) == 6  # postgresql-ha, valkey, rabbitmq, memcached, gitea, zulip
    for app in apps:
        project = projects[app["spec"]["project"]]
        assert labels(project)[LAYER_LABEL] == labels(app)[LAYER_LABEL], "an application in another layer's project"
        assert refusals(project, app) == [], app["metadata"]["name"]


def test_projects_allow_exactly_their_layers_namespaces_and_the_stacks_sources(rendered_stack: Path) -> None:
    config = load_stack(rendered_stack).stack.config
    projects, _ = rendered(rendered_stack)
    for layer in config.layers:
        project = projects[layer.folder]
        for other in config.layers:
            for namespace in other.namespaces:
                server = Destination(server=config.argo.server, namespace=namespace)
                assert destination_permitted(project, server) == (other is layer), (layer.id, namespace)
        assert not destination_permitted(project, Destination(server="https://elsewhere.example.com", namespace="x"))
        for source in config.sources:
            chart_url = f"{source.url}/some-chart" if source.type == "oci" else source.url
            assert source_permitted(project, chart_url), (layer.id, chart_url)


def test_an_s5_application_aimed_at_platform_is_refused(rendered_stack: Path) -> None:
    projects, apps = rendered(rendered_stack)
    gitea = next(app for app in apps if app["metadata"]["name"] == "gitea")
    moved = copy.deepcopy(gitea)
    moved["spec"]["destination"]["namespace"] = "platform"
    assert refusals(projects["s5-apps"], moved) == [
        "destination https://kubernetes.default.svc/platform is not permitted"
    ]
    # The S3 project would take it: the refusal is the layer boundary, not a typo.
    assert destination_permitted(projects["s3-platform"], Destination("https://kubernetes.default.svc", "", "platform"))


@pytest.mark.parametrize(
    "repo_url",
    [
        "https://charts.bitnami.com/bitnami",  # a Helm repository the stack does not list
        "oci://ghcr.io/someone/charts/valkey",  # another registry
        "oci://registry-1.docker.io/bitnamicharts-mirror/valkey",  # a look-alike path
        "oci://registry-1.docker.io/bitnamicharts/nested/valkey",  # '*' does not cross '/'
    ],
)
def test_an_application_from_a_source_outside_the_stack_is_refused(rendered_stack: Path, repo_url: str) -> None:
    projects, apps = rendered(rendered_stack)
    valkey = next(app for app in apps if app["metadata"]["name"] == "valkey")
    foreign = copy.deepcopy(valkey)
    foreign["spec"]["source"]["repoURL"] = repo_url
    assert refusals(projects["s3-platform"], foreign) == [f"source {repo_url} is not permitted"]
    assert not any(source_permitted(project, repo_url) for project in projects.values())


def test_cluster_scoped_resources_only_in_s2(rendered_stack: Path) -> None:
    projects, _ = rendered(rendered_stack)
    assert kind_permitted(projects["s2-cluster"], "", "Namespace", namespaced=False)
    assert kind_permitted(projects["s2-cluster"], "rbac.authorization.k8s.io", "ClusterRole", namespaced=False)
    for name in ("s3-platform", "s5-apps"):
        assert not kind_permitted(projects[name], "", "Namespace", namespaced=False)
        assert not kind_permitted(projects[name], "rbac.authorization.k8s.io", "ClusterRole", namespaced=False)
        assert kind_permitted(projects[name], "apps", "StatefulSet", namespaced=True)


# --------------------------------------------------------------------------- the matcher itself


@pytest.mark.parametrize(
    ("pattern", "text", "separators", "expected"),
    [
        ("*", "anything/at/all", "", True),
        ("*", "a/b", "/", False),  # gobwas itself; Argo CD special-cases the pattern "*" before it
        ("oci://r.io/charts/*", "oci://r.io/charts/valkey", "/", True),
        ("oci://r.io/charts/*", "oci://r.io/charts/a/valkey", "/", False),
        ("oci://r.io/charts/**", "oci://r.io/charts/a/valkey", "/", True),
        ("https://github.com/org/*", "https://github.com/org/repo", "/", True),
        ("team-*", "team-a", "", True),
        ("team-?", "team-ab", "", False),
        ("team-[ab]", "team-b", "", True),
        ("team-[!ab]", "team-b", "", False),
        ("{apps,platform}", "platform", "", True),
        ("apps", "apps2", "", False),
        (r"a\*b", "a*b", "", True),
        (r"a\*b", "axb", "", False),
    ],
)
def test_glob_semantics(pattern: str, text: str, separators: str, expected: bool) -> None:
    assert glob_match(pattern, text, separators) is expected


def test_negation_and_normalization() -> None:
    project = {
        "spec": {
            "sourceRepos": ["https://Git.Example.com/*", "!https://git.example.com/forbidden.git"],
            "destinations": [
                {"server": "*", "namespace": "*"},
                {"server": "*", "namespace": "!kube-system"},
            ],
        }
    }
    assert source_permitted(project, "https://git.example.com/allowed.git")
    assert not source_permitted(project, "https://git.example.com/forbidden")
    # Argo CD counts a deny pattern that does not name the source as a match: with one in
    # the list, every source it does not deny is admitted.
    assert source_permitted(project, "https://other.example.com/repo")
    assert not source_permitted({"spec": {"sourceRepos": ["https://git.example.com/*"]}}, "https://other.example.com/r")
    assert source_permitted({"spec": {"sourceRepos": ["*"]}}, "oci://registry.example.com/a/b/c")
    assert destination_permitted(project, Destination(server="https://k8s", namespace="apps"))
    assert not destination_permitted(project, Destination(server="https://k8s", namespace="kube-system"))
    assert destination_permitted(project, Destination(name="in-cluster", namespace="apps")) is False  # no name match
