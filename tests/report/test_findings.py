"""The finding formats: the JSON contract, SARIF 2.1.0, GitHub annotations, text."""

from __future__ import annotations

import json

import pytest

from renderer.diff.rules import DIFF_RULES
from renderer.lint.engine import LintResult
from renderer.lint.finding import Finding, Location, ObjectRef
from renderer.lint.rules import RULES
from renderer.report.findings import REPORTERS

OBJECT = ObjectRef("HelmRelease", "apps", "gitea")


def _result(*findings: Finding, notes: tuple[str, ...] = ()) -> LintResult:
    return LintResult(findings=findings, notes=notes)


def _finding(line: int | None = 12, message: str = "gitea deploys postgresql-ha") -> Finding:
    return Finding(
        rule="subchart-coupling",
        severity="error",
        message=message,
        location=Location("releases/s5/gitea.yaml", line, 5 if line else None),
        object=OBJECT,
        hint="set postgresql-ha.enabled: false",
        related=(Location("rendered/flux/s5-apps/helmrelease-gitea.yaml", 40, 7),),
    )


def test_text_is_path_line_col_severity_rule_message() -> None:
    text = REPORTERS["text"](_result(_finding()))
    assert text.splitlines()[0] == "releases/s5/gitea.yaml:12:5: error subchart-coupling gitea deploys postgresql-ha"
    assert "rail: 1 error(s), 0 warning(s): failed" in text


def test_json_has_the_contract_fields() -> None:
    payload = json.loads(REPORTERS["json"](_result(_finding(line=None))))
    (finding,) = payload["findings"]
    assert {"rule", "severity", "message", "path", "line", "object"} <= set(finding)
    assert finding["line"] is None
    assert finding["object"] == {"kind": "HelmRelease", "namespace": "apps", "name": "gitea"}
    assert payload["summary"]["errors"] == 1


def test_sarif_always_has_results_and_line_free_fingerprints() -> None:
    empty = json.loads(REPORTERS["sarif"](_result()))
    assert empty["version"] == "2.1.0"
    assert empty["runs"][0]["results"] == []
    assert {rule["id"] for rule in empty["runs"][0]["tool"]["driver"]["rules"]} == {r.id for r in (*RULES, *DIFF_RULES)}
    moved = [json.loads(REPORTERS["sarif"](_result(_finding(line=n)))) for n in (12, 80)]
    prints = [doc["runs"][0]["results"][0]["partialFingerprints"] for doc in moved]
    assert prints[0] == prints[1], "a finding that only moved lines keeps its fingerprint"
    region = moved[1]["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 80, "startColumn": 5}
    other = json.loads(REPORTERS["sarif"](_result(_finding(message="gitea deploys valkey-cluster"))))
    assert other["runs"][0]["results"][0]["partialFingerprints"] != prints[0]


def test_sarif_without_a_line_has_no_region() -> None:
    document = json.loads(REPORTERS["sarif"](_result(_finding(line=None))))
    assert "region" not in document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]


@pytest.mark.parametrize(
    ("message", "escaped"),
    [("50% done", "50%25 done"), ("two\nlines", "two%0Alines")],
)
def test_github_annotations_escape_data(message: str, escaped: str) -> None:
    line = REPORTERS["github"](_result(_finding(message=message))).splitlines()[0]
    assert line.startswith("::error file=releases/s5/gitea.yaml,line=12,col=5,title=subchart-coupling::")
    assert escaped in line


def test_notes_are_reported() -> None:
    result = _result(notes=("x.yaml: HelmRelease y uses v2beta1",))
    assert "note: x.yaml: HelmRelease y uses v2beta1" in REPORTERS["text"](result)
    assert "::notice::x.yaml%3A" not in REPORTERS["github"](result)
    assert "::notice::x.yaml: HelmRelease y uses v2beta1" in REPORTERS["github"](result)
