"""layer-unassigned: one note without a rail.yaml, a warning each with one."""

from __future__ import annotations

from dataclasses import replace

from renderer.lint.graph import build
from renderer.lint.manifests import parse
from renderer.lint.rule import LintContext, LintOptions
from renderer.lint.rules import layer_unassigned
from renderer.model import StackConfig

RELEASES = "".join(
    f"---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: app{i}, namespace: ns{i % 3}}}\n"
    "spec: {chart: {spec: {chart: app, version: 1.0.0}}}\n"
    for i in range(7)
)


def _fold(config: StackConfig, options: LintOptions | None = None) -> tuple[int, tuple[object, ...]]:
    context = LintContext(graph=build(config, parse(RELEASES, "apps.yaml")), options=options or LintOptions())
    findings = tuple(layer_unassigned.check(context))
    assert len(findings) == 7
    kept, notes = layer_unassigned.fold(context, findings)
    return len(kept), notes


def test_without_rail_yaml_the_releases_are_one_summary_note() -> None:
    kept, notes = _fold(StackConfig.default())
    assert kept == 0 and len(notes) == 1
    text = getattr(notes[0], "message", "")
    assert text.startswith("7 release(s) in no default layer, in namespace(s) ns0 (3), ns1 (2), ns2 (2)")
    assert "(first: app0, app1, app2, app3, app4, ...)" in text
    assert "add a rail.yaml with `layers`" in text


def test_with_rail_yaml_each_release_is_a_warning() -> None:
    assert _fold(replace(StackConfig.default(), path="rail.yaml")) == (7, ())


def test_exhaustive_reports_each_release_even_without_rail_yaml() -> None:
    assert _fold(StackConfig.default(), LintOptions(exhaustive=True)) == (7, ())
