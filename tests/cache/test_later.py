"""A command's big cache writes, after its report: here, or behind it in a child
(renderer.cache.later). The child's tests run a real process: a fork cannot be faked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from contextvars import ContextVar
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from renderer.cache import later

_SEEN: ContextVar[str] = ContextVar("test_later_seen", default="outside")


def test_a_write_outside_a_command_is_done_at_once() -> None:
    done: list[str] = []

    later.write_later(lambda: done.append("written"))

    assert done == ["written"]


def test_a_write_waits_for_the_command_and_sees_the_context_it_was_handed_in() -> None:
    done: list[str] = []
    with later.collecting() as pending:
        token = _SEEN.set("inside")
        later.write_later(lambda: done.append(_SEEN.get()))
        _SEEN.reset(token)
        assert done == []  # not yet: the report comes first

    handed = later.finish(pending, None, lambda: done.append("records"))

    assert handed is False  # no write_behind in a test process: written here
    assert done == ["inside", "records"]  # the writes, in order, then the records


_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from renderer.cache import later

    folder, go = Path(sys.argv[1]), Path(sys.argv[2])

    def write():
        print("from the write")  # behind the command it reaches no one: the child's streams are /dev/null
        for _ in range(6000):  # the test says when (at most a minute)
            if go.exists():
                break
            time.sleep(0.01)
        (folder / "entry").write_text("whole")

    later.write_behind()
    with later.collecting() as pending:
        later.write_later(write)
    handed = later.finish(pending, folder, lambda: (folder / "records").write_text("done"))
    print("handed" if handed else "written here", flush=True)
    os._exit(0)
    """
)


def _command(folder: Path, go: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The script as a process: this one's environment without ``RAIL_CACHE_BACKGROUND``
    and ``CI``, then ``env``."""
    base = {name: value for name, value in os.environ.items() if name not in (later.SWITCH, "CI")}
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(folder), str(go)],
        cwd=REPO_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_behind_the_command_a_child_writes_and_the_next_run_waits_for_it(tmp_path: Path) -> None:
    folder, go = tmp_path / "cache", tmp_path / "go"
    folder.mkdir(mode=0o700)

    done = _command(folder, go, RAIL_CACHE_BACKGROUND="1")

    # The command ended (its output read to the end) while its child still waits to write.
    assert done.returncode == 0, done.stderr
    assert done.stdout == "handed\n"
    assert not (folder / "entry").exists()
    go.touch()
    later.wait_for_writers(folder)  # what a Store does before it reads the folder
    assert (folder / "entry").read_text() == "whole"
    assert (folder / "records").read_text() == "done"  # the records after the writes, in the child too


def test_rail_cache_background_0_writes_in_the_command(tmp_path: Path) -> None:
    folder, go = tmp_path / "cache", tmp_path / "go"
    folder.mkdir(mode=0o700)
    go.touch()

    done = _command(folder, go, RAIL_CACHE_BACKGROUND="0")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "from the write\nwritten here\n"
    assert (folder / "entry").read_text() == "whole"
    assert (folder / "records").read_text() == "done"
    assert not (folder / later.LOCK_NAME).exists()  # no writer behind: no lock taken


def test_in_ci_the_writes_stay_in_the_command_unless_asked(tmp_path: Path) -> None:
    folder, go = tmp_path / "cache", tmp_path / "go"
    folder.mkdir(mode=0o700)
    go.touch()

    in_ci = _command(folder, go, CI="true")
    asked = _command(folder, go, CI="true", RAIL_CACHE_BACKGROUND="1")

    assert in_ci.stdout == "from the write\nwritten here\n"  # the job may end with the command
    assert asked.stdout == "handed\n"


def test_no_lock_file_means_no_wait(tmp_path: Path) -> None:
    later.wait_for_writers(tmp_path)  # returns: nothing has ever written behind here

    assert not (tmp_path / later.LOCK_NAME).exists()


def test_a_stuck_writer_is_waited_for_only_so_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    holder = os.open(tmp_path / later.LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_SH)  # a writer that never ends
    monkeypatch.setattr(later, "WAIT_AT_MOST", 0.05)
    try:
        later.wait_for_writers(tmp_path)  # gives up: an entry missing is worked out again
        assert _locked(tmp_path)
    finally:
        os.close(holder)
    assert not _locked(tmp_path)


def _locked(folder: Path) -> bool:
    import fcntl

    handle = os.open(folder / later.LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    return False


def test_a_process_that_handed_over_reads_and_writes_nothing_more(
    cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from renderer import cache

    monkeypatch.setattr(cache, "_HANDED", [])  # this test's process only
    key, other = "ab" * 32, "cd" * 32
    cache.put("parse", key, b"payload")
    assert cache.get("parse", key) == b"payload"

    cache.hand_over()  # a child writes behind the command now

    assert cache.get("parse", key) is None  # nor does it wait for that child to read
    assert not cache.admit("parse", other)
    cache.put("parse", other, b"late")
    assert not list(cache_folder.rglob(other))
