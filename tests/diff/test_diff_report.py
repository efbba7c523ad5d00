"""The reports of ``rail diff``: json (the findings contract plus ``changes``), github,
text, and markdown for a pull-request comment (one collapsible section per release,
a hard budget of 65,000 characters that cuts whole sections, never a finding)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gitstack import Run, build_stack, clone, commit, diff_json, edit, git, init, rail, template, write

from renderer.report.diff import MARKDOWN_BUDGET

PG = "releases/s3/postgresql-ha.yaml"
GITEA = "releases/s5/gitea.yaml"
RELEASES = 300  # half in apps (S5), half in platform (S3)

HELM_REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 10m
  url: https://charts.example.com/
"""


def _release(index: int, generation: int = 1, major: int = 1, size: str = "10Gi") -> str:
    namespace = "apps" if index % 2 else "platform"
    values = "".join(f"    setting{key:02d}: generation-{generation}-{'x' * 90}-{index}-{key}\n" for key in range(20))
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "kind: HelmRelease\n"
        f"metadata:\n  name: app-{index:03d}\n  namespace: {namespace}\n"
        "spec:\n  interval: 10m\n"
        f"  chart:\n    spec:\n      chart: application-with-a-long-chart-name-{index:03d}\n"
        f"      version: {major}.0.0\n"
        "      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}\n"
        f"  values:\n    persistence:\n      size: {size}\n{values}"
    )


def _write_all(folder: Path, generation: int = 1, major: int = 1, size: str = "10Gi") -> None:
    for index in range(RELEASES):
        write(folder, f"releases/app-{index:03d}.yaml", _release(index, generation, major, size))


def build_many(folder: Path) -> None:
    """Many releases on main; branch ``values`` changes every release's values, branch
    ``blocking`` bumps every chart's major version and shrinks every volume."""
    write(folder, "flux-system/helmrepository-charts.yaml", HELM_REPOSITORY)
    _write_all(folder)
    init(folder, "many releases")
    git(folder, "switch", "-q", "-c", "values")
    _write_all(folder, generation=2)
    commit(folder, "new values everywhere")
    git(folder, "switch", "-q", "-c", "blocking", "main")
    _write_all(folder, major=2, size="8Gi")
    commit(folder, "major bump and smaller volumes everywhere")
    git(folder, "switch", "-q", "main")


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The markdown report of each branch of the many-release repository (read-only, computed once)."""
    repo = template("many", tmp_path_factory, build_many)
    return {
        branch: rail(repo, "diff", "--base", "main", "--head", branch, "--format", "markdown")
        for branch in ("values", "blocking")
    }


def test_markdown_budget_cuts_whole_sections_and_says_how_many(many: dict[str, Run]) -> None:
    run = many["values"]

    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert len(text) <= MARKDOWN_BUDGET == 65_000
    opened, closed = text.count("<details>"), text.count("</details>")
    assert opened == closed > 0
    left_out = re.search(r"_(\d+) more release\(s\) or object\(s\) left out to stay within 65000 characters", text)
    assert left_out, text[-2000:]
    # Every release changed its own way: one section each.
    assert opened + int(left_out.group(1)) == RELEASES
    # Every section that is there is whole: all its field rows, then its closing tag.
    sections = re.findall(r"<details>.*?</details>", text, flags=re.DOTALL)
    assert len(sections) == opened
    for section in sections:
        assert section.count("| Flux | `values.setting") == 20
    assert "**Passes:** no finding." in text  # the verdict survives the cut


def test_markdown_counts_releases(many: dict[str, Run]) -> None:
    text = many["values"].stdout

    assert f"{RELEASES} release(s) or object(s) changed: {RELEASES} modified." in text


def test_markdown_budget_keeps_every_finding(many: dict[str, Run]) -> None:
    run = many["blocking"]

    assert run.exit_code == 1
    text = run.stdout
    assert len(text) <= MARKDOWN_BUDGET
    assert f"**Blocked:** {RELEASES} error(s), {RELEASES} warning(s)." in text
    rows = re.findall(r"^\| (error|warning) \| `([a-z-]+)` \| same finding in (\d+) releases: ([^|]*) \|", text, re.M)
    assert [(severity, rule, int(count)) for severity, rule, count, _ in rows] == [
        ("error", "persistence-shrink", RELEASES),
        ("warning", "chart-major-bump", RELEASES),
    ]
    for *_, names in rows:  # every release named
        assert sorted(names.split(", ")) == sorted(
            f"{'apps' if index % 2 else 'platform'}/app-{index:03d}" for index in range(RELEASES)
        )
    # The major bumps differ in the chart's name only: one row, the name shown as "…".
    assert "| chart … changes major version: 1.0.0 -&gt; 2.0.0 |" in text
    assert "left out" not in text.split("#### Data safety")[0]
    # And every release changed the same way: one section.
    assert text.count("<details>") == text.count("</details>") == 1
    assert f"same change in {RELEASES} releases, Flux" in text


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


def test_markdown_of_a_small_change(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    edit(stack, GITEA, "version: 12.4.0", "version: 13.0.0")

    run = rail(stack, "diff", "--base", "main", "--format", "markdown")

    assert run.exit_code == 1
    text = run.stdout
    # One section per release: its HelmRelease and Argo CD Application together.
    assert "2 release(s) or object(s) changed: 2 modified." in text
    assert "<details><summary>~ modified: platform/postgresql-ha (S3), Flux and Argo CD</summary>" in text
    assert "<details><summary>~ modified: apps/gitea (S5), Flux and Argo CD</summary>" in text
    assert '| Flux and Argo CD | `values.persistence.size` | `"10Gi"` | `"8Gi"` |' in text
    assert '| Flux and Argo CD | `chart version` | `"12.4.0"` | `"13.0.0"` |' in text
    assert "| error | `persistence-shrink` | platform/postgresql-ha |" in text
    assert "**Blocked:**" in text
    assert "left out" not in text


def test_json_findings_have_change_and_changes_list_objects(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert set(report) >= {"findings", "changes", "summary"}
    for finding in report["findings"]:
        assert {"rule", "severity", "message", "path", "line", "object", "change"} <= set(finding)
        assert finding["change"] in ("added", "removed", "modified", "moved")
        assert finding["severity"] in ("error", "warning")
    (change,) = [
        c for c in report["changes"] if c["object"]["name"] == "postgresql-ha" and c["object"]["kind"] == "HelmRelease"
    ]
    assert change["change"] == "modified"
    assert change["object"] == {
        "group": "helm.toolkit.fluxcd.io",
        "kind": "HelmRelease",
        "namespace": "platform",
        "name": "postgresql-ha",
    }
    assert change["layer"] == "S3"
    assert {"path": "spec.values.persistence.size", "old": "10Gi", "new": "8Gi", "redacted": False} in change["fields"]
    summary = report["summary"]
    assert summary["modified"] >= 1
    assert summary["errors"] >= 1
    assert summary["failed"] is True
    assert {"added", "removed", "moved", "unchanged", "noise_hidden", "lint_fixed", "lint_unchanged"} <= set(summary)


def test_github_annotations(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")

    run = rail(stack, "diff", "--base", "main", "--format", "github")

    assert run.exit_code == 1
    lines = [line for line in run.stdout.splitlines() if "persistence-shrink" in line]
    assert lines
    assert lines[0].startswith("::error ")
    assert f"file={PG}" in lines[0]


def test_sarif(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")

    run = rail(stack, "diff", "--base", "main", "--format", "sarif")

    assert run.exit_code == 1
    document = json.loads(run.stdout)
    assert document["version"] == "2.1.0"
    (result,) = [r for r in document["runs"][0]["results"] if r["ruleId"] == "persistence-shrink"]
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == PG
    assert location["region"]["startLine"] > 0
    described = {rule["id"] for rule in document["runs"][0]["tool"]["driver"]["rules"]}
    assert {"persistence-shrink", "stateful-relocation", "plaintext-secret"} <= described


def test_github_is_the_default_under_actions(stack: Path) -> None:
    from click.testing import CliRunner

    from renderer.cli import main

    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    result = CliRunner().invoke(main, ["diff", "--base", "main", "-C", str(stack)], env={"GITHUB_ACTIONS": "true"})

    assert result.exit_code == 1
    assert "::error " in result.stdout


def test_text_report_and_colour(stack: Path) -> None:
    from renderer.app import run_diff
    from renderer.lint.rule import LintOptions
    from renderer.report.diff import text

    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    outcome = run_diff(stack, "main", None, False, LintOptions())

    plain, coloured = text(outcome), text(outcome, colour=True)
    assert "~ modified HelmRelease platform/postgresql-ha [S3]" in plain
    assert '    spec.values.persistence.size: "10Gi" -> "8Gi"' in plain
    assert f"{PG}:" in plain and "error persistence-shrink" in plain
    assert "\x1b[" not in plain
    assert "\x1b[" in coloured


def test_several_formats_and_outputs_in_one_run(stack: Path, tmp_path: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    markdown, json_file = tmp_path / "comment.md", tmp_path / "diff.json"

    run = rail(
        stack,
        "diff",
        "--base",
        "main",
        "--format",
        "markdown",
        "--output",
        str(markdown),
        "--format",
        "json",
        "--output",
        str(json_file),
    )

    assert run.exit_code == 1
    assert run.stdout == ""
    assert markdown.read_text().startswith("<!-- rail-diff -->\n### rail diff")
    assert '"changes"' in json_file.read_text()
