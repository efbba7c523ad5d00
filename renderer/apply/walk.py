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
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Problem
from ..load.files import read_text
from ..memo import memo_scope
from ..yamlio import Document, load_documents


def yaml_files(root: Path, charts: list[str] | None = None) -> Iterator[Path]:
    """The YAML files under ``root``, sorted, ``.git`` and linked folders skipped, and a
    Helm chart's ``templates/`` (Go templates: ``name: "{{ .Values.name }}"`` parses
    as YAML, and is no root); each such chart's folder is added to ``charts``."""
    for current, folders, names in os.walk(root):
        folders[:] = sorted(f for f in folders if f != ".git" and not (Path(current) / f).is_symlink())
        if "Chart.yaml" in names and "templates" in folders:
            folders.remove("templates")
            if charts is not None:
                charts.append(Path(current).relative_to(root).as_posix())
        for name in sorted(names):
            path = Path(current) / name
            if path.suffix in (".yaml", ".yml") and path.is_file():
                yield path


Parsed = tuple[str, list[Document], tuple[Problem, ...]]


@dataclass(frozen=True)
class Walked:
    """A repository read: each YAML file (display path relative to the root, its
    documents or the problems that kept it from parsing), and the chart folders whose
    ``templates/`` were skipped."""

    files: tuple[Parsed, ...]
    charts: tuple[str, ...]


_WALKS: ContextVar[dict[Path, Walked] | None] = ContextVar("rail_walks", default=None)


def sharing_walks() -> AbstractContextManager[None]:
    """Inside, a repository is walked and read once for both apply models."""
    if _WALKS.get() is not None:
        return nullcontext()
    return memo_scope(_WALKS)


def repository_documents(root: Path) -> tuple[Parsed, ...]:
    """Each YAML file's display path (relative to ``root``) with its documents, or with
    the problems that kept it from parsing (then no documents)."""
    return walk_repository(root).files


def walk_repository(root: Path) -> Walked:
    """The repository at ``root`` read (once inside :func:`sharing_walks`)."""
    memo = _WALKS.get()
    if memo is not None and root in memo:
        return memo[root]
    charts: list[str] = []
    found = Walked(tuple(_read(root, path) for path in yaml_files(root, charts)), tuple(charts))
    if memo is not None:
        memo[root] = found
    return found


def _read(root: Path, path: Path) -> Parsed:
    display = path.relative_to(root).as_posix()
    try:
        return display, load_documents(read_text(path, display), display, strict_tags=False), ()
    except InputError as exc:
        return display, [], tuple(exc.problems)
