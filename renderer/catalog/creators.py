"""Objects that create others (an ExternalSecret makes a Secret): the facts live in
``creators.yaml`` beside this module, loaded once and checked against
``CREATOR_SCHEMA``; ``rail.yaml`` adds more in the same shape (the option
``creators`` of the rule ``dangling-reference``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..schemacheck import Validator
from ..yamlio import format_key_path, load_document

_DATA = Path(__file__).resolve().parent / "creators.yaml"
_FIELD = re.compile(r"\{([^{}]+)\}")
SAME = "same"
ANY = "any"

CREATOR_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["group", "kind", "creates"],
    "properties": {
        "group": {"type": "string"},
        "kind": {"type": "string", "minLength": 1},
        "creates": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "name"],
                "properties": {
                    "kind": {"type": "string", "minLength": 1},
                    "name": {"type": "string", "pattern": r"^[^{}]*(\{[^{}]+\}[^{}]*)+$"},
                    "namespace": {"enum": [SAME, ANY]},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Created:
    """One object a creator makes: ``name`` is a template, ``{a.b|c}`` the first set field."""

    kind: str
    name: str
    namespace: str = SAME


@dataclass(frozen=True)
class Creator:
    group: str
    kind: str
    creates: tuple[Created, ...]


def parse(entries: Iterable[Mapping[str, Any]]) -> tuple[Creator, ...]:
    """Entries already valid against ``CREATOR_SCHEMA`` -> creators."""
    return tuple(
        Creator(
            group=entry["group"],
            kind=entry["kind"],
            creates=tuple(
                Created(item["kind"], item["name"], item.get("namespace", SAME)) for item in entry["creates"]
            ),
        )
        for entry in entries
    )


@cache
def shipped() -> tuple[Creator, ...]:
    """The creators rail knows, read once from ``creators.yaml``."""
    path = str(_DATA)
    document = load_document(_DATA.read_text(encoding="utf-8"), path)
    schema = {"type": "array", "items": dict(CREATOR_SCHEMA)}

    def full() -> Any:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema)

    problems = [
        Problem(
            path=path, message=f"invalid creator ({error.validator})", key_path=format_key_path(error.absolute_path)
        )
        for error in Validator(schema, full).iter_errors(document.data)
    ]
    if problems:
        raise InputError(problems)
    return parse(document.data)


def _field(data: Any, dotted: str) -> str | None:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data if isinstance(data, str) and data else None


def render_name(template: str, data: Mapping[str, Any]) -> str | None:
    """``{metadata.name}-app`` for one object; None when a field has no value."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = next((v for v in (_field(data, f.strip()) for f in match.group(1).split("|")) if v), None)
        missing = missing or found is None
        return found or ""

    name = _FIELD.sub(value, template)
    return None if missing else name


def created(
    creators: Iterable[Creator], group: str, kind: str, namespace: str | None, data: Mapping[str, Any]
) -> Iterator[tuple[str, str | None, str]]:
    """(kind, namespace or None for any, name) of each object this object creates."""
    for creator in creators:
        if creator.group != group or creator.kind != kind:
            continue
        for item in creator.creates:
            name = render_name(item.name, data)
            if name:
                yield item.kind, namespace if item.namespace == SAME else None, name
