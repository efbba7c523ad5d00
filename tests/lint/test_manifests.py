"""Reading other people's files (renderer.lint.manifests): a Helm chart's templates are
skipped, a file of template syntax is told apart from one with a YAML mistake, and a file
that cannot be read is kept as data for the rule yaml-syntax, never raised."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from renderer.lint.manifests import ForeignFiles, is_template, yaml_files


@pytest.mark.parametrize(
    ("text", "template"),
    [
        ('metadata:\n  name: {{ include "web.fullname" . }}\n', True),
        ('  labels:\n    {{- include "web.labels" . | nindent 4 }}\n', True),
        ("{{- if .Values.enabled }}\nkind: Service\n{{- end }}\n", True),
        ("data:\n{% for k, v in items %}\n  {{ k }}: {{ v }}\n{% endfor %}\n", True),
        ("args:\n  - {{ .Values.flag }}\n", True),
        ("{#- a Jinja comment #}\nkind: ConfigMap\n", True),
        # Valid YAML that happens to hold template text, and plain mistakes: not templates.
        ("metadata:\n  name: '{{path.basename}}'\n", False),
        ("image: repo:{{ .tag }}\n", False),
        ("data: {a: 1}\n", False),
        ('password: "unclosed\n', False),
        ("url: http://example.com: 8080\n", False),
    ],
)
def test_template_syntax_is_told_apart_from_a_yaml_mistake(text: str, template: bool) -> None:
    assert is_template(text) is template


@pytest.mark.parametrize("line", ["- " * 2_500_000 + "x", ": " * 2_500_000, " " * 5_000_000 + "{"])
def test_telling_a_template_apart_takes_linear_time(line: str) -> None:
    started = time.monotonic()
    is_template(line)
    assert time.monotonic() - started < 2


def test_a_charts_templates_folder_is_not_walked(tmp_path: Path) -> None:
    for relative in (
        "app/Chart.yaml",
        "app/values.yaml",
        "app/templates/deploy.yaml",
        "app/crds/crd.yaml",
        "app/charts/sub/Chart.yaml",
        "app/charts/sub/templates/sts.yaml",
        "plain/templates/cm.yaml",  # no Chart.yaml beside it: read
        "node_modules/x.yaml",
    ):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("a: 1\n")
    charts: list[str] = []
    found = [display for _, display in yaml_files(tmp_path, [tmp_path], charts)]
    assert found == [
        "app/Chart.yaml",
        "app/charts/sub/Chart.yaml",
        "app/crds/crd.yaml",
        "app/values.yaml",
        "plain/templates/cm.yaml",
    ]
    assert charts == ["app", "app/charts/sub"]
    # A template named itself is read.
    named = tmp_path / "app" / "templates" / "deploy.yaml"
    assert [display for _, display in yaml_files(tmp_path, [named])] == ["app/templates/deploy.yaml"]


def test_what_cannot_be_read_is_kept_as_data(tmp_path: Path) -> None:
    files = {
        "good.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "broken.yaml": "a: [1, 2\n",
        "latin1.yaml": b"a: caf\xe9\n",
        "template.yaml": "name: {{ .Values.name }}\nlabels: {{ x }}: y\n",
    }
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    foreign = ForeignFiles()
    foreign.read_paths(tmp_path, [tmp_path])
    assert [manifest.path for manifest in foreign.manifests] == ["good.yaml"]
    assert [(problem.path, problem.line) for problem in foreign.unreadable] == [
        ("broken.yaml", 2),
        ("latin1.yaml", None),
    ]
    assert foreign.templates == ["template.yaml"]
    assert foreign.notes() == [".: 1 file(s) of template syntax ({{ }} or {% %}), not YAML: not linted"]
    foreign.read_content(b"a: [\n", "git/broken.yaml")
    assert foreign.unreadable[-1].path == "git/broken.yaml"


def _read_both(folder: Path, cwd: Path) -> tuple[Any, Any]:
    from renderer.apply.walk import walk_repository
    from renderer.lint.manifests import ForeignFiles, display_path

    def summary(files: ForeignFiles) -> Any:
        return (
            [(m.path, m.data, m.origin) for m in files.manifests],
            [(p.path, p.line, p.message) for p in files.unreadable],
            files.notes(),
        )

    as_read, as_walked = ForeignFiles(), ForeignFiles()
    as_read.read_paths(cwd, [folder])
    as_walked.read_walked(folder, display_path(cwd, folder), walk_repository(folder.resolve()))
    return summary(as_read), summary(as_walked)


@pytest.mark.parametrize("case", ["flux/tree", "argo/tree", "kustomize", "lint/yaml-syntax"])
def test_reading_what_the_apply_model_walked_equals_reading_the_files(case: str) -> None:
    # The apply model's walk is reused for the left-out count: it must see the same files.
    cases = Path(__file__).resolve().parents[1] / "cases"
    read, walked = _read_both(cases / case, cases)
    assert walked == read


def test_reading_what_was_walked_on_the_real_repositories(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus-train"
    for repository in sorted(p for p in corpus.iterdir() if p.is_dir()):
        read, walked = _read_both(repository, corpus)
        assert walked == read, repository.name
