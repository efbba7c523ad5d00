"""What the claim rules share: the claims of the specs, where each was written, and
the object a finding about it names (the claimant's release, so a spec's
``suppress:`` matches it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ..model import Release
from .finding import Location, ObjectRef
from .rule import LintContext

K = TypeVar("K", bound=tuple[str, object])


@dataclass(frozen=True)
class Claimant:
    release: Release
    ref: ObjectRef

    def location(self, context: LintContext, *key_path: Any) -> Location:
        loaded = context.loaded
        document = loaded.spec_documents.get(self.release.origin) if loaded else None
        if document is None:
            return Location(self.release.origin)
        return Location(*document.where(key_path))


def claimants(context: LintContext) -> Iterator[Claimant]:
    """Every release of the stack's specs, with the graph's object for it."""
    if context.loaded is None:
        return
    refs = {id(node.spec): node.ref for node in context.graph.releases.values() if node.spec is not None}
    for release in context.loaded.stack.releases:
        ref = refs.get(id(release), ObjectRef("HelmRelease", release.namespace, release.name))
        yield Claimant(release, ref)


def collisions(groups: Mapping[K, list[Claimant]]) -> Iterator[tuple[K, Claimant, str]]:
    """Each claimant of a thing two or more claim, with the others named (``'a', 'b'``):
    the shape every claim collision is reported in, for both rules."""
    for key, group in sorted(groups.items()):
        if len(group) < 2:
            continue
        for claimant in group:
            yield key, claimant, ", ".join(f"'{other.release.name}'" for other in group if other is not claimant)
