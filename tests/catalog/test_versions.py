"""SemVer ranges for chart versions (renderer/catalog/versions.py)."""

from __future__ import annotations

import pytest

from renderer.catalog.versions import in_range


@pytest.mark.parametrize(
    ("version", "version_range", "expected"),
    [
        ("10.3.0", ">=9.0.0 <11.0.0", True),
        ("11.0.0", ">=9.0.0 <11.0.0", False),
        ("v12.4.0", ">=12.0.0 <13.0.0", True),
        # A pre-release sorts before its release ...
        ("13.0.0-rc.1", "<13.0.0", True),
        # ... and its numeric identifiers compare as numbers, not as text.
        ("5.0.0-beta.100", ">=5.0.0-beta.52", True),
        ("5.0.0-beta.9", ">=5.0.0-beta.52", False),
        # SemVer's own precedence examples: alpha < alpha.1 < alpha.beta < beta < beta.2 < beta.11 < rc.1.
        ("1.0.0-alpha", "<1.0.0-alpha.1", True),
        ("1.0.0-alpha.1", "<1.0.0-alpha.beta", True),
        ("1.0.0-alpha.beta", "<1.0.0-beta", True),
        ("1.0.0-beta.2", "<1.0.0-beta.11", True),
        ("1.0.0-beta.11", "<1.0.0-rc.1", True),
        ("1.0.0-rc.1", "<1.0.0", True),
        ("not-a-version", ">=0.0.0", False),
    ],
)
def test_in_range(version: str, version_range: str, expected: bool) -> None:
    assert in_range(version, version_range) is expected
