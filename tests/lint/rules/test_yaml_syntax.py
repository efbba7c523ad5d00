"""yaml-syntax: a foreign file that does not read is a finding, never a whole-repository exit 2.

(DESIGN.md, issue 11.) Every other file is still linted and reported in every format; the
text on the broken line is never shown (it may be a secret); a Helm chart's ``templates/``
and files of template syntax are notes; rail's own inputs (specs, values files) stay exit 2
with the file and line. Deep nesting and huge integers, which used to end in exit 3
(RecursionError, Python's int digit limit), are findings in foreign files and exit 2 in
rail's own.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from conftest import DATABASE_IN_S2, RunRail

from renderer.app import run_lint
from renderer.lint.engine import LintResult
from renderer.lint.rule import LintOptions
from renderer.report.findings import REPORTERS

CONFIGMAP_HEAD = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: apps}\ndata:\n"


def _canary() -> str:
    """A unique value that must never leave rail, built at run time."""
    return "cnry" + secrets.token_hex(12)


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _lint(root: Path, paths: list[Path] | None = None) -> LintResult:
    """``rail lint ROOT`` in ``root``; with ``paths=[]``, plain ``rail lint`` (the stack only)."""
    return run_lint(root, [root] if paths is None else paths, LintOptions())


def _reports(result: LintResult) -> dict[str, str]:
    return {name: render(result) for name, render in REPORTERS.items()}


def _found(result: LintResult, rule: str = "yaml-syntax") -> list[tuple[str, int | None]]:
    return [(finding.path, finding.line) for finding in result.findings if finding.rule == rule]


# --------------------------------------------------------------------------- one broken file among good ones


def test_one_broken_file_among_good_ones_fails_with_every_finding_in_every_format(
    tmp_path: Path, run_rail: RunRail
) -> None:
    canary = _canary()
    _write(
        tmp_path,
        {
            "apps/pg.yaml": DATABASE_IN_S2,
            "apps/broken.yaml": CONFIGMAP_HEAD + f"  password: {canary} : x\n",
            "apps/fine.yaml": CONFIGMAP_HEAD.replace("name: app", "name: fine") + "  colour: blue\n",
        },
    )
    outputs = {name: tmp_path / f"report.{name}" for name in ("json", "sarif", "github")}
    args = [arg for name, path in outputs.items() for arg in ("--format", name, "--output", str(path))]
    done = run_rail("lint", ".", *args, "--format", "text", cwd=tmp_path, env={"GITHUB_ACTIONS": ""})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert done.stderr == ""

    findings = json.loads(outputs["json"].read_text())["findings"]
    got = {(f["rule"], f["path"], f["line"], f["severity"]) for f in findings}
    assert ("yaml-syntax", "apps/broken.yaml", 5, "error") in got
    assert ("layer-boundary", "apps/pg.yaml", 3, "error") in got
    results = json.loads(outputs["sarif"].read_text())["runs"][0]["results"]
    assert {"yaml-syntax", "layer-boundary"} <= {result["ruleId"] for result in results}
    github = outputs["github"].read_text()
    assert "::error file=apps/broken.yaml,line=5,col=" in github and "title=yaml-syntax::" in github
    assert "file=apps/pg.yaml,line=3" in github
    assert "apps/broken.yaml:5:" in done.stdout and "error yaml-syntax" in done.stdout
    assert "apps/pg.yaml:3:22: error layer-boundary" in done.stdout
    for text in (done.stdout, done.stderr, *(path.read_text() for path in outputs.values())):
        assert canary not in text


def test_a_stray_file_in_rendered_that_does_not_parse_is_a_finding(rendered_stack: Path, tmp_path: Path) -> None:
    """rendered/ holds files rail did not write: foreign too, and linted beside the stack."""
    from conftest import copy_stack

    root = copy_stack(rendered_stack, tmp_path / "stack")
    _write(root, {"rendered/flux/s5-apps/extra.yaml": CONFIGMAP_HEAD + "  key: [unclosed\n"})
    result = _lint(root, [])
    assert ("rendered/flux/s5-apps/extra.yaml", 6) in _found(result)
    assert any(f.rule == "rendered-drift" and f.path == "rendered/flux/s5-apps/extra.yaml" for f in result.findings)


# --------------------------------------------------------------------------- the text on the broken line


BREAKAGES = {
    # name: (the file's lines after the ConfigMap head, where {c} is the canary; the line reported:
    # the canary's, or for an unclosed quote the end of the file, "started on line 5" in the message)
    "unclosed-double-quote": ('  password: "{c}\n  other: x\n', 7),
    "unclosed-single-quote-in-a-flow-map": ("  auth: {{password: '{c}}}\n", 6),
    "mapping-value-on-the-canary-line": ("  password: {c} : x\n", 5),
    "tab-before-the-canary": ("  user: app\n\tpassword: {c}\n", 6),
    "undefined-alias-named-like-a-value": ("  password: *{c}\n", 5),
    "undefined-alias-after-a-redefined-anchor": ("  a: &x 1\n  b: &x 2\n  password: *{c}\n", 7),
    "duplicate-key-holding-the-canary": ("  password: {c}\n  password: {c}\n", 6),
    "canary-in-too-deep-a-list": ("  password: " + "[" * 120 + "{c}" + "]" * 120 + "\n", 5),
    "canary-in-a-huge-integer-line": ("  password: {c}\n  seed: " + "9" * 5000 + "\n", 6),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_the_text_on_the_broken_line_is_never_printed(tmp_path: Path, name: str) -> None:
    canary = _canary()
    body, line = BREAKAGES[name]
    _write(tmp_path, {"broken.yaml": CONFIGMAP_HEAD + body.format(c=canary), "pg.yaml": DATABASE_IN_S2})
    result = _lint(tmp_path)
    assert [path for path, _ in _found(result)] == ["broken.yaml"]
    assert _found(result)[0][1] == line
    assert any(f.rule == "layer-boundary" for f in result.findings), "the other file is still linted"
    for fmt, text in _reports(result).items():
        assert canary not in text and canary[4:16] not in text, fmt


# --------------------------------------------------------------------------- templates are not manifests


DEPLOYMENT_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
"""
# Valid YAML in a chart's templates/ is still a template (its values are rendered later).
SECRET_TEMPLATE = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  password: {canary}\n"


def test_a_helm_charts_templates_folder_is_skipped_with_one_note_per_chart(tmp_path: Path) -> None:
    canary = _canary()
    _write(
        tmp_path,
        {
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
            "charts/web/values.yaml": "replicaCount: 1\n",
            "charts/web/templates/deployment.yaml": DEPLOYMENT_TEMPLATE,
            "charts/web/templates/secret.yaml": SECRET_TEMPLATE.replace("{canary}", canary),
            "charts/web/charts/cache/Chart.yaml": "apiVersion: v2\nname: cache\nversion: 1.0.0\n",
            "charts/web/charts/cache/templates/sts.yaml": "{{- if .Values.enabled }}\nkind: StatefulSet\n{{- end }}\n",
            # A chart folder without templates/: nothing skipped, no note.
            "charts/crds-only/Chart.yaml": "apiVersion: v2\nname: crds-only\nversion: 1.0.0\n",
            # A templates/ folder outside any chart is read like any other.
            "kustomize/templates/broken.yaml": CONFIGMAP_HEAD + "  key: [unclosed\n",
            "pg.yaml": DATABASE_IN_S2,
        },
    )
    result = _lint(tmp_path)
    chart_notes = [note for note in result.notes if "a Helm chart" in note]
    assert chart_notes == [
        "charts/web: a Helm chart; its templates/ folder holds Go templates, not manifests: not linted",
        "charts/web/charts/cache: a Helm chart; its templates/ folder holds Go templates, not manifests: not linted",
    ]
    assert _found(result) == [("kustomize/templates/broken.yaml", 6)]
    assert not [f for f in result.findings if f.path.startswith("charts/")]
    assert any(f.rule == "layer-boundary" for f in result.findings)
    for text in _reports(result).values():
        assert canary not in text


def test_a_template_file_named_itself_is_a_note_not_a_finding(tmp_path: Path, run_rail: RunRail) -> None:
    _write(
        tmp_path, {"charts/web/Chart.yaml": "name: web\n", "charts/web/templates/deployment.yaml": DEPLOYMENT_TEMPLATE}
    )
    done = run_rail("lint", "charts/web/templates/deployment.yaml", cwd=tmp_path, env={"GITHUB_ACTIONS": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: charts/web/templates: 1 file(s) of template syntax" in done.stdout
    assert "yaml-syntax" not in done.stdout


def test_a_jinja_file_outside_a_chart_is_a_note_per_folder(tmp_path: Path) -> None:
    jinja = "apiVersion: v1\nkind: ConfigMap\ndata:\n{% for k, v in data.items() %}\n  {{ k }}: {{ v }}\n{% endfor %}\n"
    _write(tmp_path, {"ansible/templates/a.yaml": jinja, "ansible/templates/b.yaml": jinja})
    result = _lint(tmp_path)
    assert _found(result) == []
    assert "ansible/templates: 2 file(s) of template syntax ({{ }} or {% %}), not YAML: not linted" in result.notes


# --------------------------------------------------------------------------- odd input that used to end in exit 3


DEEP = {
    "flow-sequences": "[" * 20_000 + "]" * 20_000 + "\n",
    "flow-mappings": "{a: " * 20_000 + "x" + "}" * 20_000 + "\n",
    "compact-sequences": "- " * 100_000 + "x\n",
    "block-mappings": "".join(" " * depth + "a:\n" for depth in range(1_500)),
}


@pytest.mark.parametrize("shape", DEEP)
def test_deep_nesting_in_a_foreign_file_is_a_finding(tmp_path: Path, shape: str) -> None:
    _write(tmp_path, {"deep.yaml": DEEP[shape], "pg.yaml": DATABASE_IN_S2})
    result = _lint(tmp_path)
    deep = [f for f in result.findings if f.rule == "yaml-syntax"]
    assert [(f.path, f.message) for f in deep] == [("deep.yaml", "YAML nested deeper than 100 levels")]
    assert deep[0].line is not None and deep[0].location.column is not None
    assert any(f.rule == "layer-boundary" for f in result.findings)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("deep.yaml", "[" * 20_000 + "]" * 20_000 + "\n", "YAML nested deeper than 100 levels"),
        ("big.yaml", CONFIGMAP_HEAD + "  n: " + "9" * 5_000 + "\n", "an integer of 5000 digits"),
    ],
)
def test_deep_nesting_and_a_huge_integer_in_a_foreign_file_are_findings_not_exit_3(
    tmp_path: Path, run_rail: RunRail, name: str, text: str, message: str
) -> None:
    """Before: exit 3 (RecursionError; ValueError from Python's int max str digits)."""
    _write(tmp_path, {name: text})
    for fmt in ("text", "json"):
        done = run_rail("lint", ".", "--format", fmt, cwd=tmp_path, env={"GITHUB_ACTIONS": ""})
        assert done.returncode == 1, done.stdout + done.stderr
        assert done.stderr == "", done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert [(f["rule"], f["path"]) for f in findings] == [("yaml-syntax", name)]
    assert message in findings[0]["message"] and findings[0]["line"] is not None


# --------------------------------------------------------------------------- rail's own inputs stay exit 2


@pytest.mark.parametrize(
    ("relative", "addition", "message"),
    [
        ("releases/s3/valkey.yaml", "extra: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested deeper than 100"),
        ("releases/s3/valkey.yaml", "extra: " + "9" * 5_000 + "\n", "an integer of 5000 digits"),
        ("values/s3/postgresql-ha.yaml", "deep:\n  " + "- " * 30_000 + "x\n", "nested deeper than 100"),
        ("values/s3/postgresql-ha.yaml", "seed: 0x" + "f" * 5_000 + "\n", "an integer of 5000 digits"),
    ],
    ids=["spec-deep", "spec-integer", "values-deep", "values-hex-integer"],
)
@pytest.mark.parametrize("command", ["lint", "render"])
def test_deep_nesting_and_huge_integers_in_rail_inputs_are_exit_2_with_file_and_line(
    stack_copy: Path, run_rail: RunRail, relative: str, addition: str, message: str, command: str
) -> None:
    path = stack_copy / relative
    original = path.read_text(encoding="utf-8")
    path.write_text(original + addition, encoding="utf-8")
    at = len(original.splitlines()) + addition.count("\n")  # the addition's last line
    done = run_rail(command, cwd=stack_copy)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{relative}:{at}:" in done.stderr and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
