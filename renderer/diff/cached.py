"""A revision's lint result kept between runs, keyed by its git tree (issue 16).

What a diff needs of its base beyond the objects themselves is the base's lint findings
(sorted into new, fixed and unchanged against the head's). They are a function of
exactly: the stack folder's git tree id at that commit, or in the index (every file,
link and mode below it: git names the content, no file need be read to key it), the
lint options, rail's version and this module's format. Nothing outside the tree may
count: a side whose ``rail.yaml`` imports other stacks (read by path beside the real
repository, or from a git ref that may move) is never cached, and neither is the
working tree (git names no tree of it). The index is keyed by the tree a commit of it
would have: the staged tree a pre-commit hook checks is the next commit's base.

Stored: the findings, the suppressed findings and the notes, never an object's values
(findings name keys and places); an entry the secret classifier calls secret is not
stored at all. A warm base is then not linted again: the same base a pull request's
every push diffs against (``rail diff --base origin/main``, ``rail check --staged``
against HEAD) is linted once.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .. import __version__, cache
from ..lint.engine import LintResult
from ..lint.results import finding_data, finding_from
from ..lint.rule import LintOptions
from ..secrets import contains_secret
from . import snapshot
from .clean import clean_tree
from .git import INDEX, WORKTREE, Repository

KIND = "side"
FORMAT = "side-lint/1"  # bump when what is stored, or how a key is made, changes


@dataclass(frozen=True)
class SideKeys:
    lint: str  # the side's lint result (this module)
    snapshot: str  # the side itself (renderer.diff.snapshot)


def side_keys(repository: Repository, side: str, options: LintOptions) -> SideKeys | None:
    """Where ``side``'s lint result and the side itself are kept: keys made of its stack
    folder's tree id and what else each reads; None when the cache is off or ``side`` has
    no tree id (the working tree)."""
    if side == WORKTREE or not cache.enabled():
        return None
    tree = tree_id(repository, side)
    return None if tree is None else _keys(tree, options)


def _keys(tree: str, options: LintOptions) -> SideKeys:
    # Every option, so one added later cannot be left out of the key.
    settings = (f"{option.name}={getattr(options, option.name)!r}" for option in fields(options))
    lint = cache.digest(FORMAT, __version__, tree, *settings)
    return SideKeys(lint=lint, snapshot=snapshot.key(tree))


def worktree_keys(stack_root: Path, options: LintOptions) -> tuple[Repository, SideKeys] | None:
    """The keys of the working tree when git calls it clean (:mod:`.clean`): its index's
    tree's, and the repository to read that tree from; None otherwise, or with the cache off."""
    if not cache.enabled():
        return None
    found = clean_tree(stack_root)
    if found is None:
        return None
    repository, tree = found
    return repository, _keys(tree, options)


WORKTREE_FORMAT = "worktree-lint/1"


def lint_key(stack_root: Path, options: LintOptions) -> str | None:
    """Where ``rail lint`` of a clean working tree (the whole stack, no paths named) is
    kept: its own key, beside the diff side's of the same tree (another reading of it)."""
    found = worktree_keys(stack_root, options)
    return None if found is None else cache.digest(WORKTREE_FORMAT, found[1].lint)


def side_key(repository: Repository, side: str, options: LintOptions) -> str | None:
    """The key of ``side``'s lint result (see :func:`side_keys`)."""
    keys = side_keys(repository, side, options)
    return keys.lint if keys else None


def tree_id(repository: Repository, side: str) -> str | None:
    """The git tree id of the stack folder in ``side``: a commit's, or the index's as it
    would be committed (``git write-tree``, as pre-commit itself runs: it only adds tree
    objects, which git collects like any other unreferenced object). None for the
    working tree, an index with unmerged paths, or a commit without the folder."""
    if side == WORKTREE:
        return None
    if side == INDEX:
        command = ["git", "write-tree", *([f"--prefix={repository.prefix}"] if repository.prefix else [])]
    elif repository.is_commit(side):
        name = f"{side}:{repository.prefix}" if repository.prefix else f"{side}^{{tree}}"
        command = ["git", "rev-parse", "--verify", "--quiet", name]
    else:
        return None
    done = subprocess.run(command, cwd=repository.top, capture_output=True, check=False)
    tree = done.stdout.decode().strip()
    return tree if done.returncode == 0 and tree else None


def load(key: str | None) -> LintResult | None:
    """The stored lint result of a side, or None (off, absent, torn or foreign: recomputed)."""
    if key is None:
        return None
    payload = cache.get(KIND, key)
    if payload is None:
        return None
    try:
        data = json.loads(payload)
        notes = data["notes"]
        if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
            return None
        return LintResult(
            findings=tuple(finding_from(item) for item in data["findings"]),
            notes=tuple(notes),
            strict=bool(data["strict"]),
            suppressed=tuple(finding_from(item) for item in data["suppressed"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def store(key: str | None, result: LintResult) -> None:
    # Stored at its first sighting, unlike the small entries (renderer.cache.admit): one
    # entry a tree, and the tree a pre-commit hook checks comes back once, as the next
    # commit's base. Remembered only, it would never be kept.
    if key is None:
        return
    data: dict[str, Any] = {
        "findings": [finding_data(finding) for finding in result.findings],
        "notes": list(result.notes),
        "strict": result.strict,
        "suppressed": [finding_data(finding) for finding in result.suppressed],
    }
    if contains_secret(data):  # never expected: findings and notes name keys and places
        return
    cache.put(KIND, key, json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"))
