"""Start-up stays light: pre-commit runs `rail render --check` on every commit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_importing_the_cli_imports_no_heavy_module() -> None:
    modules = _modules_after("import renderer.cli")
    assert not {"jinja2", "jsonschema", "deepdiff", "ruamel.yaml"} & modules


def test_render_check_does_not_import_deepdiff() -> None:
    code = "from pathlib import Path\nfrom renderer.app import run_render\nrun_render(Path('.'), 'all', True)"
    assert "deepdiff" not in _modules_after(code)
