"""The registry: every lint rule, in the order rail runs them.

Adding a rule touches three places: its module here, its line below, and its
case folder under ``tests/cases/lint/<rule-id>/``.
"""

from __future__ import annotations

from ..rule import Rule
from . import (
    layer_boundary,
    layer_dependency,
    layer_unassigned,
    rendered_drift,
)

RULES: tuple[Rule, ...] = (
    layer_boundary.RULE,
    layer_dependency.RULE,
    layer_unassigned.RULE,
    rendered_drift.RULE,
)

# Reported by the engine itself: a suppression that names an unknown rule,
# lacks a reason or matches nothing.
SUPPRESSION_RULE = "unused-suppression"


def rule_ids() -> tuple[str, ...]:
    return (*(rule.id for rule in RULES), SUPPRESSION_RULE)


def by_id(rule_id: str) -> Rule | None:
    return next((rule for rule in RULES if rule.id == rule_id), None)
