"""Every Argo CD object of a fresh render validates against the upstream CRD
schemas (``../shared/crds/json/argoproj.io/``) and the copy rail packages; and
``kubectl kustomize`` builds ``rendered/argo/`` and each of its folders."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from argo_stack import crd_schemas, is_release, kustomize, load_objects, schema_errors

ARGO_KINDS = {"Application", "AppProject"}
# Objects no Argo CD CRD describes, and rail's kustomize files; the core kinds
# (Namespace, the claims' bootstrap Jobs, the backup CronJobs) are validated in
# tests/render/test_core_schemas.py.
NOT_ARGO = {
    ("v1", "Namespace"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
}


@pytest.fixture(params=["upstream", "packaged"])
def schemas(request: pytest.FixtureRequest) -> Path:
    return crd_schemas(request.param)


def argo_objects(root: Path) -> list[tuple[str, dict[str, Any]]]:
    return load_objects(root / "rendered" / "argo")


def test_every_argo_object_validates(rendered_stack: Path, schemas: Path) -> None:
    objects = argo_objects(rendered_stack)
    kinds = {obj["kind"] for _, obj in objects if obj["apiVersion"].startswith("argoproj.io/")}
    assert kinds == ARGO_KINDS
    skipped = {(obj["apiVersion"], obj["kind"]) for _, obj in objects if obj["kind"] not in ARGO_KINDS}
    assert skipped <= NOT_ARGO, f"objects no test validates: {skipped - NOT_ARGO}"
    failures = [
        f"{path}: {obj['kind']}/{obj['metadata']['name']}: {error}"
        for path, obj in objects
        if obj["kind"] in ARGO_KINDS
        for error in schema_errors(obj, schemas)
    ]
    assert failures == []


def test_the_schemas_reject_a_broken_application(rendered_stack: Path, schemas: Path) -> None:
    """The check has teeth: an unknown spec key and a wrong type are refused."""
    application = next(
        obj for _, obj in argo_objects(rendered_stack) if obj["kind"] == "Application" and is_release(obj)
    )
    assert schema_errors(application, schemas) == []
    unknown = copy.deepcopy(application)
    unknown["spec"]["syncpolicy"] = {}
    wrong_type = copy.deepcopy(application)
    wrong_type["spec"]["syncPolicy"]["retry"]["limit"] = "3"
    assert schema_errors(unknown, schemas)
    assert schema_errors(wrong_type, schemas)


@pytest.mark.slow
def test_kustomize_builds_rendered_argo_and_each_folder(rendered_stack: Path) -> None:
    argo = rendered_stack / "rendered" / "argo"
    files = {path for path, _ in argo_objects(rendered_stack) if not path.endswith("kustomization.yaml")}
    folders = sorted(path for path in argo.iterdir() if path.is_dir())
    assert {folder.name for folder in folders} == {"projects", "root", "s2-cluster", "s3-platform", "s5-apps"}
    for folder in folders:
        built = kustomize(folder)
        listed = [path for path in files if path.startswith(f"{folder.name}/")]
        assert len(built) == len(listed), f"{folder.name}: built {len(built)} objects from {len(listed)} files"
    # The folder the root application reads: everything but the root application itself.
    whole = kustomize(argo)
    names = sorted((obj["kind"], obj["metadata"]["name"]) for obj in whole)
    assert len(whole) == len(files) - 1
    assert ("Application", "railiance") not in names
    assert {kind for kind, _ in names} == {"Application", "AppProject", "Namespace", "Job", "CronJob"}
