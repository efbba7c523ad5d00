"""What bench/run.py and its scenario modules share: a measured command, setup steps.

A module of its own so that a scenario module (bench/incremental.py) can use them
without importing run.py, which runs as ``__main__`` (a second copy of it would hold a
second ``Command`` class).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT_IDENTITY = ("-c", "user.name=rail-bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false")


class SetupError(RuntimeError):
    """Preparing a size failed: a setup step exited non-zero."""


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    cwd: Path
    expect: frozenset[int] = frozenset({0})
    prepare: Callable[[], None] | None = None
    env: tuple[tuple[str, str | None], ...] = ()  # set (None: unset) for this command only


def child_env(extra: Sequence[tuple[str, str | None]] = ()) -> dict[str, str]:
    """The environment minus what would switch rail's report format (CI annotations),
    with ``extra`` set on top (a None value unsets the variable)."""
    env = dict(os.environ)
    for name in ("GITHUB_ACTIONS", "GITEA_ACTIONS"):
        env.pop(name, None)
    for name, value in extra:
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_quiet(
    argv: Sequence[str],
    cwd: Path,
    what: str,
    env: Sequence[tuple[str, str | None]] = (),
    ok: Collection[int] = (0,),
) -> str:
    """A setup step: its output is returned; an exit outside ``ok`` is a SetupError naming the step."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=child_env(env), check=False)
    if done.returncode not in ok:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise SetupError(f"{what}: `{' '.join(argv)}` exited {done.returncode} in {cwd}:\n  " + "\n  ".join(tail))
    return done.stdout


def git(cwd: Path, *args: str) -> str:
    return run_quiet(["git", *GIT_IDENTITY, *args], cwd, "git")


# --------------------------------------------------------------------------- ratios


def median_of(results: dict[str, Any], size: int | str, command: str) -> float | None:
    """A command's median at ``size``; None when it was not run or failed (an error is never a number)."""
    entry = results.get("sizes", {}).get(str(size), {}).get("commands", {}).get(command)
    return float(entry["median_s"]) if entry and "median_s" in entry else None


def ratio(
    name: str, top: float | None, bottom: float | None, target: float | None, note: str, ident: str | None = None
) -> dict[str, Any]:
    """One ratio with its target; ``target`` None: measured for reference only (``pass`` stays None).
    ``ident`` is a stable name a reader looks the ratio up by (issue 16: ``precommit-1k``)."""
    value = top / bottom if top is not None and bottom else None
    found: dict[str, Any] = {"name": name}
    if ident is not None:
        found["id"] = ident
    found.update(
        {
            "value": value,
            "target": target,
            "pass": None if value is None or target is None else value <= target,
            "note": note,
        }
    )
    return found
