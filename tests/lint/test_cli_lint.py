"""`rail lint`, `rail check` and `rail explain` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import DATABASE_IN_S2, RunRail


def test_shipped_stack_lints_clean(repo_root: Path, run_rail: RunRail) -> None:
    done = run_rail("lint", cwd=repo_root, env={"GITHUB_ACTIONS": "", "GITEA_ACTIONS": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s), 0 warning(s)" in done.stdout


def test_findings_exit_1_and_several_formats_go_to_their_files(tmp_path: Path, run_rail: RunRail) -> None:
    (tmp_path / "pg.yaml").write_text(DATABASE_IN_S2)
    out_json, out_sarif = tmp_path / "r.json", tmp_path / "r.sarif"
    done = run_rail(
        "lint",
        "pg.yaml",
        "--format",
        "json",
        "--output",
        str(out_json),
        "--format",
        "sarif",
        "--output",
        str(out_sarif),
        "--format",
        "text",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "pg.yaml:3:22: error layer-boundary" in done.stdout
    findings = json.loads(out_json.read_text())["findings"]
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [("layer-boundary", "pg.yaml", 3)]
    assert json.loads(out_sarif.read_text())["runs"][0]["results"][0]["ruleId"] == "layer-boundary"


def test_github_format_is_chosen_under_actions(tmp_path: Path, run_rail: RunRail) -> None:
    (tmp_path / "pg.yaml").write_text(DATABASE_IN_S2)
    for variable in ("GITHUB_ACTIONS", "GITEA_ACTIONS"):
        done = run_rail("lint", ".", cwd=tmp_path, env={"GITHUB_ACTIONS": "", "GITEA_ACTIONS": "", variable: "true"})
        assert done.stdout.startswith("::error file=pg.yaml,line=3,col=22,title=layer-boundary::"), done.stdout


def test_more_outputs_than_formats_is_a_usage_error(tmp_path: Path, run_rail: RunRail) -> None:
    (tmp_path / "pg.yaml").write_text(DATABASE_IN_S2)
    done = run_rail("lint", ".", "--output", "a", "--output", "b", cwd=tmp_path)
    assert done.returncode == 2 and "pair each --output" in done.stderr


def test_nothing_to_lint_is_exit_2_with_what_to_do(tmp_path: Path, run_rail: RunRail) -> None:
    done = run_rail("lint", cwd=tmp_path)
    assert done.returncode == 2
    assert "no rail.yaml" in done.stderr and "Traceback" not in done.stderr
    assert run_rail("lint", "missing-folder", cwd=tmp_path).returncode == 2


def test_unreadable_foreign_yaml_is_the_finding_yaml_syntax_not_exit_2(tmp_path: Path, run_rail: RunRail) -> None:
    """DESIGN.md: a foreign file that does not parse is the finding yaml-syntax, never a
    whole-repository exit 2 (rail's own inputs still are: tests/lint/rules/test_yaml_syntax.py)."""
    (tmp_path / "broken.yaml").write_text("a: [1, 2\nb: 3\n")
    done = run_rail("lint", ".", cwd=tmp_path, env={"GITHUB_ACTIONS": "", "GITEA_ACTIONS": ""})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "broken.yaml:2:2: error yaml-syntax YAML syntax error:" in done.stdout, done.stdout
    assert "started on line 1" in done.stdout and done.stderr == ""


def test_check_runs_drift_and_lint(stack_copy: Path, run_rail: RunRail) -> None:
    assert run_rail("check", cwd=stack_copy).returncode == 0
    spec = stack_copy / "releases/s3/valkey.yaml"
    spec.write_text(spec.read_text().replace("size: 2Gi", "size: 3Gi"))
    done = run_rail("check", cwd=stack_copy)
    assert done.returncode == 1 and "rendered-drift" in done.stdout


def test_explain_prints_the_rule_docs_and_refuses_unknown_rules(repo_root: Path, run_rail: RunRail) -> None:
    done = run_rail("explain", "layer-boundary", cwd=repo_root)
    assert done.returncode == 0 and "Fails" in done.stdout and "Passes" in done.stdout
    listing = run_rail("explain", cwd=repo_root)
    assert "subchart-coupling" in listing.stdout
    unknown = run_rail("explain", "layer-boundry", cwd=repo_root)
    assert unknown.returncode == 2 and "layer-boundary" in unknown.stderr
