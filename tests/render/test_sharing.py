"""Rendering two versions of a stack in one process (rail diff) shares work, never results that differ."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderer.load import load_stack
from renderer.render import render_stack, templating
from renderer.render.target import sharing_renders
from renderer.yamlio import sharing_parses


def _render(root: Path) -> dict[str, bytes]:
    loaded = load_stack(root, refuse_plaintext=False)
    return {f.path: f.content for f in render_stack(loaded, loaded.stack.config.targets).files}


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    rendered: list[str] = []
    original = templating.Templates.documents

    def spy(self: templating.Templates, name: str, context: dict[str, object]) -> object:
        rendered.append(name)
        return original(self, name, context)

    monkeypatch.setattr(templating.Templates, "documents", spy)
    return rendered


def test_a_second_equal_stack_is_not_rendered_again(
    stack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    shutil.copytree(stack_copy, other)
    alone = _render(stack_copy)
    rendered = _calls(monkeypatch)
    monkeypatch.setenv("RAIL_NO_CACHE", "1")  # the memo alone (tests/cache/test_backings.py: on disk)
    with sharing_parses(), sharing_renders():
        first = _render(stack_copy)
        count = len(rendered)
        second = _render(other)
    assert first == second == alone
    assert count > 0 and len(rendered) == count  # the second stack reused every object


def test_a_changed_release_or_template_is_rendered_anew(stack_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(stack_copy, other)
    spec = other / "releases" / "s3" / "valkey.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("2Gi", "3Gi"), encoding="utf-8")
    templates = other / "templates" / "flux"
    if not templates.is_dir():
        shutil.copytree(Path(__file__).resolve().parents[2] / "templates" / "flux", templates)
    release = templates / "helmrelease.yaml.j2"
    text = release.read_text(encoding="utf-8").replace(
        "  labels: {{ labels | tojson }}", "  labels: {{ labels | tojson }}\n  finalizers: [edited]"
    )
    release.write_text(text, encoding="utf-8")
    expected = _render(other)
    with sharing_parses(), sharing_renders():
        _render(stack_copy)
        shared = _render(other)
    assert shared == expected
    assert shared != _render(stack_copy)
    releases = [path for path in shared if "/helmrelease-" in path]
    assert releases and all(b"edited" in shared[path] for path in releases)  # the template's change
    valkey = next(path for path in releases if path.endswith("helmrelease-valkey.yaml"))
    assert b"3Gi" in shared[valkey]
