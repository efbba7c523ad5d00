"""Runs a diff: read both sides, compare, judge the change, sort lint findings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError
from ..lint.engine import LintResult
from ..lint.finding import ERROR, WARNING, Finding
from ..lint.rule import LintOptions
from .compare import MODIFIED, DiffResult, compare
from .git import INDEX, WORKTREE, Repository
from .rule import DiffContext
from .rules import DIFF_RULES
from .rules.subchart_enabled import COUPLING_RULE
from .sides import Side, materialized, read_side


@dataclass(frozen=True)
class DiffOutcome:
    base_label: str
    head_label: str
    result: DiffResult
    findings: tuple[Finding, ...]  # diff rule findings and new lint findings
    lint_fixed: tuple[Finding, ...]
    lint_unchanged: int
    strict: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == WARNING)

    @property
    def failed(self) -> bool:
        return bool(self.errors or (self.strict and self.warnings))


def side_label(revision: str | None, staged: bool) -> str:
    if staged and revision is None:
        return "the index"
    return revision or "the working tree"


def run(
    stack_root: Path, base: str, head: str | None, staged: bool, options: LintOptions, lint: bool = True
) -> DiffOutcome:
    repository = Repository.of(stack_root)
    head_side = head or (INDEX if staged else WORKTREE)
    base_label, head_label = f"base '{base}'", f"head ({side_label(head, staged)})"
    base_files = _files(repository, base, base_label)
    head_files = _files(repository, head_side, head_label)
    with materialized(base_files) as base_root, materialized(head_files) as head_root:
        base_view = read_side(base_label, base_root)
        head_view = read_side(head_label, head_root)
        result = compare(base_view.objects, head_view.objects)
        lint_base = _lint(base_view, options) if lint else None
        lint_head = _lint(head_view, options) if lint else None
    context = DiffContext(
        base=base_view,
        head=head_view,
        result=result,
        lint_base=lint_base.findings if lint_base else (),
        lint_head=lint_head.findings if lint_head else (),
    )
    findings = [finding for rule in DIFF_RULES for finding in rule.check(context)]
    new, fixed, unchanged = _sort_lint(context)
    findings.extend(new)
    return DiffOutcome(
        base_label=side_label(base, False),
        head_label=side_label(head, staged),
        result=result,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        lint_fixed=tuple(fixed),
        lint_unchanged=unchanged,
        strict=options.strict,
    )


def _files(repository: Repository, side: str, label: str) -> dict[str, bytes]:
    """The side's files; an error names the side (an unknown base is not an unknown head)."""
    try:
        return repository.files(side)
    except InputError as error:
        raise InputError(
            [replace(problem, message=f"{label}: {problem.message}") for problem in error.problems]
        ) from None


def _lint(side: Side, options: LintOptions) -> LintResult:
    from ..app import run_lint

    paths = [] if side.from_specs else [side.root]
    try:
        return run_lint(side.root, paths, options)
    except Exception as error:
        raise RuntimeError(f"linting {side.label} failed") from error


def _sort_lint(context: DiffContext) -> tuple[list[Finding], list[Finding], int]:
    """Lint findings of both sides: only new ones count against the change."""
    base = {finding.fingerprint() for finding in context.lint_base}
    head = {finding.fingerprint() for finding in context.lint_head}
    changes = {(c.current.kind, c.current.namespace or None, c.current.name): c.change for c in context.result.changes}
    new = [
        replace(finding, change=_change_of(finding, changes))
        for finding in context.lint_head
        if finding.fingerprint() not in base and finding.rule != COUPLING_RULE
    ]
    fixed = [finding for finding in context.lint_base if finding.fingerprint() not in head]
    unchanged = len(base & head)
    return new, fixed, unchanged


def _change_of(finding: Finding, changes: dict[tuple[str, str | None, str], str]) -> str:
    if finding.object is None:
        return MODIFIED
    return changes.get((finding.object.kind, finding.object.namespace, finding.object.name), MODIFIED)
