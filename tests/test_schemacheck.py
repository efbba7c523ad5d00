"""renderer.schemacheck answers "valid?" as jsonschema does, or hands the question to it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from renderer.schemacheck import Validator, supported
from renderer.yamlio import load_document

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
BUNDLED = sorted(p for p in SCHEMAS.rglob("*.json") if p.name != "index.json")
SPEC_SCHEMAS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.schema.json")}


def _pair(schema: Any, resources: dict[str, Any] | None = None) -> tuple[Validator, Any]:
    registry = Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in (resources or {}).items())
    reference = Draft202012Validator(schema, registry=registry)
    return Validator(schema, lambda: reference, resources), reference


def _spec_pair(name: str) -> tuple[Validator, Any]:
    resources = {doc["$id"]: doc for doc in SPEC_SCHEMAS.values()}
    return _pair(SPEC_SCHEMAS[name], resources)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.relative_to(SCHEMAS).as_posix())
def test_every_bundled_schema_is_judged_without_jsonschema(path: Path) -> None:
    # A keyword outside the fast check's set would silently bring back the slow path.
    assert supported(json.loads(path.read_text(encoding="utf-8")))


def _shipped(pattern: str) -> list[Any]:
    """The shipped files ``pattern`` matches; of the release folders, the release specs
    only (``kind: Backup`` specs have a schema of their own: see ``_shipped_backups``)."""
    found = [load_document(p.read_text(encoding="utf-8"), p.name).data for p in sorted(REPO.glob(pattern))]
    return [data for data in found if not (isinstance(data, dict) and data.get("kind") == "Backup")]


def _shipped_backups() -> list[Any]:
    found = [load_document(p.read_text(encoding="utf-8"), p.name).data for p in sorted(REPO.glob("releases/*/*.yaml"))]
    return [data for data in found if isinstance(data, dict) and data.get("kind") == "Backup"]


def _mutations(instance: Any) -> list[Any]:
    """The instance with one value at a time replaced by values of other types."""
    out: list[Any] = []
    replacements: list[Any] = [None, True, 0, 1, 1.5, -1, "", "x", "UPPER case", [], [1, 1], {}, {"a": 1}]

    def walk(node: Any, setter: Any) -> None:
        for replacement in replacements:
            setter(replacement)
            out.append(copy.deepcopy(instance))
        setter(node)
        if isinstance(node, dict):
            for key in list(node):
                walk(node[key], lambda v, k=key: node.__setitem__(k, v))
            node["unknownKey"] = 1
            out.append(copy.deepcopy(instance))
            del node["unknownKey"]
        elif isinstance(node, list):
            for index in range(len(node)):
                walk(node[index], lambda v, i=index: node.__setitem__(i, v))

    walk(instance, lambda v: None)
    return out


@pytest.mark.parametrize(
    ("schema_name", "pattern"),
    [
        ("stack.schema.json", "rail.yaml"),
        ("release.schema.json", "releases/*/*.yaml"),
        ("backup.schema.json", "releases/*/*.yaml"),
    ],
)
def test_verdicts_on_shipped_specs_and_their_mutations_match_jsonschema(schema_name: str, pattern: str) -> None:
    fast, reference = _spec_pair(schema_name)
    instances = _shipped_backups() if schema_name == "backup.schema.json" else _shipped(pattern)
    assert instances
    checked = 0
    for original in instances:
        assert fast.fast_verdict(original) is True and reference.is_valid(original)
        for mutated in _mutations(copy.deepcopy(original)):
            assert fast.fast_verdict(mutated) == reference.is_valid(mutated), json.dumps(mutated)[:300]
            checked += 1
    assert checked > 100


def test_error_cases_are_reported_by_jsonschema() -> None:
    fast, reference = _spec_pair("release.schema.json")
    spec = _shipped("releases/s3/valkey.yaml")[0]
    spec["replicaz"] = 3
    errors = list(fast.iter_errors(spec))
    assert [e.validator for e in errors] == [e.validator for e in reference.iter_errors(spec)]
    assert errors and errors[0].validator == "additionalProperties"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.0, 1.0, 2.5, -0.5]) | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from("abcxy"), children, max_size=3),
    max_leaves=8,
)
_SCHEMA = st.recursive(
    st.sampled_from(
        [
            True,
            False,
            {"type": "integer"},
            {"type": "number", "minimum": 0},
            {"type": ["string", "null"]},
            {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
            {"enum": [1, "a", None, True]},
            {"const": 1},
            {"const": [1, {"a": False}]},
            {"minLength": 1},
            {"exclusiveMaximum": 2},
            {"uniqueItems": True},
            {"minItems": 1, "maxItems": 2},
            {"required": ["a"]},
            {"minProperties": 1},
            {"dependentRequired": {"a": ["b"]}},
            {"$ref": "#/$defs/shared"},
            {"$ref": "#/$defs/shared", "type": "string"},
        ]
    ),
    lambda inner: (
        st.fixed_dictionaries({"properties": st.dictionaries(st.sampled_from("abc"), inner, max_size=2)})
        | st.fixed_dictionaries({"patternProperties": st.fixed_dictionaries({"^[xy]": inner})})
        | st.fixed_dictionaries({"additionalProperties": inner, "properties": st.just({"a": True})})
        | st.fixed_dictionaries({"items": inner})
        | st.fixed_dictionaries({"prefixItems": st.lists(inner, max_size=2), "items": inner})
        | st.fixed_dictionaries({"propertyNames": inner})
        | st.fixed_dictionaries({"allOf": st.lists(inner, min_size=1, max_size=2)})
        | st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=2)})
        | st.fixed_dictionaries({"oneOf": st.lists(inner, min_size=1, max_size=2)})
        | st.fixed_dictionaries({"not": inner})
        | st.fixed_dictionaries({"if": inner, "then": inner, "else": inner})
    ),
    max_leaves=6,
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_SCHEMA, instance=_JSON)
def test_random_schemas_and_instances_get_jsonschemas_verdict(schema: Any, instance: Any) -> None:
    # $refs anywhere point into the root's $defs, as they do in rail's schemas.
    fast, reference = _pair({"$defs": {"shared": {"minLength": 2, "maxLength": 3}}, "allOf": [schema]})
    # The fast check's own verdict, not its fallback: a "no" it gets wrong costs a
    # jsonschema run, a "yes" it gets wrong would let an error through.
    assert fast.fast_verdict(instance) == reference.is_valid(instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"unevaluatedProperties": False},
        {"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": "string"}]},
        {"contains": {"type": "string"}},
        {"properties": {"a": {"$id": "https://example.com/inner", "type": "string"}}},
        {"multipleOf": 0.1},
    ],
)
def test_schemas_outside_the_fast_check_go_to_jsonschema(schema: dict[str, Any]) -> None:
    assert not supported(schema)
    assert Validator(schema, lambda: None).fast_verdict({"a": 1}) is None
    calls: list[Any] = []

    def full() -> Any:
        calls.append(1)
        return Draft202012Validator(schema) if "$schema" not in schema else Draft202012Validator({})

    Validator(schema, full).is_valid({"a": 1})
    assert calls == [1]


def test_a_reference_it_cannot_follow_is_left_to_jsonschema() -> None:
    schema = {"properties": {"a": {"$ref": "https://example.com/elsewhere.json"}}}
    calls: list[Any] = []
    fast = Validator(schema, lambda: calls.append(1) or Draft202012Validator({}))
    assert fast.fast_verdict({"a": 1}) is None
    assert fast.is_valid({"a": 1})  # jsonschema's answer (an empty schema), reached without a crash
    assert calls == [1]


def _rendered_objects() -> list[tuple[str, Any]]:
    index = json.loads((SCHEMAS / "crds" / "index.json").read_text(encoding="utf-8"))
    found = []
    for path in sorted((REPO / "rendered").rglob("*.yaml")):
        data = load_document(path.read_text(encoding="utf-8"), path.name).data
        if not isinstance(data, dict) or "sops" in data:
            continue
        group, _, version = str(data.get("apiVersion", "")).rpartition("/")
        schema = index.get(f"{group}/{version}/{data.get('kind')}")
        if schema is not None:
            found.append((schema, data))
    return found


def test_verdicts_on_rendered_objects_and_their_mutations_match_jsonschema() -> None:
    objects = _rendered_objects()
    assert {schema.split("/")[0] for schema, _ in objects} >= {"helm.toolkit.fluxcd.io", "argoproj.io"}
    for schema_name, data in objects:
        fast, reference = _pair(json.loads((SCHEMAS / "crds" / schema_name).read_text(encoding="utf-8")))
        assert fast.fast_verdict(data) is True and reference.is_valid(data)
        for mutated in _mutations(copy.deepcopy(data))[::7]:  # every 7th: the CRD schemas are large
            assert fast.fast_verdict(mutated) == reference.is_valid(mutated), (schema_name, json.dumps(mutated)[:300])


@pytest.mark.parametrize("chart", ["postgresql-ha", "valkey", "gitea"])
def test_verdicts_on_shipped_values_and_their_mutations_match_jsonschema(chart: str) -> None:
    release = next(r for r in _shipped("releases/*/*.yaml") if r["chart"]["name"] == chart)
    values = release.get("values", {})
    for extra in release.get("valuesFiles", []):
        values = {**load_document((REPO / extra).read_text(encoding="utf-8"), extra).data, **values}
    fast, reference = _pair(json.loads((SCHEMAS / "values" / f"{chart}.schema.json").read_text(encoding="utf-8")))
    assert fast.fast_verdict(values) is True and reference.is_valid(values)
    for mutated in _mutations(copy.deepcopy(values)):
        assert fast.fast_verdict(mutated) == reference.is_valid(mutated), json.dumps(mutated)[:300]


def test_inside_a_diff_the_same_object_is_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer.schemacheck import sharing_verdicts

    fast, _ = _pair({"type": "object", "required": ["a"]})
    judged: list[Any] = []
    original = Validator._judge

    def spy(self: Validator, instance: Any) -> bool | None:
        judged.append(instance)
        return original(self, instance)

    monkeypatch.setattr(Validator, "_judge", spy)
    monkeypatch.setenv("RAIL_NO_CACHE", "1")  # the memo alone (tests/cache/test_backings.py: on disk)
    same, equal = {"a": 1}, {"a": 1}
    with sharing_verdicts():
        assert fast.fast_verdict(same) and fast.fast_verdict(same) and fast.fast_verdict(equal)
        assert fast.fast_verdict({}) is False
    assert len(judged) == 3  # `same` once, `equal` (another object) and {} on their own
    fast.fast_verdict(same)
    assert len(judged) == 4  # outside a diff nothing is kept


# ------------------------------------------------------------------ nulls, as the API server reads them
# crd-schema validates a custom resource as the API server does: nulls of fields that are not
# `nullable: true` are dropped first (renderer.lint.rules.crd_schema.drop_nulls). No packaged
# CRD has a nullable field, so these use a small structural schema of their own.

NULLS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "owner", "tier"],
            "properties": {
                "name": {"type": "string"},
                "owner": {"type": "string", "nullable": True},
                "mode": {"type": "string", "nullable": True, "enum": ["a", "b"]},
                "replicas": {"type": "integer"},
                "tier": {"type": "string", "default": "gold"},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "nullable": True}},
                "ports": {"type": "array", "items": {"type": "integer", "nullable": True}},
                "hosts": {"type": "array", "items": {"type": "string", "default": "localhost"}},
                "rules": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"port": {"type": "integer"}}},
                },
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
    },
}


def _crd_lint(spec: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from renderer.lint.graph import build
    from renderer.lint.manifests import parse
    from renderer.lint.rule import LintContext
    from renderer.lint.rules import crd_schema
    from renderer.model import StackConfig

    checker = Validator(NULLS_SCHEMA, lambda: Draft202012Validator(NULLS_SCHEMA))
    monkeypatch.setattr(crd_schema, "validator", lambda key: checker)
    text = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: app, namespace: flux-system}\nspec:\n" + spec
    )
    graph = build(StackConfig.default(), parse(text, "app.yaml"))
    return [(f.location.line, f.message) for f in crd_schema.check(LintContext(graph=graph))]


def test_a_null_in_a_nullable_field_is_kept_and_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    # owner is required and nullable: present as null, it is there.
    spec = "  name: app\n  owner: null\n  tier: silver\n  labels: {team: null}\n  ports: [80, null]\n"
    assert _crd_lint(spec, monkeypatch) == []


def test_a_null_in_a_field_that_is_not_nullable_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = (
        "  name: app\n  owner: x\n  tier: silver\n  replicas: null\n"
        "  rules: [{port: null}, {port: 80}]\n  hosts: [null, example.com]\n"
    )
    assert _crd_lint(spec, monkeypatch) == []


def test_a_required_null_that_is_not_nullable_is_missing_at_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _crd_lint("  name: null\n  owner: x\n  tier: silver\n", monkeypatch) == [
        (5, "Kustomization 'app': spec: missing required key 'name' (it is null, which the API server drops)")
    ]


def test_a_required_key_with_a_default_is_never_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _crd_lint("  name: app\n  owner: x\n", monkeypatch) == []
    assert _crd_lint("  name: app\n  owner: x\n  tier: null\n", monkeypatch) == []


def test_a_null_list_item_without_a_default_stays_and_is_a_type_error(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = "  name: app\n  owner: x\n  tier: silver\n  rules:\n    - null\n"
    assert _crd_lint(spec, monkeypatch) == [
        (9, "Kustomization 'app': spec.rules[0]: wrong type: expected object, got null")
    ]


def test_type_errors_stay_and_a_nullable_null_still_meets_its_enum(monkeypatch: pytest.MonkeyPatch) -> None:
    # kube-openapi checks a null's type (nullable passes it) and its enum (null is in no enum).
    spec = "  name: app\n  owner: 7\n  tier: silver\n  mode: null\n  replicas: three\n"
    assert sorted(message for _, message in _crd_lint(spec, monkeypatch)) == [
        'Kustomization \'app\': spec.mode: value is not one of "a", "b"',
        "Kustomization 'app': spec.owner: wrong type: expected string, got integer",
        "Kustomization 'app': spec.replicas: wrong type: expected integer, got string",
    ]


def test_nulls_the_schema_does_not_describe_are_left_alone() -> None:
    from renderer.lint.rules.crd_schema import drop_nulls

    instance = {"spec": {"name": None, "unknown": None, "extra": {"a": None}, "labels": {"b": None}}}
    pruned, nulls = drop_nulls(instance, NULLS_SCHEMA)
    # An unknown key stays (it is reported as unknown); inside preserve-unknown-fields nothing is described.
    assert pruned == {"spec": {"unknown": None, "extra": {"a": None}, "labels": {"b": None}}}
    assert nulls.dropped == {("spec", "name")}
    assert nulls.nullable == {("spec", "labels", "b")}
    assert instance["spec"]["name"] is None  # the input is not changed


def test_without_nulls_to_drop_the_very_instance_comes_back() -> None:
    from renderer.lint.rules.crd_schema import drop_nulls

    instance = {"spec": {"name": "app", "owner": None, "ports": [1, None]}}
    pruned, nulls = drop_nulls(instance, NULLS_SCHEMA)
    assert pruned is instance  # the verdict memo is keyed by identity
    assert nulls.dropped == set()
