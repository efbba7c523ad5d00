"""Every object of a fresh render validates against the CRD schemas: the upstream
ones in ../shared/crds/json and the copy rail packages in schemas/crds."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from ruamel.yaml import YAML

# Objects no CRD describes: core Kubernetes kinds and kustomize's own file.
NO_CRD = {
    ("v1", "Secret"),
    ("v1", "Namespace"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
}  # the core kinds (claims' Jobs, backup CronJobs): tests/render/test_core_schemas.py
EXPECTED_KINDS = {"HelmRelease", "HelmRepository", "OCIRepository", "Kustomization"}


def rendered_objects(root: Path) -> list[tuple[str, dict[str, Any]]]:
    yaml = YAML(typ="safe", pure=True)
    objects = []
    for path in sorted((root / "rendered").rglob("*.yaml")):
        if path.relative_to(root).as_posix() == "rendered/interface.yaml":
            continue  # the stack's interface (what other stacks import), not a Kubernetes object
        for document in yaml.load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                objects.append((path.relative_to(root).as_posix(), document))
    return objects


def schema_errors(obj: dict[str, Any], schemas: Path) -> list[str]:
    """Why ``obj`` fails its schema under ``schemas/<group>/<kind>_<version>.json``."""
    group, _, version = obj["apiVersion"].rpartition("/")
    schema_path = schemas / group / f"{obj['kind'].lower()}_{version}.json"
    if not schema_path.is_file():
        return [f"no schema {schema_path} for {obj['apiVersion']} {obj['kind']}"]
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = validator_for(schema)(schema)
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(obj)
    ]


def checked_objects(root: Path) -> list[tuple[str, dict[str, Any]]]:
    objects = [(path, obj) for path, obj in rendered_objects(root) if (obj["apiVersion"], obj["kind"]) not in NO_CRD]
    assert {obj["kind"] for _, obj in objects} >= EXPECTED_KINDS
    return objects


@pytest.fixture(params=["upstream", "packaged"])
def schemas(request: pytest.FixtureRequest, repo_root: Path) -> Path:
    if request.param == "packaged":
        return repo_root / "schemas" / "crds"
    shared = request.getfixturevalue("shared_dir")
    return shared / "crds" / "json"


def test_every_rendered_object_validates(rendered_stack: Path, schemas: Path) -> None:
    failures = [
        f"{path}: {obj['kind']}/{obj['metadata']['name']}: {error}"
        for path, obj in checked_objects(rendered_stack)
        for error in schema_errors(obj, schemas)
    ]
    assert failures == []


def test_only_crd_less_objects_are_skipped(rendered_stack: Path) -> None:
    skipped = {(obj["apiVersion"], obj["kind"]) for _, obj in rendered_objects(rendered_stack)} - {
        (obj["apiVersion"], obj["kind"]) for _, obj in checked_objects(rendered_stack)
    }
    assert skipped <= NO_CRD


def test_check_rejects_an_unknown_spec_key(rendered_stack: Path, schemas: Path) -> None:
    path, release = next((p, o) for p, o in checked_objects(rendered_stack) if o["kind"] == "HelmRelease")
    assert schema_errors(release, schemas) == []
    broken = copy.deepcopy(release)
    broken["spec"]["dependson"] = []
    errors = schema_errors(broken, schemas)
    assert errors, f"a HelmRelease from {path} with an unknown spec key passed validation"
    assert any("dependson" in error for error in errors)


def test_check_rejects_a_kind_without_schema(rendered_stack: Path, schemas: Path) -> None:
    _, release = next((p, o) for p, o in checked_objects(rendered_stack) if o["kind"] == "HelmRelease")
    old = {**release, "apiVersion": "helm.toolkit.fluxcd.io/v2beta0"}
    assert schema_errors(old, schemas) != []
