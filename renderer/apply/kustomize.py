"""A pure-Python ``kustomize build``: the objects a Flux ``Kustomization`` applies.

:func:`build` gives what ``kubectl kustomize`` (kustomize v5.5) builds from a folder,
with Flux's rule for a folder without a kustomization file, and every field's
source file and line (see ``model.py``). It never raises on what it reads: a file
that does not parse, a missing or refused path, a feature rail does not build,
each becomes a :class:`~renderer.apply.model.BuildNote` and the build goes on.

A folder builds as kustomize does:

1. the kustomization file: ``kustomization.yaml``, ``kustomization.yml`` or
   ``Kustomization``. Without one, Flux's kustomize-controller generates one
   listing every ``.yaml``/``.yml`` file below the folder (in the lexical order of
   Go's ``filepath.Walk``), where a subfolder holding a kustomization file is
   listed as a folder and not entered; rail reads the folder the same way;
2. ``resources`` (and legacy ``bases``) in order: files, and folders built
   recursively, each folder once per :func:`build` call;
3. the generators (``configMapGenerator``, ``secretGenerator``, ``generators.py``):
   see :func:`_run_generators`, the one call site; ``configurations`` files add
   ``nameReference`` fields (a HelmRelease's ``valuesFrom``) for their renames;
4. ``components`` (``kind: Component``), each changing everything so far;
5. the transformers, in kustomize's order: ``patchesStrategicMerge``,
   ``patches``, ``namespace``, ``namePrefix``/``nameSuffix``, ``labels`` then
   ``commonLabels``, ``commonAnnotations``, ``patchesJson6902``, ``replicas``,
   ``images``, ``replacements`` (``replacements.py``);

and at the top only: name references follow renamed objects (``nameref.py``), a
generated object's name gets kustomize's content hash and references follow it,
objects annotated ``config.kubernetes.io/local-config: "true"`` are dropped, and
the objects are put in kustomize's output order (``sortOptions`` ``fifo`` keeps
the build order).

Not built, each a note naming the file and the field: ``helmCharts``,
``helmChartInflationGenerator``, ``helmGlobals``, ``generators``,
``transformers``, ``validators``, ``vars``, ``openapi``,
``crds``, ``inventory``, ``buildMetadata``, ``images``
entries beyond ``newName``/``newTag``/``digest``, ``labels`` with custom
``fields``, patch ``options``, and unknown fields.

A remote resource or component (``https://``, ``github.com/...``, ``git::``...)
cannot be built offline: its folder falls back to its *raw files*, namely the
local files its ``resources`` list, read as written, and the local folders it
lists, built as usual; none of that kustomization's generators, components,
patches or transformers apply. Paths are resolved against the kustomization's
folder and must stay inside ``root``: absolute paths, ``..`` past the root and
symlinks out of it are refused with a note (what Flux's secure file system does).

What kustomize refuses (a cycle, a duplicate object id, a strategic merge patch
that matches no object, a ``Component`` listed as a resource, two kustomization
files) is a note too, and the rest is built; a ``Component`` built on its own is
built like a kustomization, as kustomize does.

Known differences: output order can differ from kubectl's for objects of one kind
in several API groups (kubectl puts core Namespaces first); a name reference in a
mapping (``subjects``) picks candidates by namespace among the objects of that
name only; a folder Flux generates skips ``.git`` (source-controller leaves it out
of the artifact); a ``patchesStrategicMerge`` entry is a file if it exists or
ends in ``.yaml``/``.yml``/``.json``, else an inline patch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..load.files import read_text
from ..realpath import real
from ..yamlio import Document, KeyPath, format_key_path, load_documents
from . import generators, nameref, patches, replacements, transformers
from .kinds import COMMON_LABELS, METADATA_LABELS, FieldSpec, legacy_order
from .model import Build, BuildNote, copy_data
from .resource import Resource
from .selector import SelectorError, Target, parse_target

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MANIFEST_SUFFIXES = (".yaml", ".yml")
REMOTE_PREFIXES = ("git::", "gh:", "ssh://", "https://", "http://", "git@", "github.com:", "github.com/")
LOCAL_CONFIG = "config.kubernetes.io/local-config"

# kustomize's fields: what rail builds, what belongs to the generators, what it does not build.
_BUILT = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "components",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "images",
        "imageTags",
        "replicas",
        "sortOptions",
        "replacements",
    }
)
_GENERATORS = ("configMapGenerator", "secretGenerator", "generatorOptions", "configurations")
_NOT_BUILT = (
    "helmCharts",
    "helmChartInflationGenerator",
    "helmGlobals",
    "generators",
    "transformers",
    "validators",
    "vars",
    "openapi",
    "crds",
    "inventory",
    "buildMetadata",
)


def build(folder: Path, root: Path) -> Build:
    """What Flux applies from ``folder`` (a path inside the repository ``root``)."""
    builder = _Builder(root)
    resources = builder.top(folder)
    return Build(objects=tuple(r.freeze() for r in resources), notes=tuple(builder.notes), files=builder.read())


def apply_components(
    resources: list[Resource], folder: Path, root: Path, document: Document, entries: list[tuple[KeyPath, Any]]
) -> Build:
    """Components named outside any kustomization file (Flux's ``spec.components``, which
    Flux writes into the ``kustomization.yaml`` of the folder it builds) applied to the
    built ``resources`` in place. ``entries`` are the key paths in ``document`` and the
    paths, relative to ``folder``. Gives the notes and the files read, no objects."""
    builder = _Builder(root)
    k = _Kustomization(folder=real(folder), display=document.path, document=document, data={})
    for key_path, entry in entries:
        builder._component(k, key_path, entry, resources)
    _hash_names(resources, builder.references)
    return Build(notes=tuple(builder.notes), files=builder.read())


def is_remote(entry: str) -> bool:
    lowered = entry.lower()
    return any(len(entry) > len(prefix) and lowered.startswith(prefix) for prefix in REMOTE_PREFIXES)


@dataclass(frozen=True)
class _Kustomization:
    folder: Path
    display: str
    document: Document
    data: dict[str, Any]

    @property
    def is_component(self) -> bool:
        return self.data.get("kind") == "Component"

    def line(self, key_path: KeyPath) -> int | None:
        return self.document.locate(key_path)[0]

    def entries(self, field: str) -> list[tuple[KeyPath, Any]]:
        value = self.data.get(field)
        if not isinstance(value, list):
            return []
        return [((field, index), item) for index, item in enumerate(value)]


class _Builder:
    """One build: its notes, and each folder's and file's result, computed once."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.notes: list[BuildNote] = []
        self._noted: set[BuildNote] = set()
        self.folders: dict[Path, list[Resource]] = {}
        self.kustomizations: dict[Path, _Kustomization | None] = {}
        self.files: dict[Path, list[Document] | None] = {}
        self.stack: list[Path] = []
        self.references: list[generators.NameReference] = []  # from `configurations` files

    # ---------------------------------------------------------------- helpers

    def read(self) -> frozenset[str]:
        """The repository files this build read (parsed or not)."""
        return frozenset(self.display(path) for path in self.files)

    def note(self, file: str, feature: str, message: str, line: int | None = None) -> None:
        found = BuildNote(file=file, feature=feature, message=message, line=line)
        if found not in self._noted:
            self._noted.add(found)
            self.notes.append(found)

    def at(self, k: _Kustomization, key_path: KeyPath, feature: str, message: str) -> None:
        self.note(k.display, feature, message, k.line(key_path))

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix() or "."
        except ValueError:
            return path.as_posix()

    def inside(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def resolve(self, k: _Kustomization, entry: str, key_path: KeyPath) -> Path | None:
        """``entry`` of ``k`` as an existing path inside the root, or None (noted)."""
        if os.path.isabs(entry) or entry.startswith(("/", "\\")) or "\\" in entry:
            self.at(k, key_path, "path-traversal", f"'{entry}' is an absolute or Windows path: refused")
            return None
        path = real(k.folder / entry)
        if not self.inside(path):
            self.at(k, key_path, "path-traversal", f"'{entry}' leaves the repository: refused")
            return None
        if not path.exists():
            self.at(k, key_path, "missing-file", f"'{entry}' does not exist")
            return None
        return path

    # ---------------------------------------------------------------- folders

    def top(self, folder: Path) -> list[Resource]:
        path = real(folder)
        if not self.inside(path):
            self.note(folder.as_posix(), "path-traversal", "the folder is outside the repository: refused")
            return []
        if not path.is_dir():
            self.note(self.display(path), "missing-file", "not a folder")
            return []
        resources = self.folder(path, None)
        nameref.fix_references(resources, self._ambiguous)
        _hash_names(resources, self.references)
        resources = [r for r in resources if str(r.annotations().get(LOCAL_CONFIG, "")).lower() != "true"]
        k = self.kustomizations.get(path)
        order = k.data.get("sortOptions") if k is not None else None
        if isinstance(order, dict) and order.get("order") == "fifo":
            return resources
        if isinstance(order, dict) and order.get("legacySortOptions") and k is not None:
            self.at(k, ("sortOptions", "legacySortOptions"), "sortOptions", "custom legacySortOptions are not built")
        return sorted(resources, key=lambda r: legacy_order(r.gvk, r.name, r.namespace))

    def _ambiguous(self, resource: Resource, key_path: KeyPath) -> None:
        self.note(
            resource.document.path,
            "nameReference",
            f"several renamed objects fit the reference at {format_key_path(key_path)} of {resource.kind} "
            f"'{resource.name}': kustomize refuses to build",
        )

    def folder(self, folder: Path, origin: tuple[_Kustomization, KeyPath] | None) -> list[Resource]:
        """The objects a folder builds into (copies: the caller transforms them)."""
        if folder in self.stack:
            where = " -> ".join(self.display(p) for p in [*self.stack[self.stack.index(folder) :], folder])
            if origin is not None:
                self.at(origin[0], origin[1], "cycle", f"resources include each other ({where}): skipped")
            return []
        if folder not in self.folders:
            self.stack.append(folder)
            try:
                self.folders[folder] = self._build_folder(folder, origin)
            finally:
                self.stack.pop()
        return [r.copy() for r in self.folders[folder]]

    def _build_folder(self, folder: Path, origin: tuple[_Kustomization, KeyPath] | None) -> list[Resource]:
        k = self.kustomization(folder)
        if k is None:
            return self._generated(folder, origin)
        if k.is_component and len(self.stack) > 1:  # built on its own, a Component is a kustomization
            message = f"'{self.display(folder)}' is a Component, listed as a resource: kustomize refuses it"
            if origin is not None:
                self.at(origin[0], origin[1], "components", message)
            else:
                self.note(k.display, "components", message)
            return []
        resources: list[Resource] = []
        self.accumulate(k, resources)
        return resources

    def kustomization(self, folder: Path) -> _Kustomization | None:
        """The folder's kustomization (None without one; an unreadable one reads as empty)."""
        if folder in self.kustomizations:
            return self.kustomizations[folder]
        names = [name for name in KUSTOMIZATION_FILES if (folder / name).is_file()]
        found: _Kustomization | None = None
        if names:
            path = folder / names[0]
            if len(names) > 1:
                self.note(self.display(path), "kustomization", f"several kustomization files ({', '.join(names)})")
            found = self._read_kustomization(folder, path)
        self.kustomizations[folder] = found
        return found

    def _read_kustomization(self, folder: Path, path: Path) -> _Kustomization:
        display = self.display(folder / path.name)
        documents = None
        resolved = real(path)
        if self.inside(resolved):
            documents = self.documents(resolved)
        else:
            self.note(display, "path-traversal", "the kustomization file links out of the repository: refused")
        found = [d for d in documents or [] if d.data is not None]
        if documents is not None and not found:
            self.note(display, "kustomization", "the kustomization file is empty")
        if len(found) > 1:
            self.note(display, "kustomization", "the kustomization file holds several documents")
        document = found[0] if found else Document(path=display, data={})
        data = document.data
        if not isinstance(data, dict):
            self.note(display, "kustomization", "the kustomization file is not a mapping", document.locate(())[0])
            data = {}
        return _Kustomization(folder=folder, display=display, document=document, data=data)

    def _generated(self, folder: Path, origin: tuple[_Kustomization, KeyPath] | None) -> list[Resource]:
        """What Flux generates for a folder without a kustomization file."""
        if origin is not None:
            self.at(origin[0], origin[1], "kustomization", f"'{self.display(folder)}' has no kustomization file")
        resources: list[Resource] = []
        known: set[tuple[Any, ...]] = set()
        for path, is_folder in _flux_walk(folder):
            resolved = real(path)
            if not self.inside(resolved):
                self.note(self.display(path), "path-traversal", "a link out of the repository: refused")
            elif is_folder:
                self.add(resources, self.folder(resolved, None), None, known)
            else:
                self.add(resources, self.file(resolved), None, known)
        return resources

    # ---------------------------------------------------------------- a kustomization

    def accumulate(self, k: _Kustomization, resources: list[Resource]) -> None:
        """Resources, generators, components, transformers: into ``resources``."""
        self._check_fields(k)
        remote = [
            (key_path, entry)
            for field in ("resources", "bases", "components")
            for key_path, entry in k.entries(field)
            if isinstance(entry, str) and is_remote(entry)
        ]
        for key_path, entry in remote:
            self.at(k, key_path, "remote-resource", f"remote '{entry}' is not fetched: the folder's raw files are used")
        known = {resource.current_id.key for resource in resources}
        for key_path, entry in k.entries("resources") + k.entries("bases"):
            if not isinstance(entry, str) or not entry:
                self.at(k, key_path, "resources", "a resource must be a path")
            elif not is_remote(entry):
                path = self.resolve(k, entry, key_path)
                if path is not None:
                    found = self.folder(path, (k, key_path)) if path.is_dir() else self.file(path)
                    self.add(resources, found, (k, key_path), known)
        if remote:
            return
        _run_generators(self, k, resources)
        for key_path, entry in k.entries("components"):
            self._component(k, key_path, entry, resources)
        self._transform(k, resources)

    def _component(self, k: _Kustomization, key_path: KeyPath, entry: Any, resources: list[Resource]) -> None:
        if not isinstance(entry, str) or not entry:
            self.at(k, key_path, "components", "a component must be a path")
            return
        path = self.resolve(k, entry, key_path)
        if path is None:
            return
        if path in self.stack:
            self.at(k, key_path, "cycle", f"component '{entry}' includes itself: skipped")
            return
        component = self.kustomization(path) if path.is_dir() else None
        if component is None or not component.is_component:
            self.at(k, key_path, "components", f"'{entry}' is not a folder with a kind: Component kustomization")
            return
        self.stack.append(path)
        try:
            self.accumulate(component, resources)
        finally:
            self.stack.pop()

    def _check_fields(self, k: _Kustomization) -> None:
        for field in k.data:
            if field in _NOT_BUILT:
                self.at(k, (field,), field, f"'{field}' is not built by rail: ignored")
            elif field not in _BUILT and field not in _GENERATORS:
                self.at(k, (field,), "unknown-field", f"unknown kustomization field '{field}': kustomize refuses it")

    def add(
        self,
        resources: list[Resource],
        found: list[Resource],
        origin: tuple[_Kustomization, KeyPath] | None,
        known: set[tuple[Any, ...]],
    ) -> None:
        """Append, refusing a second object with the same id (kustomize stops there).
        ``known``: the ids in ``resources``, kept by the caller across its calls (a folder
        of 1,000 entries would otherwise recount them for each: quadratic)."""
        for resource in found:
            me = resource.current_id
            if me.key in known:
                message = f"{me.gvk.kind} '{me.name}' is already in the build: the second one is skipped"
                if origin is not None:
                    self.at(origin[0], origin[1], "duplicate", message)
                else:
                    self.note(resource.document.path, "duplicate", message, resource.document.locate(resource.base)[0])
                continue
            known.add(me.key)
            resources.append(resource)

    # ---------------------------------------------------------------- files

    def documents(self, path: Path) -> list[Document] | None:
        """The file's documents (None, noted, if it cannot be read or parsed)."""
        if path not in self.files:
            display = self.display(path)
            try:
                self.files[path] = load_documents(read_text(path, display), display, strict_tags=False)
            except InputError as exc:
                for problem in exc.problems:
                    self.note(display, "yaml", problem.message, problem.line)
                self.files[path] = None
        return self.files[path]

    def file(self, path: Path) -> list[Resource]:
        resources = []
        for document in self.documents(path) or []:
            resources.extend(self._objects(document))
        return resources

    def _objects(self, document: Document) -> list[Resource]:
        data = document.data
        if data is None:
            return []
        if not isinstance(data, dict):
            self.note(document.path, "resources", "a document that is not a mapping", document.locate(())[0])
            return []
        kind, items = data.get("kind"), data.get("items")
        found: list[tuple[Any, KeyPath]] = [(data, ())]
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            found = [(item, ("items", index)) for index, item in enumerate(items)]
        resources = []
        for item, base in found:
            if not isinstance(item, dict) or not item.get("apiVersion") or not item.get("kind"):
                self.note(
                    document.path,
                    "resources",
                    "not a Kubernetes object (no apiVersion or kind)",
                    document.locate(base)[0],
                )
                continue
            metadata = item.get("metadata")
            if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
                self.note(document.path, "resources", "an object without metadata.name", document.locate(base)[0])
                continue
            resources.append(Resource(copy_data(item), document, base))
        return resources

    # ---------------------------------------------------------------- transformers

    def _transform(self, k: _Kustomization, resources: list[Resource]) -> None:
        for key_path, entry in k.entries("patchesStrategicMerge"):
            self._legacy_strategic(k, key_path, entry, resources)
        for key_path, entry in k.entries("patches"):
            self._patch(k, key_path, entry, resources, legacy_json=False)
        namespace = k.data.get("namespace")
        if isinstance(namespace, str) and namespace:
            transformers.set_namespace(resources, namespace, k.document)
        prefix, suffix = k.data.get("namePrefix") or "", k.data.get("nameSuffix") or ""
        if isinstance(prefix, str) and isinstance(suffix, str) and (prefix or suffix):
            transformers.add_affixes(resources, prefix, suffix, k.document)
        for key_path, entry in k.entries("labels"):
            self._labels(k, key_path, entry, resources)
        common = self._string_map(k, "commonLabels")
        if common:
            transformers.add_map_entries(resources, common, COMMON_LABELS, k.document, ("commonLabels",))
        annotations = self._string_map(k, "commonAnnotations")
        if annotations:
            transformers.add_annotations(resources, annotations, k.document)
        for key_path, entry in k.entries("patchesJson6902"):
            self._patch(k, key_path, entry, resources, legacy_json=True)
        for key_path, entry in k.entries("replicas"):
            self._replicas(k, key_path, entry, resources)
        for key_path, entry in k.entries("images") + k.entries("imageTags"):
            self._image(k, key_path, entry, resources)
        if "replacements" in k.data:
            self._replacements(k, resources)

    def _string_map(self, k: _Kustomization, field: str) -> dict[str, str]:
        value = k.data.get(field)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.at(k, (field,), field, f"'{field}' must map names to strings (kustomize refuses numbers and booleans)")
            return {}
        return value

    def _labels(self, k: _Kustomization, key_path: KeyPath, entry: Any, resources: list[Resource]) -> None:
        pairs = entry.get("pairs") if isinstance(entry, dict) else None
        if not isinstance(pairs, dict) or not all(isinstance(v, str) for v in pairs.values()):
            self.at(k, key_path, "labels", "a labels entry needs 'pairs' of strings")
            return
        if entry.get("fields"):
            self.at(k, (*key_path, "fields"), "labels", "custom label 'fields' are not built")
        specs: tuple[FieldSpec, ...] = (FieldSpec(("metadata", "labels"), create=True),)
        if entry.get("includeSelectors"):
            specs = COMMON_LABELS
        elif entry.get("includeTemplates"):
            specs = METADATA_LABELS
        transformers.add_map_entries(resources, pairs, specs, k.document, (*key_path, "pairs"))

    def _image(self, k: _Kustomization, key_path: KeyPath, entry: Any, resources: list[Resource]) -> None:
        allowed = {"name", "newName", "newTag", "digest"}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            self.at(k, key_path, "images", "an images entry needs a name")
            return
        extra = sorted(key for key in entry if key not in allowed)
        if extra or not all(isinstance(entry.get(key, ""), str) for key in allowed):
            self.at(
                k, key_path, "images", f"images entry '{entry['name']}' is not built (only newName, newTag, digest)"
            )
            return
        transformers.set_images(resources, entry, k.document, key_path)

    def _replacements(self, k: _Kustomization, resources: list[Resource]) -> None:
        """``replacements``, kustomize's last transformer: inline entries and ``path:``
        files (one replacement or a list), each run in order (``replacements.py``)."""
        if not isinstance(k.data["replacements"], list):
            self.at(k, ("replacements",), "replacements", "'replacements' must be a list")
            return
        for key_path, entry in k.entries("replacements"):
            if not (isinstance(entry, dict) and "path" in entry):
                self._replacement(resources, entry, k.document, key_path)
                continue
            if "source" in entry or "targets" in entry:
                self.at(k, key_path, "replacements", "a replacement cannot have both a path and inline fields")
                continue
            for document, file_key_path, raw in self._replacement_file(k, key_path, entry["path"]):
                self._replacement(resources, raw, document, file_key_path)

    def _replacement_file(self, k: _Kustomization, key_path: KeyPath, path: Any) -> list[tuple[Document, KeyPath, Any]]:
        """The replacements of a ``path:`` file (a mapping or a list; as kustomize reads
        it, its first document only), or none (noted)."""
        where = (*key_path, "path")
        if not isinstance(path, str) or not path:
            self.at(k, where, "replacements", "a replacement 'path' must be a file path")
            return []
        resolved = self.resolve(k, path, where)
        if resolved is None:
            return []
        if not resolved.is_file():
            self.at(k, where, "replacements", f"'{path}' is not a file")
            return []
        documents = [d for d in self.documents(resolved) or [] if d.data is not None]
        if len(documents) > 1:
            self.note(documents[1].path, "replacements", "only the first document is read (kustomize)")
        found = replacements.entries_of_file(documents[0]) if documents else None
        if found is None:
            self.at(k, where, "replacements", f"'{path}' holds no replacement (nor a list of them)")
            return []
        return [(documents[0], file_key_path, raw) for raw, file_key_path in found]

    def _replacement(self, resources: list[Resource], raw: Any, document: Document, key_path: KeyPath) -> None:
        found, notes = replacements.parse(raw, document, key_path)
        if found is not None:
            notes += replacements.apply(resources, found)
        for note in notes:
            self.note(note.document.path, "replacements", note.message, note.document.locate(note.key_path)[0])

    def _replicas(self, k: _Kustomization, key_path: KeyPath, entry: Any, resources: list[Resource]) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or type(entry.get("count")) is not int:
            self.at(k, key_path, "replicas", "a replicas entry needs a name and an integer count")
            return
        transformers.set_replicas(resources, entry["name"], entry["count"], k.document, (*key_path, "count"))

    # ---------------------------------------------------------------- patches

    def _legacy_strategic(self, k: _Kustomization, key_path: KeyPath, entry: Any, resources: list[Resource]) -> None:
        if not isinstance(entry, str) or not entry.strip():
            self.at(k, key_path, "patchesStrategicMerge", "an entry must be a file path or a patch")
            return
        # kustomize reads an entry as a file if it can, else as an inline patch.
        is_path = "\n" not in entry and ((k.folder / entry).exists() or entry.endswith((".yaml", ".yml", ".json")))
        texts = self._patch_texts(k, key_path, path=entry if is_path else None, inline=entry, is_key=False)
        for text in texts or []:
            complain = self._complainer(k, key_path, "patchesStrategicMerge")
            patches.strategic(resources, text, None, complain)

    def _patch(
        self, k: _Kustomization, key_path: KeyPath, entry: Any, resources: list[Resource], *, legacy_json: bool
    ) -> None:
        field = "patchesJson6902" if legacy_json else "patches"
        if not isinstance(entry, dict):
            self.at(k, key_path, field, "a patch entry must be a mapping")
            return
        path, inline = entry.get("path"), entry.get("patch")
        if (path is None) == (inline is None) or not isinstance(path or inline, str):
            self.at(k, key_path, field, "a patch entry needs exactly one of 'path' and 'patch'")
            return
        options = entry.get("options")
        if (isinstance(options, dict) and any(options.values())) or (options and not isinstance(options, dict)):
            self.at(k, (*key_path, "options"), field, "patch options (allowNameChange, allowKindChange) are not built")
        target: Target | None = None
        if entry.get("target") is not None:
            try:
                target = parse_target(entry["target"])
            except SelectorError as exc:
                self.at(k, (*key_path, "target"), field, str(exc))
                return
        texts = self._patch_texts(
            k, (*key_path, "path" if path is not None else "patch"), path=path, inline=inline, is_key=True
        )
        if texts is None:
            return
        complain = self._complainer(k, key_path, field)
        documents = [t for t in texts if t.document.data is not None]
        if len(documents) == 1 and patches.is_json_patch(documents[0].document.data):
            if target is None:
                complain("a JSON patch needs a target")
            else:
                patches.json6902(resources, documents[0], target, complain)
            return
        if legacy_json:
            complain("patchesJson6902 needs a JSON patch (a list of operations)")
            return
        for text in documents:
            patches.strategic(resources, text, target, complain)

    def _patch_texts(
        self, k: _Kustomization, key_path: KeyPath, *, path: str | None, inline: Any, is_key: bool
    ) -> list[patches.PatchText] | None:
        """A patch's documents, from its file or from the inline string (None: noted)."""
        if path is not None:
            resolved = self.resolve(k, path, key_path)
            if resolved is None:
                return None
            if not resolved.is_file():
                self.at(k, key_path, "patches", f"'{path}' is not a file")
                return None
            documents = self.documents(resolved)
            return None if documents is None else [patches.PatchText(d) for d in documents]
        line_offset, column_offset = patches.inline_offsets(k.document, key_path, is_key=is_key)
        try:
            documents = load_documents(str(inline), k.display, strict_tags=False)
        except InputError as exc:
            for problem in exc.problems:
                line = None if problem.line is None else problem.line + line_offset
                self.note(k.display, "yaml", f"inline patch: {problem.message}", line)
            return None
        return [patches.PatchText(d, line_offset, column_offset) for d in documents]

    def _complainer(self, k: _Kustomization, key_path: KeyPath, field: str) -> patches.Complain:
        def complain(message: str) -> None:
            self.at(k, key_path, field, message)

        return complain


def _run_generators(builder: _Builder, k: _Kustomization, resources: list[Resource]) -> None:
    """The generators' call site: ``configMapGenerator`` and ``secretGenerator`` of ``k``
    (with its ``generatorOptions``) add to, or merge into, ``resources``; its
    ``configurations`` files add name-reference fields for the top of the build.

    A generated object's hash suffix is added after every transformer, at the top of
    the build, as kustomize does (:func:`_hash_names`): here it is only marked."""
    if k.data.get("configurations"):
        found, problems = generators.load_configurations(
            k.data["configurations"], k.folder, builder.root, document=k.document
        )
        builder.references.extend(found)
        for problem in problems:
            builder.note(problem.path, "configurations", problem.message, problem.line)
    if not (k.data.get("configMapGenerator") or k.data.get("secretGenerator")):
        return
    held = [index for index, r in enumerate(resources) if r.kind in ("ConfigMap", "Secret")]
    existing = [
        generators.Generated(
            obj=resources[index].data,
            source=resources[index].document.path,
            hash_suffix=resources[index].needs_hash,
            previous=tuple((rid.name, rid.namespace) for rid in resources[index].previous),
        )
        for index in held
    ]
    result = generators.generate_all(k.data, k.folder, builder.root, existing, document=k.document)
    for problem in result.notes:
        builder.note(problem.path, "generators", problem.message, problem.line)
    for index, item in zip(held, result.objects, strict=False):
        resources[index].data = item.obj  # merged into (or unchanged)
        resources[index].needs_hash = item.hash_suffix
    for item in result.objects[len(held) :]:
        field = "configMapGenerator" if item.kind == "ConfigMap" else "secretGenerator"
        made = Resource(item.obj, k.document, (field,))
        made.needs_hash = item.hash_suffix
        resources.append(made)


def _hash_names(resources: list[Resource], references: list[generators.NameReference]) -> None:
    """kustomize's last step: ``<name>-<content hash>`` for generated objects, and every
    reference to one (by its current or any earlier name) renamed to match."""
    renames: dict[tuple[str, str, str], str] = {}
    for r in resources:
        if not r.needs_hash:
            continue
        new_name = generators.hashed_name(r.data)
        for namespace, name in [(r.namespace, r.name), *((rid.namespace, rid.name) for rid in r.previous)]:
            renames[(r.kind, namespace, name)] = new_name
        r.metadata["name"] = new_name
        r.needs_hash = False
    if not renames:
        return
    renamed = generators.rename_references([r.data for r in resources], renames, references)
    for r, data in zip(resources, renamed, strict=True):
        r.data = data


def _flux_walk(folder: Path) -> list[tuple[Path, bool]]:
    """Flux's generated resources for ``folder``: (path, is a kustomization folder)."""
    found: list[tuple[Path, bool]] = []

    def walk(current: Path) -> None:
        try:
            names = sorted(os.listdir(current))
        except OSError:
            return
        for name in names:
            path = current / name
            if path.is_dir() and not path.is_symlink():
                if name == ".git":
                    continue
                if any((path / kfile).is_file() for kfile in KUSTOMIZATION_FILES):
                    found.append((path, True))
                else:
                    walk(path)
            elif path.suffix in MANIFEST_SUFFIXES and path.is_file():
                found.append((path, False))

    walk(folder)
    return found
