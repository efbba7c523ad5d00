"""sides.objects_of inside sharing_objects: an object with the data, path and config of
one the scope already made takes its key and layer from it, and nothing else; any
difference (data, path, config) is worked out again."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from renderer.diff.sides import DiffObject, objects_of, remember_objects, sharing_objects
from renderer.lint.manifests import Manifest
from renderer.model import StackConfig
from renderer.yamlio import Document

PATH = "rendered/flux/s3-platform/helmrelease-valkey.yaml"


def _data(namespace: str = "platform") -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "valkey", "namespace": namespace},
        "spec": {"chart": {"spec": {"chart": "valkey"}}},
    }


def _manifest(data: dict[str, Any], path: str = PATH, text: str = "kind: HelmRelease\n") -> Manifest:
    return Manifest(Document(path=path, data=data, text=text), origin="releases/s3/valkey.yaml")


def _moved_platform(config: StackConfig) -> StackConfig:
    """``config`` with the platform namespace owned by S5 instead of S3."""
    layers = tuple(
        replace(layer, namespaces=("platform",))
        if layer.id == "S5"
        else replace(layer, namespaces=())
        if layer.id == "S3"
        else layer
        for layer in config.layers
    )
    return replace(config, layers=layers)


def _single(objects: dict[Any, DiffObject]) -> DiffObject:
    assert len(objects) == 1
    return next(iter(objects.values()))


def test_the_same_data_path_and_config_take_the_key_and_layer_and_keep_their_own_document() -> None:
    config, data = StackConfig.default(), _data()
    with sharing_objects():
        first = _single(objects_of([_manifest(data)], config))
        again = _manifest(data, text="kind: HelmRelease\n# the head's own text\n")
        second = _single(objects_of([again], config))
    assert (
        (second.key, second.layer)
        == (first.key, first.layer)
        == (
            ("helm.toolkit.fluxcd.io", "HelmRelease", "platform", "valkey"),
            "S3",
        )
    )
    assert second.document is again.document and second.data is data and second.origin == again.origin


def test_another_config_places_the_same_data_again() -> None:
    config, data = StackConfig.default(), _data()
    moved = _moved_platform(config)
    with sharing_objects():
        assert _single(objects_of([_manifest(data)], config)).layer == "S3"
        assert _single(objects_of([_manifest(data)], moved)).layer == "S5"


def test_equal_data_that_is_not_the_same_object_or_another_path_is_worked_out_again() -> None:
    default = StackConfig.default()
    # Files below elsewhere/ are S5's: a layer placed by path.
    config = replace(
        default, layers=tuple(replace(la, paths=("elsewhere/*",)) if la.id == "S5" else la for la in default.layers)
    )
    with sharing_objects():
        known = _single(objects_of([_manifest(_data())], config))
        other = _single(objects_of([_manifest(_data("apps"))], config))
        moved = _single(objects_of([_manifest(known.data, path="elsewhere/valkey.yaml")], config))
    assert known.layer == "S3"
    assert (other.key[2], other.layer) == ("apps", "S5")
    assert (moved.layer, moved.path) == ("S5", "elsewhere/valkey.yaml")


def test_a_remembered_object_is_taken_as_it_was_remembered() -> None:
    """The memo is trusted for the same data, path and config: a wrong entry shows through
    (so the tests above prove the lookup is used, not bypassed)."""
    config, data = StackConfig.default(), _data()
    with sharing_objects():
        known = _single(objects_of([_manifest(data)], config))
    with sharing_objects():
        remember_objects({known.key: replace(known, layer="S5")}, config)
        assert _single(objects_of([_manifest(data)], config)).layer == "S5"


def test_outside_a_scope_nothing_is_remembered() -> None:
    config, data = StackConfig.default(), _data()
    made = _single(objects_of([_manifest(data)], config))
    remember_objects({made.key: made}, config)
    assert _single(objects_of([_manifest(data)], _moved_platform(config))).layer == "S5"


def test_a_document_of_the_same_text_and_place_takes_the_very_object() -> None:
    """A render makes its file's document afresh, of the same data and text: the object is
    the known one itself (a side kept after this one is then told so by identity)."""
    config, data, text = StackConfig.default(), _data(), "kind: HelmRelease\n"
    with sharing_objects():
        first = _single(objects_of([_manifest(data, text=text)], config))
        same = _single(objects_of([_manifest(data, text=text)], config))
        other_text = _single(objects_of([_manifest(data, text=text + "# more\n")], config))
        later = Manifest(Document(path=PATH, data=data, text=text, start_line=3), origin="releases/s3/valkey.yaml")
        other_line = _single(objects_of([later], config))
    assert same is first
    assert other_text is not first and other_text.document is not None and other_text.document.text != text
    assert other_line is not first and other_line.document is later.document
