"""Rendering two versions of a stack in one process (rail diff) shares work, never results that differ."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from renderer.load import load_stack
from renderer.render import render_stack, target, templating
from renderer.render.flux import FluxTarget
from renderer.render.target import sharing_renders
from renderer.yamlio import sharing_parses


def _render(root: Path) -> dict[str, bytes]:
    loaded = load_stack(root, refuse_plaintext=False)
    return {f.path: f.content for f in render_stack(loaded, loaded.stack.config.targets).files}


def _templates_named(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, template_at: int) -> list[str]:
    """The template names ``owner.name`` is called with (argument ``template_at``), in order."""
    named: list[str] = []
    original = getattr(owner, name)

    def spy(*args: Any) -> Any:
        named.append(args[template_at])
        return original(*args)

    monkeypatch.setattr(owner, name, spy)
    return named


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _templates_named(monkeypatch, templating.Templates, "documents", 1)  # (self, name, context)


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


def _keys_spelt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return _templates_named(monkeypatch, target, "_render_key", 1)  # (templates, template, context, origin)


def test_an_unchanged_release_takes_its_objects_without_spelling_them(
    stack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    shutil.copytree(stack_copy, other)
    spec = other / "releases" / "s3" / "valkey.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("2Gi", "3Gi"), encoding="utf-8")
    expected = _render(other)
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    spelt = _keys_spelt(monkeypatch)
    with sharing_parses(), sharing_renders():
        _render(stack_copy)
        first = list(spelt)
        spelt.clear()
        shared = _render(other)
    assert shared == expected
    assert first.count("helmrelease.yaml.j2") > 1
    assert spelt.count("helmrelease.yaml.j2") == 1  # valkey's, changed; the other releases' taken as they were


@pytest.mark.parametrize("changed", ["_depends_on", "_first_in_namespace"])
def test_what_a_release_reads_of_the_others_is_part_of_its_inputs(
    stack_copy: Path, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    """Its dependencies (their namespaces come from their own specs) and whether it is the
    first of its namespace to use its source (multi-tenancy: a source per namespace):
    neither is in its spec nor its values."""
    config = stack_copy / "rail.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count("\nflux:\n") == 1
    config.write_text(text.replace("\nflux:\n", "\nflux:\n  serviceAccounts: true\n"), encoding="utf-8")
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    original = getattr(FluxTarget, changed)
    altered = {
        "_depends_on": lambda self, release: [*original(self, release), {"name": "elsewhere", "namespace": "moved"}],
        "_first_in_namespace": lambda self, release: not original(self, release),
    }[changed]
    with sharing_parses(), sharing_renders():
        before = _render(stack_copy)
        monkeypatch.setattr(FluxTarget, changed, altered)
        shared = _render(stack_copy)
    assert shared == _render(stack_copy)  # as rendered anew, outside any sharing
    assert shared != before


def test_an_output_file_of_a_restored_side_gives_its_very_document() -> None:
    """A file rendered again of the very data and text a restored side's file at the same
    path holds is given that file's document, not a copy made for the path; any
    difference (text, first line, another path, no scope) makes a copy."""
    from renderer.render.target import OutputFile, _placed, share_placed
    from renderer.yamlio import Document

    data, text = {"kind": "HelmRelease"}, "kind: HelmRelease\n"
    written = Document(path="(template)", data=data, text=text, start_line=1)
    path = "rendered/flux/s3-platform/valkey.yaml"
    restored = Document(path=path, data=data, text=text, start_line=1)
    outside = _placed(path, written)
    assert outside == restored and outside is not restored  # no scope: a copy for the path
    with sharing_renders():
        share_placed([OutputFile(path, b"", restored), OutputFile("rendered/none.yaml", b"", None)])
        assert _placed(path, written) is restored
        other_text = _placed(path, Document(path="(template)", data=data, text=text + "# more\n", start_line=1))
        other_line = _placed(path, Document(path="(template)", data=data, text=text, start_line=2))
        elsewhere = _placed("rendered/flux/other.yaml", written)
    assert other_text is not restored and other_text.text != text and other_text.path == path
    assert other_line is not restored and other_line.start_line == 2
    assert elsewhere.path == "rendered/flux/other.yaml" and elsewhere.data is data
