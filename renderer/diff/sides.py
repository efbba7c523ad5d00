"""One side of a diff: a revision's objects, as its specs render them or, without
specs, as its manifests are. A side that cannot be read is an error naming the
side, never an empty set of objects (which would read as everything deleted).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..lint.finding import Location
from ..lint.inputs import rendered_manifests
from ..lint.layers import LAYER_LABEL, assign
from ..lint.manifests import Manifest
from ..load import CONFIG_NAME
from ..load.reuse import Reuse
from ..load.stack import LoadedStack
from ..memo import memo_scope
from ..model import StackConfig
from ..render import Rendered
from ..render.docs import DOCS_FOLDER
from ..render.moves import TOMBSTONE
from ..yamlio import Document, load_document
from .standing import WORKTREE_PREFIX, keep, take_over, tidy

ObjectKey = tuple[str, str, str, str]  # group, kind, namespace, name


@dataclass(frozen=True)
class DiffObject:
    key: ObjectKey
    data: dict[str, Any]
    path: str
    layer: str | None
    document: Document | None = None
    origin: str | None = None  # the spec it was rendered from
    # An object of another stack: where a release recorded as moved out now lives (its
    # name), and the moved: record that says so (renderer.diff.moves).
    stack: str | None = None
    moved_at: Location | None = None

    @property
    def kind(self) -> str:
        return self.key[1]

    @property
    def namespace(self) -> str:
        return self.key[2]

    @property
    def name(self) -> str:
        return self.key[3]


@dataclass
class Side:
    label: str
    root: Path  # a temporary folder holding the side's files
    config: StackConfig
    from_specs: bool
    objects: dict[ObjectKey, DiffObject]
    loaded: LoadedStack | None = None
    rendered: Rendered | None = None
    manifests: list[Manifest] = field(default_factory=list)
    output_files: Mapping[str, bytes] | None = None  # the output folder, kept in memory (not in ``root``)

    def locate(self, obj: DiffObject, key_path: tuple[str | int, ...]) -> Location:
        """Where ``key_path`` of ``obj`` was written: its spec or values file, else the manifest.

        Rules name values as ``spec.values...`` (a HelmRelease); an Argo CD Application
        keeps them under ``spec.source.helm.valuesObject``.
        """
        values = _values_path(key_path)
        if obj.origin and self.loaded is not None:
            spec = self.loaded.spec_documents.get(obj.origin)
            release = next((r for r in self.loaded.stack.releases if r.origin == obj.origin), None)
            if values is not None and spec is not None and ("values", *values) in spec.positions:
                return _location(spec, ("values", *values))
            for values_file in reversed(release.values_files if release else ()):
                document = self.loaded.values_documents.get(values_file)
                if values is not None and document is not None and values in document.positions:
                    return _location(document, values)
            spec_key = _SPEC_KEYS.get(key_path[:4]) or _SPEC_KEYS.get(key_path[:3]) or _SPEC_KEYS.get(key_path[:2])
            if spec is not None and spec_key is not None:
                present = next((key for key in spec_key if key in spec.positions), spec_key[-1])
                return _location(spec, present)
        if obj.document is not None:
            if values is not None and obj.kind == "Application":
                key_path = (*_ARGO_VALUES, *values)
            return _location(obj.document, key_path)
        return Location(obj.path)


_ARGO_VALUES = ("spec", "source", "helm", "valuesObject")
# Rendered fields -> the spec keys they come from (first one present wins).
_SPEC_KEYS: dict[tuple[str | int, ...], tuple[tuple[str, ...], ...]] = {
    ("metadata", "namespace"): (("namespace",),),
    ("spec", "targetNamespace"): (("namespace",),),
    ("spec", "destination", "namespace"): (("namespace",),),
    ("spec", "releaseName"): (("releaseName",), ("name",)),
    ("spec", "source", "helm", "releaseName"): (("releaseName",), ("name",)),
    ("spec", "chart"): (("chart", "version"),),
    ("spec", "ref"): (("chart", "version"),),
    ("spec", "source", "targetRevision"): (("chart", "version"),),
}


def _values_path(key_path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if key_path[:2] == ("spec", "values"):
        return key_path[2:]
    if key_path[:4] == _ARGO_VALUES:
        return key_path[4:]
    return None


def _location(document: Document, key_path: tuple[str | int, ...]) -> Location:
    line, column = document.locate(key_path)
    return Location(document.path, line, column)


def split_output(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, bytes] | None]:
    """A revision's files: those to write out, and what rail renders into (its output
    folder, docs and tombstone), which only the drift check reads and which stays in memory.

    Creating files is the slow part of reading a revision (a stack at 1,000 releases
    renders 3,000 of them); the output is compared in memory instead. Without a
    readable ``rail.yaml`` everything is written out and loading reports the error.
    """
    output = output_folder(files.get(CONFIG_NAME))
    if output is None:
        return dict(files), None
    in_memory = {path: content for path, content in files.items() if kept_in_memory(path, output)}
    written = {path: content for path, content in files.items() if is_written(path, output)}
    return written, in_memory


def kept_in_memory(path: str, output: str) -> bool:
    """Whether :func:`split_output` keeps ``path`` in memory (the output folder's files)."""
    return path.startswith((f"{output}/", f"{DOCS_FOLDER}/")) or path == TOMBSTONE


def is_written(path: str, output: str | None) -> bool:
    """Whether :func:`split_output` writes ``path`` out (everything, without an output folder)."""
    return output is None or not path.startswith(f"{output}/")


def output_folder(config: bytes | None) -> str | None:
    """The output folder a revision's ``rail.yaml`` (its bytes) names, or None if it names
    none loading would accept."""
    if config is None:
        return None
    try:
        data = load_document(config.decode("utf-8"), CONFIG_NAME).data
    except (InputError, UnicodeDecodeError):
        return None
    output = data.get("output", StackConfig.default().output) if isinstance(data, dict) else None
    if not isinstance(output, str) or not output or output.startswith("/") or ".." in output.split("/"):
        return None  # loading reports it
    return output.rstrip("/")


@contextmanager
def materialized(files: dict[str, bytes], same_as: Path | None = None, scratch: Path | None = None) -> Iterator[Path]:
    """The side's files in a private temporary folder (git objects written out, not a checkout).

    ``same_as``: a folder with the same layout (the working tree); a file with the same
    bytes there is hard-linked instead of written, since creating thousands of files is
    the slow part of reading a revision on some file systems (0.7 ms a file here, 16 us a
    link). Nothing ever writes into the folder, so the shared files are never changed.
    ``scratch``: where to make the folder, ideally on ``same_as``'s file system (links
    cannot cross file systems); the system's temporary folder if that fails.
    """
    folder = private_folder(scratch)
    try:
        root = Path(folder)
        linking = same_as is not None
        for relative, content in files.items():
            if ".." in Path(relative).parts:
                continue
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if linking and same_as is not None and _same_file(same_as / relative, content):
                try:
                    os.link(same_as / relative, target)
                    continue
                except OSError:
                    linking = False  # another file system, or links not allowed: write the rest
            target.write_bytes(content)
        yield root
    finally:
        # Plain removal: tempfile's cleanup may chmod a file it cannot remove, and a linked
        # file is the working tree's own.
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def linked(paths: list[str], source: Path, scratch: Path | None = None, keep_in: Path | None = None) -> Iterator[Path]:
    """Files of ``source`` (the working tree, as git lists it) in a private temporary
    folder: hard links where the file system allows, copies where not. Ignored files
    stay out, as they would in a pull request. ``keep_in``: the git folder, where the
    folder of links is kept for the next run with the cache on (:mod:`.standing`), which
    then links only the files replaced since."""
    top = os.fspath(source)
    taken = take_over(keep_in, top, WORKTREE_PREFIX)
    folder = taken or private_folder(scratch)
    kept = False
    try:
        wanted = [relative for relative in paths if ".." not in relative.split("/")]
        if taken is not None:
            tidy(folder, set(wanted))
        copied = _link_all(folder, top, wanted, taken is not None)
        yield Path(folder)
        # Kept with links only: a copy would leave a working tree's bytes at rest in git's folder.
        kept = not copied and keep(folder, keep_in, top, WORKTREE_PREFIX)
    finally:
        if not kept:
            # Plain removal: tempfile's cleanup may chmod a file it cannot remove, and a
            # linked file is the working tree's own.
            shutil.rmtree(folder, ignore_errors=True)


def _link_all(folder: str, top: str, paths: list[str], reused: bool) -> bool:
    """Link each of ``paths`` of ``top`` into ``folder`` (a copy once linking fails); True
    if a file was copied. ``reused``: ``folder`` is a kept one, tidied: a link it holds is
    kept if it names the file ``top`` holds now, else removed before anything is made
    at its path. Plain strings, not paths: pathlib costs more than the links."""
    linking, copied = True, False
    folders: set[str] = set()
    for relative in paths:
        origin, target = f"{top}/{relative}", f"{folder}/{relative}"
        try:
            info = os.lstat(origin)
            if stat.S_ISLNK(info.st_mode):  # listed because it stays inside: its target's bytes, as in a revision
                origin = os.path.realpath(origin)  # link(2) would link the symlink itself, not its target
                info = os.stat(origin)
        except (FileNotFoundError, NotADirectoryError):
            info = None  # deleted since git listed it: not in the working tree any more
        if reused:
            with contextlib.suppress(FileNotFoundError):
                held = os.lstat(target)
                if info is not None and (held.st_dev, held.st_ino) == (info.st_dev, info.st_ino):
                    continue
                os.unlink(target)  # a regular file (tidied): another file, never written through
        if info is None:
            continue
        parent = relative.rpartition("/")[0]
        if parent and parent not in folders:
            os.makedirs(f"{folder}/{parent}", exist_ok=True)
            folders.add(parent)
        if linking:
            try:
                os.link(origin, target)
                continue
            except FileNotFoundError:
                continue
            except OSError:
                linking = False  # another file system, or links not allowed: copy the rest
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(origin, target)
            copied = True
    return copied


def private_folder(scratch: Path | None) -> str:
    """A new private folder in ``scratch`` if it can be made there, else in the system's."""
    if scratch is not None:
        try:
            return tempfile.mkdtemp(prefix="rail-diff-", dir=scratch)
        except OSError:
            pass
    return tempfile.mkdtemp(prefix="rail-diff-")


def _same_file(path: Path, content: bytes) -> bool:
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(content):
            return False
        return path.read_bytes() == content
    except OSError:
        return False


def read_side(
    label: str, root: Path, output_files: Mapping[str, bytes] | None = None, reuse: Reuse | None = None
) -> Side:
    """The side whose files are in ``root``; ``reuse``: releases its load may take over
    from a side read before (:mod:`renderer.load.reuse`)."""
    try:
        return _read(label, root, output_files, reuse)
    except InputError as error:
        raise InputError(
            [replace(problem, message=f"{label}: {problem.message}") for problem in error.problems]
        ) from None


def _read(label: str, root: Path, output_files: Mapping[str, bytes] | None, reuse: Reuse | None) -> Side:
    if (root / CONFIG_NAME).is_file():
        from ..load import load_stack
        from ..load.stack import sharing_marks
        from ..render import render_stack

        with sharing_marks():  # loading and rendering walk the same values for references
            loaded = load_stack(root, refuse_plaintext=False, reuse=reuse)
            config = loaded.stack.config
            rendered = render_stack(loaded, config.targets)
        manifests = rendered_manifests(rendered)
        objects = objects_of(manifests, config)
        return Side(label, root, config, True, objects, loaded, rendered, manifests, output_files)
    from ..lint.manifests import read, yaml_files

    manifests = []
    for path, display in yaml_files(root, [root]):
        manifests.extend(read(path, display))
    config = StackConfig.default()
    return Side(label, root, config, False, objects_of(manifests, config))


# The objects of the sides this scope read or restored, by the identity of their data,
# each with the config that placed it: most objects of the head of a pre-commit check are
# its base's, rendered from the very same data (renderer.render.target shares renders),
# so their key and layer are known without reading the data again.
_KNOWN: ContextVar[dict[int, tuple[DiffObject, StackConfig]] | None] = ContextVar("rail_known_objects", default=None)


def sharing_objects() -> AbstractContextManager[None]:
    """Inside, an object with the data, path and config of one already made is made from it."""
    return memo_scope(_KNOWN)


def remember_objects(objects: Mapping[ObjectKey, DiffObject], config: StackConfig) -> None:
    """Make ``objects`` known to this scope (the memo holds them, so no id is reused)."""
    known = _KNOWN.get()
    if known is None:
        return
    for obj in objects.values():
        known.setdefault(id(obj.data), (obj, config))


def _same_place(known: Document | None, document: Document | None) -> bool:
    """Two documents of one object that say the same about it: equal (path, index, data),
    the same text and first line. A render makes its file's document afresh, of the very
    data and text."""
    if known is document:
        return True
    if known is None or document is None:
        return False
    return known.text is document.text and known.start_line == document.start_line and known == document


def objects_of(manifests: list[Manifest], config: StackConfig) -> dict[ObjectKey, DiffObject]:
    objects: dict[ObjectKey, DiffObject] = {}
    known = _KNOWN.get() or {}
    same_config: dict[int, bool] = {}  # by the id of a known object's config: equal to ``config``?
    for manifest in manifests:
        hit = known.get(id(manifest.data))
        if hit is not None and hit[0].data is manifest.data and hit[0].path == manifest.path:
            seen, placed_by = hit
            equal = same_config.get(id(placed_by))
            if equal is None:
                equal = same_config[id(placed_by)] = placed_by is config or placed_by == config
            if equal and seen.origin == manifest.origin and _same_place(seen.document, manifest.document):
                objects[seen.key] = seen  # the very object: a side kept after this one is told so at a glance
                continue
            if equal:  # the key and layer are the data's, path's and config's: the same
                objects[seen.key] = DiffObject(
                    seen.key, manifest.data, manifest.path, seen.layer, manifest.document, manifest.origin
                )
                continue
        if not manifest.kind or not manifest.name or not manifest.api_version:
            continue
        if manifest.kind == "Kustomization" and manifest.group == "kustomize.config.k8s.io":
            continue
        key = (manifest.group, manifest.kind, manifest.namespace or "", manifest.name)
        target = manifest.spec().get("targetNamespace")
        namespace = target if isinstance(target, str) else manifest.namespace
        layer = assign(config, manifest.labels().get(LAYER_LABEL), manifest.path, namespace).layer
        objects[key] = DiffObject(
            key, manifest.data, manifest.path, layer.id if layer else None, manifest.document, manifest.origin
        )
    remember_objects(objects, config)
    return objects
