"""namespace-pruned: a Namespace is removed while the Flux Kustomization (or Argo CD
Application) that applies it prunes.

With ``prune: true`` Flux deletes what left its source, and deleting a Namespace
deletes everything in it: Deployments, Secrets, and the PersistentVolumeClaims with
their data. rail renders a Namespace for every namespace a release uses (its layer's
folder applies it); a repository without specs has its own Kustomizations. The
applying object is the base's Kustomization whose ``path`` holds the Namespace's
file and that prunes (an Argo CD Application: ``source.path`` and
``syncPolicy.automated.prune``). An error, unless the head's ``rail.yaml`` records
exactly this: ``migrations: [{change: namespace-removed, namespace: <name>, reason: ...}]``.

Fails: the last release in ``platform`` is deleted; ``Namespace platform`` goes with
it, and the s2-cluster Kustomization prunes.

Passes: the same, with ``migrations: [{change: namespace-removed, namespace: platform,
reason: "databases dumped and restored into the new cluster, ticket OPS-11"}]``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lint.finding import ERROR, Finding
from ...lint.rule import GRAPH_WIDE
from ..compare import REMOVED
from ..rule import DiffContext, DiffRule, Event, finding
from ..sides import DiffObject
from ._migrations import mapping

NAMESPACE_REMOVED = "namespace-removed"


def _folder(path: object) -> str | None:
    if not isinstance(path, str):
        return None
    parts = [part for part in path.strip().split("/") if part not in ("", ".")]
    return "/".join(parts)


def _pruning(obj: DiffObject) -> str | None:
    """The folder a pruning Flux Kustomization or Argo CD Application applies, or None."""
    spec = obj.data.get("spec")
    if not isinstance(spec, dict):
        return None
    if obj.kind == "Kustomization" and obj.key[0] == "kustomize.toolkit.fluxcd.io":
        return _folder(spec.get("path") or "") if spec.get("prune") is True else None
    if obj.kind == "Application" and obj.key[0] == "argoproj.io":
        source, policy = mapping(spec.get("source")), mapping(spec.get("syncPolicy"))
        automated = mapping(policy.get("automated"))
        return _folder(source.get("path")) if automated.get("prune") is True else None
    return None


def _applier(context: DiffContext, namespace: DiffObject) -> DiffObject | None:
    for key in sorted(context.base.objects):
        obj = context.base.objects[key]
        folder = _pruning(obj)
        if folder is not None and (folder == "" or namespace.path.startswith(f"{folder}/")):
            return obj
    return None


def events(context: DiffContext) -> Iterator[tuple[Event, Finding]]:
    for change in context.changes(REMOVED):
        old = change.old
        if old is None or old.kind != "Namespace" or old.key[0] != "":
            continue
        applier = _applier(context, old)
        if applier is None:
            continue
        yield (
            Event(NAMESPACE_REMOVED, old.name, None),
            finding(
                RULE,
                change,
                f"Namespace '{old.name}' is removed and {applier.kind} '{applier.name}' prunes:"
                " everything in it is deleted, PersistentVolumeClaims and their data included",
                "move or back up what runs there first, then record exactly this in the head's rail.yaml:"
                f" migrations: [{{change: {NAMESPACE_REMOVED}, namespace: {old.name}, reason: ...}}]",
                context=context,
                key_path=("metadata", "name"),
            ),
        )


def check(context: DiffContext) -> Iterator[Finding]:
    for _, found in events(context):
        yield found


RULE = DiffRule(
    id="namespace-pruned",
    scope=GRAPH_WIDE,  # the Kustomization or Application that applies the Namespace
    severity=ERROR,
    summary="a Namespace is removed while the Kustomization or Application applying it prunes",
    check=check,
    doc=__doc__ or "",
    events=events,
)
