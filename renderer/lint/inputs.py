"""Gathering what ``rail lint`` looks at: the stack (rendered in memory, never
written), files in ``rendered/`` that rail did not write, and any manifest files
or folders named on the command line.

The stack's own files (``rail.yaml``, release specs, values files) must be valid: any
error in them is an :class:`InputError` (exit 2). The other files are someone else's:
one that cannot be read is kept as data (``unreadable``) for the rule ``yaml-syntax``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem
from ..load import CONFIG_NAME, find_root, load_stack
from ..load.files import escaping_links, inside
from ..load.stack import LoadedStack, sharing_marks
from ..model import StackConfig
from ..render import Rendered, render_stack
from ..render.output import Plan, plan
from ..yamlio import Document
from . import manifests as manifest_io
from .manifests import Manifest

if TYPE_CHECKING:
    from .applied import AppliedFolder


@dataclass
class LintInputs:
    root: Path
    config: StackConfig
    loaded: LoadedStack | None
    manifests: list[Manifest]
    referenced: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drift: Plan | None = None
    source_documents: tuple[Document, ...] = ()
    # Files rail did not write that could not be read as YAML: the rule yaml-syntax reports them.
    unreadable: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # what was left out, and why (chart templates, template files)
    # Display paths of the files some Flux root applies, when a folder was linted by its
    # roots (files outside are left out); None: every file read is linted.
    applied: frozenset[str] | None = None
    # Display paths of the files and folders named on the command line (beyond the stack).
    scope: tuple[str, ...] = ()
    # Symlinks leaving the stack, not followed: what the rule symlink-escape reports.
    escaped: tuple[Problem, ...] = ()


def _stack_root(start: Path) -> Path | None:
    try:
        return find_root(start)
    except InputError:
        return None


def collect(start: Path, paths: list[Path], all_files: bool = False) -> LintInputs:
    """What to lint from ``start``. A folder named that holds Flux roots is linted as
    Flux applies it (:mod:`.applied`), unless ``all_files``."""
    root = _stack_root(start)
    if root is None:
        if not paths:
            raise InputError(
                Problem(
                    path=str(start.resolve()),
                    message=f"no {CONFIG_NAME} here or above, and no manifest paths given",
                    hint="run inside a stack, or name files or folders to lint: rail lint path/to/manifests",
                )
            )
        return _manifests_only(start.resolve(), paths, all_files)
    with sharing_marks():  # loading and rendering walk the same values for references
        loaded = load_stack(root, refuse_plaintext=False)
        rendered = render_stack(loaded, loaded.stack.config.targets)
    if not paths and not loaded.stack.releases:
        paths = [root]  # a lint-only stack: its rail.yaml maps the repository's own tree onto layers
    return from_stack(root, loaded, rendered, paths, all_files=all_files)


def from_stack(
    root: Path,
    loaded: LoadedStack,
    rendered: Rendered,
    paths: list[Path],
    manifests: list[Manifest] | None = None,
    output_files: Mapping[str, bytes] | None = None,
    all_files: bool = False,
) -> LintInputs:
    """The inputs of a stack already loaded and rendered (``rail diff`` has both);
    ``manifests``: the rendered files, if the caller parsed them already;
    ``output_files``: what the output folder holds, if it is not on disk (a git revision);
    ``all_files``: lint named folders as written, not as their Flux roots apply them."""
    config = loaded.stack.config
    if manifests is None:
        manifests = rendered_manifests(rendered)
    foreign = manifest_io.ForeignFiles(manifests=list(manifests))
    drift = plan(root, config.output, rendered.files, tree=output_files)
    escaped = list(loaded.escaped)
    if output_files is None and (root / config.output).is_dir() and inside(root, config.output) is not None:
        escaped += escaping_links(root, root / config.output)  # never read, whatever they point to
    refused = {problem.path for problem in escaped}
    for relative in drift.foreign:
        if not relative.endswith((".yaml", ".yml")) or relative in refused:
            continue
        if output_files is not None:
            foreign.read_content(output_files[relative], relative)
        elif (root / relative).is_file():
            foreign.read(root / relative, relative)
    output = (root / config.output).resolve()
    extra = [p for p in paths if not _inside(p.resolve(), output)]
    folders = _read_paths(foreign, root, extra, all_files, config)
    documents = (*loaded.spec_documents.values(), *loaded.values_documents.values())
    return _joined(
        LintInputs(
            root=root,
            config=config,
            loaded=loaded,
            manifests=foreign.manifests,
            referenced=dict(rendered.resolution.referenced),
            drift=drift,
            source_documents=tuple(documents),
            unreadable=tuple(foreign.unreadable),
            notes=tuple(foreign.notes()),
            scope=_scope(root, extra),
            escaped=tuple(sorted(set(escaped), key=Problem.sort_key)),
        ),
        folders,
    )


def rendered_manifests(rendered: Rendered) -> list[Manifest]:
    """The rendered objects; those rail wrote itself come with their positions already."""
    manifests: list[Manifest] = []
    for file in rendered.files:
        if file.document is not None and isinstance(file.document.data, dict):
            origin = manifest_io.origin_of(file.content[:1024].decode("utf-8", errors="replace"))
            manifests.append(Manifest(document=file.document, origin=origin))
        elif file.path.endswith((".yaml", ".yml")):
            manifests.extend(manifest_io.parse(file.content.decode("utf-8"), file.path))
    return manifests


def _manifests_only(cwd: Path, paths: list[Path], all_files: bool) -> LintInputs:
    foreign = manifest_io.ForeignFiles()
    config = StackConfig.default()
    folders = _read_paths(foreign, cwd, paths, all_files, config)
    inputs = LintInputs(
        root=cwd,
        config=config,
        loaded=None,
        manifests=foreign.manifests,
        unreadable=tuple(foreign.unreadable),
        notes=tuple(foreign.notes()),
        scope=_scope(cwd, paths),
    )
    return _joined(inputs, folders)


def _scope(root: Path, paths: list[Path]) -> tuple[str, ...]:
    return tuple(sorted({manifest_io.display_path(root, path) for path in paths}))


def _read_paths(
    foreign: manifest_io.ForeignFiles, cwd: Path, paths: list[Path], all_files: bool, config: StackConfig
) -> list[AppliedFolder]:
    """Reads ``paths`` into ``foreign`` as written, except the folders that hold Flux or
    Argo CD roots (unless ``all_files``): those are returned, built as they apply them."""
    raw: list[Path] = []
    folders: list[AppliedFolder] = []
    for path in _existing(paths):
        found = None if all_files or not path.is_dir() else _read_applied(cwd, path, config)
        if found is None:
            raw.append(path)
        else:
            folders.append(found)
    foreign.read_paths(cwd, raw)
    return folders


def _joined(inputs: LintInputs, folders: list[AppliedFolder]) -> LintInputs:
    """``inputs`` (files read as written) with the applied folders added."""
    if not folders:
        return inputs
    # Files read as written (named on their own, or in folders without roots) are applied too.
    applied = {problem.path for problem in inputs.unreadable}
    for folder in folders:
        applied |= folder.applied
    return replace(
        inputs,
        manifests=[*inputs.manifests, *(m for folder in folders for m in folder.manifests)],
        unreadable=(*inputs.unreadable, *(p for folder in folders for p in folder.unreadable)),
        notes=(*inputs.notes, *(n for folder in folders for n in folder.notes)),
        applied=frozenset(applied),
    )


def _existing(paths: list[Path]) -> list[Path]:
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise InputError([Problem(path=str(p), message="no such file or folder") for p in missing])
    return paths


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _read_applied(cwd: Path, path: Path, config: StackConfig) -> AppliedFolder | None:
    # The apply model (kustomize, generators, substitution) costs ~0.1 s to import: only
    # a foreign folder needs it, never the stack's own pre-commit lint.
    from .applied import read_applied

    repo_urls = (config.argo.repo_url,) if config.argo.repo_url else None  # else: the git remotes
    return read_applied(cwd, path, (config.flux_git_repository,), repo_urls, config.argo.clusters)
