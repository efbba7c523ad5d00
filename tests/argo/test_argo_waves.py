"""Sync waves order the Argo CD output the way Flux's dependsOn orders the Flux
output: no Application syncs in a wave lower than or equal to one it depends
on or refers to (read from the rendered files, ``railiance.io/depends-on``
resolved by destination namespace and name), and every layer's waves come after
every wave of the layers below."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argo_stack import (
    LAYER_LABEL,
    dependencies,
    labels,
    load_objects,
    of_kind,
    releases,
    wave,
    write_spec,
)

from renderer.app import run_render

LAYERS = ("S2", "S3", "S5")


def rendered_argo(root: Path) -> list[tuple[str, dict[str, Any]]]:
    return load_objects(root / "rendered" / "argo")


def assert_waves_follow_dependencies(apps: list[dict[str, Any]]) -> int:
    """Every Application after what it depends on; returns how many edges were checked."""
    edges = 0
    for app in apps:
        for dependency in dependencies(app, apps):
            edges += 1
            assert wave(app) > wave(dependency), (
                f"{app['metadata']['name']} (wave {wave(app)}) does not sync after"
                f" {dependency['metadata']['name']} (wave {wave(dependency)})"
            )
    return edges


def waves_by_layer(apps: list[dict[str, Any]]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {layer: [] for layer in LAYERS}
    for app in apps:
        found[labels(app)[LAYER_LABEL]].append(wave(app))
    return found


def assert_layers_in_order(by_layer: dict[str, list[int]]) -> None:
    for lower, upper in (("S2", "S3"), ("S3", "S5"), ("S2", "S5")):
        if by_layer[lower] and by_layer[upper]:
            assert min(by_layer[upper]) > max(by_layer[lower]), f"{upper} waves {by_layer[upper]} vs {lower}"


def test_shipped_stack_waves_follow_dependencies(rendered_stack: Path) -> None:
    apps = releases(rendered_argo(rendered_stack))
    assert {app["metadata"]["name"] for app in apps} == {
        "postgresql-ha",
        "valkey",
        "rabbitmq",
        "memcached",
        "gitea",
        "zulip",
    }
    # gitea depends on (and refers to) postgresql-ha and valkey; zulip on those, rabbitmq and memcached.
    assert assert_waves_follow_dependencies(apps) == 6
    by_layer = waves_by_layer(apps)
    assert by_layer["S3"] and by_layer["S5"]
    assert_layers_in_order(by_layer)


def test_namespaces_and_projects_come_before_every_application(rendered_stack: Path) -> None:
    """The root application syncs them all: namespaces, then projects, then the layers."""
    objects = rendered_argo(rendered_stack)
    namespaces = [wave(obj) for obj in of_kind(objects, "Namespace")]
    projects = [wave(obj) for obj in of_kind(objects, "AppProject")]
    apps = [wave(app) for app in releases(objects)]
    assert namespaces and projects and apps
    assert max(namespaces) < min(projects) and max(projects) < min(apps)


def _spec(
    name: str, layer: str, namespace: str, service_class: str, depends_on: tuple[str, ...] = (), extra: str = ""
) -> str:
    lines = [
        f"name: {name}",
        f"layer: {layer}",
        f"namespace: {namespace}",
        f"class: {service_class}",
        f"chart: {{source: gitea, name: {name}, version: 1.0.0}}",
    ]
    if depends_on:
        lines.append(f"dependsOn: [{', '.join(depends_on)}]")
    return "\n".join(lines) + "\n" + extra


@pytest.fixture(scope="module")
def chained_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped stack plus an S2 release, a chain a -> b -> c inside S5 (c needs valkey, in S3),
    and app-d, which only refers to app-c's export (no dependsOn)."""
    from conftest import REPO_ROOT, copy_stack

    root = copy_stack(REPO_ROOT, tmp_path_factory.mktemp("chain") / "stack", outputs=False)
    write_spec(root, "s2", "ingress", _spec("ingress", "S2", "ingress-nginx", "cluster-runtime"))
    write_spec(root, "s5", "app-a", _spec("app-a", "S5", "apps", "application", ("app-b",)))
    write_spec(root, "s5", "app-b", _spec("app-b", "S5", "apps", "application", ("app-c",)))
    exports = "exports:\n  web: {service: '{fullname}', port: 8080}\n"
    write_spec(root, "s5", "app-c", _spec("app-c", "S5", "apps", "application", ("valkey",), exports))
    refers = "values:\n  upstream: ${ref:app-c.web.address}\n"
    write_spec(root, "s5", "app-d", _spec("app-d", "S5", "apps", "application", extra=refers))
    run_render(root, "argo", check=False)
    yield root


def test_a_chain_inside_one_layer_gets_strictly_increasing_waves(chained_stack: Path) -> None:
    apps = releases(rendered_argo(chained_stack))
    by_name = {app["metadata"]["name"]: wave(app) for app in apps}
    assert by_name["app-c"] < by_name["app-b"] < by_name["app-a"]
    assert by_name["valkey"] < by_name["app-c"]
    assert assert_waves_follow_dependencies(apps) == 10  # gitea x2, zulip x4, app-a, app-b, app-c, app-d
    by_layer = waves_by_layer(apps)
    assert all(by_layer[layer] for layer in LAYERS)
    assert_layers_in_order(by_layer)
    # gitea and app-c wait only for S3: they may share a wave; nothing in S5 shares one with S3.
    assert by_name["gitea"] == by_name["app-c"]


def test_a_reference_alone_orders_the_waves(chained_stack: Path) -> None:
    """app-d names app-c only through ${ref:app-c.web.address}: the reference is a dependency."""
    apps = {app["metadata"]["name"]: app for app in releases(rendered_argo(chained_stack))}
    assert [dependency["metadata"]["name"] for dependency in dependencies(apps["app-d"], list(apps.values()))] == [
        "app-c"
    ]
    assert wave(apps["app-d"]) > wave(apps["app-c"])
    values = apps["app-d"]["spec"]["source"]["helm"]["valuesObject"]
    assert values["upstream"] == "app-c.apps.svc.cluster.local:8080"
