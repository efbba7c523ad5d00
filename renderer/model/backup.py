"""Backups: a spec of its own kind (``kind: Backup``) in the layer that owns backups (S3).

A backup covers named stateful releases of the stack. Each covered release gets
one CronJob that streams the service's own export (``pg_dumpall``, an RDB file
from ``valkey-cli --rdb``) through ``age`` to the recipient and ``rclone rcat``
to the destination: nothing leaves the pod unencrypted, nothing plaintext is
written to a volume. The recipient is a public key; the destination's
credentials are keys of a SOPS Secret the spec lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, ProblemCollector
from ..yamlio import Document
from .stack import Release, StackConfig

BACKUP_KIND = "Backup"

# The engine of a chart: which dump tool backs it up. Keys are chart names.
ENGINES: Mapping[str, str] = {
    "postgresql-ha": "postgresql",
    "postgresql": "postgresql",
    "valkey": "valkey",
    "valkey-cluster": "valkey",
    "redis": "valkey",
}
# The key of the release's credentials Secret holding the password the dump logs in with.
DEFAULT_PASSWORD_KEYS: Mapping[str, str] = {"postgresql": "postgres-password", "valkey": "valkey-password"}
DEFAULT_USERS: Mapping[str, str] = {"postgresql": "postgres", "valkey": ""}
# The keys the destination's Secret must hold, by destination type.
DESTINATION_KEYS: Mapping[str, tuple[str, ...]] = {
    "s3": ("access-key-id", "secret-access-key"),
    "webdav": ("user", "password"),
}
CRONJOB_NAME_MAX = 52  # Kubernetes: a CronJob's name leaves room for the Job's suffix


@dataclass(frozen=True)
class Destination:
    type: str  # "s3" or "webdav"
    path: str  # bucket/prefix (s3) or folder (webdav)
    secret_name: str
    url: str = ""  # webdav
    vendor: str = ""  # webdav: nextcloud, owncloud, other
    provider: str = ""  # s3: AWS, Minio, Ceph, Other ...
    endpoint: str = ""  # s3
    region: str = ""  # s3


@dataclass(frozen=True)
class Coverage:
    """One covered release: what the CronJob dumps, and how it logs in."""

    release: str
    engine: str
    export: str
    user: str
    password_key: str

    @property
    def folder(self) -> str:
        """The release's folder under the destination path: one per release."""
        return self.release


@dataclass(frozen=True)
class Backup:
    name: str
    layer: str
    namespace: str
    origin: str
    schedule: str
    retention: str  # an rclone duration, e.g. 14d
    recipient: str  # an age public key: not a secret
    image: str
    destination: Destination
    covers: tuple[Coverage, ...]
    secrets: tuple[str, ...] = ()
    description: str = ""
    time_zone: str = ""

    def cronjob_name(self, coverage: Coverage) -> str:
        return f"{self.name}-{coverage.release}"

    @classmethod
    def from_data(
        cls,
        data: Mapping[str, Any],
        document: Document,
        config: StackConfig,
        releases: Mapping[str, Release],
        missing: list[tuple[str, Problem]] | None = None,
    ) -> Backup:
        """``releases``: the stack's releases by name, to check what the backup covers.
        ``missing`` (lint and diff): a covered release that does not exist is left out and
        listed there, (its name, the problem), instead of stopping the load."""
        problems = ProblemCollector()
        if config.layer(data["layer"]) is None:
            known = ", ".join(item.id for item in config.layers)
            problems.add(
                document.problem(
                    ("layer",), f"unknown layer '{data['layer']}'", f"use one of the stack's layers: {known}"
                )
            )
        covers: list[Coverage] = []
        seen: set[str] = set()
        for index, item in enumerate(data["covers"]):
            name = item["release"]
            if name in seen:
                problems.add(document.problem(("covers", index), f"release '{name}' is covered twice", "list it once"))
                continue
            seen.add(name)
            release = releases.get(name)
            if release is None:
                problem = document.problem(
                    ("covers", index, "release"),
                    f"release '{name}' does not exist",
                    "name a database or cache release of this stack",
                )
                if missing is not None:
                    missing.append((name, problem))
                else:
                    problems.add(problem)
                continue
            engine = item.get("engine") or ENGINES.get(release.chart.name)
            if engine is None:
                problems.add(
                    document.problem(
                        ("covers", index, "release"),
                        f"rail does not know how to back up chart '{release.chart.name}'",
                        "set engine: postgresql or valkey if the release speaks one of them",
                    )
                )
                continue
            if release.namespace != data["namespace"]:
                problems.add(
                    document.problem(
                        ("covers", index, "release"),
                        f"release '{name}' is in namespace '{release.namespace}', the backup in '{data['namespace']}'",
                        "a backup pod reads the release's credentials Secret: put the backup in its namespace",
                    )
                )
            export_name = item.get("export") or (release.exports[0].name if release.exports else "")
            export = release.export(export_name) if export_name else None
            if export is None:
                problems.add(
                    document.problem(
                        ("covers", index),
                        f"release '{name}' has no export{f' {export_name!r}' if export_name else ''} to connect to",
                        "give the release an export (service, port, secretName) or name one with export:",
                    )
                )
                continue
            if not export.secret_name:
                problems.add(
                    document.problem(
                        ("covers", index),
                        f"export '{export.name}' of release '{name}' names no secretName: the dump cannot log in",
                        "add secretName to the export",
                    )
                )
            coverage = Coverage(
                release=name,
                engine=engine,
                export=export.name,
                user=item.get("user", DEFAULT_USERS[engine]),
                password_key=item.get("passwordKey", DEFAULT_PASSWORD_KEYS[engine]),
            )
            if len(f"{data['name']}-{name}") > CRONJOB_NAME_MAX:
                problems.add(
                    document.problem(
                        ("name",),
                        f"CronJob name '{data['name']}-{name}' is longer than {CRONJOB_NAME_MAX} characters",
                        "shorten the backup's name",
                    )
                )
            covers.append(coverage)
        raw = data["destination"]
        destination = Destination(
            type=raw["type"],
            path=raw["path"],
            secret_name=raw["secretName"],
            url=raw.get("url", ""),
            vendor=raw.get("vendor", ""),
            provider=raw.get("provider", ""),
            endpoint=raw.get("endpoint", ""),
            region=raw.get("region", ""),
        )
        problems.raise_if_any()
        return cls(
            name=data["name"],
            layer=data["layer"],
            namespace=data["namespace"],
            origin=document.path,
            schedule=data["schedule"],
            retention=data["retention"],
            recipient=data["recipient"],
            image=data["image"],
            destination=destination,
            covers=tuple(covers),
            secrets=tuple(data.get("secrets", ())),
            description=data.get("description", ""),
            time_zone=data.get("timeZone", ""),
        )
