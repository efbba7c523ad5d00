"""Text from the input shown on one line (no control character) and in shell commands
(one word, never an option)."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from renderer.quoting import printable, shell_path


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain: text/with-punctuation", "plain: text/with-punctuation"),
        ("a\nb\r\nc\td", "a\\nb\\r\\nc\\td"),
        ("\x1b[31mred\x1b[0m \x07 \x00 \x7f \x9b", "\\x1b[31mred\\x1b[0m \\x07 \\x00 \\x7f \\x9b"),
        ("line\u2028para\u2029 \u202eevil", "line\\u2028para\\u2029 \\u202eevil"),
        ("unicode stays: Grüße, 名前, \u200b", "unicode stays: Grüße, 名前, \u200b"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


@given(st.text())
def test_printable_is_one_line_without_escape_sequences(text: str) -> None:
    shown = printable(text)

    assert shown.splitlines() in ([], [shown])
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in shown)


@pytest.mark.parametrize(
    ("path", "word"),
    [
        ("secrets/app.sops.yaml", "secrets/app.sops.yaml"),
        ("secrets/my app.sops.yaml", "'secrets/my app.sops.yaml'"),
        ("x; rm -rf ~", "'x; rm -rf ~'"),
        ("--output=pwned.txt", "./--output=pwned.txt"),
        ("-'quoted'", "'./-'\"'\"'quoted'\"'\"''"),
    ],
)
def test_shell_path(path: str, word: str) -> None:
    assert shell_path(path) == word


@given(st.text(min_size=1).filter(lambda text: "\0" not in text))
def test_shell_path_is_one_word_that_is_no_option(path: str) -> None:
    (word,) = shlex.split(f"sops --encrypt --in-place {shell_path(path)}")[3:]

    assert word in (path, f"./{path}")
    assert not word.startswith("-")
