"""JSON Schema validation of specs, with errors located at file:line:col.

Validators are built once per schema and the bundled schemas are trusted: they
are checked against the metaschema in the test suite, never at run time.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..catalog.charts import catalog_schema
from ..errors import Problem
from ..resources import data_dir
from ..schemacheck import Validator, type_name
from ..yamlio import Document, format_key_path

# Why a pattern failed, in words, by the key that failed it.
_PATTERN_HINTS = {
    "name": "use a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
    "namespace": "use a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters",
    "releaseName": "use a DNS-1123 label of at most 53 characters",
    "version": "pin an exact chart version such as 1.2.3 (no range, no 'latest')",
    "layer": "use a layer id such as S3",
    "interval": "use a Go duration such as 10m or 1h30m",
    "timeout": "use a Go duration such as 10m or 1h30m",
    "recipient": "use the age public key (age1...) that `age-keygen -y` prints; the identity stays offline",
    "retention": "use an rclone age such as 14d, 8w, 6M or 1y",
    "schedule": "use a cron schedule of five fields (15 2 * * *) or @daily",
}
# How to write a value of the type the schema wants; quotes make any scalar a string.
TYPE_HINTS = {
    "boolean": "write true or false, without quotes",
    "integer": "write a whole number, without quotes",
    "number": "write a number, without quotes",
    "string": "quote the value",
    "array": "write a list ([a, b] or one '- item' a line)",
    "object": "write a mapping of keys to values",
}
_PATH_HINT = "use a path relative to the stack root, without '..' or a leading '/'"


@cache
def _validator(name: str) -> Validator:
    folder = data_dir("schemas")
    resources = {}
    for schema_name in ("stack.schema.json", "release.schema.json", "backup.schema.json"):
        schema = json.loads((folder / schema_name).read_text(encoding="utf-8"))
        resources[schema["$id"]] = schema
    # rail.yaml's charts: are entries of the chart catalog's form.
    resources[catalog_schema()["$id"]] = catalog_schema()
    schema = json.loads((folder / name).read_text(encoding="utf-8"))

    def full() -> Any:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        registry = Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in resources.items())
        return Draft202012Validator(schema, registry=registry)

    return Validator(schema, full, resources, bundled=True)


def validate(document: Document, schema_name: str) -> list[Problem]:
    validator = _validator(schema_name)
    if not isinstance(document.data, dict):
        return [
            document.problem((), "expected a mapping of keys to values", "see the schema in schemas/" + schema_name)
        ]
    problems = [_problem(document, error) for error in validator.iter_errors(document.data)]
    return sorted(problems, key=Problem.sort_key)


def _problem(document: Document, error: Any) -> Problem:
    path = tuple(error.absolute_path)
    key = path[-1] if path and isinstance(path[-1], str) else ""
    kind = error.validator
    if kind == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        unknown = extra[0] if extra else "?"
        hint = f"known keys here: {', '.join(known)}"
        import difflib  # an error's hint only

        close = difflib.get_close_matches(str(unknown), known, n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
        names = ", ".join(f"'{k}'" for k in extra)
        return document.problem((*path, unknown), f"unknown key {names}", hint)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return document.problem(path, f"missing required key '{missing}'", "add it; see the schema in schemas/")
    if kind == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        return document.problem(
            path,
            f"wrong type: expected {expected_text}, got {type_name(error.instance)}",
            TYPE_HINTS.get(expected_text, "change the value's type"),
        )
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        return document.problem(path, "value not allowed", "use one of: " + ", ".join(json.dumps(a) for a in allowed))
    if kind == "pattern":
        hint = _PATTERN_HINTS.get(str(key), _PATH_HINT if _is_path_key(path) else f"must match {error.validator_value}")
        return document.problem(path, f"invalid value {_shown(path, error.instance)}", hint)
    if kind in ("maxLength", "minLength", "minimum", "maximum", "minItems", "uniqueItems"):
        return document.problem(path, f"value violates {kind} {error.validator_value}", "")
    return document.problem(path, f"invalid value ({kind})", f"see {format_key_path(path)} in the schema")


def _is_path_key(path: tuple[Any, ...]) -> bool:
    return any(part in ("valuesFiles", "secrets", "output", "releases") for part in path)


def _shown(path: tuple[Any, ...], value: Any) -> str:
    """The offending value, where the secret classifier says it may be shown; kept short
    so a pasted blob does not flood the terminal."""
    from ..secrets import classify

    if classify(path, value).is_secret:
        return "(not shown: it looks like a secret)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + '..."'
