"""The markdown helpers: a code span shows its text exactly, escaped text renders as
itself, and neither makes HTML, a link, emphasis, a table cell or a mention, whatever
the text holds (checked with markdown-it-py, a CommonMark parser with GitHub's tables)."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from renderer.quoting import printable
from renderer.report.markdown import code_span, escape_html, escape_text

ZWSP = "\u200b"
# Text a pull request can hold, weighted to what markdown reads.
MARKUP = st.text(alphabet=st.sampled_from("`|\\*_[]()<>!#@&;:/.~$=-+ \n\r\tax1w"), max_size=40) | st.text(max_size=40)


def fold(value: str) -> str:
    return printable(re.sub(r"\r\n|\r|\n", " ", value))


def _inline(markdown: str) -> list[Token]:
    """The inline tokens of the last paragraph or table cell of ``markdown``."""
    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(markdown)
    inlines = [token for token in tokens if token.type == "inline" and token.content]
    return inlines[-1].children or [] if inlines else []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("plain", "`plain`"),
        ("a`b", "``a`b``"),
        ("```", "```` ``` ````"),
        ("`edge", "`` `edge ``"),
        ("x ``` y `` z", "````x ``` y `` z````"),
        (" both ", "`  both  `"),
        ("   ", "`   `"),
        ("two\nlines\r\n", "`two lines `"),
        ("", ""),
    ],
)
def test_code_span_fence_and_padding(text: str, span: str) -> None:
    assert code_span(text) == span


def test_code_span_in_a_table_escapes_the_pipe() -> None:
    assert code_span("a|b", table=True) == "`a\\|b`"
    assert code_span("a|b") == "`a|b`"


@given(MARKUP)
def test_code_span_shows_the_text_exactly(text: str) -> None:
    assume(fold(text))

    children = _inline(f"x {code_span(text)} x")

    assert [child.type for child in children] == ["text", "code_inline", "text"]
    assert children[1].content == fold(text)


@given(MARKUP)
def test_code_span_in_a_table_cell_shows_the_text_exactly(text: str) -> None:
    assume(fold(text))

    children = _inline(f"| a | b |\n| --- | --- |\n| x | {code_span(text, table=True)} |\n")

    assert [child.type for child in children] == ["code_inline"]
    assert children[0].content == fold(text)


@given(MARKUP)
def test_escaped_text_renders_as_itself(text: str) -> None:
    children = _inline(f"x {escape_text(text)} x")

    assert {child.type for child in children} == {"text"}
    shown = "".join(child.content for child in children)
    assert shown.replace(ZWSP, "") == f"x {fold(text)} x"
    assert not re.search(r"@[A-Za-z0-9]|#[0-9]|://|www\.", shown, flags=re.IGNORECASE)


@given(MARKUP)
def test_escaped_text_in_a_table_cell_stays_in_its_cell(text: str) -> None:
    tokens = (
        MarkdownIt("commonmark").enable("table").parse(f"| a | b |\n| --- | --- |\n| x{escape_text(text)}x | y |\n")
    )

    cells = [token for token in tokens if token.type == "inline"]
    assert len(cells) == 4
    assert "".join(child.content for child in cells[2].children or []).replace(ZWSP, "") == f"x{fold(text)}x"


@given(MARKUP)
def test_escaped_html_has_no_tag_and_no_mention(text: str) -> None:
    escaped = escape_html(text)

    assert "<" not in escaped and ">" not in escaped and "\n" not in escaped
    assert not re.search(r"@[A-Za-z0-9]|#[0-9]", escaped.replace("&#8203;", ZWSP))


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("@someone", "@&#8203;someone"),
        ("#123", "\\#&#8203;123"),
        ("see http://x", "see http:&#8203;//x"),
        ("www.example.com", "www&#8203;.example.com"),
        ("<img src=x>", "&lt;img src=x&gt;"),
        ("[a](b) *c* _d_ ~e~ `f` | \\", "\\[a\\]\\(b\\) \\*c\\* \\_d\\_ \\~e\\~ \\`f\\` \\| \\\\"),
        ("releases/s5/gitea-db.yaml: 2 keys", "releases/s5/gitea-db.yaml: 2 keys"),
    ],
)
def test_escape_text(text: str, escaped: str) -> None:
    assert escape_text(text) == escaped


def test_escape_html() -> None:
    assert escape_html("</summary><b>@x</b> & #1") == "&lt;/summary&gt;&lt;b&gt;@&#8203;x&lt;/b&gt; &amp; #&#8203;1"
