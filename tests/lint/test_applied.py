"""`rail lint FOLDER` on a repository without rail.yaml lints what its Flux roots apply.

The fixture is ``tests/cases/flux/tree`` (copied, then changed where a test needs it):
one HelmRelease template with ``${APP}`` that two Flux Kustomizations apply, a parent
whose ``spec.patches`` give those Kustomizations their ``interval`` and ``prune``, and
an ``.archive/`` folder no root applies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import RunRail

TREE = Path(__file__).resolve().parents[1] / "cases" / "flux" / "tree"
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken\ndata: {}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = shutil.copytree(TREE, tmp_path / "repo")
    # The parent's patch supplies interval (and prune): the raw file lacks both.
    ks = copy / "apps" / "default" / "podinfo" / "ks.yaml"
    ks.write_text(ks.read_text().replace("  interval: 10m\n", ""))
    return copy


def _lint(run_rail: RunRail, folder: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = folder.parent / "report.json"
    done = run_rail("lint", folder.name, "--format", "json", "--output", str(out), *extra, cwd=folder.parent)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(out.read_text())


def _releases(report: dict[str, Any]) -> set[tuple[str | None, str]]:
    return {
        (f["object"]["namespace"], f["object"]["name"])
        for f in report["findings"]
        if f["object"] and f["object"]["kind"] == "HelmRelease"
    }


def test_one_template_is_linted_as_the_two_releases_flux_applies(repo: Path, run_rail: RunRail) -> None:
    # --exhaustive: without a rail.yaml, unassigned releases are otherwise one summary note.
    _, applied = _lint(run_rail, repo, "--exhaustive")
    _, raw = _lint(run_rail, repo, "--all-files", "--exhaustive")
    assert _releases(applied) == {("default", "podinfo"), ("web", "whoami")}
    assert (None, "${APP}") in _releases(raw)
    # The namespace came from the Kustomization's targetNamespace: the finding points there.
    whoami = next(f for f in applied["findings"] if f["rule"] == "layer-unassigned" and "whoami" in f["message"])
    assert whoami["path"] == "repo/apps/default/whoami/ks.yaml"


def test_a_field_a_parent_patch_supplies_is_not_missing(repo: Path, run_rail: RunRail) -> None:
    _, applied = _lint(run_rail, repo)
    _, raw = _lint(run_rail, repo, "--all-files")

    def missing(report: dict[str, Any]) -> set[str]:
        return {
            f["message"].rsplit("'", 2)[-2]
            for f in report["findings"]
            if f["rule"] == "crd-schema" and f["path"] == "repo/apps/default/podinfo/ks.yaml"
        }

    assert missing(raw) == {"interval", "prune"}
    assert missing(applied) == set()


def test_files_no_root_applies_are_one_note_per_folder(repo: Path, run_rail: RunRail) -> None:
    _, applied = _lint(run_rail, repo)
    _, raw = _lint(run_rail, repo, "--all-files")
    assert not [f for f in applied["findings"] if f["path"].startswith("repo/.archive/")]
    notes = [n for n in applied["summary"]["notes"] if n.startswith("repo/.archive/old:")]
    left_out = (
        "repo/.archive/old: 1 file(s) that no Flux Kustomization or Argo CD Application applies:"
        " not linted (--all-files lints them)"
    )
    assert notes == [left_out]
    assert [f for f in raw["findings"] if f["path"].startswith("repo/.archive/")]
    # The build's own notes, one line per feature.
    cycle = "Flux build, cycle: 1 note(s) in repo/loops/b/ks.yaml"
    assert any(n.startswith(cycle) for n in applied["summary"]["notes"])


def test_a_broken_file_is_an_error_only_where_flux_applies_it(repo: Path, run_rail: RunRail) -> None:
    (repo / ".archive" / "broken.yaml").write_text(BROKEN)
    (repo / "apps" / "default" / "broken.yaml").write_text(BROKEN)
    listing = repo / "apps" / "default" / "kustomization.yaml"
    listing.write_text(listing.read_text() + "  - ./broken.yaml\n")
    code, applied = _lint(run_rail, repo)
    _, raw = _lint(run_rail, repo, "--all-files")
    syntax = [f["path"] for f in applied["findings"] if f["rule"] == "yaml-syntax"]
    assert code == 1 and syntax == ["repo/apps/default/broken.yaml"]
    assert any(n.startswith("repo/.archive: 1 file(s) that do not read as YAML") for n in applied["summary"]["notes"])
    assert sorted(f["path"] for f in raw["findings"] if f["rule"] == "yaml-syntax") == [
        "repo/.archive/broken.yaml",
        "repo/apps/default/broken.yaml",
    ]


def test_without_flux_roots_nothing_changes(tmp_path: Path, run_rail: RunRail) -> None:
    folder = tmp_path / "plain"
    shutil.copytree(TREE / "templates", folder)
    _, default = _lint(run_rail, folder)
    _, every = _lint(run_rail, folder, "--all-files")
    assert default == every
    assert default["findings"]


def test_the_real_repositories_lint(shared_dir: Path, tmp_path: Path, run_rail: RunRail) -> None:
    corpus = shared_dir / "corpus-train"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} is missing: the real repositories are not beside this checkout")
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        for extra in ((), ("--all-files",)):
            out = tmp_path / f"{repo.name}.json"
            done = run_rail("lint", str(repo), "--format", "json", "--output", str(out), *extra, cwd=tmp_path)
            assert done.returncode in (0, 1), f"{repo.name} {extra}: {done.stderr[-2000:]}"
            report = json.loads(out.read_text())
            assert set(report) >= {"findings", "summary"}, repo.name


LAYERED = Path(__file__).resolve().parents[1] / "cases" / "flux" / "layered"
TEAM_STACK = """\
version: 1
name: team
flux: {gitRepository: fleet}
layers:
  - {id: S2, name: cluster, kustomizations: [flux-system], owns: [cluster-runtime]}
  - {id: S3, name: platform, kustomizations: ["infra-*"], owns: [database, cache]}
  - {id: S5, name: apps, kustomizations: [apps], owns: [application]}
"""


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    return shutil.copytree(LAYERED, tmp_path / "repo")


def test_a_finding_names_the_kustomization_that_applies_its_object(layered: Path, run_rail: RunRail) -> None:
    _, report = _lint(run_rail, layered, "--exhaustive")
    postgresql = next(f for f in report["findings"] if f["object"] and f["object"]["name"] == "postgresql")
    assert {"path": "repo/clusters/prod/infrastructure.yaml", "line": 1, "column": None} in postgresql["related"]
    done = run_rail("lint", "repo", "--exhaustive", cwd=layered.parent)
    assert "  see: repo/clusters/prod/infrastructure.yaml:1" in done.stdout


def test_a_stack_lints_a_named_folder_as_its_own_flux_source_applies_it(layered: Path, run_rail: RunRail) -> None:
    # rail.yaml names the GitRepository the cluster is bootstrapped from: only Kustomizations
    # sourced from it are roots. Renamed in the tree too, the layers come from the appliers.
    for path in (layered / "clusters" / "prod").rglob("*.yaml"):
        path.write_text(path.read_text().replace("name: flux-system\n", "name: fleet\n"))
    # The tree has no backups: backup-coverage is not what this test is about.
    (layered / "rail.yaml").write_text(
        TEAM_STACK.replace("[flux-system]", "[fleet]") + "lint:\n  rules:\n    backup-coverage: off\n"
    )
    done = run_rail("lint", "--format", "json", cwd=layered)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [f for f in report["findings"] if f["rule"].startswith("layer-")] == []
    # As written, nothing places the releases: each is unassigned.
    done = run_rail("lint", "--all-files", "--format", "json", ".", cwd=layered)
    unassigned = {f["object"]["name"] for f in json.loads(done.stdout)["findings"] if f["rule"] == "layer-unassigned"}
    assert unassigned == {"gitea", "postgresql"}
    # Another source name: no root, so every file is read as written (and unassigned) again.
    (layered / "rail.yaml").write_text(TEAM_STACK.replace("fleet", "elsewhere"))
    done = run_rail("lint", "--format", "json", cwd=layered)
    unassigned = {f["object"]["name"] for f in json.loads(done.stdout)["findings"] if f["rule"] == "layer-unassigned"}
    assert unassigned == {"gitea", "postgresql"}
