"""One symlink policy for ``rail render``, ``rail lint`` and ``rail diff``: a link that
stays inside the stack is followed by all three; one that leaves it is refused by all
three (render: exit 2; lint and diff: the finding symlink-escape), naming the link and
where it points, never what the target holds. The diff reads links from git objects
(mode 120000) and from the working tree alike."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from gitstack import build_stack, clone, commit, git, rail, rail_process, template, write

PG_VALUES = "values/s3/postgresql-ha.yaml"
LINKED_RENDERED = "rendered/flux/s3-platform/configmap-extra.yaml"
SPEC = """\
name: node-cache
layer: S3
namespace: platform
class: cache
chart: {source: bitnami, name: valkey, version: 4.0.2}
values:
  auth: {enabled: false}
"""
PASSWD_LINE = "root:x:0:0"  # how /etc/passwd begins: never in any output


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


def link(repo: Path, relative: str, target: str) -> None:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def escape_findings(report: dict[str, object], path: str) -> list[dict[str, object]]:
    return [f for f in report["findings"] if f["rule"] == "symlink-escape" and f["path"] == path]  # type: ignore[attr-defined, index]


def assert_refused_everywhere(repo: Path, relative: str, target: str, committed: bool) -> None:
    render = rail_process(repo, "render", "--check")
    lint = rail_process(repo, "lint", "--format", "json")
    diff = rail_process(repo, "diff", "--base", "main", "--format", "json")
    runs = [render, lint, diff]
    if committed:
        runs.append(rail_process(repo, "diff", "--base", "main", "--head", "pr", "--format", "json"))

    assert render.exit_code == 2, render.output
    assert f"{relative}: error: symlink to '{target}' leaves the repository" in render.stderr
    for run in runs[1:]:
        assert run.exit_code == 1, run.output
        (finding,) = escape_findings(run.json(), relative)
        assert target in finding["message"]  # type: ignore[operator]
        assert finding["severity"] == "error"
    for run in runs:
        assert "Traceback" not in run.output and "internal error" not in run.output
        assert PASSWD_LINE not in run.output
        assert "outside-secret" not in run.output


def test_a_spec_linked_outside_is_refused_by_all_three(stack: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", "node-cache.yaml", SPEC.replace("auth:", "# outside-secret\n  auth:"))
    git(stack, "switch", "-q", "-c", "pr")
    link(stack, "releases/s3/node-cache.yaml", str(outside))
    commit(stack, "a spec from elsewhere")

    assert_refused_everywhere(stack, "releases/s3/node-cache.yaml", str(outside), committed=True)
    report = rail(stack, "diff", "--base", "main", "--format", "json").json()
    assert all(change["object"]["name"] != "node-cache" for change in report["changes"])  # not followed


def test_a_relative_link_past_the_root_is_refused(stack: Path, tmp_path: Path) -> None:
    write(tmp_path / "outside", "node-cache.yaml", SPEC)
    git(stack, "switch", "-q", "-c", "pr")
    link(stack, "releases/s3/node-cache.yaml", "../../../outside/node-cache.yaml")
    commit(stack, "a spec from elsewhere")

    assert_refused_everywhere(stack, "releases/s3/node-cache.yaml", "../../../outside/node-cache.yaml", True)


def test_a_rendered_link_to_a_system_file_is_refused_and_never_read(stack: Path) -> None:
    git(stack, "switch", "-q", "-c", "pr")
    link(stack, LINKED_RENDERED, "/etc/passwd")
    commit(stack, "a link in rendered/")

    assert_refused_everywhere(stack, LINKED_RENDERED, "/etc/passwd", committed=True)


def test_a_values_link_inside_the_stack_is_followed_by_all_three(stack: Path) -> None:
    git(stack, "switch", "-q", "-c", "pr")
    (stack / "values/shared").mkdir()
    shutil.move(stack / PG_VALUES, stack / "values/shared/postgresql-ha.yaml")
    link(stack, PG_VALUES, "../shared/postgresql-ha.yaml")
    commit(stack, "values shared through a link")

    render = rail_process(stack, "render", "--check")
    lint = rail_process(stack, "lint")
    worktree = rail(stack, "diff", "--base", "main", "--format", "json")
    committed = rail(stack, "diff", "--base", "main", "--head", "pr", "--format", "json")

    assert render.exit_code == 0, render.output
    assert lint.exit_code == 0, lint.output
    for run in (worktree, committed):
        assert run.exit_code == 0, run.output
        assert run.json()["changes"] == []  # the same values, read through the link
        assert run.json()["findings"] == []


def test_an_absolute_link_inside_the_stack_is_followed(stack: Path) -> None:
    git(stack, "switch", "-q", "-c", "pr")
    (stack / "values/shared").mkdir()
    shutil.move(stack / PG_VALUES, stack / "values/shared/postgresql-ha.yaml")
    link(stack, PG_VALUES, str(stack.resolve() / "values/shared/postgresql-ha.yaml"))
    commit(stack, "values shared through an absolute link")

    committed = rail(stack, "diff", "--base", "main", "--head", "pr", "--format", "json")
    worktree = rail(stack, "diff", "--base", "main", "--format", "json")

    assert rail_process(stack, "render", "--check").exit_code == 0
    for run in (worktree, committed):
        assert run.exit_code == 0, run.output
        assert run.json()["changes"] == []


def test_a_values_link_out_of_the_stack_is_refused(stack: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "postgresql-ha.yaml"
    outside.parent.mkdir()
    shutil.move(stack / PG_VALUES, outside)
    link(stack, PG_VALUES, str(outside))

    render = rail_process(stack, "render", "--check")
    lint = rail_process(stack, "lint", "--format", "json")
    diff = rail_process(stack, "diff", "--base", "main", "--format", "json")

    assert render.exit_code == 2, render.output
    assert f"{PG_VALUES}: error: symlink to '{outside}'" in render.stderr
    for run in (lint, diff):
        assert run.exit_code == 1, run.output
        assert escape_findings(run.json(), PG_VALUES), run.output
