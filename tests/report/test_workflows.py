"""The shipped CI workflows (``examples/workflows/``): parsed as YAML, each step that
matters found, and the ``rail diff`` step's own script run in a real git repository
the way the runner would run it (a pull request branch, ``origin/<base>``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from renderer.report.comment import MARKER

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diff"))  # the git repositories of the diff tests
from gitstack import build_stack, clone, edit, git, template

WORKFLOWS = Path(__file__).resolve().parents[2] / "examples" / "workflows"
GITHUB, GITEA = WORKFLOWS / "github-rail-diff.yml", WORKFLOWS / "gitea-rail-diff.yml"
PG = "releases/s3/postgresql-ha.yaml"


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _steps(path: Path) -> list[dict[str, Any]]:
    (job,) = _load(path)["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def _uses(steps: list[dict[str, Any]], action: str) -> dict[str, Any]:
    (step,) = [step for step in steps if str(step.get("uses", "")).startswith(action + "@")]
    return step


def _rail_step(steps: list[dict[str, Any]]) -> dict[str, Any]:
    (step,) = [step for step in steps if step.get("name") == "rail diff"]
    return step


@pytest.mark.parametrize("path", [GITHUB, GITEA], ids=["github", "gitea"])
def test_workflow_runs_rail_diff_on_pull_requests_with_full_history(path: Path) -> None:
    workflow = _load(path)
    steps = _steps(path)

    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    assert _uses(steps, "actions/checkout")["with"]["fetch-depth"] == 0
    step = _rail_step(steps)
    assert step["env"]["BASE_REF"] == "${{ github.base_ref }}"
    script = step["run"]
    assert 'rail diff --base "origin/$BASE_REF"' in script
    assert re.search(r"--format markdown --output rail-comment\.md", script)
    assert "--format github" in script  # annotations on the changed lines
    verdict = steps[-1]
    assert verdict["if"] == f"steps.{step['id']}.outputs.exit != '0'" and "exit 1" in verdict["run"]


def test_github_workflow_updates_one_comment_and_uploads_sarif() -> None:
    steps = _steps(GITHUB)
    permissions = _load(GITHUB)["permissions"]

    assert permissions["pull-requests"] == "write" and permissions["security-events"] == "write"
    script = _uses(steps, "actions/github-script")["with"]["script"]
    assert f"const marker = '{MARKER}';" in script
    assert "updateComment" in script and "createComment" in script and "github.paginate" in script
    assert "--format sarif --output rail.sarif" in _rail_step(steps)["run"]
    assert _uses(steps, "github/codeql-action/upload-sarif")["with"]["sarif_file"] == "rail.sarif"


def test_gitea_workflow_updates_one_comment_through_its_api() -> None:
    steps = _steps(GITEA)
    (comment,) = [step for step in steps if "curl" in str(step.get("run", ""))]

    assert comment["env"]["TOKEN"] == "${{ secrets.GITEA_TOKEN }}"
    script = comment["run"]
    assert f'startswith("{MARKER}")' in script
    assert '-X PATCH -H "$auth"' in script and '"$api/issues/comments/$id"' in script
    assert '-X POST -H "$auth"' in script and '"$api/issues/$NUMBER/comments"' in script
    assert "$GITHUB_SERVER_URL/api/v1/repos/$GITHUB_REPOSITORY" in script


@pytest.fixture
def pull_request(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone whose ``origin/main`` is the base branch and whose working tree shrinks a volume."""
    repo = clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    git(repo, "switch", "-q", "-c", "pr")
    edit(repo, PG, "size: 10Gi", "size: 8Gi")
    return repo


@pytest.mark.parametrize("path", [GITHUB, GITEA], ids=["github", "gitea"])
def test_the_rail_step_runs_as_the_runner_runs_it(path: Path, pull_request: Path, tmp_path: Path) -> None:
    step = _rail_step(_steps(path))
    output = tmp_path / "github-output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "BASE_REF": "main",
        "GITHUB_OUTPUT": str(output),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "example/stack",
        "GITHUB_SHA": "1" * 40,
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=pull_request, env=env, capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert output.read_text() == "exit=1\n"  # blocking: the verdict step fails the job
    assert "::error file=releases/s3/postgresql-ha.yaml,line=" in done.stdout
    comment = (pull_request / "rail-comment.md").read_text(encoding="utf-8")
    assert comment.startswith(MARKER + "\n")
    assert "](https://github.com/example/stack/blob/" + "1" * 40 + "/releases/s3/postgresql-ha.yaml#L" in comment
    if path == GITHUB:
        sarif = json.loads((pull_request / "rail.sarif").read_text(encoding="utf-8"))
        assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
