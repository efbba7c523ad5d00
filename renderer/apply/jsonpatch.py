"""JSON patches (RFC 6902), as kustomize applies them to an object.

``add``, ``remove``, ``replace``, ``move``, ``copy`` and ``test``, with JSON pointers
(RFC 6901: ``~1`` is ``/``, ``~0`` is ``~``; ``-`` appends to a list). As in
kustomize (evanphx/json-patch), ``add`` needs the parent to exist and any failed
operation fails the whole patch: the caller applies it to a copy.
"""

from __future__ import annotations

import copy
from typing import Any

from ..yamlio import KeyPath
from .resource import Recorder


class JsonPatchError(ValueError):
    """An operation that cannot apply; the message names the operation, never a value."""


def parse_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise JsonPatchError("a path must be a string")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f"path {pointer!r} must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def apply(document: Any, operations: Any, recorder: Recorder) -> Any:
    """``document`` with ``operations`` applied (``document`` itself is changed too)."""
    if not isinstance(operations, list):
        raise JsonPatchError("a JSON patch must be a list of operations")
    for index, operation in enumerate(operations):
        try:
            document = _apply_one(document, operation, index, recorder)
        except JsonPatchError as exc:
            raise JsonPatchError(f"operation {index + 1}: {exc}") from None
    return document


def _apply_one(document: Any, operation: Any, index: int, rec: Recorder) -> Any:
    if not isinstance(operation, dict):
        raise JsonPatchError("an operation must be a mapping")
    op = operation.get("op")
    path = parse_pointer(operation.get("path"))
    if op in ("add", "replace", "test") and "value" not in operation:
        raise JsonPatchError(f"'{op}' needs a value")
    if op == "add":
        return _add(document, path, copy.deepcopy(operation["value"]), (index, "value"), rec)
    if op == "remove":
        _remove(document, path, rec)
        return document
    if op == "replace":
        if not path:
            rec.set((), (index, "value"))
            return copy.deepcopy(operation["value"])
        parent, key = _parent(document, path)
        _require(parent, key)
        parent[key] = copy.deepcopy(operation["value"])
        rec.set(_key_path(document, path), (index, "value"))
        return document
    if op in ("move", "copy"):
        source = parse_pointer(operation.get("from"))
        value = copy.deepcopy(_get(document, source))
        if op == "move":
            if path[: len(source)] == source and path != source:
                raise JsonPatchError("cannot move a value into itself")
            _remove(document, source, rec)
        return _add(document, path, value, (index,), rec)
    if op == "test":
        if _get(document, path) != operation["value"]:
            raise JsonPatchError("test failed")
        return document
    raise JsonPatchError(f"unknown op {op!r}")


def _add(document: Any, path: list[str], value: Any, source: KeyPath, rec: Recorder) -> Any:
    if not path:
        rec.set((), source)
        return value
    parent, key = _parent(document, path)
    if isinstance(parent, list):
        position = len(parent) if key == "-" else _index(key, len(parent) + 1)
        rec.insert(_key_path(document, path[:-1]), position, len(parent))
        parent.insert(position, value)
        rec.set((*_key_path(document, path[:-1]), position), source)
    else:
        parent[key] = value
        rec.set(_key_path(document, path), source)
    return document


def _remove(document: Any, path: list[str], rec: Recorder) -> None:
    if not path:
        raise JsonPatchError("cannot remove the whole object")
    parent, key = _parent(document, path)
    _require(parent, key)
    if isinstance(parent, list):
        position = _index(key, len(parent))
        rec.remove(_key_path(document, path[:-1]), position, len(parent))
        del parent[position]
    else:
        del parent[key]


def _parent(document: Any, path: list[str]) -> tuple[Any, str]:
    parent = _get(document, path[:-1])
    if not isinstance(parent, (dict, list)):
        raise JsonPatchError(f"'{_pointer(path[:-1])}' is not a mapping or a list")
    return parent, path[-1]


def _require(parent: Any, key: str) -> None:
    if isinstance(parent, list):
        _index(key, len(parent))
    elif key not in parent:
        raise JsonPatchError(f"no key '{key}'")


def _get(document: Any, path: list[str]) -> Any:
    current = document
    for depth, part in enumerate(path):
        if isinstance(current, dict):
            if part not in current:
                raise JsonPatchError(f"'{_pointer(path[: depth + 1])}' does not exist")
            current = current[part]
        elif isinstance(current, list):
            current = current[_index(part, len(current))]
        else:
            raise JsonPatchError(f"'{_pointer(path[: depth + 1])}' does not exist")
    return current


def _index(part: str, limit: int) -> int:
    if not part.isdigit() or (len(part) > 1 and part.startswith("0")):
        raise JsonPatchError(f"'{part}' is not a list index")
    position = int(part)
    if position >= limit:
        raise JsonPatchError(f"index {position} is out of range")
    return position


def _key_path(document: Any, path: list[str]) -> KeyPath:
    """The object key path of a pointer (list indices as ints)."""
    parts: list[str | int] = []
    current = document
    for part in path:
        if isinstance(current, list):
            position = len(current) if part == "-" else int(part)
            parts.append(position)
            current = current[position] if position < len(current) else None
        else:
            parts.append(part)
            current = current.get(part) if isinstance(current, dict) else None
    return tuple(parts)


def _pointer(path: list[str]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
