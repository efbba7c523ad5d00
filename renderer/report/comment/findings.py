"""The findings of a comment: one table row per distinct finding, identical findings
on many releases collapsed into one row that names them all."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ...lint.finding import ERROR, Finding, Location
from ..markdown import code_span, escape_text
from .links import Links

_EACH = "(each release)"


@dataclass(frozen=True)
class Group:
    """Findings that say the same about different releases (or one finding alone)."""

    findings: tuple[Finding, ...]
    message: str
    hint: str

    @property
    def first(self) -> Finding:
        return self.findings[0]


def _generic(text: str, finding: Finding) -> str:
    """``text`` with the finding's own object name taken out, to find findings alike."""
    if finding.object is None or not finding.object.name:
        return text
    return re.sub(rf"(?<![\w.-]){re.escape(finding.object.name)}(?![\w.-])", _EACH, text)


def grouped(findings: Iterable[Finding]) -> list[Group]:
    """Errors first; findings alike (rule, severity, message and fix but for the release
    named) in one group, in the order their first one sorts."""
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in sorted(findings, key=lambda f: (f.severity != ERROR, f.sort_key())):
        key = (finding.severity, finding.rule, _generic(finding.message, finding), _generic(finding.hint, finding))
        groups.setdefault(key, []).append(finding)
    result = []
    for (_, _, message, hint), members in groups.items():
        alone = len({(f.message, f.hint) for f in members}) == 1
        first = members[0]
        result.append(Group(tuple(members), first.message if alone else message, first.hint if alone else hint))
    return result


Names = Mapping[tuple[str, str, str], str]  # (kind, namespace, name) -> the release it belongs to


def alike(groups: Sequence[Group]) -> list[Group]:
    """Coarser groups, for a comment that would not fit otherwise: findings of one rule,
    severity and fix whose messages differ only in some words (a chart name, a size) are
    one group, the differing words shown as "…"."""
    merged: dict[tuple[str, str, str, int], list[Group]] = {}
    for group in groups:
        words = group.message.split(" ")
        merged.setdefault((group.first.severity, group.first.rule, group.hint, len(words)), []).append(group)
    result = []
    for members in merged.values():
        if len(members) == 1:
            result.append(members[0])
            continue
        columns = zip(*(member.message.split(" ") for member in members), strict=True)
        message = " ".join(column[0] if len(set(column)) == 1 else "…" for column in columns)
        findings = tuple(finding for member in members for finding in member.findings)
        result.append(Group(findings, message, members[0].hint))
    return result


def release_of(finding: Finding, names: Names) -> str:
    """The release a finding is about (where Helm installs it), else its object."""
    ref = finding.object
    if ref is None:
        return ""
    named = names.get((ref.kind, ref.namespace or "", ref.name))
    return named or (f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name)


def where(location: Location, links: Links | None, *, table: bool = True) -> str:
    """``path:line`` as code, linked to the file at the head commit when CI says where that is."""
    shown = code_span(location.path + (f":{location.line}" if location.line else ""), table=table)
    return f"[{shown}]({links.url(location)})" if links is not None and shown else shown


def _releases(group: Group, known: Names) -> str:
    names = sorted({release_of(f, known) for f in group.findings} - {""})
    if len(group.findings) == 1:
        return escape_text(names[0]) if names else ""
    places = f"{len(names)} releases" if names else f"{len(group.findings)} places"
    listed = f": {escape_text(', '.join(names))}" if names else ""
    return f"same finding in {places}{listed}"


def _where(group: Group, links: Links | None, *, table: bool = True) -> str:
    first = where(group.first.location, links, table=table)
    more = len({f.location for f in group.findings}) - 1
    return first + (f" and {more} more" if more > 0 else "")


def table(groups: Sequence[Group], links: Links | None, names: Names) -> list[str]:
    lines = ["| severity | rule | release | finding | where | fix |", "| --- | --- | --- | --- | --- | --- |"]
    for group in groups:
        first = group.first
        cells = (
            escape_text(first.severity),
            code_span(first.rule, table=True),
            _releases(group, names),
            escape_text(group.message),
            _where(group, links),
            escape_text(group.hint),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def items(groups: Sequence[Group], links: Links | None, names: Names, extra: Sequence[str] = ()) -> list[str]:
    """A bullet list: rule, release(s), message, where (and, per group, a note such as the reason)."""
    lines = []
    for index, group in enumerate(groups):
        releases = _releases(group, names)
        text = f"- {code_span(group.first.rule)} {releases + ': ' if releases else ''}{escape_text(group.message)}"
        text += f" ({_where(group, links, table=False)})"
        if index < len(extra) and extra[index]:
            text += f": {extra[index]}"
        lines.append(text)
    return lines
