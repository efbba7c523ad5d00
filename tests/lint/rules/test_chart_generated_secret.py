"""chart-generated-secret beyond its cases: which keys count as given, Helm's null and
global semantics, subcharts, chartRef, and where findings point."""

from __future__ import annotations

import pytest

from renderer.catalog import Dependency
from renderer.lint.finding import ERROR, WARNING, Finding
from renderer.lint.graph import build
from renderer.lint.manifests import parse
from renderer.lint.rule import LintContext
from renderer.lint.rules import chart_generated_secret
from renderer.lint.rules.chart_generated_secret import _enabled
from renderer.model import StackConfig


def _release(chart: str, values: str = "", version: str = "1.0.0", extra: str = "") -> str:
    body = f"  values:\n{values}" if values else ""
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: r\n  namespace: platform\n"
        f"spec:\n  interval: 10m\n  chart:\n    spec: {{chart: {chart}, version: {version},"
        f" sourceRef: {{kind: HelmRepository, name: bitnami}}}}\n{extra}{body}"
    )


def _lint(text: str) -> list[Finding]:
    graph = build(StackConfig.default(), parse(text, "repo.yaml"))
    return list(chart_generated_secret.check(LintContext(graph=graph)))


def _what(findings: list[Finding]) -> list[str]:
    return sorted(f.message.split(" would generate ")[1].split(" (")[0] for f in findings)


def test_docstring_is_the_rule_documentation() -> None:
    doc = chart_generated_secret.RULE.doc
    assert doc.startswith("chart-generated-secret: ")
    assert "Fails::" in doc and "Passes::" in doc


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ("", ["the pgpool admin password", "the postgres user's password", "the repmgr password"]),
        (
            "    postgresql: {password: a, repmgrPassword: b}\n    pgpool: {adminPassword: c}\n",
            [],
        ),
        # The global keys win in the chart, so they count as given too.
        (
            "    global:\n      postgresql: {password: a, repmgrPassword: b}\n      pgpool: {adminPassword: c}\n",
            [],
        ),
        # An existing Secret covers every password it holds.
        ("    postgresql: {existingSecret: pg}\n", ["the pgpool admin password"]),
        ("    pgpool: {existingSecret: pg}\n", ["the postgres user's password", "the repmgr password"]),
        # Empty strings and nulls are not values: the chart generates one.
        (
            "    postgresql: {existingSecret: '', password: null}\n    pgpool: {existingSecret: pg}\n",
            ["the postgres user's password", "the repmgr password"],
        ),
        # A Flux ${VAR} substitution is a value.
        ("    postgresql: {existingSecret: '${PG_SECRET}'}\n    pgpool: {existingSecret: pg}\n", []),
        # postgresPassword matters only for a user other than postgres.
        (
            "    postgresql: {username: app, password: a, repmgrPassword: b}\n    pgpool: {existingSecret: pg}\n",
            ["the postgres superuser's password"],
        ),
        (
            "    global: {postgresql: {username: app}}\n    postgresql: {existingSecret: pg}\n"
            "    pgpool: {existingSecret: pg}\n",
            [],
        ),
    ],
)
def test_postgresql_ha(values: str, missing: list[str]) -> None:
    findings = _lint(_release("postgresql-ha", values))
    assert _what(findings) == missing
    assert all(f.severity == "" for f in findings)  # the rule's severity: error


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        ("", True),
        ("    auth: {enabled: true}\n", True),
        ("    auth: {enabled: false}\n", False),
        ("    auth: {password: '${VALKEY_PASSWORD}'}\n", False),
        ("    auth: {existingSecret: valkey}\n", False),
        ("    global: {valkey: {password: x}}\n", False),
    ],
)
def test_valkey(values: str, flagged: bool) -> None:
    assert bool(_lint(_release("valkey", values))) is flagged


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        ("", True),
        ("    usePassword: false\n", False),
        ("    existingSecret: vc\n", False),
        ("    password: '${VALKEY_PASSWORD}'\n", False),
        ("    global: {valkey: {password: x}}\n", False),  # the chart reads the global first
    ],
)
def test_valkey_cluster(values: str, flagged: bool) -> None:
    assert bool(_lint(_release("valkey-cluster", values))) is flagged


def test_other_charts_are_not_checked() -> None:
    assert _lint(_release("grafana")) == []


def test_chart_ref_to_an_oci_repository() -> None:
    text = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: valkey, namespace: platform}
spec:
  url: oci://registry-1.docker.io/bitnamicharts/valkey
  ref: {tag: 4.0.2}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: valkey, namespace: platform}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: valkey}
"""
    findings = _lint(text)
    assert [f.line for f in findings] == [14]  # the chartRef: no values to point at


def test_location_is_the_nearest_values_key() -> None:
    findings = _lint(_release("valkey", "    auth:\n      enabled: true\n    architecture: standalone\n"))
    assert [f.line for f in findings] == [11]  # auth:


def test_a_config_map_supplies_the_secret() -> None:
    extra = "  valuesFrom:\n    - {kind: ConfigMap, name: valkey-values}\n"
    config_map = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: valkey-values, namespace: platform}\n"
        "data:\n  values.yaml: |\n    auth:\n      existingSecret: valkey\n"
    )
    assert _lint(_release("valkey", extra=extra) + config_map) == []


def test_an_unreadable_values_source_downgrades_to_a_warning_naming_it() -> None:
    extra = "  valuesFrom:\n    - {kind: Secret, name: missing-values}\n"
    findings = _lint(_release("valkey", extra=extra))
    assert [f.severity for f in findings] == [WARNING]
    assert "may come from Secret platform/missing-values" in findings[0].message


GITEA = "    postgresql-ha:\n      enabled: true\n{body}    valkey-cluster:\n      enabled: {cluster}\n{valkey}"


def test_gitea_defaults_give_the_subcharts_passwords() -> None:
    assert _lint(_release("gitea", version="12.4.0")) == []


def test_gitea_subchart_password_removed() -> None:
    body = "      postgresql:\n        repmgrPassword: null\n"
    findings = _lint(_release("gitea", GITEA.format(body=body, cluster="false", valkey=""), version="12.4.0"))
    assert _what(findings) == ["the repmgr password"]
    assert "postgresql-ha (subchart of 'r')" in findings[0].message
    assert "postgresql-ha.postgresql.repmgrPassword" in findings[0].message


def test_gitea_parent_globals_reach_the_subchart() -> None:
    body = "      pgpool:\n        adminPassword: ''\n"
    values = "    global:\n      pgpool:\n        adminPassword: '${PGPOOL_ADMIN}'\n" + GITEA.format(
        body=body, cluster="false", valkey=""
    )
    assert _lint(_release("gitea", values, version="12.4.0")) == []


def test_gitea_disabled_subchart_is_not_checked() -> None:
    values = "    postgresql-ha:\n      enabled: false\n      postgresql: {password: null, repmgrPassword: null}\n"
    assert _lint(_release("gitea", values, version="12.4.0")) == []


def test_gitea_valkey_cluster_with_password_turned_on() -> None:
    values = "    valkey-cluster:\n      usePassword: true\n"
    findings = _lint(_release("gitea", values, version="12.4.0"))
    assert len(findings) == 1
    assert "valkey-cluster (subchart of 'r')" in findings[0].message
    assert findings[0].severity != WARNING


@pytest.mark.parametrize(
    ("dependency", "values", "enabled"),
    [
        (Dependency("db", "database", condition="db.enabled", default_enabled=True), {}, True),
        (Dependency("db", "database", condition="db.enabled", default_enabled=True), {"db": {"enabled": False}}, False),
        # The first condition path that resolves wins.
        (
            Dependency("db", "database", condition="a.on,b.on", default_enabled=False),
            {"a": {"x": 1}, "b": {"on": True}},
            True,
        ),
        (
            Dependency("db", "database", condition=None, tags=("t",), default_enabled=True),
            {"tags": {"t": False}},
            False,
        ),
        (Dependency("db", "database", condition=None, tags=("t",), default_enabled=False), {"tags": {"t": True}}, True),
    ],
)
def test_enabled_follows_helm(dependency: Dependency, values: dict[str, object], enabled: bool) -> None:
    assert _enabled(dependency, values, None) is enabled


def test_rule_severity() -> None:
    assert chart_generated_secret.RULE.severity == ERROR
