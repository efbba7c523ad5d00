"""Data events in a repository without specs: a foreign Flux repository's Namespace
pruned by its own Kustomization, a StatefulSet's claim templates changed, and two
look-alike releases that are not guessed to be a rename."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitstack import diff_json, finding_of, init, rules_of, write

KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: data, namespace: flux-system}}
spec:
  interval: 10m
  path: ./clusters/data
  prune: {prune}
  sourceRef: {{kind: GitRepository, name: flux-system}}
"""

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: data}\n"


@pytest.mark.parametrize("prune", ["true", "false"])
def test_a_namespace_removed_under_a_pruning_kustomization(tmp_path: Path, prune: str) -> None:
    repo = tmp_path / "flux"
    write(repo, "flux-system/data.yaml", KUSTOMIZATION.format(prune=prune))
    write(repo, "clusters/data/namespace.yaml", NAMESPACE)
    init(repo)
    (repo / "clusters/data/namespace.yaml").unlink()

    code, report = diff_json(repo, "--base", "main")

    if prune == "true":
        assert code == 1
        finding = finding_of(report, "namespace-pruned")
        assert finding["path"] == "clusters/data/namespace.yaml"
        assert "Kustomization 'data' prunes" in finding["message"]
    else:
        assert "namespace-pruned" not in rules_of(report)


STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: data
{annotations}spec:
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec: {{containers: [{{name: db, image: "postgres:16"}}]}}
  volumeClaimTemplates:
    - metadata: {{name: data}}
      spec:
        accessModes: [{mode}]
        resources: {{requests: {{storage: 1Gi}}}}
"""


def test_a_statefulset_claim_template_access_mode_change(tmp_path: Path) -> None:
    repo = tmp_path / "manifests"
    write(repo, "data/db.yaml", STATEFULSET.format(annotations="", mode="ReadWriteOnce"))
    init(repo)
    write(repo, "data/db.yaml", STATEFULSET.format(annotations="", mode="ReadWriteMany"))

    code, report = diff_json(repo, "--base", "main")

    assert code == 1
    finding = finding_of(report, "volume-class-change")
    assert "spec.volumeClaimTemplates[0].spec.accessModes" in finding["message"]
    assert finding["object"] == {"kind": "StatefulSet", "namespace": "data", "name": "db"}

    # A record of another kind accepts nothing; the exact kind does.
    wrong = "  annotations:\n    railiance.io/migration: copied\n    railiance.io/migration-change: storage-class\n"
    write(repo, "data/db.yaml", STATEFULSET.format(annotations=wrong, mode="ReadWriteMany"))
    code, report = diff_json(repo, "--base", "main")
    assert code == 1 and "stale-migration" in rules_of(report)
    write(
        repo,
        "data/db.yaml",
        STATEFULSET.format(annotations=wrong.replace("storage-class", "access-modes"), mode="ReadWriteMany"),
    )
    code, report = diff_json(repo, "--base", "main")
    assert code == 0, report["findings"]
    assert [item["rule"] for item in report["accepted"]] == ["volume-class-change"]


RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: {name}, namespace: platform}}
spec:
  interval: 10m
  chart: {{spec: {{chart: valkey, version: 4.0.2, sourceRef: {{kind: HelmRepository, name: bitnami}}}}}}
  values: {{primary: {{persistence: {{size: 2Gi}}}}}}
"""


def test_a_rename_is_found_by_chart_layer_and_values(tmp_path: Path) -> None:
    repo = tmp_path / "manifests"
    write(repo, "platform/cache.yaml", RELEASE.format(name="cache"))
    init(repo)
    (repo / "platform/cache.yaml").unlink()
    write(repo, "platform/sessions.yaml", RELEASE.format(name="sessions"))

    code, report = diff_json(repo, "--base", "main")

    change = next(c for c in report["changes"] if c["object"]["kind"] == "HelmRelease")
    assert change["change"] == "renamed"
    assert change["from"]["name"] == "cache" and change["object"]["name"] == "sessions"
    assert code == 1 and "stateful-relocation" in rules_of(report)


def test_look_alikes_are_not_guessed_to_be_a_rename(tmp_path: Path) -> None:
    """Two identical releases removed, one added: which one was renamed is unknown."""
    repo = tmp_path / "manifests"
    write(repo, "platform/cache.yaml", RELEASE.format(name="cache"))
    write(repo, "platform/queue.yaml", RELEASE.format(name="queue"))
    init(repo)
    (repo / "platform/cache.yaml").unlink()
    (repo / "platform/queue.yaml").unlink()
    write(repo, "platform/sessions.yaml", RELEASE.format(name="sessions"))

    code, report = diff_json(repo, "--base", "main")

    kinds = sorted(c["change"] for c in report["changes"] if c["object"]["kind"] == "HelmRelease")
    assert kinds == ["added", "removed", "removed"]
    assert code == 1 and rules_of(report).count("stateful-removed") == 2
