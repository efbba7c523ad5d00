"""Markdown (CommonMark with GitHub's tables) that shows text from the input as text.

A pull-request comment is rendered: a value holding a backtick, ``|``, ``<img ...>``,
``[x](url)``, ``*`` or a newline would close a code span, split a table row, inject
HTML, make a link or emphasis, or start a heading; ``@name`` would notify someone and
``#12`` link an issue. Everything rail writes into a comment that it did not write
itself goes through one of these: :func:`code_span`, :func:`escape_text` (markdown
text) and :func:`escape_html` (text inside the HTML rail writes, such as
``<summary>``, where markdown escapes are not read).
"""

from __future__ import annotations

import html
import re

from ..quoting import printable

_LINE_END = re.compile(r"\r\n|\r|\n")
_BACKTICKS = re.compile(r"`+")
# Punctuation CommonMark or GitHub reads inline: escapes, code, emphasis, links and
# images, headings, tables, strikethrough and math. ``&<>`` become entities instead.
_ACTIVE = re.compile(r"([\\`*_\[\]()#!|~$])")
# Where GitHub links plain text: mentions, issue numbers, URLs (scheme or www.). A
# zero-width space after the marker breaks the link and shows the same text (Renovate's way).
_AUTOLINK = re.compile(r"(?<=@)(?=[A-Za-z0-9])|(?<=#)(?=[0-9])|(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "&#8203;"


def _one_line(text: str) -> str:
    """Every line ending a space (a newline would end a table row or start a block),
    every other control character escaped (the comment may be printed to a CI log)."""
    return printable(_LINE_END.sub(" ", text))


def code_span(text: str, *, table: bool = False) -> str:
    """``text`` as an inline code span that shows it exactly (line endings as spaces).

    The fence is one backtick longer than the longest run inside, so no run closes it;
    a space pads content that starts or ends with a backtick (or with spaces on both
    sides), since CommonMark strips one space on each side. In a GitHub table cell
    ``|`` still splits the row inside code, so ``table`` escapes it as ``\\|``.
    """
    content = _one_line(text)
    if not content:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(content)), default=0) + 1)
    if content[0] == "`" or content[-1] == "`" or (content[0] == content[-1] == " " and content.strip(" ")):
        content = f" {content} "
    if table:
        content = content.replace("|", "\\|")
    return f"{fence}{content}{fence}"


def escape_text(text: str) -> str:
    """``text`` as markdown text that renders as itself: no HTML, link, emphasis, code,
    heading or table cell, and no mention or issue link (line endings as spaces)."""
    escaped = _ACTIVE.sub(r"\\\1", html.escape(_one_line(text), quote=False))
    return _unlinked(escaped)


def escape_html(text: str) -> str:
    """``text`` inside an HTML element rail writes (``<summary>``): entities, not
    markdown escapes (an HTML block is not read as markdown), and no mention or link."""
    return _unlinked(html.escape(_one_line(text)))


def _unlinked(text: str) -> str:
    return _AUTOLINK.sub(_ZERO_WIDTH_SPACE, text)
