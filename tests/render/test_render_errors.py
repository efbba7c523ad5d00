"""Bad input, as data: each folder under tests/cases/render-errors/ breaks a copy of
the shipped stack (``mutation.yaml``) and says what rail must answer (``expected.yaml``).

mutation.yaml: one change or a list of them, each one of
  {file: PATH, replace: [OLD, NEW]}   OLD must occur exactly once in the file
  {file: PATH, content: TEXT}         writes the whole file
  {delete: PATH}                      removes a file
expected.yaml:
  path: the file the error names         line: its line, or null when the error has none
  contains: [substrings of stderr]       absent: [strings in neither stdout nor stderr]
Whatever the case, rail must exit 2, print no traceback and leave rendered/ untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

CASES = Path(__file__).resolve().parent.parent / "cases" / "render-errors"
CASE_NAMES = sorted(path.name for path in CASES.iterdir() if (path / "mutation.yaml").is_file())


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def mutate(root: Path, change: dict[str, Any]) -> None:
    if "delete" in change:
        target = root / change["delete"]
        assert target.is_file(), f"mutation deletes {change['delete']}, which does not exist"
        target.unlink()
        return
    target = root / change["file"]
    if "content" in change:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(change["content"], encoding="utf-8")
        return
    old, new = change["replace"]
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"mutation expects {old!r} once in {change['file']}"
    target.write_text(text.replace(old, new), encoding="utf-8")


def test_case_folders_exist() -> None:
    assert len(CASE_NAMES) >= 12


@pytest.mark.parametrize("case", CASE_NAMES)
def test_render_error(
    case: str,
    stack_copy: Path,
    run_rail: Callable[..., Any],
    snapshot: Callable[[Path], dict[str, bytes]],
) -> None:
    from renderer.app import run_render

    run_render(stack_copy, "all", check=False)
    before = snapshot(stack_copy / "rendered")
    assert before

    changes = load(CASES / case / "mutation.yaml")
    for change in changes if isinstance(changes, list) else [changes]:
        mutate(stack_copy, change)
    expected = load(CASES / case / "expected.yaml")

    result = run_rail("render", cwd=stack_copy)

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    where = expected["path"] + (f":{expected['line']}:" if expected["line"] is not None else ":")
    assert where in result.stderr
    for text in expected.get("contains", []):
        assert text in result.stderr
    for text in expected.get("absent", []):
        assert text not in output, f"{text!r} leaked into rail's output"
    assert snapshot(stack_copy / "rendered") == before
