"""Flux post-build substitution: the envsubst engine against the behaviour of upstream's own
tests (``fluxcd/pkg`` ``envsubst/eval_test.go``, ``envsubst/parse/parse_test.go``,
``envsubst/funcs_test.go``, ``kustomize/kustomize_varsub_test.go``), then whole objects,
then the variables of a Kustomization. Each case says, in its comment, which upstream test
or documented behaviour it stands for."""

from __future__ import annotations

import time
from typing import Any

import pytest

from renderer import secrets
from renderer.apply.envsubst import SubstitutionSyntaxError, expand
from renderer.apply.substitute import (
    INVALID_NAME,
    INVALID_YAML,
    MISSING_SOURCE,
    NOT_A_STRING,
    SKIP_DISABLED,
    SKIP_FAILED,
    SKIP_NO_VARIABLES,
    SUBSTITUTE_KEY,
    SYNTAX_ERROR,
    UNDEFINED_VARIABLE,
    UNKNOWN,
    Unknown,
    Variables,
    is_unknown,
    substitute,
    variables_for,
)
from renderer.yamlio import load_document

# --------------------------------------------------------------------------- the engine

EXPANSIONS: list[tuple[str, dict[str, str], str]] = [
    # eval_test TestExpand: plain text passes through untouched.
    ("plain 28 text", {}, "plain 28 text"),
    # TestExpand: ${#v} is the length, ^ ^^ , ,, change case.
    ("${#v}", {"v": "abcdEFGH28ij"}, "12"),
    ("${v^}", {"v": "abcdEFGH28ij"}, "AbcdEFGH28ij"),
    ("${v^^}", {"v": "abcdEFGH28ij"}, "ABCDEFGH28IJ"),
    ("${v,}", {"v": "ABCDEFGH28IJ"}, "aBCDEFGH28IJ"),
    ("${v,,}", {"v": "ABCDEFGH28IJ"}, "abcdefgh28ij"),
    # TestExpand: substring by offset, and by offset and length.
    ("${p:6}", {"p": "/srv/a/b/file.txt"}, "/b/file.txt"),
    ("${p:7:1}", {"p": "/srv/a/b/file.txt"}, "b"),
    # funcs_test Test_substr: a length past the end stops at the end; a negative offset
    # counts from the end (clamped at 0); an offset past the end is empty.
    ("${n:9:50}", {"n": "123456789123456789"}, "123456789"),
    ("${n:${off}:2}", {"n": "123456789123456789", "off": "-3"}, "78"),
    ("${n:${off}:3}", {"n": "123456789123456789", "off": "-300"}, "123"),
    ("${n:9:1}", {"n": "12345678"}, ""),
    # Test_substr: a negative length stops that far before the end.
    ("${h:2:-1}", {"h": "hello world"}, "llo worl"),
    ("${h:8:-8}", {"h": "hello world"}, ""),
    ("${h:${off}:-1}", {"h": "hello world", "off": "-4"}, "orl"),
    # Go's strconv.Atoi: a position that is not a plain integer gives the value back.
    ("${h: 2}", {"h": "hello"}, "hello"),
    # TestExpand: "=" and ":=" give the default only when the value is empty.
    ("${v=xyz}", {"v": "abc"}, "abc"),
    ("${v=xyz}", {}, "xyz"),
    ("${v:=xyz}", {}, "xyz"),
    # TestExpand: a default may hold references, before, after and around text.
    ("a ${v=${d}}", {"d": "foo"}, "a foo"),
    ("k: ${v=${d}-suffix}", {"d": "foo1"}, "k: foo1-suffix"),
    ("k: ${v=prefix${d}-suffix}", {"d": "foo1"}, "k: prefixfoo1-suffix"),
    ("${v=${w^^}}", {"w": "abcdEFGH28ij"}, "ABCDEFGH28IJ"),
    # lookupFunc: ":-", ":?" and ":+" are all "default when empty"; none is bash's.
    ("${v:-d}", {"v": ""}, "d"),
    ("${v:?d}", {}, "d"),
    ("${v:+d}", {"v": "set"}, "set"),
    ("${n:-3:2}", {}, "3:2"),  # bash would read a negative offset here
    ("${n:-3:2}", {"n": "12345"}, "12345"),
    # A default never assigns: the second reference is still empty.
    ("${v:=x}/${v}", {}, "x/"),
    # An operator lookupFunc does not know falls back to the value.
    ("${v^,}", {"v": "Ab"}, "Ab"),
    # TestExpand: replace a suffix, a prefix, every match, the first match.
    ("${z/%abc/XYZ}", {"z": "abcABC123ABCabc"}, "abcABC123ABCXYZ"),
    ("${z/#abc/XYZ}", {"z": "abcABC123ABCabc"}, "XYZABC123ABCabc"),
    ("${z//abc/xyz}", {"z": "abcABC123ABCabc"}, "xyzABC123ABCxyz"),
    ("${z/abc/xyz}", {"z": "abcABC123ABCabc"}, "xyzABC123ABCabc"),
    # TestExpand: an empty prefix or suffix pattern prepends or appends.
    ("${z/#/pre-}", {"z": "value"}, "pre-value"),
    ("${z/%/-post}", {"z": "value"}, "value-post"),
    # TestExpand: the replacement may be left out.
    ("${z/./}", {"z": "foo.bar"}, "foobar"),
    # TestExpand: \/ is an escaped slash inside the pattern.
    (r"${z/\//-}", {"z": "foo/bar"}, "foo-bar"),
    (r"${z//\//-}", {"z": "foo/bar/baz"}, "foo-bar-baz"),
    # parse.go: $$ and \\ are escapes in a replacement (scanEscape), not in a default.
    ("${z/a/$$}", {"z": "abc"}, "$bc"),
    (r"${z/a/\\}", {"z": "abc"}, "\\bc"),
    ("${v:=$$x}", {}, "$$x"),
    # TestExpand: # ## % %% trim by glob; * and ? also match "/".
    ("${f#*.}", {"f": "bash.string.txt"}, "string.txt"),
    ("${f##*.}", {"f": "bash.string.txt"}, "txt"),
    ("${f%.*}", {"f": "bash.string.txt"}, "bash.string"),
    ("${f%%.*}", {"f": "bash.string.txt"}, "bash"),
    ("${f#*/}", {"f": "path/to/file"}, "to/file"),
    ("${f#*/}", {"f": "/path/to/file"}, "path/to/file"),
    ("${f##*/}", {"f": "path/to/file"}, "file"),
    ("${f#[0-9]*}", {"f": "123abc"}, "23abc"),
    # funcs.go reverses the pattern for % and %%: "[0-9]" turns into "]9-0[", which is
    # malformed, so a bracket expression there never trims anything.
    ("${f%%[0-9]*}", {"f": "abc123"}, "abc123"),
    # TestExpand: $${...} is the literal ${...}, outside functions only.
    ("$${v}", {"v": "x"}, "${v}"),
    ("text ${v}$${w$${v}$v${v}", {"v": "X"}, "text X${w${v}$vX"),
    ("a $${w=${d}}", {"d": "foo"}, "a ${w=foo}"),
    # parse_test: $$ is one $ in plain text, and $name without braces is never expanded.
    ("$$name", {"name": "x"}, "$name"),
    ("$HOME and $", {"HOME": "x"}, "$HOME and $"),
    # TestExpand / parse_test: backslashes outside a function are plain text.
    ("\\\\x ${v=${d}}", {"d": "foo"}, "\\\\x foo"),
    (r"\\.\pipe\name", {}, r"\\.\pipe\name"),
    ("}text", {}, "}text"),
    # parse_test: "$" "%" ":" "*" "{" are plain inside a trim pattern.
    ("${v#$%:*{}", {"v": "$%:x{rest"}, "rest"),
    # An undefined variable is empty, as Flux substitutes it when not strict.
    ("a${nope}b", {}, "ab"),
    # funcs.go counts bytes, and maps case one character to one (ß has no capital).
    ("${v}=${#v}", {"v": "é"}, "é=2"),
    ("${v^^}", {"v": "straße"}, "STRAßE"),
    # The scanner reads rune 0 as the end of the input.
    ("a\x00${v}", {"v": "x"}, "a"),
]


@pytest.mark.parametrize(("template", "values", "expected"), EXPANSIONS)
def test_expansion_matches_flux(template: str, values: dict[str, str], expected: str) -> None:
    assert expand(template, values) == expected


SYNTAX_ERRORS = [
    "${}",  # no name
    "${ x}",  # a name cannot start with a space
    "${${x}}",  # nor with a reference
    "${x-d}",  # README lists "-" but the parser does not take it
    "${x+d}",
    "${x",  # unclosed
    "${x:=d",
    "${x:}",  # a substring needs an offset
    "${x#}",  # a trim needs a pattern
    "${x//}",
    "${x^^^}",  # three casing characters
    "${##x}",
    "${x:1:2${y}}",  # nothing may follow the length
]


@pytest.mark.parametrize("template", SYNTAX_ERRORS)
def test_syntax_error_where_flux_fails(template: str) -> None:
    with pytest.raises(SubstitutionSyntaxError):
        expand(template, {"x": "value", "y": "1"})


STRICT = [
    # eval_test TestExpandStrict: a defined variable, even empty, is fine.
    ("${foo}", {"foo": "bar"}, "bar"),
    ("${foo}", {"foo": ""}, ""),
    # TestExpandStrict: default operators handle a missing variable.
    ("${missing:=default}", {}, "default"),
    ("${missing:-fallback}", {}, "fallback"),
    ("${missing=assigned}", {}, "assigned"),
]


@pytest.mark.parametrize(("template", "values", "expected"), STRICT)
def test_strict_mode_accepts(template: str, values: dict[str, str], expected: str) -> None:
    assert expand(template, values, strict=True) == expected


STRICT_FAILURES = [
    # TestExpandStrict: a bare reference, or any operator that reads the value
    # (the regression cases for fluxcd/flux2#5836).
    "${missing}",
    "${#missing}",
    "${missing^}",
    "${missing,,}",
    "${missing:0:10}",
    "${missing/pattern/replacement}",
    "${missing/%pattern/replacement}",
    "${missing##pattern}",
    "${missing%pattern}",
    # template.go evaluates arguments first: a missing variable in an unused default fails.
    "${set:=${missing}}",
]


@pytest.mark.parametrize("template", STRICT_FAILURES)
def test_strict_mode_fails(template: str) -> None:
    with pytest.raises(KeyError):
        expand(template, {"set": "value"}, strict=True)


# --------------------------------------------------------------------------- one object


def configmap(data: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", **metadata}, "data": data}


def test_values_are_substituted_in_the_text_and_read_back() -> None:
    # kustomize_varsub_test TestKustomization_Varsub: a Deployment built with inline and
    # ConfigMap variables, where a ConfigMap value carries its own quotes.
    deployment = load_document(
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "  labels: {tier: '${tier:=dev}', zone: '${zone}'}\n"
        "spec:\n"
        "  template:\n"
        "    metadata:\n"
        "      annotations:\n"
        "        metrics/scrape: '${scrape:=false}'\n"
        "        metrics/port: '${port}'\n"
        "    spec:\n"
        "      containers: [{name: web, image: '${image}'}]\n",
        "deployment.yaml",
    ).data
    variables = {"tier": "prod", "zone": "west-2", "scrape": '"true"', "port": '"9797"', "image": "nginx:1.27"}
    result = substitute(deployment, variables)
    expected = load_document(
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata: {name: web, labels: {tier: prod, zone: west-2}}\n"
        "spec:\n"
        "  template:\n"
        "    metadata:\n"
        "      annotations: {metrics/scrape: 'true', metrics/port: '9797'}\n"
        "    spec:\n"
        "      containers: [{name: web, image: 'nginx:1.27'}]\n",
        "expected.yaml",
    ).data
    assert result.substituted and not result.notes
    assert result.data == expected


def test_a_value_can_change_a_type_or_the_structure() -> None:
    # Flux writes the object out and reads the text back, so a plain ${N} becomes a number
    # and a flow mapping becomes a mapping (docs: "substitution of numbers and booleans").
    result = substitute(configmap({"n": "${N}", "m": "${M}"}), {"N": "3", "M": "{a: 1}"})
    assert result.data["data"] == {"n": 3, "m": {"a": 1}}


def test_the_quote_variable_keeps_a_string() -> None:
    # docs "Post build substitution of numbers and booleans": ${quote}${id}${quote}.
    result = substitute(configmap({"id": "${quote}${id}${quote}"}), {"quote": '"', "id": "123"})
    assert result.data["data"]["id"] == "123"


def test_text_is_read_back_as_yaml_1_1() -> None:
    # sigs.k8s.io/yaml reads the substituted text with go-yaml v2: yes/on/n are booleans
    # there, also as keys (which JSON turns into "true"/"false").
    result = substitute(
        configmap({"a": "${Y}", "b": "${OFF}", "${KEY}": "x", "c": "yes"}), {"Y": "yes", "OFF": "off", "KEY": "on"}
    )
    assert result.data["data"] == {"a": True, "b": False, "true": "x", "c": "yes"}


def test_escaped_reference_stays_literal() -> None:
    result = substitute(configmap({"script": "echo $${HOME} $HOME ${WHO}"}), {"WHO": "me"})
    assert result.data["data"]["script"] == "echo ${HOME} $HOME me"


def test_newlines_are_removed_from_values() -> None:
    # kustomize_varsub.go strips "\n" from every value before substituting.
    result = substitute(configmap({"k": "${V}"}), {"V": "line1\nline2"})
    assert result.data["data"]["k"] == "line1line2"


def test_unknown_values_become_reference_markers() -> None:
    obj = configmap(
        {
            "password": "${DB_PASSWORD}",
            "dsn": "postgres://app:${DB_PASSWORD}@db:5432/app",
            "size": "${#DB_PASSWORD}",
            "fallback": "${DB_PASSWORD:-none}",
            "known": "${HOST}",
        }
    )
    result = substitute(obj, {"DB_PASSWORD": UNKNOWN, "HOST": "db"})
    data = result.data["data"]
    assert result.unknown == {"DB_PASSWORD"}
    assert data["known"] == "db" and not is_unknown(data["known"])
    for key in ("password", "dsn", "size", "fallback"):
        assert is_unknown(data[key]), key
        assert data[key].names == {"DB_PASSWORD"}
    assert data["password"] == "${DB_PASSWORD}"
    assert data["dsn"] == "postgres://app:${DB_PASSWORD}@db:5432/app"
    # The secret classifier reads them as references, never as secrets.
    for key, value in data.items():
        assert not secrets.classify(("data", key), value).is_secret, key
    assert secrets.is_reference(data["password"])


def test_an_unknown_value_stays_a_string_even_as_a_number_or_a_key() -> None:
    result = substitute(configmap({"replicas": "${N}", "${K}": "v"}), {"N": UNKNOWN, "K": UNKNOWN})
    data = result.data["data"]
    assert isinstance(data["replicas"], Unknown) and data["replicas"] == "${N}"
    assert any(is_unknown(key) for key in data)


def test_a_known_default_hides_nothing_and_an_unused_unknown_default_is_still_recorded() -> None:
    result = substitute(configmap({"k": "${SET:=${HIDDEN}}"}), {"SET": "v", "HIDDEN": UNKNOWN})
    assert result.data["data"]["k"] == "v" and not is_unknown(result.data["data"]["k"])
    assert result.unknown == {"HIDDEN"}


def test_undefined_variables_are_empty_and_noted() -> None:
    # docs: undefined ${var} becomes "" unless a default is given. An empty scalar is null.
    result = substitute(configmap({"a": "${MISSING}", "b": "x${MISSING}y", "c": "${OTHER:=d}"}), {"SET": "1"})
    assert result.data["data"] == {"a": None, "b": "xy", "c": "d"}
    assert result.undefined == {"MISSING"}
    assert [(note.kind, note.variable) for note in result.notes] == [(UNDEFINED_VARIABLE, "MISSING")]


def test_strict_mode_fails_the_object_on_an_undefined_variable() -> None:
    # kustomize_varsub_test: with SubstituteWithStrict(true) a missing variable errors.
    obj = configmap({"missing": "${missing}", "env": "${env:=dev}"})
    result = substitute(obj, {"region": "eu"}, strict=True)
    assert result.skipped == SKIP_FAILED and result.data is obj
    assert result.undefined == {"missing"}
    assert substitute(obj, {"region": "eu"}).data["data"] == {"missing": None, "env": "dev"}


def test_strict_mode_accepts_empty_values_and_unknown_ones() -> None:
    # TestKustomization_Varsub_StrictEmptyValues: "" from any source is a defined value.
    obj = configmap({}, labels={"a": "${empty_inline}", "b": "${from_secret}"})
    result = substitute(obj, {"empty_inline": "", "from_secret": UNKNOWN}, strict=True)
    assert not result.failed
    assert result.data["metadata"]["labels"]["a"] is None
    assert is_unknown(result.data["metadata"]["labels"]["b"])


@pytest.mark.parametrize("where", ["labels", "annotations"])
def test_disabled_objects_are_left_alone(where: str) -> None:
    # kustomize_varsub.go: a label or an annotation "disabled" skips the object.
    obj = configmap({"k": "${V}"}, **{where: {SUBSTITUTE_KEY: "disabled"}})
    result = substitute(obj, {"V": "x"})
    assert result.skipped == SKIP_DISABLED and result.data is obj


def test_only_the_exact_disabled_value_counts() -> None:
    obj = configmap({"k": "${V}"}, annotations={SUBSTITUTE_KEY: "Disabled"})
    assert substitute(obj, {"V": "x"}).data["data"]["k"] == "x"


def test_nothing_is_substituted_without_variables() -> None:
    # docs: substitution happens only when at least one variable is defined, so even a
    # default stays literal (TestKustomization_Varsub_Always, "disabled" case).
    obj = configmap({"env": "${env:=dev}"})
    result = substitute(obj, {})
    assert result.skipped == SKIP_NO_VARIABLES and result.data["data"]["env"] == "${env:=dev}"


def test_substitute_strategy_always_substitutes_defaults() -> None:
    # TestKustomization_Varsub_Always, "enabled" case.
    obj = configmap({"env": "${env:=dev}", "region": "${region:=eu-central-1}"})
    variables = variables_for({"spec": {"postBuild": {"substituteStrategy": "Always"}}}, {}, set())
    assert variables.runs and not variables
    assert substitute(obj, variables).data["data"] == {"env": "dev", "region": "eu-central-1"}


def test_an_invalid_variable_name_fails_every_object() -> None:
    # varSubstitution validates every name before substituting.
    result = substitute(configmap({"k": "plain"}), {"ok": "1", "app.conf": "x"})
    assert result.failed
    assert [(note.kind, note.variable) for note in result.notes] == [(INVALID_NAME, "app.conf")]


def test_a_syntax_error_is_a_note_not_an_exception() -> None:
    result = substitute(configmap({"k": "${x-y}"}), {"x": "1"})
    assert result.failed and [note.kind for note in result.notes] == [SYNTAX_ERROR]


def test_a_value_that_breaks_the_yaml_is_a_note_not_an_exception() -> None:
    result = substitute(configmap({"k": "${V}"}), {"V": "a: b: c"})
    assert result.failed and [note.kind for note in result.notes] == [INVALID_YAML]
    assert "a: b: c" not in result.notes[0].message


def test_an_object_without_references_is_returned_as_is() -> None:
    obj = configmap({"k": "v"})
    result = substitute(obj, {"V": "x"})
    assert result.substituted and result.data is obj


# --------------------------------------------------------------------------- a Kustomization's variables


def kustomization(post_build: Any, namespace: str | None = "apps") -> dict[str, Any]:
    metadata = {"name": "app"} if namespace is None else {"name": "app", "namespace": namespace}
    return {"kind": "Kustomization", "metadata": metadata, "spec": {"postBuild": post_build}}


def test_precedence_later_sources_then_inline_values_win() -> None:
    # docs: inline substitute wins over substituteFrom, and a later source overwrites an
    # earlier one (LoadVariables fills the map in order, then the inline values).
    ks = kustomization(
        {
            "substitute": {"a": "inline"},
            "substituteFrom": [{"kind": "ConfigMap", "name": "first"}, {"kind": "ConfigMap", "name": "second"}],
        }
    )
    maps = {("apps", "first"): {"a": "first", "b": "first", "c": "first"}, ("apps", "second"): {"b": "second"}}
    variables = variables_for(ks, maps, set())
    assert dict(variables) == {"a": "inline", "b": "second", "c": "first"}
    assert variables.origins["b"] == "ConfigMap/apps/second"
    assert not variables.notes


def test_secret_values_are_unknown() -> None:
    ks = kustomization({"substituteFrom": [{"kind": "Secret", "name": "creds"}]})
    variables = variables_for(ks, {}, {("apps", "creds"): ["DB_PASSWORD"]})
    assert dict(variables) == {"DB_PASSWORD": UNKNOWN}
    result = substitute(configmap({"k": "${DB_PASSWORD}", "u": "${UNSET}"}), variables)
    assert is_unknown(result.data["data"]["k"]) and result.undefined == {"UNSET"}


def test_a_secret_with_unlisted_keys_may_define_or_override_anything() -> None:
    ks = kustomization(
        {
            "substitute": {"inline": "kept"},
            "substituteFrom": [
                {"kind": "ConfigMap", "name": "before"},
                {"kind": "Secret", "name": "creds"},
                {"kind": "ConfigMap", "name": "after"},
            ],
        }
    )
    maps = {("apps", "before"): {"early": "1"}, ("apps", "after"): {"late": "2"}}
    variables = variables_for(ks, maps, {("apps", "creds")})
    assert dict(variables) == {"early": UNKNOWN, "late": "2", "inline": "kept"}
    assert variables.opaque == ("Secret/apps/creds",)
    data = substitute(configmap({"a": "${early}", "b": "${late}", "c": "${anything}"}), variables).data["data"]
    assert is_unknown(data["a"]) and data["b"] == 2 and is_unknown(data["c"])


def test_a_missing_optional_source_is_ignored() -> None:
    # docs: optional: true treats an absent source as present but empty.
    ks = kustomization(
        {"substitute": {"a": "1"}, "substituteFrom": [{"kind": "ConfigMap", "name": "gone", "optional": True}]}
    )
    variables = variables_for(ks, {}, set())
    assert dict(variables) == {"a": "1"} and not variables.notes and not variables.opaque


def test_a_missing_required_source_is_a_note_and_its_values_unknown() -> None:
    ks = kustomization({"substituteFrom": [{"kind": "ConfigMap", "name": "gone"}, {"kind": "Secret", "name": "nope"}]})
    variables = variables_for(ks, {}, set())
    assert [note.kind for note in variables.notes] == [MISSING_SOURCE, MISSING_SOURCE]
    assert variables.runs
    assert is_unknown(substitute(configmap({"k": "${V}"}), variables).data["data"]["k"])


def test_sources_are_read_in_the_kustomization_namespace() -> None:
    ks = kustomization({"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}, namespace="flux-system")
    maps = {("apps", "vars"): {"a": "wrong"}, ("flux-system", "vars"): {"a": "right"}}
    assert dict(variables_for(ks, maps, set())) == {"a": "right"}
    assert dict(variables_for(ks, maps, set(), namespace="apps")) == {"a": "wrong"}


def test_without_post_build_nothing_runs() -> None:
    # kustomize-controller calls SubstituteVariables only when spec.postBuild is set.
    variables = variables_for({"kind": "Kustomization", "spec": {}}, {}, set())
    assert isinstance(variables, Variables) and not variables.runs
    assert substitute(configmap({"k": "${V:=x}"}), variables).skipped == SKIP_NO_VARIABLES
    assert not variables_for(kustomization({}), {}, set()).runs


def test_configmap_values_lose_newlines_and_bad_names_are_noted() -> None:
    ks = kustomization({"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}], "substitute": {"n": 3}})
    maps = {("apps", "vars"): {"good": "a\nb", "app.conf": "x=1"}}
    variables = variables_for(ks, maps, set())
    assert variables["good"] == "ab"
    kinds = sorted((note.kind, note.variable) for note in variables.notes)
    assert kinds == [(INVALID_NAME, "app.conf"), (NOT_A_STRING, "n")]
    assert substitute(configmap({"k": "${good}"}), variables).failed


def test_notes_never_carry_values() -> None:
    canary = "s3cr3t-canary-value"
    ks = kustomization(
        {"substitute": {"bad-name": canary, "n": 3}, "substituteFrom": [{"kind": "Secret", "name": "x"}]}
    )
    variables = variables_for(ks, {}, set())
    result = substitute(configmap({"k": "${V}: ${bad}"}), {"V": canary, "bad": "{"})
    for note in (*variables.notes, *result.notes):
        assert canary not in note.message


# --------------------------------------------------------------------------- hostile input

HOSTILE = {
    "nested-openers": "${" * 50_000,
    "dollar-openers": "${${${" * 16_000,
    "dollars": "$" * 100_000,
    "escapes": "$$" * 50_000 + "${V}",
    "deep-defaults": "${V:=" * 20_000 + "}" * 20_000,
    "open-replacements": "${V/" * 25_000,
    "escaped-slashes": "${V/" + "\\/" * 50_000 + "/x}",
    "many-references": "${V}." * 20_000,
    "long-glob": "${LONG##" + "*?" * 50_000 + "}",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_takes_linear_time(text: str) -> None:
    """A hang guard, not a speed target: each input is about 100k characters, and a
    quadratic parser or matcher would take minutes on it; the bound is generous."""
    started = time.perf_counter()
    result = substitute(configmap({"k": text}), {"V": "value", "LONG": "ab" * 5_000})
    assert time.perf_counter() - started < 5
    assert result.failed or result.substituted
