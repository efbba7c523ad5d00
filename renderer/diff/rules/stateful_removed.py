"""stateful-removed: a release that keeps data is removed.

Stateful as ``stateful-relocation`` decides: persistence on in its values, a data
service by class or chart, or a bundled database or cache subchart. Removing the
release uninstalls it: its StatefulSet's PersistentVolumeClaims are left behind,
orphaned, or go with a pruned namespace, and whoever used the data loses it. A
rename (same chart, layer and values under a new name) is ``stateful-relocation``,
not this. An error, unless the head's ``rail.yaml`` records exactly this removal:
``migrations: [{change: removed, release: <namespace>/<name>, reason: ...}]``,
naming the backup or the dump/restore into the service that replaces it.

Fails: ``releases/s3/postgresql-ha.yaml`` is deleted, nothing recorded.

Passes: the same deletion, with ``migrations: [{change: removed, release:
platform/postgresql-ha, reason: "pg_dumpall to the backup bucket, restored into
the new cluster; ticket OPS-9"}]`` in the head's rail.yaml.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...lint.finding import ERROR, Finding
from ...lint.rule import GRAPH_WIDE
from ..compare import REMOVED
from ..rule import DiffContext, DiffRule, Event, finding
from ._migrations import stateful_subject
from ._values import is_release
from .stateful_relocation import stateful


def events(context: DiffContext) -> Iterator[tuple[Event, Finding]]:
    for change in context.changes(REMOVED):
        old = change.old
        if old is None or not is_release(old) or not stateful(context, old):
            continue
        subject = stateful_subject(old)
        yield (
            Event(REMOVED, subject, None),
            finding(
                RULE,
                change,
                f"release '{old.name}' keeps data and is removed: Helm uninstalls it and its volumes"
                " are left orphaned (or deleted with a pruned namespace); nothing moves the data",
                "back up or dump/restore the data first, then record exactly this removal in the head's"
                f" rail.yaml: migrations: [{{change: removed, release: {subject}, reason: ...}}]",
                context=context,
                key_path=("spec", "releaseName"),  # the base spec's name (Flux and Argo CD: one finding)
            ),
        )


def check(context: DiffContext) -> Iterator[Finding]:
    for _, found in events(context):
        yield found


RULE = DiffRule(
    id="stateful-removed",
    scope=GRAPH_WIDE,  # lint findings of the base (what bundles data)
    severity=ERROR,
    summary="a release that keeps data (volumes, a data service, a bundled database) is removed",
    check=check,
    doc=__doc__ or "",
    events=events,
)
