"""The render pipeline: loaded stack -> references -> templates -> canonical files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..load.stack import LoadedStack
from ..resources import data_dir
from .argo import ArgoTarget
from .docs import render_docs
from .flux import FluxTarget, OutputFile
from .graph import check_acyclic, edges
from .interface import render_interface
from .moves import render_tombstone
from .references import Resolution, resolve
from .templating import Templates

TARGETS = ("flux", "argo")


def template_folder(root: Path, target: str) -> tuple[Path, str]:
    """The stack's own ``templates/<target>`` if it has one, else rail's bundled set."""
    own = root / "templates" / target
    if own.is_dir():
        return own, f"templates/{target}"
    return data_dir("templates") / target, f"(rail)/templates/{target}"


def templates_for(root: Path, target: str) -> Templates:
    """A target's templates, then the ones every target shares (``common``)."""
    return Templates((template_folder(root, target), template_folder(root, "common")))


@dataclass(frozen=True)
class Rendered:
    files: list[OutputFile]
    resolution: Resolution


def render(loaded: LoadedStack, targets: tuple[str, ...]) -> list[OutputFile]:
    """Every file rail owns for ``targets``, in memory: nothing is written here."""
    return render_stack(loaded, targets, documents=False).files


def render_stack(loaded: LoadedStack, targets: tuple[str, ...], documents: bool = True) -> Rendered:
    """The rendered files with what was learnt on the way (references resolved).

    ``documents``: keep each YAML file's parsed form with positions (lint and diff
    read them); ``rail render`` only writes bytes and saves the memory.
    """
    resolution = resolve(loaded)
    if not loaded.stack.releases:
        # A lint-only stack (rail.yaml maps an existing Flux tree onto layers): nothing to render.
        return Rendered(files=[], resolution=resolution)
    graph = edges(loaded.stack, resolution.referenced)
    check_acyclic(loaded.stack, graph, loaded.spec_documents)
    files: list[OutputFile] = []
    for target in targets:
        templates = templates_for(loaded.root, target)
        if target == "flux":
            files.extend(FluxTarget(loaded, resolution, graph, templates, documents).files())
        elif target == "argo":
            files.extend(ArgoTarget(loaded, resolution, graph, templates, documents).files())
    files.extend(render_docs(loaded, resolution, templates_for(loaded.root, "docs")))
    files.append(render_interface(loaded, resolution))
    files.extend(render_tombstone(loaded))
    return Rendered(files=sorted(files, key=lambda f: f.path), resolution=resolution)


__all__ = ["TARGETS", "OutputFile", "Rendered", "render", "render_stack"]
