"""ha-policy's option: validated once by the engine, used by the rule."""

from __future__ import annotations

import pytest

from renderer.errors import InputError
from renderer.lint.engine import settings_from_config


@pytest.mark.parametrize("value", ["five", 0, 2.5, True])
def test_an_invalid_min_replicas_is_an_input_error(value: object) -> None:
    with pytest.raises(InputError):
        settings_from_config({"rules": {"ha-policy": {"options": {"min_replicas": value}}}}, "rail.yaml")


def test_an_unknown_option_is_an_input_error() -> None:
    with pytest.raises(InputError):
        settings_from_config({"rules": {"ha-policy": {"options": {"min_replica": 5}}}}, "rail.yaml")


def test_a_valid_min_replicas_reaches_the_rule() -> None:
    settings = settings_from_config({"rules": {"ha-policy": {"options": {"min_replicas": 5}}}}, "rail.yaml")
    assert settings.options["ha-policy"] == {"min_replicas": 5}
