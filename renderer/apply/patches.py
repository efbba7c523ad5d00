"""Applying one patch (strategic merge or JSON 6902) to the objects of a build.

Which objects: with a ``target``, those it selects; a strategic merge patch without
one patches the object it names (apiVersion, kind, name and namespace, matched
against the object's current and earlier ids, as kustomize's ``GetById``), and it
is an error (a note here) when that is not exactly one object. A patch never
renames: kustomize restores name, namespace and kind after a strategic merge.
Every patch applies to a copy first, so one that fails changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..yamlio import Document, KeyPath
from . import jsonpatch
from .kinds import gvk_of, list_merge
from .model import copy_data
from .resource import Recorder, ResId, Resource
from .selector import Target
from .strategic import is_delete, merge

# Reports a patch that kustomize would refuse: (message).
Complain = Callable[[str], None]


@dataclass(frozen=True)
class PatchText:
    """One parsed patch document and where its positions sit in its file."""

    document: Document
    line_offset: int = 0
    column_offset: int = 0

    def recorder(self) -> Recorder:
        return Recorder(self.document, self.line_offset, self.column_offset)


def is_json_patch(data: Any) -> bool:
    return isinstance(data, list)


def strategic(resources: list[Resource], patch: PatchText, target: Target | None, complain: Complain) -> None:
    data = patch.document.data
    if not isinstance(data, dict):
        complain("a strategic merge patch must be a mapping")
        return
    chosen = [r for r in resources if target.selects(r)] if target is not None else _named(resources, data, complain)
    for resource in chosen:
        if is_delete(data):
            resources.remove(resource)
            continue
        body = {key: value for key, value in data.items() if key not in ("apiVersion", "kind")}
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            body["metadata"] = {k: v for k, v in metadata.items() if k not in ("name", "namespace")}
        recorder = patch.recorder()
        work = copy_data(resource.data)
        merge(work, body, partial(list_merge, resource.gvk), recorder)
        resource.data = work
        recorder.commit(resource)


def _named(resources: list[Resource], data: dict[str, Any], complain: Complain) -> list[Resource]:
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        complain("a strategic merge patch without a target must name its object (metadata.name)")
        return []
    wanted = ResId(gvk_of(data), name, namespace if isinstance(namespace, str) else "")
    found = [r for r in resources if r.any_id_equals(wanted)]
    if len(found) != 1:
        what = f"{wanted.gvk.kind} '{name}'"
        complain(
            f"no object matches the patch for {what}"
            if not found
            else f"several objects match the patch for {what}; give the patch a target"
        )
        return []
    return found


def json6902(resources: list[Resource], patch: PatchText, target: Target, complain: Complain) -> None:
    operations = patch.document.data
    for resource in [r for r in resources if target.selects(r)]:
        recorder = patch.recorder()
        try:
            patched = jsonpatch.apply(copy_data(resource.data), operations, recorder)
        except jsonpatch.JsonPatchError as exc:
            complain(f"JSON patch on {resource.kind} '{resource.name}': {exc}")
            continue
        if not isinstance(patched, dict):
            complain(f"JSON patch on {resource.kind} '{resource.name}' left no object")
            continue
        resource.remember_id()
        resource.data = patched
        recorder.commit(resource)


def inline_offsets(document: Document, key_path: KeyPath, *, is_key: bool) -> tuple[int, int]:
    """Where an inline patch string's own line 1, column 1 sit in ``document``: a block
    scalar (``patch: |``) starts on the next line at its indentation; a one-line string
    on its own line (columns then approximate)."""
    line, column = document.locate(key_path)
    if line is None or column is None or document.text is None:
        return (0, 0)
    lines = document.text.splitlines()
    rest = lines[line - 1][column - 1 :] if line <= len(lines) else ""
    if is_key:
        rest = rest.split(":", 1)[1] if ":" in rest else ""
    if rest.strip().startswith(("|", ">")):
        following = next((text for text in lines[line:] if text.strip()), "")
        return (line, len(following) - len(following.lstrip(" ")))
    return (line - 1, 0)
