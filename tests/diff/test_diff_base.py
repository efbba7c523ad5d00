"""What ``rail diff`` compares: the merge base of ``--base`` and the head, as a pull
request shows it (``A...B``, ``A..B``, ``--base-tip`` for the base's tip), both commits
named in every report; ``rail check --base`` alike; an unborn HEAD; --output."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitstack import (
    build_stack,
    clone,
    commit,
    diff_json,
    edit,
    git,
    rail,
    rail_process,
    render,
    rules_of,
    template,
    write,
)

PG = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


@pytest.fixture
def grown(stack: Path) -> dict[str, str]:
    """Branch ``pr`` grows PostgreSQL's volume; after the branch point, main grows Valkey 2Gi -> 4Gi.
    The pull request is checked out (the working tree is ``pr``)."""
    fork = git(stack, "rev-parse", "HEAD").strip()
    git(stack, "switch", "-q", "-c", "pr")
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)
    pr = commit(stack, "bigger database volume")
    git(stack, "switch", "-q", "main")
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    render(stack)
    main = commit(stack, "bigger cache volume")
    git(stack, "switch", "-q", "pr")
    return {"fork": fork, "pr": pr, "main": main}


def changed(report: dict[str, object]) -> set[str]:
    return {change["object"]["name"] for change in report["changes"]}  # type: ignore[attr-defined]


def test_the_base_is_the_merge_base(stack: Path, grown: dict[str, str]) -> None:
    code, report = diff_json(stack, "--base", "main")

    assert "persistence-shrink" not in rules_of(report)
    assert changed(report) == {"postgresql-ha"}
    assert report["summary"]["base_commit"] == grown["fork"]
    assert report["summary"]["merge_base"] is True
    assert report["summary"]["head_commit"] is None  # the working tree
    assert report["summary"]["head"] == f"the working tree on {grown['pr'][:12]}"
    assert code == 0, report["findings"]


def test_text_names_both_commits(stack: Path, grown: dict[str, str]) -> None:
    run = rail(stack, "diff", "--base", "main", "--head", "pr")

    first = run.stdout.splitlines()[0]
    assert first == f"rail diff main @ {grown['fork'][:12]} (merge base) .. pr @ {grown['pr'][:12]}"
    assert run.exit_code == 0, run.output


def test_base_tip_compares_with_the_tip(stack: Path, grown: dict[str, str]) -> None:
    code, report = diff_json(stack, "--base", "main", "--base-tip")

    assert "persistence-shrink" in rules_of(report)  # the old behaviour: main's growth reads as a shrink
    assert changed(report) == {"postgresql-ha", "valkey"}
    assert report["summary"]["base_commit"] == grown["main"]
    assert report["summary"]["merge_base"] is False
    assert code == 1


def test_three_dots(stack: Path, grown: dict[str, str]) -> None:
    git(stack, "switch", "-q", "main")  # the range names both sides: the checkout does not matter

    code, report = diff_json(stack, "--base", "main...pr")

    assert changed(report) == {"postgresql-ha"}
    assert "persistence-shrink" not in rules_of(report)
    assert report["summary"]["base_commit"] == grown["fork"]
    assert report["summary"]["head_commit"] == grown["pr"]
    assert code == 0


def test_two_dots(stack: Path, grown: dict[str, str]) -> None:
    git(stack, "switch", "-q", "main")

    code, report = diff_json(stack, "--base", "main..pr")

    assert "persistence-shrink" in rules_of(report)
    assert report["summary"]["base_commit"] == grown["main"]
    assert report["summary"]["head_commit"] == grown["pr"]
    assert code == 1


@pytest.mark.parametrize("extra", [["--head", "pr"], ["--staged"]])
def test_a_range_takes_no_head(stack: Path, grown: dict[str, str], extra: list[str]) -> None:
    run = rail_process(stack, "diff", "--base", "main...pr", *extra)

    assert run.exit_code == 2, run.output
    assert "main...pr" in run.stderr
    assert "Traceback" not in run.output


def test_check_uses_the_merge_base(stack: Path, grown: dict[str, str]) -> None:
    merged = rail_process(stack, "check", "--base", "main")
    tip = rail_process(stack, "check", "--base", "main", "--base-tip")

    assert merged.exit_code == 0, merged.output
    assert "persistence-shrink" not in merged.stdout
    assert tip.exit_code == 1, tip.output
    assert "persistence-shrink" in tip.stdout


def test_unrelated_histories(stack: Path, tmp_path: Path) -> None:
    git(stack, "switch", "-q", "--orphan", "other")
    write(stack, "README.md", "other\n")
    commit(stack, "unrelated")

    run = rail_process(stack, "diff", "--base", "main")

    assert run.exit_code == 2, run.output
    assert "no merge base" in run.stderr
    assert "--base-tip" in run.stderr


def test_unborn_head(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")
    git(repo, "checkout", "-q", "--orphan", "fresh")  # no commit yet; the files are still staged

    code, report = diff_json(repo)

    assert report["summary"]["base_commit"] is None
    assert report["summary"]["head"] == "the working tree (no commit yet)"
    assert report["changes"] and {change["change"] for change in report["changes"]} == {"added"}
    assert code in (0, 1)
    text = rail(repo, "diff").stdout.splitlines()[0]
    assert text == "rail diff HEAD (empty) .. the working tree (no commit yet)"


# A pull request that fixes what main broke ------------------------------------------------------------


def test_a_pull_request_fixing_invalid_yaml_on_main_passes(stack: Path) -> None:
    edit(stack, VALKEY, "architecture: standalone", "architecture: [standalone")
    commit(stack, "break valkey (main)")
    git(stack, "switch", "-q", "-c", "fix")
    edit(stack, VALKEY, "architecture: [standalone", "architecture: standalone")
    commit(stack, "fix valkey")

    code, report = diff_json(stack, "--base", "main")
    text = rail(stack, "diff", "--base", "main")

    assert code == 0, report
    notes = report["summary"]["notes"]
    assert any(note.startswith("base does not parse: new/fixed sorting unavailable") for note in notes), notes
    assert any(VALKEY in note for note in notes)
    assert any("diff rules skipped" in note for note in notes)
    assert "[standalone" not in text.output  # the file is named, never its content
    assert "note: base does not parse" in text.stdout
    assert text.exit_code == 0
    assert rail_process(stack, "check", "--base", "main").exit_code == 0


def test_broken_base_still_reports_the_heads_lint_findings(stack: Path) -> None:
    edit(stack, VALKEY, "architecture: standalone", "architecture: [standalone")
    commit(stack, "break valkey (main)")
    edit(stack, VALKEY, "architecture: [standalone", "architecture: standalone")
    write(
        stack,
        "releases/s2/node-cache.yaml",
        "name: node-cache\nlayer: S2\nnamespace: kube-system\nclass: cache\n"
        "chart: {source: bitnami, name: valkey, version: 4.0.2}\nvalues:\n  auth: {enabled: false}\n",
    )

    code, report = diff_json(stack, "--base", "main")

    assert "layer-boundary" in rules_of(report)  # a head finding, counted in full: no base to sort against
    assert code == 1


# --output --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["diff", "--base", "main"], ["lint"], ["check"]])
def test_output_into_a_missing_folder(stack: Path, tmp_path: Path, command: list[str]) -> None:
    target = tmp_path / "nonexistent" / "x.md"

    run = rail_process(stack, *command, "--format", "json", "--output", str(target))

    assert run.exit_code == 2, run.output
    assert str(target) in run.stderr
    assert "Traceback" not in run.output and "internal error" not in run.output
    assert not target.parent.exists()


def test_output_is_written_whole(stack: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")

    run = rail_process(stack, "diff", "--format", "json", "--output", str(target))

    assert run.exit_code == 0, run.output
    assert target.read_text(encoding="utf-8").startswith("{")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []
