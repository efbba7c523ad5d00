"""The registry: every lint rule, in the order rail runs them.

Adding a rule touches three places: its module here, its line below, and its
case folder under ``tests/cases/lint/<rule-id>/``.
"""

from __future__ import annotations

from ..rule import Rule
from . import (
    backup_coverage,
    cache_claim,
    chart_generated_secret,
    chart_unpinned,
    crd_schema,
    dangling_reference,
    database_claim,
    ha_policy,
    import_changed,
    import_unpinned,
    layer_boundary,
    layer_dependency,
    layer_unassigned,
    plaintext_secret,
    rendered_drift,
    sops_unencrypted,
    subchart_coupling,
    symlink_escape,
    values_schema,
    yaml_syntax,
)

RULES: tuple[Rule, ...] = (
    yaml_syntax.RULE,
    symlink_escape.RULE,
    layer_boundary.RULE,
    layer_dependency.RULE,
    layer_unassigned.RULE,
    subchart_coupling.RULE,
    plaintext_secret.RULE,
    sops_unencrypted.RULE,
    chart_generated_secret.RULE,
    chart_unpinned.RULE,
    dangling_reference.RULE,
    database_claim.RULE,
    cache_claim.RULE,
    crd_schema.RULE,
    values_schema.RULE,
    ha_policy.RULE,
    backup_coverage.RULE,
    rendered_drift.RULE,
    import_unpinned.RULE,
    import_changed.RULE,
)

# Reported by the engine itself: a suppression that names an unknown rule,
# lacks a reason or matches nothing.
SUPPRESSION_RULE = "unused-suppression"


def rule_ids() -> tuple[str, ...]:
    return (*(rule.id for rule in RULES), SUPPRESSION_RULE)


def by_id(rule_id: str) -> Rule | None:
    return next((rule for rule in RULES if rule.id == rule_id), None)
