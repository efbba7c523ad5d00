"""Render errors of the Argo CD target: ``helm.valuesObject`` cannot read a
Secret, so a spec taking values from one is refused (exit 2, naming the spec
and why) instead of rendering a plaintext value; and the target needs the Git
URL its root application reads."""

from __future__ import annotations

from pathlib import Path

from argo_stack import set_config
from conftest import RunRail

GITEA = "releases/s5/gitea.yaml"
VALUES_FROM = """valuesFrom:
  - kind: Secret
    name: gitea-platform-credentials
    valuesKey: database-password
    targetPath: gitea.config.database.PASSWD
"""


def add_values_from(stack: Path) -> None:
    path = stack / GITEA
    path.write_text(path.read_text(encoding="utf-8") + VALUES_FROM, encoding="utf-8")


def test_values_from_a_secret_is_an_argo_render_error(stack_copy: Path, run_rail: RunRail) -> None:
    add_values_from(stack_copy)
    before = {path: path.read_bytes() for path in sorted((stack_copy / "rendered").rglob("*")) if path.is_file()}

    result = run_rail("render", "--target", "argo", cwd=stack_copy)

    assert result.returncode == 2, result.stdout + result.stderr
    line = (stack_copy / GITEA).read_text(encoding="utf-8").splitlines().index("valuesFrom:") + 1
    assert f"{GITEA}:{line}:" in result.stderr, "the error points at the spec's valuesFrom"
    assert "valuesFrom" in result.stderr and "valuesObject cannot read" in result.stderr
    assert "existingSecret" in result.stderr  # what to do instead
    assert "Traceback" not in result.stderr
    after = {path: path.read_bytes() for path in sorted((stack_copy / "rendered").rglob("*")) if path.is_file()}
    assert after == before, "a refused render must leave rendered/ as it was"


def test_the_same_spec_still_renders_for_flux(stack_copy: Path, run_rail: RunRail) -> None:
    add_values_from(stack_copy)

    result = run_rail("render", "--target", "flux", cwd=stack_copy)

    assert result.returncode == 0, result.stderr
    release = (stack_copy / "rendered/flux/s5-apps/helmrelease-gitea.yaml").read_text(encoding="utf-8")
    assert "valuesFrom:" in release and "targetPath: gitea.config.database.PASSWD" in release


def test_all_targets_refuse_it_too(stack_copy: Path, run_rail: RunRail) -> None:
    add_values_from(stack_copy)

    result = run_rail("render", "--target", "all", cwd=stack_copy)

    assert result.returncode == 2
    assert GITEA in result.stderr


def test_argo_target_without_repo_url_is_an_input_error(stack_copy: Path, run_rail: RunRail) -> None:
    """A stack that renders only Flux, asked for --target argo: rail.yaml lacks argo.repoURL."""
    set_config(stack_copy, "targets: [flux, argo]", "targets: [flux]")
    set_config(stack_copy, "  repoURL: https://git.example.com/railiance/platform.git\n", "")

    result = run_rail("render", "--target", "argo", cwd=stack_copy)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "rail.yaml" in result.stderr and "argo.repoURL" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_rail("render", "--target", "flux", cwd=stack_copy).returncode == 0


def test_argo_in_targets_without_repo_url_is_an_input_error(stack_copy: Path, run_rail: RunRail) -> None:
    set_config(stack_copy, "  repoURL: https://git.example.com/railiance/platform.git\n", "")

    result = run_rail("render", cwd=stack_copy)

    assert result.returncode == 2
    assert "rail.yaml" in result.stderr and "argo.repoURL" in result.stderr
