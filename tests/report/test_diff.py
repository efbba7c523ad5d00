"""What the input holds stays text in every report of ``rail diff``.

File paths, object names, key paths, values and finding messages come from a pull
request: in the markdown comment they must not become HTML, links, emphasis,
headings, a split table row, a closed ``<details>``, a mention or an issue link; in
the text and GitHub formats they must not start a line of their own (a line
``::error::`` is a command to the Actions runner) nor drive the terminal.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from renderer.diff.compare import ADDED, MODIFIED, MOVED, REMOVED, DiffResult, FieldChange, ObjectChange
from renderer.diff.engine import DiffOutcome
from renderer.diff.sides import DiffObject
from renderer.lint.finding import ERROR, WARNING, Finding, Location, ObjectRef
from renderer.quoting import printable
from renderer.report import diff as report

ZWSP = "\u200b"
HOSTILE = (
    "a`b",
    "``` fenced ``` and `one`",
    "`edges`",
    "</details>",
    "<img src=x onerror=alert(1)>",
    "@someone",
    "#123",
    "[link](http://x)",
    "*em* _em_ ~~gone~~",
    "cell | split",
    "two\nlines\r\nthree",
    "\n# heading\n\n</details>\n",
    "&lt;b&gt; &#64;someone",
)
EVERYTHING = " ".join(HOSTILE)
BASE_LABEL = "main`@someone` <b>#123</b>"
HEAD_LABEL = "(the working tree)"
SUMMARY = re.compile(r"<details><summary>[+~>-] (added|removed|modified|moved|renamed): [^<>\n]*</summary>\n")
CLOSE = "</details>\n"


def fold(value: str) -> str:
    """A value as a report shows it on one line: every line ending one space, any other
    control character escaped."""
    return printable(re.sub(r"\r\n|\r|\n", " ", value))


def _object(name: str, namespace: str = "apps", path: str | None = None, layer: str | None = "S5") -> DiffObject:
    return DiffObject(
        key=("helm.toolkit.fluxcd.io", "HelmRelease", namespace, name),
        data={},
        path=path if path is not None else f"rendered/{name}.yaml",
        layer=layer,
    )


def _changes() -> list[ObjectChange]:
    """One modified object per hostile value (as its name, namespace, layer and a field's
    key and values), one added object shown by its path, a removal and a move."""
    changes = []
    for value in HOSTILE:
        obj = _object(value, namespace=value, layer=value)
        fields = (FieldChange(f"spec.values.{value}", value, value + "!"), FieldChange(value, None, {value: [value]}))
        changes.append(ObjectChange(MODIFIED, obj.key, obj, obj, fields))
    added = _object("plain", path=f"rendered/{EVERYTHING}.yaml")
    removed = _object(EVERYTHING, path=EVERYTHING)
    old, new = _object("moved", namespace=EVERYTHING), _object("moved", namespace="apps")
    changes += [
        ObjectChange(ADDED, added.key, None, added),
        ObjectChange(REMOVED, removed.key, removed, None),
        ObjectChange(MOVED, new.key, old, new),
    ]
    return changes


def _findings() -> tuple[Finding, ...]:
    return tuple(
        Finding(
            rule="persistence-shrink",
            severity=ERROR if index % 2 else WARNING,
            message=f"message {value}",
            location=Location(f"releases/{value}.yaml", 3),
            object=ObjectRef("HelmRelease", value, value),
            hint=f"hint {value}",
            change=MODIFIED,
        )
        for index, value in enumerate(
            (*HOSTILE, EVERYTHING, "\n::error::x %0A", "\x1b[31mred\x1b[0m\n::set-env name=X::1")
        )
    )


@pytest.fixture(scope="module")
def outcome() -> DiffOutcome:
    return DiffOutcome(
        base_label=BASE_LABEL,
        head_label=HEAD_LABEL,
        result=DiffResult(changes=_changes()),
        findings=_findings(),
        lint_fixed=(),
        lint_unchanged=0,
    )


@pytest.fixture(scope="module")
def comment(outcome: DiffOutcome) -> str:
    return report.markdown(outcome)


@pytest.fixture(scope="module")
def tokens(comment: str) -> list[Token]:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(comment)


def _all(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _all(token.children or [])


def _value(value: Any) -> str:
    """A field's value as the report shows it: JSON (short enough here not to be cut)."""
    return "(absent)" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _html_lines(tokens: list[Token]) -> list[str]:
    """The lines of raw HTML in the comment (one HTML block runs on to the next blank line)."""
    return [line + "\n" for token in tokens if token.type == "html_block" for line in token.content.splitlines()]


def _plain(inline: Token) -> str:
    """The text an inline token shows, code included, zero-width spaces left out."""
    return "".join(child.content for child in inline.children or []).replace(ZWSP, "")


# Markdown ------------------------------------------------------------------------------------


def _sections(outcome: DiffOutcome) -> list[ObjectChange]:
    """The changes shown as a collapsible section: all but the added and removed releases."""
    return [change for change in outcome.result.changes if change.change not in (ADDED, REMOVED)]


def test_markdown_has_no_html_but_the_details_rail_writes(tokens: list[Token], outcome: DiffOutcome) -> None:
    assert not [token.content for token in _all(tokens) if token.type == "html_inline"]
    lines = _html_lines(tokens)
    opened = [line for line in lines if SUMMARY.fullmatch(line)]
    closed = [line for line in lines if line == CLOSE]
    assert lines[0] == "<!-- rail-diff -->\n"
    assert len(opened) == len(closed) == len(_sections(outcome))
    assert len(lines) == 1 + len(opened) + len(closed), lines


def test_markdown_summary_shows_the_release_as_text(tokens: list[Token], outcome: DiffOutcome) -> None:
    summaries = [line for line in _html_lines(tokens) if SUMMARY.fullmatch(line)]
    shown = [html.unescape(line.split(": ", 1)[1].removesuffix("</summary>\n")).replace(ZWSP, "") for line in summaries]

    for change, text in zip(_sections(outcome), shown, strict=True):
        obj = change.current
        assert text == f"{fold(obj.namespace)}/{fold(obj.name)} ({fold(obj.layer or '')}), Flux"
    assert not [text for text in summaries if "@someone" in text or "#123" in text]


def test_markdown_makes_no_link_emphasis_or_heading(tokens: list[Token], comment: str) -> None:
    types = [token.type for token in _all(tokens)]

    assert not set(types) & {"link_open", "image", "em_open", "s_open", "blockquote_open"}
    assert types.count("strong_open") == 1  # rail's own verdict line
    headings = [
        (token.tag, _plain(tokens[index + 1])) for index, token in enumerate(tokens) if token.type == "heading_open"
    ]
    assert [tag for tag, _ in headings] == ["h3", "h4", "h4", "h4", "h4"]
    assert [text for _, text in headings[1:]] == ["Findings", "Added (1)", "Removed (1)", "Changed"]
    rendered = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(comment)
    assert "<img" not in rendered and "<a " not in rendered and "<em>" not in rendered


def test_markdown_code_spans_hold_the_values_exactly(tokens: list[Token], outcome: DiffOutcome) -> None:
    code = [token.content for token in _all(tokens) if token.type == "code_inline"]

    for change in _sections(outcome):
        for field in change.fields:
            path = field.path.removeprefix("spec.")  # a release's values: `values.x` for both targets
            assert fold(path) in code
            assert _value(field.old) in code and _value(field.new) in code
    first_error = sorted(f.sort_key() for f in outcome.findings if f.severity == ERROR)[0]
    assert f"{fold(first_error[0])}:3" in code
    assert code.count("persistence-shrink") == 2  # alike findings: one row for the errors, one for the warnings


def test_markdown_table_rows_keep_their_cells(tokens: list[Token], outcome: DiffOutcome) -> None:
    cells: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            cells.append(0)
        elif token.type in ("td_open", "th_open"):
            cells[-1] += 1
    sections = _sections(outcome)
    fields = sum(len(change.fields) for change in sections) + sum(1 for c in sections if c.change == MOVED)

    assert cells.count(6) == 1 + 2  # the findings: header, one row for the errors, one for the warnings
    # The added and removed tables (header and one row each) and one table a section.
    assert cells.count(4) == 2 * 2 + len(sections) + fields
    assert len(cells) == cells.count(6) + cells.count(4)


def test_markdown_text_is_the_text_and_mentions_no_one(tokens: list[Token], outcome: DiffOutcome) -> None:
    inlines = [token for token in tokens if token.type == "inline"]
    shown = [_plain(token) for token in inlines]

    assert shown[0] == f"rail diff: {fold(BASE_LABEL)} .. {HEAD_LABEL}"
    releases = [cell for cell in shown if cell.startswith("same finding in 8 releases: ")]
    assert len(releases) == 2
    for finding in outcome.findings:
        assert f"{fold(finding.object.namespace or '')}/{fold(finding.object.name)}" in "".join(releases)
    assert shown.count("message (each release)") == 2 and shown.count("hint (each release)") == 2
    for token in _all(tokens):
        if token.type == "text":
            assert "@someone" not in token.content, token.content
            assert "#123" not in token.content, token.content


def test_markdown_of_a_small_change_reads_as_before(outcome: DiffOutcome) -> None:
    plain = _object("gitea")
    change = ObjectChange(MODIFIED, plain.key, plain, plain, (FieldChange("spec.values.size", "10Gi", "8Gi"),))
    quiet = DiffOutcome("main", HEAD_LABEL, DiffResult(changes=[change]), (), (), 0)

    text = report.markdown(quiet)

    assert "<details><summary>~ modified: apps/gitea (S5), Flux</summary>" in text
    assert '| Flux | `values.size` | `"10Gi"` | `"8Gi"` |' in text


# Text and GitHub -----------------------------------------------------------------------------


def test_text_keeps_every_value_on_its_line(outcome: DiffOutcome) -> None:
    output = report.text(outcome)
    lines = output.splitlines()

    fields = sum(len(change.fields) for change in outcome.result.changes)
    assert len(lines) == 1 + len(outcome.result.changes) + fields + 2 * len(outcome.findings) + 1
    assert not [line for line in lines if line.startswith("::")]
    assert "\x1b" not in output and "\r" not in output
    assert "\\n::error::x %0A" in output
    assert "\\x1b[31mred\\x1b[0m\\n::set-env" in output


def test_text_escapes_control_characters_but_colours_its_own(outcome: DiffOutcome) -> None:
    coloured = report.text(outcome, colour=True)

    assert "\x1b[31mred" not in coloured
    assert "\\x1b[31mred" in coloured
    assert "\x1b[" in coloured  # rail's own colours


def test_github_writes_one_annotation_a_finding(outcome: DiffOutcome) -> None:
    lines = report.github(outcome).splitlines()

    assert len(lines) == len(outcome.findings)
    assert all(re.match(r"::(error|warning) file=[^:]*,line=3,title=persistence-shrink::", line) for line in lines)
    assert "\x1b" not in "".join(lines)
    (injected,) = [line for line in lines if "%250A" in line]
    assert injected.endswith("::message %0A::error::x %250A (hint %0A::error::x %250A)")
