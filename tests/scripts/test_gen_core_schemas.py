"""Tests for scripts/gen_core_schemas.py: the packaged core schemas are what it
generates from kubernetes-validate, each self-contained and without prose."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gen_core_schemas.py"
STEMS = (
    "namespace-v1",
    "serviceaccount-v1",
    "secret-v1",
    "configmap-v1",
    "cronjob-batch-v1",
    "job-batch-v1",
    "rolebinding-rbac-v1",
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_the_packaged_schemas_are_up_to_date() -> None:
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate (the dev extras) is not installed")
    done = run("--check")
    assert done.returncode == 0, done.stderr


def _source(folder: Path, definitions: dict[str, Any]) -> Path:
    folder.mkdir()
    (folder / "_definitions.json").write_text(json.dumps({"$defs": definitions}), encoding="utf-8")
    for stem in STEMS:
        kind = {
            "description": "upstream prose",
            "type": "object",
            "additionalProperties": False,
            "properties": {"spec": {"$ref": "/api/_definitions.json#/$defs/Spec", "description": "more prose"}},
        }
        (folder / f"{stem}.json").write_text(json.dumps(kind), encoding="utf-8")
    return folder


def test_references_become_local_and_prose_is_dropped(tmp_path: Path) -> None:
    definitions = {
        "Spec": {
            "description": "x",
            "x-kubernetes-list-type": "atomic",
            "properties": {"inner": {"$ref": "#/$defs/Inner"}, "description": {"type": "string"}},
        },
        "Inner": {"type": "integer", "format": "int32"},
        "Unused": {"type": "string"},
    }
    source = _source(tmp_path / "source", definitions)
    done = run("--source", str(source), "--dest", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    schema = json.loads((tmp_path / "out" / "batch" / "cronjob_v1.json").read_text(encoding="utf-8"))
    assert schema["properties"]["spec"] == {"$ref": "#/$defs/Spec"}
    assert sorted(schema["$defs"]) == ["Inner", "Spec"]  # only what the kind reaches
    # A property named description stays; the keyword and the extensions go.
    assert schema["$defs"]["Spec"] == {
        "properties": {"inner": {"$ref": "#/$defs/Inner"}, "description": {"type": "string"}}
    }
    index = json.loads((tmp_path / "out" / "index.json").read_text(encoding="utf-8"))
    assert index["batch/v1/CronJob"] == "batch/cronjob_v1.json"
    assert index["/v1/Namespace"] == "core/namespace_v1.json"
    assert run("--source", str(source), "--dest", str(tmp_path / "out"), "--check").returncode == 0
    (tmp_path / "out" / "core" / "secret_v1.json").write_text("{}", encoding="utf-8")
    stale = run("--source", str(source), "--dest", str(tmp_path / "out"), "--check")
    assert stale.returncode == 1 and "differs: core/secret_v1.json" in stale.stderr


def test_a_reference_to_nothing_is_an_error(tmp_path: Path) -> None:
    source = _source(tmp_path / "source", {"Spec": {"properties": {"a": {"$ref": "#/$defs/Missing"}}}})
    done = run("--source", str(source), "--dest", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "unknown definition 'Missing'" in done.stderr
    assert not (tmp_path / "out").exists()
