"""Backups: the one source of the backup commands, the restore steps and the
CronJobs' environment.

The CronJob runs :func:`backup_script` for its engine; ``docs/backup.md`` prints
:func:`restore_steps`; the real-server test runs the script taken from the
rendered CronJob and the restore steps taken from this module, and checks that
the generated document shows exactly those. Every command reads its settings
from the environment (never a literal credential): the CronJob gives the
credentials through ``secretKeyRef``; a person restoring sets the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import Backup, Coverage, Stack
from .references import Resolution

# Names the release a backup object covers, as namespace/name of its HelmRelease: what backup-coverage reads.
BACKS_UP = "railiance.io/backs-up"
REMOTE = "backup"  # the rclone remote, configured by RCLONE_CONFIG_BACKUP_* variables
_RCLONE_ENV = f"RCLONE_CONFIG_{REMOTE.upper()}_"
EXTENSIONS = {"postgresql": "sql.age", "valkey": "rdb.age"}

# Shared by both engines: the file name carries the UTC time, so names sort by age, and
# the upload goes to a .partial name first: a dump that fails half-way never looks
# like a backup, and retention removes the leftover.
_PREAMBLE = """set -euo pipefail
file="$BACKUP_REMOTE/$BACKUP_NAME-$(date -u +%Y%m%dT%H%M%SZ).{ext}"
"""
_UPLOAD = """ | age --encrypt --recipient "$AGE_RECIPIENT" | rclone rcat "$file.partial"
rclone moveto "$file.partial" "$file"
rclone delete --min-age "$BACKUP_RETENTION" "$BACKUP_REMOTE"
"""
_DUMPS = {
    # pg_dumpall: every database, role and grant, as SQL psql replays into an empty server.
    "postgresql": "pg_dumpall --no-password",
    # The RDB file a replica would receive (SYNC), streamed to stdout: valkey-cli or redis-cli.
    "valkey": 'cli="$(command -v valkey-cli || command -v redis-cli)"\n'
    '"$cli" --no-auth-warning -h "$VALKEY_HOST" -p "$VALKEY_PORT" --rdb -',
}


def backup_script(engine: str) -> str:
    """The shell script a backup CronJob of ``engine`` runs (bash)."""
    return _PREAMBLE.format(ext=EXTENSIONS[engine]) + _DUMPS[engine] + _UPLOAD


@dataclass(frozen=True)
class Step:
    """One restore step: what it does, and its command; a step without one is done in the
    cluster with kubectl (``action`` names it: the real-server test does its local
    equivalent to the test server, between the commands it runs as written)."""

    text: str
    command: str | None = None
    action: str = ""


_NEWEST = Step(
    "Pick the newest backup (names sort by their UTC time); set BACKUP_FILE to another name to restore an older one.",
    'BACKUP_FILE="${BACKUP_FILE:-$(rclone lsf --include \'*.age\' "$BACKUP_REMOTE" | sort | tail -n 1)}"',
)
_CLI = '"$(command -v valkey-cli || command -v redis-cli)" --no-auth-warning -h "$VALKEY_HOST" -p "$VALKEY_PORT"'


def restore_steps(engine: str) -> tuple[Step, ...]:
    """How to restore a backup of ``engine`` into a fresh server, step by step."""
    if engine == "postgresql":
        return (
            _NEWEST,
            Step(
                "Replay it into the fresh, empty server (PGHOST, PGPORT, PGUSER, PGPASSWORD point at it):"
                ' roles, databases and data. `role "postgres" already exists` is expected.',
                'rclone cat "$BACKUP_REMOTE/$BACKUP_FILE" | age --decrypt --identity "$AGE_IDENTITY"'
                " | psql -X --quiet --no-password -d postgres -o /dev/null",
            ),
        )
    return (
        _NEWEST,
        Step(
            "Stop Valkey (`kubectl scale statefulset` of its primary to 0) and mount its volume in a helper"
            " pod: RESTORE_DIR is that mount, the folder Valkey keeps `dump.rdb` in (`/data`).",
            action="stop",
        ),
        Step(
            "Decrypt the backup into it, as the file Valkey loads at start.",
            'rclone cat "$BACKUP_REMOTE/$BACKUP_FILE" | age --decrypt --identity "$AGE_IDENTITY"'
            ' > "$RESTORE_DIR/dump.rdb"',
        ),
        Step(
            "Remove the old append-only log: Valkey would load it instead of dump.rdb.",
            'rm -rf "$RESTORE_DIR/appendonlydir" "$RESTORE_DIR/appendonly.aof"',
        ),
        Step(
            "Start Valkey once with append-only off, so that it loads dump.rdb (with append-only on and"
            " no log it would start empty): for the Bitnami chart, add `--appendonly no` to"
            " `primary.extraFlags` in the release's values, commit, and let Flux roll it out.",
            action="start-without-aof",
        ),
        Step(
            "Turn append-only on while it runs: Valkey writes a new log from the restored data"
            " (VALKEY_HOST, VALKEY_PORT and REDISCLI_AUTH point at it; wait until"
            " `INFO persistence` shows `aof_rewrite_in_progress:0`).",
            f"{_CLI} CONFIG SET appendonly yes",
        ),
        Step(
            "Remove the extra flag again and let Flux roll Valkey out: it starts from the new log.",
            action="restart",
        ),
    )


def commands(engine: str) -> list[str]:
    """The restore steps' commands, in order: what the real-server test runs."""
    return [step.command for step in restore_steps(engine) if step.command is not None]


def rclone_env(backup: Backup) -> list[dict[str, Any]]:
    """The rclone remote ``backup:``, as environment variables (no config file)."""
    destination = backup.destination
    env: list[dict[str, Any]] = [{"name": f"{_RCLONE_ENV}TYPE", "value": destination.type}]
    secret = destination.secret_name

    def from_secret(name: str, key: str) -> dict[str, Any]:
        return {"name": f"{_RCLONE_ENV}{name}", "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

    if destination.type == "webdav":
        env.append({"name": f"{_RCLONE_ENV}URL", "value": destination.url})
        env.append({"name": f"{_RCLONE_ENV}VENDOR", "value": destination.vendor or "other"})
        env.append(from_secret("USER", "user"))
        env.append(from_secret("PASS", "password"))  # rclone reads it obscured: `rclone obscure`
    else:
        env.append({"name": f"{_RCLONE_ENV}PROVIDER", "value": destination.provider or "Other"})
        env.append({"name": f"{_RCLONE_ENV}ENDPOINT", "value": destination.endpoint})
        if destination.region:
            env.append({"name": f"{_RCLONE_ENV}REGION", "value": destination.region})
        env.append({"name": f"{_RCLONE_ENV}ENV_AUTH", "value": "false"})
        env.append(from_secret("ACCESS_KEY_ID", "access-key-id"))
        env.append(from_secret("SECRET_ACCESS_KEY", "secret-access-key"))
    return env


def remote_folder(backup: Backup, coverage: Coverage) -> str:
    return f"{REMOTE}:{backup.destination.path}/{coverage.folder}"


def container_env(backup: Backup, coverage: Coverage, resolution: Resolution) -> list[dict[str, Any]]:
    """The backup container's environment: connection, recipient, remote; passwords by reference."""
    endpoint = resolution.endpoints[(coverage.release, coverage.export)]
    password = {"secretKeyRef": {"name": endpoint.secret_name, "key": coverage.password_key}}
    env: list[dict[str, Any]]
    if coverage.engine == "postgresql":
        env = [
            {"name": "PGHOST", "value": endpoint.host},
            {"name": "PGPORT", "value": str(endpoint.port)},
            {"name": "PGUSER", "value": coverage.user},
            {"name": "PGPASSWORD", "valueFrom": password},
        ]
    else:
        env = [
            {"name": "VALKEY_HOST", "value": endpoint.host},
            {"name": "VALKEY_PORT", "value": str(endpoint.port)},
            # valkey-cli and redis-cli read the password from these, never from the command line.
            {"name": "REDISCLI_AUTH", "valueFrom": password},
            {"name": "VALKEYCLI_AUTH", "valueFrom": password},
        ]
    env += [
        {"name": "AGE_RECIPIENT", "value": backup.recipient},
        {"name": "BACKUP_NAME", "value": coverage.release},
        {"name": "BACKUP_REMOTE", "value": remote_folder(backup, coverage)},
        {"name": "BACKUP_RETENTION", "value": backup.retention},
    ]
    return env + rclone_env(backup)


def cronjob_context(
    stack: Stack, backup: Backup, coverage: Coverage, resolution: Resolution, labels: dict[str, str]
) -> dict[str, Any]:
    release = stack.release(coverage.release)
    assert release is not None, "Backup.from_data checked the release"
    return {
        "name": backup.cronjob_name(coverage),
        "namespace": backup.namespace,
        "labels": labels,
        "annotations": {BACKS_UP: f"{release.namespace}/{release.name}"},
        "schedule": backup.schedule,
        "time_zone": backup.time_zone,
        "image": backup.image,
        "script": backup_script(coverage.engine),
        "env": container_env(backup, coverage, resolution),
    }
