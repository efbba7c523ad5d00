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
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..apply import Applied, AppliedObject, BuildNote, FluxKustomization, apply_repository
from ..apply.flux import is_flux_kustomization
from ..errors import Problem
from ..realpath import sharing_resolves
from ..yamlio import Document, sharing_parses
from .manifests import Applier, ForeignFiles, Manifest, display_path

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


def read_applied(cwd: Path, folder: Path, source_names: Collection[str] = ("flux-system",)) -> AppliedFolder | None:
    """The applied objects of ``folder``, or None if it holds no Flux root (then its
    files are linted as written, as before). ``source_names``: the GitRepository or
    OCIRepository names the repository is bootstrapped from."""
    # One scope for the build and the raw read below: each file is parsed once.
    with sharing_parses(), sharing_resolves():
        applied = apply_repository(folder, source_names)
        if not applied.kustomizations:
            return None
        raw = ForeignFiles()
        raw.read_paths(cwd, [folder])
    prefix = display_path(cwd, folder)
    chains = _Chains(applied, prefix)
    manifests = [
        Manifest(
            document=AppliedDocument(path=_join(prefix, obj.source), data=obj.data, applied=obj, prefix=prefix),
            appliers=chains.of(obj),
        )
        for obj in applied.objects
    ]
    files = {_join(prefix, path) for path in applied.applied_files}
    # A root's file that no build reads is applied by hand (`flux bootstrap`, kubectl):
    # its objects are linted as written.
    by_hand = {_join(prefix, root.source) for root in applied.roots} - files
    manifests.extend(m for m in raw.manifests if m.path in by_hand)
    files |= by_hand
    applied_files = frozenset(files)
    notes = [*raw.notes(), *_left_out(raw.manifests, applied_files), *group_notes(applied.notes, prefix)]
    return AppliedFolder(
        manifests=tuple(manifests), unreadable=tuple(raw.unreadable), applied=applied_files, notes=tuple(notes)
    )


class _Chains:
    """Who applies an object: its Kustomization, that one's parent, up to the root,
    looked up within the object's own tree (two clusters often share ids)."""

    def __init__(self, applied: Applied, prefix: str) -> None:
        self._records: dict[tuple[str, tuple[str, str]], FluxKustomization] = {}
        for record in applied.kustomizations:
            self._records.setdefault((record.tree, record.id), record)
        self._prefix = prefix
        self._memo: dict[tuple[str, tuple[str, str]], tuple[Applier, ...]] = {}

    def of(self, obj: AppliedObject) -> tuple[Applier, ...]:
        start = obj.applied_by
        if is_flux_kustomization(obj.data):
            own = (obj.namespace or "default", obj.name)
            if (obj.tree, own) in self._records:
                start = own
        return () if start is None else self._chain(obj.tree, start)

    def _chain(self, tree: str, start: tuple[str, str]) -> tuple[Applier, ...]:
        key = (tree, start)
        if key not in self._memo:
            chain: list[Applier] = []
            seen: set[tuple[str, str]] = set()
            current: tuple[str, str] | None = start
            while current is not None and current not in seen:
                seen.add(current)
                record = self._records.get((tree, current))
                if record is None:
                    break
                chain.append(Applier(record.namespace, record.name, _join(self._prefix, record.source), record.line))
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
        f"{folder}: {len(paths)} file(s) that no Flux Kustomization applies: not linted (--all-files lints them)"
        for folder, paths in sorted(by_folder.items())
    ]


def group_notes(notes: Iterable[BuildNote], prefix: str = "") -> list[str]:
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
        lines.append(f"Flux build, {feature}: {len(found)} note(s) in {shown}; first: {first.message}")
    return lines


def _join(prefix: str, path: str) -> str:
    if not prefix or prefix == ".":
        return path
    if path in ("", "."):
        return prefix
    return posixpath.join(prefix, path)
