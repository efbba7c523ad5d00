"""A release moved between repositories is one change (renderer.diff.moves), and path
imports are read at the revision being diffed (issue 15).

Real git repositories in a temporary folder, made from ``examples/multi-repo``: the
cluster repository before the move deployed Gitea itself; the move removes its spec and
records where it went (``moved:`` with the apps repository's path), and the apps
repository renders it now.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, rail
from gitstack import commit, git

EXAMPLE = REPO_ROOT / "examples" / "multi-repo"
RECORD_PATH = "    path: ../apps  # where railiance-apps is checked out: rail diff shows the move as one change\n"
# Gitea as the cluster repository deployed it before the move: same namespace and name.
GITEA_BEFORE = """name: gitea
description: Gitea, before it moved to railiance-apps
layer: S5
namespace: apps
class: application
chart:
  source: gitea
  name: gitea
  version: 12.4.0
values:
  postgresql-ha:
    enabled: false
  valkey-cluster:
    enabled: false
  persistence:
    enabled: true
    size: 10Gi
"""
SOURCE = """sources:
  - name: gitea
    type: helm
    url: https://dl.gitea.com/charts/
"""


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _rendered(stack: Path) -> None:
    done = rail("render", cwd=stack)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def moved(tmp_path: Path) -> Path:
    """Three repositories; the cluster's history: Gitea deployed here, then moved to apps
    (the head commit). Returns the folder holding them."""
    for name in ("cluster", "platform", "apps"):
        shutil.copytree(EXAMPLE / name, tmp_path / name)
        git(tmp_path / name, "init", "-q", "-b", "main")
    for name in ("platform", "apps"):
        commit(tmp_path / name, f"{name}: first")
    cluster = tmp_path / "cluster"
    config = cluster / "rail.yaml"
    after = config.read_text(encoding="utf-8")
    start, end = after.index("moved:\n"), after.index("\n# The architecture's layers")
    config.write_text(after[:start] + after[end + 1 :].replace("sources:\n", SOURCE, 1), encoding="utf-8")
    (cluster / "releases/s5").mkdir(parents=True)
    (cluster / "releases/s5/gitea.yaml").write_text(GITEA_BEFORE, encoding="utf-8")
    _rendered(cluster)
    commit(cluster, "cluster: Gitea deployed here")
    (cluster / "releases/s5/gitea.yaml").unlink()
    config.write_text(after.replace("sources:\n", SOURCE, 1), encoding="utf-8")
    _rendered(cluster)
    commit(cluster, "cluster: Gitea moved to railiance-apps (T03)")
    return tmp_path


def _diff(cluster: Path) -> tuple[int, dict[str, Any]]:
    done = rail("diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json", cwd=cluster)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _gitea(report: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return sorted(
        (change["change"], change["object"]["kind"], change.get("stack"))
        for change in report["changes"]
        if change["object"]["name"] == "gitea" and change["object"]["kind"] in ("HelmRelease", "Application")
    )


def test_a_release_moved_to_another_repository_is_one_move(moved: Path) -> None:
    cluster = moved / "cluster"
    code, report = _diff(cluster)
    # Flux's HelmRelease and Argo CD's Application: each one move into railiance-apps, no removal.
    assert _gitea(report) == [("moved", "Application", "railiance-apps"), ("moved", "HelmRelease", "railiance-apps")]
    helmrelease = next(c for c in report["changes"] if c["object"]["kind"] == "HelmRelease")
    assert helmrelease["path"] == "../apps/rendered/flux/s5-apps/helmrelease-gitea.yaml"
    assert helmrelease["from"]["path"] == "rendered/flux/s5-apps/helmrelease-gitea.yaml"
    # Gitea keeps data: the handover is an error at the moved: record, naming both repositories.
    handover = [f for f in report["findings"] if f["rule"] == "stateful-relocation"]
    assert len(handover) == 1, handover
    line = next(
        n for n, text in enumerate((cluster / "rail.yaml").read_text().splitlines(), 1) if "- release: gitea" in text
    )
    assert (handover[0]["path"], handover[0]["line"]) == ("rail.yaml", line)
    assert "moves out of this repository (to railiance-apps)" in handover[0]["message"]
    assert code == 1
    text = rail("diff", "--base", "HEAD~1", "--head", "HEAD", cwd=cluster).stdout
    assert "moved HelmRelease apps/gitea -> apps/gitea (in railiance-apps, ../apps/rendered/flux/" in text


def test_a_recorded_handover_is_accepted(moved: Path) -> None:
    cluster = moved / "cluster"
    _edit(
        cluster / "rail.yaml",
        "moved:\n",
        "migrations:\n"
        "  - {change: moved-out, release: apps/gitea, reason: railiance-apps reconciled Gitea first (T03)}\n"
        "  - {change: namespace-removed, namespace: apps, reason: railiance-apps owns the namespace now (T03)}\n"
        "moved:\n",
    )
    _rendered(cluster)
    commit(cluster, "cluster: the handover recorded")
    done = rail("diff", "--base", "HEAD~2", "--head", "HEAD", "--format", "json", cwd=cluster)
    report = json.loads(done.stdout)
    assert [f["rule"] for f in report["findings"]] == [], report["findings"]
    assert "stateful-relocation" in {item["rule"] for item in report["accepted"]}
    assert done.returncode == 0


def test_a_record_that_does_not_say_where_leaves_a_removal_and_a_note(moved: Path) -> None:
    cluster = moved / "cluster"
    _edit(cluster / "rail.yaml", RECORD_PATH, "")
    _rendered(cluster)
    commit(cluster, "cluster: no path")
    done = rail("diff", "--base", "HEAD~2", "--head", "HEAD", "--format", "json", cwd=cluster)
    report = json.loads(done.stdout)
    assert _gitea(report) == [("removed", "Application", None), ("removed", "HelmRelease", None)]
    assert any("does not say where that stack is" in note for note in report["summary"]["notes"])
    assert "stateful-removed" in {f["rule"] for f in report["findings"]}


def test_a_destination_without_the_release_leaves_a_removal_and_a_note(moved: Path) -> None:
    cluster = moved / "cluster"
    _edit(cluster / "rail.yaml", RECORD_PATH, "    path: ../platform\n")
    _rendered(cluster)
    commit(cluster, "cluster: wrong destination")
    done = rail("diff", "--base", "HEAD~2", "--head", "HEAD", "--format", "json", cwd=cluster)
    report = json.loads(done.stdout)
    assert ("removed", "HelmRelease", None) in _gitea(report)
    assert any("../platform/ renders no counterpart" in note for note in report["summary"]["notes"])
    assert "stateful-removed" in {f["rule"] for f in report["findings"]}


def test_a_destination_read_from_git_at_a_ref(moved: Path) -> None:
    cluster = moved / "cluster"
    git(moved / "apps", "tag", "v2.0.0")
    _edit(cluster / "rail.yaml", RECORD_PATH, "    git: ../apps\n    ref: v2.0.0\n")
    _rendered(cluster)
    commit(cluster, "cluster: destination by tag")
    shutil.rmtree(moved / "apps" / "rendered")  # read from git objects, not the working tree
    done = rail("diff", "--base", "HEAD~2", "--head", "HEAD", "--format", "json", cwd=cluster)
    report = json.loads(done.stdout)
    assert _gitea(report) == [("moved", "Application", "railiance-apps"), ("moved", "HelmRelease", "railiance-apps")]


def test_path_imports_in_the_same_repository_are_read_at_the_base_revision(tmp_path: Path) -> None:
    """One repository holding the three stacks: a change to the platform's
    export shows in the apps' diff, since the base reads the platform as it was."""
    for name in ("cluster", "platform", "apps"):
        shutil.copytree(EXAMPLE / name, tmp_path / name)
    git(tmp_path, "init", "-q", "-b", "main")
    commit(tmp_path, "both stacks")
    platform, apps = tmp_path / "platform", tmp_path / "apps"
    _edit(platform / "releases/s3/postgresql-ha.yaml", "ha: true\n", "ha: true\nreleaseName: pg\n")
    _rendered(platform)
    _rendered(apps)
    done = rail("diff", "--format", "json", cwd=apps)
    report = json.loads(done.stdout)
    fields = [
        (field["old"], field["new"])
        for change in report["changes"]
        if change["object"]["name"] == "gitea" and change["object"]["kind"] == "HelmRelease"
        for field in change["fields"]
        if field["path"].endswith("config.database.HOST")
    ]
    assert fields == [
        (
            "postgresql-ha-pgpool.platform.svc.cluster.local:5432",
            "pg-postgresql-ha-pgpool.platform.svc.cluster.local:5432",
        )
    ], report["changes"]
