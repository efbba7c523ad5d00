"""chart-major-bump: the chart's major version changes (a warning).

A new major version of a chart may rename values, change defaults or need a
manual step (Gitea 12 replaced Redis with Valkey; Bitnami majors bump the
application's major). Read the chart's upgrade notes before merging.

Warns: ``gitea`` 11.0.1 -> 12.4.0, an OCIRepository tag 15.3.8 -> 16.3.4, or an Argo CD
Application's ``spec.source.targetRevision`` 15.3.8 -> 16.3.4.

Passes: ``valkey`` 4.0.1 -> 4.0.2.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...catalog.versions import major
from ...lint.finding import WARNING, Finding
from ...lint.rule import PER_OBJECT
from ..compare import MODIFIED, MOVED
from ..rule import DiffContext, DiffRule, finding
from ..sides import DiffObject
from ._values import chart_of, is_release


def _version(obj: DiffObject) -> tuple[str | None, str | None]:
    if obj.kind == "OCIRepository":
        spec = obj.data.get("spec") or {}
        ref = spec.get("ref") if isinstance(spec, dict) else None
        tag = ref.get("tag") if isinstance(ref, dict) else None
        url = spec.get("url") if isinstance(spec, dict) else None
        name = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else obj.name
        return name, tag if isinstance(tag, str) else None
    return chart_of(obj) if is_release(obj) else (None, None)


def _version_key(obj: DiffObject) -> tuple[str, ...]:
    if obj.kind == "OCIRepository":
        return ("spec", "ref", "tag")
    if obj.kind == "Application":
        return ("spec", "source", "targetRevision")
    return ("spec", "chart")


def check(context: DiffContext) -> Iterator[Finding]:
    for change in context.changes(MODIFIED, MOVED):
        if change.old is None or change.new is None:
            continue
        (name, before), (_, after) = _version(change.old), _version(change.new)
        if not before or not after:
            continue
        old_major, new_major = major(before), major(after)
        if old_major is not None and new_major is not None and old_major != new_major:
            yield finding(
                RULE,
                change,
                f"chart {name} changes major version: {before} -> {after}",
                "read the chart's upgrade notes; run `rail diff` on the rendered values",
                context=context,
                key_path=_version_key(change.new),
            )


RULE = DiffRule(
    id="chart-major-bump",
    scope=PER_OBJECT,  # the chart versions of one release's two sides
    severity=WARNING,
    summary="the chart's major version changes",
    check=check,
    doc=__doc__ or "",
)
