"""References and ``dependsOn`` into imported stacks: ``IMPORT/RELEASE``.

``${ref:platform/postgresql-ha.database.address}`` and ``dependsOn:
[platform/postgresql-ha]`` name a release of the stack imported as ``platform``.
The slash reads like Flux's own ``namespace/name`` and cannot occur in a release
name, so a reference inside the stack and one across stacks never collide.

Each use is checked against the imported stack's interface. An import name
``rail.yaml`` does not declare is an input error (a typo in this repository); a
release or export the interface lacks is kept as a failed :class:`CrossUse`: the
imported stack may change on its own, so ``rail lint``/``rail check`` report it
as the finding ``dangling-reference`` naming both repositories, and ``rail render``
refuses it (it has no value to write).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import Problem
from ..load.stack import LoadedStack
from ..model import Release
from ..model.interface import FIELDS, ImportedStack
from ..yamlio import Document

_CROSS = re.compile(
    r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?)/([a-z0-9]([a-z0-9-]*[a-z0-9])?)(?:\.([a-z][a-zA-Z0-9]*)\.([a-zA-Z]+))?$"
)


@dataclass(frozen=True)
class CrossUse:
    """One reference or ``dependsOn`` entry of a release into an imported stack."""

    release: str  # the release that uses it
    kind: str  # "reference" or "dependsOn"
    text: str  # as written: "platform/postgresql-ha.database.address"
    import_name: str
    target: str  # the imported release's name
    path: str
    line: int | None
    column: int | None
    key_path: str
    problem: str = ""  # empty: the interface has what is used
    hint: str = ""
    value: str | int | None = None  # what a reference resolves to

    @property
    def qualified(self) -> str:
        """The edge target, ``IMPORT/RELEASE``: how the release graph names it."""
        return f"{self.import_name}/{self.target}"

    @property
    def field_path(self) -> str:
        """``RELEASE.EXPORT.FIELD`` in the imported stack (a reference), or ``RELEASE``."""
        return self.text.split("/", 1)[1]


def by_name(loaded: LoadedStack) -> dict[str, ImportedStack]:
    return {stack.name: stack for stack in loaded.imports}


def check(
    loaded: LoadedStack, release: Release, text: str, document: Document, key_path: tuple[str | int, ...], kind: str
) -> CrossUse | Problem:
    """``text`` (without ``${ref:}``) checked against the imports; a Problem when
    ``rail.yaml`` has no such import or the text is malformed (exit 2)."""
    path, line, column = document.where(key_path)
    display_key = ".".join(str(part) for part in key_path)
    match = _CROSS.match(text)
    if match is None or (kind == "reference") != (match.group(5) is not None):
        example = "platform/postgresql-ha.database.address" if kind == "reference" else "platform/postgresql-ha"
        return document.problem(key_path, f"malformed reference into an imported stack: {text}", f"write {example}")
    import_name, target, export, field = match.group(1), match.group(3), match.group(5), match.group(6)
    imports = by_name(loaded)
    if import_name not in imports:
        known = ", ".join(sorted(imports)) or "(none)"
        return document.problem(
            key_path,
            f"'{text}' names import '{import_name}', which {loaded.stack.config.path} does not declare",
            f"declare it under imports: in rail.yaml (known imports: {known})",
        )
    imported = imports[import_name]
    use = CrossUse(
        release=release.name,
        kind=kind,
        text=text,
        import_name=import_name,
        target=target,
        path=path,
        line=line,
        column=column,
        key_path=display_key,
    )
    here = f"stack '{loaded.stack.config.name}' ({path})"
    there = imported.describe()
    remote = imported.interface.release(target)
    moved = imported.interface.moved_release(target)
    if remote is None and moved is not None:
        when = f" on {moved.date}" if moved.date else ""
        return _failed(
            use,
            f"{here} names release '{target}', which {there} records as moved to {moved.to}{when}: {moved.reason}",
            f"import {moved.to} and refer to IMPORT/{moved.new_name} there",
        )
    if remote is None:
        known = ", ".join(r.name for r in imported.interface.releases) or "(none)"
        return _failed(use, f"{here} names release '{target}', which {there} does not have", f"its releases: {known}")
    if export is None:
        return use
    endpoint = remote.export(export)
    if endpoint is None:
        known = ", ".join(item.name for item in remote.exports) or "(none)"
        return _failed(
            use,
            f"{here} refers to export '{target}.{export}', which {there} does not have",
            f"its exports of '{target}': {known}; fix the reference, or add the export in the imported stack",
        )
    if field not in FIELDS:
        return document.problem(key_path, f"unknown reference field '{field}'", f"use one of: {', '.join(FIELDS)}")
    if field == "secretName" and not endpoint.secret_name:
        return _failed(use, f"{here} uses {text}, but {there} gives that export no secretName", "")
    return _ok(use, endpoint.field(field))


def _failed(use: CrossUse, message: str, hint: str) -> CrossUse:
    return CrossUse(**{**use.__dict__, "problem": message, "hint": hint})


def _ok(use: CrossUse, value: str | int) -> CrossUse:
    return CrossUse(**{**use.__dict__, "value": value})


def as_problem(use: CrossUse) -> Problem:
    """A failed use as ``rail render`` reports it (exit 2)."""
    return Problem(
        path=use.path,
        line=use.line,
        column=use.column,
        key_path=use.key_path,
        message=f"dangling-reference: {use.problem}",
        hint=use.hint or "fix the reference, or the imported stack",
    )
