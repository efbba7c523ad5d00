"""The Applications an Argo CD ApplicationSet generates, as its controller would.

:func:`expand` takes one ApplicationSet (``argoproj.io/v1alpha1``) as plain data, a
read-only view of this repository (:class:`RepoView`) and the cluster Secrets rail
knows, and returns the generated Applications, each with where its fields were
written, and notes for what it could not do. Pure: no I/O but through the view.

Generators (argo-cd ``applicationset/generators``):

- ``list``: ``elements`` (and ``elementsYaml``). Without ``goTemplate`` every value
  must be a string (``values`` a map of strings: ``values.<k>``), or Argo CD fails;
  ``elementsYaml`` elements are taken as they are.
- ``clusters``: one parameter set per cluster Secret (label
  ``argocd.argoproj.io/secret-type: cluster``) that ``selector`` matches: ``name``,
  ``nameNormalized``, ``server``, ``project``, ``metadata.labels.<k>``,
  ``metadata.annotations.<k>`` (nested ``metadata.labels``... with ``goTemplate``) and
  ``values.<k>`` (templated with the others). The local cluster (``in-cluster``,
  ``https://kubernetes.default.svc``) comes first, only when the selector is empty and
  no Secret already has that server; its ``nameNormalized`` is its name as it is.
- ``git``, only when ``repoURL`` is this repository: ``directories`` (Go's
  ``path.Match`` on every folder of the repository but those starting with ``.``,
  and not symlinks; an ``exclude: true`` match always wins) giving ``path``,
  ``path.basename``, ``path.basenameNormalized``, ``path[N]`` (``.path.path``,
  ``.path.segments``... with ``goTemplate``); ``files`` (git ls-files pathspecs: ``*``
  crosses ``/``; ``exclude: true`` removes) giving the file's YAML/JSON content,
  flattened with dots without ``goTemplate``, as it is with it, plus ``path``,
  ``path.filename``... for each object of the file (a list gives several). Numbers
  are float64, as Argo CD decodes them (``1e+06``).
- ``matrix`` (two children; the second is templated with each parameter set of the
  first, so it may use them) and ``merge`` (``mergeKeys``; the first child's sets,
  overridden by later children's sets with the same keys). One nested matrix/merge
  level, as Argo CD allows.
- ``selector`` on any generator: a post-filter on the flattened parameters.

Unsupported generators (``scmProvider``, ``pullRequest``, ``plugin``,
``clusterDecisionResource``, anything unknown) give a note and no Applications.

Templates: each generator's own ``template`` merged over ``spec.template`` (its set
fields win), then every string rendered with the parameters: fasttemplate
``{{name}}`` by default (spaces trimmed, an unknown name left as it is, only when
some line holds ``{{...}}``), or Go templates with ``goTemplate: true``
(:mod:`renderer.apply.gotemplate`, ``goTemplateOptions: ["missingkey=error"]``).
A render Argo CD would fail, or a construct rail does not read, skips that one
Application with a note (Argo CD reports the error on the ApplicationSet).
Parameter values are data: substituted once, never rendered again.
``templatePatch`` is not applied (a note). Every Application is put in the
ApplicationSet's namespace, as the controller does (none when it has none).

Hostile input: at most :data:`MAX_APPLICATIONS` parameter sets (more: a note, and
nothing from that generator), bounded repository walks and file sizes, and git
path patterns that would leave the repository (``..``, absolute) or files that link
out of it are refused with a note.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import os
import re
import stat
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import InputError
from ..memo import cached_property
from ..yamlio import Document, KeyPath, format_key_path, load_documents
from . import gotemplate
from .model import AppliedObject, BuildNote, Location, Overlay
from .selector import Requirement

MAX_APPLICATIONS = 10_000
MAX_FILE_BYTES = 1_000_000
MAX_WALK_ENTRIES = 200_000
MAX_NESTED = 2  # a matrix/merge inside a matrix/merge, no deeper (Argo CD's own limit)

IN_CLUSTER_NAME = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
CLUSTER_SECRET_LABEL = "argocd.argoproj.io/secret-type"

UNSUPPORTED_GENERATORS = ("scmProvider", "pullRequest", "plugin", "clusterDecisionResource")
_GENERATORS = ("list", "clusters", "git", "matrix", "merge", *UNSUPPORTED_GENERATORS)
_NOT_GENERATORS = ("selector", "values", "template")

Params = dict[str, Any]


# --------------------------------------------------------------------------- the repository


@dataclass(frozen=True)
class RepoView:
    """This repository, read-only: its folders and files, relative to ``root``, in the
    posix form Argo CD's repo-server uses. Walks are bounded; symlinks are never
    followed while walking."""

    root: Path

    @cached_property
    def _tree(self) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        folders: list[str] = []
        files: list[str] = []
        root = self.root.resolve()
        entries = 0
        truncated = False
        for current, dirnames, filenames in os.walk(root, followlinks=False):
            here = Path(current)
            relative = here.relative_to(root).as_posix()
            prefix = "" if relative == "." else relative + "/"
            kept = []
            for name in sorted(dirnames):
                if name == ".git" or (here / name).is_symlink():
                    if name != ".git":
                        files.append(prefix + name)  # a link: listed as git lists it, checked when read
                    continue
                kept.append(name)
            dirnames[:] = kept
            # The repo-server's directory walk skips every folder starting with '.'
            # (files below them are still in git ls-files).
            if relative != "." and not any(part.startswith(".") for part in relative.split("/")):
                folders.append(relative)
            files.extend(prefix + name for name in sorted(filenames))
            entries += len(dirnames) + len(filenames)
            if entries > MAX_WALK_ENTRIES:
                truncated = True
                break
        return tuple(sorted(folders)), tuple(sorted(files)), truncated

    def directories(self) -> tuple[str, ...]:
        return self._tree[0]

    def files(self) -> tuple[str, ...]:
        return self._tree[1]

    @property
    def truncated(self) -> bool:
        """True when the walk stopped at :data:`MAX_WALK_ENTRIES`."""
        return self._tree[2]

    def read_text(self, relative: str) -> str:
        """The text of a repository file; raises :class:`PermissionError` for a file
        that resolves outside the repository, ``OSError``/``ValueError`` otherwise."""
        root = self.root.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise PermissionError(f"'{relative}' links out of the repository")
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"'{relative}' is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ValueError(f"'{relative}' is larger than {MAX_FILE_BYTES} bytes")
        return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class GeneratedApplication:
    """One Application the ApplicationSet generates.

    ``data`` is the Application as plain data; ``source`` the ApplicationSet's file and
    ``line`` the line of its ``spec.template``; ``overlays`` map the Application's key
    paths to where they were written (a generator's own ``template`` first, then
    ``spec.template``), so :meth:`locate` answers per field when the ApplicationSet's
    :class:`~renderer.yamlio.Document` was given. ``generator`` is the key path of the
    top-level generator that produced it; ``params`` the parameters it was rendered with.
    """

    data: dict[str, Any]
    source: str
    line: int
    generator: KeyPath
    params: Mapping[str, Any] = field(repr=False, compare=False)
    overlays: tuple[Overlay, ...] = field(default=(), repr=False)

    def as_applied(self) -> AppliedObject:
        return AppliedObject(data=self.data, source=self.source, line=self.line, overlays=self.overlays)

    def locate(self, key_path: Sequence[str | int]) -> Location:
        return self.as_applied().locate(key_path)

    @property
    def name(self) -> str:
        return self.as_applied().name


@dataclass(frozen=True)
class Expansion:
    applications: tuple[GeneratedApplication, ...] = ()
    notes: tuple[BuildNote, ...] = ()


# --------------------------------------------------------------------------- entry point


def expand(
    appset: Mapping[str, Any],
    repo: RepoView,
    clusters: Sequence[Mapping[str, Any]],
    *,
    source: str,
    line: int,
    document: Document | None = None,
    this_repo_urls: Collection[str] | None = None,
) -> Expansion:
    """The Applications ``appset`` generates, and notes.

    ``source``/``line``: the ApplicationSet's repository-relative file and the line of
    its ``spec.template``. ``document``: the ApplicationSet's parsed document, for a
    line per field. ``this_repo_urls``: the URLs this repository is known by; git
    generators of other repositories are not expanded; None accepts any, with a note.
    """
    run = _Run(source=source, line=line, document=document, repo=repo, clusters=clusters, this_repos=this_repo_urls)
    with contextlib.suppress(_Stop):
        run.expand(appset)
    return Expansion(tuple(run.applications), tuple(run.notes))


class _Stop(Exception):
    """Stop expanding (a limit was hit and noted)."""


class _Failed(Exception):
    """One generator cannot be expanded; the message is noted."""

    def __init__(self, feature: str, message: str, where: KeyPath) -> None:
        super().__init__(message)
        self.feature = feature
        self.message = message
        self.where = where


@dataclass
class _Run:
    source: str
    line: int
    document: Document | None
    repo: RepoView
    clusters: Sequence[Mapping[str, Any]]
    this_repos: Collection[str] | None
    go: bool = False
    missing_key_error: bool = False
    applications: list[GeneratedApplication] = field(default_factory=list)
    notes: list[BuildNote] = field(default_factory=list)
    _parsed: dict[str, gotemplate.Template | gotemplate.TemplateError] = field(default_factory=dict)
    _noted: set[tuple[str, str]] = field(default_factory=set)

    # ------------------------------------------------------------------ notes

    def note(self, feature: str, message: str, where: KeyPath = ()) -> None:
        key = (feature, message)
        if key in self._noted:
            return
        self._noted.add(key)
        line = self.line
        if self.document is not None and where:
            found = self.document.locate(where)[0]
            line = found if found is not None else line
        self.notes.append(BuildNote(file=self.source, feature=feature, message=message, line=line))

    # ------------------------------------------------------------------ the ApplicationSet

    def expand(self, appset: Mapping[str, Any]) -> None:
        spec = appset.get("spec")
        if not isinstance(spec, Mapping):
            self.note("appset", "the ApplicationSet has no spec: nothing generated")
            return
        self.go = spec.get("goTemplate") is True
        self._options(spec.get("goTemplateOptions"))
        template = spec.get("template")
        if not isinstance(template, Mapping):
            self.note("appset", "spec.template is missing or not a mapping: nothing generated", ("spec",))
            return
        if spec.get("templatePatch"):
            self.note(
                "templatePatch",
                "spec.templatePatch is not applied by rail: the Applications are shown without it",
                ("spec", "templatePatch"),
            )
        metadata = appset.get("metadata")
        namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
        generators = spec.get("generators")
        if not isinstance(generators, list) or not generators:
            self.note("appset", "spec.generators is empty: nothing generated", ("spec",))
            return
        names: dict[str, KeyPath] = {}
        for index, generator in enumerate(generators):
            where: KeyPath = ("spec", "generators", index)
            if not isinstance(generator, Mapping):
                self.note("appset", f"{format_key_path(where)} is not a mapping: ignored", where)
                continue
            for kind in self._kinds(generator, where):
                try:
                    params = self.generate_one(generator, kind, where, depth=0, outer=None)
                except _Failed as failed:
                    self.note(failed.feature, failed.message, failed.where)
                    continue
                own = generator[kind].get("template") if isinstance(generator[kind], Mapping) else None
                own_template = own if isinstance(own, Mapping) and own else None
                merged = _merge_template(own_template, template) if own_template else copy.deepcopy(dict(template))
                overlays = self._overlays(own_template, (*where, kind, "template"))
                for param_set in params:
                    app = self.render_application(merged, param_set, where, overlays, namespace)
                    if app is None:
                        continue
                    if app.name in names:
                        self.note(
                            "appset-duplicate",
                            f"two generated Applications are named '{app.name}': Argo CD refuses the"
                            " ApplicationSet; only the first is kept",
                            where,
                        )
                        continue
                    names[app.name] = where
                    self.applications.append(app)
                    self._check_count(len(self.applications), ("spec", "generators"))

    def _options(self, options: Any) -> None:
        if not self.go or options is None:
            return
        if not isinstance(options, list):
            self.note(
                "goTemplateOptions", "spec.goTemplateOptions is not a list: ignored", ("spec", "goTemplateOptions")
            )
            return
        for option in options:
            if option == "missingkey=error":
                self.missing_key_error = True
            elif option in ("missingkey=default", "missingkey=invalid", "missingkey=zero", "missingkey="):
                self.missing_key_error = False
            else:
                self.note(
                    "goTemplateOptions",
                    f"goTemplateOptions entry {str(option)[:60]!r} is not understood: ignored",
                    ("spec", "goTemplateOptions"),
                )

    def _kinds(self, generator: Mapping[str, Any], where: KeyPath) -> list[str]:
        kinds = []
        for key in generator:
            if key in _NOT_GENERATORS:
                continue
            if key in UNSUPPORTED_GENERATORS:
                self.note(
                    "appset-generator",
                    f"the {key} generator reads from outside the repository: not expanded, its Applications"
                    " are not shown",
                    (*where, key),
                )
            elif key in _GENERATORS:
                if generator[key] is not None:
                    kinds.append(key)
            else:
                self.note(
                    "appset-generator",
                    f"unknown generator '{str(key)[:60]}': not expanded",
                    (*where, key),
                )
        return kinds

    # ------------------------------------------------------------------ generators

    def generate_one(
        self, generator: Mapping[str, Any], kind: str, where: KeyPath, depth: int, outer: Params | None
    ) -> list[Params]:
        """The parameter sets of ``generator``'s ``kind``, post-filtered by its selector."""
        spec = generator[kind]
        if outer:
            # Argo CD interpolates a matrix's second child with each set of the first.
            spec = self.interpolate(spec, outer, (*where, kind))
        if not isinstance(spec, Mapping):
            raise _Failed("appset", f"{format_key_path((*where, kind))} is not a mapping", (*where, kind))
        path: KeyPath = (*where, kind)
        if kind == "list":
            params = self.list_params(spec, path)
        elif kind == "clusters":
            params = self.cluster_params(spec, path)
        elif kind == "git":
            params = self.git_params(spec, path)
        else:
            params = self.combine(kind, spec, path, depth)
        selector = generator.get("selector")
        if selector is not None:
            requirements = _requirements(selector, (*where, "selector"))
            params = [p for p in params if all(r.matches(_flatten_params(p)) for r in requirements)]
        return params

    def interpolate(self, spec: Any, params: Params, where: KeyPath) -> Any:
        try:
            return _map_strings(spec, lambda text: self.render_string(text, params))
        except gotemplate.TemplateError as exc:
            raise _Failed(
                "appset-template",
                f"{format_key_path(where)}: cannot be templated with the first matrix generator's parameters"
                f" ({_short(exc)}): not expanded",
                where,
            ) from None

    def list_params(self, spec: Mapping[str, Any], where: KeyPath) -> list[Params]:
        elements = spec.get("elements") or []
        if not isinstance(elements, list):
            raise _Failed("appset", f"{format_key_path(where)}.elements is not a list", where)
        result: list[Params] = []
        for index, element in enumerate(elements):
            if not isinstance(element, Mapping):
                raise _Failed("appset", f"{format_key_path((*where, 'elements', index))} is not a mapping", where)
            if self.go:
                result.append(_go_numbers(dict(element)))
                continue
            params: Params = {}
            for key, value in element.items():
                if key == "values" and isinstance(value, Mapping):
                    for name, item in value.items():
                        if not isinstance(item, str):
                            raise self._not_string(where, index, f"values.{name}")
                        params[f"values.{name}"] = item
                elif isinstance(value, str):
                    params[key] = value
                else:
                    raise self._not_string(where, index, str(key))
            result.append(params)
        raw = spec.get("elementsYaml")
        if raw:
            if not isinstance(raw, str):
                raise _Failed("appset", f"{format_key_path(where)}.elementsYaml is not a string", where)
            try:
                documents = load_documents(raw, f"{self.source} ({format_key_path(where)}.elementsYaml)")
            except InputError as exc:
                raise _Failed("appset", f"elementsYaml is not valid YAML: {_problem(exc)}", where) from None
            data = documents[0].data if documents else None
            if data is not None and (not isinstance(data, list) or not all(isinstance(e, Mapping) for e in data)):
                raise _Failed("appset", "elementsYaml is not a list of mappings", where)
            result.extend(_go_numbers(dict(e)) for e in data or [])
        self._check_count(len(result), where)
        return result

    def _not_string(self, where: KeyPath, index: int, key: str) -> _Failed:
        return _Failed(
            "appset",
            f"{format_key_path((*where, 'elements', index))}: '{key}' is not a string; without goTemplate"
            " Argo CD refuses it (error parsing value as string): not expanded",
            (*where, "elements", index),
        )

    def cluster_params(self, spec: Mapping[str, Any], where: KeyPath) -> list[Params]:
        selector = spec.get("selector") or {}
        requirements = _requirements(selector, (*where, "selector"))
        if spec.get("flatList"):
            raise _Failed("appset-generator", "clusters.flatList is not supported by rail: not expanded", where)
        values = spec.get("values") or {}
        if not isinstance(values, Mapping):
            raise _Failed("appset", f"{format_key_path(where)}.values is not a mapping", where)
        secrets = [_ClusterSecret.read(s) for s in self.clusters if _is_cluster_secret(s)]
        result: list[Params] = []
        has_local_secret = any(s.server == IN_CLUSTER_SERVER for s in secrets)
        if not requirements and not has_local_secret:
            local: Params = {"name": IN_CLUSTER_NAME, "nameNormalized": IN_CLUSTER_NAME, "server": IN_CLUSTER_SERVER}
            result.append(self.with_values(local, values, where))
        for secret in secrets:
            if not all(r.matches(secret.labels) for r in requirements):
                continue
            params: Params = {
                "name": secret.name,
                "nameNormalized": gotemplate.sanitize_name(secret.name),
                "server": secret.server,
                "project": secret.project,
            }
            if self.go:
                metadata: Params = {}
                if secret.annotations:
                    metadata["annotations"] = dict(secret.annotations)
                if secret.labels:
                    metadata["labels"] = dict(secret.labels)
                params["metadata"] = metadata
            else:
                for key, value in secret.annotations.items():
                    params[f"metadata.annotations.{key}"] = value
                for key, value in secret.labels.items():
                    params[f"metadata.labels.{key}"] = value
            result.append(self.with_values(params, values, where))
        return result

    def with_values(self, params: Params, values: Mapping[str, Any], where: KeyPath) -> Params:
        """``values``, templated with the generator's own parameters (never with each other)."""
        if not values:
            return params
        rendered: dict[str, str] = {}
        for key, value in values.items():
            try:
                rendered[str(key)] = self.render_string(value if isinstance(value, str) else "", params)
            except gotemplate.TemplateError as exc:
                raise _Failed(
                    "appset-template", f"{format_key_path((*where, 'values', key))}: {_short(exc)}", where
                ) from None
        if self.go:
            params["values"] = rendered
        else:
            params.update({f"values.{key}": value for key, value in rendered.items()})
        return params

    def git_params(self, spec: Mapping[str, Any], where: KeyPath) -> list[Params]:
        url = spec.get("repoURL")
        url = url if isinstance(url, str) else ""
        if self.this_repos is None:
            self.note(
                "appset-git",
                f"git generator repoURL '{url[:200]}' is taken to be this repository (the repository's URL is"
                " unknown to rail)",
                (*where, "repoURL"),
            )
        elif normal_repo_url(url) not in {normal_repo_url(u) for u in self.this_repos}:
            self.note(
                "appset-git",
                f"git generator reads another repository ('{url[:200]}'): not expanded, its Applications are not shown",
                (*where, "repoURL"),
            )
            return []
        if self.repo.truncated:
            self.note("appset-git", f"the repository has more than {MAX_WALK_ENTRIES} entries: only part was read")
        prefix = spec.get("pathParamPrefix") or ""
        prefix = prefix if isinstance(prefix, str) else ""
        values = spec.get("values") or {}
        if not isinstance(values, Mapping):
            raise _Failed("appset", f"{format_key_path(where)}.values is not a mapping", where)
        directories = spec.get("directories")
        files = spec.get("files")
        if directories:
            found = self.git_directories(directories, (*where, "directories"))
            return [self.with_values(self.directory_params(d, prefix), values, where) for d in found]
        if files:
            result: list[Params] = []
            for path in self.git_files(files, (*where, "files")):
                for params in self.file_params(path, prefix, where):
                    result.append(self.with_values(params, values, where))
                    self._check_count(len(result), where)
            return result
        raise _Failed("appset", f"{format_key_path(where)} has neither directories nor files", where)

    def _patterns(self, entries: Any, where: KeyPath) -> tuple[list[str], list[str]]:
        include: list[str] = []
        exclude: list[str] = []
        if not isinstance(entries, list):
            raise _Failed("appset", f"{format_key_path(where)} is not a list", where)
        for index, entry in enumerate(entries):
            path = entry.get("path") if isinstance(entry, Mapping) else None
            if not isinstance(path, str) or not path:
                self.note("appset", f"{format_key_path((*where, index))} has no path: ignored", (*where, index))
                continue
            if _leaves_repository(path):
                self.note(
                    "path-traversal",
                    f"git path '{path[:200]}' leaves the repository: refused",
                    (*where, index, "path"),
                )
                continue
            (exclude if entry.get("exclude") is True else include).append(path)
        return include, exclude

    def git_directories(self, entries: Any, where: KeyPath) -> list[str]:
        include, exclude = self._patterns(entries, where)
        result = []
        for folder in self.repo.directories():
            if any(_go_path_match(p, folder) for p in include) and not any(_go_path_match(p, folder) for p in exclude):
                result.append(folder)
        self._check_count(len(result), where)
        return result

    def git_files(self, entries: Any, where: KeyPath) -> list[str]:
        include, exclude = self._patterns(entries, where)
        found = {f for p in include for f in self.repo.files() if _pathspec_match(p, f)}
        found -= {f for p in exclude for f in self.repo.files() if _pathspec_match(p, f)}
        self._check_count(len(found), where)
        return sorted(found)

    def directory_params(self, folder: str, prefix: str) -> Params:
        base = PurePosixPath(folder).name
        if self.go:
            fields = {
                "path": folder,
                "basename": base,
                "basenameNormalized": gotemplate.sanitize_name(base),
                "segments": folder.split("/"),
            }
            return {prefix: {"path": fields}} if prefix else {"path": fields}
        name = f"{prefix}.path" if prefix else "path"
        params: Params = {
            name: folder,
            f"{name}.basename": base,
            f"{name}.basenameNormalized": gotemplate.sanitize_name(base),
        }
        params.update({f"{name}[{i}]": s for i, s in enumerate(folder.split("/")) if s})
        return params

    def file_params(self, path: str, prefix: str, where: KeyPath) -> list[Params]:
        try:
            text = self.repo.read_text(path)
        except PermissionError:
            self.note("path-traversal", f"git file '{path}' links out of the repository: refused", where)
            return []
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise _Failed(
                "appset-git", f"git file '{path}' cannot be read ({_short(exc)}): not expanded", where
            ) from None
        try:
            documents = load_documents(text, path, strict_tags=False)
        except InputError as exc:
            raise _Failed(
                "appset-git", f"git file '{path}' is not valid YAML/JSON ({_problem(exc)}): not expanded", where
            ) from None
        data = documents[0].data if documents else None
        objects: list[Mapping[str, Any]]
        if data is None:
            objects = [{}]
        elif isinstance(data, Mapping):
            objects = [data]
        elif isinstance(data, list) and all(isinstance(item, Mapping) for item in data):
            objects = data
        else:
            raise _Failed("appset-git", f"git file '{path}' holds neither a mapping nor a list of them", where)
        folder = str(PurePosixPath(path).parent)
        filename = PurePosixPath(path).name
        base = PurePosixPath(folder).name if folder != "." else "."
        result = []
        for obj in objects:
            content = _go_numbers(dict(obj))
            if self.go:
                fields = {
                    "path": folder,
                    "basename": base,
                    "filename": filename,
                    "basenameNormalized": gotemplate.sanitize_name(base),
                    "filenameNormalized": gotemplate.sanitize_name(filename),
                    "segments": folder.split("/"),
                }
                params: Params = dict(content)
                params[prefix or "path"] = {"path": fields} if prefix else fields
            else:
                params = {key: gotemplate.go_string(value) for key, value in _flatten(content).items()}
                name = f"{prefix}.path" if prefix else "path"
                params[name] = folder
                params[f"{name}.basename"] = base
                params[f"{name}.filename"] = filename
                params[f"{name}.basenameNormalized"] = gotemplate.sanitize_name(base)
                params[f"{name}.filenameNormalized"] = gotemplate.sanitize_name(filename)
                params.update({f"{name}[{i}]": s for i, s in enumerate(folder.split("/")) if s})
            result.append(params)
        return result

    def combine(self, kind: str, spec: Mapping[str, Any], where: KeyPath, depth: int) -> list[Params]:
        if depth >= MAX_NESTED:
            raise _Failed(
                "appset-generator",
                f"{format_key_path(where)}: a {kind} generator nested this deep is refused by Argo CD: not expanded",
                where,
            )
        children = spec.get("generators")
        if not isinstance(children, list):
            raise _Failed("appset", f"{format_key_path(where)}.generators is not a list", where)
        if kind == "matrix" and len(children) != 2:
            raise _Failed(
                "appset", f"{format_key_path(where)}: a matrix needs exactly two generators, Argo CD fails", where
            )
        if kind == "merge" and len(children) < 2:
            raise _Failed(
                "appset", f"{format_key_path(where)}: a merge needs two or more generators, Argo CD fails", where
            )
        for index, child in enumerate(children):
            if not isinstance(child, Mapping):
                raise _Failed("appset", f"{format_key_path((*where, 'generators', index))} is not a mapping", where)
        if kind == "matrix":
            return self.matrix(children, (*where, "generators"), depth)
        keys = spec.get("mergeKeys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise _Failed("appset", f"{format_key_path(where)}: a merge needs mergeKeys, Argo CD fails", where)
        return self.merge(children, keys, (*where, "generators"), depth)

    def child(self, generator: Mapping[str, Any], where: KeyPath, depth: int, outer: Params | None) -> list[Params]:
        kinds = [k for k in generator if k not in _NOT_GENERATORS]
        unsupported = [k for k in kinds if k not in _GENERATORS or k in UNSUPPORTED_GENERATORS]
        if unsupported:
            raise _Failed(
                "appset-generator",
                f"{format_key_path((*where, unsupported[0]))}: the {str(unsupported[0])[:60]} generator is not"
                " expanded by rail: the enclosing generator is not expanded",
                (*where, unsupported[0]),
            )
        if len(kinds) != 1:
            raise _Failed("appset", f"{format_key_path(where)} must hold exactly one generator", where)
        return self.generate_one(generator, kinds[0], where, depth + 1, outer)

    def matrix(self, children: list[Mapping[str, Any]], where: KeyPath, depth: int) -> list[Params]:
        result: list[Params] = []
        for first in self.child(children[0], (*where, 0), depth, None):
            for second in self.child(children[1], (*where, 1), depth, first):
                if self.go:
                    combined = _deep_merge(copy.deepcopy(second), first)
                else:
                    combined = dict(first)
                    for key, value in second.items():
                        if key in combined and combined[key] != value:
                            raise _Failed(
                                "appset",
                                f"{format_key_path(where[:-1])}: both generators give parameter '{key}' with"
                                " different values; Argo CD fails",
                                where[:-1],
                            )
                        combined[key] = value
                result.append(combined)
                self._check_count(len(result), where[:-1])
        return result

    def merge(self, children: list[Mapping[str, Any]], keys: list[str], where: KeyPath, depth: int) -> list[Params]:
        sets = [self.child(child, (*where, i), depth, None) for i, child in enumerate(children)]
        unique = list(dict.fromkeys(keys))

        def keyed(param_sets: list[Params]) -> dict[str, Params]:
            by_key: dict[str, Params] = {}
            for params in param_sets:
                key = json.dumps({k: params.get(k) for k in sorted(unique)}, sort_keys=True, default=str)
                if key in by_key:
                    raise _Failed(
                        "appset",
                        f"{format_key_path(where[:-1])}: two parameter sets share the merge key {key[:200]};"
                        " Argo CD fails",
                        where[:-1],
                    )
                by_key[key] = params
            return by_key

        base = keyed(sets[0])
        for other in sets[1:]:
            overrides = keyed(other)
            for key, params in base.items():
                if key in overrides:
                    if self.go:
                        base[key] = _deep_merge(params, overrides[key])
                    else:
                        base[key] = {**params, **overrides[key]}
        return list(base.values())

    def _check_count(self, count: int, where: KeyPath) -> None:
        if count > MAX_APPLICATIONS:
            self.note(
                "appset-limit",
                f"{format_key_path(where)} generates more than {MAX_APPLICATIONS} parameter sets: rail stops"
                " expanding this ApplicationSet",
                where,
            )
            raise _Stop

    # ------------------------------------------------------------------ templates

    def render_string(self, text: str, params: Params) -> str:
        if not self.go:
            return render_fasttemplate(text, params)
        parsed = self._parsed.get(text)
        if parsed is None:
            try:
                parsed = gotemplate.parse(text)
            except gotemplate.TemplateError as exc:
                parsed = exc
            self._parsed[text] = parsed
        if isinstance(parsed, gotemplate.TemplateError):
            raise parsed
        return parsed.execute(params, missing_key_error=self.missing_key_error)

    def render_application(
        self,
        template: Mapping[str, Any],
        params: Params,
        where: KeyPath,
        overlays: tuple[Overlay, ...],
        namespace: Any,
    ) -> GeneratedApplication | None:
        failed: list[tuple[KeyPath, gotemplate.TemplateError]] = []

        def one(text: str, path: KeyPath) -> str:
            try:
                return self.render_string(text, params)
            except gotemplate.TemplateError as exc:
                failed.append((path, exc))
                return text

        rendered = _map_strings_at(template, (), one)
        if failed:
            path, exc = failed[0]
            kind = "appset-unsupported" if isinstance(exc, gotemplate.Unsupported) else "appset-template"
            label = _describe(params)
            self.note(
                kind,
                f"template field {format_key_path(path)} cannot be rendered for {label} ({_short(exc)}):"
                " that Application is not shown",
                ("spec", "template", *path),
            )
            return None
        metadata = rendered.get("metadata")
        metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            self.note("appset-template", f"a generated Application has no name ({_describe(params)}): not shown", where)
            return None
        # The controller puts every Application in the ApplicationSet's own namespace,
        # whatever the template says (the apps-in-any-namespace boundary).
        if isinstance(namespace, str) and namespace:
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        data: dict[str, Any] = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": metadata}
        spec = rendered.get("spec")
        data["spec"] = spec if isinstance(spec, Mapping) else {}
        return GeneratedApplication(
            data=data, source=self.source, line=self.line, generator=where, params=params, overlays=overlays
        )

    def _overlays(self, own: Mapping[str, Any] | None, own_path: KeyPath) -> tuple[Overlay, ...]:
        if self.document is None:
            return ()
        base = Overlay(
            document=self.document,
            fields=((("metadata",), ("spec", "template", "metadata")), (("spec",), ("spec", "template", "spec"))),
        )
        if not own:
            return (base,)
        fields = tuple((leaf, (*own_path, *leaf)) for leaf in _leaves(own, ()))
        return (Overlay(document=self.document, fields=fields), base)


# --------------------------------------------------------------------------- fasttemplate


def _templated(text: str) -> bool:
    """Argo CD's check ``.*{{.*}}.*``: some line holds ``{{`` and a later ``}}`` (in
    linear time: the regular expression backtracks on a long line of ``{{``)."""
    for line in text.split("\n"):
        start = line.find("{{")
        if start >= 0 and line.rfind("}}") >= start + 2:
            return True
    return False


def render_fasttemplate(text: str, params: Mapping[str, Any]) -> str:
    """Argo CD's default templating: ``{{name}}`` replaced by the string parameter
    ``name`` (spaces around it trimmed), anything else left as written. One pass: a
    value holding ``{{...}}`` stays as it is."""
    if not _templated(text):
        return text
    out: list[str] = []
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            out.append(text[position:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            raise gotemplate.TemplateError("cannot find end tag '}}'")
        out.append(text[position:start])
        tag = text[start + 2 : end]
        value = params.get(tag.strip())
        out.append(value if isinstance(value, str) and tag.strip() else "{{" + tag + "}}")
        position = end + 2
    return "".join(out)


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _ClusterSecret:
    name: str
    server: str
    project: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]

    @classmethod
    def read(cls, secret: Mapping[str, Any]) -> _ClusterSecret:
        metadata = secret.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        return cls(
            name=_secret_value(secret, "name"),
            server=_secret_value(secret, "server"),
            project=_secret_value(secret, "project"),
            labels=_strings(metadata.get("labels")),
            annotations=_strings(metadata.get("annotations")),
        )


def _is_cluster_secret(secret: Any) -> bool:
    if not isinstance(secret, Mapping):
        return False
    metadata = secret.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return isinstance(labels, Mapping) and labels.get(CLUSTER_SECRET_LABEL) == "cluster"


def _secret_value(secret: Mapping[str, Any], key: str) -> str:
    """``stringData`` as written, else ``data`` base64-decoded (as written when it is not)."""
    string_data = secret.get("stringData")
    if isinstance(string_data, Mapping) and isinstance(string_data.get(key), str):
        return str(string_data[key])
    data = secret.get("data")
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return value


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v if isinstance(v, str) else gotemplate.go_string(v) for k, v in value.items()}


def _requirements(selector: Any, where: KeyPath) -> list[Requirement]:
    """A Kubernetes label selector (matchLabels, matchExpressions) as requirements."""
    if not isinstance(selector, Mapping):
        raise _Failed("appset", f"{format_key_path(where)} is not a mapping", where)
    result = []
    labels = selector.get("matchLabels") or {}
    if not isinstance(labels, Mapping):
        raise _Failed("appset", f"{format_key_path(where)}.matchLabels is not a mapping", where)
    for key, value in labels.items():
        result.append(Requirement(str(key), "=", (gotemplate.go_string(value),)))
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise _Failed("appset", f"{format_key_path(where)}.matchExpressions is not a list", where)
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for index, expression in enumerate(expressions):
        operator = expression.get("operator") if isinstance(expression, Mapping) else None
        key = expression.get("key") if isinstance(expression, Mapping) else None
        if operator not in operators or not isinstance(key, str):
            raise _Failed(
                "appset",
                f"{format_key_path((*where, 'matchExpressions', index))}: not a valid selector expression",
                where,
            )
        values = expression.get("values") or []
        values = values if isinstance(values, list) else []
        result.append(Requirement(key, operators[operator], tuple(gotemplate.go_string(v) for v in values)))
    return result


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Keys joined with dots, list items by index (jeremywohl/flatten's DotStyle)."""
    out: dict[str, Any] = {}

    def walk(value: Any, key: str) -> None:
        if isinstance(value, Mapping) and value:
            for name, item in value.items():
                walk(item, f"{key}.{name}" if key else str(name))
        elif isinstance(value, list) and value:
            for index, item in enumerate(value):
                walk(item, f"{key}.{index}" if key else str(index))
        else:
            out[key] = value

    for name, value in data.items():
        walk(value, f"{prefix}{name}")
    return out


def _flatten_params(params: Params) -> dict[str, str]:
    return {key: gotemplate.go_string(value) for key, value in _flatten(params).items()}


def _go_numbers(value: Any) -> Any:
    """Numbers as float64, as Argo CD decodes JSON into its parameters."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value) if abs(value) < 2**63 else value
    if isinstance(value, Mapping):
        return {str(k): _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def _deep_merge(base: Params, override: Mapping[str, Any]) -> Params:
    """mergo.Merge with override: nested maps merged, everything else replaced (an
    empty override value does not replace)."""
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            base[key] = _deep_merge(dict(base[key]), value)
        elif not _is_empty(value) or key not in base:
            base[key] = copy.deepcopy(value)
    return base


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value is False
        or value == 0
        or (isinstance(value, (Mapping, list)) and not value)
    )


def _merge_template(own: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """mergo.Merge(generator template, spec.template): the generator's set fields win,
    its empty ones are filled from ``spec.template``, maps merged key by key."""
    result: dict[str, Any] = copy.deepcopy(dict(own))
    for key, value in base.items():
        mine = result.get(key)
        if isinstance(mine, Mapping) and isinstance(value, Mapping):
            result[key] = _merge_template(mine, value)
        elif key not in result or _is_empty(mine):
            result[key] = copy.deepcopy(value)
    return result


def _leaves(data: Mapping[str, Any], path: KeyPath) -> Iterator[KeyPath]:
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, (*path, key))
        elif not _is_empty(value):
            yield (*path, key)


def _map_strings(value: Any, render: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return render(value)
    if isinstance(value, Mapping):
        return {key: _map_strings(item, render) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, render) for item in value]
    return value


def _map_strings_at(value: Any, path: KeyPath, render: Callable[[str, KeyPath], str]) -> Any:
    if isinstance(value, str):
        return render(value, path)
    if isinstance(value, Mapping):
        return {key: _map_strings_at(item, (*path, key), render) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings_at(item, (*path, index), render) for index, item in enumerate(value)]
    return value


def _go_path_match(pattern: str, name: str) -> bool:
    """Go's ``path.Match``: ``*`` and ``?`` never match ``/``; ``[...]``/``[^...]`` classes;
    ``\\`` escapes. A malformed pattern matches nothing (Argo CD logs and skips it)."""
    regex = _go_pattern_regex(pattern)
    return regex is not None and regex.fullmatch(name) is not None


_PATTERN_CACHE: dict[str, re.Pattern[str] | None] = {}


def _go_pattern_regex(pattern: str) -> re.Pattern[str] | None:
    if pattern in _PATTERN_CACHE:
        return _PATTERN_CACHE[pattern]
    regex: re.Pattern[str] | None
    try:
        regex = re.compile(_go_pattern_text(pattern), re.DOTALL)
    except (ValueError, re.error):
        regex = None
    if len(_PATTERN_CACHE) < 1000:
        _PATTERN_CACHE[pattern] = regex
    return regex


def _go_pattern_text(pattern: str) -> str:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            if index >= len(pattern):
                raise ValueError("trailing backslash")
            out.append(re.escape(pattern[index]))
            index += 1
        elif char == "[":
            body = []
            if index < len(pattern) and pattern[index] == "^":
                body.append("^")
                index += 1
            terms = 0
            while True:
                if index >= len(pattern):
                    raise ValueError("unclosed class")
                char = pattern[index]
                index += 1
                if char == "]" and terms:
                    break
                if char == "\\":
                    if index >= len(pattern):
                        raise ValueError("trailing backslash")
                    char = pattern[index]
                    index += 1
                body.append(re.escape(char) if char != "-" or not terms else "-")
                terms += 1
            out.append("[" + "".join(body) + "]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _pathspec_match(pattern: str, path: str) -> bool:
    """git ls-files' pathspec: a literal names a file or a folder prefix; with
    wildcards it is fnmatch where ``*`` also crosses ``/``."""
    clean = pattern.removeprefix("./").rstrip("/")
    if not any(c in clean for c in "*?["):
        return path == clean or path.startswith(clean + "/")
    return fnmatchcase(path, clean)


def _leaves_repository(pattern: str) -> bool:
    if pattern.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", pattern):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", pattern))


def normal_repo_url(url: str) -> str:
    """A git URL without scheme, user, ``.git`` and trailing ``/``; scp-style
    ``git@host:org/repo`` as ``host/org/repo``; lower case."""
    text = url.strip().lower()
    text = re.sub(r"^[a-z+]+://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    text = re.sub(r"^([^/:]+):(?!\d+/)", r"\1/", text)
    text = re.sub(r":\d+/", "/", text)
    return text.rstrip("/").removesuffix(".git")


def _describe(params: Params) -> str:
    for key in ("name", "cluster", "path", "path.path"):
        value = params.get(key)
        if isinstance(value, Mapping):
            value = value.get("path")
        if isinstance(value, str) and value:
            return f"parameters with {key} '{value[:80]}'"
    return "one parameter set"


def _problem(exc: InputError) -> str:
    return exc.problems[0].message if exc.problems else "invalid YAML"


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
