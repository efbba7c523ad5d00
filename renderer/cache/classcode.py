"""The code ``@dataclass`` generates, kept between runs (issue 16).

When a module defines a dataclass, Python writes its ``__init__``, ``__repr__``,
``__eq__``, ``__hash__`` and, for a frozen one, ``__setattr__`` and ``__delattr__`` as
source text and compiles each at import time. Python keeps a module's own bytecode in
``__pycache__``, never these: the 114 dataclasses a 1,000-release pre-commit hook imports
are ~650 snippets, measured at 0.15 s of a 2.4 s run, every run.

So, with the cache on, a command keeps the snippets it compiled, by their exact text, in
one entry (kind ``code``) of a key naming Python's release and bytecode format. A snippet
whose text was kept is run from its code object; any other text (a class that changed,
another Python) is compiled as before, so the entry can be unused but never wrong. The
texts hold names only (fields, types and defaults are passed to the code as variables,
never spelt in it): no value reaches the cache this way.

The code object is the one ``exec`` would compile: the same text, file name
``<string>`` and no ``__future__`` flag of ours (``dont_inherit``), so annotations stay
what ``dataclasses`` makes them. A torn or foreign entry is ignored (the store checks
its digest; anything else than a table of texts and code objects is not used).
"""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import Any

from . import admit, digest, enabled, get, put

KIND = "code"
FORMAT = "dataclass-code/1"  # bump when what is kept, or how it is keyed, changes

# Snippets kept at most: rail's own are ~700; others come from classes that changed.
AT_MOST = 4000

# Where ``dataclasses`` looks up ``exec``: its module globals shadow the builtin.
_HOOK = "exec"


def entry_key() -> str:
    """The key of the kept snippets: they are bytecode of this Python release only."""
    return digest(FORMAT, sys.version, MAGIC_NUMBER)


class _Snippets:
    """Compiles what ``dataclasses`` hands ``exec``, once per text across runs."""

    def __init__(self, kept: dict[str, CodeType]) -> None:
        self.kept = kept
        self.compiled: dict[str, CodeType] = {}
        self.used: set[str] = set()

    def exec(self, source: Any, scope: Any = None, names: Any = None) -> None:
        """``exec(source, scope, names)``, a text compiled at most once."""
        if type(source) is not str:
            builtins.exec(source, scope, names)
            return
        code = self.kept.get(source)
        if code is not None:
            self.used.add(source)
        else:
            code = self.compiled.get(source)
            if code is None:
                code = self.compiled[source] = compile(source, "<string>", "exec", dont_inherit=True)
        builtins.exec(code, scope, names)

    def table(self) -> dict[str, CodeType]:
        """What to keep: every snippet known, or past the bound this command's own (a
        class changed many times must not grow the entry without end)."""
        every = {**self.kept, **self.compiled}
        if len(every) <= AT_MOST:
            return every
        return {**{text: self.kept[text] for text in self.used}, **self.compiled}


@contextmanager
def kept_class_code() -> Iterator[None]:
    """For one command with the cache on: dataclasses defined meanwhile take their
    methods' code from the cache where it holds their text, and the code compiled
    meanwhile is kept for the next command (on its key's second sighting, as any entry)."""
    if not enabled() or _HOOK in vars(dataclasses):  # off, or already kept by an outer command
        yield
        return
    snippets = _Snippets(_read(get(KIND, entry_key())))
    setattr(dataclasses, _HOOK, snippets.exec)
    _RUNNING[:] = [snippets]
    try:
        yield
    finally:
        delattr(dataclasses, _HOOK)
        keep_compiled()
        _RUNNING.clear()


# The snippets of the command running, while kept_class_code is entered.
_RUNNING: list[_Snippets] = []


def keep_compiled() -> None:
    """Keep the code compiled so far (at most once a command): with the command's last
    writes (renderer.cache.later), which may be a child's, else as the command ends."""
    if not _RUNNING or not _RUNNING[0].compiled:
        return
    snippets = _RUNNING[0]
    if admit(KIND, entry_key()):
        # Compressed: a pre-commit run's ~0.7 MB of texts and code is ~85 KB (measured),
        # else the largest entry of a small stack's cache; a run unpacks it in ~3 ms.
        put(KIND, entry_key(), zlib.compress(marshal.dumps(snippets.table()), 9))
    # Kept (or remembered): not asked about again, and still this command's own should
    # a later table be cut to AT_MOST (see _Snippets.table).
    snippets.kept.update(snippets.compiled)
    snippets.used.update(snippets.compiled)
    snippets.compiled.clear()


def _read(payload: bytes | None) -> dict[str, CodeType]:
    """The kept snippets, or none: an entry that is not a table of texts and code is ignored."""
    if payload is None:
        return {}
    try:
        table = marshal.loads(zlib.decompress(payload))
    except (ValueError, EOFError, TypeError, zlib.error):
        return {}
    if not isinstance(table, dict):
        return {}
    return {text: code for text, code in table.items() if type(text) is str and type(code) is CodeType}
