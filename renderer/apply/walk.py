"""The repository's YAML files, parsed, in the order the root searches read them.

Flux's and Argo CD's apply models both start by reading every YAML file of the
repository for their roots (Kustomizations; Applications and ApplicationSets). Both
read them through here, in lexical order, ``.git`` and linked folders skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from pathlib import Path

from ..errors import InputError, Problem
from ..load.files import read_text
from ..memo import memo_scope
from ..yamlio import Document, load_documents


def yaml_files(root: Path) -> Iterator[Path]:
    """The YAML files under ``root``, sorted, ``.git`` and linked folders skipped, and a
    Helm chart's ``templates/`` (Go templates: ``name: "{{ .Values.name }}"`` parses
    as YAML, and is no root)."""
    for current, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if f != ".git" and not (Path(current) / f).is_symlink())
        if "Chart.yaml" in names and "templates" in folders:
            folders.remove("templates")
        for name in sorted(names):
            path = Path(current) / name
            if path.suffix in (".yaml", ".yml") and path.is_file():
                yield path


Parsed = tuple[str, list[Document], tuple[Problem, ...]]
_WALKS: ContextVar[dict[Path, tuple[Parsed, ...]] | None] = ContextVar("rail_walks", default=None)


def sharing_walks() -> AbstractContextManager[None]:
    """Inside, a repository is walked and read once for both apply models."""
    if _WALKS.get() is not None:
        return nullcontext()
    return memo_scope(_WALKS)


def repository_documents(root: Path) -> tuple[Parsed, ...]:
    """Each YAML file's display path (relative to ``root``) with its documents, or with
    the problems that kept it from parsing (then no documents)."""
    memo = _WALKS.get()
    if memo is not None and root in memo:
        return memo[root]
    found = tuple(_read(root, path) for path in yaml_files(root))
    if memo is not None:
        memo[root] = found
    return found


def _read(root: Path, path: Path) -> Parsed:
    display = path.relative_to(root).as_posix()
    try:
        return display, load_documents(read_text(path, display), display, strict_tags=False), ()
    except InputError as exc:
        return display, [], tuple(exc.problems)
