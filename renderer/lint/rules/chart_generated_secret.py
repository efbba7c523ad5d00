"""chart-generated-secret: (being written)."""

from __future__ import annotations

from collections.abc import Iterator

from ..finding import ERROR, Finding
from ..rule import LintContext, Rule


def check(context: LintContext) -> Iterator[Finding]:
    return iter(())


RULE = Rule(id="chart-generated-secret", severity=ERROR, summary="(being written)", check=check, doc=__doc__ or "")
