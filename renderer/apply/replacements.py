"""kustomize's ``replacements``: copy one field of one object into fields of others.

A replacement names a ``source`` (an object picked by exact ``group``, ``version``,
``kind``, ``name`` and ``namespace``; ``fieldPath`` defaults to ``metadata.name``)
and ``targets``: objects picked by ``select`` minus ``reject`` and the
``fieldPaths`` written in each. It runs as kustomize v5.5 runs it (api/filters/
replacement), which is not always what its documentation suggests:

- the source must be exactly one object; ``select``, each ``reject`` and the source
  match ids *exactly* (unset fields match anything; v5.5 has no regular
  expressions here, later kustomize versions do), on the object's current id or
  any earlier one (before a prefix or a namespace), an unset namespace reading as
  ``default``; a ``reject`` with id fields rejects an object if any of its ids
  matches; ``labelSelector``/``annotationSelector`` of ``select`` and of each
  ``reject`` are tried on their own;
- a field path is split at dots outside brackets and not escaped by a backslash
  (an annotation key with dots); ``[name=value]`` picks list items
  whose ``name`` *contains* a match of the regular expression ``value`` in a
  target (``[name=app]`` also picks ``myapp``) but equals ``value`` in the source;
  a number is a list index; ``*`` is every item of a list (not of a mapping);
- a target field that is missing is an error unless ``options.create``, which makes
  the missing mappings, ``[name=value]`` items and the field (an index equal to the
  list's length appends);
- an existing scalar target keeps its type (``replicas: 1`` stays a number, an
  image stays a string); a created field or a mapping/list target gets a copy of
  the source value; a mapping copied onto a scalar makes it ``""``; a null target
  keeps its null type, so anything but an empty value is refused;
- ``options.delimiter``/``index`` on the source keep one part of the value; on a
  target they replace one part of it (an index past the end appends, a negative
  one prepends).

What kustomize refuses (no source or several, a missing field, a path through the
wrong kind of node, a bad regular expression) is a :class:`Note`; rail goes on.

A replaced field is recorded as coming from the source object's field, where that
field was written (its base file, or the patch or transformer that set it last):
kustomize keeps no provenance at all, and a finding on the value (a wrong
namespace, a bad image) is fixed where the value is written, not in the
replacement that copies it; the replacement entry only says where it goes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..yamlio import Document, KeyPath, load_documents
from .kinds import Gvk
from .resource import ResId, Resource
from .selector import Requirement, SelectorError, parse_selector

DEFAULT_FIELD_PATH = "metadata.name"
_ID_FIELDS = ("group", "version", "kind", "name", "namespace")
_SELECT_FIELDS = (*_ID_FIELDS, "labelSelector", "annotationSelector")
_OPTION_FIELDS = ("delimiter", "index", "create", "encoding")

NoteAt = Callable[[KeyPath, str], None]  # a problem at a key path below the replacement


@dataclass(frozen=True)
class Note:
    """A replacement kustomize refuses, or a part of one rail cannot read."""

    document: Document
    key_path: KeyPath
    message: str


@dataclass(frozen=True)
class Options:
    delimiter: str = ""
    index: int = 0
    create: bool = False


@dataclass(frozen=True)
class IdSelector:
    """kustomize's ``ResId`` used as a selector: exact fields, an unset one matches anything."""

    group: str = ""
    version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(self.fields())

    def fields(self) -> tuple[str, str, str, str, str]:
        return (self.group, self.version, self.kind, self.name, self.namespace)

    def selects(self, rid: ResId) -> bool:
        """kustomize's ``ResId.IsSelectedBy``; namespaces compare as kustomize's
        ``IsNsEquals`` (unset is ``default``, cluster-scoped kinds match each other)."""
        wanted = ResId(Gvk(self.group, self.version, self.kind), self.name, self.namespace)
        return (
            all(w in ("", v) for w, v in zip(self.fields()[:3], _gvk(rid), strict=True))
            and self.name in ("", rid.name)
            and (not self.namespace or wanted.same_namespace(rid))
        )

    def selects_any(self, resource: Resource) -> bool:
        """The current id or any earlier one (before a prefix or a namespace) matches."""
        return any(self.selects(rid) for rid in (resource.current_id, *resource.previous))

    def describe(self) -> str:
        parts = [f"{field}={value}" for field, value in zip(_ID_FIELDS, self.fields(), strict=True) if value]
        return ", ".join(parts) or "anything"


@dataclass(frozen=True)
class Source:
    ids: IdSelector
    field_path: str
    options: Options


@dataclass(frozen=True)
class Selector:
    """A ``select`` or ``reject``: an id and the two selectors."""

    ids: IdSelector
    labels: tuple[Requirement, ...]
    annotations: tuple[Requirement, ...]
    has_selectors: bool

    def matches_selectors(self, resource: Resource) -> bool:
        labels, annotations = resource.labels(), resource.annotations()
        return all(r.matches(labels) for r in self.labels) and all(r.matches(annotations) for r in self.annotations)


@dataclass(frozen=True)
class TargetSpec:
    select: Selector
    reject: tuple[Selector, ...]
    field_paths: tuple[str, ...]
    options: Options
    key_path: KeyPath

    def selects(self, resource: Resource) -> bool:
        """kustomize's order: select's selectors, reject's selectors, then ids (reject's
        that are set, on any id of the object; select's)."""
        if not self.select.matches_selectors(resource):
            return False
        if any(r.has_selectors and r.matches_selectors(resource) for r in self.reject):
            return False
        if any(not r.ids.is_empty and r.ids.selects_any(resource) for r in self.reject):
            return False
        return self.select.ids.selects_any(resource)


@dataclass(frozen=True)
class Replacement:
    """One replacement, read from ``document`` at ``key_path`` (notes point there)."""

    source: Source
    targets: tuple[TargetSpec, ...]
    document: Document
    key_path: KeyPath


# --------------------------------------------------------------------------- reading


def entries_of_file(document: Document) -> list[tuple[Any, KeyPath]] | None:
    """The replacements a ``path:`` file holds: one, or a list (None: neither)."""
    data = document.data
    if isinstance(data, list):
        return [(item, (index,)) for index, item in enumerate(data)]
    if isinstance(data, dict):
        return [(data, ())]
    return None


def parse(raw: Any, document: Document, key_path: KeyPath) -> tuple[Replacement | None, list[Note]]:
    """A replacement entry (inline or from a file), or None and why."""
    notes: list[Note] = []

    def note(where: KeyPath, message: str) -> None:
        notes.append(Note(document, (*key_path, *where), message))

    if not isinstance(raw, dict):
        note((), "a replacement must be a mapping")
        return None, notes
    _unknown(raw, ("source", "targets", "path"), (), note)
    source_raw, targets_raw = raw.get("source"), raw.get("targets")
    if not isinstance(source_raw, dict) or not isinstance(targets_raw, list) or not targets_raw:
        note((), "a replacement needs a source and at least one target")
        return None, notes
    _unknown(source_raw, (*_ID_FIELDS, "fieldPath", "options"), ("source",), note)
    ids = [source_raw.get(field) or "" for field in _ID_FIELDS]
    field_path = source_raw.get("fieldPath") or DEFAULT_FIELD_PATH
    if not all(isinstance(value, str) for value in [*ids, field_path]):
        note(("source",), "source fields must be strings")
        return None, notes
    options = _options(source_raw.get("options"), ("source", "options"), note)
    if options is None:
        return None, notes
    source = Source(IdSelector(*ids), field_path, options)
    targets = []
    for index, item in enumerate(targets_raw):
        target = _target(item, ("targets", index), note)
        if target is None:
            return None, notes
        targets.append(target)
    return Replacement(source, tuple(targets), document, key_path), notes


def _target(raw: Any, where: KeyPath, note: NoteAt) -> TargetSpec | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("select"), dict):
        note(where, "a target must select resources ('select')")
        return None
    _unknown(raw, ("select", "reject", "fieldPaths", "options"), where, note)
    select = _selector(raw["select"], (*where, "select"), note)
    rejects_raw = raw.get("reject") or []
    if not isinstance(rejects_raw, list):
        note((*where, "reject"), "'reject' must be a list")
        return None
    rejects = [_selector(item, (*where, "reject", index), note) for index, item in enumerate(rejects_raw)]
    paths = raw.get("fieldPaths") or [DEFAULT_FIELD_PATH]
    if not isinstance(paths, list) or not all(isinstance(path, str) and path for path in paths):
        note((*where, "fieldPaths"), "'fieldPaths' must be a list of field paths")
        return None
    options = _options(raw.get("options"), (*where, "options"), note)
    if select is None or options is None or any(r is None for r in rejects):
        return None
    return TargetSpec(select, tuple(r for r in rejects if r is not None), tuple(paths), options, where)


def _selector(raw: Any, where: KeyPath, note: NoteAt) -> Selector | None:
    if not isinstance(raw, dict):
        note(where, "a selector must be a mapping")
        return None
    _unknown(raw, _SELECT_FIELDS, where, note)
    ids = [raw.get(field) or "" for field in _ID_FIELDS]
    if not all(isinstance(value, str) for value in ids):
        note(where, "selector fields must be strings")
        return None
    selectors: list[tuple[Requirement, ...]] = []
    for field in ("labelSelector", "annotationSelector"):
        value = raw.get(field)
        if value is not None and not isinstance(value, str):
            note((*where, field), f"selector {field} must be a string")
            return None
        try:
            selectors.append(parse_selector(value) if value else ())
        except SelectorError as exc:
            note((*where, field), str(exc))
            return None
    has_selectors = bool(raw.get("labelSelector") or raw.get("annotationSelector"))
    return Selector(IdSelector(*ids), selectors[0], selectors[1], has_selectors)


def _options(raw: Any, where: KeyPath, note: NoteAt) -> Options | None:
    if raw is None:
        return Options()
    if not isinstance(raw, dict):
        note(where, "'options' must be a mapping")
        return None
    _unknown(raw, _OPTION_FIELDS, where, note)
    delimiter, index, create = raw.get("delimiter") or "", raw.get("index") or 0, raw.get("create") or False
    if not isinstance(delimiter, str) or type(index) is not int or not isinstance(create, bool):
        note(where, "options: delimiter must be a string, index an integer, create a boolean")
        return None
    return Options(delimiter, index, create)


def _unknown(raw: dict[str, Any], known: tuple[str, ...], where: KeyPath, note: NoteAt) -> None:
    for key in raw:
        if key not in known:
            note((*where, key), f"unknown replacement field '{key}': kustomize refuses it")


# --------------------------------------------------------------------------- applying


def apply(resources: list[Resource], replacement: Replacement) -> list[Note]:
    """Run one replacement on ``resources`` in place; what kustomize refuses is noted
    (and that source, or that target field of that object, is skipped)."""
    notes: list[Note] = []

    def note(where: KeyPath, message: str) -> None:
        notes.append(Note(replacement.document, (*replacement.key_path, *where), message))

    source = replacement.source
    found = [r for r in resources if source.ids.selects_any(r)]
    if len(found) != 1:
        several = f"{len(found)} objects match" if found else "no object matches"
        note(("source",), f"{several} the replacement source ({source.ids.describe()}): kustomize needs exactly one")
        return notes
    picked = _source_value(found[0], source, note)
    if picked is None:
        return notes
    value, source_path = picked
    layer, document_path = found[0].origin(source_path)
    for target in replacement.targets:
        for resource in resources:
            if not target.selects(resource):
                continue
            for index, field_path in enumerate(target.field_paths):
                where = (*target.key_path, "fieldPaths", index)

                def complain(message: str, where: KeyPath = where) -> None:
                    note(where, message)

                written = _write(resource, field_path, value, target.options, complain)
                resource.record(
                    layer.document,
                    [(key_path, document_path) for key_path in written],
                    layer.line_offset,
                    layer.column_offset,
                )
    return notes


def _source_value(resource: Resource, source: Source, note: NoteAt) -> tuple[Any, KeyPath] | None:
    """The value at the source's field path (kyaml's ``Lookup``), refined by its options."""
    parts = split_path(source.field_path)
    node: Any = resource.data
    key_path: KeyPath = ()
    for part in parts:
        step = _lookup(node, part)
        if isinstance(step, str):
            note(("source", "fieldPath"), f"cannot read the source field '{source.field_path}': {step}")
            return None
        if step is None:
            node = None
            break
        key, node = step
        key_path = (*key_path, key)
    if node is None or node == {} or node == []:
        note(("source", "fieldPath"), f"the source field '{source.field_path}' is missing or empty")
        return None
    options = source.options
    if not options.delimiter:
        return node, key_path
    if isinstance(node, (dict, list)):
        note(("source", "options"), "a delimiter can only split a scalar value")
        return None
    pieces = go_string(node).split(options.delimiter)
    if not 0 <= options.index < len(pieces):
        # The source value may be a Secret's: its size is said, never the value.
        note(
            ("source", "options", "index"),
            f"index {options.index} is out of bounds: the source value has {len(pieces)} part(s)",
        )
        return None
    piece = pieces[options.index]
    return (piece if isinstance(node, str) else resolve(piece)), key_path


def _lookup(node: Any, part: str) -> tuple[str | int, Any] | str | None:
    """One step of kyaml's ``PathGetter``: (key, child), None if missing, or an error."""
    if part == "*":
        return "a wildcard is not supported in a source field path"
    if _is_index(part) or part == "-":
        if node is None:
            return None
        if not isinstance(node, list):
            return f"'{part}' needs a list, found {_kind(node)}"
        if not node:
            return None
        index = len(node) - 1 if part == "-" else int(part)
        return (index, node[index]) if index < len(node) else None
    if _is_list_selector(part):
        pair = _split_selector(part)
        if isinstance(pair, str):
            return pair
        if node is None:
            return None
        if not isinstance(node, list):
            return f"'{part}' needs a list, found {_kind(node)}"
        field, wanted = pair
        for index, item in enumerate(node):
            value = item.get(field) if isinstance(item, dict) and field else (item if not field else None)
            if value is not None and not isinstance(value, (dict, list)) and go_string(value) == wanted:
                return index, item
        return None
    if node is None:
        return None
    if not isinstance(node, dict):
        return f"'{part}' needs a mapping, found {_kind(node)}"
    return (part, node[part]) if part in node else None


@dataclass(frozen=True)
class _Match:
    key_path: KeyPath
    created: bool


def _write(
    resource: Resource, field_path: str, value: Any, options: Options, note: Callable[[str], None]
) -> list[KeyPath]:
    """Set ``value`` at every field ``field_path`` reaches in ``resource``: the key paths set."""
    create = _kind(value) if options.create else None
    holder = {"": resource.data}  # the root as a child, so every step sets through its parent
    matches = _match(holder, "", split_path(field_path), (), create)
    if isinstance(matches, str):
        note(f"cannot find field '{field_path}' of {resource.kind} '{resource.name}': {matches}")
        return []
    if not matches:
        verb = "find or create" if create else "find"
        note(f"cannot {verb} field '{field_path}' of {resource.kind} '{resource.name}': kustomize refuses to build")
        return []
    written = []
    for match in matches:
        parent, key = _parent(resource.data, match.key_path)
        new = _target_value(parent[key], match.created, value, options)
        if isinstance(new, _Refused):
            note(f"field '{field_path}' of {resource.kind} '{resource.name}': {new.reason}")
            continue
        parent[key] = new
        written.append(match.key_path)
    return written


def _match(parent: Any, key: str | int, parts: list[str], path: KeyPath, create: str | None) -> list[_Match] | str:
    """kyaml's ``PathMatcher`` from ``parent[key]`` (at ``path``): the fields reached,
    created as needed when ``create`` names the kind of the value; or an error."""
    node = parent[key]
    if not parts:
        return [_Match(path, created=False)]
    part, rest = parts[0], parts[1:]
    if _is_index(part):
        if node is None and create:
            node = parent[key] = []
        if node is None:
            return []
        if not isinstance(node, list):
            return f"wrong node kind: '{part}' needs a list, found {_kind(node)}"
        index = int(part)
        if index == len(node) and create:
            node.append(_new_node(rest, create))
            if not rest:
                return [_Match((*path, index), created=True)]
        if index >= len(node):
            return f"index {index} specified but only {len(node)} elements found"
        return _match(node, index, rest, (*path, index), create)
    if _is_list_selector(part):
        return _match_items(parent, key, part, rest, path, create)
    if part == "*":
        if node is None:
            return []
        if not isinstance(node, list):
            return f"wrong node kind: '*' needs a list, found {_kind(node)}"
        return _gather(node, range(len(node)), rest, path, create)
    if node is None and create:
        node = parent[key] = {}
    if node is None:
        return []
    if not isinstance(node, dict):
        return f"wrong node kind: '{part}' needs a mapping, found {_kind(node)}"
    if part not in node:
        if not create:
            return []
        node[part] = _new_node(rest, create)
        if not rest:
            return [_Match((*path, part), created=True)]
    return _match(node, part, rest, (*path, part), create)


def _match_items(
    parent: Any, key: str | int, part: str, rest: list[str], path: KeyPath, create: str | None
) -> list[_Match] | str:
    """``[field=regex]``: the list items whose field contains a match (made if none and ``create``)."""
    pair = _split_selector(part)
    if isinstance(pair, str):
        return pair
    field, wanted = pair
    try:
        pattern = re.compile(wanted)
    except re.error:
        return f"'{wanted}' is not a valid regular expression"
    node = parent[key]
    if node is None and create:
        node = parent[key] = []
    if node is None:
        return []
    if not isinstance(node, list):
        return f"wrong node kind: '{part}' needs a list, found {_kind(node)}"

    def picked() -> list[int]:
        found = []
        for index, item in enumerate(node):
            value = item if not field else (item.get(field) if isinstance(item, dict) else None)
            if value is not None and pattern.search(go_string(value).strip()):
                found.append(index)
        return found

    indices = picked()
    if not field:  # a list of scalars: the items themselves, not walked further
        if not indices and create:
            node.append(wanted)
            indices = picked()
        return [_Match((*path, index), created=False) for index in indices]
    if not indices and create:
        node.append({field: wanted})
        indices = picked()
    return _gather(node, indices, rest, path, create)


def _gather(node: list[Any], indices: Any, rest: list[str], path: KeyPath, create: str | None) -> list[_Match] | str:
    found: list[_Match] = []
    for index in indices:
        more = _match(node, index, rest, (*path, index), create)
        if isinstance(more, str):
            return more
        found.extend(more)
    return found


def _new_node(rest: list[str], create: str) -> Any:
    """kyaml's ``getPathPartKind``: a list before an index or a ``[...]``, a mapping
    before a field, and the placeholder of the created field's kind at the end."""
    if not rest:
        return {"mapping": {}, "list": []}.get(create)
    if _is_index(rest[0]) or _is_list_selector(rest[0]):
        return []
    return {}


@dataclass(frozen=True)
class _Refused:
    reason: str


def _target_value(current: Any, created: bool, value: Any, options: Options) -> Any:
    """What kustomize writes: an existing scalar keeps its type, anything else gets a copy."""
    if current is None and not created:
        # A null scalar keeps its !!null tag: kustomize then fails to decode any other value.
        text = go_string(value)
        if text in ("", "~", "null", "Null", "NULL"):
            return None
        return _Refused(f"the field is null: kustomize cannot decode '{text}' as a null (it refuses to build)")
    keeps_type = not created and not isinstance(current, (dict, list))
    if options.delimiter:
        if isinstance(current, (dict, list)):
            return _Refused("a delimiter can only be used on a scalar field")
        pieces = go_string(current).split(options.delimiter) if keeps_type else [""]
        piece = "" if isinstance(value, (dict, list)) else go_string(value)
        if options.index < 0:
            pieces.insert(0, piece)
        elif options.index >= len(pieces):
            pieces.append(piece)
        else:
            pieces[options.index] = piece
        text = options.delimiter.join(pieces)
        typed_like = current if keeps_type else value
        return text if isinstance(typed_like, str) else resolve(text)
    if keeps_type:
        text = "" if isinstance(value, (dict, list)) else go_string(value)
        return text if isinstance(current, str) else resolve(text)
    return copy.deepcopy(value)


# --------------------------------------------------------------------------- helpers


def split_path(path: str) -> list[str]:
    """kyaml's ``SmarterPathSplitter``: split at dots outside ``[...]``; ``\\.`` is a
    dot inside a key (``metadata.annotations.example\\.com/x``)."""
    parts, current, depth = [], "", 0
    escaped = False
    for char in path:
        if escaped:
            current += char if char == "." else "\\" + char
            escaped = False
            continue
        if char == "\\":
            escaped = True
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(depth - 1, 0)
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current + ("\\" if escaped else ""))
    return [part.strip() for part in parts if part.strip()]


def go_string(value: Any) -> str:
    """A scalar as YAML text (the value kustomize copies: a node's ``Value``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def resolve(text: str) -> Any:
    """``text`` read as a plain YAML scalar (what a number or boolean field becomes)."""
    try:
        documents = load_documents(text, "replacement value", strict_tags=False)
    except InputError:
        return text
    data = documents[0].data if len(documents) == 1 else text
    return text if isinstance(data, (dict, list)) or data is None else data


def _is_index(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _is_list_selector(part: str) -> bool:
    return part.startswith("[") and part.endswith("]")


def _split_selector(part: str) -> tuple[str, str] | str:
    """``[field=value]`` as (field, value); ``[=value]`` picks scalars."""
    inner = part[1:-1]
    if "=" not in inner:
        return f"'{part}' must read [field=value]"
    field, value = inner.split("=", 1)
    return field.strip(), value.strip()


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "scalar"


def _parent(data: Any, key_path: KeyPath) -> tuple[Any, str | int]:
    node = data
    for key in key_path[:-1]:
        node = node[key]
    return node, key_path[-1]


def _gvk(rid: ResId) -> tuple[str, str, str]:
    return (rid.gvk.group, rid.gvk.version, rid.gvk.kind)
