"""Stack, layers, sources and releases.

Factories (``from_data``) take data that already passed the JSON Schema in
``schemas/`` and check what a schema cannot: that names refer to things that
exist. They raise :class:`~renderer.errors.InputError` with every problem found,
located through the :class:`~renderer.yamlio.Document` the data came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ProblemCollector
from ..memo import cached_property
from ..yamlio import Document

if TYPE_CHECKING:  # backup.py imports this module
    from .backup import Backup

SERVICE_CLASSES = ("cluster-runtime", "database", "cache", "broker", "search", "backup", "application")
# The data events a migration record may name by kind (``change:``); a move or a rename
# is named by where it comes from (``from: namespace/name``).
SPEC_MIGRATION_CHANGES = ("subchart-disabled", "storage-class", "access-modes")
STACK_MIGRATION_CHANGES = ("removed", "namespace-removed", "moved-out")


@dataclass(frozen=True)
class Migration:
    """A planned data migration the head records: rail diff accepts exactly the change it
    names, nothing else. In a spec (``migration:``) it is about that release; in rail.yaml
    (``migrations:``) about a release or namespace the change removes."""

    reason: str  # the backup, the dump/restore, the ticket
    path: str
    line: int | None
    source: str = ""  # ``from``: the namespace/name a move or a rename comes from
    changes: tuple[str, ...] = ()  # the kinds of change it names
    release: str = ""  # rail.yaml: the namespace/name of the release removed
    namespace: str = ""  # rail.yaml: the namespace removed

    @classmethod
    def from_data(cls, data: Mapping[str, Any], document: Document, key_path: tuple[str | int, ...]) -> Migration:
        change = data.get("change", ())
        line, _ = document.locate(key_path)
        return cls(
            reason=str(data.get("reason", "")),
            path=document.path,
            line=line,
            source=str(data.get("from", "")),
            changes=(change,) if isinstance(change, str) else tuple(change),
            release=str(data.get("release", "")),
            namespace=str(data.get("namespace", "")),
        )


@dataclass(frozen=True)
class Layer:
    id: str
    name: str
    order: int
    namespaces: tuple[str, ...]
    paths: tuple[str, ...]
    owns: tuple[str, ...]
    description: str = ""
    kustomizations: tuple[str, ...] = ()  # Flux Kustomization name globs whose objects are this layer's

    @property
    def folder(self) -> str:
        """The layer's folder name under ``rendered/<target>/``, e.g. ``s3-platform``."""
        return f"{self.id.lower()}-{self.name}"


@dataclass(frozen=True)
class Source:
    name: str
    type: str  # "helm" or "oci"
    url: str


@dataclass(frozen=True)
class FluxSettings:
    """The HelmRelease settings teams tune; stack defaults merged with the spec."""

    interval: str = "10m"
    timeout: str = "10m"
    install_retries: int = 3
    upgrade_retries: int = 3
    upgrade_strategy: str = "rollback"
    cleanup_on_fail: bool = True
    drift_detection: str = "enabled"
    test_enable: bool = False

    @classmethod
    def from_data(cls, data: Mapping[str, Any], base: FluxSettings | None = None) -> FluxSettings:
        base = base or cls()
        install = data.get("install", {})
        upgrade = data.get("upgrade", {})
        return cls(
            interval=data.get("interval", base.interval),
            timeout=data.get("timeout", base.timeout),
            install_retries=install.get("retries", base.install_retries),
            upgrade_retries=upgrade.get("retries", base.upgrade_retries),
            upgrade_strategy=upgrade.get("strategy", base.upgrade_strategy),
            cleanup_on_fail=upgrade.get("cleanupOnFail", base.cleanup_on_fail),
            drift_detection=data.get("driftDetection", base.drift_detection),
            test_enable=data.get("test", base.test_enable),
        )


@dataclass(frozen=True)
class ArgoSettings:
    namespace: str = "argocd"
    repo_url: str = ""
    target_revision: str = "HEAD"
    server: str = "https://kubernetes.default.svc"
    automated: bool = True
    prune: bool = True
    self_heal: bool = True
    # The clusters Argo CD knows, for ApplicationSet cluster generators: each as
    # rail.yaml gives it (name, server, labels, annotations).
    clusters: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ArgoSettings:
        sync = data.get("syncPolicy", {})
        return cls(
            namespace=data.get("namespace", "argocd"),
            repo_url=data.get("repoURL", ""),
            target_revision=data.get("targetRevision", "HEAD"),
            server=data.get("server", "https://kubernetes.default.svc"),
            automated=sync.get("automated", True),
            prune=sync.get("prune", True),
            self_heal=sync.get("selfHeal", True),
            clusters=tuple(dict(item) for item in data.get("clusters", ())),
        )


DEFAULTS_PATH = "(defaults)"  # the path of the default config: the repository has no rail.yaml


@dataclass(frozen=True)
class StackConfig:
    name: str
    path: str
    output: str
    releases_dir: str
    targets: tuple[str, ...]
    cluster_domain: str
    layers: tuple[Layer, ...]
    sources: tuple[Source, ...]
    flux_namespace: str
    flux_git_repository: str
    flux_sops_secret: str
    flux_defaults: FluxSettings
    lint: Mapping[str, Any] = field(default_factory=dict)
    flux_service_accounts: bool = False
    argo: ArgoSettings = field(default_factory=ArgoSettings)
    # Whether rail.yaml names its release folder: then it must exist. The default one may
    # be absent: a lint-only stack maps an existing Flux tree onto layers, with no specs.
    releases_named: bool = True
    # charts: in rail.yaml, as written (schema-checked): facts the catalog lacks.
    charts: tuple[Mapping[str, Any], ...] = ()
    # migrations: in rail.yaml: removals the head records as planned (no spec is left to hold them).
    migrations: tuple[Migration, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any], document: Document) -> StackConfig:
        problems = ProblemCollector()
        layers = tuple(
            Layer(
                id=item["id"],
                name=item["name"],
                order=index,
                namespaces=tuple(item.get("namespaces", ())),
                paths=tuple(item.get("paths", ())),
                owns=tuple(item.get("owns", ())),
                description=item.get("description", ""),
                kustomizations=tuple(item.get("kustomizations", ())),
            )
            for index, item in enumerate(data["layers"])
        )
        _check_unique(problems, document, "layers", [layer.id for layer in layers], "layer id")
        _check_unique(problems, document, "layers", [layer.name for layer in layers], "layer name")
        claimed: dict[str, str] = {}
        for index, layer in enumerate(layers):
            for ns_index, namespace in enumerate(layer.namespaces):
                if namespace in claimed:
                    problems.add(
                        document.problem(
                            ("layers", index, "namespaces", ns_index),
                            f"namespace '{namespace}' is claimed by layers {claimed[namespace]} and {layer.id}",
                            "a namespace belongs to one layer; remove it from one of them",
                        )
                    )
                claimed[namespace] = layer.id
        sources = tuple(
            Source(
                name=item["name"],
                type=item["type"],
                url=item["url"].rstrip("/") + ("/" if item["type"] == "helm" else ""),
            )
            for item in data.get("sources", ())
        )
        _check_unique(problems, document, "sources", [source.name for source in sources], "source name")
        for index, source in enumerate(sources):
            scheme_ok = source.url.startswith("oci://") == (source.type == "oci")
            if not scheme_ok:
                problems.add(
                    document.problem(
                        ("sources", index, "url"),
                        f"source '{source.name}' of type {source.type} has a URL of the other kind",
                        "type 'oci' takes an oci:// URL, type 'helm' an http(s):// URL",
                    )
                )
        if "argo" in data.get("targets", ()) and not data.get("argo", {}).get("repoURL"):
            problems.add(
                document.problem(
                    ("targets",),
                    "the argo target needs argo.repoURL: the Git URL the root application reads",
                    "add argo: {repoURL: https://git.example.com/org/stack.git}",
                )
            )
        problems.raise_if_any()
        flux = data.get("flux", {})
        return cls(
            name=data["name"],
            path=document.path,
            output=data.get("output", "rendered"),
            releases_dir=data.get("releases", "releases"),
            targets=tuple(data.get("targets", ("flux",))),
            cluster_domain=data.get("clusterDomain", "cluster.local"),
            layers=layers,
            sources=sources,
            flux_namespace=flux.get("namespace", "flux-system"),
            flux_git_repository=flux.get("gitRepository", "flux-system"),
            flux_sops_secret=flux.get("sopsSecret", "sops-age"),
            flux_defaults=FluxSettings.from_data(flux.get("release", {})),
            lint=data.get("lint", {}),
            flux_service_accounts=flux.get("serviceAccounts", False),
            argo=ArgoSettings.from_data(data.get("argo", {})),
            releases_named="releases" in data,
            charts=tuple(data.get("charts", ())),
            migrations=tuple(
                Migration.from_data(item, document, ("migrations", index))
                for index, item in enumerate(data.get("migrations", ()))
            ),
        )

    @property
    def is_default(self) -> bool:
        """No stack config: the layers of DESIGN.md apply, and nobody declared them."""
        return self.path == DEFAULTS_PATH

    @classmethod
    def default(cls) -> StackConfig:
        """The layers of DESIGN.md, for a repository without a stack config."""
        layers = (
            Layer(
                id="S2",
                name="cluster",
                order=0,
                namespaces=(
                    "kube-system",
                    "flux-system",
                    "cert-manager",
                    "ingress-nginx",
                    "traefik",
                    "longhorn-system",
                ),
                paths=(),
                owns=("cluster-runtime",),
            ),
            Layer(
                id="S3",
                name="platform",
                order=1,
                namespaces=("platform",),
                paths=(),
                owns=("database", "cache", "broker", "search", "backup"),
            ),
            Layer(id="S5", name="apps", order=2, namespaces=("apps",), paths=(), owns=("application",)),
        )
        return cls(
            name="default",
            path=DEFAULTS_PATH,
            output="rendered",
            releases_dir="releases",
            targets=("flux",),
            cluster_domain="cluster.local",
            layers=layers,
            sources=(),
            flux_namespace="flux-system",
            flux_git_repository="flux-system",
            flux_sops_secret="sops-age",
            flux_defaults=FluxSettings(),
        )

    def layer(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.id == layer_id), None)

    def source(self, name: str) -> Source | None:
        return next((source for source in self.sources if source.name == name), None)

    def layer_of_namespace(self, namespace: str) -> Layer | None:
        return next((layer for layer in self.layers if namespace in layer.namespaces), None)


@dataclass(frozen=True)
class Chart:
    source: str
    name: str
    version: str


@dataclass(frozen=True)
class ValuesFrom:
    kind: str
    name: str
    values_key: str = ""
    target_path: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Export:
    """An endpoint a release offers to others, referred to as ``${ref:release.export.field}``."""

    name: str
    service: str
    port: int
    secret_name: str = ""
    description: str = ""


@dataclass(frozen=True)
class DatabaseClaim:
    """A database of its own in a platform database release: rail renders its bootstrap."""

    release: str
    name: str
    user: str
    password_secret: str  # a SOPS Secret file in the database release's namespace
    password_key: str = "password"


@dataclass(frozen=True)
class CacheClaim:
    """A logical database index of a shared cache release, used by this release alone."""

    release: str
    index: int


@dataclass(frozen=True)
class Needs:
    """What a release claims from the platform (``needs:`` in its spec)."""

    database: DatabaseClaim | None = None
    cache: CacheClaim | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Needs:
        database = data.get("database")
        cache = data.get("cache")
        return cls(
            database=DatabaseClaim(
                release=database["release"],
                name=database["name"],
                user=database.get("user", database["name"]),
                password_secret=database["passwordSecret"],
                password_key=database.get("passwordKey", "password"),
            )
            if database
            else None,
            cache=CacheClaim(release=cache["release"], index=cache["index"]) if cache else None,
        )


@dataclass(frozen=True)
class Release:
    name: str
    layer: str
    namespace: str
    service_class: str
    chart: Chart
    origin: str
    values: Mapping[str, Any] = field(default_factory=dict)
    values_files: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    values_from: tuple[ValuesFrom, ...] = ()
    depends_on: tuple[str, ...] = ()
    exports: tuple[Export, ...] = ()
    release_name: str = ""
    ha: bool = False
    description: str = ""
    migration: str = ""  # why a move of this release is planned and safe (its record's reason)
    migration_record: Migration | None = None  # what exactly the record names
    flux: FluxSettings = field(default_factory=FluxSettings)
    needs: Needs = field(default_factory=Needs)

    @property
    def helm_release_name(self) -> str:
        """The Helm release name Flux installs: ``spec.releaseName``, else the object name.

        rail places each HelmRelease in its own namespace with no
        ``targetNamespace``, so Flux's ``[targetNamespace-]name`` is just the name.
        """
        return self.release_name or self.name

    def export(self, name: str) -> Export | None:
        return next((export for export in self.exports if export.name == name), None)

    @classmethod
    def from_data(cls, data: Mapping[str, Any], document: Document, config: StackConfig) -> Release:
        problems = ProblemCollector()
        layer = config.layer(data["layer"])
        if layer is None:
            known = ", ".join(item.id for item in config.layers)
            problems.add(
                document.problem(
                    ("layer",), f"unknown layer '{data['layer']}'", f"use one of the stack's layers: {known}"
                )
            )
        chart = data["chart"]
        if config.source(chart["source"]) is None:
            known = ", ".join(source.name for source in config.sources) or "(none defined)"
            problems.add(
                document.problem(
                    ("chart", "source"),
                    f"unknown chart source '{chart['source']}'",
                    f"use one of the sources in {config.path}: {known}",
                )
            )
        exports = tuple(
            Export(
                name=name,
                service=item["service"],
                port=item["port"],
                secret_name=item.get("secretName", ""),
                description=item.get("description", ""),
            )
            for name, item in sorted(data.get("exports", {}).items())
        )
        depends_on = tuple(data.get("dependsOn", ()))
        _check_unique(problems, document, "dependsOn", list(depends_on), "dependency")
        problems.raise_if_any()
        return cls(
            name=data["name"],
            layer=data["layer"],
            namespace=data["namespace"],
            service_class=data["class"],
            chart=Chart(source=chart["source"], name=chart["name"], version=str(chart["version"])),
            origin=document.path,
            values=data.get("values", {}),
            values_files=tuple(data.get("valuesFiles", ())),
            secrets=tuple(data.get("secrets", ())),
            values_from=tuple(
                ValuesFrom(
                    kind=item["kind"],
                    name=item["name"],
                    values_key=item.get("valuesKey", ""),
                    target_path=item.get("targetPath", ""),
                    optional=item.get("optional", False),
                )
                for item in data.get("valuesFrom", ())
            ),
            depends_on=depends_on,
            exports=exports,
            release_name=data.get("releaseName", ""),
            ha=data.get("ha", False),
            description=data.get("description", ""),
            migration=(data.get("migration") or {}).get("reason", ""),
            migration_record=Migration.from_data(data["migration"], document, ("migration",))
            if data.get("migration")
            else None,
            flux=FluxSettings.from_data(data.get("flux", {}), config.flux_defaults),
            needs=Needs.from_data(data.get("needs", {})),
        )


@dataclass(frozen=True)
class Stack:
    """A stack config with its releases, ordered by layer, then name, and its backups
    (``kind: Backup`` specs, :mod:`renderer.model.backup`), by name."""

    config: StackConfig
    releases: tuple[Release, ...]
    backups: tuple[Backup, ...] = ()

    def release(self, name: str) -> Release | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, Release]:
        # Looked up for every dependency of every release: a scan would make render quadratic.
        return {release.name: release for release in self.releases}

    def layer_of(self, release: Release) -> Layer:
        layer = self.config.layer(release.layer)
        assert layer is not None, "Release.from_data checked the layer"
        return layer


def _check_unique(problems: ProblemCollector, document: Document, key: str, names: list[str], what: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            problems.add(document.problem((key, index), f"duplicate {what} '{name}'", f"each {what} must be unique"))
        seen.add(name)
