"""Each diff rule, from one edit of the shipped stack (or of a manifest repository),
reported at the spec or values line the edit is on."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from gitstack import (
    build_stack,
    changes_of,
    clone,
    commit,
    diff_json,
    edit,
    finding_of,
    init,
    line_of,
    only,
    rail,
    render,
    rules_of,
    template,
    write,
)

PG = "releases/s3/postgresql-ha.yaml"
PG_VALUES = "values/s3/postgresql-ha.yaml"
GITEA = "releases/s5/gitea.yaml"
VALKEY = "releases/s3/valkey.yaml"
BLOCKING = {"persistence-shrink", "ha-downgrade", "dependency-removed", "subchart-enabled", "stateful-relocation"}


def build_manifests(folder: Path, source: Path) -> None:
    """A hand-written manifest repository (no rail.yaml): the shipped stack's Flux objects, committed."""
    shutil.copytree(source / "rendered" / "flux", folder, dirs_exist_ok=True)
    init(folder, "manifests")


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


@pytest.fixture
def manifests(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    shipped = template("stack", tmp_path_factory, build_stack)
    manifest_repo = template("manifests", tmp_path_factory, lambda folder: build_manifests(folder, shipped))
    return clone(manifest_repo, tmp_path / "repo")


def assert_only_rule(report: dict[str, Any], rule: str) -> None:
    """``rule`` fires, and nothing else blocking does (each case tests one rule)."""
    assert rule in rules_of(report), report["findings"]
    assert set(rules_of(report)) & BLOCKING <= {rule}, report["findings"]


def test_volume_shrink(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert_only_rule(report, "persistence-shrink")
    finding = finding_of(report, "persistence-shrink")
    assert (finding["path"], finding["line"]) == (PG, line_of(stack, PG, "size: 8Gi"))
    assert "10Gi" in finding["message"] and "8Gi" in finding["message"]
    # One finding for the spec line, whichever target's object carries it.
    assert finding["object"] in (
        {"kind": "HelmRelease", "namespace": "platform", "name": "postgresql-ha"},
        {"kind": "Application", "namespace": "argocd", "name": "postgresql-ha"},
    )
    assert finding["change"] == "modified"


def test_volume_growth_passes(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)  # else the head's new lint finding rendered-drift blocks

    code, report = diff_json(stack, "--base", "main")

    assert code == 0, report["findings"]
    assert report["findings"] == []
    assert {change["object"]["name"] for change in report["changes"]} == {"postgresql-ha"}


def test_persistence_switched_off(stack: Path) -> None:
    edit(stack, PG, "persistence:\n    enabled: true", "persistence:\n    enabled: false")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert_only_rule(report, "persistence-shrink")
    finding = finding_of(report, "persistence-shrink")
    assert (finding["path"], finding["line"]) == (PG, line_of(stack, PG, "enabled: false", after="persistence:"))
    assert "persistence.enabled" in finding["message"]


def test_nested_persistence_switched_off(stack: Path) -> None:
    edit(stack, VALKEY, "persistence:\n      enabled: true", "persistence:\n      enabled: false")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    finding = finding_of(report, "persistence-shrink")
    assert (finding["path"], finding["line"]) == (VALKEY, line_of(stack, VALKEY, "enabled: false"))
    assert "primary.persistence.enabled" in finding["message"]


def test_replicas_three_to_one(stack: Path) -> None:
    edit(stack, PG, "replicaCount: 3", "replicaCount: 1")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert_only_rule(report, "ha-downgrade")
    finding = finding_of(report, "ha-downgrade")
    assert (finding["path"], finding["line"]) == (PG, line_of(stack, PG, "replicaCount: 1"))
    assert "3" in finding["message"] and "1" in finding["message"]


def test_pdb_off_in_a_values_file_is_located_in_that_file(stack: Path) -> None:
    edit(stack, PG_VALUES, "pdb:\n    create: true\n    minAvailable", "pdb:\n    create: false\n    minAvailable")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    finding = finding_of(report, "ha-downgrade")
    assert (finding["path"], finding["line"]) == (PG_VALUES, line_of(stack, PG_VALUES, "create: false"))
    assert "postgresql.pdb.create" in finding["message"]


def test_pgpool_removed(stack: Path) -> None:
    edit(stack, PG, "pgpool:\n    replicaCount: 1", "pgpool:\n    replicaCount: 0")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    finding = finding_of(report, "ha-downgrade")
    assert (finding["path"], finding["line"]) == (PG, line_of(stack, PG, "replicaCount: 0"))


def test_replicas_three_to_five_passes(stack: Path) -> None:
    edit(stack, PG, "replicaCount: 3", "replicaCount: 5")
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert "ha-downgrade" not in rules_of(report)
    assert code == 0, report["findings"]


def test_postgresql_ha_removed_while_gitea_depends_on_it(manifests: Path) -> None:
    """A manifest repository: the database's HelmRelease file is deleted, Gitea's dependsOn stays."""
    (manifests / "s3-platform/helmrelease-postgresql-ha.yaml").unlink()

    code, report = diff_json(manifests, "--base", "main")

    assert code == 1
    removed = only([change for change in report["changes"] if change["change"] == "removed"])
    assert removed["object"]["name"] == "postgresql-ha"
    finding = finding_of(report, "dependency-removed")
    assert finding["change"] == "removed"
    assert finding["path"] == "s3-platform/helmrelease-postgresql-ha.yaml"
    assert finding["object"] == {"kind": "HelmRelease", "namespace": "platform", "name": "postgresql-ha"}
    assert "gitea" in finding["message"]


def test_removing_a_release_nobody_depends_on_passes_the_rule(manifests: Path) -> None:
    gitea = manifests / "s5-apps/helmrelease-gitea.yaml"
    gitea.unlink()
    (manifests / "s5-apps/helmrelease-zulip.yaml").unlink()  # the other user of both
    commit(manifests, "no gitea")
    (manifests / "s3-platform/helmrelease-postgresql-ha.yaml").unlink()
    (manifests / "s3-platform/helmrelease-valkey.yaml").unlink()

    _, report = diff_json(manifests, "--base", "main")

    assert "dependency-removed" not in rules_of(report)
    assert report["summary"]["removed"] == 2


def test_removing_a_depended_on_spec_is_dependency_removed(stack: Path) -> None:
    """With specs, render refuses a dependsOn to a missing release; the diff reads the head
    on and reports it (issue 13: it was exit 2, with nothing in the report)."""
    (stack / PG).unlink()
    for secret in ("postgresql-ha-credentials", "postgresql-ha-pgpool-users"):
        (stack / f"secrets/s3/{secret}.sops.yaml").unlink()

    run = rail(stack, "diff", "--base", "main")

    assert run.exit_code == 1, run.output
    # Everything of the head that still names it: the platform backup, Gitea, Zulip (its claims and references).
    removed = (
        "error dependency-removed release 'postgresql-ha' is removed but backup, gitea, zulip still depend(s) on it"
    )
    assert removed in run.stdout
    assert "removed HelmRelease platform/postgresql-ha" in run.stdout
    assert "Traceback" not in run.output


def test_chart_major_bump_is_a_warning(stack: Path) -> None:
    edit(stack, GITEA, "version: 12.4.0", "version: 13.0.0")
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    finding = finding_of(report, "chart-major-bump")
    assert finding["severity"] == "warning"
    assert (finding["path"], finding["line"]) == (GITEA, line_of(stack, GITEA, "version: 13.0.0"))
    assert "12.4.0" in finding["message"] and "13.0.0" in finding["message"]
    assert not [f for f in report["findings"] if f["severity"] == "error"], report["findings"]
    assert code == 0


def test_chart_major_bump_of_an_oci_chart(stack: Path) -> None:
    edit(stack, PG, "version: 16.3.4", "version: 17.0.0")

    _, report = diff_json(stack, "--base", "main")

    finding = finding_of(report, "chart-major-bump")
    assert finding["severity"] == "warning"
    assert (finding["path"], finding["line"]) == (PG, line_of(stack, PG, "version: 17.0.0"))
    assert changes_of(report, "OCIRepository", "postgresql-ha")


def test_chart_minor_bump_passes(stack: Path) -> None:
    edit(stack, VALKEY, "version: 4.0.2", "version: 4.0.3")

    _, report = diff_json(stack, "--base", "main")

    assert "chart-major-bump" not in rules_of(report)
    assert report["summary"]["modified"] >= 1


def test_chart_major_bump_blocks_under_strict(stack: Path) -> None:
    edit(stack, GITEA, "version: 12.4.0", "version: 13.0.0")

    code, report = diff_json(stack, "--base", "main", "--strict")

    assert "chart-major-bump" in rules_of(report)
    assert code == 1


def test_subchart_switched_on(stack: Path) -> None:
    edit(stack, GITEA, "postgresql-ha:\n    enabled: false", "postgresql-ha:\n    enabled: true")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert_only_rule(report, "subchart-enabled")
    finding = finding_of(report, "subchart-enabled")
    assert (finding["path"], finding["line"]) == (GITEA, line_of(stack, GITEA, "enabled: true", after="postgresql-ha:"))
    assert finding["severity"] == "error"
    assert "postgresql-ha" in finding["message"]
    assert finding["change"] == "modified"
    # Reported once, as the diff rule, not again as a new lint finding.
    assert "subchart-coupling" not in rules_of(report)


def test_release_name_change_is_a_stateful_relocation(stack: Path) -> None:
    edit(stack, PG, "class: database\n", "class: database\nreleaseName: pg-main\n")

    _, report = diff_json(stack, "--base", "main")

    finding = finding_of(report, "stateful-relocation")
    assert (finding["path"], finding["line"]) == (PG, line_of(stack, PG, "releaseName: pg-main"))
    assert finding["change"] == "modified"
    assert "release name postgresql-ha -> pg-main" in finding["message"]


def test_release_name_change_recorded_as_a_migration_passes(stack: Path) -> None:
    edit(
        stack,
        PG,
        "class: database\n",
        "class: database\nreleaseName: pg-main\n"
        "migration:\n  reason: pg_basebackup into the new release, ticket OPS-12\n  from: platform/postgresql-ha\n",
    )

    _, report = diff_json(stack, "--base", "main")

    assert "stateful-relocation" not in rules_of(report)


def test_namespace_move_in_a_manifest_repository(manifests: Path) -> None:
    path = "s3-platform/helmrelease-postgresql-ha.yaml"
    edit(manifests, path, "  namespace: platform\n", "  namespace: data\n")

    code, report = diff_json(manifests, "--base", "main")

    assert code == 1
    moved = only(changes_of(report, "HelmRelease", "postgresql-ha"))
    assert moved["change"] == "moved"
    assert moved["from"]["namespace"] == "platform"
    finding = finding_of(report, "stateful-relocation")
    assert (finding["path"], finding["line"]) == (path, line_of(manifests, path, "namespace: data"))


def test_target_namespace_change_in_a_manifest_repository(manifests: Path) -> None:
    path = "s3-platform/helmrelease-valkey.yaml"
    edit(manifests, path, "spec:\n", "spec:\n  targetNamespace: cache\n")

    code, report = diff_json(manifests, "--base", "main")

    assert code == 1
    finding = finding_of(report, "stateful-relocation")
    assert finding["change"] == "modified"
    assert (finding["path"], finding["line"]) == (path, line_of(manifests, path, "targetNamespace: cache"))


def test_subchart_switched_on_by_removing_its_off_switch(stack: Path) -> None:
    """The chart turns postgresql-ha on by default: dropping `enabled: false` switches it on."""
    edit(stack, GITEA, "  postgresql-ha:\n    enabled: false\n", "")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    finding = finding_of(report, "subchart-enabled")
    assert finding["path"] == GITEA
    assert "postgresql-ha" in finding["message"]


NEW_APP = """\
name: forge
layer: S5
namespace: apps
class: application
chart: {source: gitea, name: gitea, version: 12.4.0}
"""


def test_subchart_on_in_an_added_release(stack: Path) -> None:
    write(stack, "releases/s5/forge.yaml", NEW_APP)  # the chart's defaults: postgresql-ha and valkey-cluster on

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    findings = [f for f in report["findings"] if f["rule"] == "subchart-enabled"]
    assert {"postgresql-ha", "valkey-cluster"} <= {
        name for f in findings for name in ("postgresql-ha", "valkey-cluster") if name in f["message"]
    }
    assert {f["change"] for f in findings} == {"added"}
    assert {f["path"] for f in findings} == {"releases/s5/forge.yaml"}


def test_a_moved_release_keeps_its_old_lint_findings_as_unchanged(manifests: Path) -> None:
    """Gitea already ran its own database before the move: the move does not switch it on."""
    path = "s5-apps/helmrelease-gitea.yaml"
    edit(manifests, path, "    postgresql-ha:\n      enabled: false\n", "    postgresql-ha:\n      enabled: true\n")
    commit(manifests, "gitea with its own database")
    edit(manifests, path, "  namespace: apps\n", "  namespace: forge\n")

    _, report = diff_json(manifests, "--base", "main")

    assert only(changes_of(report, "HelmRelease", "gitea"))["change"] == "moved"
    assert "subchart-enabled" not in rules_of(report)
    assert "subchart-coupling" not in rules_of(report)
    assert report["summary"]["lint_unchanged"] >= 1


def test_a_change_no_export_is_made_of_reads_no_interface_again(stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """export-changed compares the two sides' interface data first: the same data is the
    same interface, so neither is built into the model again (most changes of a hook)."""
    from renderer.diff.rules import export_changed

    built: list[str] = []
    real = export_changed.Interface.from_document

    def counted(document: Any) -> Any:
        built.append(document.path)
        return real(document)

    monkeypatch.setattr(export_changed.Interface, "from_document", staticmethod(counted))
    edit(stack, PG, "replicaCount: 3", "replicaCount: 5")
    render(stack)
    _, report = diff_json(stack)
    assert "export-changed" not in rules_of(report)
    assert built == []
    # An export that changes: both interfaces are read, and the change is listed.
    edit(stack, PG, "    port: 5432", "    port: 5433")
    render(stack)
    _, report = diff_json(stack)
    assert "export-changed" in rules_of(report)
    assert len(built) == 2
