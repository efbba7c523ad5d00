"""sops-unencrypted: a SOPS file with a value that is not encrypted, or no SOPS metadata.

A ``*.sops.yaml`` file says "encrypted" by its name; Flux decrypts it, rail copies
it byte for byte into ``rendered/``. When a value under ``data`` or ``stringData`` is
still plain text (added by hand after encryption, or a file that was never run
through ``sops``) the secret is in git for everyone to read, and Flux's decryption
fails on the file. Checked: every ``*.sops.yaml`` / ``*.sops.yml`` file and every YAML
document with a top-level ``sops:`` block — the secrets the specs list (reported at
the source file, with the rendered copy as related); any other ``*.sops.yaml`` in the
stack's own folders (the top folders of its specs, values files and secrets, such as
``releases/``, ``values/``, ``secrets/``, and files at the stack root): a stray secret
about to be committed; more folders with the option ``paths``; and the manifests named
on the command line. A value is encrypted when it is an ``ENC[AES256_GCM,...]``
string; the file needs a ``sops:`` block with a ``mac``. SOPS's own config file
``.sops.yaml`` is not a secret and is skipped. Values are never printed, only keys.

Options (``rail.yaml``)::

    lint:
      rules:
        sops-unencrypted:
          options:
            paths: [clusters, apps]   # also search these folders for stray *.sops.yaml files

Fails::

    # secrets/s3/valkey-credentials.sops.yaml
    stringData:
      valkey-password: hunter2            # plain text next to the sops block
    sops:
      mac: ENC[AES256_GCM,...]

Passes::

    stringData:
      valkey-password: ENC[AES256_GCM,data:...,iv:...,tag:...,type:str]
    sops:
      age: [...]
      mac: ENC[AES256_GCM,...]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from ...errors import InputError
from ...load.stack import LoadedStack
from ...quoting import shell_path
from ...secrets import is_blank, is_sops_encrypted
from ...yamlio import Document, load_documents
from ..finding import ERROR, WARNING, Finding, Location, ObjectRef
from ..manifests import SKIPPED_DIRS, Manifest
from ..rule import GRAPH_WIDE, LintContext, Rule

SOPS_SUFFIXES = (".sops.yaml", ".sops.yml")
SOPS_CONFIG_NAMES = frozenset({".sops.yaml", ".sops.yml"})  # sops's creation rules, not a secret
# Never worth walking for a stray secret: tool caches beside the usual skips.
_PRUNED = SKIPPED_DIRS | {".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox", ".cache"}
SECTIONS = ("data", "stringData")


def is_sops_path(path: str) -> bool:
    if not path.endswith(SOPS_SUFFIXES) and not path.endswith(("/", ".")):
        return False  # the path ends with its name, which has no SOPS suffix (asked of every file)
    return _sops_name(PurePosixPath(path).name)


def _sops_name(name: str) -> bool:
    return name.endswith(SOPS_SUFFIXES) and name not in SOPS_CONFIG_NAMES


def check(context: LintContext) -> Iterator[Finding]:
    loaded = context.loaded
    checked: set[str] = set()
    copies: dict[tuple[str | None, str], list[Manifest]] = {}
    sources: dict[tuple[str | None, str], Any] = {}
    if loaded is not None:
        output = loaded.stack.config.output.rstrip("/") + "/"
        parsed = {path: [secret.document] for path, secret in loaded.secret_files.items()}
        for path, secret in loaded.secret_files.items():
            documents = parsed[path]
            if documents:
                sources.setdefault((secret.namespace, secret.name), documents[0].data)
        for manifest in context.graph.manifests:
            key = (manifest.namespace, manifest.name)
            if manifest.kind == "Secret" and manifest.path.startswith(output) and sources.get(key) == manifest.data:
                copies.setdefault(key, []).append(manifest)
        for path, secret in sorted(loaded.secret_files.items()):
            checked.add(path)
            rendered = copies.get((secret.namespace, secret.name), [])
            for document in parsed[path] or ():
                yield from _check(document, [copy.document for copy in rendered])
    copy_ids = {id(manifest) for manifests in copies.values() for manifest in manifests}
    by_path: dict[str, list[Manifest]] = {}
    for manifest in context.graph.manifests:
        if id(manifest) not in copy_ids and manifest.path not in checked:
            by_path.setdefault(manifest.path, []).append(manifest)
    for path, manifests in by_path.items():
        checked.add(path)
        named = is_sops_path(path)
        for manifest in manifests:
            if named or isinstance(manifest.data.get("sops"), dict):
                yield from _check(manifest.document, ())
    if loaded is not None and context.root is not None:
        extra = context.option(RULE.id, "paths", [])
        folders = _stack_folders(loaded, [str(item) for item in extra])
        yield from _strays(context.root, folders, loaded.stack.config.output, checked)


def _stack_folders(loaded: LoadedStack, extra: list[str]) -> list[str]:
    """Where a stack keeps what it is made of: the top folders of its specs, values files and
    secrets (``releases/``, ``values/``, ``secrets/``), plus the rule's ``paths`` option."""
    folders = set(extra)
    for path in (loaded.stack.config.releases_dir + "/", *loaded.secret_files, *loaded.values_documents):
        segments = path.split("/")
        # A plain relative path is its own parts (thousands of them: no PurePosixPath each).
        parts = segments if "" not in segments[:-1] and "." not in segments and ".." not in segments else None
        if parts is None or parts[-1] == "":
            parts = list(PurePosixPath(path).parts)
        if len(parts) > 1 or path.endswith("/"):
            folders.add(parts[0])
    return sorted(folder for folder in folders if folder not in ("", ".", ".."))


def _strays(root: Path, folders: list[str], output: str, checked: set[str]) -> Iterator[Finding]:
    """``*.sops.yaml`` files in the stack's folders (and at its root) that nothing else looked at."""
    output_dir = (root / output).resolve()
    # Only a SOPS-named file can be one: the others (thousands) never become paths. Each
    # is its display path (relative, "/"-separated) and its file: plain strings, as a
    # stack's SOPS files are a thousand or more.
    candidates = [(path.name, path) for path in sorted(root.iterdir()) if _sops_name(path.name) and path.is_file()]
    seen: set[Path] = set()
    top = os.fspath(root)
    for folder in folders:
        start = (root / folder).resolve()
        if start in seen or not start.is_dir() or start == output_dir or not start.is_relative_to(root.resolve()):
            continue
        seen.add(start)
        for current_name, dirs, files in os.walk(root / folder):
            current = Path(current_name)
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in _PRUNED and not d.startswith(".venv") and (current / d).resolve() != output_dir
            )
            shown = os.path.relpath(current_name, top).replace(os.sep, "/")
            for name in sorted(name for name in files if _sops_name(name)):
                display = f"{shown}/{name}"
                if display not in checked:  # a file a spec lists was checked already (nearly all): no path made
                    candidates.append((display, current / name))
    for display, path in candidates:
        if display in checked:
            continue
        checked.add(display)
        try:
            from ...load.files import read_text

            documents = _parse(read_text(path, display), display, strict=True)
        except InputError:  # any reading problem becomes a finding, never a crash
            yield Finding(
                rule=RULE.id,
                message="cannot be read as YAML, so whether it is encrypted could not be checked",
                location=Location(display),
                severity=WARNING,
                hint="a file sops wrote is valid YAML: re-create it with sops",
            )
            continue
        for document in documents:
            yield from _check(document, ())


def _parse(text: str, path: str, *, strict: bool = False) -> list[Document]:
    try:
        return [d for d in load_documents(text, path, strict_tags=False) if isinstance(d.data, dict)]
    except InputError:
        if strict:
            raise
        return []


def _object(data: dict[str, Any]) -> ObjectRef | None:
    kind, metadata = data.get("kind"), data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    if isinstance(kind, str) and isinstance(name, str):
        return ObjectRef(kind, namespace if isinstance(namespace, str) else None, name)
    return None


def _location(document: Document, key_path: tuple[Any, ...]) -> Location:
    return Location(*document.where(key_path))


def _check(document: Document, rendered: Iterable[Document]) -> Iterator[Finding]:
    data = document.data
    if not isinstance(data, dict):
        return
    copies = tuple(rendered)
    path = document.path
    subject = _object(data)
    what = f"{subject.kind} '{subject.name}'" if subject else "this file"
    sops = data.get("sops")
    # Keys sops was told to leave alone (its unencrypted_suffix) are plain on purpose.
    suffix = sops.get("unencrypted_suffix") if isinstance(sops, dict) else None
    plain: list[tuple[str, str]] = []
    for section in SECTIONS:
        entries = data.get(section)
        if isinstance(entries, dict):
            plain.extend(
                (section, str(key))
                for key, value in entries.items()
                if not is_sops_encrypted(value)
                and not is_blank(value)
                and not (isinstance(suffix, str) and suffix and str(key).endswith(suffix))
            )

    def related(key_path: tuple[Any, ...]) -> tuple[Location, ...]:
        return tuple(_location(copy, key_path) for copy in copies)

    if not isinstance(sops, dict):
        keys = ", ".join(key for _, key in plain[:5]) + (f" and {len(plain) - 5} more" if len(plain) > 5 else "")
        yield Finding(
            rule=RULE.id,
            message=f"{what} has no SOPS metadata (no sops: block): it is not encrypted"
            + (f"; its values ({keys}) are plain text" if plain else ""),
            location=_location(document, ()),
            object=subject,
            related=related(()),
            hint=f"encrypt it: sops --encrypt --in-place {shell_path(path)} (then rotate any value that was committed)",
        )
        return
    if not sops.get("mac"):
        yield Finding(
            rule=RULE.id,
            message=f"{what} has a sops: block without a mac: it was not written by sops, or edited by hand",
            location=_location(document, ("sops",)),
            object=subject,
            related=related(("sops",)),
            hint=f"re-encrypt it: sops --encrypt --in-place {shell_path(path)}",
        )
    for section, key in plain:
        yield Finding(
            rule=RULE.id,
            message=f"{what}: {section}.{key} is not encrypted (not an ENC[AES256_GCM,...] value)",
            location=_location(document, (section, key)),
            object=subject,
            related=related((section, key)),
            hint=f"edit secrets with `sops {shell_path(path)}`, never by hand;"
            " rotate the value: it is in git as plain text",
        )


RULE = Rule(
    id="sops-unencrypted",
    scope=GRAPH_WIDE,  # files found on disk, and the rendered documents a finding points at
    severity=ERROR,
    summary="a SOPS file with a value that is not encrypted, or no SOPS metadata",
    check=check,
    doc=__doc__ or "",
    options_schema={"paths": {"type": "array", "items": {"type": "string", "minLength": 1}}},
)
