"""Every core Kubernetes object of a fresh render (CronJobs, Namespaces, Secrets,
ServiceAccounts, RoleBindings) validates against the structural schema rail packages
in schemas/k8s/, and `rail lint` reports a broken one (crd-schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from renderer.lint.rules import crd_schema

K8S = Path(__file__).resolve().parents[2] / "schemas" / "k8s"
INDEX: dict[str, str] = json.loads((K8S / "index.json").read_text(encoding="utf-8"))
NOT_APPLIED = ("sops",)  # a SOPS Secret's metadata: Flux removes it when it decrypts


def core_objects(root: Path) -> list[tuple[str, dict[str, Any]]]:
    yaml = YAML(typ="safe", pure=True)
    found = []
    for path in sorted((root / "rendered").rglob("*.yaml")):
        for obj in yaml.load_all(path.read_text(encoding="utf-8")):
            group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
            if f"{group}/{version}/{obj.get('kind')}" in INDEX:
                found.append((path.relative_to(root).as_posix(), obj))
    return found


def errors(obj: dict[str, Any]) -> list[str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    schema = json.loads((K8S / INDEX[f"{group}/{version}/{obj['kind']}"]).read_text(encoding="utf-8"))
    instance = {key: value for key, value in obj.items() if key not in NOT_APPLIED}
    return [
        f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(instance)
    ]


def prose(schema: Any, path: str = "") -> list[str]:
    """Where a schema keeps upstream prose (a ``description`` keyword with text)."""
    found = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                found.append(path)
            found += prose(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += prose(value, f"{path}/{index}")
    return found


def test_every_rendered_core_object_validates(rendered_stack: Path) -> None:
    objects = core_objects(rendered_stack)
    kinds = {obj["kind"] for _, obj in objects}
    assert {"CronJob", "Namespace", "Secret"} <= kinds
    assert sum(obj["kind"] == "CronJob" for _, obj in objects) == 4  # two releases, flux and argo
    failures = [f"{path}: {error}" for path, obj in objects for error in errors(obj)]
    assert failures == []


@pytest.mark.parametrize("key", sorted(INDEX))
def test_every_packaged_core_schema_is_valid_and_strict(key: str) -> None:
    schema = json.loads((K8S / INDEX[key]).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False  # an unknown key is an error, as kubectl --validate=strict
    assert prose(schema) == []  # structure only


def _cronjob(rendered_stack: Path) -> dict[str, Any]:
    path = rendered_stack / "rendered" / "flux" / "s3-platform" / "cronjob-backup-postgresql-ha.yaml"
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda spec: spec.update(successfulJobsHistoryLimit="three"), "successfulJobsHistoryLimit: wrong type"),
        (lambda spec: spec.update(schedul="0 3 * * *"), "unknown key 'spec.schedul'"),
        (lambda spec: spec["jobTemplate"]["spec"].update(backoffLimit=[2]), "backoffLimit: wrong type"),
        (lambda spec: spec.pop("schedule"), "missing required key 'schedule'"),
    ],
)
def test_a_broken_cronjob_is_reported(rendered_stack: Path, tmp_path: Path, change: Any, expected: str) -> None:
    from renderer.lint.graph import build
    from renderer.lint.manifests import parse
    from renderer.lint.rule import LintContext
    from renderer.model import StackConfig
    from renderer.yamlio import dump_document

    cronjob = _cronjob(rendered_stack)
    assert errors(cronjob) == []
    change(cronjob["spec"])
    assert errors(cronjob) != []
    text, _ = dump_document(cronjob)
    graph = build(StackConfig.default(), parse(text, "cronjob.yaml"))
    findings = list(crd_schema.check(LintContext(graph=graph)))
    assert [f.message for f in findings if expected in f.message], [f.message for f in findings]
    assert all(f.object is not None and f.object.kind == "CronJob" for f in findings)


def test_rail_lint_reports_a_broken_cronjob_in_the_stack(tmp_path: Path, run_rail: Any) -> None:
    """End to end: a hand-written CronJob with a wrong type, linted with the stack."""
    (tmp_path / "cronjob.yaml").write_text(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: broken, namespace: platform}\n"
        "spec:\n  schedule: '0 3 * * *'\n  suspend: 'yes'\n  jobTemplate:\n    spec:\n      template:\n"
        "        spec:\n          restartPolicy: Never\n          containers: [{name: c, image: 'busybox:1.36'}]\n",
        encoding="utf-8",
    )
    done = run_rail("lint", str(tmp_path / "cronjob.yaml"), "--format", "json", cwd=tmp_path)
    findings = json.loads(done.stdout)["findings"]
    schema = [f for f in findings if f["rule"] == "crd-schema"]
    assert len(schema) == 1 and "spec.suspend: wrong type: expected boolean" in schema[0]["message"], findings
    assert schema[0]["line"] == 6
    assert done.returncode == 1
