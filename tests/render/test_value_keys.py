"""Helm sees every values key as a string: non-string YAML keys must not break a render."""

from __future__ import annotations

from pathlib import Path

from renderer.app import run_render
from renderer.yamlio import load_document


def test_integer_and_boolean_keys_render_as_strings(stack_copy: Path) -> None:
    spec = stack_copy / "releases/s3/valkey.yaml"
    spec.write_text(
        spec.read_text().replace("values:\n", "values:\n  extra:\n    1: one\n    true: yes-key\n    b: two\n", 1)
    )
    run_render(stack_copy, "all", check=False)
    rendered = stack_copy / "rendered/flux/s3-platform/helmrelease-valkey.yaml"
    values = load_document(rendered.read_text(), "x").data["spec"]["values"]
    assert values["extra"] == {"1": "one", "true": "yes-key", "b": "two"}
