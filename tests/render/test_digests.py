"""Render keys spelling releases and their values by digests of their inputs
(renderer.render.digests): an equal input gives the same key, any change another."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from renderer.load import load_stack
from renderer.model import Layer
from renderer.render import render_stack
from renderer.render.digests import digest_of, digests_of, sharing_digests, spell_by_digest, wanted
from renderer.render.target import _render_key, sharing_renders
from renderer.yamlio import sharing_parses


def test_digests_are_recorded_only_in_a_scope() -> None:
    value = {"a": 1}
    spell_by_digest(value, "made", "of")
    assert not wanted() and digests_of({"values": value}) == {}
    with sharing_digests():
        assert wanted()
        spell_by_digest(value, "made", "of")
        other = {"a": 1}  # equal, but not known: spelt in full
        assert digests_of({"values": value, "other": other}) == {"values": digest_of(("made", "of"))}
        spell_by_digest(other, "made", None)  # an input without a text: left spelt in full
        assert digests_of({"other": other}) == {}


def test_parts_are_length_prefixed() -> None:
    assert digest_of(("ab", "c")) != digest_of(("a", "bc"))
    assert digest_of(("a", "")) != digest_of(("a",))


def test_a_key_tells_a_digest_from_data_spelling_the_same() -> None:
    value = {"a": 1}
    with sharing_digests():
        spell_by_digest(value, "x")
        by_digest = _render_key("t", "x.j2", {"values": value}, "o")
        mimic = _render_key("t", "x.j2", {"values": {"values": digest_of(("x",))}}, "o")
        in_full = _render_key("t", "x.j2", {"values": {"a": 1}}, "o")
    assert by_digest is not None and len({by_digest, mimic, in_full}) == 3
    assert in_full == _render_key("t", "x.j2", {"values": {"a": 1}}, "o")  # outside the scope: the same spelling


def test_a_dataclass_is_spelt_in_full_without_a_digest() -> None:
    layer = Layer(id="S1", name="one", order=0, namespaces=(), paths=(), owns=())
    moved = Layer(id="S1", name="two", order=0, namespaces=(), paths=(), owns=())
    assert _render_key("t", "x.j2", {"layer": layer}, "o") != _render_key("t", "x.j2", {"layer": moved}, "o")


def _render(root: Path) -> dict[str, bytes]:
    loaded = load_stack(root, refuse_plaintext=False)
    return {f.path: f.content for f in render_stack(loaded, loaded.stack.config.targets).files}


@pytest.mark.parametrize(
    ("relative", "old", "new", "changed"),
    [
        # a values file only: the release's values digest reads its text
        ("values/s3/postgresql-ha.yaml", "minAvailable: 2", "minAvailable: 1", "helmrelease-postgresql-ha.yaml"),
        # the export a reference reads: the referring release's values change, its files not
        ("releases/s3/postgresql-ha.yaml", "port: 5432", "port: 5433", "helmrelease-zulip.yaml"),
    ],
)
def test_a_changed_input_is_rendered_anew_in_a_shared_scope(
    stack_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: str, old: str, new: str, changed: str
) -> None:
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    other = tmp_path / "other"
    shutil.copytree(stack_copy, other)
    path = other / relative
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    expected = _render(other)
    with sharing_parses(), sharing_renders():
        before = _render(stack_copy)
        shared = _render(other)
    assert shared == expected
    differing = {name for name in shared if shared[name] != before.get(name)}
    assert any(name.endswith(changed) for name in differing)
