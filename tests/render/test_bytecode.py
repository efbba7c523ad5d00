"""Compiled templates are kept between runs, exactly, privately and never with values."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.render import bytecode, templating
from renderer.render.templating import Templates


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("RAIL_CACHE_DIR", str(folder))
    monkeypatch.delenv("RAIL_NO_CACHE", raising=False)
    templating._environment.cache_clear()
    yield folder / bytecode.SUBFOLDER
    templating._environment.cache_clear()


def _templates(tmp_path: Path, source: str) -> Templates:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "thing.yaml.j2").write_text(source, encoding="utf-8")
    return Templates(((folder, "templates/test"),))


def _compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the templates Jinja2 compiles from source from now on."""
    from jinja2 import Environment

    compiled: list[str] = []
    original = Environment.compile

    def spy(self: Environment, source: object, name: str | None = None, *args: object, **kwargs: object) -> object:
        compiled.append(str(name))
        return original(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Environment, "compile", spy)
    return compiled


def test_a_second_run_reuses_the_compiled_template(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = _compiles(monkeypatch)
    templates = _templates(tmp_path, "value: {{ value | tojson }}\n")
    assert templates.text("thing.yaml.j2", {"value": 1}) == "value: 1\n"
    assert compiled == ["thing.yaml.j2"]
    assert len(list(cache_dir.iterdir())) == 1

    templating._environment.cache_clear()  # what a new process starts with
    assert templates.text("thing.yaml.j2", {"value": 2}) == "value: 2\n"
    assert compiled == ["thing.yaml.j2"]


def test_an_edited_template_is_compiled_again(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = _compiles(monkeypatch)
    _templates(tmp_path, "old: {{ value | tojson }}\n").text("thing.yaml.j2", {"value": 1})
    templating._environment.cache_clear()
    assert _templates(tmp_path, "new: {{ value | tojson }}\n").text("thing.yaml.j2", {"value": 1}) == "new: 1\n"
    assert compiled == ["thing.yaml.j2", "thing.yaml.j2"]


def test_a_damaged_entry_is_compiled_again(tmp_path: Path, cache_dir: Path) -> None:
    templates = _templates(tmp_path, "value: {{ value | tojson }}\n")
    templates.text("thing.yaml.j2", {"value": 1})
    for entry in cache_dir.iterdir():
        entry.write_bytes(entry.read_bytes()[:40])
    templating._environment.cache_clear()
    assert templates.text("thing.yaml.j2", {"value": 3}) == "value: 3\n"


def test_values_never_reach_the_cache(tmp_path: Path, cache_dir: Path) -> None:
    canary = "canary-7f3a9c-s3cret"
    _templates(tmp_path, "value: {{ value | tojson }}\n").text("thing.yaml.j2", {"value": canary})
    entries = list(cache_dir.iterdir())
    assert entries
    assert all(canary.encode() not in entry.read_bytes() for entry in entries)


def test_the_cache_folder_is_private(cache_dir: Path) -> None:
    assert bytecode.cache_folder() == cache_dir
    assert cache_dir.stat().st_mode & 0o077 == 0


def test_a_folder_others_can_write_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "shared" / bytecode.SUBFOLDER
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert bytecode.cache_folder({"RAIL_CACHE_DIR": str(tmp_path / "shared")}) is None


def test_switches_and_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bytecode.cache_folder({"RAIL_NO_CACHE": "1", "RAIL_CACHE_DIR": str(tmp_path)}) is None
    assert bytecode.cache_folder({"XDG_CACHE_HOME": str(tmp_path / "xdg")}) == tmp_path / "xdg" / "rail" / "templates"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert bytecode.cache_folder({}) == tmp_path / "home" / ".cache" / "rail" / "templates"


def test_a_cache_that_cannot_be_made_costs_only_the_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("RAIL_CACHE_DIR", str(blocker / "cache"))  # a folder inside a file: never creatable
    assert bytecode.cache_folder() is None
    templating._environment.cache_clear()
    try:
        assert _templates(tmp_path, "a: {{ 1 }}\n").text("thing.yaml.j2", {}) == "a: 1\n"
    finally:
        templating._environment.cache_clear()


def test_a_read_only_cache_folder_still_renders(tmp_path: Path, cache_dir: Path) -> None:
    templates = _templates(tmp_path, "a: {{ value | tojson }}\n")
    templates.text("thing.yaml.j2", {"value": 1})
    templating._environment.cache_clear()
    cache_dir.chmod(0o500)  # entries readable, no new ones (root may still write: the render is what matters)
    try:
        (tmp_path / "templates" / "thing.yaml.j2").write_text("b: {{ value | tojson }}\n", encoding="utf-8")
        assert templates.text("thing.yaml.j2", {"value": 2}) == "b: 2\n"
    finally:
        cache_dir.chmod(0o700)


def test_no_home_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert bytecode.cache_folder({}) is None


def test_a_template_from_the_compiled_set_is_not_cached_again(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rail's own templates come compiled with rail (compiled.py): the cache is for the others."""
    from renderer.render import compiled

    templates = _templates(tmp_path, "value: {{ value | tojson }}\n")
    monkeypatch.setattr(compiled, "FOLDER", tmp_path / "set")
    compiled.build(tmp_path, tmp_path / "set")  # tmp_path/templates/thing.yaml.j2, by the name "thing.yaml.j2"
    templating._environment.cache_clear()
    assert templates.text("thing.yaml.j2", {"value": 1}) == "value: 1\n"
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []

    (tmp_path / "templates" / "thing.yaml.j2").write_text("edited: {{ value | tojson }}\n", encoding="utf-8")
    templating._environment.cache_clear()
    assert templates.text("thing.yaml.j2", {"value": 2}) == "edited: 2\n"
    assert len(list(cache_dir.iterdir())) == 1  # compiled at run time, kept for the next run
