"""Just enough SemVer for chart versions: exact pins, majors and simple ranges."""

from __future__ import annotations

import re

_SEMVER = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(>=|<=|>|<|=)?(.+)$")


def parse(version: str) -> tuple[int, int, int, str] | None:
    match = _SEMVER.match(version.strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4) or "")


def is_exact(version: object) -> bool:
    """An exact SemVer version: what Flux and Helm then install every time."""
    return isinstance(version, str) and parse(version) is not None


def major(version: str) -> int | None:
    parsed = parse(version)
    return parsed[0] if parsed else None


def _key(parsed: tuple[int, int, int, str]) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
    # A pre-release sorts before its release; SemVer compares its dot-separated
    # identifiers one by one, numbers as numbers and below words (beta.52 < beta.159).
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in parsed[3].split(".") if parsed[3]
    )
    return (parsed[0], parsed[1], parsed[2], 0 if parsed[3] else 1, identifiers)


def in_range(version: str, version_range: str) -> bool:
    """``version`` satisfies every space-separated comparator of ``version_range``."""
    parsed = parse(version)
    if parsed is None:
        return False
    for comparator in version_range.split():
        match = _COMPARATOR.match(comparator)
        bound = parse(match.group(2)) if match else None
        if match is None or bound is None:
            return False
        left, right = _key(parsed), _key(bound)
        operator = match.group(1) or "="
        ok = {
            ">=": left >= right,
            "<=": left <= right,
            ">": left > right,
            "<": left < right,
            "=": left == right,
        }[operator]
        if not ok:
            return False
    return True
