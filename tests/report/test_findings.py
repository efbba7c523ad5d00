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


# What the input holds stays data: one finding, one line (or annotation); no escape sequence.

INJECTED = "\n::error::x %0A\r::set-env name=X::1 \x1b[31mred\x1b]0;title\x07"


def _hostile(index: int) -> Finding:
    return Finding(
        rule="plaintext-secret",
        severity="error" if index % 2 else "warning",
        message=f"key {index}{INJECTED}",
        location=Location(f"values/{index}{INJECTED}, x:y.yaml", index + 1, 2),
        object=OBJECT,
        hint=f"hint{INJECTED}",
        related=(Location(f"rendered/{index}{INJECTED}.yaml", 3),),
    )


def test_github_gives_one_annotation_a_finding_whatever_it_holds() -> None:
    findings = tuple(_hostile(index) for index in range(3))
    lines = REPORTERS["github"](_result(*findings, notes=(f"note{INJECTED}",))).splitlines()

    assert len(lines) == len(findings) + 1
    for index, line in enumerate(lines[:-1]):
        severity = "error" if index % 2 else "warning"
        assert line.startswith(f"::{severity} file=values/{index}%0A%3A%3Aerror%3A%3Ax %250A%0D%3A%3Aset-env")
        assert (
            f"%2C x%3Ay.yaml,line={index + 1},col=2,title=plaintext-secret::key {index}%0A::error::x %250A%0D" in line
        )
    assert lines[-1].startswith("::notice::note%0A::error::x %250A%0D::set-env")
    assert "\x1b" not in "".join(lines) and "\x07" not in "".join(lines)
    assert "\\x1b[31mred\\x1b]0;title\\x07" in lines[0]


def test_text_gives_no_line_a_finding_did_not_start() -> None:
    findings = tuple(_hostile(index) for index in range(3))
    output = REPORTERS["text"](_result(*findings, notes=(f"note{INJECTED}",)))
    lines = output.splitlines()

    # Per finding: the finding, its hint, its related place; then the note and the verdict.
    assert len(lines) == 3 * len(findings) + 2
    assert not [line for line in lines if line.startswith("::")]
    assert "\x1b" not in output and "\r" not in output and "\x07" not in output
    assert lines[0] == (
        "values/0\\n::error::x %0A\\r::set-env name=X::1 \\x1b[31mred\\x1b]0;title\\x07, x:y.yaml:1:2:"
        " warning plaintext-secret key 0\\n::error::x %0A\\r::set-env name=X::1 \\x1b[31mred\\x1b]0;title\\x07"
    )
