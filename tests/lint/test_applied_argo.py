"""`rail lint FOLDER` on an Argo CD repository lints what its Applications apply.

The fixture is ``tests/cases/argo/tree`` (read its test, tests/apply/test_argo.py):
an app of apps whose ``gitea`` takes its values from ``values/gitea.yaml`` through a
multi-source ``$values`` reference (every bundled service off, an admin password in
plain text), and whose ``forge`` deploys a chart folder with a value file that turns
the chart's PostgreSQL on.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import RunRail

TREE = Path(__file__).resolve().parents[1] / "cases" / "argo" / "tree"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return shutil.copytree(TREE, tmp_path / "repo")


def _lint(run_rail: RunRail, folder: Path, *extra: str) -> dict[str, Any]:
    out = folder.parent / "report.json"
    done = run_rail("lint", folder.name, "--format", "json", "--output", str(out), *extra, cwd=folder.parent)
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _errors(report: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return sorted(
        (f["rule"], f["path"], f["line"], f["object"]["name"])
        for f in report["findings"]
        if f["severity"] == "error" and f["object"]
    )


def test_the_values_argo_cd_gives_a_release_are_the_ones_linted(repo: Path, run_rail: RunRail) -> None:
    report = _lint(run_rail, repo)
    assert _errors(report) == [
        # The value file of the chart folder turns its PostgreSQL on: found where it is written.
        ("plaintext-secret", "repo/values/gitea.yaml", 13, "gitea"),
        ("subchart-coupling", "repo/charts/forge/values-prod.yaml", 3, "forge"),
    ]
    # gitea's bundled services are all off in its value file: no coupling, no "unknown values".
    assert not [f for f in report["findings"] if f["rule"] == "subchart-coupling" and "gitea" in f["message"]]
    # Each finding names the Application that applies the release's Application (the root).
    forge = next(f for f in report["findings"] if f["rule"] == "subchart-coupling")
    assert {"path": "repo/bootstrap/root.yaml", "line": 2, "column": None} in forge["related"]


def test_as_written_the_value_files_are_unknown(repo: Path, run_rail: RunRail) -> None:
    report = _lint(run_rail, repo, "--all-files")
    gitea = [f for f in report["findings"] if f["rule"] == "subchart-coupling" and f["object"]["name"] == "gitea"]
    assert len(gitea) == 2 and all("their values are not known" in f["message"] for f in gitea)
    assert not [f for f in report["findings"] if f["rule"] == "plaintext-secret"]


def test_files_no_application_applies_are_one_note_per_folder(repo: Path, run_rail: RunRail) -> None:
    notes = _lint(run_rail, repo)["summary"]["notes"]
    left_out = [n for n in notes if "no Flux Kustomization or Argo CD Application applies" in n]
    assert left_out == [
        "repo/apps: 1 file(s) that no Flux Kustomization or Argo CD Application applies:"
        " not linted (--all-files lints them)",
        "repo/other: 1 file(s) that no Flux Kustomization or Argo CD Application applies:"
        " not linted (--all-files lints them)",
    ]


def test_the_repository_url_in_rail_yaml_decides_what_is_this_repository(repo: Path, run_rail: RunRail) -> None:
    stack = "version: 1\nname: fleet\nlayers: [{id: S5, name: apps, namespaces: [apps]}]\nargo:\n  repoURL: '%s'\n"
    (repo / "rail.yaml").write_text(stack % "https://git.example.com/someone/else.git")
    done = run_rail("lint", "--format", "json", ".", cwd=repo)
    elsewhere = json.loads(done.stdout)
    # Another repository's sources are not read: the root's apps/ folder is not followed.
    assert not [f for f in elsewhere["findings"] if f["rule"] == "plaintext-secret"]
    (repo / "rail.yaml").write_text(stack % "git@git.example.com:team/fleet.git")  # the same repository
    done = run_rail("lint", "--format", "json", ".", cwd=repo)
    here = json.loads(done.stdout)
    assert [f["path"] for f in here["findings"] if f["rule"] == "plaintext-secret"] == ["values/gitea.yaml"]


GENERATED = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: caches, namespace: argocd}
spec:
  generators:
    - list:
        elements:
          - {team: red}
          - {team: blue}
  template:
    metadata:
      name: 'cache-{{team}}'
    spec:
      project: default
      source:
        repoURL: https://charts.example.com
        chart: memcached
        targetRevision: '7.*'
      destination:
        server: https://kubernetes.default.svc
        namespace: 'team-{{team}}'
"""


def test_generated_applications_are_linted_at_the_template_line(repo: Path, run_rail: RunRail) -> None:
    (repo / "apps" / "caches.yaml").write_text(GENERATED)
    report = _lint(run_rail, repo)
    unpinned = sorted(
        (f["object"]["name"], f["path"], f["line"]) for f in report["findings"] if f["rule"] == "chart-unpinned"
    )
    assert unpinned == [
        ("cache-blue", "repo/apps/caches.yaml", 18),
        ("cache-red", "repo/apps/caches.yaml", 18),
    ]


CLUSTER_SET = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: per-cluster, namespace: argocd}
spec:
  generators:
    - clusters:
        selector:
          matchLabels: {env: prod}
  template:
    metadata:
      name: 'metrics-{{name}}'
    spec:
      project: default
      source:
        repoURL: https://charts.example.com
        chart: metrics
        targetRevision: '>=1.0.0'
      destination:
        server: '{{server}}'
        namespace: monitoring
"""
CLUSTERS_STACK = """\
version: 1
name: fleet
layers: [{id: S5, name: apps, namespaces: [apps]}]
argo:
  repoURL: 'https://git.example.com/team/fleet.git'
  clusters:
    - {name: prod-eu, server: 'https://prod-eu.example.com', labels: {env: prod}}
    - {name: staging, server: 'https://staging.example.com', labels: {env: staging}}
"""


def test_cluster_generators_read_the_clusters_of_rail_yaml(repo: Path, run_rail: RunRail) -> None:
    (repo / "apps" / "per-cluster.yaml").write_text(CLUSTER_SET)
    (repo / "rail.yaml").write_text(CLUSTERS_STACK)
    done = run_rail("lint", "--format", "json", ".", cwd=repo)
    report = json.loads(done.stdout)
    unpinned = [f["object"]["name"] for f in report["findings"] if f["rule"] == "chart-unpinned"]
    assert unpinned == ["metrics-prod-eu"]


def test_an_application_of_a_remote_chart_does_not_make_a_folder_an_argo_tree(
    tmp_path: Path, run_rail: RunRail
) -> None:
    # It reads nothing of this repository: the other files are linted as written, not left out.
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "app.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: redis, namespace: argocd}\n"
        "spec:\n  source:\n    repoURL: https://charts.example.com\n    chart: redis\n    targetRevision: 20.1.0\n"
        "  destination: {namespace: apps}\n"
    )
    (folder / "secret.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: apps}\n"
        "data: {DB_PASSWORD: Tr0ub4dor-horse-battery-staple}\n"
    )
    report = _lint(run_rail, folder)
    assert [f["path"] for f in report["findings"] if f["rule"] == "plaintext-secret"] == ["manifests/secret.yaml"]
    assert not [n for n in report["summary"]["notes"] if "no Flux Kustomization or Argo CD Application" in n]
