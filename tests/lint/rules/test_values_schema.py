"""values-schema beyond its cases: the shipped schemas are valid and cover what the
shipped stack sets, messages never carry values, validators are built once a run
and never checked against the metaschema at run time, near misses are near."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from renderer.app import run_lint
from renderer.lint.rule import LintOptions
from renderer.lint.rules import values_schema

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = sorted((REPO / "schemas" / "values").glob("*.schema.json"))
SHIPPED_CHARTS = {"postgresql-ha", "valkey", "gitea"}


def test_the_shipped_charts_have_schemas() -> None:
    assert {path.name.removesuffix(".schema.json") for path in SCHEMAS} >= SHIPPED_CHARTS


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda path: path.name)
def test_each_values_schema_is_valid_against_the_metaschema(path: Path) -> None:
    # rail never checks its schemas at run time; this test is why it need not.
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/values/{path.name}")


def _key_paths(values: Any, parts: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            yield (*parts, key)
            yield from _key_paths(value, (*parts, key))
    elif isinstance(values, list):
        for item in values:
            yield from _key_paths(item, (*parts, 0))


def _described(root: Mapping[str, Any], parts: tuple[Any, ...]) -> bool:
    """Whether the schema names every key on the path, down to where it leaves an object open."""
    node: Any = root
    for part in parts:
        node = values_schema._resolve(root, node)
        if isinstance(part, int):
            node = node.get("items") if isinstance(node, Mapping) else None
        elif isinstance(node, Mapping) and "properties" in node:
            node = node["properties"].get(part)
        else:
            return True  # an open object the schema does not describe further
        if node is None:
            return False
    return True


def test_the_schemas_cover_every_key_the_shipped_stack_sets(rendered_stack: Path) -> None:
    from renderer.lint.graph import build
    from renderer.lint.inputs import collect

    inputs = collect(rendered_stack, [])
    graph = build(inputs.config, inputs.manifests, inputs.loaded, inputs.referenced)
    checked = set()
    for node in graph.releases.values():
        path = REPO / "schemas" / "values" / f"{node.chart.name}.schema.json"
        if not path.is_file():
            continue
        checked.add(node.chart.name)
        root = json.loads(path.read_text(encoding="utf-8"))
        uncovered = [parts for parts in _key_paths(node.values) if not _described(root, parts)]
        assert uncovered == [], f"{node.chart.name}: keys the schema does not describe"
    assert checked == SHIPPED_CHARTS


RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: platform
spec:
  interval: 10m
  chart:
    spec:
      chart: {chart}
      version: 16.3.4
      sourceRef: {{kind: HelmRepository, name: bitnami}}
  values:
{values}"""


def _lint(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    result = run_lint(root, [root], LintOptions())
    return [f"{f.severity} {f.message}" for f in result.findings if f.rule == "values-schema"]


def test_messages_name_keys_and_expectations_never_values(tmp_path: Path) -> None:
    secret = "hunter2-S3cr3t"
    values = (
        f"    postgresql:\n      replicaCount: {secret}-a\n      existingSecret: [{secret}-b]\n"
        f"    persistence:\n      size: {secret}-c\n    pgpool:\n      authenticationMethod: {secret}-d\n"
    )
    found = _lint(tmp_path, {"pg.yaml": RELEASE.format(name="pg", chart="postgresql-ha", values=values)})
    assert len(found) == 4
    assert not any(secret in message for message in found)
    assert any("'postgresql.existingSecret' must be a string, not an array" in message for message in found)


def test_each_schema_is_read_once_a_run_and_never_metaschema_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []
    original = values_schema._load

    def counting(path: Path, graph: Any, root: Path | None) -> Any:
        loads.append(path.name)
        return original(path, graph, root)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("metaschema check at run time")

    monkeypatch.setattr(values_schema, "_load", counting)
    monkeypatch.setattr(Draft202012Validator, "check_schema", classmethod(refuse))
    values = "    postgresql:\n      replicaCount: 0\n"
    files = {f"pg{n}.yaml": RELEASE.format(name=f"pg{n}", chart="postgresql-ha", values=values) for n in range(3)}
    found = _lint(tmp_path, files)
    assert found == ["error values key 'postgresql.replicaCount' must be >= 1 (postgresql-ha values schema)"] * 3
    assert loads == ["postgresql-ha.schema.json"]


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("replicaCout", "replicaCount"),
        ("ReplicaCount", "replicaCount"),
        ("existingSecrett", "existingSecret"),
        ("existingSecert", "existingSecret"),
        # real keys beside known ones, not typos
        ("extraEnvVarsCM", None),
        ("repmgrPasswordFile", None),
        ("repmgrReconnectAttempts", None),
        ("dbUserConnectionLimit", None),
    ],
)
def test_near_misses_are_typos_not_other_keys(tmp_path: Path, key: str, meant: str | None) -> None:
    values = f"    postgresql:\n      {key}: x\n"
    found = _lint(tmp_path, {"pg.yaml": RELEASE.format(name="pg", chart="postgresql-ha", values=values)})
    if meant is None:
        assert found == []
    else:
        assert found == [f"warning unknown key '{key}' in postgresql (did you mean '{meant}'?)"]


def test_a_stack_schema_that_is_not_json_is_a_note(tmp_path: Path) -> None:
    (tmp_path / "schemas" / "values").mkdir(parents=True)
    (tmp_path / "schemas" / "values" / "postgresql-ha.schema.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "pg.yaml").write_text(RELEASE.format(name="pg", chart="postgresql-ha", values="    a: 1\n"))
    result = run_lint(tmp_path, [tmp_path], LintOptions())
    assert [f for f in result.findings if f.rule == "values-schema"] == []
    assert any("postgresql-ha.schema.json is not a usable JSON Schema" in note for note in result.notes)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": 5}, "1"),
        ({"properties": {"a": {"pattern": "["}}}, "x"),
        ({"properties": {"a": {"minimum": "x"}}}, "1"),
        ({"properties": []}, "1"),
    ],
)
def test_a_malformed_stack_schema_is_a_note_not_a_crash(tmp_path: Path, schema: dict[str, Any], value: str) -> None:
    (tmp_path / "schemas" / "values").mkdir(parents=True)
    (tmp_path / "schemas" / "values" / "broken.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (tmp_path / "r.yaml").write_text(RELEASE.format(name="r", chart="broken", values=f"    a: {value}\n"))
    result = run_lint(tmp_path, [tmp_path], LintOptions())
    assert [f for f in result.findings if f.rule == "values-schema"] == []
    assert any("broken.schema.json is not a valid JSON Schema" in note for note in result.notes)


def test_a_remote_ref_is_never_fetched(tmp_path: Path) -> None:
    (tmp_path / "schemas" / "values").mkdir(parents=True)
    schema = {"properties": {"a": {"$ref": "https://example.invalid/remote.json"}}}
    (tmp_path / "schemas" / "values" / "remote.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    (tmp_path / "r.yaml").write_text(RELEASE.format(name="r", chart="remote", values="    a: 1\n"))
    result = run_lint(tmp_path, [tmp_path], LintOptions())
    assert [f for f in result.findings if f.rule == "values-schema"] == []
    assert any("remote.schema.json refers to a schema rail cannot resolve" in note for note in result.notes)


def test_a_chart_name_is_never_a_path(tmp_path: Path) -> None:
    (tmp_path / "schemas" / "values").mkdir(parents=True)
    (tmp_path / "schemas" / "values" / "..schema.json").write_text('{"type": "string"}', encoding="utf-8")
    text = RELEASE.format(name="r", chart="charts/..", values="    a: 1\n")
    assert _lint(tmp_path, {"r.yaml": text}) == []


def test_near_misses_are_kept_by_the_schema_and_the_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderer import cache

    kept: dict[tuple[str, str], bytes] = {}
    monkeypatch.setattr(cache, "enabled", lambda: True)
    monkeypatch.setattr(cache, "get", lambda kind, key: kept.get((kind, key)))
    monkeypatch.setattr(cache, "admit", lambda kind, key: True)
    monkeypatch.setattr(cache, "put", lambda kind, key, payload: kept.__setitem__((kind, key), payload))
    files = {
        "pg.yaml": RELEASE.format(name="pg", chart="postgresql-ha", values="    postgresql:\n      replicaCout: 1\n")
    }
    first = _lint(tmp_path, files)
    assert first == ["warning unknown key 'replicaCout' in postgresql (did you mean 'replicaCount'?)"]
    walk = values_schema._near_misses
    monkeypatch.setattr(values_schema, "_near_misses", lambda *args: pytest.fail("walked again"))
    assert _lint(tmp_path, files) == first  # the same values and schema: from the cache
    monkeypatch.setattr(values_schema, "_near_misses", walk)
    files = {
        "pg.yaml": RELEASE.format(name="pg", chart="postgresql-ha", values="    postgresql:\n      replicaCout: 2\n")
    }
    assert _lint(tmp_path, files) == first  # other values: walked again, the same finding
