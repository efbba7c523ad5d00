"""database-claim: a database claim names a database release, and one claimant only.

A release spec claims a database of its own with ``needs.database``; rail renders,
in the database release's namespace, a Job that creates the role and the database.
A claim of a release that does not exist, is not a database or exports no
endpoint renders nothing, and two releases claiming one database (or one role)
would share their data and password: each is a finding.

Fails (Zulip claims the database Gitea already claims)::

    # releases/s5/zulip.yaml
    needs:
      database: {release: postgresql-ha, name: gitea, passwordSecret: secrets/s3/zulip-database.sops.yaml}

Passes (a database of its own)::

    # releases/s5/zulip.yaml
    needs:
      database: {release: postgresql-ha, name: zulip, passwordSecret: secrets/s3/zulip-database.sops.yaml}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..claims import Claimant, claimants, collisions
from ..finding import ERROR, Finding
from ..rule import GRAPH_WIDE, LintContext, Rule

KEY = ("needs", "database")


def check(context: LintContext) -> Iterator[Finding]:
    if context.loaded is None:
        return
    stack = context.loaded.stack
    databases: dict[tuple[str, str], list[Claimant]] = {}
    roles: dict[tuple[str, str], list[Claimant]] = {}
    for claimant in claimants(context):
        claim = claimant.release.needs.database
        if claim is None:
            continue
        target = stack.release(claim.release)
        problem = ""
        if target is None:
            problem = f"claims a database in release '{claim.release}', which does not exist"
            hint = "name a database release of this stack (class database), for example postgresql-ha"
        elif target.service_class != "database":
            problem = f"claims a database in release '{claim.release}', which is a {target.service_class}"
            hint = "name a release of class database"
        elif not target.exports:
            problem = f"claims a database in release '{claim.release}', which exports no endpoint to connect to"
            hint = f"add exports: {{database: {{service: ..., port: ...}}}} to '{claim.release}'"
        if problem:
            yield Finding(
                rule=RULE.id,
                message=f"release '{claimant.release.name}' {problem}: no bootstrap is rendered",
                location=claimant.location(context, *KEY, "release"),
                object=claimant.ref,
                hint=hint,
            )
            continue
        databases.setdefault((claim.release, claim.name), []).append(claimant)
        roles.setdefault((claim.release, claim.user), []).append(claimant)
    yield from _shared(context, databases, "database", "name")
    yield from _shared(context, roles, "role", "user")


def _shared(
    context: LintContext, groups: dict[tuple[str, str], list[Claimant]], what: str, key: str
) -> Iterator[Finding]:
    for (database, name), claimant, others in collisions(groups):
        yield Finding(
            rule=RULE.id,
            message=(
                f"release '{claimant.release.name}' claims {what} '{name}' in '{database}',"
                f" which {others} also claims: they would share data and password"
            ),
            location=claimant.location(context, *KEY, key),
            object=claimant.ref,
            hint=f"give each application a {what} of its own",
        )


RULE = Rule(
    id="database-claim",
    scope=GRAPH_WIDE,  # claims of several releases
    severity=ERROR,
    summary="a database claim names an existing database release, and no other release claims the same database",
    check=check,
    doc=__doc__ or "",
)
