"""The workplan's migration: Gitea with its bundled PostgreSQL HA in the cluster layer
becomes Gitea in ``apps`` on the platform's S3 database and cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gitstack import (
    build_stack,
    changes_of,
    clone,
    commit,
    copy_stack_files,
    diff_json,
    edit,
    fields_of,
    init,
    line_of,
    only,
    rail,
    render,
    replace_tree,
    rules_of,
    template,
    write,
)

# The cluster repository's Gitea: namespace flux-system (layer S2), its own database and cache.
BASE_GITEA = """\
# Gitea in the cluster layer, with the chart's bundled database and cache.
name: gitea
description: Gitea with its bundled PostgreSQL HA
layer: S2
namespace: flux-system
class: application
chart:
  source: gitea
  name: gitea
  version: 12.4.0
values:
  postgresql-ha:
    enabled: true
  valkey-cluster:
    enabled: true
  persistence:
    enabled: true
    size: 10Gi
  gitea:
    config:
      database:
        DB_TYPE: postgres
"""

# The record names exactly this change: the move from flux-system/gitea and the bundled
# database and cache switched off (T02: their data is dumped and restored first).
MIGRATION = """\
migration:
  reason: "pg_dump from the bundled pgpool, pg_restore into platform postgresql-ha; backup job 2024-06-01"
  from: flux-system/gitea
  change: subchart-disabled
"""


def build_cluster_gitea(folder: Path) -> None:
    copy_stack_files(folder)
    for name in ("releases/s3", "releases/s5", "values/s3", "secrets/s3", "secrets/s5"):
        shutil.rmtree(folder / name)
    write(folder, "releases/s2/gitea.yaml", BASE_GITEA)
    render(folder)
    init(folder, "gitea in the cluster layer")


@pytest.fixture
def migrated(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base (main): Gitea in flux-system with bundled postgresql-ha; working tree: the shipped stack."""
    shipped = template("stack", tmp_path_factory, build_stack)
    repo = clone(template("cluster-gitea", tmp_path_factory, build_cluster_gitea), tmp_path / "repo")
    replace_tree(repo, shipped)
    return repo


def test_gitea_moving_to_apps_is_one_move_with_its_subcharts_switched_off(migrated: Path) -> None:
    _, report = diff_json(migrated, "--base", "main")

    gitea = only(changes_of(report, "HelmRelease", "gitea"))
    assert gitea["change"] == "moved"
    assert gitea["from"]["namespace"] == "flux-system"
    assert gitea["object"]["namespace"] == "apps"
    assert gitea["layer"] == "S5"
    assert not [change for change in report["changes"] if change["change"] == "removed"]
    fields = fields_of(gitea)
    assert fields["spec.values.postgresql-ha.enabled"] == (True, False)
    assert fields["spec.values.valkey-cluster.enabled"] == (True, False)
    assert fields["metadata.namespace"] == ("flux-system", "apps")
    # The S3 services it now uses are new objects.
    added = {(c["object"]["kind"], c["object"]["name"]) for c in report["changes"] if c["change"] == "added"}
    assert {("HelmRelease", "postgresql-ha"), ("HelmRelease", "valkey")} <= added
    assert report["summary"]["moved"] == 1
    assert report["summary"]["removed"] == 0


def test_unrecorded_migration_is_a_stateful_relocation(migrated: Path) -> None:
    code, report = diff_json(migrated, "--base", "main")

    assert code == 1
    relocation = only([f for f in report["findings"] if f["rule"] == "stateful-relocation"])
    assert relocation["severity"] == "error"
    assert relocation["change"] == "moved"
    assert relocation["object"] == {"kind": "HelmRelease", "namespace": "apps", "name": "gitea"}
    assert relocation["path"] == "releases/s5/gitea.yaml"
    assert relocation["line"] == line_of(migrated, "releases/s5/gitea.yaml", "namespace: apps")
    # The lint errors of the old layout are fixed by the change, not new.
    fixed = {finding["rule"] for finding in report["summary"]["lint_fixed"]}
    assert {"layer-boundary", "subchart-coupling"} <= fixed
    assert report["summary"]["failed"] is True
    for finding in report["findings"]:
        assert finding["change"] in ("added", "removed", "modified", "moved")


def test_recorded_migration_passes(migrated: Path) -> None:
    with (migrated / "releases/s5/gitea.yaml").open("a", encoding="utf-8") as spec:
        spec.write(MIGRATION)
    render(migrated)

    code, report = diff_json(migrated, "--base", "main")

    assert "stateful-relocation" not in rules_of(report)
    gitea = only(changes_of(report, "HelmRelease", "gitea"))
    assert gitea["change"] == "moved"
    # The base had no annotations: each new one is shown as added.
    assert fields_of(gitea)["metadata.annotations.railiance.io/migration"][0] is None
    assert "pg_dump" in fields_of(gitea)["metadata.annotations.railiance.io/migration"][1]
    assert report["findings"] == []
    assert code == 0


def test_migration_text_report_names_the_move(migrated: Path) -> None:
    run = rail(migrated, "diff", "--base", "main")

    assert run.exit_code == 1
    assert "moved HelmRelease flux-system/gitea -> apps/gitea" in run.stdout
    assert "spec.values.postgresql-ha.enabled: true -> false" in run.stdout
    assert "stateful-relocation" in run.stdout
    assert "removed HelmRelease" not in run.stdout


def test_the_bundled_database_alone_makes_the_move_stateful(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No persistence block in the base spec: the bundled postgresql-ha still holds the data."""
    shipped = template("stack", tmp_path_factory, build_stack)
    repo = clone(template("cluster-gitea", tmp_path_factory, build_cluster_gitea), tmp_path / "repo")
    edit(repo, "releases/s2/gitea.yaml", "  persistence:\n    enabled: true\n    size: 10Gi\n", "")
    render(repo)
    commit(repo, "gitea on chart defaults, bundled database on")
    replace_tree(repo, shipped)

    code, report = diff_json(repo, "--base", "main")

    assert code == 1
    assert "stateful-relocation" in rules_of(report)


STATELESS = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: {namespace}
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: 6.7.1
      sourceRef: {{kind: HelmRepository, name: podinfo, namespace: flux-system}}
  values:
    replicaCount: 2
"""


def test_a_stateless_release_moves_freely(tmp_path: Path) -> None:
    repo = tmp_path / "manifests"
    write(repo, "apps/podinfo.yaml", STATELESS.format(namespace="apps"))
    init(repo)
    write(repo, "apps/podinfo.yaml", STATELESS.format(namespace="web"))

    _, report = diff_json(repo, "--base", "main")

    assert only(report["changes"])["change"] == "moved"
    assert "stateful-relocation" not in rules_of(report)
