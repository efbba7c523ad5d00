"""The layer boundary at run time under Flux: with ``flux: {serviceAccounts: true}``
each upper layer's Kustomization and HelmReleases run as service accounts whose
RBAC (rendered in the cluster layer) reaches only the layer's namespaces, the
Flux multi-tenancy pattern; sources live beside the releases that use them, so
no object refers to another namespace's source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argo_stack import crd_schemas, kustomize, load_objects, schema_errors, set_config

from renderer.app import run_lint, run_render
from renderer.lint.rule import LintOptions
from renderer.load import load_stack
from renderer.model import StackConfig

CLUSTER_FOLDER = "s2-cluster"
NO_CRD = {"Namespace", "Secret", "ServiceAccount", "RoleBinding", "Job", "CronJob"}  # core kinds: test_core_schemas.py


@pytest.fixture(scope="module")
def tenant_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from conftest import REPO_ROOT, copy_stack

    root = copy_stack(REPO_ROOT, tmp_path_factory.mktemp("tenancy") / "stack", outputs=False)
    set_config(root, "\nflux:\n", "\nflux:\n  serviceAccounts: true\n")
    run_render(root, "all", check=False)
    yield root


@pytest.fixture(scope="module")
def config(tenant_stack: Path) -> StackConfig:
    loaded = load_stack(tenant_stack).stack.config
    assert loaded.flux_service_accounts
    return loaded


def flux_objects(root: Path) -> list[tuple[str, dict[str, Any]]]:
    return load_objects(root / "rendered" / "flux")


def of(objects: list[tuple[str, dict[str, Any]]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(path, obj) for path, obj in objects if obj["kind"] == kind]


def layer_kustomizations(objects: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {
        obj["metadata"]["name"]: obj
        for _, obj in of(objects, "Kustomization")
        if obj["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/")
    }


def reach(objects: list[tuple[str, dict[str, Any]]], namespace: str, name: str) -> set[str]:
    """The namespaces where service account ``namespace/name`` may act: those of the
    RoleBindings naming it (a RoleBinding grants only in its own namespace). A
    ClusterRoleBinding would grant everywhere: there must be none."""
    assert not of(objects, "ClusterRoleBinding"), "multi-tenancy renders no ClusterRoleBinding"
    subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
    return {
        binding["metadata"]["namespace"]
        for _, binding in of(objects, "RoleBinding")
        if subject in (binding.get("subjects") or [])
    }


def test_layer_kustomizations_run_as_the_layers_account(tenant_stack: Path, config: StackConfig) -> None:
    objects = flux_objects(tenant_stack)
    layers = layer_kustomizations(objects)
    accounts = {(obj["metadata"]["namespace"], obj["metadata"]["name"]) for _, obj in of(objects, "ServiceAccount")}
    lowest = config.layers[0].folder
    assert "serviceAccountName" not in layers[lowest]["spec"], "the cluster layer runs as the controller"
    for name, kustomization in layers.items():
        if name == lowest:
            continue
        account = kustomization["spec"]["serviceAccountName"]
        assert (kustomization["metadata"]["namespace"], account) in accounts, f"{name}: account {account} missing"


def test_helm_releases_run_as_an_account_of_their_namespace(tenant_stack: Path) -> None:
    objects = flux_objects(tenant_stack)
    accounts = {(obj["metadata"]["namespace"], obj["metadata"]["name"]) for _, obj in of(objects, "ServiceAccount")}
    releases = of(objects, "HelmRelease")
    assert len(releases) == 6
    for _, release in releases:
        namespace, account = release["metadata"]["namespace"], release["spec"].get("serviceAccountName")
        assert account, f"{release['metadata']['name']} has no serviceAccountName"
        assert (namespace, account) in accounts
        assert reach(objects, namespace, account) == {namespace}


def test_rbac_lives_in_the_cluster_layer(tenant_stack: Path) -> None:
    objects = flux_objects(tenant_stack)
    for kind in ("ServiceAccount", "RoleBinding"):
        found = of(objects, kind)
        assert found, f"no {kind} rendered"
        assert {path.split("/")[0] for path, _ in found} == {CLUSTER_FOLDER}, f"a {kind} outside {CLUSTER_FOLDER}"


def test_rbac_evaluation_each_layer_reaches_exactly_its_namespaces(tenant_stack: Path, config: StackConfig) -> None:
    objects = flux_objects(tenant_stack)
    layers = layer_kustomizations(objects)
    for layer in config.layers[1:]:
        kustomization = layers[layer.folder]
        account = kustomization["spec"]["serviceAccountName"]
        reachable = reach(objects, kustomization["metadata"]["namespace"], account)
        assert reachable == set(layer.namespaces), f"{layer.id}: {account} reaches {sorted(reachable)}"
        # Everything in the layer's folder is in a namespace its account may write to.
        folder = Path(kustomization["spec"]["path"]).name
        for path, obj in objects:
            if path.startswith(f"{folder}/") and obj["kind"] != "Kustomization":
                assert obj["metadata"].get("namespace") in reachable, f"{path}: outside {layer.id}'s namespaces"
    s5 = reach(objects, "flux-system", layers["s5-apps"]["spec"]["serviceAccountName"])
    assert "platform" not in s5, "the S5 account must not reach the platform namespace"


def test_sources_are_per_namespace(tenant_stack: Path) -> None:
    objects = flux_objects(tenant_stack)
    present = {
        (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        for _, obj in objects
        if "metadata" in obj
    }
    for path, release in of(objects, "HelmRelease"):
        namespace = release["metadata"]["namespace"]
        spec = release["spec"]
        ref = spec["chartRef"] if "chartRef" in spec else spec["chart"]["spec"]["sourceRef"]
        assert ref.get("namespace", namespace) == namespace, f"{path}: a cross-namespace source reference"
        assert (ref["kind"], namespace, ref["name"]) in present, f"{path}: its source is not rendered"
    # No shared source left behind in the Flux namespace: every one sits beside its releases.
    repositories = of(objects, "HelmRepository")
    assert repositories
    assert {obj["metadata"]["namespace"] for _, obj in repositories} <= {
        release["metadata"]["namespace"] for _, release in of(objects, "HelmRelease")
    }


@pytest.mark.parametrize("which", ["upstream", "packaged"])
def test_every_object_validates(tenant_stack: Path, which: str) -> None:
    schemas = crd_schemas(which)
    objects = [
        (path, obj)
        for path, obj in flux_objects(tenant_stack)
        if obj["kind"] not in NO_CRD and not obj["apiVersion"].startswith("kustomize.config.k8s.io/")
    ]
    assert {obj["kind"] for _, obj in objects} >= {"HelmRelease", "HelmRepository", "OCIRepository", "Kustomization"}
    failures = [f"{path}: {error}" for path, obj in objects for error in schema_errors(obj, schemas)]
    assert failures == []


@pytest.mark.slow
def test_kustomize_builds_every_folder(tenant_stack: Path) -> None:
    flux = tenant_stack / "rendered" / "flux"
    for folder in sorted(path for path in flux.iterdir() if path.is_dir()):
        built = kustomize(folder)
        listed = [path for path in folder.iterdir() if path.name != "kustomization.yaml"]
        assert len(built) == len(listed), f"{folder.name}: built {len(built)} objects from {len(listed)} files"


def test_the_tenant_stack_lints_clean(tenant_stack: Path) -> None:
    result = run_lint(tenant_stack, [], LintOptions())
    errors = [f"{f.path}:{f.line} {f.rule} {f.message}" for f in result.findings if f.severity == "error"]
    assert errors == []
