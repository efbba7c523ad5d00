"""The comment as ``rail diff --format markdown`` writes it from a real git repository:
what the head's suppressions silence is listed (the lint engine keeps it), the layer
graph comes from both sides, and ``file:line`` links come from the CI environment only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from renderer.cli import main
from renderer.report.comment import MARKER

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diff"))  # the git repositories of the diff tests
from conftest import GIT_ENV
from gitstack import build_stack, clone, edit, init, template, write

SHA = "2" * 40
SOURCE = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec: {interval: 1h, url: "https://charts.example.com"}
"""
GRAFANA = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: grafana
  namespace: apps
  annotations:
    railiance.io/suppress.chart-unpinned: "follows the 8.x line until OPS-7"
spec:
  interval: 10m
  chart:
    spec: {chart: grafana, version: "8.x", sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}}
"""
CI = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "example/stack", "GITHUB_SHA": SHA}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Manifests only: main has a chart source; the working tree adds an unpinned,
    suppressed release."""
    write(tmp_path, "flux/source.yaml", SOURCE)
    init(tmp_path)
    write(tmp_path, "apps/grafana.yaml", GRAFANA)
    return tmp_path


def _comment(repo: Path, ci: dict[str, str] | None) -> str:
    env: dict[str, str | None] = {"GITHUB_ACTIONS": None, "GITEA_ACTIONS": None, "NO_COLOR": "1", **GIT_ENV}
    env |= ci or dict.fromkeys(CI)
    args = ["diff", "--base", "main", "--format", "markdown", "-C", str(repo)]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_suppressed_findings_are_listed_and_linked(repo: Path) -> None:
    text = _comment(repo, CI)

    assert text.startswith(MARKER + "\n") and "**Passes:** no finding." in text
    suppressed = text.split("#### Suppressed (1)\n\n", 1)[1].splitlines()[0]
    assert suppressed.startswith("- `chart-unpinned` apps/grafana: chart 'grafana' of release 'grafana' is not pinned")
    assert suppressed.endswith(
        f"([`apps/grafana.yaml:11`](https://github.com/example/stack/blob/{SHA}/apps/grafana.yaml#L11))"
    )
    assert '    r0["apps/grafana #40;added#41;"]' in text
    assert "| apps/grafana | S5 | `grafana 8.x` | Flux |" in text


def test_no_links_outside_ci(repo: Path) -> None:
    text = _comment(repo, None)

    assert "(`apps/grafana.yaml:11`)" in text
    assert "https://" not in text


def test_a_release_is_one_section_with_its_chart_source(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The shipped stack: postgresql-ha's Flux chart comes from an OCIRepository (its tag is
    the version), Argo CD's from targetRevision. A major bump and fewer replicas are one
    section whose rows both targets share, and a data-safety row."""
    stack = clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")
    edit(stack, "releases/s3/postgresql-ha.yaml", "version: 16.3.4", "version: 17.0.0")
    edit(stack, "releases/s3/postgresql-ha.yaml", "replicaCount: 3", "replicaCount: 2")
    env: dict[str, str | None] = {"GITHUB_ACTIONS": None, "GITEA_ACTIONS": None, **GIT_ENV} | dict.fromkeys(CI)
    args = ["diff", "--base", "main", "--format", "markdown", "-C", str(stack)]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    text = result.stdout

    assert result.exit_code == 1
    # The section, up to what follows it (the stack's suppressions are listed after the releases).
    changed = text.split("#### Changed\n\n", 1)[1].split("\n#### ", 1)[0]
    assert changed == (
        "<details><summary>~ modified: platform/postgresql-ha (S3), Flux and Argo CD</summary>\n\n"
        "| target | field | old | new |\n| --- | --- | --- | --- |\n"
        "| Flux and Argo CD | `values.postgresql.replicaCount` | `3` | `2` |\n"
        '| Flux and Argo CD | `chart version` | `"16.3.4"` | `"17.0.0"` |\n\n</details>\n'
    )
    replicas = "pgpool.replicaCount 1; postgresql.replicaCount 3 → 2"
    assert f"| platform/postgresql-ha | modified | persistence.size 10Gi | {replicas} |" in text
