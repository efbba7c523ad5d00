"""chart-generated-secret: a chart would invent a random password: neither the value nor an existing Secret is given.

Bitnami charts make up a password when none is given. For ``postgresql-ha`` and
``valkey`` (bitnami/common ``passwords.manage``) that means a new random password
on every render (``helm template`` cannot look the old one up), and a ``helm
upgrade`` that cannot read the generated Secret fails with "PASSWORDS ERROR: You
must provide your current passwords when upgrading the release"; a restored or
re-created release comes up with passwords nobody knows. ``valkey-cluster`` does not
even look the old one up: every upgrade changes it. Checked, with the chart's
defaults and the values the release really gets (``valuesFrom`` included):

- ``postgresql-ha``: the postgres user's password (``postgresql.password`` or
  ``global.postgresql.password``), the repmgr password (``postgresql.repmgrPassword``
  or its global) — both also given by ``postgresql.existingSecret`` /
  ``global.postgresql.existingSecret`` —, ``postgresql.postgresPassword`` when
  ``postgresql.username`` is not ``postgres``, and the pgpool admin password
  (``pgpool.adminPassword`` / global, or ``pgpool.existingSecret`` / global).
  pgpool has no password of its own: it logs in with the postgres user's.
- ``valkey`` with ``auth.enabled`` (the default): ``auth.password``,
  ``global.valkey.password`` or ``auth.existingSecret``.
- ``valkey-cluster`` with ``usePassword`` (the default): ``password``,
  ``global.valkey.password`` or ``existingSecret``.
- The same charts bundled as enabled subcharts of Gitea, under their alias
  (``postgresql-ha.postgresql.password``), over Gitea's own defaults.

When a ``valuesFrom`` object rail cannot read (a SOPS Secret, a missing object) may
hold the value, the finding is a warning that says so.

These are Bitnami's charts. Another publisher's chart of the same name is not checked:
the valkey.io project's ``valkey`` (``https://valkey.io/valkey-helm/``) has none of
these keys and defaults. The publisher is the chart repository's: the URL of the
HelmRepository or OCIRepository the release's chart comes from (when it is among the
linted files) or an Argo CD Application's ``repoURL``; without one, the chart is read
as Bitnami's.

Fails::

    # releases/s3/postgresql-ha.yaml
    chart: {source: bitnami, name: postgresql-ha, version: 16.3.4}
    values:
      postgresql:
        replicaCount: 3                  # no password, no existingSecret

Passes::

    values:
      postgresql:
        existingSecret: postgresql-ha-credentials   # password, repmgr-password, postgres-password
      pgpool:
        existingSecret: postgresql-ha-credentials   # admin-password, sr-check-password
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ...catalog import chart_facts
from .. import values as helm_values
from ..finding import ERROR, WARNING, Finding, Location
from ..graph import ReleaseGraph, ReleaseNode
from ..rule import GRAPH_WIDE, LintContext, Rule

UPGRADE = "`helm upgrade` fails with PASSWORDS ERROR when it cannot read the generated Secret"


@dataclass(frozen=True)
class Password:
    """One password a chart generates unless one of ``given`` or ``secrets`` is set."""

    what: str
    given: tuple[str, ...]  # values keys holding the password itself, in the chart's order
    secrets: tuple[str, ...]  # values keys naming an existing Secret that holds it
    consequence: str
    hint: str
    applies: Callable[[Mapping[str, Any]], bool] = lambda values: True


def _set(value: Any) -> bool:
    return value is not helm_values.MISSING and value is not None and value != ""


def _on(values: Mapping[str, Any], path: str) -> bool:
    """A boolean switch as Helm's ``if`` reads it; absent means the chart default (on)."""
    value = helm_values.get(values, path)
    return value is helm_values.MISSING or value not in (False, None, "", 0)


def _username(values: Mapping[str, Any]) -> Any:
    for path in ("global.postgresql.username", "postgresql.username"):
        value = helm_values.get(values, path)
        if _set(value):
            return value
    return "postgres"


_PG_SECRETS = ("postgresql.existingSecret", "global.postgresql.existingSecret")
_PG_HINT = (
    "set postgresql.existingSecret to a SOPS-encrypted Secret with the keys password, repmgr-password"
    " and postgres-password"
)
_PGPOOL_HINT = "set pgpool.existingSecret to a SOPS-encrypted Secret with the keys admin-password and sr-check-password"
_VALKEY_HINT = (
    "set {key} to a SOPS-encrypted Secret with the key valkey-password (or set its existingSecretPasswordKey)"
)

PASSWORDS: Mapping[str, tuple[Password, ...]] = {
    "postgresql-ha": (
        Password(
            what="the postgres user's password (Secret key 'password')",
            given=("global.postgresql.password", "postgresql.password"),
            secrets=_PG_SECRETS,
            consequence=(
                f"a new random password on every render, {UPGRADE}, and once the Secret and the database"
                " disagree pgpool, which logs in to PostgreSQL with this user's password, cannot connect"
            ),
            hint=_PG_HINT,
        ),
        Password(
            what="the repmgr password (Secret key 'repmgr-password')",
            given=("global.postgresql.repmgrPassword", "postgresql.repmgrPassword"),
            secrets=_PG_SECRETS,
            consequence=f"a new random password on every render, {UPGRADE}, and replication between the nodes breaks",
            hint=_PG_HINT,
        ),
        Password(
            what=(
                "the postgres superuser's password (Secret key 'postgres-password';"
                " postgresql.username is not postgres)"
            ),
            given=("postgresql.postgresPassword",),
            secrets=_PG_SECRETS,
            consequence=f"a new random password on every render, and {UPGRADE}",
            hint=_PG_HINT,
            applies=lambda values: _username(values) != "postgres",
        ),
        Password(
            what="the pgpool admin password (Secret key 'admin-password')",
            given=("global.pgpool.adminPassword", "pgpool.adminPassword"),
            secrets=("pgpool.existingSecret", "global.pgpool.existingSecret"),
            consequence=f"a new random password on every render, and {UPGRADE}",
            hint=_PGPOOL_HINT,
        ),
    ),
    "valkey": (
        Password(
            what="the Valkey password (auth.enabled)",
            given=("global.valkey.password", "auth.password"),
            secrets=("auth.existingSecret",),
            consequence=f"a new random password on every render, {UPGRADE}, and every client needs the new one",
            hint=_VALKEY_HINT.format(key="auth.existingSecret"),
            applies=lambda values: _on(values, "auth.enabled"),
        ),
    ),
    "valkey-cluster": (
        Password(
            what="the Valkey cluster password (usePassword)",
            given=("global.valkey.password", "password"),
            secrets=("existingSecret",),
            consequence=(
                "a new random password on every render: this chart never looks the old one up, so every"
                " upgrade changes it under the running cluster and its clients"
            ),
            hint=_VALKEY_HINT.format(key="existingSecret"),
            applies=lambda values: _on(values, "usePassword"),
        ),
    ),
}

# What a parent chart's own values.yaml sets for its bundled subcharts (read from
# ../shared/charts/subcharts.yaml): these beat the subchart's defaults.
PARENT_DEFAULTS: Mapping[str, Mapping[str, Mapping[str, Any]]] = {
    "gitea": {
        "postgresql-ha": {
            "global.postgresql.username": "gitea",
            "global.postgresql.password": "gitea",
            "postgresql.password": "changeme4",
            "postgresql.postgresPassword": "changeme1",
            "postgresql.repmgrPassword": "changeme2",
            "pgpool.adminPassword": "changeme3",
            "pgpool.srCheckPassword": "changeme4",
        },
        "valkey-cluster": {"usePassword": False},
        "valkey": {"global.valkey.password": "changeme"},
    },
}


# The publisher whose charts PASSWORDS describes (bitnami/common ``passwords.manage``).
BITNAMI = "oci://registry-1.docker.io/bitnamicharts"


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    for node in graph.releases.values():
        chart = node.chart.name
        if chart is None:
            continue
        if chart in PASSWORDS:
            facts = chart_facts(chart, node.chart.repository)
            if facts is None or not facts.repositories or facts.published_at(BITNAMI):
                values = helm_values.with_defaults(node.values, facts.defaults if facts else {})
                yield from _check(graph, node, chart, values, ())
        if chart in PARENT_DEFAULTS:
            yield from _subcharts(graph, node, chart)


def _subcharts(graph: ReleaseGraph, node: ReleaseNode, parent: str) -> Iterator[Finding]:
    # Another publisher's chart of the parent's name (Bitnami's gitea) has no subchart facts here.
    facts = chart_facts(parent, node.chart.repository)
    dependencies = facts.dependencies_for(node.chart.version) if facts else None
    for dependency in dependencies or ():
        defaults = PARENT_DEFAULTS[parent].get(dependency.name)
        if dependency.name not in PASSWORDS or defaults is None or not _enabled(dependency, node.values, facts):
            continue
        # A subchart's publisher is the one its parent's Chart.yaml names (Bitnami, for Gitea's).
        own = chart_facts(dependency.name)
        merged = helm_values.with_defaults({}, own.defaults if own else {})
        merged = helm_values.coalesce(merged, helm_values.with_defaults({}, defaults))
        subtree = node.values.get(dependency.name)
        if isinstance(subtree, dict):
            merged = helm_values.coalesce(merged, subtree)
        parent_global = node.values.get("global")
        if isinstance(parent_global, dict):
            # Helm hands the parent's globals down: they win over the subchart's own.
            merged = helm_values.coalesce(merged, {"global": parent_global})
        yield from _check(graph, node, dependency.name, merged, (dependency.name,))


def _enabled(dependency: Any, values: Mapping[str, Any], facts: Any) -> bool:
    """Helm's rule: the first ``condition`` path that resolves to a bool, then ``tags``, then the default."""
    defaults = helm_values.with_defaults(values, facts.defaults if facts else {})
    for path in (dependency.condition or "").split(","):
        value = helm_values.get(defaults, path.strip()) if path.strip() else helm_values.MISSING
        if isinstance(value, bool):
            return value
    tags = [helm_values.get(defaults, ("tags", tag)) for tag in dependency.tags]
    if any(value is True for value in tags):
        return True
    if tags and all(value is False for value in tags):
        return False
    return bool(dependency.default_enabled)


def _check(
    graph: ReleaseGraph, node: ReleaseNode, chart: str, values: Mapping[str, Any], prefix: tuple[str, ...]
) -> Iterator[Finding]:
    label = f"{chart} (subchart of '{node.ref.name}')" if prefix else f"{chart} release '{node.ref.name}'"
    for password in PASSWORDS[chart]:
        if not password.applies(values):
            continue
        keys = (*password.given, *password.secrets)
        if any(_set(helm_values.get(values, key)) for key in keys):
            continue
        shown = ", ".join(".".join((*prefix, key)) for key in keys)
        location, related = _location(graph, node, (*prefix, *password.secrets[0].split(".")))
        if node.unknown_values:
            sources = ", ".join(node.unknown_values)
            yield Finding(
                rule=RULE.id,
                message=(
                    f"{label}: {password.what} may come from {sources}, whose content rail cannot read, so it"
                    f" could not be checked; none of {shown} is set in the values rail can see. If it is not"
                    f" there, the chart generates it: {password.consequence}"
                ),
                location=location,
                related=related,
                object=node.ref,
                severity=WARNING,
                hint=f"make sure {sources} sets one of them, or {password.hint}",
            )
            continue
        yield Finding(
            rule=RULE.id,
            message=(
                f"{label} would generate {password.what} at random: none of {shown} is set. The result:"
                f" {password.consequence}"
            ),
            location=location,
            related=related,
            object=node.ref,
            hint=password.hint if not prefix else f"{password.hint} (under {prefix[0]}.)",
        )


def _location(
    graph: ReleaseGraph, node: ReleaseNode, values_path: tuple[str, ...]
) -> tuple[Location, tuple[Location, ...]]:
    """The nearest values key that exists on the way to ``values_path``, else the values or chart key."""
    parts = values_path
    while parts and helm_values.get(node.values, parts) is helm_values.MISSING:
        parts = parts[:-1]
    if parts:
        return graph.value_location(node, parts)
    spec = node.manifest.spec()
    fallback: tuple[str | int, ...]
    if node.ref.kind == "Application":
        fallback = node.values_path  # helm.valuesObject, else its nearest parent
    else:
        fallback = ("spec", "values") if "values" in spec else ("spec", "chartRef" if "chartRef" in spec else "chart")
    if node.spec is not None and graph.loaded is not None:
        document = graph.loaded.spec_documents.get(node.spec.origin)
        key = ("values",) if document is not None and ("values",) in document.positions else ("chart",)
        return graph.spec_location(node, key, fallback)
    return graph.node_location(node, fallback), ()


RULE = Rule(
    id="chart-generated-secret",
    scope=GRAPH_WIDE,  # values from valuesFrom objects and the stack's chart facts
    severity=ERROR,
    summary="a chart would invent a random password: neither the value nor an existing Secret is given",
    check=check,
    doc=__doc__ or "",
)
