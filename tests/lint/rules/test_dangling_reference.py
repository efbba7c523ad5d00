"""dangling-reference's creators: the shipped table, and the rail.yaml option that extends it."""

from __future__ import annotations

from typing import Any

import pytest

from renderer.catalog import creators
from renderer.errors import InputError
from renderer.lint.engine import settings_from_config

ONE_PASSWORD = {
    "group": "onepassword.com",
    "kind": "OnePasswordItem",
    "creates": [{"kind": "Secret", "name": "{metadata.name}", "namespace": "same"}],
}


def test_the_shipped_table_loads_and_names_each_operator_once() -> None:
    table = creators.shipped()
    kinds = [(creator.group, creator.kind) for creator in table]
    assert len(kinds) == len(set(kinds))
    assert ("external-secrets.io", "ExternalSecret") in kinds
    assert ("postgresql.cnpg.io", "Cluster") in kinds


@pytest.mark.parametrize(
    ("template", "data", "name"),
    [
        ("{spec.target.name|metadata.name}", {"metadata": {"name": "a"}, "spec": {"target": {"name": "b"}}}, "b"),
        ("{spec.target.name|metadata.name}", {"metadata": {"name": "a"}, "spec": {"target": {}}}, "a"),
        ("{metadata.name}-app", {"metadata": {"name": "db"}}, "db-app"),
        ("{spec.secretName}", {"metadata": {"name": "db"}}, None),
        ("{spec.secretName}", {"spec": {"secretName": ""}}, None),
    ],
)
def test_a_name_template_takes_the_first_field_set(template: str, data: dict[str, Any], name: str | None) -> None:
    assert creators.render_name(template, data) == name


def test_a_creator_in_rail_yaml_reaches_the_rule() -> None:
    config = {"rules": {"dangling-reference": {"options": {"creators": [ONE_PASSWORD]}}}}
    settings = settings_from_config(config, "rail.yaml")
    assert settings.options["dangling-reference"] == {"creators": [ONE_PASSWORD]}


@pytest.mark.parametrize(
    "entry",
    [
        {**ONE_PASSWORD, "creates": []},
        {**ONE_PASSWORD, "creates": [{"kind": "Secret", "name": "no-field"}]},
        {**ONE_PASSWORD, "creates": [{"kind": "Secret", "name": "{metadata.name}", "namespace": "other"}]},
        {"group": "onepassword.com", "creates": ONE_PASSWORD["creates"]},
        {**ONE_PASSWORD, "extra": True},
    ],
)
def test_an_invalid_creator_is_an_input_error(entry: dict[str, Any]) -> None:
    with pytest.raises(InputError):
        settings_from_config({"rules": {"dangling-reference": {"options": {"creators": [entry]}}}}, "rail.yaml")
