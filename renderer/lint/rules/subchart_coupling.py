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

from collections.abc import Iterator, Mapping
from typing import Any

from ...catalog import COUPLING_KINDS, DEPENDENCY_KINDS, ChartFacts, chart_facts
from .. import values as helm_values
from ..charts import LocalChart, LocalCharts, dependency_enabled, discover, path_value
from ..charts.helm import Decision, condition_paths
from ..charts.resolve import APPLICATION, ResolvedChart, Subchart, chart_repository, from_local, resolve_chart
from ..finding import ERROR, WARNING, Finding, Location
from ..graph import ReleaseGraph, ReleaseNode
from ..rule import GRAPH_WIDE, LintContext, Rule

KIND_WORDS = {"database": "database", "cache": "cache", "broker": "message broker", "search": "search engine"}
HINT = "an application uses the platform's S3 services; its chart must not run its own"


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    skip = [graph.config.output] if graph.config.output else []
    index = discover(context.root, skip) if context.root is not None else LocalCharts()
    graph.notes.extend(index.notes)
    deployed: set[str] = set()
    for node in graph.releases.values():
        if node.service_class not in (None, APPLICATION):
            continue
        chart = resolve_chart(graph, node, index)
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


# --------------------------------------------------------------------------- findings


def _enabled(chart: ResolvedChart) -> Iterator[tuple[Subchart, Decision]]:
    """The data-service subcharts Helm turns on, with what decided."""
    for subchart in chart.subcharts:
        if subchart.kind not in COUPLING_KINDS:
            continue
        decision = dependency_enabled(subchart.condition, subchart.tags, chart.merged)
        if decision.enabled:
            yield subchart, decision


def _deploys(chart: ResolvedChart, subchart: Subchart) -> str:
    """``... deploys its own database as subchart 'postgresql'`` (through an application subchart)."""
    named = f"'{subchart.name}'" + (f" ({subchart.chart})" if subchart.chart != subchart.name else "")
    own = f"its own {KIND_WORDS[subchart.kind]} as subchart {named}"
    if subchart.via:
        return f"deploys {subchart.via}, which deploys {own}"
    return f"deploys {own}"


def _coupling(graph: ReleaseGraph, node: ReleaseNode, chart: ResolvedChart) -> Iterator[Finding]:
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


def _default_where(chart: ResolvedChart, subchart: Subchart, key: tuple[str, ...]) -> str:
    """Which values.yaml holds a default: the top chart's, or (nested) the bundling subchart's."""
    if not subchart.prefix or (
        chart.local is not None and path_value(chart.local.values, ".".join(key)) is not helm_values.MISSING
    ):
        return chart.defaults_where
    return subchart.defaults_where or chart.defaults_where


def _turned_on_by(
    graph: ReleaseGraph, node: ReleaseNode, chart: ResolvedChart, subchart: Subchart, decision: Decision
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


def _chart_location(
    graph: ReleaseGraph, node: ReleaseNode, chart: ResolvedChart
) -> tuple[Location, tuple[Location, ...]]:
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


def _defaults_location(chart: ResolvedChart, subchart: Subchart, key: tuple[str, ...]) -> tuple[Location, ...]:
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


def _fix(chart: ResolvedChart, subchart: Subchart) -> str:
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


def _bundled(graph: ReleaseGraph, node: ReleaseNode, chart: ResolvedChart, facts: ChartFacts) -> Iterator[Finding]:
    for bundled in facts.bundled_for(node.chart.version):
        name, kind, key = bundled.name, bundled.kind, bundled.key
        if not _same(path_value(chart.merged, key), bundled.value):
            continue
        setting = f"{key}: {_yaml_scalar(bundled.value)}"
        if _same(path_value(node.values, key), bundled.value):
            what = setting
            location, related = graph.value_location(node, key.split("."))
        else:
            what = f"chart default ({setting})"
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


def _same(value: Any, bundling: str | bool) -> bool:
    # True == 1 in Python; a values 1 is not Helm's true.
    return type(value) is type(bundling) and value == bundling


def _yaml_scalar(value: str | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else value


def _stale(graph: ReleaseGraph, node: ReleaseNode, chart: ResolvedChart) -> Iterator[Finding]:
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


def _explicit(graph: ReleaseGraph, node: ReleaseNode, chart: ResolvedChart | None) -> Iterator[Finding]:
    """``valkey.enabled: true`` on a chart rail has no subchart facts about: the key is
    read as the chart's bundled service of that name (what such a key means in every
    chart that has one)."""
    if chart is not None and chart.local is not None:
        return  # the chart's own Chart.yaml says exactly which subcharts exist
    name = node.chart.name
    if name is None or DEPENDENCY_KINDS.get(name) in COUPLING_KINDS:
        return  # a data-service chart's own release
    facts = chart.facts if chart is not None else chart_facts(name, chart_repository(node))
    known: set[str] = set()
    why = f"{name} is not in rail's catalog"
    if facts is not None:
        if facts.service_class != APPLICATION:
            return
        if facts.dependencies_for(node.chart.version) is not None:
            # Another version line's subchart is the stale-key check's; a bundled
            # switch of this version is _bundled's.
            known = facts.all_dependency_names()
            known |= {bundled.key.split(".")[0] for bundled in facts.bundled_for(node.chart.version)}
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
        chart = from_local(graph.notes, index, {}, local)
        for subchart, decision in _enabled(chart):
            yield _undeployed_finding(local, chart, subchart, decision)


def _within(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def _undeployed_finding(local: LocalChart, chart: ResolvedChart, subchart: Subchart, decision: Decision) -> Finding:
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
    scope=GRAPH_WIDE,  # values from valuesFrom objects, chart folders found in the tree
    severity=ERROR,
    summary="an application chart deploys its own database, cache, broker or search engine",
    check=check,
    doc=__doc__ or "",
)
