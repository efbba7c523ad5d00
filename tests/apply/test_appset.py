"""Argo CD ApplicationSet expansion (renderer.apply.appset) and its Go templates.

The cases under ``tests/cases/appset/<case>/`` follow the examples of Argo CD's
ApplicationSet documentation: ``appset.yaml`` (the ApplicationSet), optional
``clusters.yaml`` (cluster Secrets) and ``repo/`` (the repository the git generator
reads), and ``expected.yaml``: the generated Applications (name, project,
destination, source; namespace and labels where given), the notes (feature and a
part of the message), and ``this_repo_urls`` when the case names the repository.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from renderer.apply.appset import (
    MAX_APPLICATIONS,
    Expansion,
    RepoView,
    expand,
    render_fasttemplate,
)
from renderer.apply.gotemplate import TemplateError, Unsupported, go_float, parse, sanitize_name
from renderer.yamlio import load_document, load_documents

CASES = Path(__file__).resolve().parent.parent / "cases" / "appset"
CASE_NAMES = sorted(path.name for path in CASES.iterdir() if (path / "appset.yaml").is_file())


def _run_case(folder: Path, tmp_path: Path) -> tuple[Expansion, dict[str, Any]]:
    text = (folder / "appset.yaml").read_text(encoding="utf-8")
    document = load_document(text, "appset.yaml")
    clusters: list[Any] = []
    if (folder / "clusters.yaml").is_file():
        clusters = [
            d.data
            for d in load_documents((folder / "clusters.yaml").read_text(encoding="utf-8"), "clusters.yaml")
            if d.data is not None
        ]
    expected = load_document((folder / "expected.yaml").read_text(encoding="utf-8"), "expected.yaml").data
    root = folder / "repo" if (folder / "repo").is_dir() else tmp_path
    line = document.locate(("spec", "template"))[0] or 1
    expansion = expand(
        document.data,
        RepoView(root),
        clusters,
        source="appset.yaml",
        line=line,
        document=document,
        this_repo_urls=expected.get("this_repo_urls"),
    )
    return expansion, expected


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case(case: str, tmp_path: Path) -> None:
    expansion, expected = _run_case(CASES / case, tmp_path)
    got = []
    for app in expansion.applications:
        metadata = app.data["metadata"]
        spec = app.data["spec"]
        got.append(
            {
                "name": metadata.get("name"),
                "namespace": metadata.get("namespace"),
                "labels": metadata.get("labels"),
                "project": spec.get("project"),
                "destination": spec.get("destination"),
                "source": spec.get("source"),
            }
        )
    want = [
        {
            "name": item["name"],
            "namespace": item.get("namespace"),
            "labels": item.get("labels"),
            "project": item["project"],
            "destination": item["destination"],
            "source": item["source"],
        }
        for item in expected["applications"]
    ]
    assert got == want
    notes = [(note.feature, note.message) for note in expansion.notes]
    assert len(notes) == len(expected["notes"]), notes
    for (feature, message), want_note in zip(notes, expected["notes"], strict=True):
        assert feature == want_note["feature"], notes
        assert want_note["contains"] in message, notes
    for app in expansion.applications:
        assert app.data["apiVersion"] == "argoproj.io/v1alpha1"
        assert app.data["kind"] == "Application"
        assert app.source == "appset.yaml"


# --------------------------------------------------------------------------- helpers


def _appset(generators: list[Any], template: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "set", "namespace": "argocd"},
        "spec": {
            "generators": generators,
            "template": template
            or {
                "metadata": {"name": "{{name}}"},
                "spec": {
                    "project": "default",
                    "source": {"repoURL": "https://example.com/r.git", "path": "{{path}}"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "{{name}}"},
                },
            },
            **spec,
        },
    }


def _expand(appset: dict[str, Any], root: Path, **options: Any) -> Expansion:
    return expand(appset, RepoView(root), options.pop("clusters", []), source="set.yaml", line=7, **options)


def _names(expansion: Expansion) -> list[str]:
    return [app.name for app in expansion.applications]


# --------------------------------------------------------------------------- positions


def test_fields_point_at_the_template_that_wrote_them(tmp_path: Path) -> None:
    text = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: set
spec:
  generators:
    - list:
        elements:
          - name: a
        template:
          metadata: {}
          spec:
            project: override
  template:
    metadata:
      name: '{{name}}'
    spec:
      project: default
      destination:
        namespace: '{{name}}'
"""
    document = load_document(text, "apps/set.yaml")
    expansion = expand(document.data, RepoView(tmp_path), [], source="apps/set.yaml", line=14, document=document)
    (app,) = expansion.applications
    assert app.data["spec"]["project"] == "override"
    assert app.locate(("spec", "project")).line == 13
    assert app.locate(("spec", "destination", "namespace")).line == 20
    assert app.locate(("metadata", "name")).line == 16
    assert app.locate(("spec", "project")).path == "apps/set.yaml"
    assert app.generator == ("spec", "generators", 0)
    assert app.as_applied().name == "a"


def test_without_a_document_every_field_is_the_template_line(tmp_path: Path) -> None:
    expansion = _expand(_appset([{"list": {"elements": [{"name": "a", "path": "p"}]}}]), tmp_path)
    (app,) = expansion.applications
    location = app.locate(("spec", "source", "path"))
    assert (location.path, location.line) == ("set.yaml", 7)


# --------------------------------------------------------------------------- hostile input


def test_parameter_values_are_never_templates_again(tmp_path: Path) -> None:
    elements = [{"name": "{{path}}", "path": "real"}]
    expansion = _expand(_appset([{"list": {"elements": elements}}]), tmp_path)
    assert _names(expansion) == ["{{path}}"]
    assert expansion.applications[0].data["spec"]["source"]["path"] == "real"
    go = _appset(
        [{"list": {"elements": [{"name": "{{ .path }}", "path": "real"}]}}],
        {"metadata": {"name": "{{ .name }}"}, "spec": {"project": "{{ .path }}"}},
        goTemplate=True,
    )
    expansion = _expand(go, tmp_path)
    assert _names(expansion) == ["{{ .path }}"]
    assert expansion.applications[0].data["spec"]["project"] == "real"


def test_a_matrix_past_the_limit_is_noted_and_not_expanded(tmp_path: Path) -> None:
    side = int(MAX_APPLICATIONS**0.5) + 2
    first = {"list": {"elements": [{"a": str(i)} for i in range(side)]}}
    second = {"list": {"elements": [{"name": str(i)} for i in range(side)]}}
    expansion = _expand(_appset([{"matrix": {"generators": [first, second]}}]), tmp_path)
    assert expansion.applications == ()
    assert [n.feature for n in expansion.notes] == ["appset-limit"]


def test_git_files_that_link_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text('{"name": "stolen"}', encoding="utf-8")
    repo = tmp_path / "repo"
    (repo / "envs" / "dev").mkdir(parents=True)
    (repo / "envs" / "dev" / "config.json").write_text('{"name": "dev"}', encoding="utf-8")
    os.symlink(outside / "config.json", repo / "envs" / "link.json")
    os.symlink(outside, repo / "linked-folder")
    appset = _appset([{"git": {"repoURL": "https://example.com/r.git", "files": [{"path": "**.json"}]}}])
    expansion = _expand(appset, repo, this_repo_urls=["https://example.com/r"])
    assert _names(expansion) == ["dev"]
    assert [n.feature for n in expansion.notes] == ["path-traversal"]
    assert "envs/link.json" in expansion.notes[0].message
    # a symlinked folder is neither listed nor walked
    assert "linked-folder" not in RepoView(repo).directories()
    assert not any(f.startswith("linked-folder/") for f in RepoView(repo).files())


def test_garbage_never_crashes(tmp_path: Path) -> None:
    rng = random.Random(12)
    alphabet = ["{{", "}}", "{{-", "-}}", ".", "a", "|", "(", ")", '"', "$", ":=", "if", "end", " ", "range", "else"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        template = {"metadata": {"name": "x"}, "spec": {"project": text}}
        for go in (True, False):
            appset = _appset([{"list": {"elements": [{"a": {"b": "c"}, "name": "n"}]}}], template, goTemplate=go)
            _expand(appset, tmp_path)
    weird: list[Any] = [None, 3, "x", [], {"spec": None}, {"spec": {"generators": "x", "template": {}}}]
    for appset in weird:
        expansion = expand(
            appset if isinstance(appset, dict) else {"spec": appset}, RepoView(tmp_path), [], source="s", line=1
        )
        assert expansion.applications == ()


# --------------------------------------------------------------------------- generators


def test_git_generator_of_another_repository_is_not_expanded(tmp_path: Path) -> None:
    (tmp_path / "apps" / "a").mkdir(parents=True)
    appset = _appset([{"git": {"repoURL": "https://github.com/other/repo", "directories": [{"path": "apps/*"}]}}])
    expansion = _expand(appset, tmp_path, this_repo_urls=["git@github.com:me/repo.git"])
    assert expansion.applications == ()
    assert "another repository" in expansion.notes[0].message
    unknown = _expand(appset, tmp_path)
    assert [app.data["spec"]["source"]["path"] for app in unknown.applications] == ["apps/a"]
    assert "taken to be this repository" in unknown.notes[0].message


def test_git_directories_in_go_template_mode(tmp_path: Path) -> None:
    (tmp_path / "apps" / "My_App").mkdir(parents=True)
    template = {
        "metadata": {"name": "{{ .path.basenameNormalized }}"},
        "spec": {"project": "{{ .path.path }}|{{ index .path.segments 0 }}|{{ len .path.segments }}"},
    }
    appset = _appset([{"git": {"repoURL": "x", "directories": [{"path": "apps/*"}]}}], template, goTemplate=True)
    (app,) = _expand(appset, tmp_path, this_repo_urls=["x"]).applications
    assert app.name == "my-app"
    assert app.data["spec"]["project"] == "apps/My_App|apps|2"


def test_unsupported_template_construct_skips_that_application(tmp_path: Path) -> None:
    template = {"metadata": {"name": "{{ .name }}"}, "spec": {"project": '{{ fromYaml "a: b" }}'}}
    appset = _appset([{"list": {"elements": [{"name": "a"}]}}], template, goTemplate=True)
    expansion = _expand(appset, tmp_path)
    assert expansion.applications == ()
    assert [n.feature for n in expansion.notes] == ["appset-unsupported"]


def test_template_patch_and_duplicate_names_are_noted(tmp_path: Path) -> None:
    appset = _appset([{"list": {"elements": [{"name": "a"}, {"name": "a"}]}}], templatePatch="spec: {}")
    expansion = _expand(appset, tmp_path)
    assert _names(expansion) == ["a"]
    assert [n.feature for n in expansion.notes] == ["templatePatch", "appset-duplicate"]


def test_applications_live_in_the_applicationsets_namespace(tmp_path: Path) -> None:
    template = {"metadata": {"name": "{{name}}", "namespace": "elsewhere"}, "spec": {"project": "p"}}
    appset = _appset([{"list": {"elements": [{"name": "a"}]}}], template)
    assert _expand(appset, tmp_path).applications[0].data["metadata"]["namespace"] == "argocd"
    del appset["metadata"]["namespace"]
    assert "namespace" not in _expand(appset, tmp_path).applications[0].data["metadata"]


def test_post_selector_filters_parameters(tmp_path: Path) -> None:
    generator = {
        "list": {"elements": [{"name": "a", "env": "staging"}, {"name": "b", "env": "prod"}]},
        "selector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["staging"]}]},
    }
    assert _names(_expand(_appset([generator]), tmp_path)) == ["a"]


def test_list_values_must_be_strings_without_go_templates(tmp_path: Path) -> None:
    expansion = _expand(_appset([{"list": {"elements": [{"name": "a", "replicas": 3}]}}]), tmp_path)
    assert expansion.applications == ()
    assert "not a string" in expansion.notes[0].message


def test_matrix_needs_two_generators_and_refuses_conflicting_parameters(tmp_path: Path) -> None:
    one = {"list": {"elements": [{"name": "a"}]}}
    other = {"list": {"elements": [{"name": "b"}]}}
    expansion = _expand(_appset([{"matrix": {"generators": [one]}}]), tmp_path)
    assert "exactly two" in expansion.notes[0].message
    expansion = _expand(_appset([{"matrix": {"generators": [one, other]}}]), tmp_path)
    assert "different values" in expansion.notes[0].message


def test_elements_yaml(tmp_path: Path) -> None:
    appset = _appset(
        [{"list": {"elementsYaml": "- name: a\n- name: b\n"}}],
        {"metadata": {"name": "{{ .name }}"}, "spec": {"project": "p"}},
        goTemplate=True,
    )
    assert _names(_expand(appset, tmp_path)) == ["a", "b"]


# --------------------------------------------------------------------------- templates


def test_fasttemplate() -> None:
    params = {"a": "1", "b.c": "2", "n": "x"}
    assert render_fasttemplate("{{a}}-{{ b.c }}-{{missing}}-{{ }}", params) == "1-2-{{missing}}-{{ }}"
    assert render_fasttemplate("no tags {{a", params) == "no tags {{a"  # no {{...}} on a line
    assert render_fasttemplate("{{a\n}}", params) == "{{a\n}}"
    with pytest.raises(TemplateError):
        render_fasttemplate("{{a}} {{b", params)


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("{{ .a.b }}", {"a": {"b": "x"}}, "x"),
        ("{{ .missing }}", {}, "<no value>"),
        ("{{- .a -}} ", {"a": "t"}, "t"),
        ("x {{- /* note */ -}} y", {}, "xy"),
        ('{{ .a | default "d" }}', {"a": ""}, "d"),
        ('{{ replace "_" "-" .a | lower | trunc 5 }}', {"a": "Ab_Cd_Ef"}, "ab-cd"),
        ("{{ .a | quote }} {{ toJson .m }}", {"a": 'q"', "m": {"k": [1.0, True]}}, '"q\\"" {"k":[1,true]}'),
        ("{{ if and .a (not .b) }}yes{{ else }}no{{ end }}", {"a": 1.0, "b": ""}, "yes"),
        ("{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}", {"m": {"b": "2", "a": "1"}}, "a=1;b=2;"),
        ("{{ range .l }}[{{ . }}]{{ else }}none{{ end }}", {"l": []}, "none"),
        ("{{ with .a }}{{ .b }}{{ end }}", {"a": {"b": "in"}}, "in"),
        ('{{ $x := "v" }}{{ $x }}{{ $x = "w" }}{{ $x }}', {}, "vw"),
        ('{{ printf "%s-%05d-%v" .a 42 .f }}', {"a": "p", "f": 2.5}, "p-00042-2.5"),
        ("{{ .n }} {{ .big }}", {"n": 3.0, "big": 1e6}, "3 1e+06"),
        ('{{ index .m "k" }} {{ index .l 1 }}', {"m": {"k": "v"}, "l": ["a", "b"]}, "v b"),
        ('{{ normalize "My_Cluster.Example" }}', {}, "my-cluster.example"),
        ('{{ upper (trimPrefix "x-" .a) }}', {"a": "x-yz"}, "YZ"),
        ('{{ if eq .a "x" "y" }}in{{ end }}', {"a": "y"}, "in"),
        ('{{ splitList "/" .p | last }}', {"p": "a/b/c"}, "c"),
        ('{{ ternary "on" "off" .t }}', {"t": True}, "on"),
    ],
)
def test_go_templates(template: str, data: dict[str, Any], expected: str) -> None:
    assert parse(template).execute(data) == expected


@pytest.mark.parametrize(
    "template",
    ["{{ if .a }}", "{{ end }}", "{{ .a ", "{{ (.a }}", "{{ | x }}", "{{ .a.b }}", "{{ index .l 5 }}"],
)
def test_go_template_errors(template: str) -> None:
    with pytest.raises(TemplateError):
        parse(template).execute({"a": None, "l": []})


def test_missingkey_error() -> None:
    assert parse("{{ .a.b }}").execute({}) == "<no value>"
    with pytest.raises(TemplateError, match='no entry for key "a"'):
        parse("{{ .a.b }}").execute({}, missing_key_error=True)


@pytest.mark.parametrize("template", ['{{ template "x" }}', '{{ define "x" }}{{ end }}', "{{ fromYaml .a }}"])
def test_go_template_unsupported(template: str) -> None:
    with pytest.raises(Unsupported):
        parse(template)


def test_go_template_budget() -> None:
    with pytest.raises(TemplateError, match=r"steps|output"):
        parse("{{ range .l }}{{ range $.l }}{{ range $.l }}xxxxxxxxxx{{ end }}{{ end }}{{ end }}").execute(
            {"l": list(range(200))}
        )


def test_helpers() -> None:
    assert sanitize_name("-My_Cluster.") == "my-cluster"
    assert [go_float(v) for v in (3.0, 1.5, 123456.0, 1234567.0, 0.0001, 0.00001)] == [
        "3",
        "1.5",
        "123456",
        "1.234567e+06",
        "0.0001",
        "1e-05",
    ]


def test_a_failing_template_never_quotes_a_parameter_value(tmp_path: Path) -> None:
    secret = "Tr0ub4dor-horse-battery-staple"
    go = _appset(
        [{"list": {"elements": [{"name": "app", "token": secret}]}}],
        {
            "metadata": {"name": "{{ .name }}"},
            "spec": {"project": "{{ atoi .token }}", "info": "{{ range .token }}x{{ end }}"},
        },
        goTemplate=True,
    )
    expansion = _expand(go, tmp_path)
    assert expansion.applications == ()
    assert expansion.notes
    assert not [note for note in expansion.notes if secret in note.message]
