"""The pull-request comment (``rail diff --format markdown``), read as a reviewer reads it.

Each scenario of :mod:`comment_scenarios` has its expected comment in
``comment_cases/<name>.md``, written by reading the output line by line. To see a
changed comment: ``RAIL_WRITE_SNAPSHOTS=1 pytest tests/report/test_comment.py``, then
read ``git diff``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from comment_scenarios import HEAD_SHA, SCENARIOS, application, helm_release, outcome, release
from markdown_it import MarkdownIt
from markdown_it.token import Token

from renderer.diff.engine import DiffOutcome
from renderer.lint.finding import ERROR, WARNING, Finding, Location, ObjectRef
from renderer.report.comment import MARKER, comment
from renderer.report.comment.links import GITEA, Links, links_from
from renderer.report.diff import MARKDOWN_BUDGET, markdown

CASES = Path(__file__).parent / "comment_cases"
GITHUB_LIMIT = 65_536
# The only raw HTML rail writes: its marker and the collapsible sections.
OWN_HTML = re.compile(r"<!-- rail-diff -->|<details><summary>[+~>-] [^<>\n]*</summary>|</details>")


def _render(name: str) -> str:
    built, links = SCENARIOS[name]()
    return markdown(built, links=links)


def test_every_scenario_has_its_expected_comment() -> None:
    assert sorted(path.stem for path in CASES.glob("*.md")) == sorted(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_comment_snapshot(name: str) -> None:
    expected = CASES / f"{name}.md"
    text = _render(name)
    if os.environ.get("RAIL_WRITE_SNAPSHOTS"):
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")


def _tokens(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(text)


def _all(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _all(token.children or [])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_comment_has_no_stray_html(name: str) -> None:
    text = _render(name)
    tokens = _tokens(text)

    assert text.startswith(MARKER + "\n")
    assert not [token.content for token in _all(tokens) if token.type == "html_inline"]
    html = [line for token in tokens if token.type == "html_block" for line in token.content.splitlines()]
    assert html and all(OWN_HTML.fullmatch(line) for line in html), html
    assert sum(line.startswith("<details>") for line in html) == sum(line == "</details>" for line in html)
    types = {token.type for token in _all(tokens)}
    assert not types & {"image", "em_open", "s_open", "blockquote_open"}
    links = [token.attrGet("href") for token in _all(tokens) if token.type == "link_open"]
    assert all(str(href).startswith(("https://github.com/example/stack/blob/", "https://gitea.")) for href in links)


def test_comment_is_deterministic() -> None:
    assert {name: _render(name) for name in SCENARIOS} == {name: _render(name) for name in SCENARIOS}


def test_no_secret_value_reaches_the_comment() -> None:
    for name in SCENARIOS:
        assert "hunter2" not in _render(name), name


def test_findings_link_to_the_head_commit() -> None:
    text = _render("small-change")

    url = f"https://github.com/example/stack/blob/{HEAD_SHA}/releases/s3/postgresql-ha.yaml#L33"
    assert f"[`releases/s3/postgresql-ha.yaml:33`]({url})" in text


def test_hostile_names_stay_text() -> None:
    tokens = _tokens(_render("hostile-names"))
    inline = [token for token in _all(tokens) if token.type == "inline"]

    # The input's text is shown as itself (escapes and zero-width spaces aside), never as markup.
    shown = " ".join("".join(child.content for child in token.children or []) for token in inline)
    assert "`end` <b>@\u200bteam #\u200b1" in shown.replace("\\", "")
    (link,) = [token for token in _all(tokens) if token.type == "link_open"]
    assert link.attrGet("href") == (
        f"https://gitea.example.com/ops/stack/src/commit/{HEAD_SHA}/releases/x%22%5D%3B%20click%20r0%20call%20"
        "alert%281%29%20%25%25%7Binit%7D%25%25%20%60end%60%20%3Cb%3E%40team%20%231.yaml#L2"
    )


# The size budget ------------------------------------------------------------------------------


def _big_values(index: int) -> dict[str, object]:
    return {
        "persistence": {"size": f"{10 + index % 7}Gi"},
        **{f"setting{key:02d}": f"value-{index}-{key}-{'y' * 60}" for key in range(12)},
    }


def _three_hundred() -> DiffOutcome:
    """300 releases in both targets, each changed its own way, each with its own findings
    (messages that differ release by release)."""
    base, head, findings = {}, {}, []
    for index in range(300):
        name, namespace = f"app-{index:03d}", "apps" if index % 2 else "platform"
        base |= release(name, namespace, f"chart-{index:03d}", "1.0.0", _big_values(index))
        values = {**_big_values(index + 1), "persistence": {"size": "1Gi"}}
        head |= release(name, namespace, f"chart-{index:03d}", "2.0.0", values)
        where = f"releases/{name}.yaml"
        ref = ("HelmRelease", namespace, name)
        findings += [
            Finding(
                "persistence-shrink",
                f"volume size persistence.size shrinks from {10 + index % 7}Gi to 1Gi",
                Location(where, 30),
                ObjectRef(*ref),
                ERROR,
                "keep the size",
            ),
            Finding(
                "chart-major-bump",
                f"chart chart-{index:03d} changes major version: 1.0.0 -> 2.0.0",
                Location(where, 9),
                ObjectRef(*ref),
                WARNING,
                "read the chart's upgrade notes",
            ),
        ]
    return outcome(base, head, tuple(findings))


def test_three_hundred_releases_fit_with_every_finding() -> None:
    built = _three_hundred()
    text = comment(built, links=Links("https://github.com", "example/stack", HEAD_SHA))

    assert len(text) <= MARKDOWN_BUDGET < GITHUB_LIMIT
    assert "**Blocked:** 300 error(s), 300 warning(s)." in text
    table = text.split("#### Findings", 1)[1].split("\n\n", 2)[1]
    rows = [row for row in table.splitlines() if row.startswith(("| error", "| warning"))]
    # Every finding is in a row: alike ones share it, naming every release.
    named = re.findall(r"(?:apps|platform)/app-\d{3}", "\n".join(rows))
    assert sorted(named) == sorted(
        f"{'apps' if index % 2 else 'platform'}/app-{index:03d}" for index in range(300) for _ in range(2)
    )
    assert [row.split(" | ")[1] for row in rows] == ["`persistence-shrink`", "`chart-major-bump`"]
    assert "| volume size persistence.size shrinks from … to 1Gi |" in text
    # What did not fit is said, in releases.
    left = re.search(r"_(\d+) more release\(s\) or object\(s\) left out to stay within 65000 characters", text)
    assert left and text.count("<details>") + int(left.group(1)) == 300
    assert text.count("<details>") == text.count("</details>")


def test_a_tiny_budget_cuts_detail_before_any_finding() -> None:
    built, links = SCENARIOS["small-change"]()
    full = comment(built, links=links)
    tight = comment(built, budget=len(full) - 200, links=links)

    assert len(tight) <= len(full) - 200
    for line in full.split("#### Data safety")[0].splitlines():  # the verdict and every finding
        assert line in tight.splitlines()
    assert "_1 more release(s) or object(s) left out" in tight or "layer graph is left out" in tight


def test_identical_findings_are_one_row() -> None:
    text = _render("same-warning-in-51-releases")

    rows = [row for row in text.splitlines() if row.startswith("| warning |")]
    assert len(rows) == 1
    assert "same finding in 51 releases: apps/site-00, apps/site-01," in rows[0]
    assert rows[0].count("apps/site-") == 51
    assert "`releases/s5/site-00.yaml:9` and 50 more" in rows[0]
    assert text.count("<details>") == 1 and "same change in 51 releases, Flux and Argo CD" in text


def test_new_releases_are_table_rows_not_sections() -> None:
    text = _render("fifty-new-releases")

    assert "#### Added (50)" in text and "<details>" not in text
    assert len(re.findall(r"^\| apps/tool-\d\d \| S5 \| `tool 1.0.0` \| Flux and Argo CD \|$", text, re.M)) == 50


def test_targets_changed_differently_keep_their_own_rows() -> None:
    text = _render("targets-differ")

    assert '| Flux | `values.persistence.size` | `"2Gi"` | `"4Gi"` |' in text
    assert "Flux and Argo CD" not in text.split("#### Changed")[1]


# Links from the CI environment ----------------------------------------------------------------

ENV = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "example/stack",
    "GITHUB_SHA": "1" * 40,
}


def test_links_prefer_the_head_commit() -> None:
    assert links_from(ENV, HEAD_SHA) == Links("https://github.com", "example/stack", HEAD_SHA)
    assert links_from(ENV, None) == Links("https://github.com", "example/stack", "1" * 40)


def test_links_under_gitea_use_its_file_urls() -> None:
    links = links_from({**ENV, "GITHUB_SERVER_URL": "https://git.example.com/", "GITEA_ACTIONS": "true"}, None)

    assert links is not None and links.forge == GITEA
    assert links.url(Location("releases/a b.yaml", 3)) == (
        f"https://git.example.com/example/stack/src/commit/{'1' * 40}/releases/a%20b.yaml#L3"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"GITHUB_SERVER_URL": ""},
        {"GITHUB_SERVER_URL": "javascript:alert(1)"},
        {"GITHUB_SERVER_URL": "https://github.com/x)y"},
        {"GITHUB_REPOSITORY": "no-owner"},
        {"GITHUB_REPOSITORY": "a/b/c"},
        {"GITHUB_SHA": "main"},
    ],
)
def test_no_links_from_an_environment_rail_cannot_vouch_for(change: dict[str, str]) -> None:
    assert links_from({**ENV, **change}, None) is None


def test_graph_merges_both_targets_and_resolves_both_kinds_of_dependency() -> None:
    flux = helm_release("gitea", "apps", "gitea", "1", {}, depends=(("platform", "pg"),))
    argo = application("gitea", "apps", "gitea", "1", {}, depends=(("platform", "pg"),))
    pg = helm_release("pg", "platform", "postgresql-ha", "1", {})
    pg_argo = application("pg", "platform", "postgresql-ha", "1", {})
    built = outcome({}, {obj.key: obj for obj in (flux, argo, pg, pg_argo)})

    assert built.layer_graph is not None
    assert [node.label for node in built.layer_graph.nodes] == ["apps/gitea", "platform/pg"]
    assert [(edge.source, edge.target, edge.upward) for edge in built.layer_graph.edges] == [
        (("apps", "gitea"), ("platform", "pg"), False)
    ]
