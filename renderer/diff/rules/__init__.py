"""The registry of diff rules: every rule that judges a change, in run order.

The lint rules run on both revisions too; their new findings fail a diff
(``subchart-enabled`` is how a new ``subchart-coupling`` finding shows up there).
Data events (``stateful-relocation``, ``stateful-removed``, ``namespace-pruned``,
``subchart-disabled``, ``volume-class-change``) are errors unless a migration record
of the head names that exact change (see :mod:`._migrations`);
``stale-migration`` reports a record that names none.
"""

from __future__ import annotations

from ..rule import DiffRule
from . import (
    chart_major_bump,
    dependency_removed,
    export_changed,
    ha_downgrade,
    namespace_pruned,
    persistence_shrink,
    stale_migration,
    stateful_relocation,
    stateful_removed,
    subchart_disabled,
    subchart_enabled,
    volume_class_change,
)

DIFF_RULES: tuple[DiffRule, ...] = (
    stateful_relocation.RULE,
    stateful_removed.RULE,
    namespace_pruned.RULE,
    subchart_disabled.RULE,
    volume_class_change.RULE,
    persistence_shrink.RULE,
    ha_downgrade.RULE,
    dependency_removed.RULE,
    chart_major_bump.RULE,
    subchart_enabled.RULE,
    stale_migration.RULE,
    export_changed.RULE,
)
