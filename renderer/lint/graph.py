"""One release graph from specs and manifests: the input of every lint rule.

A node is a Helm release (a Flux ``HelmRelease``); edges are what it depends on:
``dependsOn``, references between specs, ``valuesFrom`` objects and chart
sources. Each node carries the values the release really gets, as far as the
repository tells: inline values over ``valuesFrom`` ConfigMaps and plain Secrets
found in the repository. A SOPS Secret's values are unknown, and recorded as such.

Flux ``Kustomization``s are layer nodes too: each has a layer (label, path, its own
name or an ancestor's in a layer's ``kustomizations``, its ``targetNamespace``) and
its ``dependsOn`` entries are edges, which the layer rules read beside the releases'.
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..load.stack import LoadedStack
from ..model import Release, StackConfig
from ..yamlio import Document, load_document
from . import values as helm_values
from .documents import where
from .finding import Location, ObjectRef
from .layers import CLASS_LABEL, LAYER_LABEL, LayerAssignment, assign
from .manifests import Manifest, patch_files
from .notes import DEPRECATED_API, DUPLICATE_RELEASE, Note

HELM_GROUP = "helm.toolkit.fluxcd.io"
KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
ARGO_GROUP = "argoproj.io"
ARGO_VALUES = ("spec", "source", "helm", "valuesObject")
FLUX_VALUES = ("spec", "values")
DEPENDS_ON_ANNOTATION = "railiance.io/depends-on"
SOURCE_GROUP = "source.toolkit.fluxcd.io"


@dataclass(frozen=True)
class Place:
    """A key of a document, located only when a finding needs it: working out
    positions costs a parse, and a clean run never needs one."""

    document: Document
    key_path: tuple[Any, ...]

    @property
    def location(self) -> Location:
        return _locate(self.document, self.key_path)


@dataclass(frozen=True)
class Edge:
    source: ObjectRef
    target: ObjectRef
    kind: str  # dependsOn, reference, valuesFrom, source
    place: Place
    optional: bool = False
    # Whether the target was found, for edges resolved while the graph is built (an Argo CD
    # Application's ``railiance.io/depends-on`` entries); None: the rules look the target up.
    resolved: bool | None = None

    @property
    def location(self) -> Location:
        return self.place.location


@dataclass(frozen=True)
class ChartInfo:
    """The chart a release installs. ``repository``: the chart repository's URL, which
    tells publishers of one chart name apart (``chart_facts(name, repository)``): a
    HelmRepository's or OCIRepository's ``spec.url`` found among the linted manifests
    (through a HelmChart's source too), or an Argo CD Application's ``repoURL``; None
    when the source is not among them or is not a chart repository (GitRepository, Bucket)."""

    name: str | None
    version: str | None
    source: ObjectRef | None
    version_place: Place | None = None
    repository: str | None = None
    # A chart folder of the linted tree, by display path: an Argo CD Application whose
    # source is a path of this repository holding a Chart.yaml (its name is the folder's).
    path: str | None = None

    @property
    def version_location(self) -> Location | None:
        return self.version_place.location if self.version_place else None


@dataclass(frozen=True)
class ReleaseNode:
    ref: ObjectRef
    manifest: Manifest
    layer: LayerAssignment
    service_class: str | None
    chart: ChartInfo
    values: dict[str, Any]
    unknown_values: tuple[str, ...]  # objects whose values the repository does not show
    spec: Release | None = None
    ha: bool = False
    values_path: tuple[str | int, ...] = FLUX_VALUES  # where the manifest keeps its inline values

    @property
    def namespace(self) -> str | None:
        """Where the release installs: a HelmRelease's ``spec.targetNamespace``, else its
        own namespace; an Argo CD Application's ``spec.destination.namespace``."""
        spec = self.manifest.spec()
        if self.ref.kind == "Application":
            destination = spec.get("destination")
            target = destination.get("namespace") if isinstance(destination, dict) else None
            return target if isinstance(target, str) else None
        target = spec.get("targetNamespace")
        return target if isinstance(target, str) else self.ref.namespace

    @property
    def namespace_key(self) -> tuple[str, ...]:
        """The manifest key rules point at for the release's namespace: an Argo CD
        Application's ``spec.destination.namespace``, else ``metadata.namespace``."""
        return ("spec", "destination", "namespace") if self.ref.kind == "Application" else ("metadata", "namespace")

    @property
    def inline_values(self) -> dict[str, Any]:
        """The values written in the manifest itself (not those of ``valuesFrom``)."""
        current: Any = self.manifest.data
        for part in self.values_path:
            if isinstance(current, list) and isinstance(part, int):
                current = current[part] if 0 <= part < len(current) else None
            else:
                current = current.get(part) if isinstance(current, dict) else None
        return current if isinstance(current, dict) else {}


@dataclass(frozen=True)
class KustomizationNode:
    """A Flux Kustomization, for the layer rules: its layer and where it is written."""

    ref: ObjectRef
    manifest: Manifest
    layer: LayerAssignment


@dataclass(frozen=True)
class BackupNode:
    """An object that backs up releases: a ``railiance.io/service-class: backup`` label
    (rail's backup CronJobs, a hand-written one, a backup tool's HelmRelease). What it
    covers: its ``railiance.io/backs-up`` annotation, ``namespace/name`` of each release
    (a name alone: the object's namespace)."""

    ref: ObjectRef
    manifest: Manifest
    layer: LayerAssignment
    covers: tuple[tuple[str | None, str], ...]


@dataclass
class ReleaseGraph:
    config: StackConfig
    manifests: list[Manifest]
    loaded: LoadedStack | None = None
    referenced: dict[str, tuple[str, ...]] = field(default_factory=dict)
    releases: dict[ObjectRef, ReleaseNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    objects: dict[ObjectRef, Manifest] = field(default_factory=dict)
    notes: list[str | Note] = field(default_factory=list)  # grouped when the run ends (notes.py)
    patch_files: set[str] = field(default_factory=set)  # files kustomize applies as patches, not objects
    kustomizations: dict[ObjectRef, KustomizationNode] = field(default_factory=dict)
    kustomization_edges: list[Edge] = field(default_factory=list)  # their dependsOn entries
    backups: dict[ObjectRef, BackupNode] = field(default_factory=dict)

    def edges_from(self, ref: ObjectRef) -> list[Edge]:
        return [edge for edge in self.edges if edge.source == ref]

    def layer_of(self, ref: ObjectRef) -> LayerAssignment | None:
        """The layer assignment of a release or a Flux Kustomization; None if neither."""
        node = self.releases.get(ref) or self.kustomizations.get(ref)
        return node.layer if node is not None else None

    def node_location(self, node: ReleaseNode, key_path: Iterable[str | int] = ()) -> Location:
        """Where ``key_path`` of the manifest is; in the spec when rail rendered it."""
        parts = tuple(key_path)
        return _locate(node.manifest.document, parts)

    def value_location(
        self, node: ReleaseNode, value_path: Iterable[str | int]
    ) -> tuple[Location, tuple[Location, ...]]:
        """Where a values key was written (spec, values file or manifest), and the rendered place."""
        parts = tuple(value_path)
        rendered = _locate(node.manifest.document, (*node.values_path, *parts))
        if node.spec is None or self.loaded is None:
            return rendered, ()
        spec_document = self.loaded.spec_documents.get(node.spec.origin)
        if spec_document is not None and ("values", *parts) in spec_document.positions:
            return _locate(spec_document, ("values", *parts)), (rendered,)
        for values_path in reversed(node.spec.values_files):
            document = self.loaded.values_documents.get(values_path)
            if document is not None and parts in document.positions:
                return _locate(document, parts), (rendered,)
        if spec_document is not None:
            return _locate(spec_document, ("values",)), (rendered,)
        return rendered, ()

    def spec_location(
        self, node: ReleaseNode, key_path: Iterable[str | int], fallback: Iterable[str | int] = ()
    ) -> tuple[Location, tuple[Location, ...]]:
        """A spec key's location when the node has a spec, else the manifest's ``fallback``."""
        rendered = _locate(node.manifest.document, tuple(fallback))
        if node.spec is not None and self.loaded is not None:
            document = self.loaded.spec_documents.get(node.spec.origin)
            if document is not None:
                return _locate(document, tuple(key_path)), (rendered,)
        return rendered, ()


def _locate(document: Document, key_path: tuple[Any, ...]) -> Location:
    # From the cache when kept: a key's place without reading the file's whole positions map.
    return Location(*where(document, key_path))


def build(
    config: StackConfig,
    manifests: list[Manifest],
    loaded: LoadedStack | None = None,
    referenced: dict[str, tuple[str, ...]] | None = None,
) -> ReleaseGraph:
    """``referenced``: for each spec, the releases its values refer to (from the render)."""
    graph = ReleaseGraph(config=config, manifests=manifests, loaded=loaded, referenced=referenced or {})
    for manifest in manifests:
        if manifest.kind and manifest.name:
            ref = ObjectRef(manifest.kind, manifest.namespace, manifest.name)
            graph.objects.setdefault(ref, manifest)
    graph.patch_files = patch_files(manifests)
    specs = {release.origin: release for release in loaded.stack.releases} if loaded else {}
    for manifest in manifests:
        if manifest.group == ARGO_GROUP and manifest.kind == "Application":
            _add_application(graph, manifest, specs)
            continue
        if manifest.group != HELM_GROUP or manifest.kind != "HelmRelease":
            continue
        spec = manifest.spec()
        if manifest.path in graph.patch_files:
            graph.notes.append(
                f"{manifest.path}: HelmRelease {manifest.name or '(unnamed)'} is in a file a kustomization.yaml"
                " applies as a patch: not linted as a release"
            )
            continue
        if not manifest.name or not ("chart" in spec or "chartRef" in spec):
            graph.notes.append(
                f"{manifest.path}: HelmRelease {manifest.name or '(unnamed)'} has no chart: read as a kustomize"
                " patch or fragment, not linted as a release"
            )
            continue
        if manifest.version not in ("v2",):
            graph.notes.append(deprecated_helm_release(manifest))
        release = specs.get(manifest.origin) if manifest.origin else None
        node = _node(graph, manifest, release)
        if node.ref in graph.releases:
            first = graph.releases[node.ref].manifest.path
            graph.notes.append(
                Note(
                    DUPLICATE_RELEASE,
                    "release defined more than once (same kind, namespace and name): the first one is linted",
                    manifest.path,
                    f"{node.ref}, first in {first}",
                )
            )
            continue
        graph.releases[node.ref] = node
    _drop_second_target(graph)
    _add_kustomizations(graph)
    _add_backups(graph)
    destinations = argo_destinations(graph.manifests)
    for node in graph.releases.values():
        if node.ref.kind == "Application":
            graph.edges.extend(_argo_edges(graph, node, destinations))
        else:
            graph.edges.extend(_edges(graph, node))
    return graph


BACKS_UP_ANNOTATION = "railiance.io/backs-up"


def _add_backups(graph: ReleaseGraph) -> None:
    release_manifests = {id(node.manifest): node for node in graph.releases.values()}
    for manifest in graph.manifests:
        node = release_manifests.get(id(manifest))
        is_backup = (
            node.service_class == "backup" if node is not None else manifest.labels().get(CLASS_LABEL) == "backup"
        )
        if not is_backup or not manifest.kind or not manifest.name or manifest.path in graph.patch_files:
            continue
        ref = node.ref if node is not None else ObjectRef(manifest.kind, manifest.namespace, manifest.name)
        if ref in graph.backups:
            continue
        layer = node.layer if node is not None else _layer(graph, manifest, manifest.namespace)
        text = manifest.annotations().get(BACKS_UP_ANNOTATION)
        covers: list[tuple[str | None, str]] = []
        for item in text.split(",") if isinstance(text, str) else ():
            namespace, _, name = item.strip().rpartition("/")
            if name:
                covers.append((namespace or manifest.namespace, name))
        graph.backups[ref] = BackupNode(ref, manifest, layer, tuple(covers))


def _add_kustomizations(graph: ReleaseGraph) -> None:
    for manifest in graph.manifests:
        if manifest.group != KUSTOMIZE_GROUP or manifest.kind != "Kustomization" or not manifest.name:
            continue
        namespace = manifest.namespace or "default"
        ref = ObjectRef("Kustomization", namespace, manifest.name)
        if ref in graph.kustomizations:
            continue
        spec = manifest.spec()
        layer = _layer(graph, manifest, spec.get("targetNamespace"))
        graph.kustomizations[ref] = KustomizationNode(ref, manifest, layer)
        for index, item in enumerate(spec.get("dependsOn") or []):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                depended = ObjectRef("Kustomization", item.get("namespace") or namespace, item["name"])
                place = Place(manifest.document, ("spec", "dependsOn", index))
                graph.kustomization_edges.append(Edge(ref, depended, "dependsOn", place))


def _layer(graph: ReleaseGraph, manifest: Manifest, namespace: object) -> LayerAssignment:
    """The layer of ``manifest``, which installs into ``namespace`` (if a string)."""
    return assign(
        graph.config,
        manifest.labels().get(LAYER_LABEL),
        manifest.path,
        namespace if isinstance(namespace, str) else None,
        manifest.appliers,
    )


def deprecated_helm_release(manifest: Manifest) -> Note:
    """One note per (kind, apiVersion), however many releases use it: crd-schema
    leaves these to this one, so that a release on v2beta2 is noted once, not twice."""
    return Note(
        DEPRECATED_API,
        f"HelmRelease {manifest.api_version} is a deprecated version Flux 2.8 no longer serves: linted as v2,"
        f" not schema-checked (migrate it to {HELM_GROUP}/v2)",
        manifest.path,
        f"HelmRelease {manifest.name}",
    )


def _drop_second_target(graph: ReleaseGraph) -> None:
    """A spec rendered for Flux and for Argo CD is one release: lint it once, as its HelmRelease."""
    flux_specs = {node.spec.origin for node in graph.releases.values() if node.spec and node.ref.kind == "HelmRelease"}
    for ref, node in list(graph.releases.items()):
        if node.ref.kind == "Application" and node.spec is not None and node.spec.origin in flux_specs:
            del graph.releases[ref]


def _add_application(graph: ReleaseGraph, manifest: Manifest, specs: dict[str, Release]) -> None:
    """An Argo CD Application with a Helm chart source is a release like a HelmRelease:
    a chart from a Helm or OCI repository, or (linted as Argo CD applies it) a chart
    folder of this repository. Of several sources, the first chart source is the release."""
    spec = manifest.spec()
    found = _release_source(manifest)
    if not manifest.name or found is None:
        return
    key_path, source, chart, chart_path = found
    repo = source.get("repoURL")
    version = source.get("targetRevision") if chart_path is None else None
    repository = repo.strip() if isinstance(repo, str) and repo.strip() and chart_path is None else None
    release = specs.get(manifest.origin) if manifest.origin else None
    destination = spec.get("destination")
    namespace = destination.get("namespace") if isinstance(destination, dict) else None
    layer = _layer(graph, manifest, namespace)
    helm_source = source.get("helm")
    helm: dict[str, Any] = helm_source if isinstance(helm_source, dict) else {}
    values = helm.get("valuesObject")
    values_path = (*key_path, "helm", "valuesObject")
    unknown: list[str] = []
    if values is None and isinstance(helm.get("values"), str):
        values_path = (*key_path, "helm", "values")  # findings point at the embedded string
        try:
            values = load_document(helm["values"], f"{manifest.path}#helm.values").data
        except InputError:  # an embedded values string is its owner's problem
            unknown.append(f"Application {manifest.name} helm.values")
    if helm.get("valueFiles"):
        # Linted as applied, the files rail could read are merged into valuesObject already.
        unknown.append(f"Application {manifest.name} helm.valueFiles")
    node = ReleaseNode(
        ref=ObjectRef("Application", manifest.namespace, manifest.name),
        manifest=manifest,
        layer=layer,
        service_class=_service_class(manifest, release, chart, repository),
        chart=ChartInfo(
            name=chart,
            version=str(version) if version is not None else None,
            source=None,
            version_place=Place(manifest.document, (*key_path, "targetRevision")),
            repository=repository,
            path=chart_path,
        ),
        values=values if isinstance(values, dict) else {},
        unknown_values=tuple(unknown),
        spec=release,
        ha=bool(release.ha) if release else manifest.annotations().get("railiance.io/ha") == "true",
        values_path=values_path,
    )
    if node.ref not in graph.releases:
        graph.releases[node.ref] = node


def _release_source(manifest: Manifest) -> tuple[tuple[str | int, ...], dict[str, Any], str, str | None] | None:
    """The source that makes an Application a release: (its key path, the source, the
    chart's name, the chart folder's display path when it is one), or None."""
    spec = manifest.spec()
    entries: list[tuple[tuple[str | int, ...], Any]] = [(("spec", "source"), spec.get("source"))]
    sources = spec.get("sources")
    if isinstance(sources, list):
        entries += [(("spec", "sources", index), item) for index, item in enumerate(sources)]
    for key_path, source in entries:
        if not isinstance(source, dict):
            continue
        chart, repo = source.get("chart"), source.get("repoURL")
        if isinstance(chart, str):
            return key_path, source, chart, None
        if isinstance(repo, str) and repo.startswith("oci://"):
            # Argo CD's native OCI source names the chart in the URL.
            return key_path, source, repo.rstrip("/").rsplit("/", 1)[-1], None
        folder = _chart_folder(manifest, source)
        if folder is not None:
            return key_path, source, posixpath.basename(folder), folder
    return None


def _chart_folder(manifest: Manifest, source: Mapping[str, Any]) -> str | None:
    """The display path of the chart folder a path source builds, when the apply model
    found one there (``charts`` of its document; linted as written, a path is not
    known to be a chart)."""
    charts: frozenset[str] = getattr(manifest.document, "charts", frozenset())
    path = source.get("path")
    if not charts or not isinstance(path, str):
        return None
    prefix = getattr(manifest.document, "prefix", "")
    joined = posixpath.join(prefix, path.strip("/")) if prefix not in ("", ".") else path.strip("/")
    folder = posixpath.normpath(joined)
    return folder if folder in charts else None


def argo_destinations(manifests: Iterable[Manifest]) -> dict[tuple[str | None, str], ObjectRef]:
    """Every Argo CD Application by (destination namespace, name): what a
    ``railiance.io/depends-on`` entry ``namespace/name`` names."""
    found: dict[tuple[str | None, str], ObjectRef] = {}
    for manifest in manifests:
        if manifest.group != ARGO_GROUP or manifest.kind != "Application" or not manifest.name:
            continue
        destination = manifest.spec().get("destination")
        namespace = destination.get("namespace") if isinstance(destination, dict) else None
        key = (namespace if isinstance(namespace, str) else None, manifest.name)
        found.setdefault(key, ObjectRef("Application", manifest.namespace, manifest.name))
    return found


def _argo_edges(
    graph: ReleaseGraph, node: ReleaseNode, by_destination: dict[tuple[str | None, str], ObjectRef]
) -> list[Edge]:
    """Argo CD has no dependsOn: rail records the dependencies as an annotation
    (``namespace/name`` of each release: its destination namespace and Application
    name; the namespace defaults to the release's own; the waves order them). An
    entry no Application deploys is an unresolved edge to ``Application namespace/name``."""
    text = node.manifest.annotations().get(DEPENDS_ON_ANNOTATION)
    if not isinstance(text, str):
        return []
    referenced = set(graph.referenced.get(node.spec.name, ())) if node.spec else set()
    explicit = set(node.spec.depends_on) if node.spec else set()
    location = Place(node.manifest.document, ("metadata", "annotations", DEPENDS_ON_ANNOTATION))
    edges = []
    for item in text.split(","):
        namespace, _, name = item.strip().rpartition("/")
        if not name:
            continue
        destination = (namespace or node.namespace, name)
        found = by_destination.get(destination)
        target = found or ObjectRef("Application", destination[0], name)
        kind = "reference" if name in referenced and name not in explicit else "dependsOn"
        edges.append(Edge(node.ref, target, kind, location, resolved=found is not None))
    return edges


def _service_class(
    manifest: Manifest, release: Release | None, chart: str | None, repository: str | None
) -> str | None:
    from ..catalog import chart_facts

    if release is not None:
        return release.service_class
    label = manifest.labels().get(CLASS_LABEL)
    if isinstance(label, str):
        return label
    facts = chart_facts(chart, repository)
    return facts.service_class if facts else None


def _node(graph: ReleaseGraph, manifest: Manifest, release: Release | None) -> ReleaseNode:
    spec = manifest.spec()
    ref = ObjectRef("HelmRelease", manifest.namespace, manifest.name)
    chart = _chart(graph, manifest)
    target = spec.get("targetNamespace")
    namespace = target if isinstance(target, str) else manifest.namespace
    layer = _layer(graph, manifest, namespace)
    values, unknown = _values(graph, manifest)
    return ReleaseNode(
        ref=ref,
        manifest=manifest,
        layer=layer,
        service_class=_service_class(manifest, release, chart.name, chart.repository),
        chart=chart,
        values=values,
        unknown_values=tuple(unknown),
        spec=release,
        ha=bool(release.ha) if release else manifest.annotations().get("railiance.io/ha") == "true",
    )


def _chart(graph: ReleaseGraph, manifest: Manifest) -> ChartInfo:
    spec = manifest.spec()
    namespace = manifest.namespace
    chart_ref = spec.get("chartRef")
    if isinstance(chart_ref, dict):
        kind = str(chart_ref.get("kind", ""))
        source = ObjectRef(kind, chart_ref.get("namespace") or namespace, str(chart_ref.get("name", "")))
        oci = graph.objects.get(source)
        name = version = repository = None
        version_place = None
        if oci is not None and kind == "OCIRepository":
            url = oci.spec().get("url")
            name = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else None
            repository = _url(oci)
            ref = oci.spec().get("ref")
            if isinstance(ref, dict):
                tag = ref.get("tag")
                version = tag if isinstance(tag, str) else None
            version_place = Place(oci.document, ("spec", "ref", "tag"))
        elif oci is not None and kind == "HelmChart":
            name = oci.spec().get("chart")
            version = oci.spec().get("version")
            repository = _url(_source_object(graph, oci.spec().get("sourceRef"), oci.namespace))
        return ChartInfo(name=name, version=version, source=source, version_place=version_place, repository=repository)
    chart_spec = (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    if not isinstance(chart_spec, dict):
        return ChartInfo(name=None, version=None, source=None)
    source_ref = chart_spec.get("sourceRef")
    chart_source: ObjectRef | None = None
    if isinstance(source_ref, dict):
        chart_source = ObjectRef(
            str(source_ref.get("kind", "")), source_ref.get("namespace") or namespace, str(source_ref.get("name", ""))
        )
    name = chart_spec.get("chart")
    version = chart_spec.get("version")
    return ChartInfo(
        name=name.rstrip("/").rsplit("/", 1)[-1] if isinstance(name, str) else None,
        version=str(version) if version is not None else None,
        source=chart_source,
        version_place=Place(manifest.document, ("spec", "chart", "spec", "version")),
        repository=_url(_source_object(graph, source_ref, namespace)),
    )


# Flux sources whose ``spec.url`` is a chart repository (a GitRepository's or a Bucket's is not).
_CHART_REPOSITORIES = frozenset({"HelmRepository", "OCIRepository"})


def _source_object(graph: ReleaseGraph, source_ref: object, namespace: str | None) -> Manifest | None:
    """The Flux source a ``sourceRef`` names, if it is among the linted manifests."""
    if not isinstance(source_ref, dict):
        return None
    ref = ObjectRef(
        str(source_ref.get("kind", "")), source_ref.get("namespace") or namespace, str(source_ref.get("name", ""))
    )
    return graph.objects.get(ref)


def _url(source: Manifest | None) -> str | None:
    """A HelmRepository's or OCIRepository's ``spec.url``: the chart repository."""
    if source is None or source.group != SOURCE_GROUP or source.kind not in _CHART_REPOSITORIES:
        return None
    url = source.spec().get("url")
    return url.strip() if isinstance(url, str) and url.strip() else None


def _values(graph: ReleaseGraph, manifest: Manifest) -> tuple[dict[str, Any], list[str]]:
    """``valuesFrom`` in order, then inline ``values`` on top, as Flux merges them."""
    spec = manifest.spec()
    merged: dict[str, Any] = {}
    unknown: list[str] = []
    for item in spec.get("valuesFrom") or []:
        if not isinstance(item, dict):
            continue
        kind, name = str(item.get("kind", "")), str(item.get("name", ""))
        key = str(item.get("valuesKey") or "values.yaml")
        source = graph.objects.get(ObjectRef(kind, manifest.namespace, name))
        content = _object_value(source, key) if source is not None else None
        if content is None:
            unknown.append(f"{kind} {manifest.namespace}/{name}")
            continue
        target_path = item.get("targetPath")
        if isinstance(target_path, str) and target_path:
            parts = helm_values.split_target_path(target_path)
            if parts is None:
                unknown.append(f"{kind} {manifest.namespace}/{name} (targetPath {target_path})")
                continue
            patch: dict[str, Any] = {}
            helm_values.set_path(patch, parts, content)
            merged = helm_values.coalesce(merged, patch)
        else:
            try:
                document = load_document(content, f"{source.path if source else name}#{key}")
            except InputError:  # a ConfigMap's embedded YAML is its owner's problem
                unknown.append(f"{kind} {manifest.namespace}/{name}")
                continue
            if isinstance(document.data, dict):
                merged = helm_values.coalesce(merged, document.data)
    inline = spec.get("values")
    if isinstance(inline, dict):
        merged = helm_values.coalesce(merged, inline)
    return merged, unknown


def _object_value(manifest: Manifest, key: str) -> str | None:
    if manifest.is_sops():
        return None
    data = manifest.data
    string_data = data.get("stringData")
    if isinstance(string_data, dict) and isinstance(string_data.get(key), str):
        return str(string_data[key])
    plain = data.get("data")
    if isinstance(plain, dict) and isinstance(plain.get(key), str):
        if manifest.kind == "ConfigMap":
            return str(plain[key])
        try:
            return base64.b64decode(plain[key], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def _edges(graph: ReleaseGraph, node: ReleaseNode) -> list[Edge]:
    spec = node.manifest.spec()
    document = node.manifest.document
    edges: list[Edge] = []
    referenced = set(graph.referenced.get(node.spec.name, ())) if node.spec else set()
    explicit = set(node.spec.depends_on) if node.spec else set()
    for index, item in enumerate(spec.get("dependsOn") or []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        target = ObjectRef("HelmRelease", item.get("namespace") or node.ref.namespace, item["name"])
        kind = "reference" if item["name"] in referenced and item["name"] not in explicit else "dependsOn"
        edges.append(Edge(node.ref, target, kind, Place(document, ("spec", "dependsOn", index))))
    for index, item in enumerate(spec.get("valuesFrom") or []):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            target = ObjectRef(str(item.get("kind", "")), node.ref.namespace, item["name"])
            edges.append(
                Edge(
                    node.ref,
                    target,
                    "valuesFrom",
                    Place(document, ("spec", "valuesFrom", index)),
                    optional=bool(item.get("optional")),
                )
            )
    if node.chart.source is not None:
        key = ("spec", "chartRef") if "chartRef" in spec else ("spec", "chart", "spec", "sourceRef")
        edges.append(Edge(node.ref, node.chart.source, "source", Place(document, key)))
    return edges
