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

The charts are known from rail's catalog, by chart name, publisher and version
range (a version outside every known range is not guessed at: it gets a note),
and from the chart folders (``Chart.yaml`` + ``values.yaml``) and packaged
``.tgz`` charts inside the repository: a release whose chart is a path into the
repository, or whose chart name and version match a local chart, is checked
against that chart's own ``dependencies:`` and ``values.yaml``. Charts that
bundle a component in their own templates (Harbor's ``database.type:
internal``) count as well.

A chart folder is read as Helm reads it. A dependency's ``alias`` is where Helm
reads its values and its condition; ``import-values`` copies values between
parent and subchart after Helm has decided what is enabled, so it changes
nothing here; a version range in ``Chart.yaml`` is the version ``Chart.lock``
(``requirements.lock``) pins. Subcharts nest: an umbrella chart whose
dependency is an application chart (``gitea`` from ``https://dl.gitea.com/charts/``)
deploys that chart's own subcharts too. They come from the umbrella's copy in its
``charts/`` folder (or packaged inside it), from a ``file://`` chart folder, else
from the catalog at the pinned version; Helm decides them on the top chart's
values under the parent's alias: the release's values over the umbrella's
``values.yaml`` over the child's defaults (``gitea.postgresql-ha.enabled:
false`` in the umbrella turns Gitea's PostgreSQL HA off), and only while the
parent itself is enabled.

A chart folder or package that no release rail sees deploys (an ApplicationSet
kept in a values file may) is checked on its own ``values.yaml``: the finding
is at the key that turns the subchart on, or at the ``Chart.yaml`` dependency
entry. Once per chart: not a chart a release deploys, not a copy inside another
chart's ``charts/``, not a data-service chart's own folder.

Without the catalog: in the release of a chart rail has no subchart facts about
(not in the catalog, not at that version, or without that dependency), a
top-level key named like a data-service chart (``valkey``, ``redis``,
``postgresql``, ``redis-cluster``, ...) with ``enabled: true`` is read as the
chart's bundled service of that name, which is what it means in every chart that
has one (Immich and NetBox ``valkey.enabled``, Outline ``redis.enabled``,
Forgejo ``redis-cluster.enabled``). A data-service chart's own release is never
coupling.

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

Fails (an umbrella chart folder: the Gitea inside it keeps its PostgreSQL HA; so
does an app release with ``valkey.enabled: true`` on a chart rail does not know)::

    # charts/forge/Chart.yaml
    dependencies:
      - {name: gitea, version: 12.x, repository: https://dl.gitea.com/charts/}
    # charts/forge/Chart.lock pins gitea 12.4.0; charts/forge/values.yaml:
    gitea:
      valkey-cluster: {enabled: false}

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

Passes (the umbrella turns them off under the dependency's alias)::

    # charts/forge/values.yaml (Chart.yaml: gitea 12.4.0 with alias: git)
    git:
      postgresql-ha: {enabled: false}
      valkey-cluster: {enabled: false}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ...catalog import COUPLING_KINDS, DEPENDENCY_KINDS, ChartFacts, chart_facts
from .. import values as helm_values
from ..charts import LocalChart, LocalCharts, LocalDependency, dependency_enabled, discover, path_value
from ..charts.helm import Decision, condition_paths
from ..finding import ERROR, WARNING, Finding, Location
from ..graph import ReleaseGraph, ReleaseNode
from ..rule import LintContext, Rule

APPLICATION = "application"
KIND_WORDS = {"database": "database", "cache": "cache", "broker": "message broker", "search": "search engine"}
PATH_SOURCES = ("GitRepository", "Bucket")  # sources whose chart is a path, not a name
MAX_DEPTH = 3  # an umbrella's application subchart's subcharts, and one level more
HINT = "an application uses the platform's S3 services; its chart must not run its own"


@dataclass(frozen=True)
class _Subchart:
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


@dataclass(frozen=True)
class _Known:
    """A dependency's chart as the catalog knows it, at one version."""

    facts: ChartFacts
    version: str
    dependencies: tuple[LocalDependency, ...]
    defaults: Mapping[str, Any]


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    skip = [graph.config.output] if graph.config.output else []
    index = discover(context.root, skip) if context.root is not None else LocalCharts()
    graph.notes.extend(index.notes)
    deployed: set[str] = set()
    for node in graph.releases.values():
        if node.service_class not in (None, APPLICATION):
            continue
        chart = _resolve(graph, node, index)
        if chart is not None:
            if chart.local is not None:
                deployed.add(chart.local.path)
            yield from _coupling(graph, node, chart)
            yield from _stale(graph, node, chart)
        yield from _explicit(graph, node, chart)
    if context.scope:
        # The folders named to lint (a lint-only stack: the repository) are linted as
        # trees: their chart folders are part of them. A stack's specs are not a tree.
        yield from _undeployed(graph, index, deployed, context.scope)


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


def _repository(node: ReleaseNode) -> str | None:
    repository = getattr(node.chart, "repository", None)
    return repository if isinstance(repository, str) else None


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
        return _from_local(graph.notes, index, node.values, local, by_path=True)
    local = index.named(node.chart.name, node.chart.version)
    if local is not None:
        return _from_local(graph.notes, index, node.values, local)
    facts = chart_facts(node.chart.name, _repository(node))
    if facts is None or not facts.dependencies:
        return None
    return _from_catalog(graph, node, facts)


def _from_local(
    notes: list[Any], index: LocalCharts, values: Mapping[str, Any], local: LocalChart, *, by_path: bool = False
) -> _Chart:
    where = f"{local.path}/values.yaml" if not local.packaged else f"the values.yaml of {local.path}"
    label = f"{local.name} {local.version or '(no version)'} ({local.path})"
    merged = helm_values.coalesce(local.values, values)
    subcharts: list[_Subchart] = []
    merged = _expand(index, local, local.dependencies, merged, (), None, subcharts, notes, label, 0)
    return _Chart(
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
    found: list[_Subchart],
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
                _Subchart(
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


def _with_fix(subchart: _Subchart, target: str) -> _Subchart:
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
    dependencies = facts.dependencies_for(version)
    if dependencies is None:
        known = "; ".join(version_range for version_range, _ in facts.dependencies)
        notes.append(
            f"subchart-coupling: {label}: no subchart facts for {facts.name} {version}"
            f" (rail knows {facts.name} {known}): its subcharts are not checked"
        )
        return None
    defaults: dict[str, Any] = {}
    for item in dependencies:
        paths = condition_paths(item.condition)
        if paths:
            defaults[paths[0]] = item.default_enabled
    defaults.update(facts.defaults)
    return _Known(
        facts=facts,
        version=version,
        dependencies=tuple(LocalDependency(d.name, d.name, d.kind, d.condition, d.tags) for d in dependencies),
        defaults=helm_values.with_defaults({}, defaults),
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


def _enabled(chart: _Chart) -> Iterator[tuple[_Subchart, Decision]]:
    """The data-service subcharts Helm turns on, with what decided."""
    for subchart in chart.subcharts:
        if subchart.kind not in COUPLING_KINDS:
            continue
        decision = dependency_enabled(subchart.condition, subchart.tags, chart.merged)
        if decision.enabled:
            yield subchart, decision


def _deploys(chart: _Chart, subchart: _Subchart) -> str:
    """``... deploys its own database as subchart 'postgresql'`` (through an application subchart)."""
    named = f"'{subchart.name}'" + (f" ({subchart.chart})" if subchart.chart != subchart.name else "")
    own = f"its own {KIND_WORDS[subchart.kind]} as subchart {named}"
    if subchart.via:
        return f"deploys {subchart.via}, which deploys {own}"
    return f"deploys {own}"


def _coupling(graph: ReleaseGraph, node: ReleaseNode, chart: _Chart) -> Iterator[Finding]:
    for subchart, decision in _enabled(chart):
        what, location, related, decisive = _turned_on_by(graph, node, chart, subchart, decision)
        message = f"{chart.label} {_deploys(chart, subchart)}, turned on by {what}; {_fix(chart, subchart)}"
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
            hint=HINT,
        )
    if chart.facts is not None:
        yield from _bundled(graph, node, chart, chart.facts)


def _default_where(chart: _Chart, subchart: _Subchart, key: tuple[str, ...]) -> str:
    """Which values.yaml holds a default: the top chart's, or (nested) the bundling subchart's."""
    if not subchart.prefix or (
        chart.local is not None and path_value(chart.local.values, ".".join(key)) is not helm_values.MISSING
    ):
        return chart.defaults_where
    return subchart.defaults_where or chart.defaults_where


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
        related = (*related, *_defaults_location(chart, subchart, decision.key))
        return (
            f"chart default ({key}: true in {_default_where(chart, subchart, decision.key)})" + _skipped_text(decision),
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
        if node.ref.kind == "Application":
            # values_path is (<the source's key path>, "helm", <values key>): point at its path.
            return graph.node_location(node, (*node.values_path[:-2], "path")), ()
        return graph.node_location(node, ("spec", "chart", "spec", "chart")), ()
    fallback: tuple[str, ...]
    if node.ref.kind == "Application":
        fallback = ("spec", "source", "targetRevision")
    elif isinstance(spec.get("chart"), dict):
        fallback = ("spec", "chart", "spec", "version")
    else:
        fallback = ("spec", "chartRef")
    return graph.spec_location(node, ("chart", "version"), fallback)


def _defaults_location(chart: _Chart, subchart: _Subchart, key: tuple[str, ...]) -> tuple[Location, ...]:
    local = chart.local
    if local is None:
        return ()
    document = local.values_document
    if document is not None and key in document.positions:
        return (Location(*document.where(key)),)
    if subchart.prefix and subchart.top is not None:
        # A nested subchart's own default: the Chart.yaml entry that brings its parent in.
        return (Location(*local.dependency_location(subchart.top)),)
    if document is None:
        return (Location(local.path),)
    return (Location(*document.where(key)),)


def _fix(chart: _Chart, subchart: _Subchart) -> str:
    kind = subchart.kind
    paths = condition_paths(subchart.condition)
    if paths:
        off = f"set {paths[0]}: false"
    elif subchart.tags:
        # Off only when no tag is true and one is false.
        off = "set " + " and ".join(f"tags.{tag}: false" for tag in subchart.tags)
    elif subchart.prefix:
        off = f"turn off subchart '{subchart.key}' (it has no condition) or the subchart that bundles it"
    elif chart.local is not None:
        off = f"remove the dependency from {chart.local.path} (it has no condition)"
    else:
        off = "use a chart that does not bundle it (the dependency has no condition)"
    target = subchart.fix_target
    if target is None and not subchart.prefix and chart.facts is not None:
        target = chart.facts.fix.get(kind)
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


# --------------------------------------------------------------------------- explicit keys


def _explicit(graph: ReleaseGraph, node: ReleaseNode, chart: _Chart | None) -> Iterator[Finding]:
    """``valkey.enabled: true`` on a chart rail has no subchart facts about: the key is
    read as the chart's bundled service of that name (what such a key means in every
    chart that has one)."""
    if chart is not None and chart.local is not None:
        return  # the chart's own Chart.yaml says exactly which subcharts exist
    name = node.chart.name
    if name is None or DEPENDENCY_KINDS.get(name) in COUPLING_KINDS:
        return  # a data-service chart's own release
    facts = chart.facts if chart is not None else chart_facts(name, _repository(node))
    known: set[str] = set()
    why = f"{name} is not in rail's catalog"
    if facts is not None:
        if facts.service_class != APPLICATION:
            return
        if facts.dependencies_for(node.chart.version) is not None:
            known = facts.all_dependency_names()
            why = f"rail's catalog lists no subchart of that name for {name}"
        else:
            why = f"rail has no subchart facts for {name} {node.chart.version or '(no version)'}"
    for key, value in node.values.items():
        kind = DEPENDENCY_KINDS.get(key)
        if kind not in COUPLING_KINDS or key in known or not isinstance(value, Mapping):
            continue
        if value.get("enabled") is not True:
            continue
        location, related = graph.value_location(node, (key, "enabled"))
        yield Finding(
            rule=RULE.id,
            message=(
                f"{name} {node.chart.version or '(no version)'} is told to deploy its own {KIND_WORDS[kind]}:"
                f" {key}.enabled: true ({why}, so the key is read as the chart's bundled {key} subchart);"
                f" fix: set {key}.enabled: false and point the chart's {kind} settings at the S3 {kind} export"
            ),
            location=location,
            related=related,
            object=node.ref,
            hint=HINT,
        )


# --------------------------------------------------------------------------- charts nothing deploys


def _undeployed(
    graph: ReleaseGraph, index: LocalCharts, deployed: set[str], scope: tuple[str, ...]
) -> Iterator[Finding]:
    """Each chart folder or package in the linted ``scope`` that no release rail sees
    deploys (an ApplicationSet in a values file may): what it deploys with its own values.yaml."""
    referenced = {
        target.path
        for chart in index.by_path.values()
        for dependency in chart.dependencies
        if (target := index.referenced(chart, dependency)) is not None
    }
    for local in index.by_path.values():
        if local.path in deployed or local.path in referenced or index.inside_chart(local):
            continue
        if not any(_within(local.path, folder) for folder in scope):
            continue
        if DEPENDENCY_KINDS.get(local.name) in COUPLING_KINDS:
            continue  # a data-service chart's own copy
        facts = chart_facts(local.name)
        if facts is not None and facts.service_class != APPLICATION:
            continue
        chart = _from_local(graph.notes, index, {}, local)
        for subchart, decision in _enabled(chart):
            yield _undeployed_finding(local, chart, subchart, decision)


def _within(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def _undeployed_finding(local: LocalChart, chart: _Chart, subchart: _Subchart, decision: Decision) -> Finding:
    key = ".".join(decision.key)
    document = local.values_document
    top = subchart.top
    if decision.by in ("condition", "tags") and path_value(local.values, key) is True:
        what = f"{key}: true in {chart.defaults_where}"
        location = Location(*document.where(decision.key)) if document is not None else Location(local.path)
    else:
        if decision.by in ("condition", "tags"):
            what = f"chart default ({key}: true in {_default_where(chart, subchart, decision.key)})"
        elif subchart.condition is None and not subchart.tags:
            what = "chart default (the dependency has no condition: always on)"
        else:
            what = "chart default"
        location = Location(*local.dependency_location(top)) if top is not None else Location(local.path)
    kind = "packaged chart" if local.packaged else "chart folder"
    return Finding(
        rule=RULE.id,
        message=(
            f"{kind} {chart.label}, which no release rail sees deploys, would"
            f" {_deploys(chart, subchart).replace('deploys', 'deploy', 1)} with its own values.yaml,"
            f" turned on by {what}{_skipped_text(decision)}; {_fix(chart, subchart)}"
        ),
        location=location,
        hint=HINT,
    )


RULE = Rule(
    id="subchart-coupling",
    severity=ERROR,
    summary="an application chart deploys its own database, cache, broker or search engine",
    check=check,
    doc=__doc__ or "",
)
