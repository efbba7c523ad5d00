"""Which chart a release installs, and which data-service subcharts it brings in, as
Helm decides it: from a chart folder or package in the repository (its dependencies,
aliases, conditions, tags, ``Chart.lock``, ``charts/`` copies and ``file://`` charts,
followed into application subcharts) or from rail's catalog at the chart's version.

The rule ``subchart-coupling`` reads the result; this module reports nothing itself
(a version rail cannot place is a note on the graph).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ...catalog import COUPLING_KINDS, ChartFacts, Dependency, chart_facts
from .. import values as helm_values
from ..graph import ReleaseGraph, ReleaseNode
from .helm import condition_paths, dependency_enabled
from .local import LocalChart, LocalCharts, LocalDependency

APPLICATION = "application"
PATH_SOURCES = ("GitRepository", "Bucket")  # sources whose chart is a path, not a name
MAX_DEPTH = 3  # an umbrella's application subchart's subcharts, and one level more


@dataclass(frozen=True)
class Subchart:
    name: str  # the alias if set: where Helm reads its values and condition
    chart: str
    kind: str
    condition: str | None  # value paths from the top chart's values (the parents' aliases first)
    tags: tuple[str, ...]
    prefix: tuple[str, ...] = ()  # the aliases of the application subcharts it is nested in
    via: str = ""  # "gitea 12.4.0 (subchart 'gitea')": the application subchart that bundles it
    fix_target: str | None = None  # the values key that points it at an external service
    defaults_where: str = ""  # where the bundling subchart's own defaults are (nested only)
    top: LocalDependency | None = None  # the top chart's Chart.yaml entry that brings it in

    @property
    def key(self) -> str:
        return ".".join((*self.prefix, self.name))


@dataclass(frozen=True)
class ResolvedChart:
    """What the rule needs of a chart, from the catalog or from the repository."""

    name: str
    label: str  # "gitea 12.4.0", or "myapp 0.1.0 (charts/myapp)"
    subcharts: tuple[Subchart, ...]
    merged: Mapping[str, Any]  # chart defaults coalesced with the release's values
    defaults_where: str  # where the chart's own default values are
    by_path: bool = False  # the release names the chart by its path in the repository
    local: LocalChart | None = None
    facts: ChartFacts | None = None
    stale: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # condition path -> (subchart, versions)


@dataclass(frozen=True)
class _Known:
    """A dependency's chart as the catalog knows it, at one version."""

    facts: ChartFacts
    version: str
    dependencies: tuple[LocalDependency, ...]
    defaults: Mapping[str, Any]


# --------------------------------------------------------------------------- which chart


def _chart_path(node: ReleaseNode) -> str | None:
    """The chart's path when the release names it by path (a GitRepository or Bucket source,
    or an Argo CD Application whose source path is a chart folder)."""
    folder = getattr(node.chart, "path", None)
    if isinstance(folder, str) and folder:
        return folder
    chart = node.manifest.spec().get("chart")
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    if not isinstance(chart_spec, dict) or not isinstance(chart_spec.get("chart"), str):
        return None
    raw: str = chart_spec["chart"]
    source = chart_spec.get("sourceRef")
    kind = source.get("kind") if isinstance(source, dict) else None
    return raw if kind in PATH_SOURCES or "/" in raw else None


def chart_repository(node: ReleaseNode) -> str | None:
    repository = getattr(node.chart, "repository", None)
    return repository if isinstance(repository, str) else None


def resolve_chart(graph: ReleaseGraph, node: ReleaseNode, index: LocalCharts) -> ResolvedChart | None:
    path = _chart_path(node)
    if path is not None:
        local = index.at(path)
        if local is None:
            graph.notes.append(
                f"subchart-coupling: {node.ref}: chart path '{path}' is not a chart folder or packaged chart"
                " of this repository: its subcharts are not checked"
            )
            return None
        return from_local(graph.notes, index, node.values, local, by_path=True)
    local = index.named(node.chart.name, node.chart.version)
    if local is not None:
        return from_local(graph.notes, index, node.values, local)
    facts = chart_facts(node.chart.name, chart_repository(node))
    if facts is None or not facts.dependencies:
        return None
    return _from_catalog(graph, node, facts)


def from_local(
    notes: list[Any], index: LocalCharts, values: Mapping[str, Any], local: LocalChart, *, by_path: bool = False
) -> ResolvedChart:
    where = f"{local.path}/values.yaml" if not local.packaged else f"the values.yaml of {local.path}"
    label = f"{local.name} {local.version or '(no version)'} ({local.path})"
    merged = helm_values.coalesce(local.values, values)
    subcharts: list[Subchart] = []
    merged = _expand(index, local, local.dependencies, merged, (), None, subcharts, notes, label, 0)
    return ResolvedChart(
        name=local.name,
        label=label,
        subcharts=tuple(subcharts),
        merged=merged,
        defaults_where=where,
        by_path=by_path,
        local=local,
    )


def _expand(
    index: LocalCharts,
    owner: LocalChart | None,
    dependencies: Sequence[LocalDependency],
    merged: dict[str, Any],
    prefix: tuple[str, ...],
    parent: tuple[LocalDependency, str, str] | None,
    found: list[Subchart],
    notes: list[Any],
    label: str,
    depth: int,
) -> dict[str, Any]:
    """Adds the data-service subcharts of ``dependencies`` to ``found``, and goes into the
    application subcharts Helm turns on: their own subcharts, under their alias, with their
    defaults coalesced under it (Helm: the top parent's values decide every level).
    ``parent``: (the top chart's dependency, the bundling chart's label, where its defaults
    are) for a nested level. Returns ``merged`` with those defaults."""
    for dependency in dependencies:
        condition = _prefixed(dependency.condition, prefix)
        top = parent[0] if parent is not None else dependency
        if dependency.kind in COUPLING_KINDS:
            found.append(
                Subchart(
                    name=dependency.name,
                    chart=dependency.chart,
                    kind=dependency.kind,
                    condition=condition,
                    tags=dependency.tags,
                    prefix=prefix,
                    via=parent[1] if parent is not None else "",
                    fix_target=None,
                    defaults_where=parent[2] if parent is not None else "",
                    top=top,
                )
            )
            continue
        if depth >= MAX_DEPTH or dependency.kind != "other":
            continue
        said: list[Any] = []
        child = _child(index, owner, dependency, said, label)
        path = (*prefix, dependency.name)
        if child is not None:
            # Helm coalesces a subchart's defaults under its alias before it reads any condition.
            merged = _nest(merged, path, child.values if isinstance(child, LocalChart) else child.defaults)
        if not dependency_enabled(condition, dependency.tags, merged).enabled:
            continue
        notes.extend(said)
        if child is None:
            continue
        if isinstance(child, LocalChart):
            child_label = f"{child.name} {child.version or '(no version)'} ({child.path})"
            where = f"the values.yaml of {child.path}"
            merged = _expand(
                index,
                child,
                child.dependencies,
                merged,
                path,
                (top, f"{child_label} (subchart '{dependency.name}')", where),
                found,
                notes,
                child_label,
                depth + 1,
            )
        else:
            child_label = f"{child.facts.name} {child.version}"
            start = len(found)
            merged = _expand(
                index,
                None,
                child.dependencies,
                merged,
                path,
                (top, f"{child_label} (subchart '{dependency.name}')", f"the values.yaml of {child_label}"),
                found,
                notes,
                child_label,
                depth + 1,
            )
            for position in range(start, len(found)):
                target = child.facts.fix.get(found[position].kind)
                if target and found[position].prefix == path:
                    found[position] = _with_fix(found[position], ".".join((*path, target)))
    return merged


def _with_fix(subchart: Subchart, target: str) -> Subchart:
    return replace(subchart, fix_target=target)


def _prefixed(condition: str | None, prefix: tuple[str, ...]) -> str | None:
    if not prefix or condition is None:
        return condition
    return ",".join(".".join((*prefix, path)) for path in condition_paths(condition))


def _nest(merged: Mapping[str, Any], path: tuple[str, ...], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``merged`` with a subchart's ``defaults`` under ``path``, below what is already set
    there, and the parent's ``global`` table over the subchart's own (Helm passes globals down)."""
    result = dict(merged)
    current = merged.get(path[0])
    current_map: Mapping[str, Any] = current if isinstance(current, Mapping) else {}
    if len(path) > 1:
        result[path[0]] = _nest(current_map, path[1:], defaults)
        return result
    child = helm_values.coalesce(defaults, current_map)
    parent_global = merged.get("global")
    if isinstance(parent_global, Mapping):
        own = child.get("global")
        child["global"] = helm_values.coalesce(own if isinstance(own, Mapping) else {}, parent_global)
    result[path[0]] = child
    return result


def _child(
    index: LocalCharts, owner: LocalChart | None, dependency: LocalDependency, notes: list[Any], label: str
) -> LocalChart | _Known | None:
    """The chart an application dependency installs: a ``file://`` chart folder, the copy in
    the owner's ``charts/`` (what Helm installs), else the catalog's facts at its pinned version."""
    if owner is not None:
        referenced = index.referenced(owner, dependency)
        if referenced is not None:
            return referenced
        copies = [copy for copy in index.copies(owner) if copy.name == dependency.chart]
        if copies:
            pinned = dependency.pinned
            return next((copy for copy in copies if copy.version == pinned), copies[0])
    facts = chart_facts(dependency.chart, dependency.repository)
    if facts is None or facts.service_class != APPLICATION or not facts.dependencies:
        return None
    version = dependency.pinned
    if version is None:
        notes.append(
            f"subchart-coupling: {label}: dependency {dependency.chart} {dependency.version or '(no version)'}"
            " is a version range that no Chart.lock pins: its subcharts are not checked"
        )
        return None
    found = _catalog_defaults(facts, version, label, notes)
    if found is None:
        return None
    dependencies, defaults = found
    return _Known(
        facts=facts,
        version=version,
        dependencies=tuple(LocalDependency(d.name, d.name, d.kind, d.condition, d.tags) for d in dependencies),
        defaults=helm_values.with_defaults({}, defaults),
    )


def _catalog_defaults(
    facts: ChartFacts, version: str | None, label: str, notes: list[Any]
) -> tuple[tuple[Dependency, ...], dict[str, Any]] | None:
    """The catalog's dependencies of ``facts`` at ``version`` and the chart defaults of
    their conditions; None, with a note, when no known version range holds it."""
    dependencies = facts.dependencies_for(version)
    if dependencies is None:
        known = "; ".join(version_range for version_range, _ in facts.dependencies)
        notes.append(
            f"subchart-coupling: {label}: no subchart facts for {facts.name} {version or '(no version)'}"
            f" (rail knows {facts.name} {known}): its subcharts are not checked"
        )
        return None
    defaults: dict[str, Any] = {}
    for dependency in dependencies:
        paths = condition_paths(dependency.condition)
        if paths:
            # An unread default counts as off: a subchart is reported when the
            # release's values turn it on, never on a default rail has not seen.
            defaults[paths[0]] = bool(dependency.default_enabled)
    defaults.update(facts.defaults)
    return dependencies, defaults


def _from_catalog(graph: ReleaseGraph, node: ReleaseNode, facts: ChartFacts) -> ResolvedChart | None:
    version = node.chart.version
    found = _catalog_defaults(facts, version, str(node.ref), graph.notes)
    if found is None:
        return None
    dependencies, defaults = found
    current = {dependency.name for dependency in dependencies}
    current_paths = {path for dependency in dependencies for path in condition_paths(dependency.condition)}
    stale: dict[str, tuple[str, str]] = {}
    for version_range, others in facts.dependencies:
        for other in others:
            if other.name in current:
                continue
            for path in condition_paths(other.condition):
                if path not in current_paths:
                    name, ranges = stale.get(path, (other.name, ""))
                    stale[path] = (name, f"{ranges}, {version_range}" if ranges else version_range)
    return ResolvedChart(
        name=facts.name,
        label=f"{facts.name} {version}",
        subcharts=tuple(
            Subchart(d.name, d.name, d.kind, d.condition, d.tags) for d in dependencies if d.kind in COUPLING_KINDS
        ),
        merged=helm_values.with_defaults(node.values, defaults),
        defaults_where="the chart's values.yaml",
        facts=facts,
        stale=stale,
    )
