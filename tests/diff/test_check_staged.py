"""``rail check --staged``: the render check, lint and the staged diff in one process (the
``rail-check`` pre-commit hook), against the index only, in real git repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gitstack import build_stack, clone, edit, git, rail, rail_process, render, template

from renderer.cache.later import LOCK_NAME

PG = "releases/s3/postgresql-ha.yaml"


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


def _check(stack: Path, *args: str) -> tuple[int, dict[str, Any]]:
    run = rail(stack, "check", "--staged", "--format", "json", *args)
    assert run.exit_code in (0, 1), run.output
    return run.exit_code, run.json()


def _rules(report: dict[str, Any]) -> set[str]:
    return {finding["rule"] for finding in report["findings"]}


def test_a_clean_staged_change_passes(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)
    git(stack, "add", "-A")

    code, report = _check(stack)

    assert code == 0, report
    assert report["summary"]["errors"] == 0


def test_a_stale_staged_rendered_folder_fails_with_rendered_drift(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")  # not re-rendered
    git(stack, "add", "-A")

    code, report = _check(stack)

    assert code == 1
    assert "rendered-drift" in _rules(report)


def test_a_staged_volume_shrink_fails_with_persistence_shrink(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)
    git(stack, "add", "-A")

    code, report = _check(stack)

    assert code == 1
    assert _rules(report) == {"persistence-shrink"}
    assert all(finding["path"] == PG for finding in report["findings"])


def test_unstaged_edits_are_ignored(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)
    git(stack, "add", "-A")
    # After staging: a shrink and a stale rendered/ in the working tree only.
    edit(stack, PG, "size: 20Gi", "size: 1Gi")

    code, report = _check(stack)

    assert code == 0, report
    assert rail(stack, "check").exit_code == 1  # the working tree does fail: the test can tell


def test_staged_shrink_with_a_stale_render_reports_both(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")  # not re-rendered: the diff reads what the specs render
    git(stack, "add", "-A")

    code, report = _check(stack)

    assert code == 1
    assert {"rendered-drift", "persistence-shrink"} <= _rules(report)


@pytest.mark.parametrize("rendered", [True, False], ids=["rendered", "stale"])
def test_it_reports_what_the_three_single_commands_report_together(stack: Path, rendered: bool) -> None:
    """With the working tree as staged (pre-commit stashes the rest), `rail render --check`,
    `rail lint` and `rail diff --staged` together find what `rail check --staged` finds."""
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    edit(stack, "releases/s5/gitea.yaml", "  postgresql-ha:\n    enabled: false", "  postgresql-ha:\n    enabled: true")
    if rendered:
        render(stack)
    git(stack, "add", "-A")

    code, report = _check(stack)

    render_check = rail(stack, "render", "--check")
    lint = rail(stack, "lint", "--format", "json")
    diff = rail(stack, "diff", "--staged", "--format", "json")
    lint_findings = lint.json()["findings"]
    lint_rules = {finding["rule"] for finding in lint_findings}
    diff_findings = [finding for finding in diff.json()["findings"] if finding["rule"] not in lint_rules]
    diff_findings = [finding for finding in diff_findings if finding["rule"] != "subchart-coupling"]
    assert report["findings"] == lint_findings + diff_findings
    assert code == max(render_check.exit_code, lint.exit_code, diff.exit_code) == 1
    assert ("rendered-drift" in _rules(report)) == (render_check.exit_code == 1) == (not rendered)
    assert {"persistence-shrink", "subchart-enabled", "subchart-coupling"} <= _rules(report)


def test_as_a_process_it_exits_one_on_a_blocking_change_without_a_traceback(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)
    git(stack, "add", "-A")

    run = rail_process(stack, "check", "--staged")

    assert run.exit_code == 1, run.output
    assert "persistence-shrink" in run.stdout and "Traceback" not in run.output


def test_a_staged_file_that_does_not_load_is_a_finding(stack: Path) -> None:
    (stack / PG).write_text("name: [unclosed\n", encoding="utf-8")
    git(stack, "add", "-A")

    code, report = _check(stack)

    assert code == 1
    assert any(finding["path"] == PG and finding["rule"] == "yaml-syntax" for finding in report["findings"])


def test_staged_takes_no_range(stack: Path) -> None:
    run = rail(stack, "check", "--staged", "--base", "main..HEAD")
    assert run.exit_code == 2


def test_the_layer_graph_is_drawn_only_for_the_comment(stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.diff import engine

    drawn: list[int] = []
    real = engine.layer_graph
    monkeypatch.setattr(engine, "layer_graph", lambda *args: drawn.append(1) or real(*args))
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)
    git(stack, "add", "-A")

    _check(stack)
    assert rail(stack, "diff", "--base", "HEAD").exit_code == 0
    assert drawn == []  # a report without the comment never pays for the graph

    run = rail(stack, "diff", "--base", "HEAD", "--format", "markdown")
    assert run.exit_code == 0, run.output
    assert drawn == [1]  # drawn once, however often the comment asks
    assert "postgresql-ha" in run.stdout


def test_behind_the_hook_a_child_keeps_what_the_hook_would_keep_itself(stack: Path, tmp_path: Path) -> None:
    """rail's entry point leaves the kept sides and the run's records to a child
    (renderer.cache.later): the same report, and the same entries, as a run that
    writes them before it ends."""
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)
    git(stack, "add", "-A")
    reports, entries = {}, {}
    for behind in ("1", "0"):
        # A clone each: nothing of the other run (its kept folder of links in .git) is taken over.
        folder, repo = tmp_path / f"cache-{behind}", clone(stack, tmp_path / f"repo-{behind}")
        run = rail_process(
            repo, "check", "--staged", env_extra={"RAIL_CACHE_DIR": str(folder), "RAIL_CACHE_BACKGROUND": behind}
        )  # waits for the child, as the next rail run does (gitstack.rail_process)
        assert run.exit_code == 0, run.stderr
        reports[behind] = run
        entries[behind] = {
            path.relative_to(folder).as_posix(): path.stat().st_size
            for path in folder.rglob("*")
            if path.is_file() and path.name != LOCK_NAME
        }

    assert reports["1"] == reports["0"]
    assert entries["1"] == entries["0"]
    assert any("/snapshot/" in name for name in entries["1"])  # the index's side, kept behind the hook
    assert (tmp_path / "cache-1" / LOCK_NAME).exists() and not (tmp_path / "cache-0" / LOCK_NAME).exists()
