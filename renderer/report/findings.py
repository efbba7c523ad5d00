"""Lint and diff findings as text, JSON, GitHub annotations or SARIF 2.1.0.

Messages, paths and hints carry text from the input (file names, keys, object names).
Each format keeps it data: text escapes control characters (a newline in a key must
not start a line ``::error::`` in a CI log, an ESC must not drive the terminal), GitHub
annotations escape what the workflow-command format reads, JSON and SARIF are
``json.dumps`` strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from .. import __version__
from ..lint.engine import LintResult
from ..lint.finding import Finding
from ..quoting import printable

FORMATS = ("text", "json", "github", "sarif")


class Rule(Protocol):
    """What a report needs of a rule (lint and diff rules both have it)."""

    @property
    def id(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def doc(self) -> str: ...


def rule_catalog() -> list[Rule]:
    """Every lint and diff rule: imported here, when a report lists them, and not by a
    lint run that prints text (the diff rules are a cost a pre-commit hook need not pay)."""
    from ..diff.rules import DIFF_RULES
    from ..lint.rules import RULES

    return [*RULES, *DIFF_RULES]


def text(result: LintResult) -> str:
    """``path:line:col: severity rule message``, then the hint and related places; every
    line escaped whole (rail's own text in it has no control character)."""
    lines = []
    for finding in result.findings:
        where = finding.location.path
        if finding.location.line is not None:
            where += f":{finding.location.line}"
            if finding.location.column is not None:
                where += f":{finding.location.column}"
        lines.append(f"{where}: {finding.severity} {finding.rule} {finding.message}")
        if finding.hint:
            lines.append(f"  hint: {finding.hint}")
        lines.extend(f"  see: {_where(related)}" for related in finding.related)
    lines.extend(f"note: {note}" for note in result.notes)
    verdict = "failed" if result.failed else "passed"
    lines.append(f"rail: {result.errors} error(s), {result.warnings} warning(s): {verdict}")
    return "\n".join(printable(line) for line in lines) + "\n"


def _where(location: Any) -> str:
    text = location.path
    if location.line is not None:
        text += f":{location.line}"
    return str(text)


def as_json(result: LintResult) -> str:
    payload = {"findings": [f.to_json() for f in result.findings], "summary": result.summary()}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF percent-encoded, as the runner
    decodes them (a multi-line message stays one command); other control characters
    escaped, since the command line is also shown in the log."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def _escape_property(text: str) -> str:
    """A workflow command's property value: as data, and ``:`` and ``,`` too (they end
    the properties and separate them)."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(result: LintResult) -> str:
    lines = []
    for finding in result.findings:
        properties = [f"file={_escape_property(finding.location.path)}"]
        if finding.location.line is not None:
            properties.append(f"line={finding.location.line}")
            if finding.location.column is not None:
                properties.append(f"col={finding.location.column}")
        properties.append(f"title={_escape_property(finding.rule)}")
        message = finding.message + (f" ({finding.hint})" if finding.hint else "")
        lines.append(f"::{finding.severity} {','.join(properties)}::{_escape_data(message)}")
    for note in result.notes:
        lines.append(f"::notice::{_escape_data(note)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _sarif_location(location: Any) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": location.path}}
    if location.line is not None:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    return {"physicalLocation": physical}


def sarif(result: LintResult) -> str:
    """SARIF 2.1.0, every rule of rail described (the diff rules too: one catalog for both)."""
    rules = rule_catalog()

    def result_of(finding: Finding) -> dict[str, Any]:
        item: dict[str, Any] = {
            "ruleId": finding.rule,
            "level": finding.severity,
            "message": {"text": finding.message + (f" Hint: {finding.hint}" if finding.hint else "")},
            "locations": [_sarif_location(finding.location)],
            "partialFingerprints": {"railFinding/v1": finding.fingerprint()},
        }
        if finding.related:
            item["relatedLocations"] = [
                {"id": index, **_sarif_location(related)} for index, related in enumerate(finding.related)
            ]
        return item

    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "rail",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "shortDescription": {"text": rule.summary},
                                "fullDescription": {"text": rule.doc.strip().split("\n\n", 1)[0]},
                                "defaultConfiguration": {"level": rule.severity},
                            }
                            for rule in rules
                        ],
                    }
                },
                "results": [result_of(finding) for finding in result.findings],
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


REPORTERS: dict[str, Callable[[LintResult], str]] = {
    "text": text,
    "json": as_json,
    "github": github,
    "sarif": sarif,
}
