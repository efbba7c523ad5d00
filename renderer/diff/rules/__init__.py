"""The registry of diff rules: every rule that judges a change, in run order.

The lint rules run on both revisions too; their new findings fail a diff
(``subchart-enabled`` is how a new ``subchart-coupling`` finding shows up there).
"""

from __future__ import annotations

from ..rule import DiffRule
from . import (
    chart_major_bump,
    dependency_removed,
    export_changed,
    ha_downgrade,
    persistence_shrink,
    stateful_relocation,
    subchart_enabled,
)

DIFF_RULES: tuple[DiffRule, ...] = (
    stateful_relocation.RULE,
    persistence_shrink.RULE,
    ha_downgrade.RULE,
    dependency_removed.RULE,
    chart_major_bump.RULE,
    subchart_enabled.RULE,
    export_changed.RULE,
)
