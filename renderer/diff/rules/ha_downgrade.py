"""ha-downgrade: an HA database loses its availability.

For a PostgreSQL HA release (the ``postgresql-ha`` chart, or a release marked HA):
PostgreSQL replicas going below 3, pgpool removed (``pgpool.replicaCount: 0``),
or a PodDisruptionBudget switched off. The failover drill of the workplan
assumes all three.

Fails: ``postgresql.replicaCount: 3`` becomes ``1``.

Passes: ``postgresql.replicaCount: 3`` becomes ``5``.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lint.finding import ERROR, Finding
from ...lint.rule import PER_OBJECT
from ..compare import MODIFIED, MOVED
from ..rule import DiffContext, DiffRule, finding
from ..sides import DiffObject
from ._values import chart_of, get, is_release, release_values

MIN_REPLICAS = 3


def _is_ha(obj: DiffObject) -> bool:
    annotations = (obj.data.get("metadata") or {}).get("annotations") or {}
    marked = isinstance(annotations, dict) and annotations.get("railiance.io/ha") == "true"
    return marked or chart_of(obj)[0] == "postgresql-ha"


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check(context: DiffContext) -> Iterator[Finding]:
    for change in context.changes(MODIFIED, MOVED):
        if not is_release(change.new) or change.old is None or change.new is None:
            continue
        if not (_is_ha(change.old) or _is_ha(change.new)):
            continue
        old, new = release_values(change.old), release_values(change.new)
        before, after = _number(get(old, "postgresql.replicaCount")), _number(get(new, "postgresql.replicaCount"))
        if before is not None and after is not None and after < MIN_REPLICAS <= before:
            yield finding(
                RULE,
                change,
                f"PostgreSQL replicas drop from {before} to {after}: below {MIN_REPLICAS}, no failover quorum",
                f"keep postgresql.replicaCount at {MIN_REPLICAS} or more",
                context=context,
                key_path=("spec", "values", "postgresql", "replicaCount"),
            )
        pgpool_before, pgpool_after = _number(get(old, "pgpool.replicaCount")), _number(get(new, "pgpool.replicaCount"))
        if (pgpool_before or 0) >= 1 and pgpool_after is not None and pgpool_after < 1:
            yield finding(
                RULE,
                change,
                "pgpool is removed (pgpool.replicaCount: 0): clients lose their failover-aware endpoint",
                "keep at least one pgpool replica",
                context=context,
                key_path=("spec", "values", "pgpool", "replicaCount"),
            )
        for path in ("postgresql.pdb.create", "pgpool.pdb.create"):
            if get(old, path) is not False and get(new, path) is False:
                yield finding(
                    RULE,
                    change,
                    f"{path} switches the PodDisruptionBudget off: a node drain may stop every replica",
                    f"keep {path}: true",
                    context=context,
                    key_path=("spec", "values", *path.split(".")),
                )


RULE = DiffRule(
    id="ha-downgrade",
    scope=PER_OBJECT,  # one release's two sides
    severity=ERROR,
    summary="PostgreSQL replicas below 3, pgpool removed, or the PodDisruptionBudget off",
    check=check,
    doc=__doc__ or "",
)
