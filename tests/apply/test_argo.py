"""The Argo CD apply model on ``tests/cases/argo/tree``, a small app-of-apps repository.

``bootstrap/root.yaml`` (applied by hand) reads ``apps/`` recursively, excluding
``*.disabled.yaml``; there: ``gitea`` (a chart from a Helm repository, its values in
``values/gitea.yaml`` through a multi-source ``$values`` reference), ``forge`` (a chart
folder of this repository with a value file turning its PostgreSQL on) and the
ApplicationSet ``platform`` (one Application per ``platform/*`` folder: ``cache`` a
plain directory, ``database`` a kustomization). ``other/`` is read by nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderer.apply.argo import ArgoApplied, apply_argo, git_remotes

TREE = Path(__file__).resolve().parent.parent / "cases" / "argo" / "tree"
URL = "https://git.example.com/team/fleet.git"


@pytest.fixture(scope="module")
def applied() -> ArgoApplied:
    return apply_argo(TREE, [URL])


def test_the_tree_is_followed_from_its_root(applied: ArgoApplied) -> None:
    parents = {app.name: app.parent for app in applied.applications}
    assert parents == {
        "root": None,
        "gitea": ("argocd", "root"),
        "forge": ("argocd", "root"),
        "platform-cache": ("argocd", "root"),
        "platform-database": ("argocd", "root"),
    }
    generated = {app.name: app.generated_by for app in applied.applications if app.generated_by}
    assert generated == {"platform-cache": ("argocd", "platform"), "platform-database": ("argocd", "platform")}


def test_what_each_source_builds(applied: ArgoApplied) -> None:
    built = {(o.kind, o.namespace, o.name): o.applied_by for o in applied.objects if o.kind == "ConfigMap"}
    # The plain directory's ConfigMap gets the destination namespace; the kustomization's keeps its own.
    assert built == {
        ("ConfigMap", "platform", "valkey-settings"): ("argocd", "platform-cache"),
        ("ConfigMap", "databases", "postgresql-settings"): ("argocd", "platform-database"),
    }
    assert "apps/old.disabled.yaml" not in applied.applied_files  # directory.exclude
    assert not any(path.startswith("other/") for path in applied.applied_files)
    assert not any("templates" in path for path in applied.applied_files)


def test_value_files_are_merged_where_argo_cd_merges_them(applied: ArgoApplied) -> None:
    gitea = next(o for o in applied.objects if o.kind == "Application" and o.name == "gitea")
    values = gitea.data["spec"]["sources"][0]["helm"]["valuesObject"]
    assert values["postgresql-ha"] == {"enabled": False}
    # Inline valuesObject keys win over the file's and stay located in the Application.
    assert values["gitea"] == {
        "admin": {"username": "gitea-admin", "password": "Tr0ub4dor-horse-battery-staple"},
        "config": {"server": {"DOMAIN": "git.example.com"}},
    }
    where = gitea.locate(("spec", "sources", 0, "helm", "valuesObject", "valkey", "enabled"))
    assert (where.path, where.line) == ("values/gitea.yaml", 9)
    forge = next(o for o in applied.objects if o.kind == "Application" and o.name == "forge")
    assert forge.data["spec"]["source"]["helm"]["valuesObject"] == {"postgresql": {"enabled": True}}
    where = forge.locate(("spec", "source", "helm", "valuesObject", "postgresql", "enabled"))
    assert (where.path, where.line) == ("charts/forge/values-prod.yaml", 3)
    # The written file is untouched: the merge is in the applied copy only.
    assert "valuesObject" not in (TREE / "apps" / "forge.yaml").read_text()


def test_sources_of_another_repository_are_not_read() -> None:
    applied = apply_argo(TREE, ["https://git.example.com/someone/else.git"])
    # Nothing reads apps/ then: each Application written there is a root of its own
    # (applied by hand, for all rail knows), and none of their sources is read.
    assert {app.name: (app.parent, app.files) for app in applied.applications} == {
        "root": (None, frozenset()),
        "gitea": (None, frozenset()),
        "forge": (None, frozenset()),
    }
    assert "repo-url" not in [note.feature for note in applied.notes]


def test_an_unknown_repository_url_is_assumed_where_the_path_exists_with_a_note(tmp_path: Path) -> None:
    copy = shutil.copytree(TREE, tmp_path / "repo")
    applied = apply_argo(copy)
    assert {app.name for app in applied.applications} >= {"root", "gitea", "forge"}
    assert [note.feature for note in applied.notes].count("repo-url") == 1


def test_git_remotes_are_read_from_the_git_folder(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@git.example.com:team/fleet.git\n'
    )
    assert git_remotes(tmp_path) == ("git@git.example.com:team/fleet.git",)
    (tmp_path / "clusters" / "prod").mkdir(parents=True)  # a folder inside the repository
    assert git_remotes(tmp_path / "clusters" / "prod") == ("git@git.example.com:team/fleet.git",)
    # A worktree's .git is a file naming <repository>/.git/worktrees/<name>.
    (tmp_path / ".git" / "worktrees" / "wt").mkdir(parents=True)
    worktree = tmp_path.parent / f"{tmp_path.name}-wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {tmp_path / '.git' / 'worktrees' / 'wt'}\n")
    assert git_remotes(worktree) == ("git@git.example.com:team/fleet.git",)


def test_a_path_leaving_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (repo / "app.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: escape, namespace: argocd}\n"
        f"spec:\n  source: {{repoURL: '{URL}', path: ../outside}}\n  destination: {{namespace: x}}\n"
    )
    applied = apply_argo(repo, [URL])
    assert [o.kind for o in applied.objects] == ["Application"]
    assert [note.feature for note in applied.notes] == ["path-traversal"]


ARGOCD_APPS_VALUES = """\
# Values of an umbrella chart over argo-cd and argocd-apps.
argo-cd:
  extraObjects:
    - apiVersion: argoproj.io/v1alpha1
      kind: Application
      metadata: {name: extra, namespace: argocd}
      spec:
        source:
          repoURL: https://charts.example.com
          chart: redis
          targetRevision: 20.1.0
        destination: {namespace: apps}
argocd-apps:
  applicationsets:
    umbrellas:
      namespace: argocd
      generators:
        - git:
            repoURL: https://git.example.com/team/fleet.git
            revision: main
            directories:
              - path: charts/*
      template:
        metadata:
          name: 'umbrella-{{path.basename}}'
        spec:
          project: default
          source:
            repoURL: https://git.example.com/team/fleet.git
            path: '{{path}}'
          destination: {namespace: apps}
"""


def test_applications_a_values_file_gives_the_argo_cd_charts_are_roots(tmp_path: Path) -> None:
    repo = shutil.copytree(TREE, tmp_path / "repo")
    (repo / "argocd").mkdir()
    (repo / "argocd" / "values.yaml").write_text(ARGOCD_APPS_VALUES)
    applied = apply_argo(repo, [URL])
    generated = {app.name: (app.source, app.generated_by) for app in applied.applications if app.generated_by}
    assert generated["umbrella-forge"] == ("argocd/values.yaml", ("argocd", "umbrellas"))
    assert "charts/forge" in applied.chart_folders
    extra = next(app for app in applied.applications if app.name == "extra")
    assert (extra.source, extra.line, extra.parent) == ("argocd/values.yaml", 4, None)
    umbrellas = next(o for o in applied.objects if o.kind == "ApplicationSet" and o.name == "umbrellas")
    where = umbrellas.locate(("spec", "generators", 0, "git", "directories", 0, "path"))
    assert (where.path, where.line) == ("argocd/values.yaml", 22)


PARAMETERS = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: forge-set, namespace: argocd}
spec:
  source:
    repoURL: https://git.example.com/team/fleet.git
    path: charts/forge
    helm:
      values: |
        postgresql:
          enabled: false
          auth: {database: forge}
      parameters:
        - name: postgresql.enabled
          value: "true"
        - name: image.tag
          value: "2"
          forceString: true
  destination: {namespace: apps}
"""


def test_values_and_parameters_are_given_as_helm_set_gives_them(tmp_path: Path) -> None:
    repo = shutil.copytree(TREE, tmp_path / "repo")
    (repo / "apps" / "forge-set.yaml").write_text(PARAMETERS)
    applied = apply_argo(repo, [URL])
    app = next(o for o in applied.objects if o.kind == "Application" and o.name == "forge-set")
    assert app.data["spec"]["source"]["helm"]["valuesObject"] == {
        "postgresql": {"enabled": True, "auth": {"database": "forge"}},
        "image": {"tag": "2"},
    }
    where = app.locate(("spec", "source", "helm", "valuesObject", "postgresql", "enabled"))
    assert (where.path, where.line) == ("apps/forge-set.yaml", 15)


def test_an_app_of_apps_chart_is_a_note_not_followed(tmp_path: Path) -> None:
    repo = shutil.copytree(TREE, tmp_path / "repo")
    templates = repo / "charts" / "forge" / "templates"
    (templates / "apps.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ .Values.name }}\n"
    )
    applied = apply_argo(repo, [URL])
    notes = [note for note in applied.notes if note.feature == "chart-app-of-apps"]
    assert [(note.file, note.line) for note in notes] == [("apps/forge.yaml", 11)]
