"""The code ``@dataclass`` generates, kept between commands (renderer.cache.classcode):
classes made from kept code are the classes Python makes, a kept text is never compiled
again, and a torn entry, the cache off or a class that changed only cost the compile."""

from __future__ import annotations

import dataclasses
import inspect
import marshal
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

import pytest
from conftest import REPO_ROOT, RunRail, copy_stack

from renderer import cache
from renderer.cache import classcode, settings, store


def make(name: str = "Point", frozen: bool = True, first: str = "x") -> type:
    """A dataclass with a default, a factory and an annotation to spell: made afresh each
    call. Its methods' texts name its fields (``first``), not the class."""
    return dataclasses.make_dataclass(
        name,
        [(first, int), ("y", "tuple[str, ...]", dataclasses.field(default_factory=tuple)), ("z", float, 1.5)],
        frozen=frozen,
    )


@contextmanager
def command() -> Iterator[None]:
    """One command's keeping, as ``rail`` enters it, and its end (the sightings recorded)."""
    with classcode.kept_class_code():
        yield
    cache.flush()


def kept_entry() -> bytes | None:
    return cache.get(classcode.KIND, classcode.entry_key())


def twice_seen() -> None:
    """Two commands that compile: the second stores (rail stores a key on its second sighting)."""
    for _ in range(2):
        with command():
            make()


def compile_counter(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    texts: list[str] = []

    def counting(source: str, *args: Any, **kwargs: Any) -> CodeType:
        texts.append(source)
        return compile(source, *args, **kwargs)

    monkeypatch.setattr(classcode, "compile", counting, raising=False)
    return texts


def behaviour(cls: type) -> tuple[Any, ...]:
    point = cls(1, ("a",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2
    return (
        repr(point),
        point == cls(1, ("a",)),
        point == cls(2),
        hash(point) == hash(cls(1, ("a",))),
        cls(3).y,
        cls(3).z,
        str(inspect.signature(cls)),
        cls.__init__.__annotations__,
        cls.__doc__,
    )


def test_a_class_made_from_kept_code_is_the_class_python_makes(cache_folder: Path) -> None:
    plain = behaviour(make())
    twice_seen()
    assert kept_entry() is not None
    with command():
        kept = make()
    assert behaviour(kept) == plain
    assert "dataclasses" not in str(kept.__init__.__code__.co_filename)  # from the text, as exec compiles it
    assert kept.__init__.__code__.co_filename == "<string>"


def test_a_kept_text_is_not_compiled_again(cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    twice_seen()
    texts = compile_counter(monkeypatch)
    with command():
        make()
    assert texts == []
    with command():
        make("Other", frozen=False)  # other names, other texts: compiled
    assert texts


def test_only_a_command_with_the_cache_on_keeps_code(cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.switch_off()
    texts = compile_counter(monkeypatch)
    for _ in range(2):
        with command():
            assert "exec" not in vars(dataclasses)
            make()
    assert texts == []  # not even looked at: Python compiles as ever
    settings.switch_on()
    assert kept_entry() is None


def test_the_hook_is_gone_after_the_command(cache_folder: Path) -> None:
    with command():
        assert "exec" in vars(dataclasses)
        with classcode.kept_class_code():  # a command inside a command: the outer one keeps
            make()
        assert "exec" in vars(dataclasses)
    assert "exec" not in vars(dataclasses)


def table() -> dict[str, CodeType]:
    return marshal.loads(zlib.decompress(kept_entry() or b""))  # type: ignore[no-any-return]


def real_texts() -> list[str]:
    return list(table())


@pytest.mark.parametrize(
    "forge",
    [
        lambda texts: b"",
        lambda texts: b"\x00garbage",
        lambda texts: zlib.compress(b"\x00garbage"),
        lambda texts: marshal.dumps({text: "print('not code')" for text in texts}),  # not compressed
        lambda texts: zlib.compress(marshal.dumps(texts)),
        lambda texts: zlib.compress(marshal.dumps({text: "print('not code')" for text in texts})),
        lambda texts: zlib.compress(marshal.dumps({text: text.encode() for text in texts})),
        lambda texts: zlib.compress(
            marshal.dumps({text.encode(): compile("pass", "<string>", "exec") for text in texts})
        ),
    ],
    ids=[
        "empty",
        "garbage",
        "packed-garbage",
        "unpacked",
        "a-list",
        "text-for-code",
        "bytes-for-code",
        "bytes-for-text",
    ],
)
def test_a_foreign_entry_is_ignored(cache_folder: Path, monkeypatch: pytest.MonkeyPatch, forge: Any) -> None:
    twice_seen()
    cache.put(classcode.KIND, classcode.entry_key(), forge(real_texts()))
    texts = compile_counter(monkeypatch)
    with command():
        cls = make()
    assert len(texts) == 6  # every method compiled, none taken from the entry
    assert behaviour(cls)[0] == "Point(x=1, y=('a',), z=1.5)"


def test_a_torn_entry_is_ignored(cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    twice_seen()
    entry = store.Store(cache_folder, settings.current().cap).path(classcode.KIND, classcode.entry_key())
    entry.write_bytes(entry.read_bytes()[:-40])
    assert kept_entry() is None
    texts = compile_counter(monkeypatch)
    with command():
        make()
    assert texts


def test_the_entry_is_bounded(cache_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(classcode, "AT_MOST", 8)
    twice_seen()
    for round_ in range(4):  # a class that keeps changing: each version's texts are new
        with command():
            make(first=f"changed{round_}")
    kept = table()
    assert len(kept) == 6  # past the bound: the last command's own texts (six methods), nothing older
    assert all("changed3" in text for text in kept if "__init__" in text)


def test_a_rail_run_keeps_its_model_classes_code(run_rail: RunRail, tmp_path: Path) -> None:
    stack = copy_stack(REPO_ROOT, tmp_path / "stack")
    folder = tmp_path / "cache"
    env = {"RAIL_CACHE_DIR": str(folder), "RAIL_NO_CACHE": "", "RAIL_CACHE_MAX_BYTES": ""}
    for _ in range(2):
        assert run_rail("lint", cwd=stack, env=env).returncode in (0, 1)
    entries = list((folder / store.layout_name() / classcode.KIND).rglob("*"))
    kept = [path for path in entries if path.is_file()]
    assert len(kept) == 1
    payload = store.Store(folder, settings.current().cap).get(classcode.KIND, kept[0].name)
    found = marshal.loads(zlib.decompress(payload or b""))
    # rail's own model classes are in it, by their generated text
    assert any("__create_fn__" in text and "layer" in text for text in found)
    assert all(isinstance(code, CodeType) for code in found.values())
