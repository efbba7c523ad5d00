"""Data events are diff rules: a stateful release renamed or removed, its namespace
pruned, a bundled database switched off, a volume's class or access modes changed.
Each fails without a migration record and passes with a record naming exactly that
change; a record naming another change accepts nothing and is a warning. Real git
repositories on the shipped stack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from gitstack import (
    build_stack,
    changes_of,
    clone,
    commit,
    diff_json,
    edit,
    finding_of,
    line_of,
    only,
    rail,
    render,
    rules_of,
    template,
)

PG = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"
VALKEY_SECRET = "secrets/s3/valkey-credentials.sops.yaml"
GITEA = "releases/s5/gitea.yaml"
ZULIP = "releases/s5/zulip.yaml"
BACKUP = "releases/s3/backup.yaml"
HOST_REF = "HOST: ${ref:postgresql-ha.database.address}"
CACHE_REF = "${ref:valkey.cache.address}"
DATA_RULES = {"stateful-relocation", "stateful-removed", "namespace-pruned", "subchart-disabled", "volume-class-change"}


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


def _append(repo: Path, relative: str, text: str) -> None:
    with (repo / relative).open("a", encoding="utf-8") as file:
        file.write(text)


def _accepted(report: dict[str, Any]) -> list[str]:
    return sorted(item["rule"] for item in report["accepted"])


def _errors(report: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for f in report["findings"] if f["severity"] == "error")


def _gitea_without(repo: Path, release: str) -> None:
    """Gitea no longer depends on ``release``: its dependsOn entry and references go."""
    edit(repo, GITEA, f"  - {release}\n", "")
    text = (repo / GITEA).read_text(encoding="utf-8")
    text = text.replace(HOST_REF, "HOST: db.example.com:5432").replace(CACHE_REF, "cache.example.com:6379")
    text = re.sub(r"dependsOn:\n(?!  - )", "", text)  # no dependency left
    (repo / GITEA).write_text(text, encoding="utf-8")


def _backup_without(repo: Path, release: str) -> None:
    """The platform backup no longer covers ``release`` (a backup names releases that exist)."""
    backup = (repo / BACKUP).read_text(encoding="utf-8")
    backup = re.sub(rf"  - release: {re.escape(release)}\n(    .*\n)*", "", backup)
    (repo / BACKUP).write_text(backup, encoding="utf-8")


def _others_without(repo: Path, release: str) -> None:
    """The shipped stack's other users of ``release`` let go of it too: the apps' claims,
    Zulip's references, and the platform backup's coverage (each names releases that must exist)."""
    for app in (GITEA, ZULIP):
        text = (repo / app).read_text(encoding="utf-8")
        for export, host, port in (("database", "db.example.com", "5432"), ("cache", "cache.example.com", "6379")):
            text = text.replace(f"${{ref:{release}.{export}.host}}", host)
            text = text.replace(f"${{ref:{release}.{export}.port}}", port)
        text = re.sub(rf"  (database|cache):\n    release: {re.escape(release)}\n(    .*\n)*", "", text)
        text = text.replace("needs:\nsecrets:", "secrets:")  # no claim left
        (repo / app).write_text(text, encoding="utf-8")
    if (repo / BACKUP).exists():
        _backup_without(repo, release)


def _rename_postgresql(repo: Path) -> None:
    (repo / PG).rename(repo / "releases/s3/pg-ha.yaml")
    edit(repo, "releases/s3/pg-ha.yaml", "\nname: postgresql-ha\n", "\nname: pg-ha\n")
    edit(repo, GITEA, "  - postgresql-ha\n", "  - pg-ha\n")
    edit(repo, GITEA, HOST_REF, "HOST: ${ref:pg-ha.database.address}")
    for relative in (GITEA, ZULIP, BACKUP):  # claims, references and coverage follow the new name
        text = (repo / relative).read_text(encoding="utf-8")
        text = text.replace("release: postgresql-ha\n", "release: pg-ha\n").replace(
            "${ref:postgresql-ha.", "${ref:pg-ha."
        )
        (repo / relative).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- rename


def test_a_renamed_stateful_release_is_one_renamed_change_and_an_error(stack: Path) -> None:
    _rename_postgresql(stack)
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    release = only(changes_of(report, "HelmRelease", "pg-ha"))
    assert release["change"] == "renamed"
    assert release["from"]["name"] == "postgresql-ha" and release["from"]["namespace"] == "platform"
    assert not changes_of(report, "HelmRelease", "postgresql-ha")
    assert report["summary"]["renamed"] == 2  # the HelmRelease and the Argo CD Application
    finding = finding_of(report, "stateful-relocation")  # Flux and Argo CD: one finding, at the spec
    assert (finding["path"], finding["line"]) == (
        "releases/s3/pg-ha.yaml",
        line_of(stack, "releases/s3/pg-ha.yaml", "name: pg-ha"),
    )
    assert finding["change"] == "renamed"
    assert "name postgresql-ha -> pg-ha" in finding["message"]
    assert "from: platform/postgresql-ha" in finding["hint"]
    assert "stateful-removed" not in rules_of(report)

    text = rail(stack, "diff", "--base", "main")
    assert "renamed HelmRelease platform/postgresql-ha -> platform/pg-ha" in text.stdout


def test_a_rename_recorded_exactly_passes_and_is_listed(stack: Path) -> None:
    _rename_postgresql(stack)
    _append(
        stack, "releases/s3/pg-ha.yaml", "migration:\n  from: platform/postgresql-ha\n  reason: pg_dumpall, OPS-31\n"
    )
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 0, report["findings"]
    assert _accepted(report) == ["stateful-relocation"]
    accepted = only(report["accepted"])
    assert accepted["reason"] == "pg_dumpall, OPS-31"
    assert accepted["record"]["path"] == "releases/s3/pg-ha.yaml"
    assert accepted["record"]["line"] == line_of(stack, "releases/s3/pg-ha.yaml", "migration:")
    text = rail(stack, "diff", "--base", "main")
    assert text.exit_code == 0
    assert "accepted: releases/s3/pg-ha.yaml" in text.stdout
    assert "migration recorded at releases/s3/pg-ha.yaml" in text.stdout and "pg_dumpall, OPS-31" in text.stdout


# --------------------------------------------------------------------------- removal


def _remove_postgresql(repo: Path) -> None:
    (repo / PG).unlink()
    _gitea_without(repo, "postgresql-ha")
    _others_without(repo, "postgresql-ha")


def test_a_removed_stateful_release_is_an_error(stack: Path) -> None:
    _remove_postgresql(stack)
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    finding = finding_of(report, "stateful-removed")
    assert finding["change"] == "removed"
    assert finding["path"] == PG  # the base spec: Flux and Argo CD give one finding
    assert "release: platform/postgresql-ha" in finding["hint"]
    assert "dependency-removed" not in rules_of(report)


def test_a_removal_recorded_in_rail_yaml_passes(stack: Path) -> None:
    _remove_postgresql(stack)
    _append(
        stack,
        "rail.yaml",
        "migrations:\n  - change: removed\n    release: platform/postgresql-ha\n"
        "    reason: pg_dumpall to the backup bucket, ticket OPS-9\n",
    )
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 0, report["findings"]
    assert _accepted(report) == ["stateful-removed"]
    assert only(report["accepted"])["record"]["path"] == "rail.yaml"


def test_a_removal_record_for_another_release_accepts_nothing(stack: Path) -> None:
    _remove_postgresql(stack)
    _append(
        stack,
        "rail.yaml",
        "migrations:\n  - change: removed\n    release: platform/valkey\n    reason: left from an earlier change\n",
    )
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert "stateful-removed" in _errors(report)
    stale = finding_of(report, "stale-migration")
    assert stale["severity"] == "warning"
    assert (stale["path"], stale["line"]) == ("rail.yaml", line_of(stack, "rail.yaml", "- change: removed"))
    assert report["accepted"] == []


def test_a_bad_migrations_entry_is_an_input_error_with_its_line(stack: Path) -> None:
    """A head whose rail.yaml breaks its schema does not load: its problem is an error
    finding at the entry's line (exit 1), as any head that does not load."""
    _append(stack, "rail.yaml", "migrations:\n  - change: removed\n    reason: no release named here\n")

    run = rail(stack, "diff", "--base", "main")

    assert run.exit_code == 1
    assert "note: head does not parse" in run.output
    assert f"rail.yaml:{line_of(stack, 'rail.yaml', '- change: removed')}: error" in run.output
    assert "release" in run.output
    assert "Traceback" not in run.output


# --------------------------------------------------------------------------- namespace pruned


def _empty_platform(repo: Path) -> None:
    """Every platform release goes (and Zulip, which uses all four): the namespace is empty."""
    for spec in ("releases/s3/backup.yaml", "releases/s3/rabbitmq.yaml", "releases/s3/memcached.yaml", ZULIP):
        (repo / spec).unlink()
    (repo / PG).unlink()
    (repo / VALKEY).unlink()
    _gitea_without(repo, "postgresql-ha")
    _gitea_without(repo, "valkey")
    text = (repo / GITEA).read_text(encoding="utf-8")
    text = re.sub(r"needs:\n(  .*\n|    .*\n)*", "", text)  # no claim left
    (repo / GITEA).write_text(text, encoding="utf-8")


def test_a_namespace_its_kustomization_prunes_is_an_error(stack: Path) -> None:
    _empty_platform(stack)
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    # One Namespace object (Flux and Argo CD render the same one), applied by a pruning root.
    pruned = finding_of(report, "namespace-pruned")
    assert pruned["path"] in (
        "rendered/flux/s2-cluster/namespace-platform.yaml",
        "rendered/argo/s2-cluster/namespace-platform.yaml",
    )
    assert pruned["object"] == {"kind": "Namespace", "namespace": None, "name": "platform"}
    assert "PersistentVolumeClaims" in pruned["message"] and "prunes" in pruned["message"]
    assert sorted(f["object"]["name"] for f in report["findings"] if f["rule"] == "stateful-removed") == [
        "memcached",
        "postgresql-ha",
        "rabbitmq",
        "valkey",
    ]


def test_a_pruned_namespace_recorded_with_its_releases_passes(stack: Path) -> None:
    _empty_platform(stack)
    _append(
        stack,
        "rail.yaml",
        "migrations:\n"
        "  - {change: removed, release: platform/postgresql-ha, reason: 'dumped into the new cluster, OPS-11'}\n"
        "  - {change: removed, release: platform/valkey, reason: 'cache only, rebuilt on start'}\n"
        "  - {change: removed, release: platform/rabbitmq, reason: 'queues drained first, OPS-11'}\n"
        "  - {change: removed, release: platform/memcached, reason: 'memory only, nothing to keep'}\n"
        "  - {change: namespace-removed, namespace: platform, reason: 'everything moved to the new cluster, OPS-11'}\n",
    )
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    # Left: export-changed warnings (other repositories may import these exports).
    assert code == 0, report["findings"]
    assert not _errors(report)
    assert _accepted(report) == ["namespace-pruned", *["stateful-removed"] * 4]


def test_a_namespace_record_names_the_namespace_exactly(stack: Path) -> None:
    _empty_platform(stack)
    _append(
        stack,
        "rail.yaml",
        "migrations:\n"
        "  - {change: removed, release: platform/postgresql-ha, reason: 'dumped into the new cluster, OPS-11'}\n"
        "  - {change: removed, release: platform/valkey, reason: 'cache only, rebuilt on start'}\n"
        "  - {change: removed, release: platform/rabbitmq, reason: 'queues drained first, OPS-11'}\n"
        "  - {change: removed, release: platform/memcached, reason: 'memory only, nothing to keep'}\n"
        "  - {change: namespace-removed, namespace: apps, reason: 'left from another change'}\n",
    )
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    assert _errors(report) == ["namespace-pruned"]
    assert "change: namespace-removed of apps" in finding_of(report, "stale-migration")["message"]


# --------------------------------------------------------------------------- bundled subchart switched off


def build_bundled_gitea(folder: Path) -> None:
    """The shipped stack, but Gitea runs its bundled PostgreSQL HA (base of the workplan's T02)."""
    build_stack(folder)
    edit(folder, GITEA, "  postgresql-ha:\n    enabled: false\n", "  postgresql-ha:\n    enabled: true\n")
    render(folder)
    commit(folder, "gitea with its bundled postgresql-ha")


@pytest.fixture
def bundled(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = clone(template("bundled-gitea", tmp_path_factory, build_bundled_gitea), tmp_path / "repo")
    edit(repo, GITEA, "  postgresql-ha:\n    enabled: true\n", "  postgresql-ha:\n    enabled: false\n")
    return repo


def test_switching_a_bundled_database_off_is_an_error(bundled: Path) -> None:
    render(bundled)

    code, report = diff_json(bundled, "--base", "main")

    assert code == 1
    finding = finding_of(report, "subchart-disabled")
    assert "'postgresql-ha'" in finding["message"] and "old volumes" in finding["message"]
    assert (finding["path"], finding["line"]) == (GITEA, line_of(bundled, GITEA, "enabled: false", "postgresql-ha:"))
    assert finding["object"]["name"] == "gitea"
    fixed = {f["rule"] for f in report["summary"]["lint_fixed"]}
    assert "subchart-coupling" in fixed


def test_switching_it_off_recorded_passes(bundled: Path) -> None:
    _append(bundled, GITEA, "migration:\n  change: subchart-disabled\n  reason: pg_dump from pgpool, restored, T02\n")
    render(bundled)

    code, report = diff_json(bundled, "--base", "main")

    assert code == 0, report["findings"]
    assert _accepted(report) == ["subchart-disabled"]


def test_a_subchart_record_does_not_accept_a_move(bundled: Path) -> None:
    """The record names the subchart switched off: it is not a move record too."""
    _append(bundled, GITEA, "migration:\n  from: flux-system/gitea\n  reason: pg_dump from pgpool, restored, T02\n")
    render(bundled)

    code, report = diff_json(bundled, "--base", "main")

    assert code == 1
    assert "subchart-disabled" in _errors(report)
    assert "from: flux-system/gitea" in finding_of(report, "stale-migration")["message"]


# --------------------------------------------------------------------------- volume class and access modes


def build_classed_stack(folder: Path) -> None:
    """The shipped stack with PostgreSQL's volumes on an explicit class and access mode."""
    build_stack(folder)
    edit(
        folder,
        PG,
        "  persistence:\n    enabled: true\n",
        "  persistence:\n    enabled: true\n    storageClass: longhorn\n    accessModes: [ReadWriteOnce]\n",
    )
    render(folder)
    commit(folder, "postgresql on longhorn")


@pytest.fixture
def classed(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("classed-stack", tmp_path_factory, build_classed_stack), tmp_path / "repo")


def test_a_storage_class_change_is_an_error(classed: Path) -> None:
    edit(classed, PG, "storageClass: longhorn", "storageClass: local-path")
    render(classed)

    code, report = diff_json(classed, "--base", "main")

    assert code == 1
    finding = finding_of(report, "volume-class-change")
    assert "persistence.storageClass longhorn -> local-path" in finding["message"]
    assert (finding["path"], finding["line"]) == (PG, line_of(classed, PG, "storageClass: local-path"))


def test_an_access_mode_change_is_an_error(classed: Path) -> None:
    edit(classed, PG, "accessModes: [ReadWriteOnce]", "accessModes: [ReadWriteMany]")
    render(classed)

    code, report = diff_json(classed, "--base", "main")

    assert code == 1
    finding = finding_of(report, "volume-class-change")
    assert "persistence.accessModes" in finding["message"] and "access modes" in finding["message"]


def test_volume_changes_recorded_by_kind_pass(classed: Path) -> None:
    edit(classed, PG, "storageClass: longhorn", "storageClass: local-path")
    edit(classed, PG, "accessModes: [ReadWriteOnce]", "accessModes: [ReadWriteMany]")
    _append(classed, PG, "migration:\n  change: [storage-class, access-modes]\n  reason: pv-migrate copy, OPS-5\n")
    render(classed)

    code, report = diff_json(classed, "--base", "main")

    assert code == 0, report["findings"]
    assert _accepted(report) == ["volume-class-change", "volume-class-change"]


def test_a_storage_class_record_does_not_accept_an_access_mode_change(classed: Path) -> None:
    edit(classed, PG, "accessModes: [ReadWriteOnce]", "accessModes: [ReadWriteMany]")
    _append(classed, PG, "migration:\n  change: storage-class\n  reason: pv-migrate copy, OPS-5\n")
    render(classed)

    code, report = diff_json(classed, "--base", "main")

    assert code == 1
    assert _errors(report) == ["volume-class-change"]
    assert "change: storage-class" in finding_of(report, "stale-migration")["message"]


PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  namespace: apps
{annotations}spec:
  storageClassName: {storage_class}
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"""


def test_a_plain_claim_changing_class_needs_the_annotations(tmp_path: Path) -> None:
    from gitstack import init, write

    repo = tmp_path / "manifests"
    write(repo, "apps/pvc.yaml", PVC.format(annotations="", storage_class="longhorn"))
    init(repo)
    write(repo, "apps/pvc.yaml", PVC.format(annotations="", storage_class="local-path"))

    code, report = diff_json(repo, "--base", "main")
    assert code == 1
    assert finding_of(report, "volume-class-change")["object"]["kind"] == "PersistentVolumeClaim"

    annotations = (
        "  annotations:\n    railiance.io/migration: copied with pv-migrate\n"
        "    railiance.io/migration-change: storage-class\n"
    )
    write(repo, "apps/pvc.yaml", PVC.format(annotations=annotations, storage_class="local-path"))
    code, report = diff_json(repo, "--base", "main")
    assert code == 0, report["findings"]
    assert _accepted(report) == ["volume-class-change"]


# --------------------------------------------------------------------------- dependency removed


def test_removing_valkey_while_gitea_depends_on_it_is_a_finding_in_every_format(stack: Path) -> None:
    (stack / VALKEY).unlink()  # gitea's spec still names it: render would refuse this head
    _backup_without(stack, "valkey")  # the backup was updated, the applications were not

    code, report = diff_json(stack, "--base", "main")

    assert code == 1
    finding = finding_of(report, "dependency-removed")
    assert finding["message"] == "release 'valkey' is removed but gitea, zulip still depend(s) on it"
    assert (finding["path"], finding["line"]) == (GITEA, line_of(stack, GITEA, "  - valkey"))
    for form in ("text", "markdown", "github", "sarif"):
        run = rail(stack, "diff", "--base", "main", "--format", form)
        assert run.exit_code == 1, (form, run.output)
        assert "dependency-removed" in run.stdout, form
        assert "Traceback" not in run.output


def test_removing_valkey_with_gitea_repointed_and_recorded_passes(stack: Path) -> None:
    (stack / VALKEY).unlink()
    _gitea_without(stack, "valkey")
    _others_without(stack, "valkey")
    _append(
        stack,
        "rail.yaml",
        "migrations:\n  - {change: removed, release: platform/valkey, reason: 'cache only, rebuilt on start'}\n",
    )
    render(stack)

    code, report = diff_json(stack, "--base", "main")

    assert code == 0, report["findings"]
    assert "dependency-removed" not in rules_of(report)
    assert _accepted(report) == ["stateful-removed"]


# --------------------------------------------------------------------------- stale records


def build_recorded_stack(folder: Path) -> None:
    """Valkey's spec still holds the record of an earlier move (from databases/valkey)."""
    build_stack(folder)
    with (folder / VALKEY).open("a", encoding="utf-8") as spec:
        spec.write("migration:\n  from: databases/valkey\n  reason: moved from databases, cache rebuilt\n")
    render(folder)
    commit(folder, "valkey moved to platform")


def test_a_stale_move_record_in_the_base_does_not_approve_the_next_move(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = clone(template("recorded-stack", tmp_path_factory, build_recorded_stack), tmp_path / "repo")
    edit(repo, VALKEY, "namespace: platform", "namespace: data")
    edit(repo, VALKEY_SECRET, "    namespace: platform", "    namespace: data")
    _backup_without(repo, "valkey")  # a backup runs in its releases' namespace
    render(repo)

    code, report = diff_json(repo, "--base", "main")

    assert code == 1
    assert finding_of(report, "stateful-relocation")["object"]["name"] == "valkey"
    stale = finding_of(report, "stale-migration")
    assert stale["severity"] == "warning"
    assert "from: databases/valkey" in stale["message"]
    assert (stale["path"], stale["line"]) == (VALKEY, line_of(repo, VALKEY, "migration:"))
    assert report["accepted"] == []

    # Naming this move exactly accepts it.
    edit(repo, VALKEY, "from: databases/valkey", "from: platform/valkey")
    render(repo)
    _, report = diff_json(repo, "--base", "main")
    assert "stateful-relocation" not in rules_of(report)
    assert "stale-migration" not in rules_of(report)
    assert _accepted(report) == ["stateful-relocation"]


def test_no_data_event_without_a_change(stack: Path) -> None:
    """The shipped stack against itself: no data rule fires, nothing is accepted."""
    code, report = diff_json(stack, "--base", "main")

    assert code == 0
    assert not DATA_RULES & set(rules_of(report))
    assert report["accepted"] == []
