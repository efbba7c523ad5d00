"""What each command does, apart from parsing arguments and printing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .load import find_root, load_stack
from .render import TARGETS, render
from .render.output import Plan, plan, write


@dataclass(frozen=True)
class RenderOutcome:
    root: Path
    plan: Plan
    checked_only: bool


def run_render(start: Path, target: str, check: bool) -> RenderOutcome:
    """Render the stack found from ``start``; write it unless ``check``.

    Everything is rendered in memory before the first byte is written, so any
    input error leaves ``rendered/`` exactly as it was.
    """
    root = find_root(start)
    loaded = load_stack(root)
    targets = TARGETS if target == "all" else (target,)
    files = render(loaded, targets)
    current = plan(root, loaded.stack.config.output, files)
    if not check:
        write(root, files, current)
    return RenderOutcome(root=root, plan=current, checked_only=check)
