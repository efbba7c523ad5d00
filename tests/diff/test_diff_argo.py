"""The diff rules on an Argo CD target: Applications keep the chart in ``spec.source``
(an OCI chart only in ``repoURL``), the values in ``helm.valuesObject`` and the
namespace in ``destination``; findings still point at the spec or values line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from gitstack import build_stack, clone, diff_json, edit, finding_of, init, line_of, render, rules_of, template

PG = "releases/s3/postgresql-ha.yaml"
PG_VALUES = "values/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"
VALKEY_SECRET = "secrets/s3/valkey-credentials.sops.yaml"
PG_APPLICATION = {"kind": "Application", "namespace": "argocd", "name": "postgresql-ha"}


def build_argo_stack(folder: Path) -> None:
    """The shipped stack rendered for Argo CD only."""
    build_stack(folder)
    shutil.rmtree(folder / ".git")
    config = (folder / "rail.yaml").read_text(encoding="utf-8")
    if not re.search(r"^argo:", config, flags=re.MULTILINE):
        pytest.skip("the shipped rail.yaml has no argo settings")
    (folder / "rail.yaml").write_text(re.sub(r"(?m)^targets: .*$", "targets: [argo]", config), encoding="utf-8")
    shutil.rmtree(folder / "rendered")
    render(folder)
    init(folder, "argo only")


@pytest.fixture
def argo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("argo-stack", tmp_path_factory, build_argo_stack), tmp_path / "repo")


def test_replicas_three_to_one(argo: Path) -> None:
    edit(argo, PG, "replicaCount: 3", "replicaCount: 1")

    code, report = diff_json(argo, "--base", "main")

    assert code == 1
    finding = finding_of(report, "ha-downgrade")
    assert finding["object"] == PG_APPLICATION
    assert (finding["path"], finding["line"]) == (PG, line_of(argo, PG, "replicaCount: 1"))


def test_pdb_off_in_a_values_file(argo: Path) -> None:
    edit(argo, PG_VALUES, "pdb:\n    create: true\n    minAvailable", "pdb:\n    create: false\n    minAvailable")

    _, report = diff_json(argo, "--base", "main")

    finding = finding_of(report, "ha-downgrade")
    assert (finding["path"], finding["line"]) == (PG_VALUES, line_of(argo, PG_VALUES, "create: false"))


def test_oci_chart_major_bump_names_the_chart(argo: Path) -> None:
    edit(argo, PG, "version: 16.3.4", "version: 17.0.0")

    _, report = diff_json(argo, "--base", "main")

    finding = finding_of(report, "chart-major-bump")
    assert finding["message"] == "chart postgresql-ha changes major version: 16.3.4 -> 17.0.0"
    assert (finding["path"], finding["line"]) == (PG, line_of(argo, PG, "version: 17.0.0"))


def _move_valkey(argo: Path) -> None:
    edit(argo, VALKEY, "namespace: platform", "namespace: data")
    edit(argo, VALKEY_SECRET, "    namespace: platform", "    namespace: data")
    # The platform's backup pod cannot read a Secret in 'data': it covers PostgreSQL only.
    edit(argo, "releases/s3/backup.yaml", "  - release: valkey\n    passwordKey: valkey-password\n", "")


def test_destination_namespace_change_is_a_stateful_relocation(argo: Path) -> None:
    _move_valkey(argo)

    code, report = diff_json(argo, "--base", "main")

    assert code == 1
    finding = finding_of(report, "stateful-relocation")
    assert finding["object"] == {"kind": "Application", "namespace": "argocd", "name": "valkey"}
    assert (finding["path"], finding["line"]) == (VALKEY, line_of(argo, VALKEY, "namespace: data"))
    assert "namespace platform -> data" in finding["message"]


def test_destination_namespace_change_recorded_in_the_spec_passes(argo: Path) -> None:
    _move_valkey(argo)
    with (argo / VALKEY).open("a", encoding="utf-8") as spec:
        spec.write(
            "migration:\n  reason: cache only, rebuilt from the database; nothing to copy\n  from: platform/valkey\n"
        )

    _, report = diff_json(argo, "--base", "main")

    assert "stateful-relocation" not in rules_of(report)


def test_manifest_application_is_located_in_its_values_object(argo: Path, tmp_path: Path) -> None:
    """A hand-written Argo CD repository (no specs): the finding points at the Application's own line."""
    repo = tmp_path / "argo-manifests"
    shutil.copytree(argo / "rendered/argo", repo)
    init(repo)
    path = "s3-platform/application-postgresql-ha.yaml"
    edit(repo, path, "size: 10Gi", "size: 8Gi")

    code, report = diff_json(repo, "--base", "main")

    assert code == 1
    finding = finding_of(report, "persistence-shrink")
    assert (finding["path"], finding["line"]) == (path, line_of(repo, path, "size: 8Gi"))
