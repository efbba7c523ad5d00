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


def test_lint_of_a_valid_stack_does_not_import_jsonschema() -> None:
    """Valid specs, values and manifests are judged by renderer.schemacheck; jsonschema
    is only imported to explain an invalid one (pre-commit runs lint on every commit)."""
    code = (
        "from pathlib import Path\nfrom renderer.app import run_lint\nfrom renderer.lint.rule import LintOptions\n"
        "result = run_lint(Path('.'), [], LintOptions())\nassert not result.findings, result.findings"
    )
    modules = _modules_after(code)
    assert not {"jsonschema", "referencing", "deepdiff"} & modules
    assert "renderer.schemacheck" in modules
    # The apply model (kustomize, generators, substitution) is for foreign folders only.
    assert not {"renderer.apply", "renderer.lint.applied"} & modules


def test_lint_of_an_invalid_spec_imports_jsonschema_to_explain_it(tmp_path: Path) -> None:
    import shutil

    for name in ("rail.yaml", ".sops.yaml"):
        shutil.copy2(REPO / name, tmp_path / name)
    for folder in ("releases", "values", "secrets", "rendered"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    spec = tmp_path / "releases" / "s3" / "valkey.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "replicaz: 3\n", encoding="utf-8")
    code = (
        "from pathlib import Path\nfrom renderer.app import run_lint\nfrom renderer.lint.rule import LintOptions\n"
        "from renderer.errors import InputError\n"
        f"try:\n    run_lint(Path({str(tmp_path)!r}), [], LintOptions())\n"
        "except InputError as error:\n    assert 'replicaz' in str(error.problems), error.problems\n"
    )
    assert "jsonschema" in _modules_after(code)
