"""Rule settings from rail.yaml, suppressions with reasons, --strict and the exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from renderer.app import run_lint, run_render
from renderer.errors import InputError
from renderer.lint.rule import LintOptions

REPO = Path(__file__).resolve().parents[2]

MANIFEST = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: grafana
  namespace: tools
{annotations}spec:
  interval: 10m
  chart:
    spec: {{chart: grafana, version: 8.0.0, sourceRef: {{kind: HelmRepository, name: grafana}}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {{name: grafana, namespace: tools}}
spec: {{interval: 1h, url: "https://grafana.github.io/helm-charts"}}
"""


def _bare(tmp_path: Path, annotations: str = "") -> Path:
    (tmp_path / "grafana.yaml").write_text(MANIFEST.format(annotations=annotations))
    return tmp_path


def _rules(tmp_path: Path, options: LintOptions | None = None) -> list[tuple[str, str]]:
    result = run_lint(tmp_path, [tmp_path], options or LintOptions())
    return [(f.rule, f.severity) for f in result.findings]


def test_unassigned_without_rail_yaml_is_a_note_that_exhaustive_makes_fail(tmp_path: Path) -> None:
    """No rail.yaml: nobody declared layers, so no warning that --strict would fail on."""
    _bare(tmp_path)
    result = run_lint(tmp_path, [tmp_path], LintOptions(strict=True))
    assert not result.failed and result.findings == ()
    assert any(note.startswith("1 release(s) in no default layer, in namespace(s) tools (1)") for note in result.notes)
    assert run_lint(tmp_path, [tmp_path], LintOptions(exhaustive=True)).failed


def test_annotation_suppression_with_reason_silences_the_rule(tmp_path: Path) -> None:
    _bare(tmp_path, '  annotations:\n    railiance.io/suppress.layer-unassigned: "tools are not layered yet"\n')
    assert ("layer-unassigned", "warning") not in _rules(tmp_path)
    assert not any(rule == "unused-suppression" for rule, _ in _rules(tmp_path))


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ('railiance.io/suppress.layer-unassigned: ""', "has no reason"),
        ('railiance.io/suppress.layer-boundry: "typo"', "unknown rule 'layer-boundry'"),
        ('railiance.io/suppress.chart-unpinned: "pinned later"', "matches no finding"),
    ],
)
def test_a_bad_or_useless_suppression_is_itself_a_finding(tmp_path: Path, annotation: str, message: str) -> None:
    _bare(tmp_path, f"  annotations:\n    {annotation}\n")
    result = run_lint(tmp_path, [tmp_path], LintOptions())
    found = [f for f in result.findings if f.rule == "unused-suppression"]
    assert len(found) == 1 and message in found[0].message
    assert found[0].path == "grafana.yaml" and found[0].line == 7


def _stack(tmp_path: Path) -> Path:
    work = tmp_path / "stack"
    work.mkdir()
    for name in ("rail.yaml", "releases", "values", "secrets", "templates"):
        source = REPO / name
        shutil.copytree(source, work / name) if source.is_dir() else shutil.copy2(source, work / name)
    return work


def test_spec_suppression_and_rule_severity_from_rail_yaml(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    spec = work / "releases/s3/valkey.yaml"
    spec.write_text(
        spec.read_text().replace("layer: S3", "layer: S5").replace("namespace: platform", "namespace: apps", 1)
    )
    secret = work / "secrets/s3/valkey-credentials.sops.yaml"
    secret.write_text(secret.read_text().replace("namespace: platform", "namespace: apps"))
    (work / "releases/s3/backup.yaml").unlink()  # a backup pod must share the cache's namespace
    run_render(work, "all", check=False)
    assert ("layer-boundary", "error") in [(f.rule, f.severity) for f in run_lint(work, [], LintOptions()).findings]

    config = work / "rail.yaml"
    config.write_text(config.read_text() + "lint:\n  rules:\n    layer-boundary: warning\n")
    result = run_lint(work, [], LintOptions())
    assert ("layer-boundary", "warning") in [(f.rule, f.severity) for f in result.findings]

    spec.write_text(spec.read_text() + "suppress:\n  layer-boundary: the cache moves to S3 with ticket 42\n")
    run_render(work, "all", check=False)
    result = run_lint(work, [], LintOptions())
    assert "layer-boundary" not in {f.rule for f in result.findings}


def test_an_unknown_rule_in_rail_yaml_is_an_input_error(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    (work / "rail.yaml").write_text((work / "rail.yaml").read_text() + "lint:\n  rules:\n    layer-boundry: off\n")
    with pytest.raises(InputError) as raised:
        run_lint(work, [], LintOptions())
    assert "did you mean 'layer-boundary'" in str(raised.value)


def test_off_disables_a_rule(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    (work / "rail.yaml").write_text((work / "rail.yaml").read_text() + "lint:\n  rules:\n    rendered-drift: off\n")
    assert not run_lint(work, [], LintOptions()).findings


def test_json_report_of_the_shipped_stack_is_clean(tmp_path: Path) -> None:
    from renderer.report.findings import REPORTERS

    result = run_lint(REPO, [], LintOptions())
    payload = json.loads(REPORTERS["json"](result))
    assert payload["findings"] == [] and payload["summary"]["failed"] is False
