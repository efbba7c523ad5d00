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
  namespace, or one a ``kustomization.yaml`` generator makes. An entry with
  ``optional: true`` may be missing. A missing Secret is a warning, not an
  error: Secrets are often created out of band (an operator, sealed-secrets,
  ``kubectl create secret``), so the message says so;
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

Releases rendered from specs rarely trip this rule: the renderer refuses a
``dependsOn`` naming no spec, and a ``${ref:...}`` reference naming no export is
a render error (exit 2), not a finding of this rule. It is the main catch for
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
from typing import Any

from ..finding import ERROR, WARNING, Finding, Location, ObjectRef
from ..graph import DEPENDS_ON_ANNOTATION, Edge, ReleaseGraph, ReleaseNode
from ..rule import LintContext, Rule

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


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    config = graph.config
    bootstrap = ObjectRef("GitRepository", config.flux_namespace, config.flux_git_repository)
    index = _index(graph)
    for edge in graph.edges:
        if edge.kind == "valuesFrom" and edge.optional:
            continue
        if edge.kind == "source" and edge.target == bootstrap:
            continue  # created by `flux bootstrap`, never in the repository
        if edge.resolved or (edge.resolved is None and _exists(index, edge.target)):
            continue
        if _SUBSTITUTION in edge.target.name:
            continue  # a name Flux substitutes (or a Secret's value rail cannot read): not known here
        node = graph.releases.get(edge.source)
        message, hint = _describe(edge)
        severity = ""
        if edge.kind == "valuesFrom" and edge.target.kind == "Secret":
            severity = WARNING
            message += (
                ": it may be created out of band (an operator, sealed-secrets, kubectl);"
                " if not, the release waits for it forever"
            )
            hint = "make sure the Secret exists before the release reconciles, or mark the entry optional: true"
        location, related = (edge.location, ()) if node is None else _spec_location(graph, node, edge)
        yield Finding(
            rule=RULE.id,
            severity=severity,
            message=message,
            location=location,
            related=related,
            object=edge.source,
            hint=hint,
        )


RULE = Rule(
    id="dangling-reference",
    severity=ERROR,
    summary="a dependsOn, chart source, valuesFrom or Argo CD depends-on entry naming nothing",
    check=check,
    doc=__doc__ or "",
)
