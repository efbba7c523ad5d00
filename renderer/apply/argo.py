"""What Argo CD applies from a repository: its Applications, those its ApplicationSets
generate, and what each one's sources build from this repository.

Argo CD never applies files as written: an ``Application`` (argoproj.io) renders each
of its sources and applies the result, which may hold more Applications (app of
apps) and ApplicationSets, whose generators make more. :func:`apply_argo` follows
that, so rail lints what a cluster receives and knows which files nothing applies.

Roots: the Applications and ApplicationSets written in the repository's YAML files
that no other Application's source reads (applied by hand or by the Argo CD charts:
also those a values file gives the ``argocd-apps`` chart, ``applications`` and
``applicationsets``, at its top level or under an umbrella's ``argocd-apps`` key,
and the ``extraObjects`` of the ``argo-cd`` chart's values). Each root's tree is
built breadth first, every Application once (per ``namespace/name``; Argo CD's own
namespace, ``argocd``, when unset).

One Application's sources (``spec.source`` or each of ``spec.sources``), as Argo
CD's repo-server renders them, for a source in this repository (``repoURL`` one of
``repo_urls``; with none known, a source whose ``path`` exists here is taken as this
repository's, with a note):

* a folder with a kustomization file (or a ``kustomize`` block): built with
  :func:`renderer.apply.kustomize.build`; the source's own ``kustomize`` options
  (``namePrefix``, ``images``...) are a note, not applied;
* a folder with ``Chart.yaml``: a Helm chart, its templates never read. The values
  Argo CD gives it (``helm.valueFiles`` relative to the chart, then ``values``, then
  ``valuesObject``) are what rail lints: the files' values are merged under
  ``helm.valuesObject`` of the applied Application, each key located in the file
  that set it, so the rules read them as the release's values; ``valueFiles`` keeps
  only the files rail could not read (their values are unknown);
* any other folder: a plain directory, its ``*.yaml``/``*.yml``/``*.json`` files
  (``directory.recurse``, ``include``, ``exclude`` globs); ``jsonnet`` is a note;
* a ``plugin``: a note.

A chart from a Helm repository (``chart:``) is not fetched: the Application is the
release the rules read; its ``valueFiles`` that name ``$<ref>/path`` (a multi-source
``ref`` source of this repository) are read from here and merged the same way.
Namespaced objects without a namespace get the Application's
``destination.namespace``, as ``kubectl apply -n`` gives them.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import re
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..load.files import read_text, sharing_reads
from ..realpath import real, sharing_resolves
from ..yamlio import Document, KeyPath, load_documents, sharing_parses
from . import appset, kustomize
from .kinds import gvk_of, is_cluster_scoped
from .model import AppliedObject, BuildNote, Overlay, copy_data
from .walk import repository_documents

ARGO_GROUP = "argoproj.io"
DEFAULT_NAMESPACE = "argocd"  # where Argo CD looks for Applications unless told otherwise
CLUSTER_SECRET_LABEL = "argocd.argoproj.io/secret-type"
CHART_FILE = "Chart.yaml"
DIRECTORY_SUFFIXES = (".yaml", ".yml", ".json")
MAX_APPLICATIONS = 10_000  # per repository: an app of apps that multiplies is stopped here

AppId = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class ArgoApplication:
    """One Application rail followed: where it is written (or generated: the
    ApplicationSet's file and template line), the one that applied it, the files its
    sources read, and its tree (the file of its root: one Argo CD instance)."""

    namespace: str
    name: str
    source: str
    line: int
    files: frozenset[str] = frozenset()
    parent: AppId | None = None
    tree: str = ""
    generated_by: AppId | None = None

    @property
    def id(self) -> AppId:
        return (self.namespace, self.name)


@dataclass(frozen=True)
class ArgoApplied:
    """The objects Argo CD applies (written and generated Applications with their
    values merged, and what their sources build), the Applications followed, the
    files read, and the notes."""

    objects: tuple[AppliedObject, ...] = ()
    applications: tuple[ArgoApplication, ...] = ()
    applied_files: frozenset[str] = frozenset()
    notes: tuple[BuildNote, ...] = ()
    chart_folders: frozenset[str] = frozenset()  # the sources' chart folders (repository-relative)

    @property
    def decides(self) -> bool:
        """Whether Argo CD's tree says what is applied from this repository: some
        Application reads a source here, or an ApplicationSet generates one. A folder
        that merely holds an Application of a remote chart is not an Argo CD tree: its
        other files are not left out for it."""
        return any(app.files or app.generated_by for app in self.applications)


def apply_argo(
    root: Path, repo_urls: Collection[str] | None = None, clusters: Iterable[Mapping[str, Any]] = ()
) -> ArgoApplied:
    """What Argo CD applies from the repository at ``root``. ``repo_urls``: the URLs the
    repository is known by (None: its git remotes, if any); ``clusters``: clusters
    Argo CD knows besides the cluster Secrets in the repository (``name``, ``server``,
    ``labels``, ``annotations``: ``argo.clusters`` in rail.yaml). Never raises on input."""
    with sharing_parses(), sharing_resolves(), sharing_reads():
        resolved = root.resolve()
        urls = tuple(repo_urls) if repo_urls is not None else git_remotes(resolved)
        walker = _Walker(resolved, urls)
        walker.clusters.extend(_cluster_secret(cluster) for cluster in clusters)
        return walker.run()


def _cluster_secret(cluster: Mapping[str, Any]) -> dict[str, Any]:
    """A cluster of rail.yaml as the Secret Argo CD keeps it in (what the generator reads)."""
    labels = {**dict(cluster.get("labels") or {}), CLUSTER_SECRET_LABEL: "cluster"}
    metadata: dict[str, Any] = {"name": str(cluster.get("name")), "labels": labels}
    if cluster.get("annotations"):
        metadata["annotations"] = dict(cluster["annotations"])
    string_data = {"name": str(cluster.get("name")), "server": str(cluster.get("server"))}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "stringData": string_data}


def is_application(data: Any) -> bool:
    return _is_argo(data, "Application")


def is_application_set(data: Any) -> bool:
    return _is_argo(data, "ApplicationSet")


def _is_argo(data: Any, kind: str) -> bool:
    if not isinstance(data, Mapping) or data.get("kind") != kind:
        return False
    api_version = data.get("apiVersion")
    return isinstance(api_version, str) and api_version.startswith(ARGO_GROUP + "/")


def git_remotes(root: Path) -> tuple[str, ...]:
    """The remote URLs in the ``.git/config`` of ``root`` or the nearest folder above
    it (read as text: no git process); a worktree's ``.git`` file is followed."""
    config = _git_config(root)
    if config is None:
        return ()
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    urls = []
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key.strip() == "url" and value.strip():
            urls.append(value.strip())
    return tuple(urls)


def _git_config(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        marker = folder / ".git"
        if marker.is_dir():
            return marker / "config"
        if marker.is_file():
            text = marker.read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = (folder / text.removeprefix("gitdir:").strip()).resolve()
            # A worktree's folder is <repository>/.git/worktrees/<name>: the config is the repository's.
            common = gitdir.parent.parent if gitdir.parent.name == "worktrees" else gitdir
            return common / "config"
    return None


@dataclass
class _Pending:
    obj: AppliedObject  # the Application or ApplicationSet as it will be applied
    parent: AppId | None
    tree: str
    generated_by: AppId | None = None


@dataclass
class _Built:
    objects: list[AppliedObject] = field(default_factory=list)
    files: set[str] = field(default_factory=set)


class _Walker:
    def __init__(self, root: Path, repo_urls: tuple[str, ...]) -> None:
        self.root = root
        self.repo_urls = repo_urls
        self.known_urls = {appset.normal_repo_url(url) for url in repo_urls}
        self.notes: list[BuildNote] = []
        self.clusters: list[Mapping[str, Any]] = []
        self.repo = appset.RepoView(root)
        self._assumed_noted = False
        self._built: dict[tuple[str, int, AppId], _Built] = {}
        self.chart_folders: set[str] = set()

    def note(self, file: str, feature: str, message: str, line: int | None = None) -> None:
        self.notes.append(BuildNote(file=file, feature=feature, message=message, line=line))

    # ---------------------------------------------------------------- the walk

    def run(self) -> ArgoApplied:
        candidates = self._candidates()
        if not candidates:
            return ArgoApplied(notes=tuple(self.notes))
        # A candidate whose file another candidate's sources read is that one's child.
        read_by_others: set[str] = set()
        for pending in candidates:
            if is_application(pending.obj.data):
                read_by_others |= {f for f in self._sources(pending.obj).files if f != pending.obj.source}
        roots = [p for p in candidates if p.obj.source not in read_by_others]
        seen: set[AppId] = set()
        objects: list[AppliedObject] = []
        records: list[ArgoApplication] = []
        for root in roots or candidates:
            self._tree(replace(root, tree=root.obj.source), seen, objects, records)
        files = {record.source for record in records} | {f for record in records for f in record.files}
        return ArgoApplied(
            objects=tuple(objects),
            applications=tuple(records),
            applied_files=frozenset(files),
            notes=tuple(self.notes),
            chart_folders=frozenset(self.chart_folders),
        )

    def _candidates(self) -> list[_Pending]:
        found: list[_Pending] = []
        # A file that does not parse: the Flux walk and the linter report it.
        for _, documents, _ in repository_documents(self.root):
            for document in documents:
                data = document.data
                if is_application(data) or is_application_set(data):
                    found.append(_Pending(_written(document), None, ""))
                elif _is_cluster_secret(data):
                    self.clusters.append(data)
                elif isinstance(data, Mapping) and "kind" not in data:
                    found.extend(_Pending(obj, None, "") for obj in _in_chart_values(document))
        return found

    def _tree(
        self, root: _Pending, seen: set[AppId], objects: list[AppliedObject], records: list[ArgoApplication]
    ) -> None:
        queue = deque([root])
        while queue:
            pending = queue.popleft()
            obj = pending.obj
            me = _id_of(obj.data)
            if me in seen:
                continue
            if len(seen) >= MAX_APPLICATIONS:
                self.note(obj.source, "limit", f"more than {MAX_APPLICATIONS} Applications: the rest is not followed")
                return
            seen.add(me)
            if is_application_set(obj.data):
                objects.append(replace(obj, applied_by=pending.parent, tree=pending.tree))
                for generated in self._expand(obj):
                    queue.append(_Pending(generated, pending.parent, pending.tree, generated_by=me))
                continue
            built = self._sources(obj)
            applied = self._with_values(obj, built)
            objects.append(replace(applied, applied_by=pending.parent, tree=pending.tree))
            records.append(
                ArgoApplication(
                    namespace=me[0],
                    name=me[1],
                    source=obj.source,
                    line=obj.line,
                    files=frozenset(built.files),
                    parent=pending.parent,
                    tree=pending.tree,
                    generated_by=pending.generated_by,
                )
            )
            destination = _destination_namespace(obj.data)
            for child in built.objects:
                if is_application(child.data) or is_application_set(child.data):
                    queue.append(_Pending(child, me, pending.tree))
                else:
                    objects.append(replace(_in_namespace(child, destination), applied_by=me, tree=pending.tree))

    def _expand(self, obj: AppliedObject) -> list[AppliedObject]:
        document = obj.overlays[-1].document if obj.overlays else None
        spec = obj.data.get("spec")
        template_line = obj.line
        if document is not None and isinstance(spec, Mapping):
            template_line = document.locate(("spec", "template"))[0] or obj.line
        expansion = appset.expand(
            obj.data,
            self.repo,
            self.clusters,
            source=obj.source,
            line=template_line,
            document=document if obj.overlays and obj.overlays[-1].fields == (((), ()),) else None,
            this_repo_urls=self.repo_urls or None,
        )
        self.notes.extend(expansion.notes)
        return [generated.as_applied() for generated in expansion.applications]

    # ---------------------------------------------------------------- one Application

    def _sources(self, obj: AppliedObject) -> _Built:
        """What the Application's sources build (once: the root search asks too)."""
        key = (obj.source, obj.line, _id_of(obj.data))
        if key not in self._built:
            self._built[key] = self._build_sources(obj)
        return self._built[key]

    def _build_sources(self, obj: AppliedObject) -> _Built:
        built = _Built()
        for key_path, source in _source_entries(obj.data):
            folder = self._own_folder(obj, key_path, source)
            if folder is None or isinstance(source.get("chart"), str):
                continue
            names = _names(folder)
            if CHART_FILE in names:
                # A chart: a release of it (its values merged in _with_values), templates never read.
                relative = folder.relative_to(self.root).as_posix()
                self.chart_folders.add(relative or ".")
                built.files |= {posixpath.join(relative, n) for n in (CHART_FILE, "values.yaml") if n in names}
                if _templates_applications(folder):
                    self._at(
                        obj,
                        (*key_path, "path"),
                        "chart-app-of-apps",
                        "its chart templates Applications (an app of apps as a Helm chart): rail does not"
                        " render Helm templates, so they are not followed",
                    )
                continue
            if isinstance(source.get("plugin"), Mapping):
                self._at(obj, key_path, "plugin", "a config management plugin renders this source: not built")
            elif _has_kustomization(folder) or isinstance(source.get("kustomize"), Mapping):
                self._kustomize(obj, key_path, source, folder, built)
            else:
                self._directory(obj, key_path, source, folder, built)
        return built

    def _own_folder(
        self, obj: AppliedObject, key_path: KeyPath, source: Mapping[str, Any], *, quiet: bool = False
    ) -> Path | None:
        """The folder of a source of this repository, or None (noted, unless ``quiet``,
        when it should be one)."""
        path = source.get("path")
        if not isinstance(path, str):
            return None
        url = source.get("repoURL")
        if self.known_urls and not (isinstance(url, str) and appset.normal_repo_url(url) in self.known_urls):
            return None  # another repository's
        folder = real(self.root / path.strip("/")) if path.strip("/") not in ("", ".") else self.root
        if not folder.is_relative_to(self.root):
            if not quiet:
                self._at(obj, (*key_path, "path"), "path-traversal", f"path '{path}' leaves the repository: refused")
            return None
        if not folder.is_dir():
            if self.known_urls and not quiet:
                self._at(obj, (*key_path, "path"), "source", f"path '{path}' is not a folder of this repository")
            return None
        if not self.known_urls and not self._assumed_noted:
            self._assumed_noted = True
            self._at(
                obj,
                (*key_path, "repoURL"),
                "repo-url",
                "this repository's URL is unknown (no argo.repoURL in rail.yaml, no git remote): a source whose"
                " path exists here is read from here",
            )
        return folder

    def _kustomize(
        self, obj: AppliedObject, key_path: KeyPath, source: Mapping[str, Any], folder: Path, built: _Built
    ) -> None:
        options = source.get("kustomize")
        if isinstance(options, Mapping) and options:
            keys = ", ".join(sorted(str(key) for key in options))
            self._at(
                obj, (*key_path, "kustomize"), "kustomize-options", f"source kustomize options not applied: {keys}"
            )
        result = kustomize.build(folder, self.root)
        self.notes.extend(result.notes)
        built.objects.extend(result.objects)
        built.files |= set(result.files)

    def _directory(
        self, obj: AppliedObject, key_path: KeyPath, source: Mapping[str, Any], folder: Path, built: _Built
    ) -> None:
        options = source.get("directory")
        directory: Mapping[str, Any] = options if isinstance(options, Mapping) else {}
        if isinstance(directory.get("jsonnet"), Mapping) and directory["jsonnet"]:
            self._at(obj, (*key_path, "directory", "jsonnet"), "jsonnet", "jsonnet is not rendered by rail")
        include, exclude = _globs(directory.get("include")), _globs(directory.get("exclude"))
        for path in _directory_files(folder, recurse=directory.get("recurse") is True):
            relative = path.relative_to(folder).as_posix()
            if include and not any(fnmatch.fnmatchcase(relative, g) for g in include):
                continue
            if any(fnmatch.fnmatchcase(relative, g) for g in exclude):
                continue
            display = path.relative_to(self.root).as_posix()
            if not real(path).is_relative_to(self.root):
                self.note(display, "path-traversal", "a link out of the repository: refused")
                continue
            try:
                documents = load_documents(read_text(path, display), display, strict_tags=False)
            except InputError:
                built.files.add(display)  # read, and broken: the linter reports it where it is applied
                continue
            built.files.add(display)
            built.objects.extend(_written(d) for d in documents if isinstance(d.data, dict) and d.data)

    # ---------------------------------------------------------------- values

    def _with_values(self, obj: AppliedObject, built: _Built) -> AppliedObject:
        """The Application with each Helm source's values as Argo CD gives them to the
        chart, in ``helm.valuesObject``: the value files, then ``values`` (a YAML
        string), then ``valuesObject``, then ``parameters`` (as ``--set``), each key
        located where it was written."""
        refs = {
            source["ref"]: source
            for _, source in _source_entries(obj.data)
            if isinstance(source.get("ref"), str) and isinstance(source.get("repoURL"), str)
        }
        data = obj.data
        overlays: list[Overlay] = []
        for key_path, source in _source_entries(obj.data):
            helm = source.get("helm")
            if not isinstance(helm, Mapping):
                continue
            listed = helm.get("valueFiles")
            files: list[Any] = listed if isinstance(listed, list) else []
            parameters = _parameters(helm.get("parameters"))
            if not files and not parameters:
                continue
            chart_folder = self._own_folder(obj, key_path, source, quiet=True)
            located: list[tuple[Document, Mapping[str, Any]]] = []
            unread: list[Any] = []
            for index, entry in enumerate(files):
                found = self._values_file(obj, (*key_path, "helm", "valueFiles", index), entry, chart_folder, refs)
                if found is None:
                    unread.append(entry)
                    continue
                built.files.add(found[0].path)
                located.append(found)
            if not located and not parameters:
                continue
            merged: dict[str, Any] = {}
            for _, values in located:
                merged = _merge(merged, values)
            inline = helm.get("valuesObject")
            if not isinstance(inline, Mapping):
                inline = _embedded_values(helm.get("values"))
            merged = _merge(merged, inline)
            target = (*key_path, "helm", "valuesObject")
            for index, (path, value) in parameters:
                merged = _merge(merged, _nested(path, value))
                where = _source_path(obj, (*key_path, "helm", "parameters", index, "value"))
                if where is not None:
                    overlay, document_path = where
                    overlays.append(replace(overlay, fields=(((*target, *path), document_path),)))
            # What is merged is known; only the files rail could not read stay listed (unknown values).
            data = _set(data, (*key_path, "helm", "valueFiles"), unread) if files else data
            data = _set(data, target, merged)
            # Newest first: a key is located in the last input that sets it (inline values after the files).
            covered: Mapping[str, Any] = inline
            for document, values in reversed(located):
                fields = tuple(((*target, *path), path) for path in _uncovered(values, covered, ()))
                if fields:
                    overlays.append(Overlay(document, fields))
                covered = _merge(values, covered)
        if data is obj.data:
            return obj
        return replace(obj, data=data, overlays=(*overlays, *obj.overlays))

    def _values_file(
        self,
        obj: AppliedObject,
        key_path: KeyPath,
        entry: Any,
        chart_folder: Path | None,
        refs: Mapping[str, Mapping[str, Any]],
    ) -> tuple[Document, Mapping[str, Any]] | None:
        if not isinstance(entry, str) or not entry:
            return None
        if entry.startswith("$"):
            ref, _, rest = entry[1:].partition("/")
            source = refs.get(ref)
            url = source.get("repoURL") if source is not None else None
            if source is None or (self.known_urls and appset.normal_repo_url(str(url)) not in self.known_urls):
                return None  # another repository's values: unknown
            path = real(self.root / rest)
        elif chart_folder is not None:
            path = real(chart_folder / entry)
        else:
            return None  # relative to a chart rail does not fetch
        if not path.is_relative_to(self.root):
            self._at(obj, key_path, "path-traversal", f"value file '{entry}' leaves the repository: refused")
            return None
        display = path.relative_to(self.root).as_posix()
        try:
            documents = load_documents(read_text(path, display), display, strict_tags=False)
        except InputError:
            self._at(obj, key_path, "value-files", f"value file '{entry}' is missing or does not parse: not merged")
            return None
        first = documents[0] if documents else None
        if first is None or not isinstance(first.data, Mapping):
            return None
        return first, first.data

    def _at(self, obj: AppliedObject, key_path: KeyPath, feature: str, message: str) -> None:
        location = obj.locate(key_path)
        self.note(location.path, feature, f"Application {obj.name}: {message}", location.line)


# --------------------------------------------------------------------------- chart values

# The argocd-apps chart's values (also under an umbrella's ``argocd-apps:`` key): each
# entry of ``applications``/``applicationsets`` (a map by name, or a list with ``name``)
# is one object; these of its keys are metadata, the rest is the spec.
_VALUES_KINDS = {"applications": "Application", "applicationsets": "ApplicationSet"}
_METADATA_KEYS = {"name", "namespace", "additionalLabels", "additionalAnnotations", "finalizers"}
_VALUES_HOLDERS = ((), ("argocd-apps",), ("argo-cd",))  # top level, or an umbrella's subchart key


def _in_chart_values(document: Document) -> list[AppliedObject]:
    """Applications and ApplicationSets a values file makes the Argo CD charts apply:
    argocd-apps' ``applications``/``applicationsets``, and argo-cd's ``extraObjects``."""
    found: list[AppliedObject] = []
    for holder in _VALUES_HOLDERS:
        values = _at(document.data, holder)
        if not isinstance(values, Mapping):
            continue
        for key, kind in _VALUES_KINDS.items():
            for base, name, entry in _entries(values.get(key), (*holder, key)):
                found.append(_from_values(document, base, name, entry, kind))
        extra = values.get("extraObjects")
        if isinstance(extra, list):
            for index, item in enumerate(extra):
                if is_application(item) or is_application_set(item):
                    base = (*holder, "extraObjects", index)
                    line = document.locate(base)[0] or 1
                    found.append(
                        AppliedObject(copy_data(item), document.path, line, (Overlay(document, (((), base),)),))
                    )
    return found


def _entries(value: Any, base: KeyPath) -> Iterator[tuple[KeyPath, str, Mapping[str, Any]]]:
    if isinstance(value, Mapping):
        for name, entry in value.items():
            if isinstance(entry, Mapping) and isinstance(name, str):
                yield (*base, name), str(entry.get("name") or name), entry
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
                yield (*base, index), entry["name"], entry


def _from_values(document: Document, base: KeyPath, name: str, entry: Mapping[str, Any], kind: str) -> AppliedObject:
    metadata: dict[str, Any] = {"name": name, "namespace": entry.get("namespace") or DEFAULT_NAMESPACE}
    for key, target in (("additionalLabels", "labels"), ("additionalAnnotations", "annotations")):
        if isinstance(entry.get(key), Mapping):
            metadata[target] = copy_data(entry[key])
    spec = {key: copy_data(value) for key, value in entry.items() if key not in _METADATA_KEYS}
    data = {"apiVersion": f"{ARGO_GROUP}/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}
    fields = (((), base), (("spec",), base), (("metadata", "name"), base))
    line = document.locate(base)[0] or 1
    return AppliedObject(data, document.path, line, (Overlay(document, fields),))


def _at(data: Any, key_path: KeyPath) -> Any:
    for key in key_path:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data


# --------------------------------------------------------------------------- helpers


def _written(document: Document) -> AppliedObject:
    line = document.first_line or 1
    return AppliedObject(
        data=copy_data(document.data), source=document.path, line=line, overlays=(Overlay(document, (((), ()),)),)
    )


def _id_of(data: Mapping[str, Any]) -> AppId:
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return (
        namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE,
        name if isinstance(name, str) else "",
    )


def _source_entries(data: Mapping[str, Any]) -> Iterator[tuple[KeyPath, Mapping[str, Any]]]:
    spec = data.get("spec")
    if not isinstance(spec, Mapping):
        return
    if isinstance(spec.get("source"), Mapping):
        yield ("spec", "source"), spec["source"]
    sources = spec.get("sources")
    if isinstance(sources, list):
        for index, source in enumerate(sources):
            if isinstance(source, Mapping):
                yield ("spec", "sources", index), source


def _destination_namespace(data: Mapping[str, Any]) -> str | None:
    spec = data.get("spec")
    destination = spec.get("destination") if isinstance(spec, Mapping) else None
    namespace = destination.get("namespace") if isinstance(destination, Mapping) else None
    return namespace if isinstance(namespace, str) and namespace else None


def _in_namespace(obj: AppliedObject, namespace: str | None) -> AppliedObject:
    metadata = obj.data.get("metadata")
    if namespace is None or not isinstance(metadata, Mapping) or metadata.get("namespace"):
        return obj
    if is_cluster_scoped(gvk_of(obj.data)):
        return obj
    data = {**obj.data, "metadata": {**metadata, "namespace": namespace}}
    return replace(obj, data=data)


def _is_cluster_secret(data: Any) -> bool:
    if not isinstance(data, Mapping) or data.get("kind") != "Secret":
        return False
    metadata = data.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return isinstance(labels, Mapping) and labels.get(CLUSTER_SECRET_LABEL) == "cluster"


_TEMPLATED_APPLICATION = re.compile(r"^kind:\s*(Application|ApplicationSet)\s*$", re.MULTILINE)


def _templates_applications(chart: Path) -> bool:
    """Whether a chart folder's templates write Applications (read as text, bounded)."""
    templates = chart / "templates"
    if not templates.is_dir():
        return False
    for path in sorted(templates.glob("*.y*ml"))[:200]:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if path.stat().st_size < 1_000_000 and _TEMPLATED_APPLICATION.search(path.read_text(encoding="utf-8")):
                return True
    return False


def _names(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def _has_kustomization(folder: Path) -> bool:
    return bool(_names(folder) & set(kustomize.KUSTOMIZATION_FILES))


def _globs(value: Any) -> list[str]:
    """Argo CD's include/exclude: one glob, or several in ``{a,b}``."""
    if not isinstance(value, str) or not value:
        return []
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        return [part.strip() for part in text[1:-1].split(",") if part.strip()]
    return [text]


def _directory_files(folder: Path, *, recurse: bool) -> Iterable[Path]:
    for current, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith(".")) if recurse else []
        for name in sorted(names):
            path = Path(current) / name
            if path.suffix in DIRECTORY_SUFFIXES and path.is_file():
                yield path


def _parameters(value: Any) -> list[tuple[int, tuple[KeyPath, Any]]]:
    """Argo CD's ``helm.parameters`` as Helm's ``--set`` reads them: ``a.b`` is a nested
    key; ``true``/``false``, integers and ``null`` are typed unless ``forceString``.
    An entry Helm would read otherwise (``a[0]``, an escaped ``\\.``) is left out."""
    found: list[tuple[int, tuple[KeyPath, Any]]] = []
    if not isinstance(value, list):
        return found
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        name, raw = entry["name"], entry.get("value")
        if not name or any(mark in name for mark in "[]\\") or not isinstance(raw, str | int | float | bool):
            continue
        typed: Any = str(raw) if entry.get("forceString") is True else _set_value(str(raw))
        found.append((index, (tuple(name.split(".")), typed)))
    return found


def _set_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if text.lstrip("-").isdigit() and len(text) < 19:
        return int(text)
    return text


def _nested(path: KeyPath, value: Any) -> dict[str, Any]:
    nested: Any = value
    for key in reversed(path):
        nested = {key: nested}
    return dict(nested)


def _embedded_values(value: Any) -> Mapping[str, Any]:
    """``helm.values``, a YAML string: its mapping, or nothing (the graph says it is unknown)."""
    if not isinstance(value, str) or not value.strip():
        return {}
    try:
        documents = load_documents(value, "(helm.values)", strict_tags=False)
    except InputError:
        return {}
    data = documents[0].data if documents else None
    return data if isinstance(data, Mapping) else {}


def _source_path(obj: AppliedObject, key_path: KeyPath) -> tuple[Overlay, KeyPath] | None:
    """The overlay that wrote ``key_path`` of ``obj`` and the key path in its document."""
    for overlay in obj.overlays:
        found = overlay.source_path(key_path)
        if found is not None:
            return overlay, found
    return None


def _uncovered(values: Mapping[str, Any], covered: Mapping[str, Any], path: KeyPath) -> Iterator[KeyPath]:
    """The key paths of ``values`` that ``covered`` does not set: where a file's value
    survives the inputs merged after it (maps meet key by key)."""
    for key, value in values.items():
        if key not in covered:
            yield (*path, key)
        elif isinstance(value, Mapping) and isinstance(covered[key], Mapping):
            yield from _uncovered(value, covered[key], (*path, key))


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of two value maps: maps merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy_data(value)
    return merged


def _set(data: Any, key_path: KeyPath, value: Any) -> Any:
    """A copy of ``data`` with ``value`` at ``key_path``; the maps and lists on the way
    are copied, the rest shared (the caller's data is never changed)."""
    if not key_path:
        return value
    head, rest = key_path[0], key_path[1:]
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data):
        items = list(data)
        items[head] = _set(items[head], rest, value)
        return items
    copied = dict(data) if isinstance(data, Mapping) else {}
    copied[head] = _set(copied.get(head), rest, value)
    return copied


__all__ = ["ArgoApplication", "ArgoApplied", "apply_argo", "git_remotes", "is_application", "is_application_set"]
