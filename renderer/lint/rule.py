"""What a lint rule is, and what it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem
from ..load.stack import LoadedStack
from ..memo import cached_property
from ..render.output import Plan
from ..yamlio import Document
from .finding import Finding
from .graph import ReleaseGraph
from .notes import Note

# What a rule's findings depend on (``Rule.scope``, ``DiffRule.scope``; ``rail explain`` says it).
# Per-object: one object or file (and the rule's options) decides them, so a change to one
# release recomputes only that release's findings, and they may be cached by its content.
PER_OBJECT = "per-object"
# Graph-wide: the whole release graph (edges, other objects, the stack config, the file
# tree), so the rule runs whole on every run.
GRAPH_WIDE = "graph-wide"
SCOPES = {
    PER_OBJECT: "each finding depends only on one object or file (a diff rule: one object's two sides)"
    " and the rule's options",
    GRAPH_WIDE: "needs the whole release graph: runs in full on every run",
}


@dataclass(frozen=True)
class LintOptions:
    exhaustive: bool = False
    strict: bool = False


@dataclass(frozen=True)
class LintContext:
    """Everything a rule may look at. Rules read it; none changes it."""

    graph: ReleaseGraph
    root: Path | None = None
    loaded: LoadedStack | None = None
    drift: Plan | None = None
    # Specs and values files: the places people type values into.
    source_documents: tuple[Document, ...] = ()
    # Files rail did not write that could not be read as YAML: what the rule yaml-syntax reports.
    unreadable: tuple[Problem, ...] = ()
    # Display paths of the files some Flux root applies (None: all of them): a broken file
    # outside is a note, not a yaml-syntax error.
    applied: frozenset[str] | None = None
    # Display paths of the files and folders named to lint ("." for a whole repository):
    # a rule that looks for files itself (chart folders) stays inside them.
    scope: tuple[str, ...] = ()
    # Symlinks leaving the stack, not followed: what the rule symlink-escape reports.
    escaped: tuple[Problem, ...] = ()
    options: LintOptions = field(default_factory=LintOptions)
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Per-object rules take each object's findings from rail's cache (lint.results) when on.
    cached: bool = False

    def option(self, rule: str, name: str, default: Any) -> Any:
        return self.rule_options.get(rule, {}).get(name, default)

    @cached_property
    def spelt_settings(self) -> dict[str, str]:
        """A memo for :mod:`.results`: each rule's settings as its cache keys spell them,
        worked out once a run, not once a document."""
        return {}

    @cached_property
    def key_paths_entries(self) -> dict[str, Any]:
        """A memo for :mod:`.results`: each rule's key-paths entries (``results._Entries``),
        the leading parts of their cache keys spelt and hashed once a run."""
        return {}


@dataclass(frozen=True)
class Rule:
    """``doc`` is the rule's documentation (its module docstring): ``rail explain`` prints it."""

    id: str
    severity: str
    summary: str
    check: Callable[[LintContext], Iterable[Finding]]
    doc: str
    options_schema: Mapping[str, Any] = field(default_factory=dict)
    # PER_OBJECT or GRAPH_WIDE: what one finding depends on (when in doubt, graph-wide).
    scope: str = field(kw_only=True)  # every rule says which: no default
    # Given the rule's findings that no suppression silenced, what the run reports:
    # findings, or a note instead (a summary where one finding per object is noise).
    fold: Callable[[LintContext, tuple[Finding, ...]], tuple[tuple[Finding, ...], tuple[str | Note, ...]]] | None = None
