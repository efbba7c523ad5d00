"""Checks across stacks: the uses of imported stacks (``IMPORT/RELEASE``), judged by
the same rules as inside one stack (``dangling-reference``, ``layer-dependency``).

Every finding names both repositories: the importing file and line, and the
imported stack's interface file (also as a related location).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..load.stack import LoadedStack
from ..model.interface import ImportedStack
from ..render.crossrefs import CrossUse, by_name
from ..render.references import resolve
from .finding import Finding, Location, ObjectRef


def cross_uses(loaded: LoadedStack | None) -> tuple[CrossUse, ...]:
    """The stack's uses of its imports (resolved again: only stacks that import pay)."""
    if loaded is None or not loaded.imports:
        return ()
    return resolve(loaded).cross


def imported_objects(loaded: LoadedStack | None) -> dict[tuple[str, str], set[str]]:
    """(kind, name) -> namespaces of the HelmReleases and layer Kustomizations imported stacks render: a rendered
    ``dependsOn`` into another repository names one of these."""
    found: dict[tuple[str, str], set[str]] = {}
    for imported in loaded.imports if loaded else ():
        for release in imported.interface.releases:
            found.setdefault(("HelmRelease", release.name), set()).add(release.namespace)
        flux = imported.interface.flux
        for name in flux.kustomizations if flux else ():
            found.setdefault(("Kustomization", name), set()).add(flux.namespace)  # type: ignore[union-attr]
    return found


def _object(loaded: LoadedStack, use: CrossUse) -> ObjectRef | None:
    release = loaded.stack.release(use.release)
    return ObjectRef("HelmRelease", release.namespace, release.name) if release else None


def _interface(imported: ImportedStack) -> Location:
    return Location(imported.where, None)


def dangling(loaded: LoadedStack | None, rule: str) -> Iterator[Finding]:
    """Uses naming a release or export the imported interface lacks."""
    if loaded is None:
        return
    imports = by_name(loaded)
    for use in cross_uses(loaded):
        if not use.problem:
            continue
        yield Finding(
            rule=rule,
            message=use.problem,
            location=Location(use.path, use.line, use.column),
            related=(_interface(imports[use.import_name]),),
            object=_object(loaded, use),
            hint=use.hint,
        )


def upward(loaded: LoadedStack | None, rule: str) -> Iterator[Finding]:
    """Uses that point up a layer: the importing stack's layer order judges both ends
    (layer ids are the architecture's words, shared by the stacks)."""
    if loaded is None:
        return
    config = loaded.stack.config
    imports = by_name(loaded)
    for use in cross_uses(loaded):
        imported = imports[use.import_name]
        target = imported.interface.release(use.target)
        source = loaded.stack.release(use.release)
        if target is None or source is None:
            continue
        source_layer, target_layer = config.layer(source.layer), config.layer(target.layer)
        if source_layer is None or target_layer is None or target_layer.order <= source_layer.order:
            continue
        yield Finding(
            rule=rule,
            message=(
                f"dependency points up a layer: {source.name} ({source.layer}) in stack '{config.name}'"
                f" ({use.path}) -{use.kind}-> {use.qualified} ({target.layer}) in {imported.describe()}"
            ),
            location=Location(use.path, use.line, use.column),
            related=(_interface(imported),),
            object=ObjectRef("HelmRelease", source.namespace, source.name),
            hint="dependencies point down only (S5 -> S3 -> S2), across repositories too:"
            " move the dependency, or the release",
        )
