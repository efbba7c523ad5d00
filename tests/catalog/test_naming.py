"""How rail predicts a chart's Service names (renderer.catalog.naming).

``helm_fullname`` must agree with the ``<chart>.fullname`` helper every common chart
(Bitnami's ``common.names.fullname`` included) uses; ``service_host`` maps an
export's ``service`` (a catalog role or a pattern) to the Service that will exist.
"""

from __future__ import annotations

from typing import Any

import pytest

from renderer.catalog import chart_naming, helm_fullname, service_host

FULLNAMES: list[tuple[str, str, dict[str, Any], str]] = [
    # (release name, chart, values, expected fullname)
    ("postgresql-ha", "postgresql-ha", {}, "postgresql-ha"),  # the release contains the chart name
    ("my-postgresql-ha-db", "postgresql-ha", {}, "my-postgresql-ha-db"),
    ("pg", "postgresql-ha", {}, "pg-postgresql-ha"),
    ("gitea", "postgresql-ha", {}, "gitea-postgresql-ha"),  # Gitea's bundled subchart
    ("valkey", "valkey", {}, "valkey"),
    ("cache", "valkey", {}, "cache-valkey"),
    ("db", "postgresql-ha", {"nameOverride": "pg"}, "db-pg"),
    ("mypg", "postgresql-ha", {"nameOverride": "pg"}, "mypg"),  # the release contains nameOverride
    ("db", "postgresql-ha", {"nameOverride": ""}, "db-postgresql-ha"),
    ("db", "postgresql-ha", {"fullnameOverride": "main-db"}, "main-db"),
    ("db", "postgresql-ha", {"fullnameOverride": "main-db", "nameOverride": "pg"}, "main-db"),
    ("db", "postgresql-ha", {"fullnameOverride": ""}, "db-postgresql-ha"),
    ("db", "postgresql-ha", {"fullnameOverride": None}, "db-postgresql-ha"),
    # Truncated to 63 characters, then a trailing '-' trimmed:
    ("a" * 70, "valkey", {}, "a" * 63),
    ("a" * 50, "postgresql-ha", {}, ("a" * 50 + "-postgresql-ha")[:63]),
    ("a" * 62 + "-x", "valkey", {}, "a" * 62),
    ("v" * 70 + "valkey", "valkey", {}, "v" * 63),  # contains the chart name: truncated as is
    ("db", "valkey", {"fullnameOverride": "b" * 62 + "-c"}, "b" * 62),
    ("db", "valkey", {"fullnameOverride": "c" * 80}, "c" * 63),
]


@pytest.mark.parametrize(("release", "chart", "values", "expected"), FULLNAMES)
def test_helm_fullname(release: str, chart: str, values: dict[str, Any], expected: str) -> None:
    name = helm_fullname(release, chart, values)
    assert name == expected
    assert len(name) <= 63
    assert not name.endswith("-")


SERVICES: list[tuple[str, str, str, dict[str, Any], str]] = [
    # (service role or pattern, release name, chart, values, expected Service name)
    ("pgpool", "postgresql-ha", "postgresql-ha", {}, "postgresql-ha-pgpool"),
    ("postgresql", "postgresql-ha", "postgresql-ha", {}, "postgresql-ha-postgresql"),
    ("postgresql-headless", "postgresql-ha", "postgresql-ha", {}, "postgresql-ha-postgresql-headless"),
    ("pgpool", "pg", "postgresql-ha", {}, "pg-postgresql-ha-pgpool"),
    ("pgpool", "gitea", "postgresql-ha", {}, "gitea-postgresql-ha-pgpool"),
    ("pgpool", "db", "postgresql-ha", {"fullnameOverride": "main"}, "main-pgpool"),
    ("primary", "valkey", "valkey", {}, "valkey-primary"),
    ("replicas", "valkey", "valkey", {}, "valkey-replicas"),
    ("headless", "valkey", "valkey", {}, "valkey-headless"),
    ("primary", "cache", "valkey", {"nameOverride": "kv"}, "cache-kv-primary"),
    ("cluster", "valkey-cluster", "valkey-cluster", {}, "valkey-cluster"),
    ("headless", "gitea", "valkey-cluster", {}, "gitea-valkey-cluster-headless"),
    ("primary", "pg", "postgresql", {}, "pg-postgresql"),
    ("headless", "pg", "postgresql", {}, "pg-postgresql-hl"),
    ("http", "gitea", "gitea", {}, "gitea-http"),
    ("ssh", "gitea", "gitea", {}, "gitea-ssh"),
    # Patterns over {fullname} and {release}, for charts or Services rail does not know:
    ("{fullname}-http", "git", "gitea", {}, "git-gitea-http"),
    ("{fullname}", "valkey", "valkey", {}, "valkey"),
    ("{release}-api", "app", "unknown-chart", {}, "app-api"),
    ("{release}-{fullname}", "app", "web", {}, "app-app-web"),
    ("plain-service", "app", "unknown-chart", {}, "plain-service"),
]


@pytest.mark.parametrize(("service", "release", "chart", "values", "expected"), SERVICES)
def test_service_host(service: str, release: str, chart: str, values: dict[str, Any], expected: str) -> None:
    assert service_host(service, release_name=release, chart=chart, values=values) == expected


@pytest.mark.parametrize(
    "service",
    [
        "{__class__}",
        "{fullname.__class__}",
        "{fullname.__init__.__globals__}",
        "{0}",
        "{}",
        "{release!r}",
        "{release:>99}",
        "{fullname",
        "fullname}",
        "{FULLNAME}",
        "Primary",  # roles are exact
        "svc.other-namespace",
        "../etc",
        "a b",
        "",
    ],
)
def test_service_patterns_that_are_refused(service: str) -> None:
    assert service_host(service, release_name="valkey", chart="valkey", values={}) is None


def test_service_name_longer_than_63_is_refused() -> None:
    values = {"fullnameOverride": "f" * 60}
    assert service_host("{fullname}", release_name="r", chart="valkey", values=values) == "f" * 60
    assert service_host("primary", release_name="r", chart="valkey", values=values) is None


def test_an_unknown_chart_has_no_roles() -> None:
    assert chart_naming("no-such-chart").services == {}
    assert set(chart_naming("postgresql-ha").services) == {"pgpool", "postgresql", "postgresql-headless"}
    assert set(chart_naming("valkey").services) == {"primary", "replicas", "headless"}


def test_a_bare_name_on_a_catalog_chart_is_a_typo_not_a_host() -> None:
    # valkey has no 'pgpool' Service: a host built from it would never resolve.
    assert service_host("pgpool", release_name="valkey", chart="valkey", values={}) is None
    assert service_host("primary", release_name="valkey", chart="valkey", values={}) == "valkey-primary"
    # A chart rail does not know may name its Service plainly.
    assert service_host("my-svc", release_name="app", chart="unknown-chart", values={}) == "my-svc"
