"""Facts about well-known charts: what they are, which data services they bundle
as subcharts in which versions, and the defaults rail's rules need.

Read from the charts' own Chart.yaml and values.yaml (see ``../shared/charts``);
written here in rail's own form. A chart that is not here can still be linted
from its folder or packaged ``.tgz`` inside the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .versions import in_range

# What a bundled dependency is, by the chart it pulls in: used for local charts too.
DEPENDENCY_KINDS: Mapping[str, str] = {
    "postgresql": "database",
    "postgresql-ha": "database",
    "mysql": "database",
    "mariadb": "database",
    "mariadb-galera": "database",
    "mongodb": "database",
    "clickhouse": "database",
    "cassandra": "database",
    "cockroachdb": "database",
    "redis": "cache",
    "redis-cluster": "cache",
    "valkey": "cache",
    "valkey-cluster": "cache",
    "memcached": "cache",
    "keydb": "cache",
    "dragonfly": "cache",
    "rabbitmq": "broker",
    "kafka": "broker",
    "nats": "broker",
    "elasticsearch": "search",
    "opensearch": "search",
    "meilisearch": "search",
    "minio": "storage",
}
COUPLING_KINDS = frozenset({"database", "cache", "broker", "search"})


@dataclass(frozen=True)
class Dependency:
    """One Chart.yaml dependency. ``name`` is the alias if the chart sets one:
    Helm reads its values (and its ``condition``) under that name."""

    name: str
    kind: str
    condition: str | None = None
    tags: tuple[str, ...] = ()
    default_enabled: bool = True


@dataclass(frozen=True)
class ChartFacts:
    name: str
    service_class: str
    # (version range, dependencies); the first range that matches wins.
    dependencies: tuple[tuple[str, tuple[Dependency, ...]], ...] = ()
    # Components a chart deploys from its own templates, switched by a value
    # (Harbor's database.type: internal): coupling as much as a subchart is.
    bundled: tuple[tuple[str, str, str, str], ...] = ()  # (name, kind, key, value that bundles)
    fix: Mapping[str, str] = field(default_factory=dict)  # kind -> values key for the external service
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def dependencies_for(self, version: str | None) -> tuple[Dependency, ...] | None:
        """The dependencies of ``version``, or None when no known range covers it."""
        for version_range, dependencies in self.dependencies:
            if version is not None and in_range(version, version_range):
                return dependencies
        return None

    def all_dependency_names(self) -> set[str]:
        return {dep.name for _, deps in self.dependencies for dep in deps}


def _dep(name: str, kind: str, default: bool, *, condition: str | None = "", tags: tuple[str, ...] = ()) -> Dependency:
    return Dependency(
        name=name,
        kind=kind,
        condition=f"{name}.enabled" if condition == "" else condition,
        tags=tags,
        default_enabled=default,
    )


CHARTS: Mapping[str, ChartFacts] = {
    facts.name: facts
    for facts in (
        ChartFacts(
            name="gitea",
            service_class="application",
            dependencies=(
                (
                    ">=12.0.0 <13.0.0",
                    (
                        _dep("postgresql", "database", False),
                        _dep("postgresql-ha", "database", True),
                        _dep("valkey-cluster", "cache", True),
                        _dep("valkey", "cache", False),
                    ),
                ),
                (
                    ">=11.0.0 <12.0.0",
                    (
                        _dep("postgresql", "database", False),
                        _dep("postgresql-ha", "database", True),
                        _dep("redis-cluster", "cache", True),
                        _dep("redis", "cache", False),
                    ),
                ),
            ),
            fix={"database": "gitea.config.database", "cache": "gitea.config.cache (and session, queue)"},
            defaults={"persistence.enabled": True},
        ),
        ChartFacts(
            name="postgresql-ha",
            service_class="database",
            defaults={
                "postgresql.replicaCount": 3,
                "pgpool.replicaCount": 1,
                "persistence.enabled": True,
                "persistence.size": "8Gi",
                "postgresql.pdb.create": True,
                "pgpool.pdb.create": True,
                "postgresql.username": "postgres",
            },
        ),
        ChartFacts(
            name="valkey",
            service_class="cache",
            defaults={
                "auth.enabled": True,
                "architecture": "replication",
                "primary.persistence.enabled": True,
                "primary.persistence.size": "8Gi",
                "replica.persistence.size": "8Gi",
            },
        ),
        ChartFacts(
            name="valkey-cluster",
            service_class="cache",
            defaults={"usePassword": True, "persistence.size": "8Gi"},
        ),
        ChartFacts(name="postgresql", service_class="database"),
        ChartFacts(name="redis", service_class="cache"),
        ChartFacts(name="redis-cluster", service_class="cache"),
        ChartFacts(name="mariadb", service_class="database"),
        ChartFacts(name="mysql", service_class="database"),
        ChartFacts(name="mongodb", service_class="database"),
        ChartFacts(name="memcached", service_class="cache"),
        ChartFacts(name="rabbitmq", service_class="broker"),
        ChartFacts(name="kafka", service_class="broker"),
        ChartFacts(name="elasticsearch", service_class="search"),
        ChartFacts(name="opensearch", service_class="search"),
        ChartFacts(name="velero", service_class="backup"),
        ChartFacts(name="k8up", service_class="backup"),
        ChartFacts(name="cert-manager", service_class="cluster-runtime"),
        ChartFacts(name="ingress-nginx", service_class="cluster-runtime"),
        ChartFacts(name="traefik", service_class="cluster-runtime"),
        ChartFacts(name="longhorn", service_class="cluster-runtime"),
        ChartFacts(name="cilium", service_class="cluster-runtime"),
        ChartFacts(
            name="nextcloud",
            service_class="application",
            dependencies=(
                (
                    ">=0.0.0",
                    (
                        _dep("postgresql", "database", False),
                        _dep("mariadb", "database", False),
                        _dep("redis", "cache", False),
                    ),
                ),
            ),
            fix={"database": "externalDatabase", "cache": "externalRedis"},
        ),
        ChartFacts(
            name="mastodon",
            service_class="application",
            dependencies=(
                (
                    ">=0.0.0",
                    (
                        _dep("elasticsearch", "search", True),
                        _dep("postgresql", "database", True),
                        _dep("redis", "cache", True),
                    ),
                ),
            ),
            fix={
                "database": "postgresql.postgresqlHostname",
                "cache": "redis.hostname",
                "search": "elasticsearch.hostname",
            },
        ),
        ChartFacts(
            name="authentik",
            service_class="application",
            dependencies=((">=0.0.0", (_dep("postgresql", "database", False),)),),
            fix={"database": "authentik.postgresql.host"},
        ),
        ChartFacts(
            name="mattermost-team-edition",
            service_class="application",
            dependencies=((">=0.0.0", (_dep("mysql", "database", True),)),),
            fix={"database": "externalDB"},
        ),
        ChartFacts(
            name="sentry",
            service_class="application",
            dependencies=(
                (
                    ">=0.0.0",
                    (
                        _dep("memcached", "cache", False, condition="sourcemaps.enabled"),
                        _dep("redis", "cache", True),
                        _dep("kafka", "broker", True),
                        _dep("clickhouse", "database", True),
                        _dep("zookeeper", "other", True),
                        _dep("rabbitmq", "broker", True),
                        _dep("postgresql", "database", True),
                        _dep("nginx", "other", True),
                    ),
                ),
            ),
            fix={"database": "externalPostgresql", "cache": "externalRedis", "broker": "externalKafka"},
        ),
        ChartFacts(
            name="zulip",
            service_class="application",
            dependencies=(
                (
                    ">=0.0.0",
                    (
                        _dep("memcached", "cache", True, tags=("memcached",)),
                        _dep("rabbitmq", "broker", True, tags=("rabbitmq",)),
                        _dep("redis", "cache", True, tags=("redis",)),
                        _dep("postgresql", "database", True, tags=("postgresql",)),
                    ),
                ),
            ),
            fix={
                "database": "externalPostgresql",
                "cache": "externalRedis / externalMemcached",
                "broker": "externalRabbitmq",
            },
        ),
        ChartFacts(
            name="harbor",
            service_class="application",
            dependencies=((">=0.0.0", ()),),
            bundled=(
                ("database", "database", "database.type", "internal"),
                ("redis", "cache", "redis.type", "internal"),
            ),
            fix={
                "database": "database.type: external, database.external",
                "cache": "redis.type: external, redis.external",
            },
            defaults={"database.type": "internal", "redis.type": "internal"},
        ),
        ChartFacts(
            name="keycloak",
            service_class="application",
            dependencies=((">=0.0.0", (_dep("postgresql", "database", True),)),),
            fix={"database": "externalDatabase"},
        ),
        ChartFacts(
            name="wordpress",
            service_class="application",
            dependencies=((">=0.0.0", (_dep("memcached", "cache", False), _dep("mariadb", "database", True))),),
            fix={"database": "externalDatabase", "cache": "externalCache"},
        ),
        ChartFacts(
            name="discourse",
            service_class="application",
            dependencies=((">=0.0.0", (_dep("redis", "cache", True), _dep("postgresql", "database", True))),),
            fix={"database": "externalDatabase", "cache": "externalRedis"},
        ),
    )
}


def chart_facts(name: str | None) -> ChartFacts | None:
    return CHARTS.get(name) if name else None
