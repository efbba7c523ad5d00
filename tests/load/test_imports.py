"""One stack across three repositories (issue 15): cluster (S2), platform (S3), apps (S5).

Real git repositories in a temporary folder, made from ``examples/multi-repo``; the
apps repository imports the platform by path and by git tag. Each broken case is
``rail lint``/``rail check`` run as a process: the right rule, and both repositories
named (the importing file and line, the imported stack's interface).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV, REPO_ROOT, rail

EXAMPLE = REPO_ROOT / "examples" / "multi-repo"
REPOSITORIES = ("cluster", "platform", "apps")
GITEA = "releases/s5/gitea.yaml"
PG = "releases/s3/postgresql-ha.yaml"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def init(repo: Path, message: str) -> None:
    git(repo, "init", "-q", "-b", "main")
    commit(repo, message)


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """The three repositories, committed; the platform tagged v1.0.0."""
    for name in REPOSITORIES:
        shutil.copytree(EXAMPLE / name, tmp_path / name)
        init(tmp_path / name, f"{name}: first")
    git(tmp_path / "platform", "tag", "v1.0.0")
    return tmp_path


def _json(done: Any) -> list[dict[str, Any]]:
    assert done.returncode in (0, 1), done.stderr
    return list(json.loads(done.stdout)["findings"])


def _rules(findings: list[dict[str, Any]]) -> set[str]:
    return {finding["rule"] for finding in findings}


def _set_import(apps: Path, entry: str) -> None:
    config = apps / "rail.yaml"
    text = config.read_text(encoding="utf-8").replace("    path: ../platform\n", entry)
    config.write_text(text, encoding="utf-8")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("by", ["path", "git"])
def test_the_three_repositories_render_lint_and_check_clean(stacks: Path, by: str) -> None:
    apps = stacks / "apps"
    if by == "git":
        _set_import(apps, "    git: ../platform\n    ref: v1.0.0\n")
        # The interface records where each import comes from: the change is drift until rendered.
        assert rail("render", "--check", cwd=apps).stdout.startswith("stale: rendered/interface.yaml")
        assert rail("render", cwd=apps).returncode == 0
        commit(apps, "apps: import the platform at v1.0.0")
    for name in REPOSITORIES:
        for command in (("render", "--check"), ("lint",), ("check",)):
            done = rail(*command, cwd=stacks / name)
            assert done.returncode == 0, f"{name}: rail {' '.join(command)}\n{done.stdout}{done.stderr}"
    # Flux refers across repositories by namespace and name.
    release = (apps / "rendered/flux/s5-apps/helmrelease-gitea.yaml").read_text()
    assert "dependsOn:\n    - name: postgresql-ha\n      namespace: platform\n" in release
    assert "HOST: postgresql-ha-pgpool.platform.svc.cluster.local:5432" in release
    layer = (apps / "rendered/flux/layers/kustomization-s2-cluster.yaml").read_text()
    assert "dependsOn:\n    - name: railiance-platform-s3-platform\n" in layer


def test_a_reference_to_an_export_the_platform_lacks(stacks: Path) -> None:
    apps = stacks / "apps"
    _edit(apps / GITEA, "platform/postgresql-ha.database.address", "platform/postgresql-ha.primary.address")
    findings = _json(rail("lint", "--format", "json", cwd=apps))
    dangling = [finding for finding in findings if finding["rule"] == "dangling-reference"]
    assert len(dangling) == 1, findings
    finding = dangling[0]
    assert finding["path"] == GITEA
    assert finding["line"] == _line_of(apps / GITEA, "postgresql-ha.primary.address")
    assert "stack 'railiance-apps'" in finding["message"]
    assert "stack 'railiance-platform' (../platform/rendered/interface.yaml)" in finding["message"]
    assert "export 'postgresql-ha.primary'" in finding["message"]
    # render has no value to write: exit 2, at the line, with the rule and both stacks.
    done = rail("render", cwd=apps)
    assert done.returncode == 2
    assert f"{GITEA}:{finding['line']}" in done.stderr
    assert "dangling-reference" in done.stderr and "../platform/rendered/interface.yaml" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_dependency_on_a_release_the_platform_lacks(stacks: Path) -> None:
    apps = stacks / "apps"
    _edit(apps / GITEA, "  - platform/valkey\n", "  - platform/redis\n")
    findings = _json(rail("lint", "--format", "json", cwd=apps))
    dangling = [finding for finding in findings if finding["rule"] == "dangling-reference"]
    assert [finding["line"] for finding in dangling] == [_line_of(apps / GITEA, "platform/redis")]
    assert "release 'redis'" in dangling[0]["message"] and "railiance-platform" in dangling[0]["message"]


def test_an_s3_release_depending_on_an_s5_one(stacks: Path) -> None:
    platform = stacks / "platform"
    _edit(
        platform / "rail.yaml",
        "imports:\n  - name: cluster\n    path: ../cluster\n",
        "imports:\n  - name: cluster\n    path: ../cluster\n  - name: apps\n    path: ../apps\n",
    )
    _edit(platform / PG, "ha: true\n", "ha: true\ndependsOn:\n  - apps/gitea\n")
    findings = _json(rail("check", "--format", "json", cwd=platform))
    upward = [finding for finding in findings if finding["rule"] == "layer-dependency"]
    assert len(upward) == 1, findings
    finding = upward[0]
    assert (finding["path"], finding["line"]) == (PG, _line_of(platform / PG, "apps/gitea"))
    assert "postgresql-ha (S3) in stack 'railiance-platform'" in finding["message"]
    assert "apps/gitea (S5) in stack 'railiance-apps' (../apps/rendered/interface.yaml)" in finding["message"]
    # Rendered anyway, as inside one stack: Flux waits across repositories.
    assert rail("render", cwd=platform).returncode == 0
    release = (platform / "rendered/flux/s3-platform/helmrelease-postgresql-ha.yaml").read_text()
    assert "dependsOn:\n    - name: gitea\n      namespace: apps\n" in release


def test_an_import_on_a_moving_branch(stacks: Path) -> None:
    apps = stacks / "apps"
    _set_import(apps, "    git: ../platform\n    ref: main\n")
    assert rail("render", cwd=apps).returncode == 0  # the interface records where imports come from
    done = rail("check", "--format", "json", cwd=apps)
    findings = _json(done)
    assert done.returncode == 1
    assert _rules(findings) == {"import-unpinned"}, findings
    finding = findings[0]
    assert (finding["path"], finding["line"]) == ("rail.yaml", _line_of(apps / "rail.yaml", "ref: main"))
    assert "'main' of ../platform" in finding["message"]
    assert "stack 'railiance-platform' (../platform@main:rendered/interface.yaml)" in finding["message"]
    # A commit id pins it as well as a tag. Quoted: an id of digits and one "e" is a
    # number to YAML (a flaky failure, one commit id in a few hundred, before it was).
    head = git(stacks / "platform", "rev-parse", "HEAD").strip()
    _edit(apps / "rail.yaml", "ref: main", f'ref: "{head[:12]}"')
    assert rail("render", cwd=apps).returncode == 0
    assert rail("check", cwd=apps).returncode == 0


def test_a_platform_change_renames_the_pgpool_service_under_a_consumer(stacks: Path) -> None:
    platform, apps = stacks / "platform", stacks / "apps"
    _set_import(apps, "    git: ../platform\n    ref: v1.0.0\n")
    assert rail("render", cwd=apps).returncode == 0
    commit(apps, "apps: import platform v1.0.0")
    # The platform renames its Helm release: the pgpool Service becomes pg-postgresql-ha-pgpool.
    _edit(platform / PG, "ha: true\n", "ha: true\nreleaseName: pg\n")
    assert rail("render", cwd=platform).returncode == 0
    commit(platform, "platform: release name pg")
    git(platform, "tag", "v1.1.0")
    assert "pg-postgresql-ha-pgpool" in (platform / "rendered/interface.yaml").read_text()
    # Still at v1.0.0: nothing changed for the apps.
    assert rail("check", cwd=apps).returncode == 0
    # The import moves to v1.1.0: each reference the new interface gives differently.
    _edit(apps / "rail.yaml", "ref: v1.0.0", "ref: v1.1.0")
    done = rail("check", "--format", "json", cwd=apps)
    findings = _json(done)
    assert done.returncode == 1
    changed = [finding for finding in findings if finding["rule"] == "import-changed"]
    assert [(finding["path"], finding["line"]) for finding in changed] == [
        (GITEA, _line_of(apps / GITEA, "platform/postgresql-ha.database.address"))
    ]
    message = changed[0]["message"]
    assert "is now pg-postgresql-ha-pgpool.platform.svc.cluster.local:5432" in message
    assert "stack 'railiance-platform' (../platform@v1.1.0:rendered/interface.yaml)" in message
    assert "stack 'railiance-apps' was rendered with postgresql-ha-pgpool.platform.svc.cluster.local:5432" in message
    assert "rendered-drift" in _rules(findings)
    # Re-rendered and committed: clean again, with the new host.
    assert rail("render", cwd=apps).returncode == 0
    assert rail("check", cwd=apps).returncode == 0
    assert (
        "HOST: pg-postgresql-ha-pgpool.platform" in (apps / "rendered/flux/s5-apps/helmrelease-gitea.yaml").read_text()
    )


def test_a_platform_change_that_removes_an_export_under_a_consumer(stacks: Path) -> None:
    platform, apps = stacks / "platform", stacks / "apps"
    _edit(platform / PG, "exports:\n  database:\n", "exports:\n  sql:\n")
    assert rail("render", cwd=platform).returncode == 0
    findings = _json(rail("check", "--format", "json", cwd=apps))
    dangling = [finding for finding in findings if finding["rule"] == "dangling-reference"]
    assert len(dangling) == 1 and dangling[0]["path"] == GITEA, findings
    assert "its exports of 'postgresql-ha': sql" in dangling[0]["message"] + dangling[0].get("hint", "")


@pytest.mark.parametrize(
    ("entry", "setup", "message"),
    [
        ("    path: ../nowhere\n", None, "folder '../nowhere' does not exist"),
        ("    git: ../platform\n    ref: v9.9.9\n", None, "'v9.9.9' is no commit, tag or branch of ../platform"),
        ("    git: https://git.example.com/platform.git\n    ref: v1.0.0\n", None, "local repositories only"),
        ("    path: ../platform\n", "no-interface", "no interface file ../platform/rendered/interface.yaml"),
        ("    path: ../platform\n", "traversal", "'../outside/interface.yaml' leaves that stack's repository"),
        ("    path: ../platform\n    ref: v1.0.0\n", None, "rail.yaml"),
    ],
    ids=["missing-path", "unknown-ref", "remote-url", "no-interface", "path-traversal", "ref-without-git"],
)
def test_bad_imports_are_exit_2_at_the_import(stacks: Path, entry: str, setup: str | None, message: str) -> None:
    apps, platform = stacks / "apps", stacks / "platform"
    _set_import(apps, entry)
    if setup == "no-interface":
        (platform / "rendered/interface.yaml").unlink()
    if setup == "traversal":
        _edit(platform / "rail.yaml", "output: rendered", "output: ../outside")
    for command in ("render", "lint", "check"):
        done = rail(command, cwd=apps)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr
        assert done.stderr.startswith("rail.yaml:"), done.stderr
        assert "Traceback" not in done.stderr


def test_an_unknown_import_name_in_a_reference_is_exit_2(stacks: Path) -> None:
    apps = stacks / "apps"
    _edit(apps / GITEA, "platform/postgresql-ha.database.address", "platfrom/postgresql-ha.database.address")
    done = rail("lint", cwd=apps)
    assert done.returncode == 2
    assert f"{GITEA}:{_line_of(apps / GITEA, 'platfrom/')}" in done.stderr
    assert "names import 'platfrom', which rail.yaml does not declare" in done.stderr


def test_the_shipped_example_is_rendered_and_committed() -> None:
    """examples/multi-repo is up to date: each of its stacks renders to what is committed."""
    for name in REPOSITORIES:
        done = rail("render", "--check", cwd=EXAMPLE / name)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"


def test_a_platform_without_consumers_is_untouched_by_imports(stacks: Path) -> None:
    """The cluster imports nothing: its Kustomization keeps the single-repository name."""
    layer = stacks / "cluster/rendered/flux/layers/kustomization-s2-cluster.yaml"
    assert "  name: s2-cluster\n" in layer.read_text()
    (stacks / "cluster" / "notes.txt").write_text("x", encoding="utf-8")
    assert rail("check", cwd=stacks / "cluster").returncode == 0


def test_rail_diff_in_the_platform_lists_exports_changed_or_gone(stacks: Path) -> None:
    platform = stacks / "platform"
    _edit(platform / PG, "ha: true\n", "ha: true\nreleaseName: pg\n")
    _edit(platform / "releases/s3/valkey.yaml", "exports:\n  cache:\n", "exports:\n  kv:\n")
    assert rail("render", cwd=platform).returncode == 0
    done = rail("diff", "--base", "v1.0.0", "--format", "json", cwd=platform)
    assert done.returncode == 1, done.stderr
    listed = [finding for finding in json.loads(done.stdout)["findings"] if finding["rule"] == "export-changed"]
    # Warnings: the consumers are elsewhere and fail there; the release move itself blocks.
    assert {finding["severity"] for finding in listed} == {"warning"}
    changed = sorted((finding["path"], finding["message"], finding["change"]) for finding in listed)
    assert changed == [
        (
            PG,
            "export postgresql-ha.database of stack 'railiance-platform' changes:"
            " service postgresql-ha-pgpool -> pg-postgresql-ha-pgpool;"
            " host postgresql-ha-pgpool.platform.svc.cluster.local"
            " -> pg-postgresql-ha-pgpool.platform.svc.cluster.local",
            "modified",
        ),
        (
            "releases/s3/valkey.yaml",
            "export valkey.cache of stack 'railiance-platform' is gone (the export is removed):"
            " stacks importing it break",
            "removed",
        ),
    ]
    # A change no export is made of: nothing listed.
    git(platform, "checkout", "-q", "--", ".")
    _edit(platform / PG, "replicaCount: 3", "replicaCount: 5")
    assert rail("render", cwd=platform).returncode == 0
    done = rail("diff", "--base", "v1.0.0", "--format", "json", cwd=platform)
    assert "export-changed" not in {finding["rule"] for finding in json.loads(done.stdout)["findings"]}


def test_rail_diff_in_the_apps_reads_its_imports_beside_the_real_repository(stacks: Path) -> None:
    """Each revision is read from a temporary copy: ../platform is still the sibling."""
    apps = stacks / "apps"
    _edit(apps / GITEA, "NAME: gitea", "NAME: forge")
    assert rail("render", cwd=apps).returncode == 0
    done = rail("diff", "--format", "json", cwd=apps)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["summary"]["modified"] >= 1
