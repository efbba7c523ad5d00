"""Strategic merge patches, as kustomize v5.5 applies them.

Maps merge key by key; ``null`` deletes a key; ``$patch: replace`` replaces a map or
(as a list item) a list, ``$patch: delete`` removes a map, a list item or (at the
top) the whole object. Lists merge only where kustomize's schema says how (see
:func:`~renderer.apply.kinds.list_merge`); every other list, and every list of a
kind kustomize has no schema for (``HelmRelease`` and every custom resource), is
replaced by the patch's. New values are cleaned the way kustomize leaves them:
``null`` keys dropped, empty maps and lists kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..yamlio import KeyPath
from .kinds import ListMerge
from .resource import Recorder

DIRECTIVE = "$patch"

# How a list at an object key path merges (None: replace).
MergeRule = Callable[[KeyPath], ListMerge | None]


class PatchError(ValueError):
    """The patch cannot be applied (kustomize stops the build)."""


def is_delete(patch: Any) -> bool:
    return isinstance(patch, dict) and patch.get(DIRECTIVE) == "delete"


def merge(target: dict[str, Any], patch: dict[str, Any], rule: MergeRule, recorder: Recorder) -> None:
    """Merge ``patch`` into ``target`` in place, telling ``recorder`` what it set."""
    _merge_map(target, patch, (), (), rule, recorder)


def _merge_map(
    target: dict[str, Any], patch: dict[str, Any], path: KeyPath, source: KeyPath, rule: MergeRule, rec: Recorder
) -> None:
    if patch.get(DIRECTIVE) == "replace":
        target.clear()
        target.update(clean(patch))
        rec.set(path, source)
        return
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        for key in [key for key in target if key not in retain]:
            del target[key]
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        here, there = (*path, key), (*source, key)
        if value is None:
            target.pop(key, None)
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            if value.get(DIRECTIVE) == "delete":
                del target[key]
            else:
                _merge_map(current, value, here, there, rule, rec)
        elif isinstance(value, list) and isinstance(current, list):
            target[key] = _merge_list(current, value, here, there, rule, rec)
        elif is_delete(value):
            target.pop(key, None)
        else:
            target[key] = clean(value)
            rec.set(here, there)


def _merge_list(
    target: list[Any], patch: list[Any], path: KeyPath, source: KeyPath, rule: MergeRule, rec: Recorder
) -> list[Any]:
    replace_at = next(
        (i for i, item in enumerate(patch) if isinstance(item, dict) and item.get(DIRECTIVE) == "replace"), None
    )
    how = rule(path)
    if replace_at is not None or how is None:
        items = [item for i, item in enumerate(patch) if i != replace_at]
        rec.set(path, source)
        return clean(items)  # type: ignore[no-any-return]
    if not how.keys:
        return _merge_scalars(target, patch, path, source, rec)
    if len(how.keys) == 1:
        return _merge_by_key(target, patch, how.keys[0], path, source, rule, rec)
    return _merge_by_keys(target, patch, how.keys, path, source, rule, rec)


def _merge_scalars(target: list[Any], patch: list[Any], path: KeyPath, source: KeyPath, rec: Recorder) -> list[Any]:
    """A set of scalars (``finalizers``): the patch's items first, then the others."""
    wanted = [item for item in patch if not isinstance(item, (dict, list))]
    result = list(dict.fromkeys(wanted))
    moves: dict[int, int | None] = {}
    for old, item in enumerate(target):
        if item in result:
            moves[old] = None
        else:
            moves[old] = len(result)
            result.append(item)
    rec.reindex(path, moves)
    for index, item in enumerate(patch):
        if item in wanted:
            rec.set((*path, result.index(item)), (*source, index))
    return result


def _merge_by_key(
    target: list[Any], patch: list[Any], key: str, path: KeyPath, source: KeyPath, rule: MergeRule, rec: Recorder
) -> list[Any]:
    """Items merge by ``key``; the result lists the patch's items in the patch's order,
    then the target's other items in theirs (what ``kubectl kustomize`` prints)."""
    index_of: dict[Any, int] = {}
    for old, item in enumerate(target):
        if isinstance(item, dict) and key in item:
            index_of.setdefault(item[key], old)
    layout: list[tuple[int | None, int]] = []  # (old index or None, patch index)
    deleted: set[int] = set()
    for at, item in enumerate(patch):
        match = index_of.get(item.get(key)) if isinstance(item, dict) and key in item else None
        if match is not None and (match in deleted or any(match == used for used, _ in layout)):
            match = None  # a second patch item for the same key: kept as new
        if is_delete(item):
            if match is not None:
                deleted.add(match)
            continue
        layout.append((match, at))
    used = {old for old, _ in layout if old is not None} | deleted
    rest = [old for old in range(len(target)) if old not in used]
    moves: dict[int, int | None] = {old: None for old in deleted}
    for new, (match, _) in enumerate(layout):
        if match is not None:
            moves[match] = new
    for offset, old in enumerate(rest):
        moves[old] = len(layout) + offset
    rec.reindex(path, moves)
    result: list[Any] = []
    for new, (match, at) in enumerate(layout):
        item = patch[at]
        if match is None:
            result.append(clean(item))
            rec.set((*path, new), (*source, at))
        else:
            merged = target[match]
            _merge_map(merged, item, (*path, new), (*source, at), rule, rec)
            result.append(merged)
    result.extend(target[old] for old in rest)
    return result


def _merge_by_keys(
    target: list[Any],
    patch: list[Any],
    keys: tuple[str, ...],
    path: KeyPath,
    source: KeyPath,
    rule: MergeRule,
    rec: Recorder,
) -> list[Any]:
    """kyaml's merge of a list with several map keys: matching items merge in place,
    new items go first in the patch's order, near matches are ignored."""
    result = list(target)
    new_items: list[tuple[int, Any]] = []
    merges: list[tuple[int, int]] = []
    deleted: set[int] = set()
    for at, item in enumerate(patch):
        if not isinstance(item, dict):
            continue
        wanted = tuple(item.get(key) for key in keys)
        exact = next((old for old, x in enumerate(target) if _keys_of(x, keys) == wanted), None)
        if exact is not None:
            if is_delete(item):
                deleted.add(exact)
            else:
                merges.append((exact, at))
            continue
        if any(_near(_keys_of(x, keys), wanted) for x in target) or is_delete(item):
            continue
        new_items.append((at, item))
    shift = len(new_items)
    kept = [old for old in range(len(target)) if old not in deleted]
    moves: dict[int, int | None] = {old: None for old in deleted}
    for new, old in enumerate(kept):
        moves[old] = new + shift
    rec.reindex(path, moves)
    for old, at in merges:
        _merge_map(result[old], patch[at], (*path, moves[old] or 0), (*source, at), rule, rec)
    for new, (at, _) in enumerate(new_items):
        rec.set((*path, new), (*source, at))
    return [clean(item) for _, item in new_items] + [result[old] for old in kept]


def _keys_of(item: Any, keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    return tuple(item.get(key) for key in keys) if isinstance(item, dict) else None


def _near(have: tuple[Any, ...] | None, wanted: tuple[Any, ...]) -> bool:
    """Equal wherever both sides give the key."""
    if have is None:
        return False
    return all(a == b or a is None or b is None for a, b in zip(have, wanted, strict=True))


def clean(value: Any) -> Any:
    """A patch value as kustomize writes it into the object: directives and ``null``
    keys dropped, items marked ``$patch: delete`` dropped."""
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items() if item is not None and not key.startswith("$")}
    if isinstance(value, list):
        return [clean(item) for item in value if not is_delete(item)]
    return copy.deepcopy(value)
