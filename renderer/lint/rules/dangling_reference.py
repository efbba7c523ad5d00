"""dangling-reference: a ``dependsOn``, a chart source, a ``valuesFrom`` or a depends-on entry naming nothing.

Flux does not fail a HelmRelease whose ``dependsOn`` names a release that does
not exist, whose chart source is missing or whose ``valuesFrom`` object is
absent: it waits, and retries, forever, with the reason buried in the object's
status. This rule checks every edge of the release graph against the objects
in the linted files:

- ``dependsOn`` (and references between specs): a HelmRelease of that name in
  that namespace (``dependsOn[].namespace`` defaults to the release's own);
- the chart source (``spec.chart.spec.sourceRef`` or ``spec.chartRef``): an
  object of that kind, name and namespace (the namespace defaults to the
  release's). The Flux bootstrap repository (the stack's ``flux.gitRepository``
  in ``flux.namespace``, default ``flux-system/flux-system``) is created by
  ``flux bootstrap`` and always counts as present;
- ``valuesFrom``: a ConfigMap or Secret of that name in the release's
  namespace, one a ``kustomization.yaml`` generator makes, or one an object in
  the linted files creates (below). An entry with ``optional: true`` may be
  missing. A missing Secret is a warning, not an error: Secrets are often
  created out of band (an operator, ``kubectl create secret``), so the message
  says so;
- an Argo CD Application's ``railiance.io/depends-on`` annotation (Argo CD has
  no ``dependsOn``: rail records the dependencies there and orders them by sync
  wave): each comma-separated ``namespace/name`` entry must be an Application
  of that name whose ``spec.destination.namespace`` is that namespace (the
  namespace defaults to the Application's own destination).

Namespaces must match exactly. An object without ``metadata.namespace`` (its
namespace comes from kustomize or the Flux Kustomization at apply time), or a
namespace that is a ``${VAR}`` substitution, matches by kind and name alone. A
name that is still a ``${VAR}`` (a variable from a Secret, or one no
``postBuild`` defines) is not checked: only Flux knows it.

Objects that create others count as the objects they create, in the namespace
the operator writes them to (``renderer/catalog/creators.yaml``):

- External Secrets ``ExternalSecret``: a Secret ``spec.target.name``, default
  its own name, in its namespace; ``ClusterExternalSecret``: that Secret (of
  ``spec.externalSecretSpec.target.name``, else ``spec.externalSecretName``,
  else its name) in *any* namespace, since rail does not evaluate its
  namespace selectors;
- CloudNativePG ``Cluster``: Secrets ``<name>-app``, ``-superuser``, ``-ca``,
  ``-server`` and ``-replication`` (all five, whatever the Cluster's settings);
- Rook / lib-bucket-provisioner ``ObjectBucketClaim``: a ConfigMap and a Secret
  of its name;
- cert-manager ``Certificate``: a Secret ``spec.secretName``;
- Bitnami ``SealedSecret``: a Secret of its name (``spec.template.metadata.name``
  if set).

Linted as Flux applies it, an object keeps the name kustomize gives it
(``namePrefix``, patches): a prefixed ExternalSecret creates the prefixed Secret.

Options (``lint.rules.dangling-reference.options`` in rail.yaml): ``creators``,
more entries of the same shape, for operators rail does not know::

    creators:
      - group: onepassword.com
        kind: OnePasswordItem
        creates:
          - {kind: Secret, name: "{metadata.name}", namespace: same}

``name`` is a template: ``{a.b|c.d}`` is the first of those fields that is set
(none set: nothing is created); ``namespace`` is ``same`` (default) or ``any``.

Several entries of one object naming the same missing target (seven
``valuesFrom`` entries reading keys of one Secret) are one finding, which lists
the entries.

Across repositories (``imports:`` in rail.yaml), a ``${ref:IMPORT/RELEASE.EXPORT.FIELD}``
or ``dependsOn: [IMPORT/RELEASE]`` naming a release or export the imported stack's
interface file does not have is this rule's finding too, naming both repositories;
a rendered ``dependsOn`` into an imported stack counts the imported releases as present.

Releases rendered from specs rarely trip this rule: the renderer refuses a
``dependsOn`` naming no spec, and a ``${ref:...}`` reference naming no export is
a render error (exit 2), not a finding of this rule. Lint (and ``rail diff``)
load on where render stops at a spec's ``dependsOn`` or ``${ref:...}`` naming a
release the stack does not have: that is a finding here, at the spec's line. It is the main catch for
hand-written repositories, where a rename leaves the old name behind.

Fails (no HelmRelease ``postgresql`` in ``platform``)::

    kind: HelmRelease
    metadata: {name: gitea, namespace: apps}
    spec:
      dependsOn:
        - {name: postgresql, namespace: platform}

Passes::

    kind: HelmRelease
    metadata: {name: postgresql, namespace: platform}
    ---
    kind: HelmRelease
    metadata: {name: gitea, namespace: apps}
    spec:
      dependsOn:
        - {name: postgresql, namespace: platform}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ...catalog import creators as creator_facts
from ...yamlio import format_key_path
from ..finding import ERROR, WARNING, Finding, Location, ObjectRef
from ..graph import DEPENDS_ON_ANNOTATION, Edge, ReleaseGraph, ReleaseNode
from ..imports import dangling, imported_objects
from ..rule import GRAPH_WIDE, LintContext, Rule

if TYPE_CHECKING:
    from ...load.stack import LoadedStack

_KUSTOMIZE_FILES = frozenset({"kustomization.yaml", "kustomization.yml"})
_GENERATORS = (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret"))
_ANY = "*"


_SUBSTITUTION = "${"


def _unknown_namespace(namespace: str | None) -> bool:
    return namespace is None or _SUBSTITUTION in namespace


def _index(graph: ReleaseGraph) -> dict[tuple[str, str], set[str]]:
    """(kind, name) -> the namespaces objects of that kind and name are in (``*``: any)."""
    index: dict[tuple[str, str], set[str]] = {}
    for ref in graph.objects:
        namespaces = index.setdefault((ref.kind, ref.name), set())
        namespaces.add(_ANY if _unknown_namespace(ref.namespace) else str(ref.namespace))
    for manifest in graph.manifests:
        is_kustomize = manifest.group == "kustomize.config.k8s.io" or (
            not manifest.kind and manifest.path.rsplit("/", 1)[-1] in _KUSTOMIZE_FILES
        )
        if not is_kustomize:
            continue
        default_namespace = manifest.data.get("namespace")
        for key, kind in _GENERATORS:
            for generator in manifest.data.get(key) or []:
                if not isinstance(generator, dict) or not isinstance(generator.get("name"), str):
                    continue
                namespace = generator.get("namespace") or default_namespace
                index.setdefault((kind, generator["name"]), set()).add(
                    namespace if isinstance(namespace, str) and not _unknown_namespace(namespace) else _ANY
                )
    return index


def _created(graph: ReleaseGraph, extra: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(kind, name) -> namespaces of the objects an object in the graph creates (``*``: any)."""
    creators = (*creator_facts.shipped(), *creator_facts.parse(extra))
    kinds = {(creator.group, creator.kind) for creator in creators}
    index: dict[tuple[str, str], set[str]] = {}
    for manifest in graph.manifests:
        if (manifest.group, manifest.kind) not in kinds:
            continue
        for kind, namespace, name in creator_facts.created(
            creators, manifest.group, manifest.kind, manifest.namespace, manifest.data
        ):
            index.setdefault((kind, name), set()).add(_ANY if _unknown_namespace(namespace) else str(namespace))
    return index


def _exists(index: dict[tuple[str, str], set[str]], target: ObjectRef) -> bool:
    namespaces = index.get((target.kind, target.name))
    if not namespaces:
        return False
    return _ANY in namespaces or _unknown_namespace(target.namespace) or str(target.namespace) in namespaces


def _spec_location(graph: ReleaseGraph, node: ReleaseNode, edge: Edge) -> tuple[Location, tuple[Location, ...]]:
    """The spec line that made ``edge`` when rail rendered the release; else the manifest's."""
    spec = node.spec
    if spec is None:
        return edge.location, ()
    key: tuple[Any, ...] = ()
    if edge.kind in ("dependsOn", "reference"):
        names = list(spec.depends_on)
        key = ("dependsOn", names.index(edge.target.name)) if edge.target.name in names else ("values",)
    elif edge.kind == "valuesFrom":
        index = next(
            (
                position
                for position, item in enumerate(spec.values_from)
                if item.kind == edge.target.kind and item.name == edge.target.name
            ),
            None,
        )
        key = ("valuesFrom", index) if index is not None else ("valuesFrom",)
    else:
        key = ("chart",)
    location, _ = graph.spec_location(node, key)
    return location, (edge.location,)


def _describe(edge: Edge) -> tuple[str, str]:
    """(what the edge is, how to fix it)."""
    target = edge.target
    where = f"{target.namespace}/{target.name}" if target.namespace else target.name
    if edge.kind in ("dependsOn", "reference") and edge.source.kind == "Application":
        return (
            f"{DEPENDS_ON_ANNOTATION} names {where}, but no linted Application named '{target.name}'"
            f" deploys into namespace {target.namespace or '(unset)'}",
            f"fix the entry (destination namespace/Application name), add the Application, or remove the entry"
            f" from {DEPENDS_ON_ANNOTATION}",
        )
    if edge.kind in ("dependsOn", "reference"):
        return (
            f"dependsOn names {target.kind} {where}, which is not in the linted files",
            f"fix the name or namespace, add the {target.kind}, or remove the dependency",
        )
    if edge.kind == "source":
        return (
            f"chart source {target.kind or '(no kind)'} {where} is not in the linted files",
            "fix the source's kind, name or namespace (it defaults to the release's), or add the source",
        )
    return (
        f"valuesFrom names {target.kind or '(no kind)'} {where}, which is not in the linted files",
        "fix the name, add the object in the release's namespace, or mark the entry optional: true",
    )


def _missing(context: LintContext) -> Iterator[Edge]:
    graph = context.graph
    config = graph.config
    bootstrap = ObjectRef("GitRepository", config.flux_namespace, config.flux_git_repository)
    index = _index(graph)
    for key, namespaces in imported_objects(context.loaded).items():  # releases of imported stacks
        index.setdefault(key, set()).update(namespaces)
    created: dict[tuple[str, str], set[str]] | None = None  # built on the first miss only
    for edge in graph.edges:
        if edge.kind == "valuesFrom" and edge.optional:
            continue
        if edge.kind == "source" and edge.target == bootstrap:
            continue  # created by `flux bootstrap`, never in the repository
        if edge.resolved or (edge.resolved is None and _exists(index, edge.target)):
            continue
        if _SUBSTITUTION in edge.target.name:
            continue  # a name Flux substitutes (or a Secret's value rail cannot read): not known here
        if edge.resolved is None:
            if created is None:
                created = _created(graph, list(context.option(RULE.id, "creators", [])))
            if _exists(created, edge.target):
                continue  # an operator makes it from an object in the repository
        yield edge


def check(context: LintContext) -> Iterator[Finding]:
    yield from _dangling_specs(context)
    graph = context.graph
    # Several entries of one object naming one missing target are one finding.
    groups: dict[tuple[ObjectRef, str, ObjectRef], list[Edge]] = {}
    for edge in _missing(context):
        groups.setdefault((edge.source, edge.kind, edge.target), []).append(edge)
    for edges in groups.values():
        edge = edges[0]
        node = graph.releases.get(edge.source)
        message, hint = _describe(edge)
        if len(edges) > 1:
            fields = ", ".join(format_key_path(other.place.key_path) for other in edges)
            message += f" (named {len(edges)} times: {fields})"
        severity = ""
        if edge.kind == "valuesFrom" and edge.target.kind == "Secret":
            severity = WARNING
            message += (
                ": it may be created out of band (an operator, sealed-secrets, kubectl);"
                " if not, the release waits for it forever"
            )
            hint = (
                "make sure the Secret exists before the release reconciles, or mark the entry optional: true;"
                " an operator's object that creates it can be declared in rail.yaml"
                " (lint.rules.dangling-reference.options.creators)"
            )
        location, related = (edge.location, ()) if node is None else _spec_location(graph, node, edge)
        related = (*related, *(other.location for other in edges[1:]))
        yield Finding(
            rule=RULE.id,
            severity=severity,
            message=message,
            location=location,
            related=related,
            object=edge.source,
            hint=hint,
        )
    yield from dangling(context.loaded, RULE.id)


def _dangling_specs(context: LintContext) -> Iterator[Finding]:
    """A spec's dependsOn or reference naming no release (what ``rail render`` refuses)."""
    loaded = context.loaded
    for item in loaded.dangling if loaded is not None else ():
        flux = loaded is None or "flux" in loaded.stack.config.targets
        problem = item.problem
        yield Finding(
            rule=RULE.id,
            message=f"release '{item.release}': {problem.message}"
            + (f" (at {problem.key_path})" if problem.key_path else ""),
            location=Location(problem.path, problem.line, problem.column),
            object=_spec_object(loaded, item.release, flux) if loaded is not None else None,
            hint=problem.hint,
        )


def _spec_object(loaded: LoadedStack, name: str, flux: bool) -> ObjectRef | None:
    release = loaded.stack.release(name)
    if release is None:
        return None
    if flux:
        return ObjectRef("HelmRelease", release.namespace, release.name)
    return ObjectRef("Application", loaded.stack.config.argo.namespace, release.name)


RULE = Rule(
    id="dangling-reference",
    scope=GRAPH_WIDE,  # edges and every object's name
    severity=ERROR,
    summary="a dependsOn, chart source, valuesFrom or Argo CD depends-on entry naming nothing",
    check=check,
    doc=__doc__ or "",
    options_schema={"creators": {"type": "array", "items": dict(creator_facts.CREATOR_SCHEMA)}},
)
