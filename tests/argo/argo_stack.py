"""Reading what rail renders for Argo CD (and Flux), for the tests under tests/argo/."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import validator_for
from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parents[2]

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
DEPENDS_ON = "railiance.io/depends-on"
LAYER_LABEL = "railiance.io/layer"


def load_objects(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every object in the YAML files under ``folder``, with its path relative to ``folder``."""
    yaml = YAML(typ="safe", pure=True)
    found = []
    for path in sorted(folder.rglob("*.yaml")):
        for document in yaml.load_all(path.read_text(encoding="utf-8")):
            if isinstance(document, dict):
                found.append((path.relative_to(folder).as_posix(), document))
    return found


def of_kind(objects: list[tuple[str, dict[str, Any]]], kind: str) -> list[dict[str, Any]]:
    return [obj for _, obj in objects if obj.get("kind") == kind]


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def wave(obj: dict[str, Any]) -> int:
    """Argo CD's sync wave: the annotation, else 0."""
    return int(annotations_of(obj).get(SYNC_WAVE, "0"))


def destination_namespace(application: dict[str, Any]) -> str:
    return str(application["spec"]["destination"]["namespace"])


def is_release(application: dict[str, Any]) -> bool:
    """An Application with a Helm chart (``chart:``, or a native OCI source), not the root app's Git path."""
    source = application["spec"].get("source") or {}
    return "chart" in source or str(source.get("repoURL", "")).startswith("oci://")


def releases(objects: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [app for app in of_kind(objects, "Application") if is_release(app)]


def dependencies(application: dict[str, Any], apps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Applications ``railiance.io/depends-on`` names (``namespace/name``: destination
    namespace and Application name); an entry naming no Application fails the test."""
    text = annotations_of(application).get(DEPENDS_ON, "")
    by_destination = {(destination_namespace(app), app["metadata"]["name"]): app for app in apps}
    found = []
    for entry in filter(None, (item.strip() for item in text.split(","))):
        namespace, _, name = entry.rpartition("/")
        key = (namespace or destination_namespace(application), name)
        assert key in by_destination, f"{application['metadata']['name']}: depends-on entry {entry} names nothing"
        found.append(by_destination[key])
    return found


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not on PATH: `kubectl kustomize` cannot build the rendered folders")
    return found


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize folder``: the objects it builds (the test fails if it cannot)."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(folder)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {folder} failed:\n{result.stderr}"
    return [doc for doc in YAML(typ="safe", pure=True).load_all(result.stdout) if isinstance(doc, dict)]


def set_config(root: Path, old: str, new: str) -> None:
    """Edit the stack's rail.yaml: replace the one occurrence of ``old``."""
    path = root / "rail.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"rail.yaml: expected {old!r} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def write_spec(root: Path, layer_folder: str, name: str, body: str) -> None:
    path = root / "releases" / layer_folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")


def crd_schemas(which: str) -> Path:
    """The CRD schema folder: ``packaged`` (schemas/crds) or ``upstream`` (../shared, skipped when absent)."""
    if which == "packaged":
        return REPO_ROOT / "schemas" / "crds"
    shared = REPO_ROOT.parent / "shared" / "crds" / "json"
    if not shared.is_dir():
        pytest.skip(f"the upstream CRD schemas are missing: {shared} (the 'shared' folder beside the repository)")
    return shared


@cache
def _validator(schema_path: Path) -> Any:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return validator_for(schema)(schema)


def schema_errors(obj: dict[str, Any], schemas: Path) -> list[str]:
    """Why ``obj`` fails the schema of its kind under ``schemas/<group>/<kind>_<version>.json``."""
    group, _, version = obj["apiVersion"].rpartition("/")
    schema_path = schemas / group / f"{obj['kind'].lower()}_{version}.json"
    if not schema_path.is_file():
        return [f"no schema {schema_path}"]
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in _validator(schema_path).iter_errors(obj)
    ]
