"""A command's big cache writes, finished after its report (issue 16).

The last tenth of a pre-commit hook's run is writing what the next run restores: the
side it read (:mod:`renderer.diff.snapshot`, the whole stack's model pickled), that
side's lint result, and the command's records (bundles, sightings, the size estimate).
None of it changes the report. So within :func:`collecting` (the span of one command,
``renderer.app.caching``) a write handed to :func:`write_later` waits, with the context
it was handed in (the memo scopes it reads), until the command is done. :func:`finish`
then runs the writes: in this process, or, once :func:`write_behind` was called (rail's
own entry point: a process that prints its report and ends), in a child the command
does not wait for, as git runs its automatic ``gc`` behind a command.

The child starts a session of its own with ``/dev/null`` for its standard streams, so
whatever waits for the command's output (pre-commit reads the pipes to their end) is not
kept waiting by it, and it ends with ``os._exit``: no teardown, no handler of the parent.
Its writes are the cache's usual ones, each to a private temporary file renamed into
place (:mod:`.store`): a run meanwhile finds a whole entry or none.

Not to miss an entry a child is still writing (a script's second command straight after
the first; a test), a run waits for its folder's background writers before it reads
(:func:`wait_for_writers`, when a :class:`~.store.Store` opens the folder): a child holds
a shared ``flock`` on the folder's :data:`LOCK_NAME`, taken before the fork, until it
ends. The wait is bounded (:data:`WAIT_AT_MOST`): a stuck writer costs time, never a
wrong answer, since an entry missing is worked out again.

``RAIL_CACHE_BACKGROUND=0`` keeps the writes in the command's process; so does CI (``CI``
set, unless ``RAIL_CACHE_BACKGROUND=1``), where the job may end, and a later step save
the folder, as soon as the command does; and so does a process that cannot fork cleanly
(no ``fork``, a thread running, ``fork`` failing).
"""

from __future__ import annotations

import contextvars
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

LOCK_NAME = "writing.lock"
WAIT_AT_MOST = 30.0  # seconds a run waits for the writers before it
_POLL = 0.005  # seconds between looks at the lock
SWITCH = "RAIL_CACHE_BACKGROUND"

Write = Callable[[], None]

_PENDING: ContextVar[list[Write] | None] = ContextVar("rail_cache_writes_later", default=None)
_BEHIND: list[bool] = []  # [True] once write_behind was called
_WRITER: list[bool] = []  # [True] in a child writing behind: it waits for no writer (itself)


def write_behind() -> None:
    """From now on, :func:`finish` hands the writes to a child when it can: for a process
    that runs one command and ends (``rail``'s entry point). Tests call ``main`` and keep
    every write in their own process."""
    _BEHIND[:] = [True]


@contextmanager
def collecting() -> Iterator[list[Write]]:
    """Inside, :func:`write_later` collects its writes in the list yielded."""
    pending: list[Write] = []
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def write_later(write: Write) -> None:
    """``write`` when the command is done (inside :func:`collecting`), in the context of
    now; outside, at once."""
    pending = _PENDING.get()
    if pending is None:
        write()
        return
    pending.append(_in_context(contextvars.copy_context(), write))


def _in_context(context: contextvars.Context, write: Write) -> Write:
    def run() -> None:
        context.run(write)

    return run


def finish(pending: list[Write], folder: Path | None, end: Write) -> bool:
    """Run ``pending``, then ``end`` (the command's records). True: a child does (see the
    module's docs), and this process must write nothing more to the cache; False: done here."""
    if pending and folder is not None and _may_fork():
        lock = _writer_lock(folder)
        if lock is not None:
            for stream in (sys.stdout, sys.stderr):  # the child must not repeat what is buffered
                with suppress(OSError, ValueError):
                    stream.flush()
            try:
                child = os.fork()
            except OSError:
                child = -1
            if child == 0:
                _write_and_end(pending, end)
            os.close(lock)  # the child's copy holds the lock now
            if child > 0:
                return True
    for write in pending:
        write()
    end()
    return False


def _may_fork() -> bool:
    switch = os.environ.get(SWITCH, "")
    if not _BEHIND or switch == "0" or not hasattr(os, "fork"):
        return False
    if os.environ.get("CI") and switch != "1":
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _writer_lock(folder: Path) -> int | None:
    """A descriptor holding a shared lock on ``folder``'s lock file, or None."""
    try:
        import fcntl

        handle = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_SH)
    except OSError:
        os.close(handle)
        return None
    return handle


def _write_and_end(pending: list[Write], end: Write) -> None:  # the child: never returns
    code = 1  # an entry not written is worked out again next time: nobody to tell
    _WRITER[:] = [True]
    try:
        os.setsid()
        quiet = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):
            os.dup2(quiet, stream)
        for write in pending:
            write()
        end()
        code = 0
    finally:
        os._exit(code)


def wait_for_writers(folder: Path) -> None:
    """Return when no child writes to ``folder`` any more, or after :data:`WAIT_AT_MOST`."""
    if _WRITER:
        return
    try:
        import fcntl

        handle = os.open(folder / LOCK_NAME, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except (ImportError, OSError):
        return  # no lock file: no child has written here
    try:
        deadline = time.monotonic() + WAIT_AT_MOST
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(_POLL)
                continue
            except OSError:
                return
            fcntl.flock(handle, fcntl.LOCK_UN)
            return
    finally:
        os.close(handle)
