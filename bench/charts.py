"""The charts a synthetic stack is made of, and the values each release gets.

Every builder returns ``(file_values, inline_values)``: what a team keeps in
``values/<layer>/<name>.yaml`` and what it writes into the spec itself (the
wiring: references, existing Secrets, replicas, sizes). Values are shaped like
the real charts' (Bitnami's ``extraEnvVars``, bjw-s app-template's controllers,
Gitea's ``additionalConfigFromEnvs``), with no literal secret anywhere.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Values = dict[str, Any]
Builder = Callable[[random.Random, "Release"], tuple[Values, Values]]

WORDS = (
    "orders", "billing", "catalog", "search", "auth", "inventory", "payments", "shipping", "reviews",
    "analytics", "reports", "media", "notify", "profile", "cart", "ledger", "audit", "events", "chat",
    "pricing", "booking", "loyalty", "tickets", "docs", "wiki", "forms", "survey", "crm", "hr", "fleet",
)  # fmt: skip
APP_ROLES = ("api", "web", "worker", "gateway", "admin", "sync")
ENV_FIRST = (
    "FEATURE", "CACHE", "HTTP", "GRPC", "QUEUE", "WORKER", "METRICS", "TRACE", "RATE", "RETRY", "BATCH",
    "SYNC", "EXPORT", "IMPORT", "UPLOAD", "SEARCH", "MAIL", "WEBHOOK", "SCHEDULER", "REPORT",
)  # fmt: skip
ENV_SECOND = {
    "ENABLED": ("true", "false"),
    "TIMEOUT": ("5s", "10s", "30s", "2m"),
    "LIMIT": ("50", "100", "500", "1000"),
    "SIZE": ("16", "64", "256"),
    "INTERVAL": ("15s", "1m", "5m", "1h"),
    "MODE": ("auto", "strict", "lenient", "async"),
    "LEVEL": ("info", "warn", "debug"),
    "COUNT": ("1", "2", "4", "8"),
    "TTL": ("60", "300", "3600"),
    "PATH": ("/var/lib/app", "/tmp/work", "/data/cache"),
}
STORAGE_CLASSES = ("longhorn", "longhorn-ssd", "local-path")
DOMAIN = "example.internal"


@dataclass(frozen=True)
class Need:
    """A reference a release makes: to the ``export`` of a release of one of ``charts``."""

    export: str
    charts: tuple[str, ...]
    probability: float = 1.0


@dataclass(frozen=True)
class Export:
    name: str
    service: str  # a catalog role of the chart, or a pattern such as {fullname}
    port: int


@dataclass(frozen=True)
class Kind:
    key: str  # the short word in release names
    chart: str
    source: str
    version: str
    layer: str
    service_class: str
    namespaces: tuple[str, ...]
    weight: int
    build: Builder
    pad_path: tuple[str, ...]  # a list of {name, value} env entries that takes filler lines
    export: Export | None = None
    needs: tuple[Need, ...] = ()
    ha: bool = False
    secrets: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name suffix, keys): Secrets every release has


@dataclass
class Release:
    index: int
    name: str
    kind: Kind
    namespace: str
    word: str
    refs: dict[str, str] = field(default_factory=dict)  # export name -> release name
    depends_on: list[str] = field(default_factory=list)
    secrets: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (Secret name, keys)
    target_lines: int = 100
    values_file: bool = True

    def ref(self, export: str, field_name: str) -> str:
        return f"${{ref:{self.refs[export]}.{export}.{field_name}}}"

    def secret(self, suffix: str) -> str:
        return f"{self.name}-{suffix}"


# --------------------------------------------------------------------------- building blocks


def semver(rng: random.Random, major: tuple[int, int], prefix: str = "", suffix: str = "") -> str:
    return f"{prefix}{rng.randint(*major)}.{rng.randint(0, 30)}.{rng.randint(0, 12)}{suffix}"


def image(rng: random.Random, repository: str, tag: str, registry: str | None = None) -> Values:
    found: Values = {"registry": registry} if registry else {}
    found.update({"repository": repository, "tag": tag, "pullPolicy": rng.choice(("IfNotPresent", "Always"))})
    return found


def resources(rng: random.Random, scale: int = 1) -> Values:
    cpu = rng.choice((50, 100, 250, 500)) * scale
    memory = rng.choice((64, 128, 256, 512, 1024)) * scale
    return {
        "requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"},
        "limits": {"cpu": f"{cpu * 4}m", "memory": f"{memory * 2}Mi"},
    }


def size(rng: random.Random) -> str:
    return f"{rng.choice((1, 2, 5, 8, 10, 20, 50, 100))}Gi"


def persistence(rng: random.Random) -> Values:
    return {
        "enabled": True,
        "size": size(rng),
        "storageClass": rng.choice(STORAGE_CLASSES),
        "accessModes": ["ReadWriteOnce"],
    }


def affinity(name: str) -> Values:
    selector = {"matchLabels": {"app.kubernetes.io/instance": name}}
    term = {"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}
    preferred = [{"weight": 100, "podAffinityTerm": term}]
    return {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}


def tolerations(rng: random.Random) -> list[Values]:
    pool = rng.choice(("general", "data", "edge"))
    return [{"key": "workload", "operator": "Equal", "value": pool, "effect": "NoSchedule"}]


def probe(path: str, port: int | str, delay: int) -> Values:
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": delay,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }


def ingress_host(release: Release) -> str:
    return f"{release.name}.{release.namespace}.{DOMAIN}"


def pod_annotations(rng: random.Random, release: Release) -> Values:
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(rng.choice((8080, 9090, 9187, 9121))),
        "railiance.io/owner": f"team-{release.word}",
    }


def from_secret(name: str, secret: str, key: str) -> Values:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def env(name: str, value: str) -> Values:
    return {"name": name, "value": value}


def filler_env(rng: random.Random, count: int, taken: set[str], prefix: str = "") -> list[Values]:
    """``count`` plain settings (two lines each), names unique within ``taken``."""
    entries: list[Values] = []
    while len(entries) < count:
        second = rng.choice(sorted(ENV_SECOND))
        name = f"{prefix}{rng.choice(ENV_FIRST)}_{second}"
        if name in taken:
            name = f"{name}_{len(taken)}"
        taken.add(name)
        entries.append(env(name, rng.choice(ENV_SECOND[second])))
    return entries


def bitnami_globals() -> Values:
    return {"security": {"allowInsecureImages": True}}


def metrics(rng: random.Random) -> Values:
    return {"enabled": True, "serviceMonitor": {"enabled": True, "interval": rng.choice(("30s", "60s"))}}


# --------------------------------------------------------------------------- S2: cluster runtime


def cert_manager(rng: random.Random, r: Release) -> tuple[Values, Values]:
    tag = f"v{r.kind.version}"
    file: Values = {
        "crds": {"enabled": True, "keep": True},
        "replicaCount": 2,
        "image": image(rng, "quay.io/jetstack/cert-manager-controller", tag),
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "resources": resources(rng),
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": True, "interval": "60s"}},
        "webhook": {"replicaCount": 2, "resources": resources(rng)},
        "cainjector": {"replicaCount": 1, "resources": resources(rng)},
        "extraArgs": ["--dns01-recursive-nameservers-only", "--enable-certificate-owner-ref=true"],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": tolerations(rng),
    }
    return file, {"global": {"leaderElection": {"namespace": r.namespace}}}


def ingress_nginx(rng: random.Random, r: Release) -> tuple[Values, Values]:
    controller: Values = {
        "image": {"tag": f"v1.{rng.randint(9, 12)}.{rng.randint(0, 5)}"},
        "replicaCount": rng.choice((2, 3)),
        "resources": resources(rng, 2),
        "config": {
            "use-forwarded-headers": "true",
            "proxy-body-size": rng.choice(("16m", "64m", "512m")),
            "enable-real-ip": "true",
            "ssl-protocols": "TLSv1.2 TLSv1.3",
            "log-format-escape-json": "true",
        },
        "metrics": metrics(rng),
        "service": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
        "ingressClassResource": {"name": f"nginx-{r.index}", "default": False},
        "admissionWebhooks": {"enabled": True},
        "podAnnotations": pod_annotations(rng, r),
        "affinity": affinity(r.name),
    }
    return {"controller": controller}, {"controller": {"ingressClass": f"nginx-{r.index}"}}


def traefik(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = {
        "image": image(rng, "traefik", f"v3.{rng.randint(0, 4)}.{rng.randint(0, 6)}", "docker.io"),
        "deployment": {"replicas": rng.choice((2, 3))},
        "ports": {"web": {"exposedPort": 80}, "websecure": {"exposedPort": 443, "tls": {"enabled": True}}},
        "resources": resources(rng),
        "logs": {"general": {"level": "INFO"}, "access": {"enabled": True}},
        "metrics": {"prometheus": {"entryPoint": "metrics"}},
        "additionalArguments": ["--serversTransport.insecureSkipVerify=false", "--entryPoints.websecure.http.tls=true"],
    }
    return file, {"ingressClass": {"enabled": True, "isDefaultClass": False, "name": f"traefik-{r.index}"}}


def longhorn(rng: random.Random, r: Release) -> tuple[Values, Values]:
    tag = f"v{r.kind.version}"
    file: Values = {
        "image": {"longhorn": {"manager": {"repository": "longhornio/longhorn-manager", "tag": tag}}},
        "defaultSettings": {
            "backupTarget": "nfs://backup.example.internal:/longhorn",
            "defaultDataPath": "/var/lib/longhorn",
            "replicaSoftAntiAffinity": False,
            "storageOverProvisioningPercentage": 200,
            "concurrentAutomaticEngineUpgradePerNodeLimit": 1,
        },
        "longhornManager": {"tolerations": tolerations(rng), "nodeSelector": {"kubernetes.io/os": "linux"}},
        "longhornDriver": {"tolerations": tolerations(rng)},
    }
    return file, {"persistence": {"defaultClass": False, "defaultClassReplicaCount": 3, "reclaimPolicy": "Retain"}}


def cilium(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = {
        "image": {"repository": "quay.io/cilium/cilium", "tag": f"v{r.kind.version}", "useDigest": False},
        "ipam": {"mode": "kubernetes"},
        "hubble": {"enabled": True, "relay": {"enabled": True}, "ui": {"enabled": rng.random() < 0.5}},
        "operator": {"replicas": 2, "resources": resources(rng)},
        "resources": resources(rng, 2),
        "bpf": {"masquerade": True},
        "prometheus": {"enabled": True, "serviceMonitor": {"enabled": True}},
    }
    inline: Values = {"kubeProxyReplacement": True, "k8sServiceHost": f"api.cluster-{r.index}.{DOMAIN}"}
    inline["k8sServicePort"] = 6443
    return file, inline


# --------------------------------------------------------------------------- S3: platform data services


def _bitnami_component(rng: random.Random, r: Release, repository: str, tag: str) -> Values:
    return {
        "image": {"repository": repository, "tag": tag},
        "resourcesPreset": "none",
        "resources": resources(rng, 2),
        "podAnnotations": pod_annotations(rng, r),
        "affinity": affinity(r.name),
        "tolerations": tolerations(rng),
    }


def postgresql_ha(rng: random.Random, r: Release) -> tuple[Values, Values]:
    tag = semver(rng, (15, 17), suffix="-debian-12-r2")
    postgresql = _bitnami_component(rng, r, "bitnamilegacy/postgresql-repmgr", tag)
    postgresql.update(
        {
            "username": "postgres",
            "repmgrUsername": "repmgr",
            "repmgrDatabase": "repmgr",
            "maxConnections": rng.choice((100, 200, 400)),
            "pdb": {"create": True, "minAvailable": 2},
        }
    )
    pgpool = _bitnami_component(rng, r, "bitnamilegacy/pgpool", semver(rng, (4, 4), suffix="-debian-12-r3"))
    pgpool.update({"pdb": {"create": True}, "authenticationMethod": "scram-sha-256"})
    file: Values = {
        "postgresql": postgresql,
        "pgpool": pgpool,
        "witness": {"create": False},
        "metrics": metrics(rng),
        "volumePermissions": {"enabled": False},
        "global": bitnami_globals(),
    }
    inline: Values = {
        "postgresql": {"replicaCount": rng.choice((3, 3, 5)), "existingSecret": r.secret("credentials")},
        "pgpool": {
            "replicaCount": rng.choice((1, 2)),
            "existingSecret": r.secret("credentials"),
            "customUsersSecret": r.secret("pgpool-users"),
        },
        "persistence": persistence(rng),
    }
    return file, inline


def valkey(rng: random.Random, r: Release) -> tuple[Values, Values]:
    architecture = rng.choice(("standalone", "replication"))
    primary = _bitnami_component(rng, r, "bitnamilegacy/valkey", semver(rng, (7, 8), suffix="-debian-12-r0"))
    primary["persistence"] = persistence(rng)
    file: Values = {
        "architecture": architecture,
        "primary": primary,
        "metrics": metrics(rng),
        "networkPolicy": {"enabled": True, "allowExternal": False},
        "global": bitnami_globals(),
    }
    if architecture == "replication":
        file["replica"] = {"replicaCount": rng.choice((2, 3)), "persistence": persistence(rng)}
    inline: Values = {
        "auth": {
            "enabled": True,
            "existingSecret": r.secret("credentials"),
            "existingSecretPasswordKey": "valkey-password",
        },
        "primary": {"replicaCount": 1},
    }
    return file, inline


def valkey_cluster(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = {
        "image": {"repository": "bitnamilegacy/valkey-cluster", "tag": semver(rng, (8, 8), suffix="-debian-12-r1")},
        "valkey": {"resources": resources(rng, 2), "podAnnotations": pod_annotations(rng, r)},
        "persistence": persistence(rng),
        "metrics": metrics(rng),
        "global": bitnami_globals(),
    }
    inline: Values = {
        "usePassword": True,
        "existingSecret": r.secret("credentials"),
        "existingSecretPasswordKey": "valkey-password",
        "cluster": {"nodes": 6, "replicas": 1},
    }
    return file, inline


def postgresql(rng: random.Random, r: Release) -> tuple[Values, Values]:
    primary = _bitnami_component(rng, r, "bitnamilegacy/postgresql", semver(rng, (15, 17), suffix="-debian-12-r5"))
    primary["persistence"] = persistence(rng)
    file: Values = {"primary": primary, "metrics": metrics(rng), "global": bitnami_globals()}
    inline: Values = {
        "auth": {
            "username": r.word.replace("-", "_"),
            "database": r.word.replace("-", "_"),
            "existingSecret": r.secret("credentials"),
        },
        "architecture": "standalone",
    }
    return file, inline


def mariadb(rng: random.Random, r: Release) -> tuple[Values, Values]:
    primary = _bitnami_component(rng, r, "bitnamilegacy/mariadb", semver(rng, (10, 11), suffix="-debian-12-r0"))
    primary["persistence"] = persistence(rng)
    file: Values = {"primary": primary, "metrics": metrics(rng), "global": bitnami_globals()}
    inline: Values = {
        "auth": {"username": "wordpress", "database": "wordpress", "existingSecret": r.secret("credentials")},
        "architecture": "standalone",
    }
    return file, inline


def rabbitmq(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = _bitnami_component(rng, r, "bitnamilegacy/rabbitmq", semver(rng, (3, 4), suffix="-debian-12-r1"))
    file.update({"clustering": {"enabled": True}, "metrics": metrics(rng), "global": bitnami_globals()})
    inline: Values = {
        "replicaCount": 3,
        "auth": {
            "username": "app",
            "existingPasswordSecret": r.secret("credentials"),
            "existingErlangSecret": r.secret("credentials"),
        },
        "persistence": persistence(rng),
    }
    return file, inline


def opensearch(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = {
        "image": image(rng, "opensearchproject/opensearch", semver(rng, (2, 2))),
        "opensearchJavaOpts": "-Xms1g -Xmx1g",
        "resources": resources(rng, 4),
        "persistence": persistence(rng),
        "extraEnvs": [from_secret("OPENSEARCH_INITIAL_ADMIN_PASSWORD", r.secret("credentials"), "admin-password")],
    }
    return file, {"clusterName": r.name, "nodeGroup": "master", "replicas": 3}


def velero(rng: random.Random, r: Release) -> tuple[Values, Values]:
    plugin = {
        "name": "velero-plugin-for-aws",
        "image": f"velero/velero-plugin-for-aws:v1.{rng.randint(8, 11)}.0",
        "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
    }
    file: Values = {
        "image": image(rng, "velero/velero", f"v1.{rng.randint(13, 16)}.{rng.randint(0, 2)}"),
        "initContainers": [plugin],
        "resources": resources(rng),
        "schedules": {"daily": {"schedule": "0 3 * * *", "template": {"ttl": "240h", "includedNamespaces": ["*"]}}},
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
    }
    location = {"name": "default", "provider": "aws", "bucket": f"backups-{r.name}", "config": {"region": "eu-west-1"}}
    inline: Values = {
        "configuration": {"backupStorageLocation": [location], "volumeSnapshotLocation": []},
        "credentials": {"useSecret": True, "existingSecret": r.secret("cloud-credentials")},
    }
    return file, inline


# --------------------------------------------------------------------------- S5: applications


def _ingress(rng: random.Random, r: Release) -> Values:
    host = ingress_host(r)
    return {
        "enabled": True,
        "className": rng.choice(("nginx", "traefik")),
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
        "hosts": [{"host": host, "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"secretName": f"{r.name}-tls", "hosts": [host]}],
    }


def gitea(rng: random.Random, r: Release) -> tuple[Values, Values]:
    host = ingress_host(r)
    file: Values = {
        "image": {"registry": "docker.gitea.com", "repository": "gitea", "tag": semver(rng, (1, 1)), "rootless": True},
        "replicaCount": 1,
        "resources": resources(rng, 2),
        "persistence": {"enabled": True, "size": size(rng), "storageClass": rng.choice(STORAGE_CLASSES)},
        "ingress": _ingress(rng, r),
        "gitea": {
            "config": {
                "APP_NAME": f"Gitea of {r.word}",
                "server": {"DOMAIN": host, "ROOT_URL": f"https://{host}/", "SSH_DOMAIN": host},
                "service": {"DISABLE_REGISTRATION": True},
                "indexer": {"ISSUE_INDEXER_TYPE": "db"},
            },
            "metrics": {"enabled": True},
        },
    }
    refs = "redis://:$(VALKEY_PASSWORD)@" + r.ref("cache", "address") + "/0?pool_size=100&idle_timeout=180s"
    inline: Values = {
        "postgresql-ha": {"enabled": False},
        "postgresql": {"enabled": False},
        "valkey-cluster": {"enabled": False},
        "valkey": {"enabled": False},
        "gitea": {
            "admin": {"existingSecret": r.secret("admin")},
            "config": {
                "database": {
                    "DB_TYPE": "postgres",
                    "HOST": r.ref("database", "address"),
                    "NAME": "gitea",
                    "USER": "gitea",
                    "SSL_MODE": "disable",
                },
                "cache": {"ADAPTER": "redis"},
                "session": {"PROVIDER": "redis"},
                "queue": {"TYPE": "redis"},
            },
            "additionalConfigFromEnvs": [
                from_secret("GITEA__DATABASE__PASSWD", r.secret("platform-credentials"), "database-password"),
                from_secret("VALKEY_PASSWORD", r.secret("platform-credentials"), "valkey-password"),
                env("GITEA__CACHE__HOST", refs),
                env("GITEA__SESSION__PROVIDER_CONFIG", refs),
                env("GITEA__QUEUE__CONN_STR", refs),
            ],
        },
    }
    return file, inline


def keycloak(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = _bitnami_component(rng, r, "bitnamilegacy/keycloak", semver(rng, (25, 26), suffix="-debian-12-r0"))
    file.update(
        {
            "replicaCount": 2,
            "production": True,
            "proxyHeaders": "xforwarded",
            "ingress": {"enabled": True, "ingressClassName": "nginx", "hostname": ingress_host(r), "tls": True},
            "metrics": metrics(rng),
            "global": bitnami_globals(),
        }
    )
    inline: Values = {
        "postgresql": {"enabled": False},
        "auth": {"adminUser": "admin", "existingSecret": r.secret("admin")},
        "externalDatabase": {
            "host": r.ref("database", "host"),
            "port": r.ref("database", "port"),
            "user": "keycloak",
            "database": "keycloak",
            "existingSecret": r.secret("db-credentials"),
            "existingSecretPasswordKey": "database-password",
        },
    }
    return file, inline


def wordpress(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = _bitnami_component(rng, r, "bitnamilegacy/wordpress", semver(rng, (6, 6), suffix="-debian-12-r4"))
    file.update(
        {
            "replicaCount": rng.choice((1, 2)),
            "wordpressBlogName": f"The {r.word} blog",
            "persistence": persistence(rng),
            "ingress": {"enabled": True, "ingressClassName": "nginx", "hostname": ingress_host(r), "tls": True},
            "metrics": metrics(rng),
            "global": bitnami_globals(),
        }
    )
    inline: Values = {
        "mariadb": {"enabled": False},
        "memcached": {"enabled": False},
        "wordpressUsername": "admin",
        "existingSecret": r.secret("admin"),
        "externalDatabase": {
            "host": r.ref("database", "host"),
            "port": r.ref("database", "port"),
            "user": "wordpress",
            "database": "wordpress",
            "existingSecret": r.secret("db-credentials"),
        },
    }
    return file, inline


def nextcloud(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = {
        "image": image(rng, "nextcloud", semver(rng, (29, 31), suffix="-apache")),
        "replicaCount": 1,
        "resources": resources(rng, 2),
        "persistence": persistence(rng),
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "4G"},
        },
        "cronjob": {"enabled": True},
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
    }
    inline: Values = {
        "nextcloud": {
            "host": ingress_host(r),
            "existingSecret": {"enabled": True, "secretName": r.secret("admin"), "usernameKey": "username"},
        },
        "internalDatabase": {"enabled": False},
        "externalDatabase": {
            "enabled": True,
            "type": "postgresql",
            "host": r.ref("database", "address"),
            "database": "nextcloud",
            "existingSecret": {"enabled": True, "secretName": r.secret("db-credentials"), "usernameKey": "username"},
        },
        "postgresql": {"enabled": False},
        "mariadb": {"enabled": False},
        "redis": {"enabled": False},
    }
    return file, inline


_URLS = {
    "database": ("DATABASE_URL", "postgres://{}/app?sslmode=require", "database-password"),
    "cache": ("REDIS_URL", "redis://{}/0", "cache-password"),
    "broker": ("AMQP_URL", "amqp://{}/%2f", "broker-password"),
    "search": ("OPENSEARCH_URL", "https://{}", "search-password"),
    "http": ("UPSTREAM_URL", "http://{}", ""),
}


def reference_env(r: Release) -> list[Values]:
    """The env entries that point an app at the services it uses: a URL, and its password from a Secret."""
    entries: list[Values] = []
    for export in sorted(r.refs):
        name, url, key = _URLS[export]
        entries.append(env(name, url.format(r.ref(export, "address"))))
        if key:
            entries.append(from_secret(name.replace("_URL", "_PASSWORD"), r.secret("credentials"), key))
    return entries


def app_template(rng: random.Random, r: Release) -> tuple[Values, Values]:
    port = rng.choice((8080, 3000, 8000))
    main: Values = {
        "image": {"repository": f"ghcr.io/example/{r.word}-{r.kind.key}", "tag": semver(rng, (0, 4))},
        "probes": {
            "liveness": {"enabled": True, "custom": True, "spec": probe("/healthz", port, 10)},
            "readiness": {"enabled": True, "custom": True, "spec": probe("/readyz", port, 5)},
        },
        "resources": resources(rng),
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
    }
    backend = {"identifier": "main", "port": "http"}
    containers: Values = {"main": main}
    if rng.random() < 0.3:
        containers["log-shipper"] = {
            "image": {"repository": "fluent/fluent-bit", "tag": semver(rng, (3, 3))},
            "resources": resources(rng),
        }
    file: Values = {
        "controllers": {"main": {"replicas": rng.choice((1, 2, 3)), "containers": containers}},
        "service": {"main": {"controller": "main", "ports": {"http": {"port": port}}}},
        "ingress": {
            "main": {
                "className": rng.choice(("nginx", "traefik")),
                "hosts": [{"host": ingress_host(r), "paths": [{"path": "/", "service": backend}]}],
                "tls": [{"secretName": f"{r.name}-tls", "hosts": [ingress_host(r)]}],
            }
        },
        "defaultPodOptions": {"tolerations": tolerations(rng), "affinity": affinity(r.name)},
    }
    if rng.random() < 0.4:
        file["persistence"] = {
            "data": {"enabled": True, "type": "persistentVolumeClaim", "size": size(rng), "accessMode": "ReadWriteOnce"}
        }
    entries = [
        env("LOG_LEVEL", rng.choice(("info", "debug", "warn"))),
        env("PORT", str(port)),
        env("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://otel-collector.tools.svc.cluster.local:{4317}"),
        from_secret("SESSION_KEY", r.secret("credentials"), "session-key"),
        *reference_env(r),
    ]
    inline: Values = {"controllers": {"main": {"containers": {"main": {"env": entries}}}}}
    return file, inline


def podinfo(rng: random.Random, r: Release) -> tuple[Values, Values]:
    file: Values = {
        "replicaCount": rng.choice((1, 2, 3)),
        "image": image(rng, "ghcr.io/stefanprodan/podinfo", semver(rng, (6, 6))),
        "ui": {"color": rng.choice(("#34577c", "#7c3457", "#577c34")), "message": f"{r.word} says hello"},
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": [{"host": ingress_host(r), "paths": [{"path": "/", "pathType": "ImplementationSpecific"}]}],
        },
        "resources": resources(rng),
        "hpa": {"enabled": True, "maxReplicas": rng.choice((4, 8)), "cpu": 80},
        "serviceMonitor": {"enabled": True, "interval": "15s"},
    }
    inline: Values = {"extraEnvs": [from_secret("PODINFO_SESSION_KEY", r.secret("credentials"), "session-key")]}
    if "cache" in r.refs:
        inline["cache"] = "tcp://" + r.ref("cache", "address")
    return file, inline


# --------------------------------------------------------------------------- the catalog

_S2 = ("S2", "cluster-runtime")
_DB = Need("database", ("postgresql-ha", "postgresql"))

KINDS: tuple[Kind, ...] = (
    Kind("cert-manager", "cert-manager", "jetstack", "1.16.2", *_S2, ("cert-manager",), 20, cert_manager,
         ("extraEnv",)),
    Kind("ingress-nginx", "ingress-nginx", "ingress-nginx", "4.11.3", *_S2, ("ingress-nginx",), 25, ingress_nginx,
         ("controller", "extraEnvs")),
    Kind("traefik", "traefik", "traefik", "33.2.1", *_S2, ("traefik",), 20, traefik, ("env",)),
    Kind("longhorn", "longhorn", "longhorn", "1.7.2", *_S2, ("longhorn-system",), 20, longhorn,
         ("longhornManager", "env")),
    Kind("cilium", "cilium", "cilium", "1.16.4", *_S2, ("kube-system",), 15, cilium, ("extraEnv",)),
    Kind("pgha", "postgresql-ha", "bitnami", "16.3.4", "S3", "database", ("platform", "data"), 30, postgresql_ha,
         ("postgresql", "extraEnvVars"), Export("database", "pgpool", 5432), ha=True,
         secrets=(("credentials", ("password", "repmgr-password", "postgres-password", "admin-password",
                                   "sr-check-password")),
                  ("pgpool-users", ("usernames", "passwords")))),
    Kind("cache", "valkey", "bitnami", "4.0.2", "S3", "cache", ("platform", "data"), 25, valkey,
         ("primary", "extraEnvVars"), Export("cache", "primary", 6379),
         secrets=(("credentials", ("valkey-password",)),)),
    Kind("pg", "postgresql", "bitnami", "16.7.27", "S3", "database", ("platform", "data"), 15, postgresql,
         ("primary", "extraEnvVars"), Export("database", "primary", 5432),
         secrets=(("credentials", ("password", "postgres-password")),)),
    Kind("mariadb", "mariadb", "bitnami", "20.5.3", "S3", "database", ("platform", "data"), 8, mariadb,
         ("primary", "extraEnvVars"), Export("database", "{fullname}", 3306),
         secrets=(("credentials", ("mariadb-password", "mariadb-root-password")),)),
    Kind("mq", "rabbitmq", "bitnami", "16.0.7", "S3", "broker", ("platform", "data"), 8, rabbitmq,
         ("extraEnvVars",), Export("broker", "{fullname}", 5672),
         secrets=(("credentials", ("rabbitmq-password", "rabbitmq-erlang-cookie")),)),
    Kind("vcluster", "valkey-cluster", "bitnami", "3.0.24", "S3", "cache", ("platform", "data"), 4, valkey_cluster,
         ("valkey", "extraEnvVars"), Export("cache", "cluster", 6379),
         secrets=(("credentials", ("valkey-password",)),)),
    Kind("search", "opensearch", "opensearch", "2.32.0", "S3", "search", ("platform", "data"), 4, opensearch,
         ("extraEnvs",), Export("search", "{release}-master", 9200), secrets=(("credentials", ("admin-password",)),)),
    Kind("backup", "velero", "vmware-tanzu", "8.1.0", "S3", "backup", ("platform",), 6, velero, ("extraEnvVars",),
         secrets=(("cloud-credentials", ("cloud",)),)),
    Kind("gitea", "gitea", "gitea", "12.4.0", "S5", "application", ("apps", "tools"), 10, gitea,
         ("gitea", "additionalConfigFromEnvs"), Export("web", "http", 3000),
         needs=(_DB, Need("cache", ("valkey",))),
         secrets=(("platform-credentials", ("database-password", "valkey-password")),
                  ("admin", ("username", "password")))),
    Kind("keycloak", "keycloak", "bitnami", "24.7.1", "S5", "application", ("apps", "tools"), 8, keycloak,
         ("extraEnvVars",), needs=(_DB,),
         secrets=(("db-credentials", ("database-password",)), ("admin", ("admin-password",)))),
    Kind("wordpress", "wordpress", "bitnami", "24.1.18", "S5", "application", ("web",), 8, wordpress,
         ("extraEnvVars",), needs=(Need("database", ("mariadb",)),),
         secrets=(("db-credentials", ("mariadb-password",)), ("admin", ("wordpress-password",)))),
    Kind("nextcloud", "nextcloud", "nextcloud", "6.6.10", "S5", "application", ("apps",), 6, nextcloud,
         ("nextcloud", "extraEnv"), needs=(_DB,),
         secrets=(("db-credentials", ("username", "password")), ("admin", ("username", "password")))),
    Kind("app", "app-template", "bjw-s", "3.7.3", "S5", "application", ("apps", "web", "tools"), 53, app_template,
         ("controllers", "main", "containers", "main", "env"), Export("http", "{release}", 8080),
         needs=(Need("database", ("postgresql-ha", "postgresql"), 0.7),
                Need("cache", ("valkey", "valkey-cluster"), 0.5), Need("broker", ("rabbitmq",), 0.2),
                Need("search", ("opensearch",), 0.1), Need("http", ("app-template",), 0.25))),
    Kind("podinfo", "podinfo", "podinfo", "6.7.1", "S5", "application", ("apps", "web"), 15, podinfo,
         ("extraEnvs",), needs=(Need("cache", ("valkey",), 0.4),)),
)  # fmt: skip

# Every stack starts its S3 layer with these, so that every application finds what it needs.
S3_FIRST = ("postgresql-ha", "valkey", "mariadb")

SOURCES: tuple[tuple[str, str, str], ...] = (
    ("bitnami", "oci", "oci://registry-1.docker.io/bitnamicharts"),
    ("bjw-s", "oci", "oci://ghcr.io/bjw-s-labs/helm"),
    ("podinfo", "oci", "oci://ghcr.io/stefanprodan/charts"),
    ("gitea", "helm", "https://dl.gitea.com/charts/"),
    ("jetstack", "helm", "https://charts.jetstack.io"),
    ("ingress-nginx", "helm", "https://kubernetes.github.io/ingress-nginx"),
    ("traefik", "helm", "https://traefik.github.io/charts"),
    ("longhorn", "helm", "https://charts.longhorn.io"),
    ("cilium", "helm", "https://helm.cilium.io/"),
    ("opensearch", "helm", "https://opensearch-project.github.io/helm-charts/"),
    ("vmware-tanzu", "helm", "https://vmware-tanzu.github.io/helm-charts"),
    ("nextcloud", "helm", "https://nextcloud.github.io/helm/"),
)


def kinds_of(layer: str) -> tuple[Kind, ...]:
    return tuple(kind for kind in KINDS if kind.layer == layer)


def kind_by_chart(chart: str) -> Kind:
    return next(kind for kind in KINDS if kind.chart == chart)


def credential_keys(release: Release) -> tuple[str, ...]:
    """The keys of an app's own ``<name>-credentials`` Secret (app-template, podinfo)."""
    keys = ["session-key"]
    keys.extend(_URLS[export][2] for export in sorted(release.refs) if _URLS[export][2])
    return tuple(keys)


def get_path(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node
