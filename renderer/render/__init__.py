"""The render pipeline: loaded stack -> references -> templates -> canonical files."""

from __future__ import annotations

from pathlib import Path

from ..load.stack import LoadedStack
from ..resources import data_dir
from .docs import render_docs
from .flux import FluxTarget, OutputFile
from .graph import check_acyclic, edges
from .references import resolve
from .templating import Templates

TARGETS = ("flux",)


def template_folder(root: Path, target: str) -> tuple[Path, str]:
    """The stack's own ``templates/<target>`` if it has one, else rail's bundled set."""
    own = root / "templates" / target
    if own.is_dir():
        return own, f"templates/{target}"
    return data_dir("templates") / target, f"(rail)/templates/{target}"


def render(loaded: LoadedStack, targets: tuple[str, ...]) -> list[OutputFile]:
    """Every file rail owns for ``targets``, in memory: nothing is written here."""
    resolution = resolve(loaded)
    graph = edges(loaded.stack, resolution.referenced)
    check_acyclic(loaded.stack, graph)
    files: list[OutputFile] = []
    for target in targets:
        folder, display = template_folder(loaded.root, target)
        if target == "flux":
            files.extend(FluxTarget(loaded, resolution, graph, Templates(folder, display)).files())
    docs_folder, docs_display = template_folder(loaded.root, "docs")
    files.extend(render_docs(loaded, resolution, Templates(docs_folder, docs_display)))
    return sorted(files, key=lambda f: f.path)


__all__ = ["TARGETS", "OutputFile", "render"]
