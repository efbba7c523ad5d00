"""The one YAML reader and the one canonical YAML writer.

Reading composes the node graph first (ruamel.yaml), so that before any value is
built we can refuse what a hostile or careless file tries: an alias bomb, a
duplicate key, an unknown tag, nesting deeper than any real manifest, an integer
too long to convert. Values are then built from the nodes as plain Python data, and
every key path is mapped to its line and column, which is how every error in rail
can name ``file:line:col``. Every refusal is an :class:`InputError` with that
place: rail's own inputs end the run with exit 2, a foreign manifest becomes the
finding ``yaml-syntax``.

Writing never goes through a general-purpose dumper: :func:`dump` emits the one
canonical form (fixed key order, block style, quoting that is safe under YAML 1.1
and 1.2, unicode kept, one trailing newline) so the same data always gives the
same bytes, whatever library version is installed.
"""

from __future__ import annotations

import math
import os
import re
import sys
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import Any

from .errors import InputError, Problem
from .memo import memo_scope

KeyPath = tuple[str | int, ...]

# An alias bomb is a small file that expands into billions of nodes. Real
# manifests stay far below this, counted with every alias expanded.
MAX_EXPANDED_NODES = 250_000

# Collections inside collections, counted with every alias expanded. The deepest real
# manifests are CRDs (Argo CD's Application: 26 levels); every reader and rule of rail
# walks data recursively, and Python's stack holds a few hundred levels, not 20,000.
MAX_DEPTH = 100

# ruamel's C composer recurses on the C stack (~300 bytes a level: 8 MiB is gone at
# ~25,000 levels, a segfault). A text that might nest deeper than this is composed from
# the parser's events instead, without recursion, and refused past MAX_DEPTH.
_C_COMPOSE_DEPTH = 1_000

# The longest integer rail reads. Python refuses to convert longer ones between text
# and int (``sys.int_info.str_digits_check_threshold``: no limit setting goes below
# it); no Kubernetes or Helm field holds one (int64 has 19 digits).
MAX_INT_DIGITS = 640
_MAX_INT_BITS = 2126  # 2**2126 < 10**640: such an int prints in at most 640 digits

_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class Document:
    """One YAML document: its data, and where each key path sits in the file.

    Positions are worked out from ``text`` the first time someone asks: a clean
    run never needs one, and a map of every key of 10,000 releases would cost
    more memory than the releases themselves.
    """

    path: str
    data: Any
    index: int = 0
    text: str | None = field(default=None, repr=False, compare=False)
    # The line the document's content starts on, known from parsing (no second parse).
    start_line: int | None = field(default=None, repr=False, compare=False)

    @property
    def first_line(self) -> int | None:
        """Where the document starts: as ``locate(())``, without working out positions."""
        return self.start_line if self.start_line is not None else self.locate(())[0]

    @property
    def positions(self) -> Mapping[KeyPath, tuple[int, int]]:
        if self.text is None:
            return {}
        found: Mapping[KeyPath, tuple[int, int]] | None = vars(self).get("_positions")
        if found is None:
            if _SHARED.get() is None:
                found = _positions(self.text, self.path, self.index)
            else:
                found = _stored_positions(self.text, self.path, self.index, self.data)
            object.__setattr__(self, "_positions", found)  # worked out once, as a cached property
            _holding_positions(self)
        return found

    def __getstate__(self) -> dict[str, Any]:
        # Kept without its positions (a kept diff side): worked out again, from the cache,
        # for the few documents a restored side is asked about.
        return {name: value for name, value in vars(self).items() if name != "_positions"}

    def locate(self, key_path: Iterable[str | int]) -> tuple[int | None, int | None]:
        """Line and column (1-based) of ``key_path``, or of its nearest known parent."""
        parts = tuple(key_path)
        while True:
            if parts in self.positions:
                return self.positions[parts]
            if not parts:
                return (None, None)
            parts = parts[:-1]

    def where(self, key_path: Iterable[str | int]) -> tuple[str, int | None, int | None]:
        """File, line and column of ``key_path``. A document built from several files (an
        object the apply model patched) answers with the file that wrote the key, so
        callers that point at a key ask here rather than pairing ``path`` with ``locate``."""
        line, column = self.locate(key_path)
        return self.path, line, column

    def may_hold(self, needle: str) -> bool:
        """False when no string of the document can hold ``needle`` (a literal without a
        line break, a space or a backslash): its text does not, and has no backslash. Only a
        double-quoted scalar's escapes (``\\x24``, an escaped line break) spell a text that is
        not in the file; folding makes a line break a space. A walk of every value of every
        release for a marker most files never hold is then skipped."""
        text = self.text
        return text is None or needle in text or "\\" in text

    def problem(self, key_path: Iterable[str | int], message: str, hint: str = "") -> Problem:
        parts = tuple(key_path)
        path, line, column = self.where(parts)
        return Problem(
            path=path,
            line=line,
            column=column,
            message=message,
            key_path=format_key_path(parts),
            hint=hint,
        )


# The documents holding their positions, oldest first: only the last ones asked about
# keep them. A map of every key weighs more than the document's data, and a run that
# points at keys of thousands of documents (a lint finding each, on both sides of a diff)
# held them all to its end, ~200 MB at 10,000 releases (issue 16). Callers ask about one
# document at a time; one whose positions were let go works them out again.
_POSITIONS_KEPT = 1024
_HOLDING_POSITIONS: deque[weakref.ref[Document]] = deque()


def _holding_positions(document: Document) -> None:
    _HOLDING_POSITIONS.append(weakref.ref(document))
    while len(_HOLDING_POSITIONS) > _POSITIONS_KEPT:
        older = _HOLDING_POSITIONS.popleft()()
        if older is not None:
            vars(older).pop("_positions", None)


def format_key_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# --------------------------------------------------------------------------- reading


# Parses kept while a caller reads several versions of one stack (``rail diff``: most
# files are the same on both sides). Documents are never changed after parsing.
_SHARED: ContextVar[dict[tuple[str, bool], list[Document]] | None] = ContextVar("rail_shared", default=None)


def sharing_parses() -> AbstractContextManager[None]:
    """Inside, a text parsed again is not parsed twice (under another path too: the
    apply model names files from the folder it builds, the linter from where it runs).
    Inside another such scope, that one's parses are shared."""
    if _SHARED.get() is not None:
        return nullcontext()
    return memo_scope(_SHARED)


ParseEntries = dict[tuple[str, bool], list[Document]]


def shared_parses_of(texts: set[str]) -> ParseEntries:
    """This scope's parses of ``texts`` (to keep with what was read from them)."""
    memo = _SHARED.get() or {}
    return {key: documents for key, documents in memo.items() if key[0] in texts}


def share_parses(entries: ParseEntries) -> None:
    """Give this scope parses made by an earlier run (a kept diff side): each text is then
    read once, and what is read from it is one object for every reader."""
    memo = _SHARED.get()
    if memo is not None:
        for key, documents in entries.items():
            memo.setdefault(key, documents)
            _ADMITTED.add(key[0])  # kept only after the guard passed it


def load_documents(text: str, path: str, *, strict_tags: bool = True, shared: bool = True) -> list[Document]:
    """Parse every document of ``text``; raise :class:`InputError` naming ``path``.

    With ``strict_tags`` a custom tag (``!something``) is an error; otherwise its
    scalar is read as a plain string, which is what a linter of foreign files wants.
    ``shared=False``: a text no other caller will ever parse again (a template's
    output with its one-off placeholders), kept in no memo and no cache.
    """
    if type(text) is not str:  # a str subclass (the apply model's Unknown): the C parser wants a str
        text = str(text)
    memo = _SHARED.get() if shared else None
    if memo is None:
        return _load_documents(text, path, strict_tags)
    key = (text, strict_tags)
    if key not in memo:
        memo[key] = _stored_or_loaded(text, path, strict_tags)
    return _read_at(memo[key], path)


def _read_at(shared_documents: list[Document], path: str) -> list[Document]:
    """A scope's parse of a text, as read from ``path`` (the same data, one object for every reader)."""
    if shared_documents and shared_documents[0].path != path:
        return [replace(document, path=path) for document in shared_documents]
    return list(shared_documents)


# --------------------------------------------------------------------------- skeletons

# A parse kept without its text's values (renderer.diff.snapshot keeps a side's SOPS
# files so: their values are ciphertext, never at rest). The data's structure is kept
# (mappings with their keys in order, sequences, booleans and nulls); each string or
# number is a marker of where it sits in the text: ``(start, end)``, its characters;
# ``(start, end, indent)``, a literal block (``|``, as SOPS writes a recipient's data
# key); ``(start, end, "int")`` or ``(start, end, "float")``, a plain number. The text
# read again rebuilds the data by slicing it, with no YAML parse: tens of times faster.
# Data holds no tuple, so a tuple is a marker. A skeleton is made only when rebuilding
# it gives the parsed data back exactly (the same values, types and key order): any
# other scalar (escapes, folding, a multi-line plain one), an anchor, a merge, a custom
# tag, a line break other than "\n" has none, and that text is parsed as usual.
Skeleton = tuple[tuple[int, int | None, Any], ...]  # per document: index, start line, shape


class _NoSkeleton(Exception):
    """A node whose value slicing the text cannot give back."""


def skeleton(text: str, path: str, documents: list[Document]) -> Skeleton | None:
    """``documents`` (what ``text`` parses to) as a skeleton, or None where one would not
    rebuild them exactly. Composes ``text`` again (no values built)."""
    from ruamel.yaml.error import YAMLError

    try:
        nodes = _compose_all(text, path)
        if len(nodes) != len(documents):
            return None
        made = tuple(
            (document.index, document.start_line, _shape(node, document.data, text) if node is not None else None)
            for node, document in zip(nodes, documents, strict=True)
        )
    except (_NoSkeleton, YAMLError, InputError):
        return None
    rebuilt = rebuild(text, path, made)
    if rebuilt is None or len(rebuilt) != len(documents):
        return None
    for again, document in zip(rebuilt, documents, strict=True):
        if (again.index, again.start_line) != (document.index, document.start_line):
            return None
        if not _same(again.data, document.data):
            return None
    return made


def rebuild(text: str, path: str, kept: Skeleton) -> list[Document] | None:
    """The documents ``kept`` was made from, out of the same ``text`` (None: it does not fit)."""
    try:
        return [
            Document(path=path, data=_rebuilt(shape, text), index=index, text=text, start_line=line)
            for index, line, shape in kept
        ]
    except (IndexError, ValueError, TypeError):
        return None


def adopt_parse(text: str, path: str, strict_tags: bool, documents: list[Document]) -> list[Document]:
    """What :func:`load_documents` gives for ``text``, when ``documents`` is its parse made
    another way (rebuilt from a skeleton): it joins this scope's parses as a parse would,
    so a later read of the text is served from it. Unlike :func:`share_parses` the text
    is not taken as one the guard passed."""
    memo = _SHARED.get()
    if memo is None:
        return documents
    return _read_at(memo.setdefault((text, strict_tags), documents), path)


def _shape(node: Any, data: Any, text: str) -> Any:
    mapping_node, sequence_node = _node_classes()
    if node.anchor is not None:
        raise _NoSkeleton  # an alias shares the anchor's object: slices would not
    if type(data) is dict:
        if not isinstance(node, mapping_node) or len(node.value) != len(data):
            raise _NoSkeleton  # a merge key
        pairs = zip(data.items(), node.value, strict=True)
        return {key: _shape(value_node, value, text) for (key, value), (_, value_node) in pairs}
    if type(data) is list:
        if not isinstance(node, sequence_node) or len(node.value) != len(data):
            raise _NoSkeleton
        return [_shape(item_node, item, text) for item_node, item in zip(node.value, data, strict=True)]
    if data is None or type(data) is bool:
        return data
    if isinstance(node, (mapping_node, sequence_node)):
        raise _NoSkeleton
    start, end, style = node.start_mark.index, node.end_mark.index, node.style
    if type(data) in (int, float) and not style:
        return (start, end, "int" if type(data) is int else "float")
    if type(data) is not str:
        raise _NoSkeleton  # a custom tag's TaggedStr
    if not style:
        return (start, end)
    if style in ("'", '"'):
        return (start + 1, end - 1)
    if style == "|":
        return _literal(node, data, text)
    raise _NoSkeleton  # folded


def _literal(node: Any, value: str, text: str) -> tuple[int, int, int]:
    """A literal block's lines: after its header's line, as many as ``value`` has."""
    start = text.index("\n", node.start_mark.index) + 1
    end = start
    for _ in range(value.count("\n")):
        end = text.index("\n", end) + 1
    if not value.endswith("\n"):
        found = text.find("\n", end)
        end = len(text) if found < 0 else found
    first = next((line for line in text[start:end].split("\n") if line.strip(" ")), "")
    return (start, end, len(first) - len(first.lstrip(" ")))


def _rebuilt(shape: Any, text: str) -> Any:
    kind = type(shape)
    if kind is dict:
        # A mapping's plain strings (most of a SOPS file's values) are sliced here, not in a
        # call each: 1,200 files of a 1,000-release stack are rebuilt every run.
        rebuilt = {}
        intern = sys.intern
        for key, value in shape.items():
            if type(value) is tuple and len(value) == 2:
                piece = text[value[0] : value[1]]
                rebuilt[intern(key)] = intern(piece) if len(piece) <= _INTERNED_LENGTH else piece
            else:
                rebuilt[intern(key)] = _rebuilt(value, text)
        return rebuilt
    if kind is list:
        return [_rebuilt(item, text) for item in shape]
    if kind is not tuple:
        return shape
    if len(shape) == 2:
        value = text[shape[0] : shape[1]]
        return sys.intern(value) if len(value) <= _INTERNED_LENGTH else value
    start, end, how = shape
    if how == "int":
        number = _parse_int(text[start:end])
        if number is None:
            raise ValueError("an integer longer than rail reads")
        return number
    if how == "float":
        return _parse_float(text[start:end])
    return "\n".join(line[how:] for line in text[start:end].split("\n"))


def _same(one: Any, other: Any) -> bool:
    """Equal, of the same types all the way down, mappings in the same key order."""
    if type(one) is not type(other):
        return False
    if type(one) is dict:
        return list(one) == list(other) and all(_same(value, other[key]) for key, value in one.items())
    if type(one) is list:
        return len(one) == len(other) and all(_same(a, b) for a, b in zip(one, other, strict=True))
    return bool(one == other)


# --------------------------------------------------------------------------- the cache

# Parses on disk (renderer.cache, kind "parse"): the data of every document of a text,
# by the digest of the text, the tag mode and the parser's own code. Loading one is a
# ``marshal.loads`` (tens of times faster than parsing); positions are still worked out
# from the text on demand. A text whose data holds a secret (the guard registered in
# renderer.cache says so: a Secret, SOPS ciphertext, a secret value) is never stored.
# Both are stored on a key's second sighting only (renderer.cache.admit), and judged then.
_PARSE_FORMAT = 1


def _stored_or_loaded(text: str, path: str, strict_tags: bool) -> list[Document]:
    from . import cache as store

    if not store.enabled():
        return _load_documents(text, path, strict_tags)
    key = store.digest(text.encode("utf-8", "surrogatepass"), b"strict" if strict_tags else b"lax", parser_identity())
    found = _decoded(store.get("parse", key), text, path)
    if found is not None:
        _ADMITTED.add(text)  # the store holds only texts the guard passed
        return found
    documents = _load_documents(text, path, strict_tags)
    # Judged only when about to be stored (a second sighting), each document once: its
    # positions entry asks about the same data.
    if store.admit("parse", key) and all(store.secret_free_document(document.data) for document in documents):
        _ADMITTED.add(text)
        encoded = _encoded(documents)
        if encoded is not None:
            store.put("parse", key, encoded)
    return documents


# Texts the guard passed in this process (or read back from the store, which holds only
# such): what may be kept at rest without classifying it again (renderer.diff.snapshot).
_ADMITTED: set[str] = set()


def admit(text: str) -> None:
    """Record that the guard passed ``text`` (a rendered object served from or put in the store)."""
    _ADMITTED.add(text)


def admitted(document: Document) -> bool:
    """Whether the guard passed ``document``'s text in this process."""
    return document.text in _ADMITTED


def _encoded(documents: list[Document]) -> bytes | None:
    """The documents' data as plain values (marshal keeps interned keys interned); None
    for data marshal cannot spell (a TaggedStr of a foreign file's custom tag)."""
    import marshal

    try:
        return marshal.dumps(
            (_PARSE_FORMAT, [(document.index, document.start_line, document.data) for document in documents]), 4
        )
    except ValueError:
        return None


def _decoded(payload: bytes | None, text: str, path: str) -> list[Document] | None:
    if payload is None:
        return None
    import marshal

    try:
        version, items = marshal.loads(payload)
        if version != _PARSE_FORMAT:
            return None
        return [Document(path=path, data=data, index=index, text=text, start_line=line) for index, line, data in items]
    except (ValueError, EOFError, TypeError):
        return None


def _stored_positions(text: str, path: str, index: int, data: Any) -> Mapping[KeyPath, tuple[int, int]]:
    """Positions, from the cache when an earlier run worked them out (kind "positions":
    key paths and line/column numbers only, stored only for data the guard passes)."""
    import marshal

    from . import cache as store

    if not store.enabled():
        return _positions(text, path, index)
    key = store.digest(text.encode("utf-8", "surrogatepass"), str(index), parser_identity())
    payload = store.get("positions", key)
    if payload is not None:
        try:
            found = marshal.loads(payload)
            if isinstance(found, dict):
                return found
        except (ValueError, EOFError, TypeError):
            pass
    positions = _positions(text, path, index)
    if store.admit("positions", key) and store.secret_free_document(data):
        with suppress(ValueError):
            store.put("positions", key, marshal.dumps(positions, 4))
    return positions


@cache
def parser_identity() -> bytes:
    """What parsing depends on besides the text and rail's own code (the store adds rail's
    version): ruamel.yaml's release and its C parser's, read without importing them."""
    import hashlib
    from importlib.util import find_spec

    digest = hashlib.sha256()
    for name in ("ruamel.yaml", "_ruamel_yaml"):
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            digest.update(f"{name}: none".encode())
            continue
        if origin.endswith(".py"):
            with open(origin, "rb") as stream:
                digest.update(stream.read())
        else:
            info = os.stat(origin)
            digest.update(f"{name}: {os.path.basename(origin)} {info.st_size} {info.st_mtime_ns}".encode())
    return digest.digest()


def _load_documents(text: str, path: str, strict_tags: bool) -> list[Document]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        nodes = _compose_all(text, path)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # The library's own message quotes the offending source line, which may
        # hold a secret: only its one-line diagnosis is kept.
        what = exc.problem or exc.context or "invalid YAML"
        start = exc.context_mark
        if exc.problem and exc.context and start and mark and start.line != mark.line:
            # Where the unclosed construct began is often where the mistake is.
            what += f" ({exc.context} started on line {start.line + 1})"
        what = _redact_quoted(what)
        raise InputError(
            Problem(
                path=path,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
                message=f"YAML syntax error: {what}",
                hint="fix the YAML syntax (indentation, quoting, a missing ':')",
            )
        ) from None
    except YAMLError as exc:
        raise InputError(Problem(path=path, message=f"YAML error: {type(exc).__name__}")) from None
    # Only anchors and aliases can blow a small file up: skip the check without them.
    may_alias = "&" in text or "*" in text
    documents = []
    for index, node in enumerate(nodes):
        builder = _Builder(path, strict_tags, record=False)
        data = builder.build(node, may_alias) if node is not None else None
        line = node.start_mark.line + 1 if node is not None else None
        documents.append(Document(path=path, data=data, index=index, text=text, start_line=line))
    return documents


def _positions(text: str, path: str, index: int) -> dict[KeyPath, tuple[int, int]]:
    """Line and column of every key and list item of the ``index``-th document of ``text``."""
    nodes = _compose_all(text, path)
    if index >= len(nodes) or nodes[index] is None:
        return {}
    builder = _Builder(path, strict_tags=False, record=True)
    builder.build(nodes[index], may_alias=False)
    return builder.positions


def load_document(text: str, path: str) -> Document:
    """Parse a file that must hold exactly one document (or none: data ``None``)."""
    documents = [d for d in load_documents(text, path) if d.data is not None]
    if len(documents) > 1:
        raise InputError(
            Problem(
                path=path,
                line=documents[1].locate(())[0],
                message="expected one YAML document, found several",
                hint="keep one document per file (remove the extra '---')",
            )
        )
    return documents[0] if documents else Document(path=path, data=None)


class TaggedStr(str):
    """A scalar written with a custom tag (read from foreign files only): the text, and its tag."""

    yaml_tag: str

    def __new__(cls, value: str, tag: str) -> TaggedStr:
        made = super().__new__(cls, value)
        made.yaml_tag = tag
        return made


class _Builder:
    """Builds plain data from a composed node graph, checking it as it goes."""

    def __init__(self, path: str, strict_tags: bool, record: bool = True) -> None:
        self.path = path
        self.strict_tags = strict_tags
        self.record = record
        self.positions: dict[KeyPath, tuple[int, int]] = {}
        self._built: dict[int, Any] = {}

    def build(self, root: Any, may_alias: bool = True) -> Any:
        if may_alias:
            self._check_expansion(root)
        self.positions[()] = _position(root)
        return self._node(root, ())

    def _check_expansion(self, root: Any) -> None:
        # Sizes and heights are memoised per node, so an alias costs its full expanded
        # size and depth without being walked again: the check is linear in the file.
        sizes: dict[int, int] = {}
        heights: dict[int, int] = {}  # collection levels from a node down, aliases expanded
        on_stack: set[int] = set()

        def size(node: Any, depth: int) -> int:
            """``depth``: the collections around ``node``, on this path."""
            key = id(node)
            if key in sizes:
                if depth + heights[key] > MAX_DEPTH:
                    raise InputError(self._too_deep(node))
                return sizes[key]
            if key in on_stack:
                raise InputError(self._at(node, "recursive YAML alias", "remove the self-referencing alias"))
            total = 1
            height = 0
            if isinstance(node.value, list):
                if depth >= MAX_DEPTH:
                    raise InputError(self._too_deep(node))
                on_stack.add(key)
                for item in node.value:
                    for child in item if isinstance(item, tuple) else (item,):
                        total += size(child, depth + 1)
                        height = max(height, heights[id(child)])
                    if total > MAX_EXPANDED_NODES:
                        break
                on_stack.discard(key)
                height += 1
            sizes[key] = total
            heights[key] = height
            if total > MAX_EXPANDED_NODES:
                raise InputError(
                    self._at(
                        node,
                        f"YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?)",
                        "write the data out instead of nesting aliases",
                    )
                )
            return total

        size(root, 0)

    def _too_deep(self, node: Any) -> Problem:
        return self._at(node, *_TOO_DEEP)

    def _at(self, node: Any, message: str, hint: str = "") -> Problem:
        line, column = _position(node)
        return Problem(path=self.path, line=line, column=column, message=message, hint=hint)

    def _node(self, node: Any, key_path: KeyPath) -> Any:
        if id(node) in self._built:
            return self._built[id(node)]
        mapping_node, sequence_node = _node_classes()
        is_mapping = isinstance(node, mapping_node)
        if (is_mapping or isinstance(node, sequence_node)) and _KIND_OF_TAG.get(id(node.ctag)) is None:
            self._check_tag(node)  # an explicit tag: the resolver's shared ones need no look
        if is_mapping:
            if len(key_path) >= MAX_DEPTH:
                raise InputError(self._too_deep(node))
            result: Any = self._mapping(node, key_path)
        elif isinstance(node, sequence_node):
            if len(key_path) >= MAX_DEPTH:
                raise InputError(self._too_deep(node))
            result = []
            for index, item in enumerate(node.value):
                if self.record:
                    self.positions[(*key_path, index)] = _position(item)
                result.append(self._node(item, (*key_path, index)))
        else:
            result = self._scalar(node)
        if node.anchor is not None:
            self._built[id(node)] = result
        return result

    def _mapping(self, node: Any, key_path: KeyPath) -> dict[Any, Any]:
        MappingNode, SequenceNode = _node_classes()

        result: dict[Any, Any] = {}
        seen: dict[Any, Any] = {}  # key -> its node (its line only matters for an error)
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # The resolver's shared tag objects say a key's kind without building the
            # tag's text (ruamel's ``node.tag`` makes a new string on every access).
            kind = _KIND_OF_TAG.get(id(key_node.ctag))
            if kind == "merge" or (kind is None and key_node.tag == _TAG + "merge"):
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in reversed(sources):
                    if not isinstance(source, MappingNode):
                        raise InputError(self._at(source, "a '<<' merge needs a mapping"))
                    merged.update(self._node(source, key_path))
                continue
            if isinstance(key_node, (MappingNode, SequenceNode)):
                raise InputError(self._at(key_node, "a mapping key must be a scalar", "quote the key"))
            # Keys are strings, as Kubernetes and Helm read them (YAML `1:` is "1"); one
            # object per distinct key (every values file repeats `image:`, `enabled:`).
            key = sys.intern(_key_text(self._scalar(key_node)))
            if key in seen:
                line, column = _position(key_node)
                raise InputError(
                    Problem(
                        path=self.path,
                        line=line,
                        column=column,
                        message=f"duplicate key '{key}' (first defined on line {_position(seen[key])[0]})",
                        key_path=format_key_path((*key_path, key)),
                        hint="remove one of the two; YAML would silently keep only one",
                    )
                )
            seen[key] = key_node
            if self.record:
                self.positions[(*key_path, key)] = _position(key_node)
            result[key] = self._node(value_node, (*key_path, key))
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _scalar(self, node: Any) -> Any:
        value: str = node.value
        # The resolver hands out shared tag objects: their identity names the type.
        kind = _KIND_OF_TAG.get(id(node.ctag))
        if kind == "str":
            # Short values repeat across a stack (IfNotPresent, ClusterIP, 10Gi): held once.
            return sys.intern(value) if len(value) <= _INTERNED_LENGTH else value
        tag: str = node.tag
        if not tag.startswith(_TAG):
            self._check_tag(node)
            # `!env_var X`, `!secret x`: a tool resolves the value, which is no literal.
            return TaggedStr(value, tag) if tag != "!" else value
        kind = tag[len(_TAG) :]
        if kind == "null":
            return None
        if kind == "bool":
            return value.lower() in ("true", "yes", "on", "y")
        if kind == "int":
            number = _parse_int(value)
            if number is None:
                digits = len(re.sub(r"^[-+]?(0[xXoObB])?", "", value.replace("_", "")))
                raise InputError(
                    self._at(
                        node,
                        f"an integer of {digits} digits: longer than rail reads ({MAX_INT_DIGITS} digits)",
                        "no Kubernetes or Helm field holds a number this long; quote it if it is text",
                    )
                )
            return number
        if kind == "float":
            return _parse_float(value)
        return value

    def _check_tag(self, node: Any) -> None:
        # The tag is not quoted: an unquoted value such as `!s3cret` is read as a tag.
        if self.strict_tags and not node.tag.startswith(_TAG) and node.tag != "!":
            raise InputError(
                self._at(
                    node,
                    "unsupported YAML tag (rail reads plain data)",
                    "remove the tag; if the value itself starts with '!', quote it",
                )
            )


# ruamel quotes some source text in its diagnosis (an undefined alias's name, a tag
# handle), and an unquoted value such as `*s3cret` is read as an alias: keep single
# characters and token names such as '<stream end>', drop anything longer.
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_HARMLESS_QUOTE = re.compile(r"[^\\]?|\\(?:[a-z0]|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})|<[a-z ]+>")


def _redact_quoted(text: str) -> str:
    def keep(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return match.group(0) if _HARMLESS_QUOTE.fullmatch(inner) else "(not shown)"

    return _QUOTED.sub(keep, text)


_KIND_OF_TAG: dict[int, str] = {}
_INTERNED_LENGTH = 64


@cache
def _node_classes() -> tuple[Any, Any]:
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    return MappingNode, SequenceNode


_TOO_DEEP = (
    f"YAML nested deeper than {MAX_DEPTH} levels",
    "flatten the data: no Kubernetes object nests this deep",
)
# The start of a line that could open a block collection more than _C_COMPOSE_DEPTH / 4
# columns in: a block collection nested in another starts further right (or, a sequence
# in a mapping, in the same column), and on one line only the indicators "- ", "? " and
# ": " nest (after an anchor or a tag nothing more does), so each level costs a column.
# The first line apart, then after each line break (a multi-line "^" is four times slower,
# a class of every break libyaml knows as slow: it is searched only when one is there).
_INDENT = rf"[ \t?:-]{{{_C_COMPOSE_DEPTH // 4}}}"
_DEEP_START = re.compile(_INDENT)
_DEEP_LINE = re.compile(r"\n" + _INDENT)
_DEEP_LINE_ANY_BREAK = re.compile(r"[\n\r\x85\u2028\u2029]" + _INDENT)
_RARE_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def _compose_all(text: str, path: str) -> list[Any]:
    """Every document of ``text`` as a node graph (with marks), by ruamel's C parser.

    Two texts take a slower path, composed in Python from the same parser's events: one
    that might nest deeper than the C composer's recursion survives, and one that
    defines an anchor twice. A redefined anchor is legal YAML (an alias takes the latest
    definition; kustomize and Flux read it so, as does ruamel's pure composer, with a
    warning), but ruamel's C composer refuses it.
    """
    try:
        if _may_nest_deeply(text):
            return _compose_events(text, path)
        loader = _loader_class()(text)
        try:
            nodes = []
            while loader.check_node():
                nodes.append(loader.get_node())
            return nodes
        except _composer_error() as exc:
            if "duplicate anchor" not in str(getattr(exc, "context", None) or ""):
                raise
        finally:
            loader.dispose()
        return _compose_events(text, path)
    except _scanner_error() as exc:
        # The C scanner reads plain scalars by YAML 1.1's rules: it refuses a ':' inside
        # one in a flow collection ({server: https://kubernetes.default.svc}), which
        # YAML 1.2 and go-yaml (kubectl, Flux, Argo CD) accept. Such a text, and only
        # it, is read again by the pure-Python parser, whose errors stand. That composer
        # recurses: nesting Python cannot follow is refused as nesting too deep.
        if getattr(exc, "problem", None) != "found unexpected ':'":
            raise
        try:
            return _compose_pure(text)
        except RecursionError:
            raise InputError(Problem(path, _TOO_DEEP[0], hint=_TOO_DEEP[1])) from None


def _compose_pure(text: str) -> list[Any]:
    import warnings

    loader = _pure_loader_class()(text)
    nodes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a redefined anchor: legal, the latest wins (as in the C path)
        while loader.check_node():
            nodes.append(loader.get_node())
    return nodes


def _scanner_error() -> type[Exception]:
    from ruamel.yaml.scanner import ScannerError

    return ScannerError


@cache
def _pure_loader_class() -> Any:
    """ruamel's pure-Python reader, scanner, parser and composer with rail's resolver."""
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.parser import Parser
    from ruamel.yaml.reader import Reader
    from ruamel.yaml.scanner import Scanner

    resolver = _resolver_class()

    class PureLoader(Reader, Scanner, Parser, Composer, resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            self.comment_handling = None
            self.max_depth = None  # rail's own depth limit applies (the builder's)
            Reader.__init__(self, stream, loader=self)
            Scanner.__init__(self, loader=self)
            Parser.__init__(self, loader=self)
            Composer.__init__(self, loader=self)
            resolver.__init__(self, version=None, loader=self)

    return PureLoader


def _may_nest_deeply(text: str) -> bool:
    """Whether ``text`` might nest deeper than _C_COMPOSE_DEPTH: each flow level costs a
    ``[`` or ``{``, each two block levels a column (see _DEEP_LINE). A few string searches:
    a real manifest never comes close, unless it embeds a large JSON document."""
    if len(text) < _C_COMPOSE_DEPTH // 4:
        return False
    if text.count("[") + text.count("{") > _C_COMPOSE_DEPTH // 2:
        return True
    if _DEEP_START.match(text):
        return True
    lines = _DEEP_LINE_ANY_BREAK if any(mark in text for mark in _RARE_BREAKS) else _DEEP_LINE
    return lines.search(text) is not None


def _compose_events(text: str, path: str) -> list[Any]:
    """The documents of ``text`` composed from the C parser's events, without recursion:
    the nodes ruamel's C composer makes (anchors resolved, not kept on the nodes), an
    alias taking its anchor's latest definition, and an :class:`InputError` past
    MAX_DEPTH levels (counted without aliases; the builder counts them expanded)."""
    from ruamel.yaml.composer import ComposerError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        DocumentEndEvent,
        DocumentStartEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    loader = _loader_class()(text)
    empty = object()  # a mapping waiting for its next key
    try:
        documents: list[Any] = []
        anchors: dict[str, Any] = {}
        open_nodes: list[Any] = []  # the collections being filled, innermost last
        keys: list[Any] = []  # per open collection: a mapping's pending key (or empty)
        root: Any = None
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                tag = event.ctag
                if tag is None or tag == "!":
                    tag = loader.resolve(ScalarNode, event.value, event.implicit)
                node: Any = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            elif kind is SequenceStartEvent or kind is MappingStartEvent:
                if len(open_nodes) >= MAX_DEPTH:
                    mark = event.start_mark
                    raise InputError(Problem(path, _TOO_DEEP[0], mark.line + 1, mark.column + 1, hint=_TOO_DEEP[1]))
                node_class = SequenceNode if kind is SequenceStartEvent else MappingNode
                tag = event.ctag
                if tag is None or tag == "!":
                    tag = loader.resolve(node_class, None, event.implicit)
                node = node_class(tag, [], event.start_mark, None, flow_style=event.flow_style)
            elif kind is AliasEvent:
                if event.anchor not in anchors:
                    raise ComposerError(None, None, "found undefined alias", event.start_mark)  # as the C one says
                node = anchors[event.anchor]
            elif issubclass(kind, CollectionEndEvent):
                open_nodes.pop().end_mark = event.end_mark
                keys.pop()
                continue
            elif kind is DocumentStartEvent:
                anchors, root = {}, None
                continue
            elif kind is DocumentEndEvent:
                documents.append(root)
                continue
            elif kind is StreamEndEvent:
                return documents
            else:  # the stream's start
                continue
            if kind is not AliasEvent and event.anchor is not None:
                anchors[event.anchor] = node  # before its children: as ruamel's composers do
            if not open_nodes:
                root = node
            elif keys[-1] is None:
                open_nodes[-1].value.append(node)
            elif keys[-1] is empty:
                keys[-1] = node
            else:
                open_nodes[-1].value.append((keys[-1], node))
                keys[-1] = empty
            if kind is SequenceStartEvent or kind is MappingStartEvent:
                open_nodes.append(node)
                keys.append(empty if kind is MappingStartEvent else None)
    finally:
        loader.dispose()


@cache
def _composer_error() -> type[Exception]:
    from ruamel.yaml.composer import ComposerError

    return ComposerError


@cache
def _loader_class() -> Any:
    """The C parser (ruamel.yaml.clib: the same nodes as the pure one, ~7x faster) with
    rail's resolver, as one class for the process. ruamel's own ``YAML.compose_all``
    builds a new class on every call: a type, its functions and their cycles for the
    garbage collector, thousands of them in a large stack."""
    from _ruamel_yaml import CParser  # type: ignore[import-not-found]

    resolver = _resolver_class()

    class Loader(CParser, resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            # No reference back to itself (ruamel's loaders keep several): a loader
            # in no cycle is freed as soon as its document is composed.
            resolver.__init__(self, version=None, loadumper=None)

    return Loader


@cache
def _resolver_class() -> Any:
    """ruamel's YAML 1.2 resolver, with its tables looked up once instead of per scalar.

    The stock resolver recomputes the document's YAML version for every scalar; rail
    reads every document as YAML 1.2 (the ``%YAML`` directive is not honoured), with
    the same implicit types as ruamel's 1.2 resolver.
    """
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers
    from ruamel.yaml.tag import Tag

    tags: dict[str, Any] = {}

    def shared(suffix: str) -> Any:
        if suffix not in tags:
            tags[suffix] = Tag(suffix=suffix)
            _KIND_OF_TAG[id(tags[suffix])] = suffix[len(_TAG) :]
        return tags[suffix]

    table: dict[str, list[tuple[Any, Any]]] = {}  # first character -> (tag, compiled regexp)
    for versions, suffix, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for char in first:
                table.setdefault(char, []).append((shared(suffix), regexp))
    string, sequence, mapping = shared(_TAG + "str"), shared(_TAG + "seq"), shared(_TAG + "map")

    class FastResolver(VersionedResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, regexp in table.get(value[:1], ()):
                        if regexp.match(value):
                            return tag
                return string
            if kind is SequenceNode:
                return sequence
            if kind is MappingNode:
                return mapping
            return super().resolve(kind, value, implicit)

    return FastResolver


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return key if isinstance(key, str) else str(key)


def _position(node: Any) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _parse_int(text: str) -> int | None:
    """The integer ``text`` says; None when it is longer than rail reads (MAX_INT_DIGITS)."""
    cleaned = text.replace("_", "")
    sign = -1 if cleaned.startswith("-") else 1
    digits = cleaned.lstrip("+-")
    power_of_two = digits.startswith(("0x", "0X", "0o", "0O", "0b", "0B"))
    if len(digits) > MAX_INT_DIGITS and not power_of_two:
        return None  # before int(): Python refuses to convert more than 4,300 decimal digits
    if digits.startswith(("0x", "0X")):
        value = int(digits[2:], 16)
    elif digits.startswith(("0o", "0O")):
        value = int(digits[2:], 8)
    elif digits.startswith(("0b", "0B")):
        value = int(digits[2:], 2)
    elif len(digits) > 1 and digits.startswith("0"):
        value = int(digits, 8)
    elif ":" in digits:
        value = 0
        for part in digits.split(":"):
            value = value * 60 + int(part)
    else:
        value = int(digits)
    if power_of_two and value.bit_length() > _MAX_INT_BITS:
        return None  # converted without a limit, but it must print in decimal too
    return sign * value


def _parse_float(text: str) -> float:
    cleaned = text.replace("_", "").lower()
    if cleaned in (".nan",):
        return math.nan
    if cleaned.lstrip("+-") == ".inf":
        return -math.inf if cleaned.startswith("-") else math.inf
    return float(cleaned)


# --------------------------------------------------------------------------- writing

_TOP_ORDER = ("apiVersion", "kind", "metadata", "spec", "type", "data", "stringData")
_METADATA_ORDER = ("name", "namespace", "labels", "annotations")

# Strings a YAML 1.1 or 1.2 reader would take for something other than a string.
_NON_STRING = re.compile(
    r"""^(?:
        y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | ~|null|Null|NULL
      | [-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*)
      | [-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*
      | << | =
    )$""",
    re.VERBOSE,
)
# Anything that looks like a number in any notation is quoted: cheaper to be sure.
_NUMBERISH = re.compile(r"^[-+.]?[0-9][0-9a-fA-FxXoObB._:+-]*$")
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def dump(data: Any, header: str = "") -> str:
    """The canonical text of one document, with ``header`` as leading comments."""
    return dump_document(data, header)[0]


def dump_document(data: Any, header: str = "", path: str = "") -> tuple[str, Document]:
    """The canonical text, and the document it reads back as (without a parse)."""
    comments = [f"# {line}" if line else "#" for line in header.splitlines()]
    writer = _Writer()
    writer.value(data, 0, top=True)
    text = "\n".join([*comments, *writer.lines]) + "\n"
    return text, Document(path=path, data=data, text=text)


def canonical_key_order(mapping: Mapping[Any, Any], *, top: bool = False, metadata: bool = False) -> list[Any]:
    order: tuple[str, ...] = _TOP_ORDER if top else _METADATA_ORDER if metadata else ()
    first = [key for key in order if key in mapping]
    rest = sorted((key for key in mapping if key not in order), key=lambda k: (not isinstance(k, str), str(k)))
    return first + rest


class _Writer:
    """Block-style lines in the canonical form."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def value(
        self, value: Any, indent: int, *, top: bool = False, metadata: bool = False, lead: str | None = None
    ) -> None:
        """``lead`` starts the first line instead of the indentation (a list item's ``- ``)."""
        pad = " " * indent
        first = pad if lead is None else lead
        if isinstance(value, Mapping) and value:
            for index, key in enumerate(canonical_key_order(value, top=top, metadata=metadata)):
                self._entry(first if index == 0 else pad, key, value[key], indent, metadata=top and key == "metadata")
        elif isinstance(value, list) and value:
            for index, item in enumerate(value):
                self._item(first if index == 0 else pad, item, indent)
        else:
            self.lines.append(first + _inline(value))

    def _entry(self, start: str, key: Any, item: Any, indent: int, *, metadata: bool) -> None:
        head = f"{start}{_scalar(key, key=True)}:"
        if isinstance(item, (Mapping, list)) and item:
            self.lines.append(head)
            self.value(item, indent + 2, metadata=metadata)
        elif isinstance(item, str) and _block_ok(item):
            self.lines.append(f"{head} {_block_header(item)}")
            self.lines.extend(_block_lines(item, indent + 2))
        else:
            self.lines.append(f"{head} {_inline(item)}")

    def _item(self, start: str, item: Any, indent: int) -> None:
        lead = start + "- "
        if isinstance(item, (Mapping, list)) and item:
            self.value(item, indent + 2, lead=lead)
        elif isinstance(item, str) and _block_ok(item):
            self.lines.append(lead + _block_header(item))
            self.lines.extend(_block_lines(item, indent + 2))
        else:
            self.lines.append(lead + _inline(item))


def _inline(value: Any) -> str:
    """A value on one line: a scalar, or an empty mapping or list."""
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def _scalar(value: Any, *, key: bool = False) -> str:
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        # YAML 1.1 needs a dot in the mantissa and a signed exponent.
        mantissa, _, exponent = repr(value).partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{exponent}" if exponent else mantissa
    return _string(str(value))


@lru_cache(maxsize=65536)
def _string(text: str) -> str:
    # Keys and common values repeat across thousands of objects: decide each once.
    return text if _plain_ok(text) else _double_quoted(text)


def _plain_ok(text: str) -> bool:
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if any(not ch.isprintable() for ch in text):
        return False
    return not (_NON_STRING.match(text) or _NUMBERISH.match(text))


def _double_quoted(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() or ch in "\u2028\u2029\ufeff":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _block_ok(text: str) -> bool:
    """A multi-line string reads best as a literal block, where that is lossless."""
    if "\n" not in text or text.strip("\n") == "":
        return False
    if text.endswith("\n\n"):
        # Keep chomping (|+) would end a file in blank lines: one trailing newline only.
        return False
    if "\r" in text or any(not (ch.isprintable() or ch in "\n\t") for ch in text):
        return False
    lines = text.rstrip("\n").split("\n")
    if lines[0].startswith((" ", "\t")):
        return False
    return all(line.strip() or not line for line in lines)


def _block_header(text: str) -> str:
    if not text.endswith("\n"):
        return "|-"
    return "|+" if text.endswith("\n\n") else "|"


def _block_lines(text: str, indent: int) -> list[str]:
    pad = " " * indent
    body = text[:-1] if text.endswith("\n") else text
    return [pad + line if line else "" for line in body.split("\n")]
