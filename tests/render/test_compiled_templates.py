"""rail's templates compiled at build time: used when they match, never stale, same bytes.

Each test builds its own compiled set (``compiled.build``, what the build hook runs)
into a temporary folder and points rail at it, so none depends on how rail was
installed; "run-time compilation" is rail pointed at an empty folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderer.errors import InputError
from renderer.render import compiled, templating
from renderer.render.templating import Templates

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_environments(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No bytecode cache (it would hide a compile), and environments built anew for each test."""
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    templating._environment.cache_clear()
    yield
    templating._environment.cache_clear()


@pytest.fixture(scope="module")
def shipped_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rail's own templates compiled as the build hook compiles them."""
    out = tmp_path_factory.mktemp("compiled") / compiled.FOLDER_NAME
    compiled.build(REPO / "templates", out)
    return out


def _use(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setattr(compiled, "FOLDER", folder)
    templating._environment.cache_clear()


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the templates Jinja2 compiles from source from now on."""
    from jinja2 import Environment

    names: list[str] = []
    original = Environment.compile

    def spy(self: Environment, source: object, name: str | None = None, *args: object, **kwargs: object) -> object:
        names.append(str(name))
        return original(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Environment, "compile", spy)
    return names


def _render(root: Path) -> dict[str, bytes]:
    from renderer.load.stack import load_stack
    from renderer.render import render

    loaded = load_stack(root)
    return {f.path: f.content for f in render(loaded, loaded.stack.config.targets)}


def _without_own_templates(tmp_path: Path) -> Path:
    """The shipped stack without its templates/ folder: rail's bundled set is used."""
    from tests.conftest import copy_stack

    root = copy_stack(REPO, tmp_path / "stack", outputs=False)
    shutil.rmtree(root / "templates")
    return root


def test_every_shipped_template_is_compiled(shipped_set: Path) -> None:
    names = compiled.template_names(REPO / "templates")
    assert len(names) >= 13
    env = compiled.environment(None, {"tojson": json.dumps})
    salt = compiled.salt(env)
    expected = {f"{compiled.key(salt, name, path.read_text(encoding='utf-8'))}.py" for name, path in names}
    assert {p.name for p in shipped_set.glob("*.py")} == expected


@pytest.mark.parametrize("own_templates", [True, False], ids=["stack-templates", "bundled-templates"])
def test_the_compiled_set_renders_the_same_bytes_without_compiling(
    own_templates: bool, tmp_path: Path, shipped_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped stack has a templates/ folder of its own, byte for byte rail's: both use the set."""
    root = REPO if own_templates else _without_own_templates(tmp_path)
    _use(monkeypatch, tmp_path / "nothing-compiled")
    names = _compiles(monkeypatch)
    at_run_time = _render(root)
    assert len(names) >= 13  # Jinja2 compiled them here

    _use(monkeypatch, shipped_set)
    names.clear()
    with_set = _render(root)
    assert names == []  # nothing compiled: every template came from the set
    assert with_set == at_run_time
    assert any(path.startswith("rendered/flux/") for path in with_set)


def test_an_edited_template_is_compiled_from_what_it_says_now(
    tmp_path: Path, shipped_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import copy_stack

    root = copy_stack(REPO, tmp_path / "stack", outputs=False)
    namespace = root / "templates" / "common" / "namespace.yaml.j2"
    namespace.write_text(
        namespace.read_text(encoding="utf-8").replace(
            "  name: {{ name | tojson }}", "  name: {{ (name ~ '-edited') | tojson }}"
        ),
        encoding="utf-8",
    )
    _use(monkeypatch, shipped_set)
    names = _compiles(monkeypatch)
    files = _render(root)
    assert set(names) == {"namespace.yaml.j2"}  # only the edited one; the others from the set
    namespaces = [data for path, data in files.items() if "/namespace-" in path]
    assert namespaces
    assert all(b"-edited\n" in data for data in namespaces)


def test_other_settings_or_another_jinja2_find_no_module(monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2

    env = compiled.environment(None, {"tojson": json.dumps})
    salt = compiled.salt(env)
    first = compiled.key(salt, "a.j2", "x: 1\n")
    assert first != compiled.key(salt, "a.j2", "x: 2\n")
    assert first != compiled.key(salt, "b.j2", "x: 1\n")
    assert salt != compiled.salt(compiled.environment(None, {"tojson": json.dumps, "other": json.dumps}))
    monkeypatch.setattr(jinja2, "__version__", "0.0-other")
    assert first != compiled.key(salt, "a.j2", "x: 1\n")


def _own(tmp_path: Path, source: str) -> tuple[Templates, Path]:
    folder = tmp_path / "templates" / "flux"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thing.yaml.j2").write_text(source, encoding="utf-8")
    out = tmp_path / "set"
    compiled.build(tmp_path / "templates", out)
    return Templates(((folder, "templates/flux"),)), out


def test_a_template_error_names_the_same_line_either_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates, out = _own(tmp_path, "a: 1\nb: {{ value.missing | tojson }}\nc: {{ 1 }}\n")
    problems = []
    for folder in (out, tmp_path / "nothing-compiled"):
        _use(monkeypatch, folder)
        with pytest.raises(InputError) as raised:
            templates.text("thing.yaml.j2", {"value": {}})
        problems.append(raised.value.problems)
    assert problems[0] == problems[1]
    assert problems[0][0].line == 2
    assert problems[0][0].path == "templates/flux/thing.yaml.j2"


def test_a_damaged_module_is_compiled_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates, out = _own(tmp_path, "value: {{ value | tojson }}\n")
    for module in out.glob("*.py"):
        module.write_text("def broken(:\n", encoding="utf-8")
    shutil.rmtree(out / "__pycache__", ignore_errors=True)
    _use(monkeypatch, out)
    names = _compiles(monkeypatch)
    assert templates.text("thing.yaml.j2", {"value": 3}) == "value: 3\n"
    assert names == ["thing.yaml.j2"]


def test_the_set_holds_no_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built from template sources only; rendering with it writes nothing into it."""
    canary = "canary-5e1f0b-s3cret"
    templates, out = _own(tmp_path, "value: {{ value | tojson }}\n")
    _use(monkeypatch, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert templates.text("thing.yaml.j2", {"value": canary}) == f'value: "{canary}"\n'
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(after) - set(before) <= {p for p in after if p.suffix == ".pyc"}
    assert all(canary.encode() not in data for data in after.values())


_DIGEST = """
import hashlib, sys
from pathlib import Path
from renderer.render import compiled
compiled.FOLDER = Path(sys.argv[1])
from renderer.load.stack import load_stack
from renderer.render import render
loaded = load_stack(Path(sys.argv[2]))
digest = hashlib.sha256()
for f in render(loaded, loaded.stack.config.targets):
    digest.update(f.path.encode() + b"\\0" + f.content + b"\\0")
print(digest.hexdigest())
"""


def test_same_bytes_across_hash_seeds_with_and_without_the_set(tmp_path: Path, shipped_set: Path) -> None:
    digests = set()
    for folder in (shipped_set, tmp_path / "nothing-compiled"):
        for seed in ("0", "1", "4242"):
            env = {**os.environ, "PYTHONHASHSEED": seed, "RAIL_NO_CACHE": "1", "PYTHONPATH": str(REPO)}
            done = subprocess.run(
                [sys.executable, "-c", _DIGEST, str(folder), str(REPO)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
            digests.add(done.stdout.strip())
    assert len(digests) == 1, digests


def _tree_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path] + b"\0")
    return digest.hexdigest()


@pytest.mark.slow
def test_a_built_wheel_carries_the_set_and_renders_the_same(tmp_path: Path) -> None:
    """pip builds the wheel as a user's install does (the build hook in an isolated build
    environment); rail installed from it renders the shipped stack without compiling a template."""
    source = tmp_path / "source"
    archive = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in archive.decode().split("\0"):
        if name and (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    for name in ("hatch_build.py", "renderer/render/compiled.py"):  # new in a working tree not yet committed
        shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = wheels.glob("rail-*.whl")
    with zipfile.ZipFile(wheel) as opened:
        inside = {name for name in opened.namelist() if name.startswith(f"renderer/{compiled.FOLDER_NAME}/")}
    env = compiled.environment(None, {"tojson": json.dumps})
    salt = compiled.salt(env)
    expected = {
        f"renderer/{compiled.FOLDER_NAME}/{compiled.key(salt, name, path.read_text(encoding='utf-8'))}.py"
        for name, path in compiled.template_names(REPO / "templates")
    }
    assert expected <= inside

    # rail from the wheel, its dependencies from this environment (no index needed).
    target = tmp_path / "installed"
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)], capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    stack = _without_own_templates(tmp_path)
    probe = (
        "import sys, jinja2\n"
        "compiles = []\n"
        "original = jinja2.Environment.compile\n"
        "jinja2.Environment.compile = lambda self, *a, **k: compiles.append(a) or original(self, *a, **k)\n"
        + _DIGEST.replace("compiled.FOLDER = Path(sys.argv[1])\n", "")
        + "assert compiles == [], len(compiles)\n"
        "import renderer; print(renderer.__file__)\n"
    )
    env_vars = {**os.environ, "PYTHONPATH": str(target), "RAIL_NO_CACHE": "1"}
    for root in (stack, source):  # rail's bundled templates, and the stack's own (the same bytes)
        done = subprocess.run(
            [sys.executable, "-c", probe, "-", str(root)],
            env=env_vars,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        digest, where = done.stdout.split()
        assert where.startswith(str(target))
        assert digest == _tree_digest(_render(root))


def test_a_template_that_does_not_compile_is_left_to_run_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates, out = _own(tmp_path, "a: {{ value | tojson }\n")
    assert list(out.glob("*.py")) == []  # the build went on without it
    _use(monkeypatch, out)
    with pytest.raises(InputError) as raised:
        templates.text("thing.yaml.j2", {"value": 1})
    assert raised.value.problems[0].message.startswith("template syntax error")
    assert raised.value.problems[0].line == 1


def test_a_damaged_pyc_is_compiled_instead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .pyc whose header still matches its source but whose code is cut short."""
    templates, out = _own(tmp_path, "value: {{ value | tojson }}\n")
    import py_compile

    for module in out.glob("*.py"):
        pyc = Path(py_compile.compile(str(module), doraise=True))
        pyc.write_bytes(pyc.read_bytes()[:24])
    _use(monkeypatch, out)
    names = _compiles(monkeypatch)
    assert templates.text("thing.yaml.j2", {"value": 4}) == "value: 4\n"
    assert names == ["thing.yaml.j2"]
