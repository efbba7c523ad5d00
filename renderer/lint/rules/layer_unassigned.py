"""layer-unassigned: a release that no layer claims.

A release's layer comes from its ``railiance.io/layer`` label, else the stack
config's path globs, else the Flux Kustomization that applies it (a layer's
``kustomizations`` globs), else its namespace (``spec.targetNamespace``, else
``metadata.namespace``; an Argo CD Application's ``spec.destination.namespace``)
in a layer's namespace list. A release none of these places is outside the
boundary rule. A warning; an error with ``--exhaustive``.

Without a ``rail.yaml`` only the default layers exist (``kube-system``,
``flux-system``, ``platform``, ``apps``, ...), and most releases of a real
repository are in none of them: a warning each would be most of the report and
say one thing, that nobody declared the layers. So then the releases are one
note (how many, in which namespaces, the first few names, and to add a
``rail.yaml`` with ``layers``), not warnings; suppressions still apply first.
A repository with a ``rail.yaml`` declared its layers and gets each warning, and
``--exhaustive`` always reports each release.

Fails (namespace ``tools`` is in no layer)::

    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: grafana, namespace: tools}

Passes::

    metadata:
      name: grafana
      namespace: tools
      labels: {railiance.io/layer: S5}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ..finding import ERROR, WARNING, Finding
from ..notes import LAYERS_UNDECLARED, Note
from ..rule import GRAPH_WIDE, LintContext, Rule

SHOWN = 5  # namespaces and names in the summary note


def check(context: LintContext) -> Iterator[Finding]:
    for node in context.graph.releases.values():
        if node.layer.layer is not None:
            continue
        yield Finding(
            rule=RULE.id,
            severity=ERROR if context.options.exhaustive else "",
            message=f"no layer claims release '{node.ref.name}' (namespace {node.namespace or 'unset'})",
            location=context.graph.node_location(node, node.namespace_key),
            object=node.ref,
            hint=(
                "add the label railiance.io/layer, or list its namespace, path or applying Kustomization"
                " under a layer in rail.yaml"
            ),
        )


def fold(context: LintContext, findings: tuple[Finding, ...]) -> tuple[tuple[Finding, ...], tuple[str | Note, ...]]:
    """Each finding when the layers were declared (or with ``--exhaustive``), else one note."""
    if not findings or not context.graph.config.is_default or context.options.exhaustive:
        return findings, ()
    releases = context.graph.releases
    nodes = [releases.get(finding.object) if finding.object else None for finding in findings]
    namespaces = Counter((node.namespace if node else None) or "unset" for node in nodes)
    shown = ", ".join(f"{name} ({count})" for name, count in namespaces.most_common(SHOWN))
    more = len(namespaces) - SHOWN
    names = ", ".join(finding.object.name for finding in findings[:SHOWN] if finding.object)
    message = (
        f"{len(findings)} release(s) in no default layer, in namespace(s) {shown}"
        + (f" and {more} more" if more > 0 else "")
        + f" (first: {names}"
        + (", ..." if len(findings) > SHOWN else "")
        + "): add a rail.yaml with `layers` naming their namespaces or paths to lint the layer boundary"
        " (then each is a layer-unassigned warning)"
    )
    return (), (Note(LAYERS_UNDECLARED, message),)


RULE = Rule(
    id="layer-unassigned",
    scope=GRAPH_WIDE,  # rail.yaml's layers, and a fold over all releases
    severity=WARNING,
    summary="a release no layer claims",
    check=check,
    doc=__doc__ or "",
    fold=fold,
)
