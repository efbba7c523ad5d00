"""What each command does, apart from parsing arguments and printing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, Problem
from .load import find_root, load_stack
from .render import render_stack
from .render.crossrefs import as_problem
from .render.output import Plan, plan, write

if TYPE_CHECKING:
    from .diff.engine import DiffOutcome
    from .lint.engine import LintResult
    from .lint.rule import LintOptions


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
    config = loaded.stack.config
    escaped = [*loaded.escaped, *_output_links(root, config.output)]
    if escaped:  # one symlink policy: a link out of the repository is never followed
        raise InputError(escaped)
    targets = config.targets if target == "all" else (target,)
    rendered = render_stack(loaded, targets, documents=False)
    dangling = [as_problem(use) for use in rendered.resolution.cross if use.problem]
    if dangling:
        raise InputError(dangling)  # no value to write: lint names these as dangling-reference findings
    files = rendered.files
    # Rendering one target judges only its folder: the others' files are not stale.
    scope = () if set(targets) >= set(config.targets) else targets
    current = plan(root, config.output, files, scope)
    if current.conflicts:
        raise InputError(
            [
                Problem(
                    path=path,
                    message="rail renders this file, but a file rail did not write is in the way",
                    hint="move your file elsewhere (rail never overwrites what it did not write)",
                )
                for path in current.conflicts
            ]
        )
    if not check:
        write(root, files, current)
    return RenderOutcome(root=root, plan=current, checked_only=check)


def run_lint(start: Path, paths: list[Path], options: LintOptions, all_files: bool = False) -> LintResult:
    """Lint the stack found from ``start`` (if any) and the manifests under ``paths``;
    ``all_files``: lint a foreign folder's files as written, not what Flux applies."""
    from .lint.engine import lint_inputs
    from .lint.inputs import collect

    return lint_inputs(collect(start, paths, all_files), options)


def _output_links(root: Path, output: str) -> list[Problem]:
    """Links in the output folder that leave the stack (rail compares and rewrites what is there)."""
    from .load.files import escaping_links, inside

    folder = inside(root, output)
    return escaping_links(root, root / output) if folder is not None and (root / output).is_dir() else []


def run_diff(
    start: Path, base: str, head: str | None, staged: bool, options: LintOptions, base_tip: bool = False
) -> DiffOutcome:
    """Compare what two revisions of the stack found from ``start`` render, and judge the change."""
    from .diff.engine import run

    try:
        root = find_root(start)
    except InputError:
        root = start.resolve()  # a manifest repository without a stack config
    from .load.imports import imports_relative_to

    with imports_relative_to(root):  # each revision is read from a copy: imports stay beside the real root
        return run(root, base, head, staged, options, base_tip=base_tip)
