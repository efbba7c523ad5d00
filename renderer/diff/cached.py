"""A revision's lint result kept between runs, keyed by its git tree (issue 16).

What a diff needs of its base beyond the objects themselves is the base's lint findings
(sorted into new, fixed and unchanged against the head's). They are a function of
exactly: the stack folder's git tree id at that commit (every file, link and mode below
it: git names the content, no file need be read to key it), the lint options, rail's
version and this module's format. Nothing outside the tree may count: a side whose
``rail.yaml`` imports other stacks (read by path beside the real repository, or from a
git ref that may move) is never cached, and neither is the index or the working tree
(no commit names them).

Stored: the findings, the suppressed findings and the notes, never an object's values
(findings name keys and places); an entry the secret classifier calls secret is not
stored at all. A warm base is then not linted again: the same base a pull request's
every push diffs against (``rail diff --base origin/main``, ``rail check --staged``
against HEAD) is linted once.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

from .. import __version__, cache
from ..lint.engine import LintResult
from ..lint.results import finding_data, finding_from
from ..lint.rule import LintOptions
from ..secrets import contains_secret
from .git import INDEX, WORKTREE, Repository

KIND = "side"
FORMAT = "side-lint/1"  # bump when what is stored, or how a key is made, changes


def side_key(repository: Repository, side: str, options: LintOptions) -> str | None:
    """The key of ``side``'s lint result: its stack folder's tree id and what else the lint
    reads; None when the cache is off or ``side`` is not a commit."""
    if side in (INDEX, WORKTREE) or not cache.enabled():
        return None
    tree = _tree_id(repository, side)
    if tree is None:
        return None
    return cache.digest(FORMAT, __version__, tree, f"strict={options.strict}", f"exhaustive={options.exhaustive}")


def _tree_id(repository: Repository, commit: str) -> str | None:
    """The tree id of the stack folder at ``commit`` (a full sha, from ``resolve``)."""
    if not repository.is_commit(commit):
        return None
    name = f"{commit}:{repository.prefix}" if repository.prefix else f"{commit}^{{tree}}"
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", name], cwd=repository.top, capture_output=True, check=False
    )
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
    if key is None or not cache.admit(KIND, key):  # a first sighting is only remembered
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
