"""``rail lint`` on Argo CD output: the release graph reads Applications as it
reads HelmReleases, so the shipped stack's Argo output passes every rule as a
bare repository, a stack rendered only for Argo CD lints clean, and a finding
about a spec rendered only for Argo CD points at the spec."""

from __future__ import annotations

import shutil
from pathlib import Path

from argo_stack import set_config

from renderer.app import run_lint, run_render
from renderer.lint.graph import build
from renderer.lint.manifests import parse
from renderer.lint.rule import LintOptions
from renderer.model import StackConfig

PG = "releases/s3/postgresql-ha.yaml"


def test_rendered_argo_output_as_a_bare_repository_has_no_findings(rendered_stack: Path, tmp_path: Path) -> None:
    bare = Path(shutil.copytree(rendered_stack / "rendered" / "argo", tmp_path / "argo-repo"))

    result = run_lint(bare, [bare], LintOptions(strict=True))

    # A spec's suppressions stay with the spec (rendered objects carry no annotation of
    # them): what the specs suppress is all a bare lint of the output may report.
    suppressed = {("s3-platform/application-rabbitmq.yaml", "backup-coverage")}
    assert [
        f"{f.path}:{f.line} {f.rule} {f.message}" for f in result.findings if (f.path, f.rule) not in suppressed
    ] == []


def test_the_bare_argo_graph_has_every_release_and_edge(rendered_stack: Path) -> None:
    manifests = []
    for path in sorted((rendered_stack / "rendered" / "argo").rglob("*.yaml")):
        manifests.extend(parse(path.read_text(encoding="utf-8"), path.name))
    graph = build(StackConfig.default(), manifests)
    layers = {node.ref.name: node.layer.layer.id if node.layer.layer else None for node in graph.releases.values()}
    assert layers == {
        "postgresql-ha": "S3",
        "valkey": "S3",
        "rabbitmq": "S3",
        "memcached": "S3",
        "gitea": "S5",
        "zulip": "S5",
    }
    edges = {(edge.source.name, edge.target.name) for edge in graph.edges if edge.kind == "dependsOn"}
    zulip = {("zulip", name) for name in ("postgresql-ha", "valkey", "rabbitmq", "memcached")}
    assert edges == {("gitea", "postgresql-ha"), ("gitea", "valkey"), *zulip}


def test_an_argo_only_stack_lints_clean(stack_copy: Path) -> None:
    set_config(stack_copy, "targets: [flux, argo]", "targets: [argo]")
    shutil.rmtree(stack_copy / "rendered")
    run_render(stack_copy, "all", check=False)

    result = run_lint(stack_copy, [], LintOptions(strict=True))

    assert [f"{f.path}:{f.line} {f.rule} {f.message}" for f in result.findings] == []


def test_an_argo_only_finding_points_at_the_spec(stack_copy: Path) -> None:
    set_config(stack_copy, "targets: [flux, argo]", "targets: [argo]")
    spec = stack_copy / PG
    lines = spec.read_text(encoding="utf-8").splitlines()
    line = next(index for index, text in enumerate(lines, 1) if "replicaCount: 3" in text)
    lines[line - 1] = lines[line - 1].replace("replicaCount: 3", "replicaCount: 1")
    spec.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.rmtree(stack_copy / "rendered")
    run_render(stack_copy, "all", check=False)

    result = run_lint(stack_copy, [], LintOptions())

    [finding] = [f for f in result.findings if f.rule == "ha-policy"]
    assert (finding.path, finding.line) == (PG, line)
    assert finding.object is not None and finding.object.kind == "Application"
    assert [related.path for related in finding.related] == ["rendered/argo/s3-platform/application-postgresql-ha.yaml"]
