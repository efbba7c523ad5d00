"""What ``rail render`` tells the user."""

from __future__ import annotations

from ..app import RenderOutcome
from ..quoting import printable


def report_render(outcome: RenderOutcome) -> str:
    """The files written, stale or extra; a file name is escaped (a name in ``rendered/``
    that rail did not write may hold a newline or an escape sequence)."""
    plan = outcome.plan
    lines: list[str] = []
    if outcome.checked_only:
        lines.extend(f"missing: {path}" for path in plan.missing)
        lines.extend(f"stale: {path}" for path in plan.stale)
        lines.extend(f"extra: {path} (rendered by rail before, no longer)" for path in plan.obsolete)
        lines.extend(f"extra: {path} (not written by rail)" for path in plan.foreign)
        if plan.drift:
            lines.append("rendered output is out of date: run `rail render` and commit the result")
        else:
            lines.append(f"rendered output is up to date ({len(plan.unchanged)} files)")
        return "\n".join(printable(line) for line in lines) + "\n"
    for path in plan.foreign:
        lines.append(
            f"warning: {path}: not written by rail; left alone (remove it or move it out of the output folder)"
        )
    written = len(plan.missing) + len(plan.stale)
    lines.append(
        f"rendered {written + len(plan.unchanged)} files: {written} written,"
        f" {len(plan.unchanged)} unchanged, {len(plan.obsolete)} removed"
    )
    return "\n".join(printable(line) for line in lines) + "\n"
