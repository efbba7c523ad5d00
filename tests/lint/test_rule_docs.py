"""A rule's docstring is its documentation: `rail explain` prints it."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.diff.rules import DIFF_RULES
from renderer.lint.rules import RULES

CASES = Path(__file__).resolve().parents[1] / "cases" / "lint"
ALL = [*RULES, *DIFF_RULES]


@pytest.mark.parametrize("rule", ALL, ids=lambda rule: rule.id)
def test_each_rule_documents_itself_with_a_failing_and_a_passing_example(rule: object) -> None:
    doc = getattr(rule, "doc", "")
    rule_id = getattr(rule, "id", "")
    assert doc.startswith(f"{rule_id}: "), "the first line names the rule"
    assert "Fail" in doc or "Warns" in doc, "a failing example"
    assert "Pass" in doc, "a passing example"
    assert "(being written)" not in doc


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_each_lint_rule_has_failing_and_passing_cases(rule: object) -> None:
    folder = CASES / getattr(rule, "id", "")
    cases = [path.read_text() for path in folder.glob("*/case.yaml")]
    assert any("expect: []" in text for text in cases), f"no passing case in {folder}"
    assert any("expect:\n" in text for text in cases), f"no failing case in {folder}"
