"""A spec whose dependsOn or ``${ref:...}`` names a release the stack does not have:
render refuses it (exit 2), lint reports it as ``dangling-reference`` at the spec's
line (exit 1), so ``rail lint`` and ``rail diff`` still say what else is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GITEA = "releases/s5/gitea.yaml"


def _line(stack: Path, needle: str) -> int:
    lines = (stack / GITEA).read_text(encoding="utf-8").splitlines()
    return next(index + 1 for index, line in enumerate(lines) if needle in line)


def test_lint_reports_a_dependency_on_a_missing_release(stack_copy: Path, run_rail: Any) -> None:
    (stack_copy / "releases/s3/valkey.yaml").unlink()

    done = run_rail("lint", "--format", "json", cwd=stack_copy)

    assert done.returncode == 1, done.stderr
    dangling = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "dangling-reference"]
    places = {(f["path"], f["line"]) for f in dangling}
    assert (GITEA, _line(stack_copy, "  - valkey")) in places
    assert (GITEA, _line(stack_copy, "GITEA__CACHE__HOST") + 1) in places  # the ${ref:valkey...} value
    gitea = [f for f in dangling if f["path"] == GITEA]
    assert gitea and all(f["object"] == {"kind": "HelmRelease", "namespace": "apps", "name": "gitea"} for f in gitea)
    # The other specs naming it load on too: the backup covering it, Zulip's references.
    assert {f["path"] for f in dangling} == {GITEA, "releases/s5/zulip.yaml", "releases/s3/backup.yaml"}
    assert "Traceback" not in done.stderr


def test_render_still_refuses_it(stack_copy: Path, run_rail: Any) -> None:
    (stack_copy / "releases/s3/valkey.yaml").unlink()

    done = run_rail("render", cwd=stack_copy)

    assert done.returncode == 2
    assert f"{GITEA}:{_line(stack_copy, '  - valkey')}" in done.stderr
    assert "dependsOn names release 'valkey', which does not exist" in done.stderr
