"""The bundled JSON Schemas: valid themselves, and turned into located, helpful errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from renderer.load.schema import validate
from renderer.yamlio import load_document

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", ["stack.schema.json", "release.schema.json"])
def test_bundled_schema_is_valid_against_the_metaschema(name: str) -> None:
    # rail never checks its schemas at run time; this test is why it need not.
    Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text()))


def _problems(text: str, schema: str = "release.schema.json") -> list[str]:
    return [p.format() for p in validate(load_document(text, "spec.yaml"), schema)]


VALID = """\
name: app
layer: S5
namespace: apps
class: application
chart: {source: charts, name: app, version: 1.2.3}
"""


def test_a_minimal_spec_is_valid() -> None:
    assert _problems(VALID) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "dependson: [x]\n",
            "spec.yaml:6:1: error: unknown key 'dependson' (at dependson)\n  hint: did you mean 'dependsOn'?",
        ),
        ("ha: 'yes'\n", "spec.yaml:6:1: error: wrong type: expected boolean, got string (at ha)"),
        ("exports: {db: {service: x}}\n", "spec.yaml:6:11: error: missing required key 'port' (at exports.db)"),
        ("flux: {interval: soon}\n", 'spec.yaml:6:8: error: invalid value "soon" (at flux.interval)'),
        ("valuesFiles: [../x.yaml]\n", "without '..'"),
    ],
)
def test_errors_are_located_and_say_what_to_do(change: str, expected: str) -> None:
    problems = _problems(VALID + change)
    assert len(problems) == 1
    assert expected in problems[0]


def test_every_error_of_a_file_is_reported_at_once() -> None:
    text = VALID.replace("name: app\n", "name: App_1\n", 1).replace("1.2.3", "^1.2") + "bogus: 1\n"
    problems = _problems(text)
    assert len(problems) == 3
    assert any("DNS-1123" in p for p in problems)
    assert any("exact chart version" in p for p in problems)
    assert any("unknown key 'bogus'" in p for p in problems)


def test_a_pinned_version_is_required() -> None:
    for version in ("'*'", "latest", "'>=1.0.0'", "'1.x'"):
        assert _problems(VALID.replace("1.2.3", version)), version
