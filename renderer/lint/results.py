"""Per-object rule results kept between runs (issue 16).

A per-object rule (``Rule.scope == PER_OBJECT``) judges each object or file on its own,
so its findings for one of them are a function of exactly: the rule (its id), the rule's
options and the run's lint options, the object's content (its file's text, the document's
place in it, its data: what a finding's message and line come from), anything else the
rule reads about the object (``extra``, named by each rule: crd-schema whether the file is a
kustomize patch), rail's version (the rule's code, the packaged schemas and catalog) and
this module's format. :func:`each_object` keys them by a digest of all of these and asks
``renderer.cache`` before running the rule on one object; a change to one release then
re-runs its objects only. An object rail cannot key exactly (a document the apply model
patched together from several files, one without its text) is never cached: it runs.

What is stored is findings and notes, never an object's values: a finding names keys,
objects and places, never a value (:mod:`.finding`), and a note names files and kinds.
Of a Secret not even these: a Secret's unit is clean-only (:func:`object_unit`), kept as
a marker under the digest of its content when it had no findings and no notes, else not
at all. A SOPS stack's Secrets are a third of its objects, and nearly all are clean.

An object's key digests its content once per document and run (:mod:`.documents`).

While a rule judges an object whose findings are kept, schema verdicts stay in memory
(:func:`renderer.schemacheck.covered_by_findings`): the next run reads the findings, so
a verdict entry beside them would only cost a write.

Findings come back in the order the rule yields them, and the notes a rule appends to
the graph's list while judging an object are stored and replayed in their place, so a run
with the cache gives the same report, byte for byte, as one without.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .. import __version__, cache
from ..memo import memo_scope
from ..schemacheck import covered_by_findings
from ..secrets import contains_secret
from ..yamlio import Document
from .documents import content_key, typed
from .finding import Finding, Location, ObjectRef
from .manifests import Manifest
from .notes import Note
from .rule import LintContext

KIND = "rule"
FORMAT = "rule-results/3"  # bump when what is stored, or how a key is made, changes

T = TypeVar("T")


@dataclass(frozen=True)
class Unit(Generic[T]):
    """One object or file a per-object rule judges on its own, and the digest of its
    content (None: it cannot be keyed exactly, so it is never cached). ``clean_only``:
    its content comes from a Secret, so only "no findings, no notes" is kept, as a
    marker under the digest: the findings of a Secret (the keys they name) never are."""

    item: T
    key: str | None
    clean_only: bool = False


# What a clean-only unit's entry holds: no findings and no notes, nothing of the object.
CLEAN = b"clean"


# The entries this scope resolved (read from the cache or a kept diff side, or worked out
# and fit to keep), by the digest of the rule's leading parts and the unit's key: what a
# unit's entry holds, found with no digest made. A diff side keeps those its lint resolved
# (:func:`recording`, renderer.diff.snapshot), and the run restoring it gives them back
# (:func:`share_resolved`): the next index, sharing nearly every object with that side,
# then hashes and looks up only the changed ones. Each holds what the cache would (an
# entry's payload: findings and notes, a clean marker, key paths), never a value.
Resolved = dict[tuple[str, str], bytes]
_RESOLVED: ContextVar[Resolved | None] = ContextVar("rail_resolved_results", default=None)
_RECORDING: ContextVar[Resolved | None] = ContextVar("rail_recorded_results", default=None)


def sharing_resolved() -> AbstractContextManager[None]:
    """Inside, an entry resolved once is not looked up in the cache again."""
    return memo_scope(_RESOLVED)


@contextmanager
def recording() -> Iterator[Resolved]:
    """Inside, the entries each lookup resolves are also recorded in the dict yielded: the
    ones a lint of one diff side used, kept with it."""
    found: Resolved = {}
    token = _RECORDING.set(found)
    try:
        yield found
    finally:
        _RECORDING.reset(token)


def share_resolved(entries: Resolved) -> None:
    """Take ``entries`` (a kept side's, see :func:`recording`) as resolved in this scope."""
    memo = _RESOLVED.get()
    if memo is not None:
        for slot, payload in entries.items():
            memo.setdefault(slot, payload)


class _Entries:
    """One rule's entries in this run: what ``head`` (the spelling of the rule's leading key
    parts) and a unit's key name, from this scope's resolved entries, else the cache."""

    def __init__(self, head: bytes) -> None:
        self._head = head
        self._ident = hashlib.sha256(head).hexdigest()
        self._known = _RESOLVED.get()
        self._recorded = _RECORDING.get()

    def get(self, unit_key: str) -> bytes | None:
        if self._known is not None:
            found = self._known.get((self._ident, unit_key))
            if found is not None:
                return found
        return cache.get(KIND, self.cache_key(unit_key))

    def cache_key(self, unit_key: str) -> str:
        return cache.digest_after(self._head, unit_key)

    def resolved(self, unit_key: str, payload: bytes) -> None:
        """``payload`` (fit to keep: read from the cache, or passed its checks) is the entry."""
        slot = (self._ident, unit_key)
        if self._known is not None:
            self._known[slot] = payload
        if self._recorded is not None:
            self._recorded[slot] = payload

    def put(self, unit_key: str, payload: bytes) -> None:
        """Keep a result worked out now: resolved here, and in the cache if it admits it."""
        self.resolved(unit_key, payload)
        key = self.cache_key(unit_key)
        if cache.admit(KIND, key):
            cache.put(KIND, key, payload)


def each_object(
    context: LintContext, rule_id: str, units: Iterable[Unit[T]], check_one: Callable[[T], Iterable[Finding]]
) -> Iterator[Finding]:
    """``check_one`` over ``units`` in order, each unit's findings (and the notes it adds to
    the graph) from the cache when ``context.cached`` and its entry is there."""
    notes = context.graph.notes
    if not context.cached:
        for unit in units:
            yield from check_one(unit.item)
        return
    entries = _Entries(cache.spelt(FORMAT, __version__, rule_id, _settings(context, rule_id)))
    for unit in units:
        if unit.key is None:
            yield from check_one(unit.item)
            continue
        payload = entries.get(unit.key)
        stored = ([], []) if unit.clean_only and payload == CLEAN else None if unit.clean_only else _decode(payload)
        if stored is not None and payload is not None:
            entries.resolved(unit.key, payload)
            found, added = stored
            notes.extend(added)
            yield from found
            continue
        before = len(notes)
        with covered_by_findings():  # this entry keeps the result: no verdict entry of its own
            found = list(check_one(unit.item))  # whole, so the notes it adds are its own
        payload = _clean(found, notes[before:]) if unit.clean_only else _stored(found, notes[before:])
        if payload is not None:
            entries.put(unit.key, payload)
        yield from found


def _clean(findings: list[Finding], notes: list[str | Note]) -> bytes | None:
    """A clean-only unit's entry: the marker when it has neither findings nor notes,
    else nothing is kept (it is judged again next time)."""
    return CLEAN if not findings and not notes else None


KeyPaths = list[tuple[tuple[Any, ...], str]]


def key_paths(
    context: LintContext, rule_id: str, key: str | None, compute: Callable[[], Iterable[tuple[tuple[Any, ...], str]]]
) -> KeyPaths:
    """A per-document scan's hits (a key path and why, never the value there), from the
    cache when ``context.cached`` and ``key`` (the document's, see :func:`document_key`) is
    kept. A graph-wide rule's per-document part: the rule builds its findings from them."""
    if not context.cached or key is None:
        return list(compute())
    entries = _key_paths_entries(context, rule_id)
    payload = entries.get(key)
    stored = _paths_from(payload)
    if stored is not None and payload is not None:
        entries.resolved(key, payload)
        return stored
    found = list(compute())
    if not found:
        entries.put(key, _NO_PATHS)
        return found
    data = [[list(path), why] for path, why in found]
    plain = all(isinstance(part, (str, int)) and not isinstance(part, bool) for path, _ in found for part in path)
    if plain and not contains_secret({"paths": data}):  # a key of another type would come back as a string
        entries.put(key, json.dumps(data, separators=(",", ":")).encode("utf-8"))
    return found


def _key_paths_entries(context: LintContext, rule_id: str) -> _Entries:
    """A rule's key-paths entries, its key's leading parts spelt once a run (~2,000 keys at
    1,000 releases)."""
    made = context.key_paths_entries
    found: _Entries | None = made.get(rule_id)
    if found is None:
        found = made[rule_id] = _Entries(
            cache.spelt(FORMAT, __version__, rule_id, "key-paths", _settings(context, rule_id))
        )
    return found


def _paths_from(payload: bytes | None) -> KeyPaths | None:
    if payload is None:
        return None
    if payload == _NO_PATHS:
        return []
    try:
        found: KeyPaths = []
        for path, why in json.loads(payload):
            if not all(isinstance(part, (str, int)) and not isinstance(part, bool) for part in path):
                return None
            found.append((tuple(path), _text(why)))
        return found
    except (ValueError, TypeError):
        return None


def manifest_key(manifest: Manifest, *extra: str) -> str | None:
    """The digest of what a rule can read of one object: its file's path and text, the
    document's index in it (lines and columns come from these) and its data (what the
    rule judges); ``extra``: whatever else the calling rule reads about it. None for a
    document that is not one file's own text (the apply model's patched objects), and for
    a Secret: nothing that comes from a Secret is kept, not even its findings (but see
    :func:`object_unit`)."""
    if manifest.kind == "Secret":
        return None
    return document_key(manifest.document, *extra)


def object_unit(manifest: Manifest, *extra: str) -> Unit[Manifest]:
    """``manifest`` as a unit of :func:`each_object`: keyed as :func:`manifest_key` keys it,
    and a Secret keyed the same way but clean-only: of a Secret only a digest of its
    content and the marker that it had no findings are ever kept."""
    if manifest.kind == "Secret":
        return Unit(manifest, document_key(manifest.document, *extra), clean_only=True)
    return Unit(manifest, document_key(manifest.document, *extra))


def document_key(document: Document, *extra: str) -> str | None:
    """What keys the results of ``document``: the digest of its path, index, text and data
    (see :func:`manifest_key`) and ``extra``, spelt out (:class:`_Entries` hashes it once,
    with the rule's leading parts); None for a document it cannot be (see
    :func:`.documents.content_key`). ``extra``: short words of the calling rule, no NUL."""
    content = content_key(document)
    if content is None:
        return None
    if any("\0" in part for part in extra):
        raise ValueError("a key's extra part holds a NUL: it would not spell one key")
    return "\0".join(("document", content, *extra))


def _settings(context: LintContext, rule_id: str) -> str:
    spelt = context.spelt_settings.get(rule_id)
    if spelt is None:
        spelt = context.spelt_settings[rule_id] = _spelt_settings(context, rule_id)
    return spelt


def _spelt_settings(context: LintContext, rule_id: str) -> str:
    options = context.rule_options.get(rule_id, {})
    return json.dumps(
        {
            "options": options,
            "exhaustive": context.options.exhaustive,
            "strict": context.options.strict,
        },
        sort_keys=True,
        default=typed,
    )


# --------------------------------------------------------------------------- stored form


def _stored(findings: list[Finding], notes: list[str | Note]) -> bytes | None:
    """The entry's bytes, or None when the secret classifier calls anything in it secret
    (it never should: findings and notes name keys and places; then it is not stored)."""
    if not findings and not notes:
        return _NOTHING
    data = {"findings": [finding_data(f) for f in findings], "notes": [_note_data(n) for n in notes]}
    if contains_secret(data):
        return None
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")


# What most entries hold (an object with no findings, a document with no hits), as
# :func:`_stored` and :func:`key_paths` write it: read back without parsing.
_NOTHING = b'{"findings":[],"notes":[]}'
_NO_PATHS = b"[]"


def _decode(payload: bytes | None) -> tuple[list[Finding], list[str | Note]] | None:
    """The stored findings and notes, or None (absent, or not what this format writes:
    never trusted, recomputed)."""
    if payload is None:
        return None
    if payload == _NOTHING:
        return [], []
    try:
        data = json.loads(payload)
        return [finding_from(item) for item in data["findings"]], [_note_from(item) for item in data["notes"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def finding_data(finding: Finding) -> dict[str, Any]:
    """A finding as JSON data, every field (``to_json`` is the report's form, not this)."""
    return {
        "rule": finding.rule,
        "message": finding.message,
        "location": _location_data(finding.location),
        "object": None if (obj := finding.object) is None else [obj.kind, obj.namespace, obj.name],
        "severity": finding.severity,
        "hint": finding.hint,
        "related": [_location_data(place) for place in finding.related],
        "change": finding.change,
    }


def finding_from(data: dict[str, Any]) -> Finding:
    obj = data["object"]
    return Finding(
        rule=_text(data["rule"]),
        message=_text(data["message"]),
        location=_location_from(data["location"]),
        object=None if obj is None else ObjectRef(_text(obj[0]), _optional(obj[1]), _text(obj[2])),
        severity=_text(data["severity"]),
        hint=_text(data["hint"]),
        related=tuple(_location_from(item) for item in data["related"]),
        change=_optional(data["change"]),
    )


def _location_data(location: Location) -> list[Any]:
    return [location.path, location.line, location.column]


def _location_from(data: list[Any]) -> Location:
    path, line, column = data
    return Location(_text(path), _number(line), _number(column))


def _note_data(note: str | Note) -> Any:
    return note if isinstance(note, str) else [note.kind, note.message, note.path, note.detail]


def _note_from(data: Any) -> str | Note:
    if isinstance(data, str):
        return data
    kind, message, path, detail = data
    return Note(_text(kind), _text(message), _text(path), _text(detail))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _optional(value: Any) -> str | None:
    return None if value is None else _text(value)


def _number(value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError("not a line or column")
    return value
