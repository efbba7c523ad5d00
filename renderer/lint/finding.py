"""Findings: what a rule reports. Reporters print them; nothing else does."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


@dataclass(frozen=True, order=True)
class ObjectRef:
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column}


@dataclass(frozen=True)
class Finding:
    """One problem. ``message`` names keys and objects, never a secret value."""

    rule: str
    message: str
    location: Location
    object: ObjectRef | None = None
    severity: str = ""  # empty: the rule's configured severity, filled in by the engine
    hint: str = ""
    related: tuple[Location, ...] = field(default=())
    change: str | None = None  # diff findings: added, removed, modified, moved

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def line(self) -> int | None:
        return self.location.line

    def fingerprint(self) -> str:
        """Stable across line moves: built from the rule, the object and the message."""
        subject = str(self.object) if self.object else self.location.path
        return hashlib.sha256(f"{self.rule}\0{subject}\0{self.message}".encode()).hexdigest()[:32]

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.location.path, self.location.line or 0, self.location.column or 0, self.rule, self.message)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "object": self.object.to_json() if self.object else None,
            "hint": self.hint,
            "related": [item.to_json() for item in self.related],
            "fingerprint": self.fingerprint(),
        }
        if self.change is not None:
            data["change"] = self.change
        return data


class Verdict:
    """Counts and the pass/fail of a run's findings (lint and diff share it)."""

    findings: tuple[Finding, ...]
    strict: bool

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == WARNING)

    @property
    def failed(self) -> bool:
        return bool(self.errors or (self.strict and self.warnings))
