"""subchart-coupling: an application chart deploys its own database, cache, broker or search engine.

The platform's data services live in S3, where they are backed up, sized and
made highly available once for every application. An application chart that
turns on its own PostgreSQL or Valkey subchart runs a second, private copy that
nobody operates: no backups, no HA, random passwords, and an upgrade of the app
that silently upgrades its database. Gitea's chart does it by default
(``postgresql-ha`` and ``valkey-cluster`` in 12.x, ``redis-cluster`` in 11.x).

"Enabled" is decided as Helm 3 decides it: every dependency starts enabled; its
``tags`` (the values' top-level ``tags:`` table) then turn it on (any true tag)
or off (no true tag, a false one); its ``condition``, a comma-separated list of
value paths, overrides the tags: the first path holding a boolean wins, a path
holding anything else (``"false"`` in quotes) is skipped. The values are the
chart's own defaults coalesced with the values the release really gets.

The charts are known from rail's catalog, by chart name and version range (a
version outside every known range is not guessed at: it gets a note), and from
the chart folders (``Chart.yaml`` + ``values.yaml``) and packaged ``.tgz``
charts inside the repository: a release whose chart is a path into the
repository, or whose chart name and version match a local chart, is checked
against that chart's own ``dependencies:`` and ``values.yaml``. Charts that
bundle a component in their own templates (Harbor's ``database.type:
internal``) count as well.

The finding names the subchart, what turned it on (a values key such as
``postgresql.enabled: true``, a tag, or "chart default") and the fix. A key that
turns on a subchart this chart version does not have (``redis-cluster.enabled:
true`` on Gitea 12.x) is a warning about a stale key: it does nothing.

Fails (Gitea 12.x with its defaults runs PostgreSQL HA and a Valkey cluster)::

    # releases/s5/gitea.yaml
    chart: {source: gitea, name: gitea, version: 12.4.0}
    values:
      gitea:
        config: {database: {DB_TYPE: postgres}}

Passes (every bundled service off; the app uses the S3 exports)::

    # releases/s5/gitea.yaml
    chart: {source: gitea, name: gitea, version: 12.4.0}
    values:
      postgresql-ha: {enabled: false}
      postgresql: {enabled: false}
      valkey-cluster: {enabled: false}
      valkey: {enabled: false}
      gitea:
        config:
          database: {DB_TYPE: postgres, HOST: "${ref:postgresql-ha.database.address}"}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...catalog import COUPLING_KINDS, ChartFacts, chart_facts
from .. import values as helm_values
from ..charts import LocalChart, LocalCharts, dependency_enabled, discover, path_value
from ..charts.helm import Decision, condition_paths
from ..finding import ERROR, WARNING, Finding, Location
from ..graph import ReleaseGraph, ReleaseNode
from ..rule import LintContext, Rule

APPLICATION = "application"
KIND_WORDS = {"database": "database", "cache": "cache", "broker": "message broker", "search": "search engine"}
PATH_SOURCES = ("GitRepository", "Bucket")  # sources whose chart is a path, not a name


@dataclass(frozen=True)
class _Subchart:
    name: str  # the alias if set: where Helm reads its values and condition
    chart: str
    kind: str
    condition: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class _Chart:
    """What the rule needs of a chart, from the catalog or from the repository."""

    name: str
    label: str  # "gitea 12.4.0", or "myapp 0.1.0 (charts/myapp)"
    subcharts: tuple[_Subchart, ...]
    merged: Mapping[str, Any]  # chart defaults coalesced with the release's values
    defaults_where: str  # where the chart's own default values are
    by_path: bool = False  # the release names the chart by its path in the repository
    local: LocalChart | None = None
    facts: ChartFacts | None = None
    stale: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # condition path -> (subchart, versions)


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    index: LocalCharts | None = None
    for node in graph.releases.values():
        if node.service_class not in (None, APPLICATION):
            continue
        if index is None:
            # Once a run, and only when some release may be an application.
            skip = [graph.config.output] if graph.config.output else []
            index = discover(context.root, skip) if context.root is not None else LocalCharts()
            graph.notes.extend(index.notes)
        chart = _resolve(graph, node, index)
        if chart is not None:
            yield from _coupling(graph, node, chart)
            yield from _stale(graph, node, chart)


# --------------------------------------------------------------------------- which chart


def _chart_path(node: ReleaseNode) -> str | None:
    """The chart's path when the release names it by path (a GitRepository or Bucket source)."""
    chart = node.manifest.spec().get("chart")
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    if not isinstance(chart_spec, dict) or not isinstance(chart_spec.get("chart"), str):
        return None
    raw: str = chart_spec["chart"]
    source = chart_spec.get("sourceRef")
    kind = source.get("kind") if isinstance(source, dict) else None
    return raw if kind in PATH_SOURCES or "/" in raw else None


def _resolve(graph: ReleaseGraph, node: ReleaseNode, index: LocalCharts) -> _Chart | None:
    path = _chart_path(node)
    if path is not None:
        local = index.at(path)
        if local is None:
            graph.notes.append(
                f"subchart-coupling: {node.ref}: chart path '{path}' is not a chart folder or packaged chart"
                " of this repository: its subcharts are not checked"
            )
            return None
        return _from_local(node, local, by_path=True)
    local = index.named(node.chart.name, node.chart.version)
    if local is not None:
        return _from_local(node, local)
    facts = chart_facts(node.chart.name)
    if facts is None or not facts.dependencies:
        return None
    return _from_catalog(graph, node, facts)


def _from_local(node: ReleaseNode, local: LocalChart, *, by_path: bool = False) -> _Chart:
    subcharts = tuple(_Subchart(d.name, d.chart, d.kind, d.condition, d.tags) for d in local.dependencies)
    where = f"{local.path}/values.yaml" if not local.packaged else f"the values.yaml of {local.path}"
    return _Chart(
        name=local.name,
        label=f"{local.name} {local.version or '(no version)'} ({local.path})",
        subcharts=subcharts,
        merged=helm_values.coalesce(local.values, node.values),
        defaults_where=where,
        by_path=by_path,
        local=local,
    )


def _from_catalog(graph: ReleaseGraph, node: ReleaseNode, facts: ChartFacts) -> _Chart | None:
    version = node.chart.version
    dependencies = facts.dependencies_for(version)
    if dependencies is None:
        known = "; ".join(version_range for version_range, _ in facts.dependencies)
        graph.notes.append(
            f"subchart-coupling: {node.ref}: no subchart facts for {facts.name} {version or '(no version)'}"
            f" (rail knows {facts.name} {known}): its subcharts are not checked"
        )
        return None
    defaults: dict[str, Any] = {}
    for dependency in dependencies:
        paths = condition_paths(dependency.condition)
        if paths:
            defaults[paths[0]] = dependency.default_enabled
    defaults.update(facts.defaults)
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
    return _Chart(
        name=facts.name,
        label=f"{facts.name} {version}",
        subcharts=tuple(
            _Subchart(d.name, d.name, d.kind, d.condition, d.tags) for d in dependencies if d.kind in COUPLING_KINDS
        ),
        merged=helm_values.with_defaults(node.values, defaults),
        defaults_where="the chart's values.yaml",
        facts=facts,
        stale=stale,
    )


# --------------------------------------------------------------------------- findings


def _coupling(graph: ReleaseGraph, node: ReleaseNode, chart: _Chart) -> Iterator[Finding]:
    for subchart in chart.subcharts:
        if subchart.kind not in COUPLING_KINDS:
            continue
        decision = dependency_enabled(subchart.condition, subchart.tags, chart.merged)
        if not decision.enabled:
            continue
        what, location, related, decisive = _turned_on_by(graph, node, chart, subchart, decision)
        named = f"'{subchart.name}'" + (f" ({subchart.chart})" if subchart.chart != subchart.name else "")
        message = (
            f"{chart.label} deploys its own {KIND_WORDS[subchart.kind]} as subchart {named},"
            f" turned on by {what}; {_fix(chart, subchart)}"
        )
        severity = ""
        if decision.substituted is not None:
            severity = WARNING
            message += f" (unless the Flux substitution in {decision.substituted} gives false)"
        elif node.unknown_values and not decisive:
            severity = WARNING
            message += f" (unless {', '.join(node.unknown_values)} turn it off: their values are not known)"
        yield Finding(
            rule=RULE.id,
            message=message,
            location=location,
            related=related,
            object=node.ref,
            severity=severity,
            hint="an application uses the platform's S3 services; its chart must not run its own",
        )
    if chart.facts is not None:
        yield from _bundled(graph, node, chart, chart.facts)


def _turned_on_by(
    graph: ReleaseGraph, node: ReleaseNode, chart: _Chart, subchart: _Subchart, decision: Decision
) -> tuple[str, Location, tuple[Location, ...], bool]:
    """What turned the subchart on, where to point, and whether unknown values could still turn it off."""
    key = ".".join(decision.key)
    if decision.substituted is not None:
        location, related = graph.value_location(node, decision.substituted.split("."))
        return f"{decision.substituted} (a Flux substitution)", location, related, False
    if decision.by in ("condition", "tags") and _from_release(node, decision.key):
        location, related = graph.value_location(node, decision.key)
        decisive = decision.by == "condition" and _inline(node, decision.key)
        return f"{key}: true" + _skipped_text(decision), location, related, decisive
    location, related = _chart_location(graph, node, chart)
    if decision.by in ("condition", "tags"):
        related = (*related, *_defaults_location(chart, decision.key))
        return (
            f"chart default ({key}: true in {chart.defaults_where})" + _skipped_text(decision),
            location,
            related,
            False,
        )
    if decision.skipped and path_value(node.values, decision.skipped[0]) is not helm_values.MISSING:
        # The release tried to turn it off with a non-boolean: point there.
        location, related = graph.value_location(node, decision.skipped[0].split("."))
    if subchart.condition is None and not subchart.tags:
        return "chart default (the dependency has no condition: always on)", location, related, False
    return "chart default" + _skipped_text(decision), location, related, False


def _skipped_text(decision: Decision) -> str:
    if not decision.skipped:
        return ""
    paths = ", ".join(decision.skipped)
    verb = "is" if len(decision.skipped) == 1 else "are"
    return f" ({paths} {verb} not a boolean, which Helm skips: write true or false without quotes)"


def _from_release(node: ReleaseNode, key: tuple[str, ...]) -> bool:
    return path_value(node.values, ".".join(key)) is True


def _inline(node: ReleaseNode, key: tuple[str, ...]) -> bool:
    inline = node.inline_values
    return isinstance(inline, dict) and path_value(inline, ".".join(key)) is True


def _chart_location(graph: ReleaseGraph, node: ReleaseNode, chart: _Chart) -> tuple[Location, tuple[Location, ...]]:
    """The release's chart version (or chart path): where a chart default comes from."""
    spec = node.manifest.spec()
    if chart.by_path:
        return graph.node_location(node, ("spec", "chart", "spec", "chart")), ()
    fallback: tuple[str, ...]
    if node.ref.kind == "Application":
        fallback = ("spec", "source", "targetRevision")
    elif isinstance(spec.get("chart"), dict):
        fallback = ("spec", "chart", "spec", "version")
    else:
        fallback = ("spec", "chartRef")
    return graph.spec_location(node, ("chart", "version"), fallback)


def _defaults_location(chart: _Chart, key: tuple[str, ...]) -> tuple[Location, ...]:
    if chart.local is None:
        return ()
    document = chart.local.values_document
    if document is None:
        return (Location(chart.local.path),)
    return (Location(*document.where(key)),)


def _fix(chart: _Chart, subchart: _Subchart) -> str:
    kind = subchart.kind
    paths = condition_paths(subchart.condition)
    if paths:
        off = f"set {paths[0]}: false"
    elif subchart.tags:
        off = f"set tags.{subchart.tags[0]}: false"
    elif chart.local is not None:
        off = f"remove the dependency from {chart.local.path} (it has no condition)"
    else:
        off = "use a chart that does not bundle it (the dependency has no condition)"
    target = chart.facts.fix.get(kind) if chart.facts is not None else None
    if target:
        return f"fix: {off} and point {target} at the S3 {kind} export"
    return f"fix: {off} and point the chart's {kind} settings at the S3 {kind} export"


def _bundled(graph: ReleaseGraph, node: ReleaseNode, chart: _Chart, facts: ChartFacts) -> Iterator[Finding]:
    for name, kind, key, bundling in facts.bundled:
        if path_value(chart.merged, key) != bundling:
            continue
        if path_value(node.values, key) == bundling:
            what = f"{key}: {bundling}"
            location, related = graph.value_location(node, key.split("."))
        else:
            what = f"chart default ({key}: {bundling})"
            location, related = _chart_location(graph, node, chart)
        target = facts.fix.get(kind, f"{key} and the chart's external {kind} settings")
        yield Finding(
            rule=RULE.id,
            message=(
                f"{chart.label} deploys its own {KIND_WORDS.get(kind, kind)} '{name}' from its own templates,"
                f" turned on by {what}; fix: switch to the S3 {kind} export ({target})"
            ),
            location=location,
            related=related,
            object=node.ref,
            hint="an application uses the platform's S3 services; its chart must not run its own",
        )


def _stale(graph: ReleaseGraph, node: ReleaseNode, chart: _Chart) -> Iterator[Finding]:
    for path, (subchart, versions) in chart.stale.items():
        if path_value(node.values, path) is not True:
            continue
        location, related = graph.value_location(node, path.split("."))
        yield Finding(
            rule=RULE.id,
            message=(
                f"stale key {path}: true: {chart.label} has no subchart '{subchart}'"
                f" (only {chart.name} {versions} has it), so the key does nothing"
            ),
            location=location,
            related=related,
            object=node.ref,
            severity=WARNING,
            hint=f"remove {path}; check which subcharts {chart.label} turns on instead",
        )


RULE = Rule(
    id="subchart-coupling",
    severity=ERROR,
    summary="an application chart deploys its own database, cache, broker or search engine",
    check=check,
    doc=__doc__ or "",
)
