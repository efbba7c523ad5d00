"""Text read from the input, made inert where rail shows it: a log line, a shell command.

A file path, an object name, a key or a revision is data, whatever characters it holds.
Printed as it is, a newline in it starts a line of its own (in a CI log, a line
``::error::...`` or ``::set-env`` is a command to the GitHub Actions runner), an ESC
drives the terminal, and in a command a hint suggests, a space, ``;`` or a leading
``-`` changes what the command does. Reporters and hints quote such text here.
"""

from __future__ import annotations

import shlex

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0, DEL and C1 controls; the Unicode line and paragraph separators (some viewers break
# lines there); the bidirectional overrides and isolates (they reorder what a reader sees).
_UNPRINTABLE = (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))


def _escape(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_ESCAPES = {code: _escape(code) for code in _UNPRINTABLE}


def printable(text: str) -> str:
    """``text`` on one line, inert in a terminal: every control character escaped the way
    Python writes it (``\\n``, ``\\r``, ``\\x1b``, ``\\u2028``); anything else unchanged."""
    return text.translate(_ESCAPES)


def shell_path(path: str) -> str:
    """A file path as one shell word that no command reads as an option: quoted when it
    needs to be, and ``./`` before a path starting with ``-`` (``--`` is not universal)."""
    return shlex.quote(f"./{path}" if path.startswith("-") else path)
