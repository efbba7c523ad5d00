"""values-schema: a release's values break its chart's values schema.

Helm accepts any values a chart does not check: ``size: 10GB`` renders, and the
PersistentVolumeClaim fails in the cluster; ``replicaCount: "3"`` may render a
string where Kubernetes wants a number; ``architecture: cluster`` silently falls
back to something else. rail checks the values a release really gets against
``schemas/values/<chart>.schema.json`` (JSON Schema 2020-12) where one exists:
the stack's own ``schemas/values/`` first, then the schemas rail ships
(postgresql-ha, valkey, gitea: the keys the railiance stack relies on). A chart
without a schema is not checked.

The schemas keep every object open (charts have hundreds of keys), so an
unknown key is no error; a key that is a near miss of a known one
(``replicaCout``) is a warning with the key it probably meant. Messages name the
key and what it must be, never the value: values may hold secrets. A value that
is a Flux ``${VAR}`` substitution is not checked: Flux replaces it first.

Fails::

    # releases/s3/postgresql-ha.yaml
    values:
      persistence:
        size: 10GB          # not a Kubernetes quantity: 10Gi

Passes::

    # releases/s3/postgresql-ha.yaml
    values:
      persistence:
        size: 10Gi
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ... import cache
from ...resources import data_dir
from ...schemacheck import Validator, type_name
from ...yamlio import format_key_path
from ..finding import ERROR, WARNING, Finding
from ..graph import ReleaseGraph, ReleaseNode
from ..results import key_paths
from ..rule import GRAPH_WIDE, LintContext, Rule

SCHEMA_FOLDER = ("schemas", "values")
SCHEMA_SUFFIX = ".schema.json"
MAX_SCHEMA_BYTES = 2 * 1024 * 1024
NEAR_MISS_CUTOFF = 0.85  # difflib ratio: replicaCout/replicaCount 0.96, persistance/persistence 0.91
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}
_SIZES = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "minProperties": "at least {} keys",
    "maxProperties": "at most {} keys",
}


@dataclass(frozen=True)
class _Schema:
    path: Path
    shown: str  # the stack's own file, repo-relative, or rail's bundled one by name
    root: Mapping[str, Any]
    validator: Validator
    digest: str  # of the schema as read: with the values, the key of their near misses in the cache


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    folders = _folders(context.root)
    schemas: dict[Path, _Schema | None] = {}  # each schema read and its validator built once a run
    paths: dict[str, Path | None] = {}  # each chart's schema looked up once a run, not once a release
    for node in graph.releases.values():
        name = node.chart.name
        if not name or not _SAFE_NAME.match(name) or ".." in name:
            continue
        if name not in paths:
            paths[name] = next(
                (f / f"{name}{SCHEMA_SUFFIX}" for f in folders if (f / f"{name}{SCHEMA_SUFFIX}").is_file()), None
            )
        path = paths[name]
        if path is None:
            continue
        if path not in schemas:
            schemas[path] = _load(path, graph, context.root)
        schema = schemas[path]
        if schema is not None:
            yield from _check_node(context, node, schema)


def _folders(root: Path | None) -> list[Path]:
    """The stack's own schema folder first (its schemas win), then rail's."""
    folders: list[Path] = []
    if root is not None and root.joinpath(*SCHEMA_FOLDER).is_dir():
        folders.append(root.joinpath(*SCHEMA_FOLDER).resolve())
    try:
        bundled = (data_dir("schemas") / SCHEMA_FOLDER[1]).resolve()
    except FileNotFoundError:
        return folders
    if bundled.is_dir() and bundled not in folders:
        folders.append(bundled)
    return folders


def _load(path: Path, graph: ReleaseGraph, root: Path | None) -> _Schema | None:
    """Read a schema and build its validator; never checked against the metaschema here
    (rail's own are checked by the test suite; a stack's own are its owner's)."""
    try:
        if path.stat().st_size > MAX_SCHEMA_BYTES:
            raise ValueError("too large")
        schema = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(schema, dict):
            raise ValueError("not a JSON object")

        def full() -> Any:
            from jsonschema.validators import validator_for
            from referencing import Registry

            cls = validator_for(schema, default=_draft_2020_12())
            # An empty registry: a $ref to another document fails instead of being fetched.
            return cls(schema, registry=Registry())

        digest = cache.digest("values-schema", marshal.dumps(schema, 2))  # JSON's types: marshal spells them all
        return _Schema(
            path=path, shown=_shown(path, root), root=schema, validator=Validator(schema, full), digest=digest
        )
    except (OSError, ValueError) as exc:
        graph.notes.append(f"values-schema: {path.name} is not a usable JSON Schema ({exc}): not checked")
        return None


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return f"rail's bundled values schema {path.name}"


def _draft_2020_12() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator


def _check_node(context: LintContext, node: ReleaseNode, schema: _Schema) -> list[Finding]:
    graph = context.graph
    try:
        return list(_findings(context, node, schema))
    except Exception as exc:  # noqa: BLE001 - a stack's own schema may be malformed in any way
        from referencing.exceptions import Unresolvable  # jsonschema raised it, so it is loaded

        if isinstance(exc, Unresolvable):
            graph.notes.append(f"values-schema: {schema.path.name} refers to a schema rail cannot resolve: not checked")
        else:
            graph.notes.append(
                f"values-schema: {schema.path.name} is not a valid JSON Schema ({type(exc).__name__}): not checked"
            )
    return []


def _findings(context: LintContext, node: ReleaseNode, schema: _Schema) -> Iterator[Finding]:
    graph = context.graph
    for error in schema.validator.iter_errors(node.values):
        if isinstance(error.instance, str) and "${" in error.instance:
            continue  # a Flux substitution: Flux replaces it before Helm sees it
        parts = tuple(error.absolute_path)
        location, related = graph.value_location(node, parts)
        yield Finding(
            rule=RULE.id,
            message=f"{_describe(error, parts)} ({node.chart.name} values schema)",
            location=location,
            related=related,
            object=node.ref,
            hint=f"see {schema.shown}",
        )
    # The walk is the values' own (a function of the schema and the values: cached by both);
    # where a near miss points is the graph's.
    for parts, known in key_paths(
        context, RULE.id, _values_key(schema, node), partial(_near_misses, schema.root, schema.root, node.values, ())
    ):
        location, related = graph.value_location(node, parts)
        where = f" in {format_key_path(parts[:-1])}" if len(parts) > 1 else ""
        yield Finding(
            rule=RULE.id,
            message=f"unknown key '{parts[-1]}'{where} (did you mean '{known}'?)",
            location=location,
            related=related,
            object=node.ref,
            severity=WARNING,
            hint=f"the chart ignores keys it does not know: rename it to '{known}'",
        )


def _values_key(schema: _Schema, node: ReleaseNode) -> str | None:
    try:
        return cache.digest("near-misses", schema.digest, marshal.dumps(node.values, 2))
    except ValueError:  # a value marshal cannot spell (a timestamp): walked each time
        return None


def _describe(error: Any, parts: tuple[Any, ...]) -> str:
    """What is wrong, by key and expectation: never the value (it may be a secret)."""
    key = f"values key '{format_key_path(parts)}'" if parts else "the values"
    kind, expected = error.validator, error.validator_value
    if kind == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"{key} must be {_article(wanted)}, not {_article(type_name(error.instance))}"
    if kind in ("enum", "const"):
        allowed = expected if kind == "enum" else [expected]
        return f"{key} must be one of: {', '.join(json.dumps(item) for item in allowed)}"
    if kind == "pattern":
        what = error.schema.get("description") if isinstance(error.schema, Mapping) else None
        return f"{key} must be {what} (pattern {expected})" if what else f"{key} must match the pattern {expected}"
    if kind in _BOUNDS:
        return f"{key} must be {_BOUNDS[kind]} {expected}"
    if kind in _SIZES:
        return f"{key} must have {_SIZES[kind].format(expected)}"
    if kind == "required" and isinstance(error.instance, Mapping):
        missing = [name for name in expected if name not in error.instance]
        return f"{key} misses the required key{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        extra = sorted(str(name) for name in error.instance if name not in known)
        return f"{key} has keys the schema does not allow: {', '.join(extra)}"
    return f"{key} fails the schema's '{kind}' check"


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _resolve(root: Mapping[str, Any], schema: Any) -> Any:
    """Follow local ``$ref``s (``#/$defs/...``); anything else stays as it is."""
    for _ in range(32):
        if not isinstance(schema, Mapping):
            return schema
        ref = schema.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: Any = root
        for token in ref[1:].split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            target = target.get(token) if isinstance(target, Mapping) else None
        schema = target
    return schema


def _near_misses(
    root: Mapping[str, Any], schema: Any, instance: Any, parts: tuple[Any, ...]
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Keys the schema does not know that are close to one it knows, at levels it describes."""
    node = _resolve(root, schema)
    if not isinstance(node, Mapping):
        return
    if isinstance(instance, list) and "items" in node:
        for index, item in enumerate(instance):
            yield from _near_misses(root, node["items"], item, (*parts, index))
        return
    properties = node.get("properties")
    if not isinstance(instance, Mapping) or not isinstance(properties, Mapping):
        return
    patterns = [re.compile(p) for p in node.get("patternProperties", {}) if isinstance(p, str)]
    for key, value in instance.items():
        if key in properties:
            yield from _near_misses(root, properties[key], value, (*parts, key))
        elif (
            isinstance(key, str)
            and node.get("additionalProperties") is not False  # then the validator reports it
            and not any(pattern.search(key) for pattern in patterns)
        ):
            import difflib  # only for a key the schema does not name

            close = difflib.get_close_matches(key, list(properties), n=3, cutoff=NEAR_MISS_CUTOFF)
            meant = next((known for known in close if _typo(key, str(known))), None)
            if meant is not None:
                yield (*parts, key), meant


def _typo(key: str, known: str) -> bool:
    """A near miss, not a longer or shorter key of its own: ``extraEnvVarsCM`` and
    ``repmgrPasswordFile`` are real keys beside ``extraEnvVars`` and ``repmgrPassword``."""
    longer, shorter = (key.lower(), known.lower()) if len(key) >= len(known) else (known.lower(), key.lower())
    extends = longer.startswith(shorter) or longer.endswith(shorter)
    return not (extends and len(longer) - len(shorter) >= 2)


RULE = Rule(
    id="values-schema",
    scope=GRAPH_WIDE,  # chart folders' schemas and values from valuesFrom objects
    severity=ERROR,
    summary="a release's values break its chart's values schema",
    check=check,
    doc=__doc__ or "",
)
