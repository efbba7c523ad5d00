"""cache-claim: applications share a cache instance only on a database index of their own.

Several applications may use the platform's Valkey, each on its own logical database
(Gitea 0, Zulip 1, ...): keys of one never collide with, or get flushed by, another.
A release says which index it uses with ``needs.cache``. A finding: a claim of a
release that does not exist or is not a cache, two releases claiming one index, and,
on a cache where some release claims an index, a release that refers to it
(``${ref:valkey...}``) without claiming one: it would use index 0, or whichever its
chart picks, unchecked. A stack that claims no index of a cache is not held to it.

Fails (Zulip on Gitea's index)::

    # releases/s5/gitea.yaml
    needs: {cache: {release: valkey, index: 0}}
    # releases/s5/zulip.yaml
    needs: {cache: {release: valkey, index: 0}}

Passes::

    # releases/s5/gitea.yaml
    needs: {cache: {release: valkey, index: 0}}
    # releases/s5/zulip.yaml
    needs: {cache: {release: valkey, index: 1}}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..claims import Claimant, claimants, collisions
from ..finding import ERROR, Finding
from ..rule import GRAPH_WIDE, LintContext, Rule

KEY = ("needs", "cache")


def check(context: LintContext) -> Iterator[Finding]:
    if context.loaded is None:
        return
    stack = context.loaded.stack
    indexes: dict[tuple[str, int], list[Claimant]] = {}
    users: dict[str, list[Claimant]] = {}  # cache release -> the releases that claim or refer to it
    unclaimed: list[tuple[Claimant, str]] = []
    for claimant in claimants(context):
        claim = claimant.release.needs.cache
        claimed = ""
        if claim is not None:
            target = stack.release(claim.release)
            if target is None or target.service_class != "cache":
                what = "does not exist" if target is None else f"is a {target.service_class}"
                yield Finding(
                    rule=RULE.id,
                    message=f"release '{claimant.release.name}' claims an index of '{claim.release}', which {what}",
                    location=claimant.location(context, *KEY, "release"),
                    object=claimant.ref,
                    hint="name a release of class cache, for example valkey",
                )
            else:
                claimed = claim.release
                indexes.setdefault((claim.release, claim.index), []).append(claimant)
                users.setdefault(claim.release, []).append(claimant)
        for name in context.graph.referenced.get(claimant.release.name, ()):
            target = stack.release(name)
            if target is None or target.service_class != "cache" or name == claimed:
                continue
            users.setdefault(name, []).append(claimant)
            unclaimed.append((claimant, name))
    for (cache, index), claimant, others in collisions(indexes):
        yield Finding(
            rule=RULE.id,
            message=(
                f"release '{claimant.release.name}' uses index {index} of '{cache}', which {others} also uses:"
                " their keys would collide"
            ),
            location=claimant.location(context, *KEY, "index"),
            object=claimant.ref,
            hint=f"give each application an index of its own ({_free(indexes, cache)} is free)",
        )
    claimed_caches = {cache for cache, _ in indexes}
    for claimant, cache in unclaimed:
        if len(users[cache]) < 2 or cache not in claimed_caches:
            continue
        yield Finding(
            rule=RULE.id,
            message=(
                f"release '{claimant.release.name}' refers to cache '{cache}', whose indexes other releases"
                " claim, without claiming an index of its own"
            ),
            location=claimant.location(context, "values"),
            object=claimant.ref,
            hint=f"add needs: {{cache: {{release: {cache}, index: {_free(indexes, cache)}}}}} and use that index",
        )


def _free(indexes: dict[tuple[str, int], list[Claimant]], cache: str) -> int:
    used = {index for (name, index) in indexes if name == cache}
    return next(index for index in range(len(used) + 1) if index not in used)


RULE = Rule(
    id="cache-claim",
    scope=GRAPH_WIDE,  # claims of several releases
    severity=ERROR,
    summary="applications share a cache only on a database index of their own",
    check=check,
    doc=__doc__ or "",
)
