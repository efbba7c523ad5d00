"""import-changed: a value taken from an imported stack that its interface now gives differently.

``rail render`` records in ``rendered/interface.yaml`` each reference into an
imported stack and the value it had (``imports.<name>.uses``). When the imported
stack changes under this one (its pgpool Service renamed by a new release name, a port moved, the
import's ``ref`` bumped), this stack's committed output still points at the old
value: this rule lists each such reference, at the line that makes it, naming
the imported interface. A reference the new interface lacks altogether is
``dangling-reference`` instead.

Fails (the platform renamed its pgpool Service; the apps' output still has the old host)::

    # releases/s5/gitea.yaml, apps repository
    HOST: ${ref:platform/postgresql-ha.database.address}
    # rendered/interface.yaml recorded postgresql-ha-pgpool.platform.svc.cluster.local:5432,
    # the platform's interface now says pg-postgresql-ha-pgpool.platform.svc.cluster.local:5432

Passes: the recorded value is the one the imported interface gives (run
``rail render`` after reviewing the change, and commit).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import InputError
from ...model.interface import INTERFACE_NAME, Interface
from ...yamlio import load_document
from ..finding import ERROR, Finding, Location, ObjectRef
from ..imports import cross_uses
from ..rule import GRAPH_WIDE, LintContext, Rule


def _recorded(context: LintContext) -> Interface | None:
    loaded = context.loaded
    if loaded is None or context.root is None:
        return None
    relative = f"{loaded.stack.config.output}/{INTERFACE_NAME}"
    path = context.root / relative
    try:
        return Interface.from_document(load_document(path.read_text(encoding="utf-8"), relative))
    except (OSError, UnicodeDecodeError, InputError):
        return None  # none yet, or unreadable: rendered-drift reports it


def check(context: LintContext) -> Iterator[Finding]:
    loaded = context.loaded
    recorded = _recorded(context) if loaded and loaded.imports else None
    if loaded is None or recorded is None:
        return
    relative = f"{loaded.stack.config.output}/{INTERFACE_NAME}"
    imports = {imported.name: imported for imported in loaded.imports}
    reported: set[tuple[str, str]] = set()
    for use in cross_uses(loaded):
        if use.value is None or (use.path, use.text) in reported:
            continue
        before = {item.reference: item.value for item in recorded.consumed(use.import_name)}
        if use.text not in before or before[use.text] == use.value:
            continue
        reported.add((use.path, use.text))
        imported = imports[use.import_name]
        release = loaded.stack.release(use.release)
        yield Finding(
            rule=RULE.id,
            message=(
                f"{use.text} is now {use.value} in {imported.describe()}, but stack"
                f" '{loaded.stack.config.name}' was rendered with {before[use.text]} ({relative})"
            ),
            location=Location(use.path, use.line, use.column),
            related=(Location(relative, None), Location(imported.where, None)),
            object=ObjectRef("HelmRelease", release.namespace, release.name) if release else None,
            hint="review the imported change, then run `rail render` here and commit:"
            " the cluster still uses the old value",
        )


RULE = Rule(
    id="import-changed",
    scope=GRAPH_WIDE,  # an imported stack's recorded interface
    severity=ERROR,
    summary="a value taken from an imported stack that its interface now gives differently",
    check=check,
    doc=__doc__ or "",
)
