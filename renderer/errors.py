"""The one error root, and the one place where errors become exit codes.

Every error a user can cause is a :class:`RailError`. The CLI catches the root,
prints its problems and exits with :attr:`RailError.exit_code`; anything else is a
bug and is reported as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from .quoting import printable

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we know.

    ``message`` says what is wrong and ``hint`` what to do. Neither may contain a
    value read from the input that could be a secret: callers name keys, never values.
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    key_path: str = ""
    hint: str = ""

    def format(self) -> str:
        """``path:line:col: error: message``, and the hint on a line of its own. Paths, keys
        and messages quote the input: escaped, so none starts a line of its own in a log."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: error: {self.message}"
        if self.key_path:
            text += f" (at {self.key_path})"
        text = printable(text)
        if self.hint:
            text += f"\n  hint: {printable(self.hint)}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line or 0, self.column or 0, self.message)


class RailError(Exception):
    """Root of every error caused by input or usage; exit code 2."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(path="rail", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(p.format() for p in self.problems))


class InputError(RailError):
    """The stack, a spec, a values file or a template is invalid."""


class ProblemCollector:
    """Collects problems so one run reports all of them, then raises once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)
