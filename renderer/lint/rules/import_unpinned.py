"""import-unpinned: an import that follows a moving git ref (a branch), not a tag or commit.

The importing stack builds on the imported stack's interface *at that ref*: a branch
moves with every push to the other repository, so the same commit of this one
renders and lints differently from one day to the next, without a change here.
Like ``chart-unpinned`` for charts. A ``path:`` import reads the folder as it is
(a sibling checkout that CI places): this rule does not apply to it.

Fails (``main`` is a branch of the platform repository)::

    # rail.yaml
    imports:
      - {name: platform, git: ../railiance-platform, ref: main}

Passes (a tag, or a commit id)::

    imports:
      - {name: platform, git: ../railiance-platform, ref: v1.4.0}
"""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import ERROR, Finding, Location
from ..rule import GRAPH_WIDE, LintContext, Rule


def check(context: LintContext) -> Iterator[Finding]:
    loaded = context.loaded
    for imported in loaded.imports if loaded else ():
        if imported.pinned:
            continue
        ref = imported.source.get("ref", "")
        yield Finding(
            rule=RULE.id,
            message=(
                f"import '{imported.name}' follows '{ref}' of {imported.source.get('git', '')}, which moves:"
                f" {imported.describe()} is read at commit {imported.commit[:12]} today, another tomorrow"
            ),
            location=Location(imported.config_path, imported.ref_line or imported.line),
            related=(Location(imported.where, None),),
            hint="pin a tag or a commit of the imported repository (ref: v1.4.0), and move it on purpose",
        )


RULE = Rule(
    id="import-unpinned",
    scope=GRAPH_WIDE,  # the stack's imports
    severity=ERROR,
    summary="an import on a moving git ref (a branch), not a tag or commit",
    check=check,
    doc=__doc__ or "",
)
