"""kustomize's built-in transformers: namespace, name affixes, labels, annotations,
images and replicas, each as kustomize v5.5 applies them (see ``kinds.py`` for the
fields). Every value set is recorded against the kustomization line that asked for
it, so a finding on ``metadata.namespace`` points at ``namespace:``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..yamlio import Document, KeyPath
from .kinds import (
    COMMON_ANNOTATIONS,
    NAMESPACE_FIELDS,
    REPLICAS,
    FieldSpec,
    is_cluster_scoped,
    is_core_namespace,
    skips_name_affixes,
)
from .resource import Resource

# Called with the mapping that holds the field, the field's name and its object key path.
Visit = Callable[[dict[str, Any], str, KeyPath], None]


def walk(data: Any, spec: FieldSpec, visit: Visit) -> None:
    """Call ``visit`` on every place ``spec.path`` reaches in ``data``; lists on the way
    are walked item by item; with ``spec.create`` missing mappings are made."""
    _walk(data, spec.path, (), spec.create, visit)


def _walk(node: Any, parts: tuple[str, ...], path: KeyPath, create: bool, visit: Visit) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, parts, (*path, index), create, visit)
        return
    if not isinstance(node, dict) or not parts:
        return
    key = parts[0]
    if len(parts) == 1:
        if node.get(key) is not None or create:
            visit(node, key, (*path, key))
        return
    child = node.get(key)
    if child is None:
        if not create:
            return
        child = node[key] = {}
    _walk(child, parts[1:], (*path, key), create, visit)


def set_namespace(resources: Iterable[Resource], namespace: str, document: Document) -> None:
    """``namespace:``: set on every namespaced object (a core Namespace is renamed to
    it instead); subjects named ``default`` of (Cluster)RoleBindings move to it too."""
    source: KeyPath = ("namespace",)
    for resource in resources:
        gvk = resource.gvk
        entries: list[tuple[KeyPath, KeyPath]] = []
        if is_core_namespace(gvk):
            if resource.name != namespace:
                resource.remember_id()
                resource.metadata["name"] = namespace
                entries.append((("metadata", "name"), source))
        elif not is_cluster_scoped(gvk):
            resource.remember_id()
            resource.metadata["namespace"] = namespace
            entries.append((("metadata", "namespace"), source))
        if gvk.kind in ("RoleBinding", "ClusterRoleBinding"):
            subjects = resource.data.get("subjects")
            for index, subject in enumerate(subjects if isinstance(subjects, list) else []):
                if isinstance(subject, dict) and subject.get("name") == "default":
                    subject["namespace"] = namespace
                    entries.append((("subjects", index, "namespace"), source))
        for spec in NAMESPACE_FIELDS:
            if spec.selects(gvk):
                walk(resource.data, spec, _setter(namespace, source, entries))
        resource.record(document, entries)


def add_affixes(resources: Iterable[Resource], prefix: str, suffix: str, document: Document) -> None:
    """``namePrefix``/``nameSuffix`` (not on CRDs, Namespaces and APIServices)."""
    source: KeyPath = ("namePrefix",) if prefix else ("nameSuffix",)
    for resource in resources:
        if skips_name_affixes(resource.gvk):
            continue
        resource.remember_id()
        resource.metadata["name"] = f"{prefix}{resource.name}{suffix}"
        resource.record(document, [(("metadata", "name"), source)])


def add_map_entries(
    resources: Iterable[Resource],
    pairs: Mapping[str, str],
    specs: Iterable[FieldSpec],
    document: Document,
    source: KeyPath,
) -> None:
    """Labels or annotations ``pairs`` into the mappings ``specs`` name."""
    specs = tuple(specs)
    for resource in resources:
        entries: list[tuple[KeyPath, KeyPath]] = []
        for spec in specs:
            if spec.selects(resource.gvk):
                walk(resource.data, spec, _entries_setter(pairs, source, entries))
        resource.record(document, entries)


def add_annotations(resources: Iterable[Resource], pairs: Mapping[str, str], document: Document) -> None:
    add_map_entries(resources, pairs, COMMON_ANNOTATIONS, document, ("commonAnnotations",))


def set_images(resources: Iterable[Resource], image: Mapping[str, str], document: Document, source: KeyPath) -> None:
    """One ``images`` entry: every ``image`` of a ``containers`` or ``initContainers``
    list anywhere in an object (kustomize's legacy filter reaches custom resources too)."""
    name = image.get("name", "")
    try:
        pattern = re.compile(name + r"(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?")
    except re.error:
        return
    for resource in resources:
        entries: list[tuple[KeyPath, KeyPath]] = []
        for path, container in _containers(resource.data, ()):
            value = container.get("image")
            if isinstance(value, str) and pattern.fullmatch(value):
                container["image"] = updated_image(value, image)
                entries.append(((*path, "image"), source))
        resource.record(document, entries)


def _containers(node: Any, path: KeyPath) -> Iterable[tuple[KeyPath, dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        yield (*path, key, index), item
            yield from _containers(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _containers(item, (*path, index))


def split_image(image: str) -> tuple[str, str, str]:
    """Name, tag and digest, as kustomize's ``image.Split`` (a registry port is no tag)."""
    slash = image.find("/")
    offset = slash if slash > 0 else 0
    search = image[offset:]
    at, colon = search.find("@"), search.find(":")
    if colon < 0 and at < 0:
        return image, "", ""
    if at >= 0 and (at < colon or colon < 0):
        return image[: at + offset], "", image[at + offset + 1 :]
    if at >= 0:
        return image[: colon + offset], image[colon + offset + 1 : at + offset], image[at + offset + 1 :]
    return image[: colon + offset], image[colon + offset + 1 :], ""


def updated_image(value: str, image: Mapping[str, str]) -> str:
    name, tag, digest = split_image(value)
    name = image.get("newName") or name
    new_tag, new_digest = image.get("newTag", ""), image.get("digest", "")
    if new_tag and new_digest:
        tag, digest = new_tag, new_digest
    elif new_tag:
        tag, digest = new_tag, ""
    elif new_digest:
        tag, digest = "", new_digest
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def set_replicas(resources: Iterable[Resource], name: str, count: int, document: Document, source: KeyPath) -> None:
    """One ``replicas`` entry: objects that have or had ``name``."""
    for resource in resources:
        if not any(known.name == name for known in (resource.current_id, *resource.previous)):
            continue
        entries: list[tuple[KeyPath, KeyPath]] = []
        for spec in REPLICAS:
            if spec.selects(resource.gvk):
                walk(resource.data, spec, _setter(count, source, entries))
        resource.record(document, entries)


def _entries_setter(pairs: Mapping[str, str], source: KeyPath, entries: list[tuple[KeyPath, KeyPath]]) -> Visit:
    def visit(holder: dict[str, Any], key: str, path: KeyPath) -> None:
        target = holder.get(key)
        if not isinstance(target, dict):
            target = holder[key] = {}
        for name, value in pairs.items():
            target[name] = value
            entries.append(((*path, name), (*source, name)))

    return visit


def _setter(value: Any, source: KeyPath, entries: list[tuple[KeyPath, KeyPath]]) -> Visit:
    def visit(holder: dict[str, Any], key: str, path: KeyPath) -> None:
        holder[key] = value
        entries.append((path, source))

    return visit
