"""Where the bundled schemas and templates live.

An installed wheel carries them in ``renderer/_data``; a source checkout has them
at the top of the repository, where people edit them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"rail is installed without its '{name}' folder; reinstall it")
