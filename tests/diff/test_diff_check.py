"""``rail check --base REV`` (render check + lint + diff, the one command for CI), and
lint findings sorted into new, fixed and unchanged: only new ones fail a diff."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitstack import build_stack, clone, commit, diff_json, edit, rail, rail_process, render, rules_of, template, write

PG = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"

# A cache in the cluster layer: a layer-boundary error the base already has.
S2_CACHE = """\
name: node-cache
layer: S2
namespace: kube-system
class: cache
chart: {source: bitnami, name: valkey, version: 4.0.2}
values:
  auth: {enabled: false}
"""


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


def test_check_blocks_a_blocking_change(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)

    run = rail_process(stack, "check", "--base", "main")

    assert run.exit_code == 1, run.output
    assert "persistence-shrink" in run.stdout
    assert f"{PG}:" in run.stdout
    assert "rendered-drift" not in run.stdout


def test_check_passes_a_clean_change(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)

    run = rail_process(stack, "check", "--base", "main")

    assert run.exit_code == 0, run.output


def test_check_runs_the_render_check(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")  # not re-rendered

    run = rail(stack, "check", "--base", "main")

    assert run.exit_code == 1
    assert "rendered-drift" in run.stdout


def test_check_json_carries_the_diff_findings(stack: Path) -> None:
    edit(stack, PG, "replicaCount: 3", "replicaCount: 1")
    render(stack)

    run = rail(stack, "check", "--base", "main", "--format", "json")

    assert run.exit_code == 1
    (finding,) = [f for f in run.json()["findings"] if f["rule"] == "ha-downgrade"]
    assert finding["change"] == "modified"
    assert finding["path"] == PG


def test_check_with_a_broken_base_is_exit_2(stack: Path) -> None:
    run = rail_process(stack, "check", "--base", "no-such-branch")

    assert run.exit_code == 2
    assert "no-such-branch" in run.stderr
    assert "Traceback" not in run.output


def test_check_without_base_is_lint_and_render_check_only(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)

    run = rail(stack, "check")

    assert run.exit_code == 0, run.output
    assert "persistence-shrink" not in run.stdout


def test_unchanged_lint_findings_do_not_fail_a_diff(stack: Path) -> None:
    write(stack, "releases/s2/node-cache.yaml", S2_CACHE)
    render(stack)
    commit(stack, "a cache in S2")
    # The same problem, on other lines; plus an allowed change elsewhere.
    write(stack, "releases/s2/node-cache.yaml", "# moved down by this comment\n\n" + S2_CACHE)
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert report["summary"]["lint_unchanged"] >= 1
    assert "layer-boundary" not in rules_of(report)
    assert code == 0, report["findings"]


def test_new_lint_findings_fail_a_diff_and_fixed_ones_are_listed(stack: Path) -> None:
    write(stack, "releases/s2/node-cache.yaml", S2_CACHE)
    render(stack)
    commit(stack, "a cache in S2")
    (stack / "releases/s2/node-cache.yaml").unlink()  # fixed
    edit(
        stack,
        "releases/s5/gitea.yaml",
        "        USER: gitea\n",
        "        USER: gitea\n        PASSWD: not-a-real-one\n",
    )

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert "plaintext-secret" in rules_of(report)
    (new,) = [f for f in report["findings"] if f["rule"] == "plaintext-secret"]
    assert new["change"] == "modified"
    assert "not-a-real-one" not in str(report)
    assert "layer-boundary" in {finding["rule"] for finding in report["summary"]["lint_fixed"]}
