"""How a problem is printed: one line, and the hint on its own; what the input holds
(a file name, a key, a revision) never starts a line in a CI log."""

from __future__ import annotations

from renderer.errors import Problem


def test_problem_is_path_line_col_message_and_hint() -> None:
    problem = Problem(path="a.yaml", message="bad", line=3, column=2, key_path="spec", hint="fix it")

    assert problem.format() == "a.yaml:3:2: error: bad (at spec)\n  hint: fix it"


def test_problem_quoting_the_input_stays_on_its_lines() -> None:
    problem = Problem(
        path="x\n::error::a.yaml",
        message="unknown git revision '\r::set-env name=X::1'",
        key_path="\x1b[2Jkey",
        hint="check `git log --oneline \n::error::b`",
    )

    lines = problem.format().splitlines()

    assert lines == [
        "x\\n::error::a.yaml: error: unknown git revision '\\r::set-env name=X::1' (at \\x1b[2Jkey)",
        "  hint: check `git log --oneline \\n::error::b`",
    ]
