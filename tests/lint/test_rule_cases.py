"""Every lint rule's failing and passing cases, as data: one folder per case.

``tests/cases/lint/<rule-id>/<case>/`` holds ``case.yaml`` and an ``input/`` tree.
With ``base: shipped`` the input is laid over a copy of the shipped railiance
stack (``delete:`` removes files of it first) and the stack is rendered before
linting, so only the case's change shows. Without it, ``input/`` is linted as a
bare manifest repository (``rail lint .``). ``tree: <folder>`` lays ``input/`` over
a copy of ``tests/cases/<folder>`` (a Flux repository several cases share); ``git:``
makes folders of the input git repositories, and ``after/`` is laid over the result
after the render (an imported stack that changed since). ``expect`` lists exactly the findings
of the rules in ``rules`` (default: the folder's rule), as
``{rule, path, line, severity}``; ``line: any`` skips the line check and
``contains`` checks the message. ``notes`` lists texts that some note of the run
holds (a rule that folds its findings into a note).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from renderer.app import run_lint, run_render
from renderer.lint.rule import LintOptions
from renderer.lint.rules import rule_ids
from renderer.yamlio import load_document

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "cases" / "lint"
SHIPPED = ("rail.yaml", "releases", "values", "secrets", "templates")


def _cases() -> list[Path]:
    return sorted(path.parent for path in CASES.glob("*/*/case.yaml"))


def _build(case: Path, spec: dict[str, Any], tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    if spec.get("base") == "shipped":
        for name in SHIPPED:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, work / name)
            else:
                shutil.copy2(source, work / name)
        run_render(work, "all", check=False)
        for relative in spec.get("delete", []):
            target = work / relative
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    if spec.get("tree"):
        shutil.copytree(CASES.parent / spec["tree"], work, dirs_exist_ok=True)
    if (case / "input").is_dir():
        shutil.copytree(case / "input", work, dirs_exist_ok=True, symlinks=True)  # a link stays a link
    for folder, refs in (spec.get("git") or {}).items():
        _commit(work / folder, refs)
    if spec.get("base") == "shipped" and spec.get("render", True):
        run_render(work, "all", check=False)
    if (case / "after").is_dir():
        # What changes after the render: another repository moving under this one.
        shutil.copytree(case / "after", work, dirs_exist_ok=True)
    return work


def _commit(folder: Path, refs: dict[str, str]) -> None:
    """``git:`` in case.yaml: ``{folder: {branch: main, tag: v1}}`` makes the folder a
    git repository with one commit on that branch, tagged (an import reads git objects)."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)

    git("init", "-q", "-b", refs.get("branch", "main"))
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "platform")
    if refs.get("tag"):
        git("tag", refs["tag"])


@pytest.mark.parametrize("case", _cases(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_rule_case(case: Path, tmp_path: Path) -> None:
    spec = load_document((case / "case.yaml").read_text(encoding="utf-8"), str(case / "case.yaml")).data
    rules = spec.get("rules", [case.parent.name])
    assert set(rules) <= set(rule_ids()), f"unknown rule in {case}"
    work = _build(case, spec, tmp_path)
    args = spec.get("args", [])
    paths = [] if spec.get("base") == "shipped" else [work]
    options = LintOptions(exhaustive="--exhaustive" in args, strict="--strict" in args)
    result = run_lint(work, paths, options)
    got = [finding for finding in result.findings if finding.rule in rules]
    expected = spec.get("expect", [])
    summary = "\n".join(f"{f.path}:{f.line} {f.severity} {f.rule} {f.message}" for f in got)
    assert len(got) == len(expected), f"findings of {rules}:\n{summary}"
    for finding, want in zip(got, expected, strict=True):
        assert finding.rule == want["rule"], summary
        assert finding.path == want["path"], summary
        if want.get("line", "any") != "any":
            assert finding.line == want["line"], summary
        assert finding.severity == want.get("severity", "error"), summary
        for text in want.get("contains", []):
            assert text in finding.message, summary
    for text in spec.get("notes", []):
        assert any(text in note for note in result.notes), "\n".join(result.notes)
