"""Linting what Flux applies from a folder, rather than its files as written.

A repository without a ``rail.yaml`` is linted by folder. If the folder holds Flux
roots, the objects its Kustomizations build (:func:`renderer.apply.apply_repository`)
are what a cluster receives: a HelmRelease template with ``${APP}`` is two releases,
a field a parent Kustomization patches in is present. Linting the raw files instead
reports what no cluster sees (a missing ``prune`` the parent supplies) and misses
what it does. Each applied object becomes a :class:`Manifest` whose document locates
a key in the file that wrote it (a patch's file and line), so a finding still points
where a person edits.

Files no root applies are left out, one note per folder (the design's contract);
``--all-files`` lints every file as written. Notes of the build itself are grouped
per feature: a repository with 300 substitutions should read as one line, not 300.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..apply import AppliedObject, BuildNote, apply_repository
from ..apply.argo import ArgoApplied, apply_argo
from ..apply.walk import sharing_walks, walk_repository
from ..errors import Problem
from ..load.files import sharing_reads
from ..realpath import sharing_resolves
from ..yamlio import Document, sharing_parses
from .manifests import Applier, ForeignFiles, Manifest, display_path

FLUX_KIND, ARGO_KIND = "Kustomization", "Application"
_GROUPS = {FLUX_KIND: "kustomize.toolkit.fluxcd.io/", ARGO_KIND: "argoproj.io/"}
_DEFAULT_NAMESPACES = {FLUX_KIND: "default", ARGO_KIND: "argocd"}
# Build notes that say a file does not parse: the rule yaml-syntax reports those files.
_PARSE_FEATURES = frozenset({"yaml"})
# How many files a grouped note names before "and N more".
_SHOWN_FILES = 3


@dataclass(frozen=True)
class AppliedDocument(Document):
    """The document of an applied object: its data as Flux applies it, and keys located
    through :meth:`AppliedObject.locate` (the patch that set a field, else the source).
    ``prefix`` turns the apply model's folder-relative paths into display paths."""

    applied: AppliedObject | None = field(default=None, repr=False, compare=False)
    prefix: str = ""
    # Display paths of the chart folders the apply model found (an Argo CD source path
    # holding a Chart.yaml): the graph reads such an Application as a release of that chart.
    charts: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def where(self, key_path: Iterable[str | int]) -> tuple[str, int | None, int | None]:
        if self.applied is None:
            return super().where(key_path)
        location = self.applied.locate(key_path)
        return _join(self.prefix, location.path), location.line, location.column

    def locate(self, key_path: Iterable[str | int]) -> tuple[int | None, int | None]:
        _, line, column = self.where(key_path)
        return line, column


@dataclass(frozen=True)
class AppliedFolder:
    """What linting a folder by its Flux roots reads: the applied objects, the files that
    did not parse (all of them: yaml-syntax decides by ``applied``), the display paths of
    the files some root applies, and the notes."""

    manifests: tuple[Manifest, ...]
    unreadable: tuple[Problem, ...]
    applied: frozenset[str]
    notes: tuple[str, ...]


def read_applied(
    cwd: Path,
    folder: Path,
    source_names: Collection[str] = ("flux-system",),
    repo_urls: Collection[str] | None = None,
    clusters: Iterable[Mapping[str, Any]] = (),
) -> AppliedFolder | None:
    """The applied objects of ``folder``, or None if it holds no Flux or Argo CD root
    (then its files are linted as written, as before). ``source_names``: the
    GitRepository or OCIRepository names the repository is bootstrapped from;
    ``repo_urls``: the URLs Argo CD knows it by (None: its git remotes); ``clusters``:
    the clusters of rail.yaml, for ApplicationSet cluster generators."""
    # One scope for the builds and the raw read below: each file is parsed once.
    with sharing_parses(), sharing_resolves(), sharing_walks(), sharing_reads():
        flux = apply_repository(folder, source_names)
        argo = apply_argo(folder, repo_urls, clusters)
        if not argo.decides:
            argo = ArgoApplied()
        if not flux.kustomizations and not argo.applications:
            return None
        prefix = display_path(cwd, folder)
        raw = ForeignFiles()
        raw.read_walked(folder, prefix, walk_repository(folder.resolve()))
    chains = _Chains(prefix)
    chains.add(FLUX_KIND, flux.kustomizations)
    chains.add(ARGO_KIND, argo.applications)
    charts = frozenset(_join(prefix, folder) for folder in argo.chart_folders)
    manifests = [_manifest(obj, prefix, chains.of(obj, FLUX_KIND)) for obj in flux.objects]
    manifests += [_manifest(obj, prefix, chains.of(obj, ARGO_KIND), charts) for obj in argo.objects]
    files = {_join(prefix, path) for path in flux.applied_files | argo.applied_files}
    # A Flux root's file that no build reads is applied by hand (`flux bootstrap`,
    # kubectl): its objects are linted as written.
    by_hand = {_join(prefix, root.source) for root in flux.roots} - files
    manifests.extend(m for m in raw.manifests if m.path in by_hand)
    files |= by_hand
    applied_files = frozenset(files)
    notes = [
        *raw.notes(),
        *_left_out(raw.manifests, applied_files),
        # Without a Flux tree, Flux's notes only say there is none: Argo CD's tree is the one.
        *(group_notes(flux.notes, prefix) if flux.kustomizations or not argo.applications else ()),
        *group_notes(argo.notes, prefix, engine="Argo CD"),
    ]
    return AppliedFolder(
        manifests=tuple(manifests), unreadable=tuple(raw.unreadable), applied=applied_files, notes=tuple(notes)
    )


def _manifest(
    obj: AppliedObject, prefix: str, appliers: tuple[Applier, ...], charts: frozenset[str] = frozenset()
) -> Manifest:
    path = _join(prefix, obj.source)
    document = AppliedDocument(path=path, data=obj.data, applied=obj, prefix=prefix, charts=charts)
    return Manifest(document=document, appliers=appliers)


class _Node(Protocol):
    """A Flux Kustomization or an Argo CD Application rail built."""

    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def parent(self) -> tuple[str, str] | None: ...
    @property
    def tree(self) -> str: ...
    @property
    def id(self) -> tuple[str, str]: ...


_NodeKey = tuple[str, str, tuple[str, str]]  # (kind, tree, (namespace, name))


class _Chains:
    """Who applies an object: its Kustomization (or Application), that one's parent,
    up to the root, looked up within the object's own tree (two clusters often share
    ids)."""

    def __init__(self, prefix: str) -> None:
        self._records: dict[_NodeKey, _Node] = {}
        self._prefix = prefix
        self._memo: dict[_NodeKey, tuple[Applier, ...]] = {}

    def add(self, kind: str, records: Iterable[_Node]) -> None:
        for record in records:
            self._records.setdefault((kind, record.tree, record.id), record)

    def of(self, obj: AppliedObject, kind: str) -> tuple[Applier, ...]:
        start = obj.applied_by
        if obj.kind == kind and obj.api_version.startswith(_GROUPS[kind]):
            own = (obj.namespace or _DEFAULT_NAMESPACES[kind], obj.name)
            if (kind, obj.tree, own) in self._records:
                start = own
        return () if start is None else self._chain((kind, obj.tree, start))

    def _chain(self, key: _NodeKey) -> tuple[Applier, ...]:
        if key not in self._memo:
            kind, tree, start = key
            chain: list[Applier] = []
            seen: set[tuple[str, str]] = set()
            current: tuple[str, str] | None = start
            while current is not None and current not in seen:
                seen.add(current)
                record = self._records.get((kind, tree, current))
                if record is None:
                    break
                where = _join(self._prefix, record.source)
                chain.append(Applier(record.namespace, record.name, where, record.line, kind))
                current = record.parent
            self._memo[key] = tuple(chain)
        return self._memo[key]


def _left_out(manifests: Iterable[Manifest], applied: frozenset[str]) -> list[str]:
    """One note per folder: its files that hold Kubernetes objects no root applies.
    Other YAML (CI config, Helm values, Renovate) was never a manifest: not counted."""
    by_folder: dict[str, set[str]] = {}
    for manifest in manifests:
        if manifest.path in applied or not (manifest.api_version and manifest.kind):
            continue
        by_folder.setdefault(posixpath.dirname(manifest.path) or ".", set()).add(manifest.path)
    return [
        f"{folder}: {len(paths)} file(s) that no Flux Kustomization or Argo CD Application applies:"
        " not linted (--all-files lints them)"
        for folder, paths in sorted(by_folder.items())
    ]


def group_notes(notes: Iterable[BuildNote], prefix: str = "", engine: str = "Flux") -> list[str]:
    """The build's notes, one line per feature: how often, the first few files, and the
    first message as the example (the others usually differ only in names)."""
    grouped: dict[str, list[BuildNote]] = {}
    seen: set[tuple[str, str, str]] = set()
    for note in notes:
        if note.feature in _PARSE_FEATURES or (note.file, note.feature, note.message) in seen:
            continue
        seen.add((note.file, note.feature, note.message))
        grouped.setdefault(note.feature, []).append(note)
    lines = []
    for feature, found in grouped.items():
        files = list(dict.fromkeys(_join(prefix, note.file) for note in found))
        more = len(files) - _SHOWN_FILES
        shown = ", ".join(files[:_SHOWN_FILES]) + (f" and {more} more" if more > 0 else "")
        first = found[0]
        lines.append(f"{engine} build, {feature}: {len(found)} note(s) in {shown}; first: {first.message}")
    return lines


def _join(prefix: str, path: str) -> str:
    if not prefix or prefix == ".":
        return path
    if path in ("", "."):
        return prefix
    return posixpath.join(prefix, path)
