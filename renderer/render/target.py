"""What every target shares: one folder per layer, a ``kustomization.yaml`` per
folder, labels, headers, the namespaces the cluster layer owns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, ClassVar

from ..errors import InputError, Problem
from ..load.stack import LoadedStack
from ..memo import memo_scope
from ..model import Backup, Layer, Release
from ..yamlio import Document, admit, dump_document
from .claims import TEMPLATE as CLAIM_TEMPLATE
from .claims import ClaimJob, claim_jobs, digest
from .digests import digests_of, sharing_digests, spelt
from .references import Resolution
from .templating import Templates

# Namespaces that exist before any GitOps controller applies anything: never rendered.
PREEXISTING_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

Entries = list[tuple[str, bytes]]  # file name in its folder, content


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the stack root, POSIX separators
    content: bytes
    # What a YAML file reads back as, positions included: lint needs no second parse.
    document: Document | None = None


# Rendered objects kept while a caller renders several versions of one stack (``rail
# diff``: most releases are the same on both sides), by what produced them.
_SHARED: ContextVar[dict[str, tuple[bytes, Document]] | None] = ContextVar("rail_shared_renders", default=None)


def sharing_renders() -> AbstractContextManager[None]:
    """Inside, a template rendered again with equal data and templates is not rendered
    twice (nor, with the cache on, rendered again in the next run); inside another such
    scope, that one's renders are shared."""
    if _SHARED.get() is not None:
        return nullcontext()
    return _render_scope()


# What a release rendered in this scope (a target's own objects of it: its Secrets are
# passed through, never rendered), by everything those objects read: each object's file
# name and render key. A release rendered again from the same inputs (most of a diff's
# head, whose base was restored with these) takes its objects from the shared renders:
# no context built, no render key spelt (1,789 keys -> 27 in a 1,000-release pre-commit
# hook's index: its target's files ~66 -> ~47 ms).
ReleaseRenders = dict[tuple[Any, ...], tuple[tuple[str, str], ...]]
_RELEASES: ContextVar[ReleaseRenders | None] = ContextVar("rail_release_renders", default=None)


# The documents of the output files of a side this scope restored, by path: an object
# rendered again of the very data and text is that file's document, not a copy made for
# its path (the head of a pre-commit hook shares nearly every file with its base, and a
# document shared is a digest, a place and an object known at a glance downstream).
_PLACED: ContextVar[dict[str, Document] | None] = ContextVar("rail_placed_documents", default=None)


@contextmanager
def _render_scope() -> Iterator[None]:
    with memo_scope(_SHARED), memo_scope(_RELEASES), memo_scope(_PLACED), sharing_digests():
        yield


def share_placed(files: Iterable[OutputFile]) -> None:
    """Give this scope the output files of a side restored (see :data:`_PLACED`)."""
    memo = _PLACED.get()
    if memo is not None:
        for file in files:
            if file.document is not None:
                memo.setdefault(file.path, file.document)


def _placed(path: str, written: Document) -> Document:
    """``written`` at ``path``: the document a restored side's file there has, when it is
    the same in every field; else a copy of ``written`` for the path."""
    found = (_PLACED.get() or {}).get(path)
    if (
        found is not None
        and found.data is written.data
        and found.text is written.text
        and found.index == written.index
        and found.start_line == written.start_line
    ):
        return found
    return replace(written, path=path)


def shared_release_renders(render_keys: Collection[str]) -> ReleaseRenders:
    """This scope's release entries whose objects are all among ``render_keys``."""
    memo = _RELEASES.get() or {}
    return {key: made for key, made in memo.items() if all(render_key in render_keys for _, render_key in made)}


def share_release_renders(entries: ReleaseRenders) -> None:
    """Give this scope release entries of an earlier run (a kept diff side), whose render
    keys that run's renders (:func:`share_renders`) hold."""
    memo = _RELEASES.get()
    if memo is not None:
        for key, made in entries.items():
            memo.setdefault(key, made)


def shared_renders_of(data: set[int]) -> dict[str, Document]:
    """This scope's rendered objects whose data is one of ``data`` (by identity), by key."""
    memo = _SHARED.get() or {}
    return {key: written for key, (_, written) in memo.items() if id(written.data) in data}


def share_renders(entries: dict[str, Document], contents: Mapping[int, bytes] | None = None) -> None:
    """Give this scope objects rendered by an earlier run (a kept diff side), by key: an
    object rendered from the same data is then not rendered, nor read from the cache.
    ``contents``: a text's bytes the caller already holds, by the identity of the text (a
    document's ``text``): shared, not encoded again (a side's output is ~90 MB at 10,000 releases)."""
    memo = _SHARED.get()
    if memo is None:
        return
    known = contents or {}
    for key, written in entries.items():
        if written.text is not None and key not in memo:
            content = known.get(id(written.text))
            memo[key] = (content if content is not None else written.text.encode("utf-8"), written)
            admit(written.text)


def _render_key(templates: str, template: str, context: dict[str, Any], origin: str) -> str | None:
    """A digest of everything a rendered object depends on; None if the data cannot be spelt out.

    A context entry with a digest in this scope (:func:`.digests.spell_by_digest`) is spelt by it,
    apart from the entries spelt in full: no data spells the same as a digest."""
    by_digest = digests_of(context)
    in_full = {name: value for name, value in context.items() if name not in by_digest} if by_digest else context
    try:
        text = json.dumps(
            [templates, template, origin, in_full, by_digest], sort_keys=True, default=spelt, ensure_ascii=False
        )
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# Rendered objects on disk (renderer.cache, kind "render"): the text and the data it
# reads back as, by the render key (templates, template, origin, data) and Jinja2's
# release (the store adds rail's version), on the key's second sighting (the first is
# only remembered). An object that holds a secret (the guard registered in
# renderer.cache says so) is never stored.
_RENDER_FORMAT = 1


def _disk_key(key: str) -> str:
    from .. import cache as store

    return store.digest("render", key, jinja_version())


@cache
def jinja_version() -> bytes:
    """Jinja2's release, read from its source without importing it (a warm run never does)."""
    from importlib.util import find_spec

    spec = find_spec("jinja2")
    if spec is None or spec.origin is None:
        return b"no jinja2"
    with open(spec.origin, "rb") as stream:
        return hashlib.sha256(stream.read()).digest()


def _stored(key: str) -> tuple[bytes, Document] | None:
    from .. import cache as store

    if not store.enabled():
        return None
    payload = store.get("render", _disk_key(key))
    if payload is None:
        return None
    import marshal

    try:
        version, text, data = marshal.loads(payload)
        if version != _RENDER_FORMAT or not isinstance(text, str):
            return None
    except (ValueError, EOFError, TypeError):
        return None
    admit(text)  # the store holds only what the guard passed
    return text.encode("utf-8"), Document(path="", data=data, text=text)


def _store(key: str, text: str, written: Document) -> None:
    from .. import cache as store

    if not store.enabled():
        return
    disk_key = _disk_key(key)
    # A first sighting is only remembered: judged and serialised when seen again.
    if not store.admit("render", disk_key) or not store.secret_free(written.data):
        return
    admit(text)
    import marshal

    try:
        payload = marshal.dumps((_RENDER_FORMAT, text, written.data), 4)
    except ValueError:
        return  # data marshal cannot spell: rendered again next run
    store.put("render", disk_key, payload)


def header(origin: str) -> str:
    return f"Generated by rail from {origin}. Do not edit: change the source and run `rail render`."


class Target:
    name = ""

    def __init__(
        self,
        loaded: LoadedStack,
        resolution: Resolution,
        graph: dict[str, tuple[str, ...]],
        templates: Templates,
        documents: bool = True,
    ) -> None:
        self.keep_documents = documents
        self.loaded = loaded
        self.stack = loaded.stack
        self.config = loaded.stack.config
        self.resolution = resolution
        self.graph = graph
        self.templates = templates
        self.base = f"{self.config.output}/{self.name}"
        self._written: dict[bytes, Document] = {}
        self._keys: list[str | None] | None = None  # the render keys of the release being recorded

    def folders(self) -> dict[str, Entries]:
        raise NotImplementedError

    def files(self) -> list[OutputFile]:
        files: list[OutputFile] = []
        for folder, listed in sorted(self.folders().items()):
            entries = _unique(folder, listed)
            names = sorted(name for name, _ in entries)
            resources = [name for name in names if not name.endswith(".sops.yaml") or self.lists_secrets]
            kustomization = self.document("kustomization.yaml.j2", {"resources": resources}, self.config.path)
            files.append(self.output(f"{self.base}/{folder}/kustomization.yaml", kustomization))
            files.extend(self.output(f"{self.base}/{folder}/{name}", content) for name, content in entries)
        return sorted(files, key=lambda f: f.path)

    def output(self, path: str, content: bytes) -> OutputFile:
        written = self._written.get(content)
        return OutputFile(path, content, _placed(path, written) if written else None)

    lists_secrets = True

    def present_layers(self) -> list[Layer]:
        """The lowest layer (it owns namespaces and sources), and every layer with a release or a backup."""
        used = {release.layer for release in self.stack.releases} | {backup.layer for backup in self.stack.backups}
        return [layer for layer in self.config.layers if layer.order == 0 or layer.id in used]

    def labels(self, layer_id: str, **extra: str) -> dict[str, str]:
        return {
            "app.kubernetes.io/managed-by": "rail",
            "railiance.io/layer": layer_id,
            "railiance.io/stack": self.config.name,
            **extra,
        }

    def recorded(self, inputs: tuple[Any, ...] | None, make: Callable[[], Entries]) -> Entries:
        """``make()``: entries each made by one :meth:`document` call, in order; or, when
        this scope made them from the same ``inputs`` (None: inputs not known by digests,
        always made), those, from the shared renders."""
        releases, shared = _RELEASES.get(), _SHARED.get()
        if releases is None or shared is None or inputs is None:
            return make()
        made = releases.get(inputs, ())
        hits = [hit for _, render_key in made if (hit := shared.get(render_key)) is not None]
        if made and len(hits) == len(made):
            entries: Entries = []
            for (name, _), (content, written) in zip(made, hits, strict=True):
                if self.keep_documents:
                    self._written[content] = written
                entries.append((name, content))
            return entries
        keys: list[str | None] = []
        self._keys = keys
        try:
            entries = make()
        finally:
            self._keys = None
        render_keys = [key for key in keys if key is not None]
        if len(render_keys) == len(keys) == len(entries):
            releases[inputs] = tuple((name, key) for (name, _), key in zip(entries, render_keys, strict=True))
        return entries

    def document(self, template: str, context: dict[str, Any], origin: str) -> bytes:
        shared = _SHARED.get()
        key = _render_key(self.templates.fingerprint, template, context, origin) if shared is not None else None
        if self._keys is not None:
            self._keys.append(key)
        if shared is not None and key is not None and key in shared:
            content, written = shared[key]
        else:
            stored = _stored(key) if shared is not None and key is not None else None
            if stored is not None:
                content, written = stored
            else:
                documents = self.templates.documents(template, context)
                if len(documents) != 1:
                    raise AssertionError(f"template {template} must render exactly one object")
                text, written = dump_document(documents[0].data, header=header(origin))
                content = text.encode("utf-8")
                if shared is not None and key is not None:
                    _store(key, text, written)
            if shared is not None and key is not None:
                shared[key] = (content, written)
        if self.keep_documents:
            self._written[content] = written
        return content

    def claim_objects(self, layer: Layer) -> Entries:
        """The bootstrap Jobs of the database claims whose database release is in ``layer``."""
        secret_names = {path: secret.name for path, secret in self.loaded.secret_files.items()}
        entries: Entries = []
        for job in claim_jobs(self.stack, self.resolution, secret_names):
            if job.database.layer != layer.id:
                continue
            labels = self.labels(
                layer.id, **{"railiance.io/claim": job.claimant.name, "railiance.io/database": job.database.name}
            )
            context = {**job.context, "labels": labels, "annotations": self.claim_annotations(job), "name": "-"}
            # The name carries a digest of the Job rendered without it: a Job's pod template
            # cannot change, so a changed claim must be a new Job (the old one is pruned).
            unnamed = self.document(CLAIM_TEMPLATE, context, job.claimant.origin)
            name = f"{job.base_name[:52].rstrip('-')}-{digest(unnamed)}"
            content = self.document(CLAIM_TEMPLATE, {**context, "name": name}, job.claimant.origin)
            entries.append((f"job-{name}.yaml", content))
        return entries

    def claim_annotations(self, job: ClaimJob) -> dict[str, str]:
        return {}

    namespace_annotations: ClassVar[Mapping[str, str]] = {}

    def namespaces(self) -> Entries:
        """The namespaces upper layers deploy into: created by the cluster layer."""
        entries = []
        specs: list[Release | Backup] = [*self.stack.releases, *self.stack.backups]
        used = {spec.namespace for spec in specs}
        for namespace in sorted(used - PREEXISTING_NAMESPACES - {self.config.flux_namespace}):
            owner = self.config.layer_of_namespace(namespace)
            layer_id = owner.id if owner else next(spec.layer for spec in specs if spec.namespace == namespace)
            content = self.document(
                "namespace.yaml.j2",
                {"name": namespace, "labels": self.labels(layer_id), "annotations": self.namespace_annotations},
                self.config.path,
            )
            entries.append((f"namespace-{namespace}.yaml", content))
        return entries

    def backup_objects(self, layer: Layer, annotate: Callable[[Backup], Mapping[str, str]] | None = None) -> Entries:
        """The CronJobs of the layer's backups, one per covered release (``annotate``:
        the target's own annotations of a backup's objects)."""
        from .backup import cronjob_context

        entries: Entries = []
        for backup in self.stack.backups:
            if backup.layer != layer.id:
                continue
            labels = self.labels(layer.id, **{"railiance.io/service-class": "backup"})
            for coverage in backup.covers:
                context = cronjob_context(self.stack, backup, coverage, self.resolution, labels)
                if annotate is not None:
                    context["annotations"] = {**context["annotations"], **annotate(backup)}
                content = self.document("backup-cronjob.yaml.j2", context, backup.origin)
                entries.append((f"cronjob-{context['name']}.yaml", content))
        return entries


def _unique(folder: str, entries: Entries) -> Entries:
    """One file per name: the same Secret listed by two releases is written once;
    two different contents under one name would silently lose one, so they are an error."""
    seen: dict[str, bytes] = {}
    for name, content in entries:
        if name in seen and seen[name] != content:
            raise InputError(
                Problem(
                    path=f"{folder}/{name}",
                    message="two different objects would be written to this one file",
                    hint="give the objects (or the Secrets the specs list) different names",
                )
            )
        seen[name] = content
    return list(seen.items())
