"""Template failures are input errors at the template's line, never crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.app import run_render
from renderer.errors import InputError


def test_a_template_meeting_an_unexpected_type_names_its_line(stack_copy: Path) -> None:
    template = stack_copy / "templates/flux/helmrelease.yaml.j2"
    lines = template.read_text().splitlines()
    lines.insert(0, "{% if values.get('architecture', 0) < 3 %}{% endif %}")
    template.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as raised:
        run_render(stack_copy, "all", check=True)
    (problem,) = raised.value.problems
    assert problem.path == "templates/flux/helmrelease.yaml.j2" and problem.line == 1
    assert "standalone" not in problem.format(), "the value itself is not quoted"


def test_a_quoted_replica_count_renders(stack_copy: Path) -> None:
    spec = stack_copy / "releases/s3/postgresql-ha.yaml"
    spec.write_text(spec.read_text().replace("    replicaCount: 3", '    replicaCount: "3"'))
    run_render(stack_copy, "all", check=False)
    assert 'replicaCount: "3"' in (stack_copy / "rendered/flux/s3-platform/helmrelease-postgresql-ha.yaml").read_text()


def test_a_mapping_spliced_into_a_string_is_refused(stack_copy: Path) -> None:
    template = stack_copy / "templates/flux/namespace.yaml.j2"
    if not template.exists():
        template = stack_copy / "templates/common/namespace.yaml.j2"
    template.write_text(template.read_text().replace("name: {{ name | tojson }}", "name: ns-{{ labels | tojson }}"))
    with pytest.raises(InputError) as raised:
        run_render(stack_copy, "flux", check=True)
    assert "inside a string" in raised.value.problems[0].message
