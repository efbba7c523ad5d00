"""Runs a diff: read both sides, compare, judge the change, sort lint findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from ..cache.later import write_later
from ..catalog import stack_charts
from ..errors import InputError, Problem
from ..lint.engine import LintResult
from ..lint.finding import ERROR, Finding, Location, Verdict
from ..lint.results import Resolved, recording, sharing_resolved
from ..lint.rule import LintOptions
from ..lint.rules import symlink_escape
from ..load import CONFIG_NAME
from ..load.imports import imports_at_revision
from ..load.reuse import Reuse
from ..load.stack import sharing_marks
from ..memo import cached_property
from ..render.target import sharing_renders
from ..schemacheck import sharing_verdicts
from ..yamlio import Document, load_document, sharing_parses
from . import cached, snapshot
from .clean import CONVERTS_ASKS
from .compare import MOVED, DiffResult, compare
from .git import INDEX, WORKTREE, Compared, IndexEntry, Repository, compared, naming_side
from .graph import LayerGraph, layer_graph
from .indexed import index_root, plain_entries
from .moves import config_document, cross_stack
from .rule import Accepted, DiffContext
from .rules import DIFF_RULES
from .rules._migrations import accept as accept_migrations
from .rules.subchart_enabled import COUPLING_RULE
from .sides import Side, linked, materialized, read_side, sharing_objects, split_output

# A side's folder, its output files if kept in memory, and its symlinks that leave the stack (left out).
Root = tuple[Path, Mapping[str, bytes] | None, list[Problem]]
# A side read (None: it does not load), its lint result (None: not linted), the problems that stop it loading.
ReadSide = tuple[Side | None, LintResult | None, list[Problem]]

YAML_SYNTAX = "yaml-syntax"  # a head file that does not load: the lint rule for unreadable input


@dataclass(frozen=True)
class DiffOutcome(Verdict):
    base_label: str
    head_label: str
    result: DiffResult
    findings: tuple[Finding, ...]  # diff rule findings and new lint findings
    lint_fixed: tuple[Finding, ...]
    lint_unchanged: int
    strict: bool = False
    base_commit: str | None = None  # the commit compared against (the merge base, as a pull request shows it)
    head_commit: str | None = None  # the head's commit; None for the working tree or the index
    notes: tuple[str, ...] = ()  # what the diff could not do, and why (never file content)
    merge_base: bool = False  # base_commit is the merge base of the base and the head (not the base's tip)
    accepted: tuple[Accepted, ...] = ()  # diff rule findings a migration record in the head accepts
    suppressed: tuple[Finding, ...] = ()  # the head's lint findings its suppressions silence
    graph: LayerGraph | None = None  # the releases, layers and dependency edges of both sides (the comment draws it)
    # How the graph is drawn when no ``graph`` is given: only the comment asks (``layer_graph``),
    # so a text report never pays for it.
    graph_of: Callable[[], LayerGraph] | None = field(default=None, compare=False, repr=False)
    # The head's whole lint result (None: not linted, or the head does not load): ``rail check
    # --staged`` reports it in full, with the render check (rendered-drift) against the head's output.
    head_lint: LintResult | None = None

    @cached_property
    def layer_graph(self) -> LayerGraph | None:
        """The graph given, else drawn from both sides on the first ask."""
        if self.graph is not None or self.graph_of is None:
            return self.graph
        return self.graph_of()


def side_label(revision: str | None, staged: bool) -> str:
    if staged and revision is None:
        return "the index"
    return revision or "the working tree"


def run(
    stack_root: Path,
    base: str,
    head: str | None,
    staged: bool,
    options: LintOptions,
    lint: bool = True,
    base_tip: bool = False,
) -> DiffOutcome:
    """Compare the merge base of ``base`` and the head (or, with ``base_tip``, the base's
    tip) with the head, as a pull request shows it. A side that does not load is no exit
    2: a base is a note (the head's lint findings then count in full), a head its
    problems as findings."""
    repository = Repository.of(stack_root)
    sides = compared(repository, base, head, staged, base_tip)
    base_label, head_label = f"base '{sides.base_label}'", f"head ({sides.head_label})"
    notes: list[str] = []
    with ExitStack() as scope:
        for sharing in (
            sharing_parses(),
            sharing_renders(),
            sharing_verdicts(),
            sharing_marks(),
            snapshot.sharing_skeletons(),
            sharing_objects(),
            sharing_resolved(),
        ):
            # most files and releases are the same on both sides: read and render them once
            scope.enter_context(sharing)
        reader = _Reader(scope, repository, sides, stack_root, options, lint, (base_label, head_label))
        base_read, head_read, head_config, head_links = reader.both()
        head_view, lint_head, head_problems = head_read
        base_view, lint_base, base_problems = base_read
    outcome = partial(
        DiffOutcome,
        base_label=sides.base_label,
        head_label=sides.head_label,
        strict=options.strict,
        base_commit=sides.base_commit,
        head_commit=sides.head_commit,
        merge_base=sides.merge_base,
    )
    if head_view is None or base_view is None:
        if base_problems:
            notes.append(f"base does not parse: new/fixed sorting unavailable ({_files_named(base_problems)})")
        if head_problems:
            notes.append(f"head does not parse ({_files_named(head_problems)}): its problems are findings")
        notes.append("diff rules skipped: a side does not parse")
        findings = [_problem_finding(problem) for problem in head_problems]
        findings += [replace(finding, change=None) for finding in (lint_head.findings if lint_head else ())]
        if head_view is None and lint:  # the links the head refused still count against it
            findings += [symlink_escape.finding(problem) for problem in head_links]
        return outcome(
            result=DiffResult(),
            findings=tuple(sorted(findings, key=Finding.sort_key)),
            lint_fixed=(),
            lint_unchanged=0,
            notes=tuple(notes),
            head_lint=lint_head,
        )
    result = compare(base_view.objects, head_view.objects)
    # Releases moved to another stack: one change each, not a removal.
    result, move_notes = cross_stack(result, base_view, head_view, head_config, stack_root)
    notes.extend(move_notes)
    context = DiffContext(
        base=base_view,
        head=head_view,
        result=result,
        lint_base=lint_base.findings if lint_base else (),
        lint_head=lint_head.findings if lint_head else (),
    )
    with stack_charts(head_view.config.charts):  # the head's rail.yaml knows the charts the change is about
        findings = _merged([finding for rule in DIFF_RULES for finding in rule.check(context)])
        findings, accepted = accept_migrations(context, findings, DIFF_RULES)  # records naming the exact change
    new, fixed, unchanged = _sort_lint(context)
    findings.extend(new)
    return outcome(
        result=result,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        lint_fixed=tuple(fixed),
        lint_unchanged=unchanged,
        notes=tuple(notes),
        accepted=tuple(accepted),
        suppressed=lint_head.suppressed if lint_head else (),
        graph_of=partial(layer_graph, base_view.objects, head_view.objects, result, head_view.config.layers),
        head_lint=lint_head,
    )


@dataclass
class _Reader:
    """Reads both sides of a diff, each at most once. A tree seen before is restored (see
    :mod:`.snapshot`): neither written out, loaded, rendered nor linted again; the base
    first, so the head shares what it parsed and rendered. One tree on both sides (nothing
    staged, a clean working tree) is one side."""

    scope: ExitStack
    repository: Repository
    sides: Compared
    stack_root: Path
    options: LintOptions
    lint: bool
    labels: tuple[str, str]  # the base's, the head's

    def both(self) -> tuple[ReadSide, ReadSide, Document | None, list[Problem]]:
        """The base, the head, the head's rail.yaml (its moved: records) and the head's
        links that leave the stack."""
        sides, repository = self.sides, self.repository
        base_keys = cached.side_keys(repository, sides.base, self.options) if self.lint else None
        head_keys = cached.side_keys(repository, sides.head, self.options) if self.lint else None
        # A working tree git calls clean is its index's tree: restored from it, never kept as it.
        head_tree, restore_keys = sides.head, head_keys
        if sides.head == WORKTREE and self.lint:
            clean = cached.worktree_keys(self.stack_root, self.options)
            head_tree, restore_keys = (INDEX, clean[1]) if clean is not None else (WORKTREE, None)
        same_tree = base_keys is not None and restore_keys == base_keys
        base_label, head_label = self.labels
        if sides.head == INDEX and not same_tree:
            self._ask_index_ahead(reuse=base_keys is not None)

        base = _restored(base_keys, base_label, repository, sides.base)
        config: Document | None = None
        if same_tree and base is None and sides.head == WORKTREE:
            base, config = self._base(base_keys)  # from git, so kept: the clean working tree is that tree
        if same_tree and base is not None and base[0] is not None:
            head: ReadSide | None = (replace(base[0], label=head_label), base[1], [])
        else:
            head = None if same_tree else _restored(restore_keys, head_label, repository, head_tree)
        links: list[Problem] = []
        if head is None:
            entries = _plain_index(repository, sides.head, head_label)
            root, output, links = self.scope.enter_context(
                _head_root(repository, self.stack_root, sides.head, head_label, entries)
            )
            reuse = self._reuse(base, entries)
            with imports_at_revision(repository.top, _treeish(sides.head)):
                head = _read_and_lint(head_label, root, output, links, self.options, self.lint, head_keys, reuse)
            config = config_document(root) if head[0] is not None else None
        elif config is None:
            config = _stored_config(repository, head_tree)
        if base is None and same_tree and head[0] is not None and head[1] is not None:
            base = (replace(head[0], label=base_label), head[1], [])
        if base is None:
            base, _ = self._base(base_keys)
        return base, head, config, links

    def _ask_index_ahead(self, reuse: bool) -> None:
        """What reading the index asks git (its converting config and attributes, its
        entries; with ``reuse``, a base that may be restored, its changes since the base),
        started before the base is restored: git answers meanwhile, on another processor.
        Answers never asked for (the index's side was kept, the base was not) are dropped
        when the diff ends."""
        repository = self.repository
        asks = [*CONVERTS_ASKS, repository.index_listing()]
        if reuse and self.sides.base not in (INDEX, WORKTREE):
            asks.append(repository.staged_listing(self.sides.base))
        repository.ask_ahead(*asks)
        self.scope.callback(repository.drop_ahead)

    def _reuse(self, base: ReadSide | None, entries: dict[str, IndexEntry] | None) -> Reuse | None:
        """What the index's load may take over from the restored base: the releases whose
        files are the blobs the base read (see :mod:`renderer.load.reuse`). Only for an
        index of plain files (``entries``), as linked: no symlink whose target could change
        while the link does not."""
        if entries is None or base is None or base[0] is None or base[0].loaded is None:
            return None
        if self.sides.base in (INDEX, WORKTREE):
            return None
        with naming_side(self.labels[1]):
            changed = self.repository.staged_changes(self.sides.base)
        return Reuse.of(base[0].loaded, changed)

    def _base(self, keys: cached.SideKeys | None) -> tuple[ReadSide, Document | None]:
        """The base read from git, and its rail.yaml."""
        label = self.labels[0]
        root = self.scope.enter_context(_revision_root(self.repository, self.sides.base, label, self.stack_root))
        with imports_at_revision(self.repository.top, self.sides.base):  # path imports in this repository, as they were
            read = _read_and_lint(label, *root, self.options, self.lint, keys)
        return read, config_document(root[0]) if read[0] is not None else None


def _read_and_lint(
    label: str,
    root: Path,
    output: Mapping[str, bytes] | None,
    links: list[Problem],
    options: LintOptions,
    lint: bool,
    keys: cached.SideKeys | None = None,
    reuse: Reuse | None = None,
) -> ReadSide:
    """A side and its lint result, or the problems that stop it loading (never file
    content). ``links``: the side's symlinks that leave the stack, left out when it was
    written out: findings of the side's lint, as ``rail lint`` reports them. ``keys``: where
    this tree's lint result and the side itself are kept (see :mod:`.cached`), or None.
    ``reuse``: what the side's load may take over from a side read before."""
    try:
        view = read_side(label, root, output, reuse)
        if not lint:
            return _output_released(view), None, []
        if view.loaded is not None and view.loaded.imports:
            keys = None  # imported stacks are read from outside the tree: not keyed by it
        stored = cached.load(keys.lint if keys else None)
        resolved: Resolved | None = None
        linted = stored is None
        if stored is None:
            with recording() as resolved:
                result = _lint(view, options)
            escaped = tuple(symlink_escape.finding(problem) for problem in links)
            stored = replace(result, findings=tuple(sorted((*result.findings, *escaped), key=Finding.sort_key)))
        # The output folder's bytes let go first: the side is kept without them, and at
        # 10,000 releases they are held while it is pickled (the run's peak memory).
        view = _output_released(view)
        if keys is not None:  # the report needs neither: written when the command is done
            write_later(partial(_keep, keys, view, stored if linted else None, resolved))
        return view, stored, []
    except InputError as error:
        prefix = f"{label}: "
        return None, None, [replace(p, message=p.message.removeprefix(prefix)) for p in error.problems]


def _keep(keys: cached.SideKeys, view: Side, linted: LintResult | None, resolved: Resolved | None) -> None:
    """Keep a side read now, and its lint result when worked out now (see :mod:`.cached`)."""
    if linted is not None:
        cached.store(keys.lint, linted)
    snapshot.store(keys.snapshot, view, resolved)


def _output_released(side: Side) -> Side:
    """``side`` without its output folder's bytes: only its lint reads them (the render
    check), and at 10,000 releases they are ~90 MB, else held while the other side is read."""
    if isinstance(side.output_files, dict):
        side.output_files.clear()  # the folder's context holds the same dict to the end of reading
    return replace(side, output_files=None)


def _restored(keys: cached.SideKeys | None, label: str, repository: Repository, side: str) -> ReadSide | None:
    """A side seen before (its tree's lint result and the side itself both kept), or None."""
    if keys is None:
        return None
    result = cached.load(keys.lint)
    if result is None:
        return None
    view = snapshot.restore(keys.snapshot, label, repository, side)
    return None if view is None else (view, result, [])


def _stored_config(repository: Repository, side: str) -> Document | None:
    """A side's rail.yaml, read from git (a restored side has no folder)."""
    read = repository.read_paths(side, [CONFIG_NAME])
    if read is None:
        return None
    return load_document(read[CONFIG_NAME].decode("utf-8"), CONFIG_NAME)


def _treeish(side: str) -> str | None:
    """How git names a side's tree: a commit, ``:`` for the index, None for the working tree."""
    if side == WORKTREE:
        return None
    return ":" if side == INDEX else side


def _files_named(problems: list[Problem]) -> str:
    return ", ".join(sorted({problem.path for problem in problems}))


def _problem_finding(problem: Problem) -> Finding:
    """A head that does not load: each problem an error finding at its file and line."""
    return Finding(
        rule=YAML_SYNTAX,
        message=problem.message + (f" (at {problem.key_path})" if problem.key_path else ""),
        location=Location(problem.path, problem.line, problem.column),
        severity=ERROR,
        hint=problem.hint,
    )


def _merged(findings: list[Finding]) -> list[Finding]:
    """One finding per problem: a spec rendered for several targets (a Flux HelmRelease and
    an Argo CD Application) gives the same finding at the same spec line once per target."""
    merged: dict[tuple[object, ...], Finding] = {}
    for index, finding in enumerate(findings):
        where = finding.location
        key: tuple[object, ...] = (
            finding.rule,
            finding.severity,
            where.path,
            where.line,
            where.column,
            finding.message,
        )
        if where.line is None:  # not pinned to a line: never taken for another object's finding
            key = (index,)
        if key in merged:
            kept, other = merged[key], finding
            if other.change == MOVED and kept.change != MOVED:  # "moved" says more than "modified"
                kept, other = other, kept
            related = kept.related + tuple(item for item in other.related if item not in kept.related)
            merged[key] = replace(kept, related=related)
        else:
            merged[key] = finding
    return list(merged.values())


def _plain_index(repository: Repository, side: str, label: str) -> dict[str, IndexEntry] | None:
    """The index's entries when ``side`` is the index and holds plain files only (see
    :func:`.indexed.plain_entries`), else None."""
    if side != INDEX:
        return None
    with naming_side(label):
        return plain_entries(repository)


@contextmanager
def _head_root(
    repository: Repository, stack_root: Path, side: str, label: str, entries: dict[str, IndexEntry] | None
) -> Iterator[Root]:
    """The working tree's files (as git lists them: no ignored file) are hard-linked into
    a private folder, not copied: copying thousands of files costs more than a render.
    The index's files are linked too where the working tree holds their bytes (see
    :mod:`.indexed`); the rest, and revisions, are written out from git objects.
    ``entries``: the index's entries when all are plain files (:func:`.indexed.plain_entries`)."""
    if side == WORKTREE:
        with naming_side(label):
            paths, escaped = repository.worktree_files()
        git_dir = repository.git_dir()
        with linked(paths, stack_root.resolve(), scratch=git_dir, keep_in=git_dir) as root:
            yield root, None, escaped
        return
    if side == INDEX and entries is not None:  # plain files only: linked where the working tree holds their bytes
        with index_root(repository, entries, stack_root.resolve(), label) as (folder, output):
            yield folder, output, []
        return
    with _revision_root(repository, side, label, stack_root) as root:
        yield root


@contextmanager
def _revision_root(repository: Repository, side: str, label: str, worktree: Path) -> Iterator[Root]:
    files, escaped = _files(repository, side, label)
    written, output = split_output(files)
    # Split in two now: the whole tree's bytes (~150 MB at 10,000 releases) are not held
    # to the end of the run while both sides are read.
    files.clear()
    with materialized(written, same_as=worktree.resolve(), scratch=repository.git_dir()) as root:
        written.clear()  # on disk now: at 10,000 releases these bytes are ~50 MB held for nothing
        yield root, output, escaped


def _files(repository: Repository, side: str, label: str) -> tuple[dict[str, bytes], list[Problem]]:
    with naming_side(label):
        return repository.tree(side)


def _lint(side: Side, options: LintOptions) -> LintResult:
    """Lint one side, reusing what reading it already loaded and rendered."""
    from ..lint.engine import lint_inputs
    from ..lint.inputs import collect, from_stack

    with naming_side(side.label):  # unreadable input is exit 2 naming the side
        if side.loaded is not None and side.rendered is not None:
            inputs = from_stack(side.root, side.loaded, side.rendered, [], side.manifests, side.output_files)
            return lint_inputs(inputs, options)
        return lint_inputs(collect(side.root, [side.root], all_files=True), options)


def _sort_lint(context: DiffContext) -> tuple[list[Finding], list[Finding], int]:
    """Lint findings of both sides: only new ones count against the change."""
    base = {context.lint_key(finding, base=True) for finding in context.lint_base}
    head = {context.lint_key(finding, base=False) for finding in context.lint_head}
    new = [
        replace(finding, change=context.change_of(finding))
        for finding in context.lint_head
        if context.lint_key(finding, base=False) not in base and finding.rule != COUPLING_RULE
    ]
    fixed = [finding for finding in context.lint_base if context.lint_key(finding, base=True) not in head]
    unchanged = len(base & head)
    return new, fixed, unchanged
