"""The diff rules on Argo CD input: real git repositories in temporary folders
holding hand-written Applications (no rail.yaml), one change a test, judged by
``rail diff --base main`` run as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV, RunRail

pytestmark = pytest.mark.slow

BLOCKING = {"persistence-shrink", "ha-downgrade", "dependency-removed", "subchart-enabled", "stateful-relocation"}

POSTGRESQL_HA = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: postgresql-ha
  namespace: argocd
  labels:
    railiance.io/layer: S3
spec:
  project: s3-platform
  source:
    repoURL: oci://registry-1.docker.io/bitnamicharts/postgresql-ha
    path: .
    targetRevision: "16.3.4"
    helm:
      releaseName: postgresql-ha
      valuesObject:
        postgresql:
          replicaCount: 3
          existingSecret: postgresql-ha-credentials
        pgpool:
          replicaCount: 1
          existingSecret: postgresql-ha-credentials
        persistence:
          enabled: true
          size: 10Gi
  destination:
    server: https://kubernetes.default.svc
    namespace: platform
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    retry: {limit: 3}
"""
VALKEY = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: valkey
  namespace: argocd
spec:
  project: s3-platform
  source:
    repoURL: oci://registry-1.docker.io/bitnamicharts/valkey
    path: .
    targetRevision: "4.0.2"
    helm:
      valuesObject:
        architecture: standalone
        auth:
          existingSecret: valkey-credentials
  destination:
    server: https://kubernetes.default.svc
    namespace: platform
"""
GITEA = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: gitea
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "1"
    railiance.io/depends-on: platform/postgresql-ha,platform/valkey
spec:
  project: s5-apps
  source:
    repoURL: https://dl.gitea.com/charts/
    chart: gitea
    targetRevision: "12.4.0"
    helm:
      valuesObject:
        postgresql-ha:
          enabled: false
        postgresql:
          enabled: false
        valkey-cluster:
          enabled: false
        valkey:
          enabled: false
  destination:
    server: https://kubernetes.default.svc
    namespace: apps
"""
FILES = {"platform/postgresql-ha.yaml": POSTGRESQL_HA, "platform/valkey.yaml": VALKEY, "apps/gitea.yaml": GITEA}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not on PATH")
    repo = tmp_path_factory.mktemp("argo-diff") / "template"
    for relative, text in FILES.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", "base")
    return repo


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "repo", symlinks=True))


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative}: expected {old!r} once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(repo: Path, relative: str, needle: str) -> int:
    lines = (repo / relative).read_text(encoding="utf-8").splitlines()
    return next(index for index, line in enumerate(lines, 1) if needle in line)


def diff(run_rail: RunRail, repo: Path) -> tuple[int, dict[str, Any]]:
    result = run_rail("diff", "--base", "main", "--format", "json", cwd=repo)
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


def findings(report: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["rule"] == rule]


def only(report: dict[str, Any], rule: str) -> dict[str, Any]:
    """The one finding of ``rule``; nothing else blocking fires."""
    found = findings(report, rule)
    assert len(found) == 1, report["findings"]
    assert {f["rule"] for f in report["findings"]} & BLOCKING <= {rule}, report["findings"]
    return found[0]


APPLICATION = {"kind": "Application", "namespace": "argocd"}
PG = "platform/postgresql-ha.yaml"


def test_the_unchanged_repository_passes(repo: Path, run_rail: RunRail) -> None:
    code, report = diff(run_rail, repo)
    assert (code, report["findings"]) == (0, [])


def test_replicas_three_to_one_is_an_ha_downgrade(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, "replicaCount: 3", "replicaCount: 1")

    code, report = diff(run_rail, repo)

    finding = only(report, "ha-downgrade")
    assert code == 1
    assert (finding["path"], finding["line"]) == (PG, line_of(repo, PG, "replicaCount: 1"))
    assert finding["object"] == {**APPLICATION, "name": "postgresql-ha"}
    assert "from 3 to 1" in finding["message"] and finding["change"] == "modified"


def test_replicas_three_to_five_passes(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, "replicaCount: 3", "replicaCount: 5")
    code, report = diff(run_rail, repo)
    assert code == 0 and not findings(report, "ha-downgrade")


def test_volume_shrink_is_a_persistence_shrink(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, "size: 10Gi", "size: 8Gi")

    code, report = diff(run_rail, repo)

    finding = only(report, "persistence-shrink")
    assert code == 1
    assert (finding["path"], finding["line"]) == (PG, line_of(repo, PG, "size: 8Gi"))
    assert "10Gi" in finding["message"] and "8Gi" in finding["message"]


def test_volume_growth_passes(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, "size: 10Gi", "size: 20Gi")
    code, report = diff(run_rail, repo)
    assert code == 0 and not findings(report, "persistence-shrink")


def test_moving_the_destination_namespace_is_a_stateful_relocation(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, "    namespace: platform\n", "    namespace: databases\n")

    _, report = diff(run_rail, repo)

    finding = only(report, "stateful-relocation")
    assert (finding["path"], finding["line"]) == (PG, line_of(repo, PG, "namespace: databases"))
    assert "platform" in finding["message"] and "databases" in finding["message"]


def test_a_recorded_migration_passes(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, "    namespace: platform\n", "    namespace: databases\n")
    edit(
        repo,
        PG,
        "  labels:\n",
        "  annotations:\n    railiance.io/migration: pg_dump into the new namespace, ticket OPS-7\n"
        "    railiance.io/migration-from: platform/postgresql-ha\n  labels:\n",
    )
    _, report = diff(run_rail, repo)
    assert not findings(report, "stateful-relocation")


def test_a_chart_major_bump_is_a_warning(repo: Path, run_rail: RunRail) -> None:
    edit(repo, PG, 'targetRevision: "16.3.4"', 'targetRevision: "17.0.1"')

    code, report = diff(run_rail, repo)

    finding = only(report, "chart-major-bump")
    assert code == 0 and finding["severity"] == "warning"
    assert (finding["path"], finding["line"]) == (PG, line_of(repo, PG, "targetRevision"))
    assert "16.3.4 -> 17.0.1" in finding["message"]


def test_removing_an_application_another_depends_on(repo: Path, run_rail: RunRail) -> None:
    (repo / "platform/valkey.yaml").unlink()

    code, report = diff(run_rail, repo)

    found = findings(report, "dependency-removed")
    assert code == 1 and len(found) == 1, report["findings"]
    assert found[0]["object"] == {**APPLICATION, "name": "valkey"}
    assert found[0]["change"] == "removed" and "gitea" in found[0]["message"]


def test_removing_an_application_nobody_depends_on_passes_the_rule(repo: Path, run_rail: RunRail) -> None:
    edit(repo, "apps/gitea.yaml", "platform/postgresql-ha,platform/valkey", "platform/postgresql-ha")
    (repo / "platform/valkey.yaml").unlink()

    _, report = diff(run_rail, repo)

    assert not findings(report, "dependency-removed")


def test_switching_a_subchart_on_is_subchart_enabled(repo: Path, run_rail: RunRail) -> None:
    gitea = "apps/gitea.yaml"
    edit(repo, gitea, "postgresql-ha:\n          enabled: false", "postgresql-ha:\n          enabled: true")

    code, report = diff(run_rail, repo)

    finding = only(report, "subchart-enabled")
    assert code == 1
    assert finding["object"] == {**APPLICATION, "name": "gitea"}
    assert (finding["path"], finding["line"]) == (gitea, line_of(repo, gitea, "enabled: true"))
    assert "postgresql-ha" in finding["message"]
