"""ha-policy: an HA release without the guarantees that make it highly available.

A release is HA when its spec says ``ha: true``, its manifest carries the
annotation ``railiance.io/ha: "true"``, or its chart is ``postgresql-ha``
(nobody installs that chart for one replica). An HA PostgreSQL must survive
losing a node and a botched upgrade, which takes, each reported on its own key:

- at least 3 PostgreSQL replicas (``postgresql.replicaCount``, chart default 3;
  the minimum is the option ``min_replicas``): with two, a failover has no
  majority to decide with;
- a pgpool (``pgpool.replicaCount`` >= 1): the one address that follows the
  primary across a failover;
- persistence (``persistence.enabled``, default true): without it a restarted
  replica comes back empty;
- PodDisruptionBudgets (``postgresql.pdb.create`` and ``pgpool.pdb.create``,
  default true): without them one node drain may evict every replica at once;
- Flux remediation on install and on upgrade
  (``spec.install.remediation.retries`` and ``spec.upgrade.remediation.retries``
  above 0, or -1 for unlimited; absent means none): a failed upgrade of a
  database is otherwise left half-applied. For an Argo CD Application the
  counterpart is a sync retry: ``spec.syncPolicy.retry.limit`` above 0 (or
  negative, unlimited); absent or 0 means a failed sync is not retried.

Values are the chart's defaults under the values the release really gets.
When a ``valuesFrom`` object's content is unknown (a SOPS Secret, a missing
object) and the release's own values do not settle the key, the finding is a
warning that says so. An HA release of any other chart is checked only for
remediation: replica keys differ from chart to chart.

Options (``lint.rules.ha-policy.options`` in rail.yaml): ``min_replicas``
(integer, default 3), the fewest PostgreSQL replicas an HA release may run.

Fails::

    # releases/s3/postgresql-ha.yaml
    ha: true
    chart: {source: bitnami, name: postgresql-ha, version: 16.3.4}
    values:
      postgresql:
        replicaCount: 1

Passes::

    ha: true
    chart: {source: bitnami, name: postgresql-ha, version: 16.3.4}
    values:
      postgresql:
        replicaCount: 3
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ...catalog import chart_facts
from .. import values as helm_values
from ..finding import ERROR, WARNING, Finding, Location
from ..graph import ReleaseGraph, ReleaseNode
from ..rule import GRAPH_WIDE, LintContext, Rule

HA_CHART = "postgresql-ha"
DEFAULT_MIN_REPLICAS = 3


@dataclass(frozen=True)
class _Guarantee:
    path: str  # values key
    what: str  # what is missing, in words
    hint: str


_PGPOOL = _Guarantee(
    "pgpool.replicaCount",
    "has no pgpool (pgpool.replicaCount{value}): clients lose their one address that follows the primary",
    "set pgpool.replicaCount: 1 or more",
)
_PERSISTENCE = _Guarantee(
    "persistence.enabled",
    "has persistence off (persistence.enabled{value}): a restarted replica comes back without its data",
    "set persistence.enabled: true",
)
_PDBS = (
    _Guarantee(
        "postgresql.pdb.create",
        "has no PodDisruptionBudget for PostgreSQL (postgresql.pdb.create{value}):"
        " one node drain may evict every replica at once",
        "set postgresql.pdb.create: true",
    ),
    _Guarantee(
        "pgpool.pdb.create",
        "has no PodDisruptionBudget for pgpool (pgpool.pdb.create{value}): a node drain may take pgpool down",
        "set pgpool.pdb.create: true",
    ),
)


def _truthy(value: Any) -> bool:
    """Go template truth, as a chart's ``{{ if }}`` sees the value."""
    return not (value is None or value is False or value == 0 or value in ("", [], {}))


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _source(node: ReleaseNode, path: str) -> tuple[str, bool]:
    """(where the value came from, in words; whether it is certain)."""
    inline = node.inline_values
    if helm_values.get(inline if isinstance(inline, dict) else {}, path) is not helm_values.MISSING:
        return "", True
    certain = not node.unknown_values
    if helm_values.get(node.values, path) is not helm_values.MISSING:
        return "", certain
    return ", chart default", certain


def _value_location(graph: ReleaseGraph, node: ReleaseNode, path: str) -> tuple[Location, tuple[Location, ...]]:
    """Where ``path`` was set: the spec or values file, the manifest's values, or the
    ``valuesFrom`` list when a ConfigMap or Secret found in the repository set it."""
    location, related = graph.value_location(node, path.split("."))
    # An Argo CD Application has no valuesFrom: its values are all in the manifest.
    no_spec = node.spec is None and node.ref.kind != "Application"
    if no_spec and helm_values.get(node.values, path) is not helm_values.MISSING:
        inline = node.inline_values
        if helm_values.get(inline if isinstance(inline, dict) else {}, path) is helm_values.MISSING:
            return graph.node_location(node, ("spec", "valuesFrom")), ()
    return location, related


def _finding(graph: ReleaseGraph, node: ReleaseNode, path: str, message: str, hint: str, certain: bool) -> Finding:
    location, related = _value_location(graph, node, path)
    severity = ""
    if not certain:
        severity = WARNING
        message += (
            f"; unless {', '.join(node.unknown_values)} sets it: the values of those objects are not known to rail"
        )
    return Finding(
        rule=RULE.id,
        severity=severity,
        message=f"HA release '{node.ref.name}' {message}",
        location=location,
        related=related,
        object=node.ref,
        hint=hint,
    )


def _postgresql_ha(graph: ReleaseGraph, node: ReleaseNode, min_replicas: int) -> Iterator[Finding]:
    facts = chart_facts(HA_CHART, node.chart.repository)
    effective = helm_values.with_defaults(node.values, facts.defaults if facts else {})
    path = "postgresql.replicaCount"
    replicas = _integer(helm_values.get(effective, path))
    if replicas is not None and replicas < min_replicas:
        origin, certain = _source(node, path)
        yield _finding(
            graph,
            node,
            path,
            f"runs {replicas} PostgreSQL replica{'s' if replicas != 1 else ''} ({path}{origin});"
            f" an HA database needs at least {min_replicas} so a failover still has a majority",
            f"set {path}: {min_replicas} or more",
            certain,
        )
    pgpool = _integer(helm_values.get(effective, _PGPOOL.path))
    if pgpool is not None and pgpool < 1:
        origin, certain = _source(node, _PGPOOL.path)
        yield _finding(graph, node, _PGPOOL.path, _PGPOOL.what.format(value=origin), _PGPOOL.hint, certain)
    for guarantee in (_PERSISTENCE, *_PDBS):
        value = helm_values.get(effective, guarantee.path)
        if value is helm_values.MISSING or _truthy(value):
            continue
        origin, certain = _source(node, guarantee.path)
        yield _finding(graph, node, guarantee.path, guarantee.what.format(value=origin), guarantee.hint, certain)


def _remediates(manifest_spec: dict[str, Any], action: str) -> bool:
    section = manifest_spec.get(action)
    remediation = section.get("remediation") if isinstance(section, dict) else None
    retries = _integer(remediation.get("retries")) if isinstance(remediation, dict) else None
    return retries is not None and (retries > 0 or retries == -1)


def _retries(graph: ReleaseGraph, node: ReleaseNode) -> Iterator[Finding]:
    """Argo CD's counterpart of Flux remediation: ``spec.syncPolicy.retry.limit``."""
    policy = node.manifest.spec().get("syncPolicy")
    retry = policy.get("retry") if isinstance(policy, dict) else None
    limit = _integer(retry.get("limit")) if isinstance(retry, dict) else None
    if limit is not None and limit != 0:
        return  # above 0, or negative: unlimited
    yield Finding(
        rule=RULE.id,
        message=(
            f"HA release '{node.ref.name}' has no sync retry (spec.syncPolicy.retry.limit absent or 0):"
            " a failed sync of the database is left half-applied until someone syncs it again"
        ),
        location=graph.node_location(node, ("spec", "syncPolicy", "retry", "limit")),
        object=node.ref,
        hint="set spec.syncPolicy.retry.limit above 0 (or -1 for unlimited), with a backoff",
    )


def _remediation(graph: ReleaseGraph, node: ReleaseNode) -> Iterator[Finding]:
    if node.ref.kind == "Application":
        yield from _retries(graph, node)
        return
    spec = node.manifest.spec()
    for action, failure in (
        ("install", "a failed install is left half-applied"),
        ("upgrade", "a failed upgrade is left half-applied, not rolled back"),
    ):
        if _remediates(spec, action):
            continue
        rendered_key = ("spec", action, "remediation", "retries")
        location: Location
        related: tuple[Location, ...] = ()
        if node.spec is not None:
            location, related = graph.spec_location(node, ("flux", action, "retries"), rendered_key)
            hint = f"set flux.{action}.retries (in the spec, or flux.release.{action}.retries in rail.yaml) above 0"
        else:
            location = graph.node_location(node, rendered_key)
            hint = f"set spec.{action}.remediation.retries above 0 (or -1 for unlimited)"
        yield Finding(
            rule=RULE.id,
            message=(
                f"HA release '{node.ref.name}' has no {action} remediation"
                f" (spec.{action}.remediation.retries absent or 0): {failure}"
            ),
            location=location,
            related=related,
            object=node.ref,
            hint=hint,
        )


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    option = context.option(RULE.id, "min_replicas", DEFAULT_MIN_REPLICAS)
    min_replicas = option if isinstance(option, int) and not isinstance(option, bool) else DEFAULT_MIN_REPLICAS
    for node in graph.releases.values():
        postgresql_ha = node.chart.name == HA_CHART
        if not (node.ha or postgresql_ha):
            continue
        if postgresql_ha:
            yield from _postgresql_ha(graph, node, min_replicas)
        yield from _remediation(graph, node)


RULE = Rule(
    id="ha-policy",
    scope=GRAPH_WIDE,  # values from valuesFrom objects and the spec that locates them
    severity=ERROR,
    summary="an HA release without enough replicas, a pgpool, persistence, a PDB, Flux remediation or Argo CD retry",
    check=check,
    doc=__doc__ or "",
    options_schema={"min_replicas": {"type": "integer", "minimum": 1}},
)
