"""Load a stack: the config at the repository root, every release spec, their
values files and SOPS secrets. All problems of a run are collected and raised once.
"""

from __future__ import annotations

import os
import re
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, Problem, ProblemCollector
from ..memo import memo_scope
from ..model import BACKUP_KIND, Backup, Release, Stack, StackConfig
from ..model.backup import DESTINATION_KEYS
from ..model.interface import ImportedStack, Moved
from ..quoting import shell_path
from ..realpath import sharing_resolves
from ..secrets import find_plaintext
from ..yamlio import Document, load_document, load_documents
from .files import escape_problem, escaping_link, inside, read_text, read_yaml
from .imports import load_imports, load_moves
from .schema import validate

if TYPE_CHECKING:
    from .reuse import Reuse

CONFIG_NAME = "rail.yaml"


@dataclass(frozen=True)
class SecretFile:
    """A SOPS-encrypted Secret manifest, kept byte for byte."""

    path: str
    raw: bytes
    name: str
    namespace: str
    keys: tuple[str, ...]
    document: Document  # what ``raw`` reads as: lint needs it, and need not parse it again


@dataclass(frozen=True)
class Dangling:
    """A ``dependsOn`` or ``${ref:...}`` of a release naming a release the stack does not
    have: an input error for render; lint and diff load on (a finding, and what
    ``dependency-removed`` reads when the change removed that release)."""

    release: str
    target: str
    problem: Problem


@dataclass(frozen=True)
class LoadedStack:
    root: Path
    stack: Stack
    spec_documents: dict[str, Document]
    values_documents: dict[str, Document]
    secret_files: dict[str, SecretFile]
    # Spec and values files that are symlinks leaving the stack: not read (render refuses
    # them; lint and diff report the finding symlink-escape).
    escaped: tuple[Problem, ...] = ()
    # Loaded for lint or diff (``refuse_plaintext=False``): what render refuses is reported.
    lenient: bool = False
    dangling: tuple[Dangling, ...] = ()
    imports: tuple[ImportedStack, ...] = ()  # the stacks rail.yaml imports (renderer.load.imports)
    moved: tuple[Moved, ...] = ()  # releases moved out to other stacks (moved: in rail.yaml)

    def merged_values(self, release: Release) -> dict[str, Any]:
        """Values files in order, then inline values on top, merged as Helm merges them."""
        merged: dict[str, Any] = {}
        for path in release.values_files:
            merged = deep_merge(merged, self.values_documents[path].data or {})
        return deep_merge(merged, dict(release.values))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding the stack config."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise InputError(
        Problem(
            path=str(start),
            message=f"no {CONFIG_NAME} found here or in any parent folder",
            hint=f"run rail inside a stack repository, or create {CONFIG_NAME} at its root (see README)",
        )
    )


def load_stack(root: Path, *, refuse_plaintext: bool = True, reuse: Reuse | None = None) -> LoadedStack:
    """Read and validate the stack at ``root``.

    ``refuse_plaintext``: a literal secret in a spec or values file, or an
    unencrypted SOPS file, is an input error (render). The linter turns it off
    and reports them as findings instead. ``reuse``: an earlier load of the same stack
    whose unchanged releases are taken over, not read (lint and diff only).
    """
    if reuse is not None and refuse_plaintext:
        reuse = None  # taken over unchecked: only a lenient load may (it checks nothing per file)
    # Each folder resolved once: a values and a secret file per release check their paths.
    with sharing_resolves():
        return _load_stack(root.resolve(), refuse_plaintext, reuse)


def _load_stack(root: Path, refuse_plaintext: bool, reuse: Reuse | None) -> LoadedStack:
    config_document = read_yaml(root / CONFIG_NAME, CONFIG_NAME)
    problems = validate(config_document, "stack.schema.json")
    if problems:
        raise InputError(problems)
    config = StackConfig.from_data(config_document.data, config_document)
    imports = load_imports(root, config_document, config.name) if "imports" in config_document.data else ()

    collector = ProblemCollector()
    releases: list[Release] = []
    spec_documents: dict[str, Document] = {}
    values_documents: dict[str, Document] = {}
    secret_files: dict[str, SecretFile] = {}
    escaped: list[Problem] = []
    backup_documents: list[Document] = []
    for display, spec_path, linked in _spec_files(root, config.releases_dir, required=config.releases_named):
        # No linked folder is walked into: only the file itself can be a link.
        target = escaping_link(root, Path(spec_path)) if linked else None
        if target is not None:
            escaped.append(escape_problem(display, target))
            continue
        taken = reuse.release(display) if reuse is not None else None
        if taken is not None:
            spec_documents[display] = taken.spec
            values_documents.update(taken.values)
            secret_files.update(taken.secrets)
            releases.append(taken.release)
            continue
        try:
            document = read_yaml(Path(spec_path), display)
            spec_documents[display] = document
            if isinstance(document.data, dict) and document.data.get("kind") == BACKUP_KIND:
                backup_documents.append(document)  # read once every release is known
                continue
            schema_problems = validate(document, "release.schema.json")
            if schema_problems:
                collector.extend(schema_problems)
                continue
            release = Release.from_data(document.data, document, config)
            if refuse_plaintext:
                collector.extend(_check_plaintext(document, ("values",), release.values))
            for index, values_path in enumerate(release.values_files):
                values_document = _values_file(root, values_path, document, index, escaped)
                values_documents[values_path] = values_document
                if refuse_plaintext:
                    collector.extend(_check_plaintext(values_document, (), values_document.data))
            for index, secret_path in enumerate(release.secrets):
                secret = _secret_file(root, secret_path, document, index, strict=refuse_plaintext)
                if secret.namespace != release.namespace:
                    collector.add(
                        document.problem(
                            ("secrets", index),
                            f"Secret '{secret.name}' is in namespace '{secret.namespace}',"
                            f" release '{release.name}' in '{release.namespace}'",
                            "a pod can only read Secrets of its own namespace: move the Secret",
                        )
                    )
                secret_files[secret_path] = secret
            claim = release.needs.database
            if claim is not None:
                # Checked against the database release's namespace once every spec is read.
                secret_files[claim.password_secret] = _secret_file(
                    root,
                    claim.password_secret,
                    document,
                    0,
                    strict=refuse_plaintext,
                    key_path=("needs", "database", "passwordSecret"),
                )
            releases.append(release)
        except InputError as error:
            collector.extend(error.problems)
    collector.raise_if_any()

    dangling = _check_names(releases, spec_documents, collector, lenient=not refuse_plaintext)
    if not refuse_plaintext:
        dangling.extend(_dangling_references(releases, spec_documents, values_documents))
    _check_claim_secrets(releases, secret_files, spec_documents, collector)
    collector.raise_if_any()
    moved = load_moves(config_document, {r.name for r in releases}) if "moved" in config_document.data else ()
    backups = _backups(root, config, releases, backup_documents, secret_files, collector, refuse_plaintext, dangling)
    collector.raise_if_any()
    layer_order = {layer.id: layer.order for layer in config.layers}
    ordered = tuple(sorted(releases, key=lambda r: (layer_order[r.layer], r.name)))
    return LoadedStack(
        root=root,
        stack=Stack(config=config, releases=ordered, backups=backups),
        spec_documents=spec_documents,
        values_documents=values_documents,
        secret_files=secret_files,
        escaped=tuple(sorted(set(escaped), key=Problem.sort_key)),
        lenient=not refuse_plaintext,
        dangling=tuple(dangling),
        imports=imports,
        moved=moved,
    )


def _spec_files(root: Path, releases_dir: str, *, required: bool) -> list[tuple[str, str, bool]]:
    """The release specs below ``releases_dir``, each with its display path (relative to
    ``root``), its path and whether it is a link, in the display path's order (a spec taken
    over from a side read before is never opened: no Path is made for it). Hidden files and folders are
    skipped; a linked folder is never walked into, an unreadable one is passed over."""
    folder = inside(root, releases_dir)
    if not required and folder is not None and not folder.exists():
        return []  # a lint-only stack: its rail.yaml maps an existing tree onto layers
    if folder is None or not folder.is_dir():
        raise InputError(
            Problem(
                path=CONFIG_NAME,
                message=f"release folder '{releases_dir}' does not exist",
                hint="create it, with one folder per layer, or set 'releases' in the stack config",
            )
        )
    top = folder.relative_to(root).as_posix()
    # A walk of directory entries, not pathlib's rglob: each entry says whether it is a
    # folder or a link without a stat (thousands of specs: ~25 ms at 1,000 releases).
    files: list[tuple[str, str, bool]] = []
    pending = [(os.fspath(folder), "" if top == "." else f"{top}/")]
    while pending:
        current, shown = pending.pop()
        try:
            with os.scandir(current) as entries:
                listed = list(entries)
        except (PermissionError, NotADirectoryError):
            continue
        for entry in listed:
            if entry.name.startswith("."):
                continue
            display = f"{shown}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, f"{display}/"))
            elif entry.name.endswith((".yaml", ".yml")) and entry.is_file():
                files.append((display, entry.path, entry.is_symlink()))
    # The file system's listing order is its own; the render's must not be.
    return sorted(files, key=lambda file: file[0])


def _values_file(root: Path, relative: str, spec: Document, index: int, escaped: list[Problem]) -> Document:
    if not relative.startswith("/") and "\\" not in relative:
        target = escaping_link(root, root / relative)
        if target is not None:  # refused, not read: the release renders without it
            escaped.append(escape_problem(relative, target))
            return load_document("", relative)
    path = inside(root, relative)
    if path is None:
        raise InputError(
            spec.problem(
                ("valuesFiles", index),
                "values file path leaves the stack root",
                "keep values files inside the repository",
            )
        )
    if not path.is_file():
        raise InputError(
            spec.problem(
                ("valuesFiles", index),
                f"values file '{relative}' not found",
                "create it or fix the path (relative to the stack root)",
            )
        )
    document = read_yaml(path, relative)
    if document.data is not None and not isinstance(document.data, dict):
        raise InputError(
            document.problem((), "a values file must hold a mapping", "put the values under top-level keys")
        )
    return document


def secret_document(text: str, relative: str) -> Document | None:
    """A secret file's one manifest (custom tags read as strings), or None if it holds
    not exactly one mapping."""
    return the_secret(load_documents(text, relative, strict_tags=False))


def the_secret(documents: list[Document]) -> Document | None:
    """A secret file's one manifest among what its text parses to (None: not exactly one mapping)."""
    found = [d for d in documents if d.data is not None]
    if len(found) != 1 or not isinstance(found[0].data, dict):
        return None
    return found[0]


def _secret_file(
    root: Path,
    relative: str,
    spec: Document,
    index: int,
    *,
    strict: bool = True,
    key_path: tuple[str | int, ...] = (),
) -> SecretFile:
    where = key_path or ("secrets", index)
    path = inside(root, relative)
    if path is None:
        raise InputError(
            spec.problem(where, "secret file path leaves the stack root", "keep secrets inside the repository")
        )
    if not path.is_file():
        raise InputError(
            spec.problem(where, f"secret file '{relative}' not found", "create it with sops (see README, Secrets)")
        )
    text = read_text(path, relative)
    document = secret_document(text, relative)
    if document is None:
        raise InputError(
            Problem(
                path=relative, message="expected exactly one Secret manifest", hint="one Secret per *.sops.yaml file"
            )
        )
    data = document.data
    if data.get("kind") != "Secret" or data.get("apiVersion") != "v1":
        raise InputError(
            document.problem(("kind",), "not a v1 Secret", "secrets: lists SOPS-encrypted Secret manifests only")
        )
    metadata = data.get("metadata") or {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not isinstance(namespace, str):
        raise InputError(
            document.problem(("metadata",), "the Secret needs metadata.name and metadata.namespace", "set both")
        )
    sops = data.get("sops")
    if strict and (not isinstance(sops, dict) or "mac" not in sops):
        raise InputError(
            document.problem(
                (),
                "not encrypted with SOPS (no sops metadata)",
                f"encrypt it: sops --encrypt --in-place {shell_path(relative)}",
            )
        )
    keys: list[str] = []
    for section in ("data", "stringData"):
        for key, value in (data.get(section) or {}).items():
            keys.append(str(key))
            if strict and not (isinstance(value, str) and value.startswith("ENC[")):
                raise InputError(
                    document.problem(
                        (section, key),
                        "value is not encrypted",
                        "re-encrypt the file with sops (encrypted_regex '^(data|stringData)$'):"
                        f" sops --encrypt --in-place {shell_path(relative)}",
                    )
                )
    return SecretFile(
        path=relative,
        raw=text.encode("utf-8"),  # the file's bytes: it was read as strict UTF-8
        name=name,
        namespace=namespace,
        keys=tuple(sorted(keys)),
        document=document,
    )


def _check_plaintext(document: Document, prefix: tuple[Any, ...], values: Any) -> list[Problem]:
    return [
        document.problem(
            (*prefix, *path),
            f"plaintext secret: {what}",
            "keep secrets in a SOPS-encrypted Secret and point the chart's existingSecret key (or valuesFrom) at it",
        )
        for path, what in find_plaintext(values)
    ]


def _check_names(
    releases: list[Release], documents: dict[str, Document], collector: ProblemCollector, *, lenient: bool
) -> list[Dangling]:
    """Unique names, and every dependsOn naming a release; ``lenient``: a dependsOn naming
    none is returned (lint and diff report it), not an input error."""
    by_name: dict[str, Release] = {}
    for release in releases:
        other = by_name.get(release.name)
        if other is not None:
            collector.add(
                Problem(
                    path=release.origin,
                    message=f"release name '{release.name}' is also used by {other.origin}",
                    hint="release names are unique in a stack: references and dependsOn use them",
                )
            )
        by_name[release.name] = release
    dangling: list[Dangling] = []
    for release in releases:
        for index, dependency in enumerate(release.depends_on):
            if dependency not in by_name and "/" not in dependency:  # IMPORT/RELEASE: renderer.render.crossrefs
                problem = documents[release.origin].problem(
                    ("dependsOn", index),
                    f"dependsOn names release '{dependency}', which does not exist",
                    "name a release of this stack, or remove the entry",
                )
                if lenient:
                    dangling.append(Dangling(release.name, dependency, problem))
                else:
                    collector.add(problem)
    return dangling


_MARKER = "${ref:"
_REFERENCE_TARGET = re.compile(r"\$\{ref:([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.[^}]*\}")


def _dangling_references(
    releases: list[Release], documents: dict[str, Document], values_documents: dict[str, Document]
) -> list[Dangling]:
    """``${ref:NAME...}`` values naming no release (render refuses them when it resolves)."""
    names = {release.name for release in releases}
    found: list[Dangling] = []
    for release in releases:
        sources: list[tuple[Document, tuple[Any, ...], Any]] = [
            (values_documents[path], (), values_documents[path].data) for path in release.values_files
        ]
        sources.append((documents[release.origin], ("values",), release.values))
        for document, prefix, data in sources:
            if not document.may_hold(_MARKER):
                continue
            for key_path, text in marker_strings(data, prefix):
                for match in _REFERENCE_TARGET.finditer(text):
                    target = match.group(1)
                    if target not in names:
                        problem = document.problem(
                            key_path,
                            f"reference to release '{target}', which does not exist",
                            "name a release of this stack",
                        )
                        found.append(Dangling(release.name, target, problem))
    return found


# What marker_strings found in a mapping or list, by its identity (and the prefix), with
# the data itself (so its identity stays its own): loading checks references, rendering
# resolves them, both walk the same values; a diff's head shares most of them with its base.
_MARKED: ContextVar[dict[tuple[int, tuple[Any, ...]], tuple[Any, list[Any]]] | None] = ContextVar(
    "rail_marked", default=None
)


def sharing_marks() -> AbstractContextManager[None]:
    """Inside, values are walked for references once (data is never changed in place);
    inside another such scope, that one's walks are shared."""
    return nullcontext() if _MARKED.get() is not None else memo_scope(_MARKED)


# The walks of one stack's values, by the file each is of (a spec's origin, a values
# file's path) and the prefix walked under: each with the data walked and what was found.
Marks = dict[tuple[str, tuple[Any, ...]], tuple[Any, list[tuple[tuple[Any, ...], str]]]]


def marks_of(loaded: LoadedStack) -> Marks:
    """The walks this scope made of ``loaded``'s values (see :func:`sharing_marks`): a diff
    side keeps them (renderer.diff.snapshot), so the run that restores it, and reads the
    other side's mostly unchanged values, walks only what changed."""
    memo = _MARKED.get()
    if not memo:
        return {}
    found: Marks = {}
    for release in loaded.stack.releases:
        sources: list[tuple[str, tuple[Any, ...], Any]] = [
            (path, (), loaded.values_documents[path].data) for path in release.values_files
        ]
        sources.append((release.origin, ("values",), release.values))
        for where, prefix, data in sources:
            known = memo.get((id(data), prefix))
            if known is not None and known[0] is data:
                found[(where, prefix)] = known
    return found


def share_marks(marks: Marks) -> None:
    """Take walks an earlier run made (:func:`marks_of`) as this scope's own: the data they
    name is walked no more while it lives (a restored side holds it)."""
    memo = _MARKED.get()
    if memo is None:
        return
    for (_, prefix), (data, walked) in marks.items():
        memo.setdefault((id(data), prefix), (data, walked))


def marker_strings(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every string of ``data`` holding ``${ref:``, with its key path (after ``prefix``),
    depth first in the data's order. A key path is built only for such a string: a
    stack's values are mostly strings without one (load and render each walk them).
    The list is shared inside :func:`sharing_marks`: read it, never change it."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, (dict, list)):
        memo = _MARKED.get()
        known = memo.get((id(data), prefix)) if memo is not None else None
        if known is not None and known[0] is data:
            return known[1]
        _walk(data, list(prefix), found)
        if memo is not None:
            memo[(id(data), prefix)] = (data, found)
    elif isinstance(data, str) and _MARKER in data:
        found.append((prefix, data))
    return found


def _walk(data: dict[Any, Any] | list[Any], path: list[Any], found: list[tuple[tuple[Any, ...], str]]) -> None:
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        if isinstance(value, str):
            if _MARKER in value:
                found.append(((*path, key), value))
        elif isinstance(value, (dict, list)):
            path.append(key)
            _walk(value, path, found)
            path.pop()


def _check_claim_secrets(
    releases: list[Release],
    secret_files: dict[str, SecretFile],
    spec_documents: dict[str, Document],
    collector: ProblemCollector,
) -> None:
    """A claim's password Secret lives where its bootstrap Job runs: the database's namespace.

    A claim of a release that does not exist is the lint finding ``database-claim``, not an error here.
    """
    by_name = {release.name: release for release in releases}
    for release in releases:
        claim = release.needs.database
        if claim is None or claim.release not in by_name:
            continue
        database = by_name[claim.release]
        secret = secret_files[claim.password_secret]
        key_path = ("needs", "database", "passwordSecret")
        document = spec_documents[release.origin]
        if secret.namespace != database.namespace:
            collector.add(
                document.problem(
                    key_path,
                    f"Secret '{secret.name}' is in namespace '{secret.namespace}', the bootstrap of"
                    f" '{claim.release}' runs in '{database.namespace}'",
                    "a Job can only read Secrets of its own namespace: put the claim's Secret there",
                )
            )
        elif claim.password_key not in secret.keys:
            collector.add(
                document.problem(
                    ("needs", "database", "passwordKey"),
                    f"Secret '{secret.name}' has no key '{claim.password_key}'",
                    f"use one of its keys: {', '.join(secret.keys) or '(none)'}",
                )
            )


def _backups(
    root: Path,
    config: StackConfig,
    releases: list[Release],
    documents: list[Document],
    secret_files: dict[str, SecretFile],
    collector: ProblemCollector,
    strict: bool,
    dangling: list[Dangling],
) -> tuple[Backup, ...]:
    """The ``kind: Backup`` specs: checked against their schema, the releases they
    cover, and the destination Secret they list (its namespace and keys)."""
    by_name = {release.name: release for release in releases}
    backups: list[Backup] = []
    names: dict[str, str] = {}
    for document in documents:
        try:
            schema_problems = validate(document, "backup.schema.json")
            if schema_problems:
                collector.extend(schema_problems)
                continue
            missing: list[tuple[str, Problem]] | None = None if strict else []
            backup = Backup.from_data(document.data, document, config, by_name, missing)
            # Lint and diff load on: a covered release that is gone is a finding (and what
            # dependency-removed reads when the change removed it), as a dangling dependsOn.
            dangling.extend(Dangling(backup.name, name, problem) for name, problem in missing or ())
            other = names.get(backup.name) or (by_name[backup.name].origin if backup.name in by_name else None)
            if other is not None:
                collector.add(
                    document.problem(
                        ("name",),
                        f"name '{backup.name}' is also used by {other}",
                        "backup and release names are unique in a stack",
                    )
                )
            names[backup.name] = backup.origin
            listed: dict[str, SecretFile] = {}
            for index, secret_path in enumerate(backup.secrets):
                secret = _secret_file(root, secret_path, document, index, strict=strict)
                if secret.namespace != backup.namespace:
                    collector.add(
                        document.problem(
                            ("secrets", index),
                            f"Secret '{secret.name}' is in namespace '{secret.namespace}',"
                            f" backup '{backup.name}' in '{backup.namespace}'",
                            "a pod can only read Secrets of its own namespace: move the Secret",
                        )
                    )
                secret_files[secret_path] = secret
                listed[secret.name] = secret
            destination = backup.destination
            found = listed.get(destination.secret_name)
            if found is None:
                collector.add(
                    document.problem(
                        ("destination", "secretName"),
                        f"Secret '{destination.secret_name}' is not among the backup's secrets",
                        "list its SOPS file under secrets: so rail renders it beside the CronJobs",
                    )
                )
            else:
                absent = [key for key in DESTINATION_KEYS[destination.type] if key not in found.keys]
                if absent:
                    collector.add(
                        document.problem(
                            ("destination", "secretName"),
                            f"Secret '{found.name}' has no key {', '.join(repr(key) for key in absent)}",
                            f"a {destination.type} destination reads "
                            + " and ".join(DESTINATION_KEYS[destination.type]),
                        )
                    )
            backups.append(backup)
        except InputError as error:
            collector.extend(error.problems)
    return tuple(sorted(backups, key=lambda backup: backup.name))
