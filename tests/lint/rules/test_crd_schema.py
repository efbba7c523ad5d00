"""crd-schema beyond its cases: the packaged schemas are valid (checked here, never
at run time), validators are built once, values never reach a message, and what
is not checked is noted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from renderer.lint.finding import Finding
from renderer.lint.graph import ReleaseGraph, build
from renderer.lint.manifests import parse
from renderer.lint.notes import grouped
from renderer.lint.rule import LintContext
from renderer.lint.rules import crd_schema
from renderer.model import StackConfig
from renderer.resources import data_dir

SCHEMAS = data_dir("schemas")
# The CRDs' schemas and the core kinds' (schemas/crds/, schemas/k8s/), by "<group>/<version>/<Kind>".
INDEX = crd_schema.schema_index()

SECRET = "hunter2-do-not-print"


def _lint(text: str, path: str = "repo.yaml") -> tuple[list[Finding], ReleaseGraph]:
    graph = build(StackConfig.default(), parse(text, path))
    return list(crd_schema.check(LintContext(graph=graph))), graph


@pytest.mark.parametrize("key", sorted(INDEX))
def test_every_packaged_crd_schema_is_valid_against_the_metaschema(key: str) -> None:
    schema = json.loads((SCHEMAS / INDEX[key]).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)


def test_the_index_names_every_packaged_schema_and_every_checked_kind() -> None:
    on_disk = {
        path.relative_to(SCHEMAS).as_posix()
        for folder in ("crds", "k8s")
        for path in (SCHEMAS / folder).glob("*/*.json")
    }
    assert set(INDEX.values()) == on_disk
    indexed = {(key.split("/")[0], key.split("/")[2]) for key in INDEX}
    checked = {(group, kind) for group, kinds in crd_schema.CHECKED_KINDS.items() for kind in kinds}
    assert checked == indexed


def test_a_validator_is_built_once_per_kind_and_version() -> None:
    first = crd_schema.validator("helm.toolkit.fluxcd.io/v2/HelmRelease")
    assert first is crd_schema.validator("helm.toolkit.fluxcd.io/v2/HelmRelease")
    assert crd_schema.validator("helm.toolkit.fluxcd.io/v2beta1/HelmRelease") is None


RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: app, namespace: apps}}
spec:
{spec}  chart:
    spec: {{chart: app, version: 1.0.0, sourceRef: {{kind: HelmRepository, name: app}}}}
"""


@pytest.mark.parametrize(
    "spec",
    [
        f"  interval: {SECRET}\n",  # pattern
        f"  interval: 10m\n  releaseName: {{password: {SECRET}}}\n",  # type
        f"  interval: 10m\n  driftDetection: {{mode: {SECRET}}}\n",  # enum
        f"  interval: 10m\n  timeout: [{SECRET}]\n",  # type, a list
    ],
)
def test_a_message_never_echoes_the_value(spec: str) -> None:
    findings, _ = _lint(RELEASE.format(spec=spec))
    assert findings
    for finding in findings:
        assert SECRET not in finding.message
        assert SECRET not in finding.hint


def test_an_unknown_key_is_located_at_the_key_with_a_suggestion() -> None:
    findings, _ = _lint(RELEASE.format(spec="  interval: 10m\n  dependson: []\n"))
    assert [(f.location.line, f.location.column, f.hint) for f in findings] == [(6, 3, "did you mean 'dependsOn'?")]
    assert "unknown key 'spec.dependson'" in findings[0].message


def test_an_error_inside_a_list_is_located_at_the_item() -> None:
    findings, _ = _lint(RELEASE.format(spec="  interval: 10m\n  dependsOn:\n    - name: db\n    - namespace: x\n"))
    assert [(f.location.line, f.message) for f in findings] == [
        (8, "HelmRelease 'app': spec.dependsOn[1]: missing required key 'name'")
    ]


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease"),
        ("helm.toolkit.fluxcd.io/v2beta2", "HelmRelease"),
        ("source.toolkit.fluxcd.io/v1beta2", "HelmRepository"),
        ("source.toolkit.fluxcd.io/v1beta2", "OCIRepository"),
        ("kustomize.toolkit.fluxcd.io/v1beta2", "Kustomization"),
    ],
)
def test_a_version_flux_no_longer_serves_is_noted_not_reported(api_version: str, kind: str) -> None:
    text = (
        f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: old, namespace: apps}}\n"
        "spec: {bogus: 1, chart: {spec: {chart: old, version: 1.0.0}}}\n"
    )
    findings, graph = _lint(text)
    assert findings == []
    # One note, not one from the graph and one from this rule.
    assert grouped(graph.notes) == (
        f"repo.yaml: {kind} old: {kind} {api_version} is a deprecated version Flux 2.8 no longer serves:"
        + (" linted as v2," if kind == "HelmRelease" else "")
        + f" not schema-checked (migrate it to {api_version.split('/')[0]}/{_served_last(kind)})",
    )


def _served_last(kind: str) -> str:
    return "v2" if kind == "HelmRelease" else "v1"


def test_a_deprecated_version_is_one_note_with_the_count() -> None:
    """Six releases and six sources on old versions: two notes (one per kind and
    version), each with its count and the first files, not twenty-four."""
    documents = []
    for index in range(6):
        documents.append(
            f"apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata: {{name: app{index}}}\n"
            "spec: {chart: {spec: {chart: old, version: 1.0.0}}}\n"
        )
        documents.append(
            f"apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: HelmRepository\nmetadata: {{name: repo{index}}}\n"
            "spec: {url: 'https://example.com'}\n"
        )
    manifests = [m for index, text in enumerate(documents) for m in parse(text, f"f{index}.yaml")]
    graph = build(StackConfig.default(), manifests)
    assert list(crd_schema.check(LintContext(graph=graph))) == []
    assert grouped(graph.notes) == (
        "HelmRelease helm.toolkit.fluxcd.io/v2beta2 is a deprecated version Flux 2.8 no longer serves: linted as v2,"
        " not schema-checked (migrate it to helm.toolkit.fluxcd.io/v2): 6 times, in f0.yaml, f2.yaml, f4.yaml"
        " and 3 more; first: HelmRelease app0",
        "HelmRepository source.toolkit.fluxcd.io/v1beta2 is a deprecated version Flux 2.8 no longer serves:"
        " not schema-checked (migrate it to source.toolkit.fluxcd.io/v1): 6 times, in f1.yaml, f3.yaml, f5.yaml"
        " and 3 more; first: HelmRepository repo0",
    )


def test_fragments_are_skipped_with_a_note() -> None:
    text = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app}
spec:
  values: {replicaCount: 3}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {namespace: apps}
spec: {interval: 1h}
"""
    findings, graph = _lint(text)
    assert findings == []
    assert any("HelmRelease app has no chart" in note for note in graph.notes)
    assert any("HelmRepository (unnamed) has no name" in note for note in graph.notes)


def test_a_substituted_value_is_not_a_type_error() -> None:
    findings, graph = _lint(RELEASE.format(spec="  interval: ${INTERVAL}\n  maxHistory: ${MAX_HISTORY}\n"))
    assert findings == []
    assert any("${VAR} substitutions were not schema-checked" in note for note in graph.notes)


def test_a_fresh_render_of_the_shipped_stack_passes(rendered_stack: Path) -> None:
    manifests = [
        manifest
        for path in sorted((rendered_stack / "rendered").rglob("*.yaml"))
        for manifest in parse(path.read_text(encoding="utf-8"), path.relative_to(rendered_stack).as_posix())
    ]
    assert {manifest.kind for manifest in manifests} >= {"HelmRelease", "OCIRepository", "HelmRepository"}
    graph = build(StackConfig.default(), manifests)
    assert list(crd_schema.check(LintContext(graph=graph))) == []
