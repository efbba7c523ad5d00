"""export-changed: an export other stacks may import is changed or gone.

A stack's exports (``rendered/interface.yaml``: each release's Service, host, port,
Secret name and keys) are what importing stacks build on, in other repositories that
this diff does not see. A change that removes a release with exports, removes an
export, or changes any of its fields is listed, one finding per export, so the
pull request says which consumers must follow (they see it as ``import-changed`` or
``dangling-reference`` when their import moves to the new ref).

Fails (the platform renames its Helm release: the pgpool Service is renamed)::

    # releases/s3/postgresql-ha.yaml
    releaseName: pg      # postgresql-ha-pgpool -> pg-postgresql-ha-pgpool

Fails too: ``exports: {database: ...}`` renamed to ``exports: {sql: ...}``.

Passes: a change to values no export is made of (replica counts, resources).

A warning (``--strict`` blocks on it): the consumers live in other repositories, and
each of them fails there, naming the reference, when its import moves to the new ref.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...errors import InputError
from ...lint.finding import WARNING, Finding, Location, ObjectRef
from ...lint.rule import GRAPH_WIDE
from ...model.interface import INTERFACE_NAME, Interface, InterfaceExport
from ...render.interface import interface_of
from ...yamlio import Document
from ..rule import DiffContext, DiffRule
from ..sides import Side

_FIELDS = ("service", "namespace", "host", "port", "secret_name", "secret_keys")


def _interface_data(side: Side) -> tuple[str, dict[str, Any]] | None:
    """The interface a side's render wrote, as the data it was written from (its path and
    data), not its text parsed again (a line per field of every release: seconds at
    10,000 releases); both read as the same interface (tests/render/test_interface.py)."""
    if side.rendered is None or side.loaded is None:
        return None
    path = f"{side.loaded.stack.config.output}/{INTERFACE_NAME}"
    if not any(item.path == path for item in side.rendered.files):
        return None
    return path, interface_of(side.loaded, side.rendered.resolution).to_data()


def _interface(written: tuple[str, dict[str, Any]]) -> Interface | None:
    path, data = written
    try:
        return Interface.from_document(Document(path=path, data=data))
    except InputError:
        return None


def _location(side: Side, release_name: str, export: str | None) -> Location | None:
    """The spec line of ``exports.<export>`` (``None``: of ``exports``; ``""``: the spec's top)."""
    loaded = side.loaded
    release = loaded.stack.release(release_name) if loaded else None
    if loaded is None or release is None or release.origin not in loaded.spec_documents:
        return None
    key = () if export == "" else ("exports",) if export is None else ("exports", export)
    path, line, column = loaded.spec_documents[release.origin].where(key)
    return Location(path, line, column)


def _changes(old: InterfaceExport, new: InterfaceExport) -> list[str]:
    changes = []
    for name in _FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            shown = {"secret_name": "secretName", "secret_keys": "secretKeys"}.get(name, name)
            if isinstance(before, tuple):
                gone = sorted(set(before) - set(after))
                added = sorted(set(after) - set(before))
                parts = [f"-{key}" for key in gone] + [f"+{key}" for key in added]
                changes.append(f"{shown} {' '.join(parts)}")
            else:
                changes.append(f"{shown} {before} -> {after}")
    return changes


def check(context: DiffContext) -> Iterator[Finding]:
    base_data, head_data = _interface_data(context.base), _interface_data(context.head)
    if base_data is None or head_data is None or base_data[1] == head_data[1]:
        return  # the same data is the same interface: no export changed (most changes)
    base, head = _interface(base_data), _interface(head_data)
    if base is None or head is None:
        return
    for old_release in base.releases:
        new_release = head.release(old_release.name)
        for old in old_release.exports:
            new = new_release.export(old.name) if new_release else None
            qualified = f"{old_release.name}.{old.name}"
            if new is None:
                what = "its release is removed" if new_release is None else "the export is removed"
                message = f"export {qualified} of stack '{base.stack}' is gone ({what}): stacks importing it break"
                side = context.base if new_release is None else context.head
                location = _location(side, old_release.name, "" if new_release is None else None)
            else:
                changes = _changes(old, new)
                if not changes:
                    continue
                message = f"export {qualified} of stack '{base.stack}' changes: {'; '.join(changes)}"
                location = _location(context.head, old_release.name, old.name)
            yield Finding(
                rule=RULE.id,
                severity=RULE.severity,
                message=message,
                location=location or Location(f"rendered/{INTERFACE_NAME}"),
                object=ObjectRef("HelmRelease", old_release.namespace, old_release.name),
                hint="stacks that import this one must follow: tag the change, move their import's ref,"
                " then `rail check` there lists each reference to fix (import-changed, dangling-reference)",
                change="removed" if new is None else "modified",
            )


RULE = DiffRule(
    id="export-changed",
    scope=GRAPH_WIDE,  # the stack's whole interface
    # A warning: the consumers are in other repositories this diff does not see; they
    # fail where it matters (import-changed, dangling-reference) when their import moves.
    severity=WARNING,
    summary="an export other stacks may import is changed or gone",
    check=check,
    doc=__doc__ or "",
)
