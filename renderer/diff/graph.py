"""The layer graph of a diff: the releases of both sides, their layers, their
dependency edges and how the change touches each one; and, for every stateful
release the change touches, the facts a reviewer checks before merging (volumes,
replicas, PodDisruptionBudget).

Data only: the pull-request comment draws it (a Mermaid diagram, a table). A
release is keyed by where Helm installs it (namespace, release name), so a Flux
HelmRelease and the Argo CD Application of the same spec are one node.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import chart_facts
from ..model import Layer
from .compare import ADDED, MODIFIED, MOVED, REMOVED, DiffResult
from .rules._values import chart_of, persistent, release_values
from .sides import DiffObject, ObjectKey

UNCHANGED = "unchanged"
DEPENDS_ON = "railiance.io/depends-on"  # an Argo CD Application's dependencies, as rail renders them
SERVICE_CLASS_LABEL = "railiance.io/service-class"
_DATA_CLASSES = frozenset({"database", "cache", "broker", "search", "backup"})
# When one release changes several ways (a Flux copy moved, the Argo CD copy modified),
# the node shows the strongest; "renamed" is compare.RENAMED, named here so this
# module works before and after it exists.
_STRENGTH = ("renamed", MOVED, REMOVED, ADDED, MODIFIED, UNCHANGED)
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")

ReleaseKey = tuple[str, str]  # namespace, release name
KeyOf = Callable[[DiffObject], ReleaseKey | None]
_UNKNOWN = object()


@dataclass(frozen=True)
class Facts:
    """A stateful release's data-safety facts on one side: only numbers, booleans and
    quantities are kept (never a string that could hold a secret)."""

    volumes: tuple[tuple[str, str], ...] = ()  # values path -> size
    replicas: tuple[tuple[str, int], ...] = ()
    disruption_budget: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class GraphNode:
    namespace: str
    name: str
    layer: str | None
    state: str  # added, removed, modified, moved, renamed or unchanged
    stateful: bool = False
    old: Facts | None = None  # the facts of each side, for stateful releases the change touches
    new: Facts | None = None
    previous: ReleaseKey | None = None  # where a moved or renamed release was

    @property
    def key(self) -> ReleaseKey:
        return (self.namespace, self.name)

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True)
class GraphEdge:
    source: ReleaseKey  # the dependent
    target: ReleaseKey  # what it depends on
    upward: bool  # a lower layer depending on a higher one: the layer rule broken


@dataclass(frozen=True)
class LayerGraph:
    layers: tuple[tuple[str, str], ...]  # (id, name), lowest first
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    # Changed objects that belong to one release: its HelmRelease and Application, the
    # chart source only it uses, the Secrets and ConfigMaps it reads or is named for.
    owners: tuple[tuple[ObjectKey, ReleaseKey], ...] = ()

    @property
    def changed(self) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if node.state != UNCHANGED)


def is_release(obj: DiffObject) -> bool:
    """A HelmRelease, or an Argo CD Application that installs a chart (not an app of apps)."""
    if obj.kind == "HelmRelease":
        return True
    return obj.kind == "Application" and chart_of(obj)[0] is not None


def release_key(obj: DiffObject) -> ReleaseKey | None:
    """Where Helm installs the release: its namespace and release name."""
    if not is_release(obj):
        return None
    spec = _mapping(obj.data.get("spec"))
    if obj.kind == "Application":
        namespace = _mapping(spec.get("destination")).get("namespace")
        name = _mapping(_mapping(spec.get("source")).get("helm")).get("releaseName")
    else:
        namespace, name = spec.get("targetNamespace"), spec.get("releaseName")
    return (
        namespace if isinstance(namespace, str) else obj.namespace,
        name if isinstance(name, str) and name else obj.name,
    )


def layer_graph(
    base: Mapping[ObjectKey, DiffObject],
    head: Mapping[ObjectKey, DiffObject],
    result: DiffResult,
    layers: Sequence[Layer],
) -> LayerGraph:
    """Every release of the head (and those the change removes), its edges, its state."""
    known: dict[int, ReleaseKey | None] = {}  # each object's release key, worked out once

    def keyed(obj: DiffObject) -> ReleaseKey | None:
        found = known.get(id(obj), _UNKNOWN)
        if found is _UNKNOWN:
            found = known[id(obj)] = release_key(obj)
        return found if isinstance(found, tuple) else None

    states: dict[ReleaseKey, str] = {}
    previous: dict[ReleaseKey, ReleaseKey] = {}
    touched: dict[ReleaseKey, tuple[DiffObject | None, DiffObject | None]] = {}
    for change in result.changes:
        obj = change.current
        key = keyed(obj)
        if key is None:
            continue
        state = states.get(key, UNCHANGED)
        states[key] = min(state, change.change, key=_rank)
        if change.change != REMOVED and change.old is not None and change.new is not None:
            old_key = keyed(change.old)
            if old_key is not None and old_key != key:
                previous[key] = old_key
        old, new = touched.get(key, (None, None))
        touched[key] = (old or change.old, new or change.new)
    releases: dict[ReleaseKey, DiffObject] = {}
    for obj in _sorted(head):
        key = keyed(obj)
        if key is not None:
            releases.setdefault(key, obj)
    removed = {key for key, state in states.items() if state == REMOVED}
    for obj in _sorted(base):
        key = keyed(obj)
        if key is not None and key in removed:
            releases.setdefault(key, obj)
    order = {layer.id: layer.order for layer in layers}
    nodes = []
    for key in sorted(releases):
        obj = releases[key]
        old, new = touched.get(key, (None, None))
        stateful = key in touched and any(_stateful(side) for side in (old, new) if side is not None)
        nodes.append(
            GraphNode(
                namespace=key[0],
                name=key[1],
                layer=obj.layer,
                state=states.get(key, UNCHANGED),
                stateful=stateful,
                old=_facts(old) if stateful and old is not None else None,
                new=_facts(new) if stateful and new is not None else None,
                previous=previous.get(key),
            )
        )
    layer_of = {node.key: node.layer for node in nodes}
    edges = set()
    for side, keep in ((head, None), (base, removed)):
        targets = _targets(side, keyed)
        for obj in _sorted(side):
            source = keyed(obj)
            if source is None or source not in layer_of or (keep is not None and source not in keep):
                continue
            for target in _dependencies(obj, targets, keyed(obj)):
                if target in layer_of and target != source:
                    low, high = order.get(layer_of[source] or ""), order.get(layer_of[target] or "")
                    upward = low is not None and high is not None and low < high
                    edges.add(GraphEdge(source, target, upward))
    changed = {change.key for change in result.changes} | {
        change.old.key for change in result.changes if change.old is not None
    }
    owners = {**_owners(base, changed, keyed), **_owners(head, changed, keyed)}
    # The base's source and Secrets of a release that moved or was renamed belong to it still.
    was = {old: new for new, old in previous.items()}
    owners = {key: was.get(owner, owner) for key, owner in owners.items()}
    return LayerGraph(
        layers=tuple((layer.id, layer.name) for layer in sorted(layers, key=lambda layer: layer.order)),
        nodes=tuple(nodes),
        edges=tuple(sorted(edges, key=lambda edge: (edge.source, edge.target))),
        owners=tuple(sorted(owners.items())),
    )


SOURCE_KINDS = frozenset({"HelmRepository", "OCIRepository", "GitRepository", "HelmChart", "Bucket"})
_READ_KINDS = frozenset({"Secret", "ConfigMap"})


def _owners(
    objects: Mapping[ObjectKey, DiffObject], changed: set[ObjectKey], keyed: KeyOf
) -> dict[ObjectKey, ReleaseKey]:
    """The release each changed object of one side belongs to, where exactly one claims it."""
    claims: dict[tuple[str, str, str], set[ReleaseKey]] = {}
    releases: list[tuple[DiffObject, ReleaseKey]] = []
    for obj in _sorted(objects):
        key = keyed(obj)
        if key is None:
            continue
        releases.append((obj, key))
        spec = _mapping(obj.data.get("spec"))
        refs = [
            _mapping(_mapping(_mapping(spec.get("chart")).get("spec")).get("sourceRef")),
            _mapping(spec.get("chartRef")),
        ]
        refs += [_mapping(item) for item in spec.get("valuesFrom") or [] if isinstance(item, dict)]
        for ref in refs:
            kind, name = ref.get("kind"), ref.get("name")
            if isinstance(kind, str) and isinstance(name, str):
                claims.setdefault((kind, str(ref.get("namespace") or obj.namespace), name), set()).add(key)
    found: dict[ObjectKey, ReleaseKey] = {}
    for object_key in sorted(changed):
        if object_key not in objects:
            continue
        obj = objects[object_key]
        own = keyed(obj)
        claimed = claims.get((obj.kind, obj.namespace, obj.name), set())
        if own is not None:
            found[object_key] = own
        elif len(claimed) == 1:
            found[object_key] = next(iter(claimed))
        elif obj.kind in _READ_KINDS and not claimed:
            # Named for the release (`gitea-admin` for `gitea`), in its namespace: the longest name wins.
            named = [
                key
                for release, key in releases
                if obj.namespace in (key[0], release.namespace)
                and (obj.name == key[1] or obj.name.startswith(f"{key[1]}-"))
            ]
            if named:
                found[object_key] = max(named, key=lambda key: (len(key[1]), key))
    return found


def _rank(state: str) -> int:
    return _STRENGTH.index(state) if state in _STRENGTH else len(_STRENGTH)


def _sorted(objects: Mapping[ObjectKey, DiffObject]) -> list[DiffObject]:
    return [objects[key] for key in sorted(objects)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _targets(objects: Mapping[ObjectKey, DiffObject], keyed: KeyOf) -> dict[tuple[str, str, str], ReleaseKey]:
    """What a dependency names -> the release: a HelmRelease by its own namespace and
    name, an Argo CD Application by its destination namespace and name."""
    found: dict[tuple[str, str, str], ReleaseKey] = {}
    for obj in _sorted(objects):
        key = keyed(obj)
        if key is None:
            continue
        if obj.kind == "Application":
            found[("Application", key[0], obj.name)] = key
        else:
            found[("HelmRelease", obj.namespace, obj.name)] = key
    return found


def _dependencies(
    obj: DiffObject, targets: Mapping[tuple[str, str, str], ReleaseKey], own: ReleaseKey | None
) -> Iterator[ReleaseKey]:
    if obj.kind == "Application":
        annotations = _mapping(_mapping(obj.data.get("metadata")).get("annotations"))
        text = annotations.get(DEPENDS_ON)
        for entry in text.split(",") if isinstance(text, str) else []:
            namespace, _, name = entry.strip().rpartition("/")
            found = targets.get(("Application", namespace or (own[0] if own else ""), name))
            if name and found is not None:
                yield found
        return
    for item in _mapping(obj.data.get("spec")).get("dependsOn") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            found = targets.get(("HelmRelease", str(item.get("namespace") or obj.namespace), item["name"]))
            if found is not None:
                yield found


def _walk(values: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path, value
            yield from _walk(value, path)


def _stateful(obj: DiffObject) -> bool:
    if persistent(release_values(obj)):
        return True
    labels = _mapping(_mapping(obj.data.get("metadata")).get("labels"))
    if labels.get(SERVICE_CLASS_LABEL) in _DATA_CLASSES:
        return True
    facts = chart_facts(chart_of(obj)[0])
    return facts is not None and facts.service_class in _DATA_CLASSES


def _facts(obj: DiffObject) -> Facts:
    volumes, replicas, budget = [], [], []
    for path, value in _walk(release_values(obj)):
        leaf = path.rsplit(".", 1)[-1]
        if leaf in ("size", "storage") and isinstance(value, str) and _QUANTITY.match(value):
            volumes.append((path, value))
        elif leaf in ("replicaCount", "replicas") and isinstance(value, int) and not isinstance(value, bool):
            replicas.append((path, value))
        elif (path.endswith(("pdb.create", "pdb.enabled", "podDisruptionBudget.enabled"))) and isinstance(value, bool):
            budget.append((path, value))
    return Facts(tuple(sorted(volumes)), tuple(sorted(replicas)), tuple(sorted(budget)))
