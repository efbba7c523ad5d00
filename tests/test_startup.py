"""Start-up stays light: pre-commit runs `rail render --check` on every commit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def _stack_copy(tmp_path: Path) -> Path:
    """The shipped stack alone (the repository root also holds tests/ with packaged test charts)."""
    import shutil

    for name in ("rail.yaml", ".sops.yaml"):
        shutil.copy2(REPO / name, tmp_path / name)
    for folder in ("releases", "values", "secrets", "templates", "rendered", "docs"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


_COLD_LINT = (
    "import sys\nfrom pathlib import Path\nfrom renderer.render import compiled\n"
    "compiled.FOLDER = Path(sys.argv[1])\n"
    "from renderer.app import run_lint\nfrom renderer.lint.rule import LintOptions\n"
    "result = run_lint(Path(sys.argv[2]), [], LintOptions())\nassert not result.findings, result.findings\n"
)


@pytest.fixture(scope="module")
def compiled_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rail's templates compiled by the function the build hook calls."""
    from renderer.render import compiled

    out = tmp_path_factory.mktemp("set") / compiled.FOLDER_NAME
    compiled.build(REPO / "templates", out)
    return out


def test_a_cold_lint_imports_only_what_linting_needs(tmp_path: Path, compiled_set: Path) -> None:
    """Moved off the hot path (issue 16): each is imported where it is used, never by a
    lint of a valid stack: writing files (tempfile in rail's own code, shutil), git
    (subprocess), packaged charts (tarfile), did-you-mean hints (difflib), template error
    lines (traceback)."""
    stack = _stack_copy(tmp_path)
    code = f"import os\nos.environ['RAIL_NO_CACHE'] = '1'\nsys.argv[1:] = [{str(compiled_set)!r}, {str(stack)!r}]\n"
    modules = _modules_after("import sys\n" + code + _COLD_LINT)
    assert not {"subprocess", "tarfile", "difflib", "traceback"} & modules
    assert not {"jsonschema", "deepdiff", "renderer.apply"} & modules


def test_a_cold_lint_of_the_shipped_stack_compiles_no_template(tmp_path: Path, compiled_set: Path) -> None:
    """No cache at all (RAIL_NO_CACHE=1): rail's templates come from the compiled set the build
    made (here built by the same function the build hook calls), the stack's own copy included."""
    out = compiled_set
    stack = _stack_copy(tmp_path)
    spy = (
        "import jinja2\ncompiles = []\noriginal = jinja2.Environment.compile\n"
        "jinja2.Environment.compile = lambda self, *a, **k: compiles.append(a) or original(self, *a, **k)\n"
    )
    check = "assert compiles == [], len(compiles)\n"
    script = spy + _COLD_LINT + check
    env = {**os.environ, "RAIL_NO_CACHE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(out), str(stack)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # And the same script fails without the set: the spy does see a compile.
    empty = tmp_path / "empty"
    done = subprocess.run(
        [sys.executable, "-c", script, str(empty), str(stack)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0 and "AssertionError" in done.stderr


def test_a_run_leaves_little_cyclic_garbage(tmp_path: Path) -> None:
    """The ``rail`` command runs with the cyclic collector off (renderer.cli.entry): sound
    only while a run leaves almost nothing in cycles. Collected once at the end here."""
    code = (
        "import gc, sys\ngc.disable()\nfrom renderer.cli import main\n"
        "try:\n    main(['check'], prog_name='rail', standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(gc.collect())"
    )
    env = {**os.environ, "RAIL_NO_CACHE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, env=env)
    assert int(done.stdout.split()[-1]) < 5_000


def test_a_changed_scalar_is_diffed_without_deepdiff() -> None:
    """A changed tag or replica count meets no list: rail's own walk reports it."""
    code = (
        "from renderer.diff.compare import field_changes\nfrom renderer.diff.sides import DiffObject\n"
        "key = ('helm.toolkit.fluxcd.io', 'HelmRelease', 'apps', 'gitea')\n"
        "def values(tag):\n    return {'spec': {'values': {'image': {'tag': tag}, 'args': ['a']}}}\n"
        "old = DiffObject(key, values('1'), 'a.yaml', 'S5', None, None)\n"
        "new = DiffObject(key, values('2'), 'a.yaml', 'S5', None, None)\n"
        "print([(c.path, c.old, c.new) for c in field_changes(old, new)])"
    )
    script = f"import sys\n{code}\nprint('deepdiff' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    changes, imported = done.stdout.splitlines()
    assert changes == "[('spec.values.image.tag', '1', '2')]"
    assert imported == "False"
