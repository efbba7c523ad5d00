"""The backup CronJobs as rendered: credentials only by reference, no plaintext on a
volume, the restore steps of docs/backup.md from the same source as the test runs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from renderer.load.stack import load_stack
from renderer.model import Destination
from renderer.render import backup as backup_commands

REPO = Path(__file__).resolve().parents[2]
CREDENTIAL = re.compile(r"PASS|AUTH|SECRET|ACCESS_KEY|TOKEN")


def cronjobs(root: Path) -> list[tuple[str, dict[str, Any]]]:
    yaml = YAML(typ="safe", pure=True)
    return [
        (path.relative_to(root).as_posix(), yaml.load(path.read_text(encoding="utf-8")))
        for path in sorted((root / "rendered").rglob("cronjob-*.yaml"))
    ]


def test_credentials_reach_the_cronjobs_only_by_secret_reference(rendered_stack: Path) -> None:
    found = cronjobs(rendered_stack)
    assert [path for path, _ in found] == [
        "rendered/argo/s3-platform/cronjob-backup-postgresql-ha.yaml",
        "rendered/argo/s3-platform/cronjob-backup-valkey.yaml",
        "rendered/flux/s3-platform/cronjob-backup-postgresql-ha.yaml",
        "rendered/flux/s3-platform/cronjob-backup-valkey.yaml",
    ]
    for path, cronjob in found:
        pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        login = {"RCLONE_CONFIG_BACKUP_USER", "RCLONE_CONFIG_BACKUP_PASS"}
        expected = login | ({"PGPASSWORD"} if "postgresql" in path else {"REDISCLI_AUTH", "VALKEYCLI_AUTH"})
        referenced = {item["name"] for item in container["env"] if "valueFrom" in item}
        assert referenced == expected, path
        for item in container["env"]:
            assert ("value" in item) != ("valueFrom" in item), (path, item["name"])
            if "valueFrom" in item:
                assert set(item["valueFrom"]) == {"secretKeyRef"}, (path, item["name"])
            assert not (CREDENTIAL.search(item["name"]) and "value" in item), (path, item["name"])
        # The dump flows through a pipe: the only volume is rclone's small scratch folder.
        assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
        script = container["command"][2]
        assert ">" not in script.replace("|", "")  # no redirection to a file
        assert "age --encrypt --recipient" in script and 'rclone rcat "$file.partial"' in script
        assert cronjob["metadata"]["labels"]["railiance.io/service-class"] == "backup"


def test_the_doc_shows_exactly_the_restore_commands(rendered_stack: Path) -> None:
    doc = (rendered_stack / "docs" / "backup.md").read_text(encoding="utf-8")
    for release, engine in (("postgresql-ha", "postgresql"), ("valkey", "valkey")):
        section = doc.split(f"### Restore `{release}`", 1)[1].split("\n#", 1)[0]
        shown = [block.strip() for block in re.findall(r"```sh\n(.*?)\n\s*```", section, flags=re.S)]
        assert shown == backup_commands.commands(engine)
        # Every step, with or without a command, in order.
        numbered = re.findall(r"^(\d+)\. ", section, flags=re.M)
        assert numbered == [str(n) for n in range(1, len(backup_commands.restore_steps(engine)) + 1)]
    for engine in ("postgresql", "valkey"):
        assert backup_commands.backup_script(engine).rstrip() in doc


def test_the_committed_doc_is_the_rendered_one(rendered_stack: Path) -> None:
    assert (REPO / "docs" / "backup.md").read_bytes() == (rendered_stack / "docs" / "backup.md").read_bytes()


@pytest.mark.parametrize("kind", ["s3", "webdav"])
def test_the_rclone_remote_takes_its_login_from_the_destination_secret(kind: str) -> None:
    backup = load_stack(REPO).stack.backups[0]
    destination = Destination(
        type=kind, path="bucket/platform", secret_name="dest", url="https://dav.example.com", endpoint="https://s3.x"
    )
    env = backup_commands.rclone_env(replace(backup, destination=destination))
    by_name = {item["name"]: item for item in env}
    assert by_name["RCLONE_CONFIG_BACKUP_TYPE"]["value"] == kind
    keys = {"s3": {"access-key-id", "secret-access-key"}, "webdav": {"user", "password"}}[kind]
    referenced = {item["valueFrom"]["secretKeyRef"]["key"] for item in env if "valueFrom" in item}
    assert referenced == keys
    assert all(item["valueFrom"]["secretKeyRef"]["name"] == "dest" for item in env if "valueFrom" in item)
