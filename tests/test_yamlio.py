"""The one YAML reader and the one canonical writer (renderer.yamlio).

Writer: output must read back as the same data under YAML 1.2 (ruamel.yaml) and
YAML 1.1 (PyYAML, what many Kubernetes tools still use), in one fixed form.
Reader: every value is located, and hostile or careless input is refused with a
message that names file, line and column but never repeats what the file holds.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml  # YAML 1.1 reader; see the module docstring
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typed_equal import identical

from renderer import yamlio
from renderer.errors import InputError
from renderer.yamlio import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_INT_DIGITS,
    Document,
    dump,
    dump_document,
    load_document,
    load_documents,
)

CANARY = "s3cr3t-Canary-9f2e"


def ruamel_load(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def rail_load(text: str, path: str = "f.yaml", **kwargs: Any) -> Any:
    return load_documents(text, path, **kwargs)[0].data


def problem_of(text: str, path: str = "f.yaml", **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        load_documents(text, path, **kwargs)
    return caught.value


# --------------------------------------------------------------------------- writer

AMBIGUOUS = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "Yes",
    "NO",
    "On",
    "OFF",
    "true",
    "False",
    "~",
    "null",
    "Null",
    "0755",
    "0o17",
    "0b101",
    "1e3",
    "1E3",
    "1e-3",
    "0x1F",
    "1:20",
    "190:20:30",
    "1_000",
    "+1",
    "-1",
    "1.5",
    ".5",
    "1.",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    ".inf",
    "-.inf",
    ".NaN",
    "12.4.0",
    "",
    " leading",
    "trailing ",
    "=",
    "<<",
    "- item",
    "key: value",
    "a #comment",
    "ends:",
    "#hash",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "'",
    '"',
    "[x]",
    "{x}",
    "?",
    ",",
    "tab\there",
    "nul\x00",
    "line\u2028sep",
]


@pytest.mark.parametrize("text", AMBIGUOUS, ids=repr)
def test_ambiguous_strings_are_quoted_and_stay_strings(text: str) -> None:
    out = dump({"k": text})
    assert out.startswith('k: "'), out
    assert ruamel_load(out) == {"k": text}
    assert pyyaml.safe_load(out) == {"k": text}
    assert rail_load(out) == {"k": text}


@pytest.mark.parametrize("text", ["yes", "on", "0755", "1e3", "12.4.0", "null", ""], ids=repr)
def test_ambiguous_strings_are_quoted_as_keys_and_list_items(text: str) -> None:
    data = {text: [text]}
    out = dump(data)
    assert out.splitlines() == [f'"{text}":', f'  - "{text}"']
    assert ruamel_load(out) == data
    assert pyyaml.safe_load(out) == data


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-7, "-7"),
        (10**20, "100000000000000000000"),
        (1.5, "1.5"),
        (2.0, "2.0"),
        (1e20, "1.0e+20"),
        (1.5e-7, "1.5e-07"),
    ],
)
def test_non_string_scalars_read_back_as_themselves(value: Any, text: str) -> None:
    out = dump({"k": value})
    assert out == f"k: {text}\n"
    for load in (ruamel_load, pyyaml.safe_load, rail_load):
        loaded = load(out)["k"]
        assert loaded == value
        assert type(loaded) is type(value)


@pytest.mark.parametrize("text", ["hello", "oci://registry-1.docker.io/bitnamicharts", "a:b", "10m", "v1.2"])
def test_plain_strings_stay_plain(text: str) -> None:
    assert dump({"k": text}) == f"k: {text}\n"


def test_unicode_is_kept_not_escaped() -> None:
    data = {"name": "Zürich", "greeting": "日本語のテキスト", "emoji": "🚀 launch", "ключ": "значение"}
    out = dump(data)
    for key, value in data.items():
        assert value in out
        assert key in out
    assert "\\u" not in out and "\\x" not in out
    assert ruamel_load(out) == data
    assert pyyaml.safe_load(out) == data


def test_kubernetes_key_order() -> None:
    data = {
        "zeta": 1,
        "spec": {"values": {"metadata": 1, "apiVersion": 2, "b": 3}, "chart": "x"},
        "alpha": 2,
        "metadata": {
            "zz": 1,
            "labels": {"b": "2", "a": "1"},
            "annotations": {"team": "1", "owner": "2"},
            "namespace": "platform",
            "aa": 1,
            "name": "valkey",
        },
        "kind": "HelmRelease",
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
    }
    out = dump(data)
    top = [line.split(":")[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert top == ["apiVersion", "kind", "metadata", "spec", "alpha", "zeta"]
    meta = [line.strip().split(":")[0] for line in out.splitlines() if line.startswith("  ") and line[2] != " "]
    assert meta[:6] == ["name", "namespace", "labels", "annotations", "aa", "zz"]
    # Labels and annotations, and every mapping below spec, are simply sorted.
    assert out.index("    a: ") < out.index("    b: ")
    assert out.index("    owner: ") < out.index("    team: ")
    assert out.index("    apiVersion: 2") < out.index("    b: 3") < out.index("    metadata: 1")
    assert ruamel_load(out) == data


def test_key_order_does_not_depend_on_insertion_order() -> None:
    keys = ["spec", "b", "kind", "a", "metadata", "apiVersion"]
    first = dump({key: 1 for key in keys})
    second = dump({key: 1 for key in reversed(keys)})
    assert first == second


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("line one\nline two", "|-"),
        ("line one\nline two\n", "|"),
        ("line one\nline two\n\n", None),  # keep chomping would end the file in blank lines
        ("first\n\nafter a blank line\n", "|"),
        ("[section]\nKEY = value # not a comment\n", "|"),
        ("  indented\nfirst line\n", None),  # needs an indentation indicator: quoted instead
        ("trailing spaces   \nkept\n", "|"),
        ("only\r\nwindows\r\n", None),
    ],
    ids=repr,
)
def test_multi_line_strings_are_literal_blocks_with_correct_chomping(text: str, header: str | None) -> None:
    data = {"config": text, "list": [text]}
    out = dump(data)
    if header is None:
        assert "|" not in out
    else:
        assert f"config: {header}\n" in out
        assert f"  - {header}\n" in out
    assert ruamel_load(out) == data
    assert pyyaml.safe_load(out) == data
    assert rail_load(out) == data
    assert dump(rail_load(out)) == out


def test_exactly_one_trailing_newline() -> None:
    for data in ({"a": "x\n\n\n"}, {"a": []}, {}, [], "text", {"a": {"b": ["c", {"d": None}]}}):
        out = dump(data)
        assert out.endswith("\n")
        assert not out.endswith("\n\n"), repr(out)


def test_header_becomes_comments() -> None:
    out = dump({"a": 1}, header="Generated by rail.\n\nDo not edit.")
    assert out == "# Generated by rail.\n#\n# Do not edit.\na: 1\n"
    assert ruamel_load(out) == {"a": 1}


def test_empty_collections() -> None:
    out = dump({"a": {}, "b": [], "c": [{}, []]})
    assert out == "a: {}\nb: []\nc:\n  - {}\n  - []\n"
    assert pyyaml.safe_load(out) == {"a": {}, "b": [], "c": [{}, []]}


def test_non_finite_floats() -> None:
    out = dump({"inf": math.inf, "ninf": -math.inf})
    assert out == "inf: .inf\nninf: -.inf\n"
    assert rail_load(out) == {"inf": math.inf, "ninf": -math.inf}
    assert pyyaml.safe_load(out) == {"inf": math.inf, "ninf": -math.inf}
    assert math.isnan(rail_load(dump({"nan": math.nan}))["nan"])


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(AMBIGUOUS)
)
JSON_DATA = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text() | st.sampled_from(AMBIGUOUS), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(JSON_DATA)
def test_dump_is_a_fixed_point_of_load(data: Any) -> None:
    out = dump(data)
    assert load_documents(out, "prop.yaml")[0].data == data
    assert dump(load_documents(out, "prop.yaml")[0].data) == out
    assert out.endswith("\n") and not out.endswith("\n\n")


@settings(max_examples=200, deadline=None)
@given(JSON_DATA)
def test_dump_reads_back_under_yaml_1_1_and_1_2(data: Any) -> None:
    out = dump(data)
    assert ruamel_load(out) == data
    assert pyyaml.safe_load(out) == data


@settings(max_examples=300, deadline=None)
@given(JSON_DATA, st.sampled_from(["", "Generated by rail from x.yaml.", "one\ntwo"]))
def test_the_document_the_writer_returns_is_what_its_text_reads_back_as(data: Any, header: str) -> None:
    # Lint reads rendered files through these documents instead of parsing them again.
    text, written = dump_document(data, header, "out.yaml")
    read = load_documents(text, "out.yaml")[0]
    assert written.data == read.data == data
    assert written.positions == read.positions


# --------------------------------------------------------------------------- reader

POSITIONS = """\
apiVersion: v1
spec:
  name: demo
  items:
    - first
    - second: 2
      third: 3
  "quoted key": x
"""


def test_positions_of_keys_and_list_items() -> None:
    document = load_documents(POSITIONS, "pos.yaml")[0]
    assert document.path == "pos.yaml"
    assert document.positions[("apiVersion",)] == (1, 1)
    assert document.positions[("spec",)] == (2, 1)
    assert document.positions[("spec", "name")] == (3, 3)
    assert document.positions[("spec", "items")] == (4, 3)
    assert document.positions[("spec", "items", 0)] == (5, 7)
    assert document.positions[("spec", "items", 1)] == (6, 7)
    assert document.positions[("spec", "items", 1, "third")] == (7, 7)
    assert document.positions[("spec", "quoted key")] == (8, 3)


def test_locate_falls_back_to_the_nearest_parent() -> None:
    document = load_documents(POSITIONS, "pos.yaml")[0]
    assert document.locate(("spec", "items", 1, "missing", "deeper")) == (6, 7)
    assert document.locate(("nowhere",)) == document.positions[()]
    problem = document.problem(("spec", "items", 1, "third"), "bad value", "fix it")
    assert (problem.path, problem.line, problem.column) == ("pos.yaml", 7, 7)
    assert problem.key_path == "spec.items[1].third"
    assert problem.format().startswith("pos.yaml:7:7: error: bad value")


def test_positions_per_document_of_a_stream() -> None:
    documents = load_documents("a: 1\n---\nb: 2\nc: 3\n", "multi.yaml")
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2, "c": 3}]
    assert [d.index for d in documents] == [0, 1]
    assert documents[1].positions[("c",)] == (4, 1)


def test_load_document_refuses_several_documents() -> None:
    with pytest.raises(InputError) as caught:
        load_document("a: 1\n---\nb: 2\n", "two.yaml")
    problem = caught.value.problems[0]
    assert problem.path == "two.yaml"
    assert problem.line == 3
    assert "one YAML document" in problem.message
    assert load_document("", "empty.yaml") == Document(path="empty.yaml", data=None)


def test_duplicate_key_names_the_key_and_both_lines() -> None:
    error = problem_of("spec:\n  name: a\n  other: 1\n  name: b\n", "dup.yaml")
    problem = error.problems[0]
    assert "duplicate key 'name'" in problem.message
    assert "line 2" in problem.message  # the first definition
    assert (problem.path, problem.line, problem.column) == ("dup.yaml", 4, 3)  # the second
    assert problem.key_path == "spec.name"
    assert str(error).startswith("dup.yaml:4:3: error: duplicate key 'name'")


def test_duplicate_key_message_never_shows_the_values() -> None:
    error = problem_of(f"password: {CANARY}-one\npassword: {CANARY}-two\n")
    assert CANARY not in str(error)


BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_alias_bomb_is_refused_quickly() -> None:
    started = time.monotonic()
    error = problem_of(BILLION_LAUGHS, "bomb.yaml")
    assert time.monotonic() - started < 5
    problem = error.problems[0]
    assert problem.path == "bomb.yaml"
    assert problem.line is not None
    assert "alias" in problem.message
    assert str(MAX_EXPANDED_NODES) in problem.message


def test_modest_aliases_are_fine() -> None:
    data = rail_load("base: &b {x: 1}\nuses: [*b, *b, *b]\n")
    assert data == {"base": {"x": 1}, "uses": [{"x": 1}, {"x": 1}, {"x": 1}]}


@pytest.mark.parametrize(
    "text",
    ["a: &x [1, *x]\n", "a: &x\n  b: *x\n", "a: &x\n  b:\n    - c: *x\n"],
    ids=["sequence", "mapping", "nested"],
)
def test_recursive_alias_is_refused(text: str) -> None:
    problem = problem_of(text, "loop.yaml").problems[0]
    assert problem.path == "loop.yaml"
    assert problem.line == 1
    assert "recursive" in problem.message


def test_merge_keys() -> None:
    text = """\
defaults: &defaults
  interval: 10m
  timeout: 5m
  retries: 3
extra: &extra
  retries: 5
  wait: true
release:
  <<: *defaults
  timeout: 15m
both:
  <<: [*extra, *defaults]
"""
    data = rail_load(text)
    # Keys written in the mapping win over merged ones.
    assert data["release"] == {"interval": "10m", "timeout": "15m", "retries": 3}
    # With several sources, the earlier one wins.
    assert data["both"] == {"interval": "10m", "timeout": "5m", "retries": 5, "wait": True}


def test_merge_of_a_scalar_is_refused() -> None:
    problem = problem_of("a: &s text\nb:\n  <<: *s\n").problems[0]
    assert "merge" in problem.message
    assert problem.line == 1


@pytest.mark.parametrize(
    "text",
    [
        "key: !vault encrypted\n",
        "key: !Ref Something\n",
        "key: !vault {x: 1}\n",
        "key: !vault [1, 2]\n",
    ],
    ids=["scalar", "cfn-style", "mapping", "sequence"],
)
def test_unknown_tags_are_refused_when_strict(text: str) -> None:
    problem = problem_of(text, "tags.yaml").problems[0]
    assert (problem.path, problem.line, problem.column) == ("tags.yaml", 1, 6)
    assert "tag" in problem.message


def test_unknown_tags_read_as_plain_data_when_not_strict() -> None:
    data = rail_load("a: !vault encrypted\nb: !Ref 12\nc: !vault {x: 1}\n", strict_tags=False)
    assert data == {"a": "encrypted", "b": "12", "c": {"x": 1}}


def test_standard_tags_are_honoured() -> None:
    assert rail_load('a: !!str 1\nb: !!int "7"\nc: ! 12abc\n') == {"a": "1", "b": 7, "c": "12abc"}


BAD_YAML = [
    # (text with the canary on the offending line, line of the error)
    (f"a: 1\npassword: {CANARY}: x\n", 2),
    (f"a: 1\n  password: {CANARY}\n", 2),
    (f'password: "{CANARY}\\q"\n', 1),
    (f"items: [{CANARY}, 2\nnext: 1\n", 2),
    (f"- a\npassword: {CANARY}\n", 2),
    (f"password: @{CANARY}\n", 1),
    (f"password: `{CANARY}\n", 1),
    # Unquoted passwords that YAML reads as an alias or a tag handle:
    (f"password: *{CANARY}\n", 1),
    (f"password: !{CANARY}!x y\n", 1),
    (f"password: !{CANARY}\n", 1),
]


@pytest.mark.parametrize(("text", "line"), BAD_YAML, ids=[repr(text) for text, _ in BAD_YAML])
def test_syntax_errors_name_line_and_column_but_never_quote_the_source(text: str, line: int) -> None:
    error = problem_of(text, "bad.yaml")
    problem = error.problems[0]
    assert problem.path == "bad.yaml"
    assert problem.line == line
    assert problem.column is not None and problem.column >= 1
    assert problem.hint
    message = str(error)
    assert message.startswith(f"bad.yaml:{line}:{problem.column}: error: ")
    assert CANARY not in message
    assert CANARY[:8] not in message
    assert "password:" not in message


def test_syntax_error_keeps_the_libraries_diagnosis() -> None:
    problem = problem_of("a: [1, 2\n").problems[0]
    assert problem.message.startswith("YAML syntax error: ")
    assert "flow sequence" in problem.message


# --------------------------------------------------------------------------- redefined anchors, nesting, long integers
#
# rail composes documents with ruamel's C composer, and from the C parser's events when a
# text might nest too deeply for the C composer's recursion or defines an anchor twice
# (which the C composer refuses). Readings that may take either path run on both.


@pytest.fixture(params=["c-composer", "event-composer"])
def composer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "event-composer":
        monkeypatch.setattr(yamlio, "_may_nest_deeply", lambda text: True)
    return str(request.param)


REDEFINED = """\
a: &x 1
b: *x
c: &x {k: 2}
d: *x
e: &x [3]
f: *x
g: {<<: *y, own: 1}
h: &y {merged: old}
y: &y {merged: new}
i: {<<: *y, own: 1}
"""


def test_a_redefined_anchor_is_read_with_its_latest_definition(composer: str, recwarn: pytest.WarningsRecorder) -> None:
    text = REDEFINED.replace("g: {<<: *y, own: 1}\n", "")
    document = load_documents(text, "anchors.yaml")[0]
    assert document.data == {
        "a": 1,
        "b": 1,
        "c": {"k": 2},
        "d": {"k": 2},
        "e": [3],
        "f": [3],
        "h": {"merged": "old"},
        "y": {"merged": "new"},
        "i": {"merged": "new", "own": 1},
    }
    # An alias's items are located where the anchor defines them: the latest definition, line 5.
    assert document.locate(("d",)) == (4, 1) and document.locate(("f", 0)) == (5, 8)
    # As ruamel's pure composer reads it (which warns; rail prints nothing).
    with pytest.warns(Warning):
        assert ruamel_load(text) == document.data
    recwarn.clear()
    load_documents(text, "anchors.yaml")
    assert not [w for w in recwarn if "anchor" in str(w.message)]


def test_an_alias_before_its_anchor_is_undefined_even_when_redefined_later(composer: str) -> None:
    problem = problem_of(REDEFINED, "anchors.yaml").problems[0]
    assert (problem.line, problem.column) == (7, 9)
    assert problem.message == "YAML syntax error: found undefined alias"


def test_anchors_do_not_reach_into_the_next_document(composer: str) -> None:
    problem = problem_of("a: &x 1\nb: &x 2\n---\nc: *x\n", "two.yaml").problems[0]
    assert problem.line == 4 and "undefined alias" in problem.message


@pytest.mark.parametrize(("text", "line"), BAD_YAML, ids=[repr(text) for text, _ in BAD_YAML])
def test_both_composers_report_a_syntax_error_alike(text: str, line: int, monkeypatch: pytest.MonkeyPatch) -> None:
    by_c = problem_of(text, "bad.yaml").problems
    monkeypatch.setattr(yamlio, "_may_nest_deeply", lambda text: True)
    assert problem_of(text, "bad.yaml").problems == by_c


def _yaml_files() -> list[Path]:
    repo = Path(__file__).resolve().parents[1]
    folders = [repo / name for name in ("releases", "values", "secrets", "rendered", "examples", "tests/cases")]
    folders.append(repo.parent / "shared" / "crds" / "upstream")
    return sorted(path for folder in folders if folder.is_dir() for path in folder.rglob("*.y*ml") if path.is_file())


def test_both_composers_build_the_same_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Data, every position, and any error: the event composer is a drop-in for the C one."""
    files = _yaml_files()
    assert len(files) > 100

    def read(path: Path) -> Any:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            return [(d.data, dict(d.positions)) for d in load_documents(text, path.name, strict_tags=False)]
        except InputError as error:
            return error.problems

    by_c = {path: read(path) for path in files}
    monkeypatch.setattr(yamlio, "_may_nest_deeply", lambda text: True)
    assert [path for path in files if read(path) != by_c[path]] == []


@pytest.mark.parametrize(
    ("shape", "build"),
    [
        ("flow-sequence", lambda n: "[" * n + "]" * n),
        ("flow-mapping", lambda n: "{a: " * n + "x" + "}" * n),
        ("block-mapping", lambda n: "".join(" " * level + "a:\n" for level in range(n)) + " " * n + "x\n"),
        ("compact-sequence", lambda n: "- " * n + "x\n"),
    ],
)
def test_nesting_up_to_max_depth_is_read_and_one_level_more_is_refused(composer: str, shape: str, build: Any) -> None:
    assert load_documents(build(MAX_DEPTH), "deep.yaml")[0].data is not None
    problem = problem_of(build(MAX_DEPTH + 1), "deep.yaml").problems[0]
    assert problem.message == f"YAML nested deeper than {MAX_DEPTH} levels"
    assert problem.line is not None and problem.column is not None and problem.hint


def test_nesting_through_aliases_counts_every_alias_expanded(composer: str) -> None:
    # Each anchor nests the previous one three levels deeper: 40 x 3 levels, in a 1 kB file.
    text = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [[[*a{i - 1}]]]\n" for i in range(1, 40))
    problem = problem_of(text, "chain.yaml").problems[0]
    assert problem.message == f"YAML nested deeper than {MAX_DEPTH} levels" and problem.line is not None


def test_extreme_nesting_is_refused_without_a_crash() -> None:
    """Within the 5 MB a file may hold: ruamel's C composer overflowed the C stack (a
    segfault) from ~25,000 levels, and rail's builder hit Python's recursion limit from
    ~1,000 (exit 3). Run in a child process, so a crash fails this test, not the run."""
    import subprocess
    import sys

    program = """
import sys
from renderer.errors import InputError
from renderer.yamlio import load_documents
n = 2_400_000
shapes = {
    "flow": "[" * n + "]" * n,
    "flow-mapping": "{a: " * (n // 4) + "x" + "}" * (n // 4),
    "compact": "- " * n + "x",
    "compact-after-a-carriage-return": "a: 1\\r---\\r" + "- " * n + "x",
    "compact-after-a-line-separator": "a\\u2028---\\u2028" + "- " * n + "x",
    "block": "".join(" " * level + "a:\\n" for level in range(1_500)),
}
for name, text in shapes.items():
    try:
        load_documents(text, name)
        print(name, "read")
    except InputError as error:
        print(name, error.problems[0].message)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 6 and all(line.endswith(f"nested deeper than {MAX_DEPTH} levels") for line in lines), lines


BLOCK_KINDS = st.sampled_from(["map", "seq", "map-seq"])
FLOW_KINDS = st.sampled_from(["seq", "map"])


def _nested(block: list[str], flow: list[str]) -> tuple[str, int]:
    """YAML nesting ``block`` then ``flow`` collections: a block mapping (its value on the
    next line, indented), a compact block sequence (``- `` on the same line), a mapping
    holding an indentless sequence; then flow sequences and mappings. And its depth."""
    lines: list[str] = []
    line, column, depth = "", 0, 0
    for kind in block:
        if kind == "seq":
            line, column, depth = line + "- ", column + 2, depth + 1
        elif kind == "map":
            lines.append(line + "k:")
            line, column, depth = " " * (column + 2), column + 2, depth + 1
        else:
            lines.append(line + "k:")
            line, column, depth = " " * column + "- ", column + 2, depth + 2
    opening = "".join("[" if kind == "seq" else "{k: " for kind in flow)
    closing = "".join("]" if kind == "seq" else "}" for kind in reversed(flow))
    lines.append(line + opening + "x" + closing)
    return "\n".join(lines) + "\n", depth + len(flow)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(BLOCK_KINDS, st.integers(1, 500)), max_size=5),
    st.lists(st.tuples(FLOW_KINDS, st.integers(1, 700)), max_size=4),
)
def test_a_text_that_may_nest_too_deep_for_the_c_composer_is_always_noticed(
    block_runs: list[tuple[str, int]], flow_runs: list[tuple[str, int]]
) -> None:
    block = [kind for kind, count in block_runs for _ in range(count)]
    flow = [kind for kind, count in flow_runs for _ in range(count)]
    text, depth = _nested(block, flow)
    if depth > yamlio._C_COMPOSE_DEPTH:
        assert yamlio._may_nest_deeply(text), depth
    if depth > MAX_DEPTH:
        assert problem_of(text, "deep.yaml").problems[0].message == f"YAML nested deeper than {MAX_DEPTH} levels"
    else:
        assert load_documents(text, "deep.yaml")[0].data is not None


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("9" * MAX_INT_DIGITS, int("9" * MAX_INT_DIGITS)),
        ("-" + "9" * MAX_INT_DIGITS, -int("9" * MAX_INT_DIGITS)),
        ("0x" + "f" * 531, int("f" * 531, 16)),  # 2,124 bits: at most 640 decimal digits
        ('"' + "9" * 5_000 + '"', "9" * 5_000),  # quoted: a string, any length
    ],
    ids=["640-digits", "negative-640-digits", "hex-2124-bits", "quoted-5000-digits"],
)
def test_long_integers_up_to_the_limit_are_read(composer: str, literal: str, value: Any) -> None:
    assert rail_load(f"n: {literal}\n") == {"n": value}


@pytest.mark.parametrize(
    ("literal", "digits"),
    [
        ("9" * (MAX_INT_DIGITS + 1), MAX_INT_DIGITS + 1),
        ("9" * 5_000, 5_000),
        ("-" + "9" * 5_000, 5_000),
        ("0x" + "f" * 532, 532),  # 2,128 bits: more than 640 decimal digits
        ("0o" + "7" * 5_000, 5_000),
    ],
    ids=["641-digits", "5000-digits", "negative", "hex", "octal"],
)
def test_a_longer_integer_is_refused_with_file_and_line(composer: str, literal: str, digits: int) -> None:
    """Before: Python's int max str digits (4,300) ended the run in exit 3 (ValueError)."""
    problem = problem_of(f"a: 1\nn: {literal}\n", "big.yaml").problems[0]
    assert (problem.path, problem.line, problem.column) == ("big.yaml", 2, 4)
    assert problem.message == f"an integer of {digits} digits: longer than rail reads ({MAX_INT_DIGITS} digits)"
    assert "quote it" in problem.hint and "999" not in str(problem.format())


def test_an_integer_rail_reads_prints_under_the_strictest_digit_limit() -> None:
    """640 digits: below every limit Python can be set to (PYTHONINTMAXSTRDIGITS >= 640)."""
    import sys

    if not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip("this Python has no integer digit limit")
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        for literal in ("9" * MAX_INT_DIGITS, "0x" + "f" * 531):
            assert len(str(rail_load(f"n: {literal}\n")["n"])) <= 640
    finally:
        sys.set_int_max_str_digits(before)


def test_a_long_float_is_read_as_a_float() -> None:
    assert rail_load("x: " + "9" * 5_000 + ".5\n") == {"x": math.inf}


def test_a_url_in_a_flow_mapping_reads_as_kubectl_reads_it() -> None:
    # libyaml (the C parser) refuses the ':' of "https://" inside {...}; YAML 1.2 and
    # go-yaml accept it: real manifests write destinations so.
    text = "spec:\n  destination: {server: https://kubernetes.default.svc, namespace: apps}\n  n: {a: 1, b: yes}\n"
    document = load_documents(text, "app.yaml")[0]
    assert document.data == {
        "spec": {
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "apps"},
            "n": {"a": 1, "b": "yes"},
        }
    }
    assert document.locate(("spec", "destination", "namespace")) == (2, 57)


def test_a_flow_mapping_that_is_wrong_is_still_an_error() -> None:
    with pytest.raises(InputError) as caught:
        load_documents("a: {b: c: d}\n", "bad.yaml")
    assert caught.value.problems[0].line == 1


def test_a_deep_flow_text_with_a_url_is_refused_as_too_deep() -> None:
    # The pure parser reads a ':' in a flow scalar; past Python's recursion it refuses.
    text = "a: " + "[" * 5000 + "{u: http://x}" + "]" * 5000 + "\n"
    with pytest.raises(InputError) as caught:
        load_documents(text, "deep.yaml")
    assert "nest" in caught.value.problems[0].message


# --------------------------------------------------------------------------- skeletons

_CIPHER = (
    "ENC[AES256_GCM,data:qK3vT9ZlYw==,iv:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg=,tag:Zm9vYmFyYmF6cXV4==,type:str]"
)
_AGE_SECRET = f"""# a comment: é, and the next line is blank

apiVersion: v1
kind: Secret
metadata:
    name: db
    namespace: 'apps'
    labels:
        example: "true"
type: Opaque
stringData:
    password: {_CIPHER}
    port: ENC[AES256_GCM,data:MTIz,iv:aXY=,tag:dGFn,type:int]
sops:
    kms: []
    age:
        - recipient: age1tyuwykan728ez777p0w6kfccq62d6h0thurp0wcpajffma08syfqjv8kdl
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBHT0NPaCtDOGNyOXNWelpO
            e5fyB74B5J73vwHN340Vju+M9SqL695SYar9T5A6N6ZNtrLdZmxVFw==
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-11-27T00:00:00Z"
    mac: {_CIPHER}
    pgp: []
    encrypted_regex: ^(data|stringData)$
    mac_only_encrypted: true
    shamir_threshold: 2
    version: 3.9.0
"""
# SOPS's PGP recipients: an ASCII-armoured message, with a blank line inside the block.
_PGP_SECRET = f"""top: {_CIPHER}
sops:
    age: []
    pgp:
        - created_at: "2026-01-02T03:04:05Z"
          enc: |-
            -----BEGIN PGP MESSAGE-----

            hQIMA1234567890ABAQ/+KJdyPw8kkEo0b5tX
            =abcd
            -----END PGP MESSAGE-----
          fp: 0123456789ABCDEF0123456789ABCDEF01234567
    unencrypted_suffix: _unencrypted
    version: 3.7.3
---
"""


def _rebuilt_from_skeleton(text: str) -> tuple[list[Document], list[Document], Any]:
    parsed = load_documents(text, "s.sops.yaml", strict_tags=False)
    kept = yamlio.skeleton(text, "s.sops.yaml", parsed)
    assert kept is not None
    rebuilt = yamlio.rebuild(text, "s.sops.yaml", kept)
    assert rebuilt is not None
    return parsed, rebuilt, kept


@pytest.mark.parametrize("text", [_AGE_SECRET, _PGP_SECRET], ids=["age", "pgp"])
def test_a_sops_file_rebuilds_from_its_skeleton_as_it_parses(text: str) -> None:
    import pickle

    parsed, rebuilt, kept = _rebuilt_from_skeleton(text)
    assert len(rebuilt) == len(parsed)
    for again, document in zip(rebuilt, parsed, strict=True):
        assert identical(again.data, document.data)
        assert (again.index, again.start_line, again.text, again.path) == (
            document.index,
            document.start_line,
            document.text,
            document.path,
        )
        assert again.positions == document.positions
    # The skeleton holds no value: no ciphertext, no PEM block, not even a short plain one.
    at_rest = pickle.dumps(kept)
    for value in (b"ENC[", b"-----BEGIN", b"qK3vT9Zl", b"age1tyuw", b"2026-", b"Opaque", b"apps", b"3.9.0"):
        assert value not in at_rest


def test_the_shipped_sops_files_all_have_a_skeleton() -> None:
    files = sorted((Path(__file__).resolve().parents[1] / "secrets").rglob("*.sops.yaml"))
    assert files
    for path in files:
        parsed, rebuilt, _ = _rebuilt_from_skeleton(path.read_text(encoding="utf-8"))
        assert all(identical(a.data, b.data) for a, b in zip(rebuilt, parsed, strict=True))


@pytest.mark.parametrize(
    "value",
    [
        '"tab\\there"',  # an escape: the text is not the value
        '"two\n        lines"',  # a folded line in a quoted scalar
        "'it''s'",
        "plain\n        continued",
        ">\n        folded\n        text\n",
        "|2\n          indented\n",
        "!custom tagged",
        "&anchor value",
    ],
)
def test_a_scalar_slicing_cannot_give_back_has_no_skeleton(value: str) -> None:
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n    name: x\n    note: {value}\nstringData:\n    a: {_CIPHER}\n"
    assert yamlio.skeleton(text, "x.sops.yaml", load_documents(text, "x.sops.yaml", strict_tags=False)) is None


@pytest.mark.parametrize(
    "value", ["|+\n        kept\n\n", "|\n        one\n\n        two\n", "''", '""', "|-\n        x"]
)
def test_a_literal_block_or_an_empty_quoted_scalar_rebuilds(value: str) -> None:
    text = f"metadata:\n    note: {value}\nstringData:\n    a: {_CIPHER}\n"
    parsed, rebuilt, _ = _rebuilt_from_skeleton(text)
    assert identical(rebuilt[0].data, parsed[0].data)


def test_a_merge_or_windows_line_breaks_have_no_skeleton() -> None:
    for text in (
        "base: &b {a: 1}\nx:\n  <<: *b\n  c: d\n",
        "a: |\r\n  one\r\n  two\r\nb: c\r\n",
    ):
        assert yamlio.skeleton(text, "x.yaml", load_documents(text, "x.yaml", strict_tags=False)) is None


def test_a_skeleton_read_against_another_text_fails_without_raising() -> None:
    parsed = load_documents(_AGE_SECRET, "s.sops.yaml", strict_tags=False)
    kept = yamlio.skeleton(_AGE_SECRET, "s.sops.yaml", parsed)
    assert kept is not None
    assert yamlio.rebuild("", "s.sops.yaml", kept) is None  # its number slices to nothing


def test_a_rebuilt_parse_is_the_one_the_scope_reads_afterwards() -> None:
    parsed = load_documents(_AGE_SECRET, "s.sops.yaml", strict_tags=False)
    kept = yamlio.skeleton(_AGE_SECRET, "s.sops.yaml", parsed)
    assert kept is not None
    rebuilt = yamlio.rebuild(_AGE_SECRET, "s.sops.yaml", kept)
    assert rebuilt is not None
    with yamlio.sharing_parses():
        adopted = yamlio.adopt_parse(_AGE_SECRET, "s.sops.yaml", False, rebuilt)
        assert adopted[0].data is rebuilt[0].data
        again = load_documents(_AGE_SECRET, "elsewhere.sops.yaml", strict_tags=False)
        assert again[0].data is rebuilt[0].data and again[0].path == "elsewhere.sops.yaml"
        assert not yamlio.admitted(again[0])  # a secret's text is no text the guard passed


def test_positions_are_kept_for_the_last_documents_asked_about_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the last documents asked about hold their positions: a run pointing at keys of
    thousands of documents would keep every map to its end. Let go, they are worked out again."""
    monkeypatch.setattr(yamlio, "_POSITIONS_KEPT", 2)
    monkeypatch.setattr(yamlio, "_HOLDING_POSITIONS", yamlio.deque())
    documents = [load_document(f"a:\n  b{n}: {n}\n", f"f{n}.yaml") for n in range(3)]
    for n, document in enumerate(documents):
        assert document.locate(("a", f"b{n}")) == (2, 3)
    assert [("_positions" in vars(document)) for document in documents] == [False, True, True]
    assert documents[0].locate(("a", "b0")) == (2, 3)  # asked again: worked out again
    assert [("_positions" in vars(document)) for document in documents] == [True, False, True]


def test_a_kept_document_is_pickled_without_its_positions() -> None:
    import pickle

    document = load_document("a:\n  b: 1\n", "f.yaml")
    assert document.locate(("a", "b")) == (2, 3)
    restored = pickle.loads(pickle.dumps(document))
    assert "_positions" not in vars(restored) and restored == document
    assert restored.locate(("a", "b")) == (2, 3)
