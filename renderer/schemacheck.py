"""A fast yes/no JSON Schema 2020-12 check; jsonschema explains every "no".

Importing jsonschema costs about 65 ms and building a validator more, which a
pre-commit hook cannot afford when the input is valid (nearly always). A
``Validator`` answers "valid?" itself for schemas that use only the keywords in
``_CHECKS`` and ``_ANNOTATIONS``; when the answer is "no", or the schema uses
any other keyword of the standard (``unevaluatedProperties``, ``$dynamicRef``,
another dialect's ``items: [...]``), jsonschema runs and reports the errors.

So the fast path can only ever skip work: it never decides what an error says.
``tests/test_schemacheck.py`` compares its verdicts with jsonschema's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from functools import cache
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from . import cache as store
from .memo import memo_scope

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Keywords that never change a verdict (jsonschema asserts no "format" unless given
# a format checker, which rail never passes). Unknown keywords are ignored by the
# standard too (x-kubernetes-*): only the known ones below send a schema elsewhere.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "format", "deprecated"}
    | {"readOnly", "writeOnly", "contentEncoding", "contentMediaType", "contentSchema"}
)
_UNSUPPORTED = frozenset(
    {"$anchor", "$dynamicAnchor", "$dynamicRef", "$recursiveAnchor", "$recursiveRef", "$vocabulary"}
    | {"unevaluatedProperties", "unevaluatedItems", "contains", "minContains", "maxContains"}
    | {"dependentSchemas", "dependencies", "additionalItems", "multipleOf", "definitions"}
)
# Keywords whose value is a schema, a list of schemas or a mapping of name -> schema.
_SUBSCHEMA = ("additionalProperties", "items", "propertyNames", "not", "if", "then", "else")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")


# Verdicts kept while ``rail diff`` reads two versions of a stack: most specs and
# rendered objects are then the very same objects on both sides.
_VERDICTS: ContextVar[dict[tuple[int, int], tuple[Any, Any, bool | None]] | None] = ContextVar(
    "rail_verdicts", default=None
)


def sharing_verdicts() -> AbstractContextManager[None]:
    """Inside, the same validator asked about the same object answers from memory (and,
    with the cache on, from the cache: an equal schema and instance in an earlier run);
    inside another such scope, that one's verdicts are shared."""
    if _VERDICTS.get() is not None:
        return nullcontext()
    return memo_scope(_VERDICTS)


# Inside the judging of one object whose findings the cache keeps (a per-object lint
# rule's unit, renderer.lint.results), a verdict entry would never be read: the next
# run reads the findings instead. So there none is read, sighted or written (thousands
# of small files fewer on a large stack); the in-process memo still answers.
_COVERED: ContextVar[bool] = ContextVar("rail_verdicts_covered", default=False)


@contextmanager
def covered_by_findings() -> Iterator[None]:
    """Inside, verdicts stay in memory only: the caller stores what it makes of them."""
    token = _COVERED.set(True)
    try:
        yield
    finally:
        _COVERED.reset(token)


# Verdicts on disk (renderer.cache, kind "verdict"): the fast check's answer, one word.
_PAYLOAD_OF: dict[bool | None, bytes] = {True: b"valid", False: b"invalid", None: b"unjudged"}
_VERDICT_OF: dict[bytes, tuple[bool | None]] = {payload: (verdict,) for verdict, payload in _PAYLOAD_OF.items()}


class Validator:
    """``iter_errors`` like jsonschema's, answered without jsonschema when the instance is valid."""

    def __init__(
        self,
        schema: Any,
        full: Callable[[], Any],
        resources: Mapping[str, Any] | None = None,
        *,
        bundled: bool = False,
    ) -> None:
        """``bundled``: one of rail's own schemas, whose keywords the test suite checks
        (tests/test_schemacheck.py), so the walk over them is not paid at run time."""
        self.schema = schema
        self._full = full
        self._built: Any = None
        self._resources = dict(resources or {})
        self._schema_key: str | None = None  # on first need; "" when marshal cannot spell it
        judged = bundled or (supported(schema) and _resources_supported(resources))
        self._quick = _Quick(schema, resources or {}) if judged else None

    def is_valid(self, instance: Any) -> bool:
        return bool(self.fast_verdict(instance) or self.full().is_valid(instance))

    def iter_errors(self, instance: Any) -> Iterator[Any]:
        if self.fast_verdict(instance):
            return iter(())
        return iter(self.full().iter_errors(instance))

    def fast_verdict(self, instance: Any) -> bool | None:
        """The fast check's own answer; None where it cannot judge (jsonschema must)."""
        if self._quick is None:
            return None
        memo = _VERDICTS.get()
        if memo is None:
            return self._judge(instance)
        # Both objects are kept in the memo, so neither id can be reused while it lives.
        known = memo.get((id(self), id(instance)))
        if known is not None and known[0] is self and known[1] is instance:
            return known[2]
        key = None if _COVERED.get() else self._disk_key(instance)
        stored = _VERDICT_OF.get(store.get("verdict", key) or b"") if key is not None else None
        if stored is not None:
            verdict = stored[0]
        else:
            verdict = self._judge(instance)
            if key is not None and store.admit("verdict", key):  # stored on a second sighting
                store.put("verdict", key, _PAYLOAD_OF[verdict])
        memo[(id(self), id(instance))] = (self, instance, verdict)
        return verdict

    def _disk_key(self, instance: Any) -> str | None:
        """The verdict's key on disk: digests of the schema (with its resources) and of the
        instance, exactly as marshal spells them; None with the cache off, or for data
        marshal cannot spell (a str subclass). Only the verdict is stored, never the instance."""
        if self._schema_key == "" or not store.enabled():
            return None
        import marshal

        try:
            if self._schema_key is None:
                resources = sorted(self._resources.items())
                self._schema_key = store.digest(marshal.dumps((self.schema, resources), 2))
            return store.digest(self._schema_key, marshal.dumps(instance, 2))
        except ValueError:
            if self._schema_key is None:
                self._schema_key = ""  # this schema cannot be spelt: never ask again
            return None

    def _judge(self, instance: Any) -> bool | None:
        assert self._quick is not None
        try:
            return self._quick.valid(self.schema, instance, self._quick.base)
        except (LookupError, TypeError, ValueError, re.error, RecursionError):
            # A $ref we cannot follow or a keyword value of an odd shape: not ours to judge.
            return None

    def full(self) -> Any:
        """The jsonschema validator, built on first need."""
        if self._built is None:
            self._built = self._full()
        return self._built


def _resources_supported(resources: Mapping[str, Any] | None) -> bool:
    return all(supported(schema) for schema in (resources or {}).values())


def supported(schema: Any) -> bool:
    """Whether the fast check can judge ``schema`` alone (else jsonschema does)."""
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping):
        return False
    dialect = schema.get("$schema", DIALECT)
    if dialect.rstrip("#") != DIALECT:
        return False
    return _walk(schema, root=True)


def _walk(schema: Any, root: bool = False) -> bool:
    if isinstance(schema, bool):
        return True
    if not isinstance(schema, Mapping):
        return False
    if not root and ("$id" in schema or "$schema" in schema):
        return False  # an embedded resource: its own base URI and maybe dialect
    if any(key in _UNSUPPORTED for key in schema):
        return False
    ref = schema.get("$ref")
    if ref is not None and not isinstance(ref, str):
        return False
    for key in _SUBSCHEMA:
        if key in schema and not _walk(schema[key]):
            return False
    for key in _SUBSCHEMA_LISTS:
        if key in schema:
            items = schema[key]
            if not isinstance(items, list) or not all(_walk(item) for item in items):
                return False
    for key in _SUBSCHEMA_MAPS:
        if key in schema:
            members = schema[key]
            if not isinstance(members, Mapping) or not all(_walk(item) for item in members.values()):
                return False
    return _values_well_formed(schema)


def _values_well_formed(schema: Mapping[str, Any]) -> bool:
    """Keyword values of the wrong shape are jsonschema's to report, not ours to guess."""
    kinds = schema.get("type")
    if kinds is not None and not isinstance(kinds, (str, list)):
        return False
    for key in ("required", "enum"):
        if key in schema and not isinstance(schema[key], list):
            return False
    if "pattern" in schema and not isinstance(schema["pattern"], str):
        return False
    if "patternProperties" in schema and not all(isinstance(p, str) for p in schema["patternProperties"]):
        return False
    return "dependentRequired" not in schema or isinstance(schema["dependentRequired"], Mapping)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def type_name(value: Any) -> str:
    """The JSON Schema type of a loaded value, for messages ("expected integer, got string")."""
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return {int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "value")


def _is_type(instance: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(instance, str)
    if kind == "object":
        return isinstance(instance, dict)  # as jsonschema's type checker: plain dicts
    if kind == "array":
        return isinstance(instance, list)
    if kind == "boolean":
        return isinstance(instance, bool)
    if kind == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if kind == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if kind == "number":
        return isinstance(instance, (int, float))
    return False


def _equal(one: Any, two: Any) -> bool:
    """JSON equality: true is not 1, 1 is 1.0, lists and mappings compared deeply."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one is two
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return bool(one == two)


class _Quick:
    def __init__(self, root: Any, resources: Mapping[str, Any]) -> None:
        self.base = root.get("$id", "") if isinstance(root, Mapping) else ""
        self.documents = {**resources, self.base: root}

    def _resolve(self, ref: str, base: str) -> tuple[Any, str]:
        uri, fragment = urldefrag(urljoin(base, ref) if base else ref)
        document = self.documents[uri]
        target = document
        for token in unquote(fragment).split("/")[1:] if fragment else ():
            token = token.replace("~1", "/").replace("~0", "~")
            is_list = isinstance(target, Sequence) and not isinstance(target, str)
            target = target[int(token)] if is_list else target[token]
        return target, uri

    def valid(self, schema: Any, instance: Any, base: str) -> bool:
        if schema is True:
            return True
        if schema is False:
            return False
        if "$ref" in schema:
            target, target_base = self._resolve(schema["$ref"], base)
            if not self.valid(target, instance, target_base):
                return False
        kinds = schema.get("type")
        if kinds is not None:
            if isinstance(kinds, str):
                if not _is_type(instance, kinds):
                    return False
            elif not any(_is_type(instance, kind) for kind in kinds):
                return False
        if "enum" in schema and not any(_equal(item, instance) for item in schema["enum"]):
            return False
        if "const" in schema and not _equal(schema["const"], instance):
            return False
        if isinstance(instance, str):
            if not self._string(schema, instance):
                return False
        elif isinstance(instance, (int, float)) and not isinstance(instance, bool):
            if not _number(schema, instance):
                return False
        elif isinstance(instance, dict):
            if not self._object(schema, instance, base):
                return False
        elif isinstance(instance, list) and not self._array(schema, instance, base):
            return False
        return self._combined(schema, instance, base)

    def _string(self, schema: Mapping[str, Any], instance: str) -> bool:
        if "minLength" in schema and len(instance) < schema["minLength"]:
            return False
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            return False
        return "pattern" not in schema or _regex(schema["pattern"]).search(instance) is not None

    def _object(self, schema: Mapping[str, Any], instance: Mapping[str, Any], base: str) -> bool:
        if any(key not in instance for key in schema.get("required", ())):
            return False
        if "minProperties" in schema and len(instance) < schema["minProperties"]:
            return False
        if "maxProperties" in schema and len(instance) > schema["maxProperties"]:
            return False
        for key, needed in schema.get("dependentRequired", {}).items():
            if key in instance and any(other not in instance for other in needed):
                return False
        names = schema.get("propertyNames")
        if names is not None and not all(self.valid(names, key, base) for key in instance):
            return False
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties")
        if not properties and not patterns and additional is None:
            return True
        for key, value in instance.items():
            known = False
            if key in properties:
                known = True
                if not self.valid(properties[key], value, base):
                    return False
            for pattern, subschema in patterns.items():
                if _regex(pattern).search(key):
                    known = True
                    if not self.valid(subschema, value, base):
                        return False
            if not known and additional is not None and not self.valid(additional, value, base):
                return False
        return True

    def _array(self, schema: Mapping[str, Any], instance: list[Any], base: str) -> bool:
        if "minItems" in schema and len(instance) < schema["minItems"]:
            return False
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            return False
        prefix = schema.get("prefixItems", ())
        for item, subschema in zip(instance, prefix, strict=False):
            if not self.valid(subschema, item, base):
                return False
        items = schema.get("items")
        if items is not None and not all(self.valid(items, item, base) for item in instance[len(prefix) :]):
            return False
        if schema.get("uniqueItems") is True:
            for index, item in enumerate(instance):
                if any(_equal(item, other) for other in instance[index + 1 :]):
                    return False
        return True

    def _combined(self, schema: Mapping[str, Any], instance: Any, base: str) -> bool:
        if "allOf" in schema and not all(self.valid(s, instance, base) for s in schema["allOf"]):
            return False
        if "anyOf" in schema and not any(self.valid(s, instance, base) for s in schema["anyOf"]):
            return False
        if "oneOf" in schema and sum(1 for s in schema["oneOf"] if self.valid(s, instance, base)) != 1:
            return False
        if "not" in schema and self.valid(schema["not"], instance, base):
            return False
        if "if" in schema:
            branch = "then" if self.valid(schema["if"], instance, base) else "else"
            if branch in schema and not self.valid(schema[branch], instance, base):
                return False
        return True


def _number(schema: Mapping[str, Any], instance: float) -> bool:
    if "minimum" in schema and instance < schema["minimum"]:
        return False
    if "maximum" in schema and instance > schema["maximum"]:
        return False
    if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
        return False
    return not ("exclusiveMaximum" in schema and instance >= schema["exclusiveMaximum"])
