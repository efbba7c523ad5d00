"""What each command does, apart from parsing arguments and printing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
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

    # The whole stack of a clean working tree: its result is kept by the index's tree id.
    key = None if paths or all_files else _clean_lint_key(start, options)
    if key is None:
        return lint_inputs(collect(start, paths, all_files), options)
    from .diff import cached  # git: only with the cache on

    stored = cached.load(key)
    if stored is not None:
        return stored
    result = lint_inputs(collect(start, paths, all_files), options)
    cached.store(key, result)
    return result


def _clean_lint_key(start: Path, options: LintOptions) -> str | None:
    """Where the lint of the stack found from ``start`` is kept, if its working tree is a
    git tree (renderer.diff.clean) and it reads nothing outside it (no ``imports:``)."""
    from . import cache

    if not cache.enabled():
        return None
    from .diff import cached
    from .load import CONFIG_NAME
    from .yamlio import load_document

    try:
        root = find_root(start)
        config = load_document((root / CONFIG_NAME).read_text(encoding="utf-8"), CONFIG_NAME).data
    except (InputError, OSError, UnicodeDecodeError):
        return None  # the lint says what is wrong
    if not isinstance(config, dict) or "imports" in config:
        return None
    return cached.lint_key(root, options)


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


def caching() -> AbstractContextManager[None]:
    """For one command with the cache on: the secret guard registered, and the
    in-process memos (parsed files, rendered objects, verdicts) open for the whole
    command, each backed by the cache on disk. At its end the command's sightings are
    recorded (renderer.cache stores an entry on its key's second sighting)."""
    from contextlib import ExitStack, contextmanager

    from . import cache
    from .cache import later
    from .render.target import sharing_renders
    from .schemacheck import sharing_verdicts
    from .secrets import sharing_scans
    from .yamlio import sharing_parses

    @contextmanager
    def scope() -> Iterator[None]:
        cache.set_guard(holds_secret)
        pending: list[later.Write] = []
        try:
            with ExitStack() as stack:
                pending = stack.enter_context(later.collecting())
                for memo in (sharing_parses(), sharing_renders(), sharing_verdicts(), sharing_scans()):
                    stack.enter_context(memo)
                yield
        finally:
            # The kept diff sides and the records last, behind the report when they can be
            # (renderer.cache.later); the guard still judges what they store.
            if later.finish(pending, cache.settings.current().folder, _records):
                cache.hand_over()
            cache.set_guard(None)

    return scope()


def _records() -> None:
    """A command's last cache writes, after its kept sides: the dataclass code it
    compiled, the bundles, the sightings and the size estimate."""
    from . import cache
    from .cache.classcode import keep_compiled

    keep_compiled()
    cache.flush()


def holds_secret(data: object) -> bool:
    """The cache's guard (renderer.cache's rule: no secret at rest): whether parsed or
    rendered ``data`` (a document's data, or a list of them) holds a Secret, SOPS
    ciphertext, or a value the classifier calls secret, also inside a string that
    holds YAML (a ConfigMap's ``values.yaml: |``)."""
    from .secrets import contains_secret, embedded_data

    stack: list[object] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("kind") in _SECRET_KINDS or "sops" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "ENC[" in item or "-----BEGIN" in item:
                return True
            if "\n" in item and ":" in item:
                embedded = embedded_data(item)
                if embedded is not None and holds_secret(embedded):
                    return True
    roots = data if isinstance(data, list) else [data]
    return any(contains_secret(root) for root in roots if isinstance(root, (dict, list)))


# Objects whose content is secret however it is encoded (base64 in a Secret's data).
_SECRET_KINDS = frozenset({"Secret", "SealedSecret"})


def run_check(
    start: Path, options: LintOptions, base: str | None = None, staged: bool = False, base_tip: bool = False
) -> LintResult:
    """``rail check``: the render check and every lint rule, and with ``base`` (or
    ``staged``) the diff rules too, as one report.

    ``staged`` (the pre-commit hook): one read of the index serves all three. The diff of the
    index against ``base`` (HEAD by default) renders and lints its head side, the staged tree,
    and that lint is the report's lint, its rendered-drift the staged ``rendered/`` against
    what the staged specs render; the working tree (unstaged edits) is never read. Without
    ``staged`` the working tree is linted and, with ``base``, diffed as it always was.
    """
    from .lint.engine import LintResult
    from .lint.rules import rule_ids

    if not staged:
        result = run_lint(start, [], options)
        if base is None:
            return result
        outcome = run_diff(start, base, None, False, options, base_tip=base_tip)
    else:
        outcome = run_diff(start, base or "HEAD", None, True, options, base_tip=base_tip)
        if outcome.head_lint is None:  # the index does not load: its problems are the findings
            return LintResult(findings=outcome.findings, notes=outcome.notes, strict=options.strict)
        result = outcome.head_lint
    lint_rules = {finding.rule for finding in result.findings} | set(rule_ids())
    extra = tuple(finding for finding in outcome.findings if finding.rule not in lint_rules)
    return LintResult(
        findings=result.findings + extra,
        notes=result.notes + outcome.notes,
        strict=options.strict,
        suppressed=result.suppressed if staged else (),
    )
