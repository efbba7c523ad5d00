"""kustomize's name references: after ``namePrefix``, ``nameSuffix`` or ``namespace``
renamed an object, the fields that named it follow (a Deployment's
``serviceAccountName``, a RoleBinding's ``roleRef`` and ``subjects``...).

As in kustomize this runs once, at the top of a build, over every object: a field
holding an object's *earlier* name takes its current one, where exactly one
candidate fits (same namespace as the referrer unless either is cluster-scoped or
the candidate is a ServiceAccount; ``roleRef`` also by its ``kind``). Only the
built-in fields of ``kinds.NAME_REFERENCES`` are followed: a HelmRelease's
``valuesFrom`` is not (kustomize needs a ``configurations`` file for that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..yamlio import KeyPath
from .kinds import NAME_REFERENCES, FieldSpec, Gvk, NameReference
from .resource import Resource
from .transformers import walk

# Called when kustomize would stop: several objects fit a reference.
Ambiguity = Callable[[Resource, KeyPath], None]


def fix_references(resources: list[Resource], ambiguous: Ambiguity) -> None:
    for reference in NAME_REFERENCES:
        # Only renamed objects can be referred to by an earlier name: index them by those.
        by_name: dict[str, list[Resource]] = {}
        for resource in resources:
            if any(reference.target.selects(p.gvk) for p in resource.previous):
                for name in dict.fromkeys(p.name for p in resource.previous):
                    by_name.setdefault(name, []).append(resource)
        if not by_name:
            continue
        for spec in reference.fields:
            for referrer in resources:
                if spec.selects(referrer.gvk):
                    _Fixer(reference, spec, referrer, by_name, ambiguous).run()


def reachable(targets: list[Resource], referrer: Resource) -> list[Resource]:
    """kustomize's ``SubsetThatCouldBeReferencedByResource``."""
    me = referrer.current_id
    if me.cluster_scoped:
        return targets
    namespaces = set()
    if me.gvk.kind == "RoleBinding":
        subjects = referrer.data.get("subjects")
        for subject in subjects if isinstance(subjects, list) else []:
            if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" and subject.get("namespace"):
                namespaces.add(str(subject["namespace"]))
    return [
        target
        for target in targets
        if target.current_id.cluster_scoped or target.current_id.same_namespace(me) or target.namespace in namespaces
    ]


class _Fixer:
    def __init__(
        self,
        reference: NameReference,
        spec: FieldSpec,
        referrer: Resource,
        by_name: dict[str, list[Resource]],
        ambiguous: Ambiguity,
    ) -> None:
        self.reference = reference
        self.spec = spec
        self.referrer = referrer
        self.by_name = by_name
        self.ambiguous = ambiguous

    def run(self) -> None:
        walk(self.referrer.data, FieldSpec(self.spec.path), self.visit)

    def candidates(self, name: str) -> list[Resource]:
        return reachable(self.by_name.get(name, []), self.referrer)

    def visit(self, holder: dict[str, Any], key: str, path: KeyPath) -> None:
        value = holder[key]
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    value[index] = self.scalar(item, (*path, index))
                elif isinstance(item, dict):
                    self.mapping(item, (*path, index))
        elif isinstance(value, str):
            holder[key] = self.scalar(value, path)
        elif isinstance(value, dict):
            self.mapping(value, path)

    def scalar(self, name: str, path: KeyPath) -> str:
        found = self.select(name, self.candidates(name), path, with_namespace=False)
        return found.name if found is not None else name

    def mapping(self, holder: dict[str, Any], path: KeyPath) -> None:
        name = holder.get("name")
        if not isinstance(name, str):
            return
        candidates = self.candidates(name)
        namespace = holder.get("namespace")
        if isinstance(namespace, str):
            by_original = [c for c in candidates if _namespace_key(c, original=True) == namespace]
            candidates = by_original or [c for c in candidates if _namespace_key(c, original=False) == namespace]
        found = self.select(name, candidates, path, with_namespace=True)
        if found is None:
            return
        holder["name"] = found.name
        if found.namespace:
            holder["namespace"] = found.namespace

    def select(self, name: str, candidates: list[Resource], path: KeyPath, *, with_namespace: bool) -> Resource | None:
        """kustomize's ``selectReferral``."""
        target = self.reference.target
        found = [c for c in candidates if any(p.name == name for p in c.previous)]
        found = [c for c in found if any(target.selects(p.gvk) for p in c.previous)]
        role = self._role_ref()
        if role is not None:
            found = [c for c in found if any(_gvk_selected(p.gvk, role) for p in c.previous)]
        me = self.referrer.current_id
        if not me.cluster_scoped:
            found = [
                c
                for c in found
                if c.current_id.cluster_scoped or c.kind == "ServiceAccount" or c.current_id.same_namespace(me)
            ]
        if not found:
            return None
        first = found[0]
        if len(found) == 1 or all(
            c.name == first.name and (not with_namespace or c.namespace == first.namespace) for c in found
        ):
            return first
        self.ambiguous(self.referrer, path)
        return None

    def _role_ref(self) -> Gvk | None:
        if self.spec.path[-2:] != ("roleRef", "name"):
            return None
        role = self.referrer.data.get("roleRef")
        if not isinstance(role, dict) or "apiGroup" not in role or "kind" not in role:
            return None
        return Gvk(str(role["apiGroup"]), "", str(role["kind"]))


def _gvk_selected(gvk: Gvk, selector: Gvk) -> bool:
    return (not selector.group or selector.group == gvk.group) and (not selector.kind or selector.kind == gvk.kind)


def _namespace_key(resource: Resource, *, original: bool) -> str | None:
    """The effective namespace kustomize groups candidates by (None: cluster-scoped)."""
    found = resource.original_id if original else resource.current_id
    return None if found.cluster_scoped else found.effective_namespace
