"""The ``rail`` command as users run it: exit codes, ``render --check`` reports,
ownership of rendered/, and finding the stack from anywhere inside it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderer import __version__

S3 = "rendered/flux/s3-platform"
S5 = "rendered/flux/s5-apps"

Snapshot = Callable[[Path], dict[str, bytes]]


def check(run_rail: Any, root: Path, snapshot: Snapshot) -> tuple[int, list[str]]:
    """``rail render --check``: its exit code and output lines; asserts it wrote nothing."""
    before = snapshot(root)
    result = run_rail("render", "--check", cwd=root)
    assert "Traceback" not in result.stdout + result.stderr
    assert snapshot(root) == before, "render --check changed files"
    return result.returncode, result.stdout.splitlines()


def test_check_passes_on_the_shipped_stack(stack_copy: Path, run_rail: Any, snapshot: Snapshot) -> None:
    code, lines = check(run_rail, stack_copy, snapshot)
    assert code == 0, lines
    assert lines[-1].startswith("rendered output is up to date")


def test_check_reports_a_missing_file(stack_copy: Path, run_rail: Any, snapshot: Snapshot) -> None:
    (stack_copy / S3 / "helmrelease-valkey.yaml").unlink()
    code, lines = check(run_rail, stack_copy, snapshot)
    assert code == 1
    assert lines[:-1] == [f"missing: {S3}/helmrelease-valkey.yaml"]
    assert "run `rail render`" in lines[-1]


def test_check_reports_a_stale_file(stack_copy: Path, run_rail: Any, snapshot: Snapshot) -> None:
    with (stack_copy / S3 / "helmrelease-valkey.yaml").open("a", encoding="utf-8") as stream:
        stream.write("# edited by hand\n")
    code, lines = check(run_rail, stack_copy, snapshot)
    assert code == 1
    assert lines[:-1] == [f"stale: {S3}/helmrelease-valkey.yaml"]


def test_foreign_files_are_reported_and_kept_obsolete_ones_removed(
    stack_copy: Path, run_rail: Any, snapshot: Snapshot
) -> None:
    foreign = stack_copy / S3 / "notes.yaml"
    foreign.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n", encoding="utf-8")
    spec = stack_copy / "releases" / "s5" / "gitea.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("\nname: gitea\n", "\nname: forge\n"), encoding="utf-8")
    old_job = next((stack_copy / S3).glob("job-db-claim-gitea-*.yaml")).name

    code, lines = check(run_rail, stack_copy, snapshot)
    assert code == 1
    # The generated docs name their consumers, so they may go stale as well; the Argo
    # output follows the same rename (checked in the Argo tests). The claimant's database
    # bootstrap Job is renamed with it (its name carries the claimant's).
    new_job = [line for line in lines if line.startswith(f"missing: {S3}/job-db-claim-forge-")]
    assert len(new_job) == 1, lines
    assert sorted(line for line in lines[:-1] if " docs/" not in line and "/argo/" not in line) == [
        f"extra: {S3}/{old_job} (rendered by rail before, no longer)",
        f"extra: {S3}/notes.yaml (not written by rail)",
        f"extra: {S5}/helmrelease-gitea.yaml (rendered by rail before, no longer)",
        *new_job,
        f"missing: {S5}/helmrelease-forge.yaml",
        f"stale: {S3}/kustomization.yaml",
        f"stale: {S5}/kustomization.yaml",
        "stale: rendered/interface.yaml",  # it lists the releases
    ]

    result = run_rail("render", cwd=stack_copy)
    assert result.returncode == 0, result.stderr
    assert f"{S3}/notes.yaml: not written by rail" in result.stdout
    assert foreign.read_text(encoding="utf-8").startswith("apiVersion: v1\nkind: ConfigMap\n")
    assert not (stack_copy / S5 / "helmrelease-gitea.yaml").exists()
    assert (stack_copy / S5 / "helmrelease-forge.yaml").is_file()

    code, lines = check(run_rail, stack_copy, snapshot)
    assert code == 1
    assert lines[:-1] == [f"extra: {S3}/notes.yaml (not written by rail)"]


def test_render_from_a_subfolder_finds_the_root(stack_copy: Path, run_rail: Any, snapshot: Snapshot) -> None:
    subfolder = stack_copy / "releases" / "s5"
    (stack_copy / S5 / "helmrelease-gitea.yaml").unlink()
    listing = sorted(path.name for path in subfolder.iterdir())

    result = run_rail("render", cwd=subfolder)
    assert result.returncode == 0, result.stderr
    assert (stack_copy / S5 / "helmrelease-gitea.yaml").is_file()
    assert sorted(path.name for path in subfolder.iterdir()) == listing
    assert check(run_rail, subfolder, snapshot)[0] == 0


def test_outside_any_stack_names_the_config_file(tmp_path: Path, run_rail: Any) -> None:
    if any((folder / "rail.yaml").exists() for folder in (tmp_path, *tmp_path.parents)):
        pytest.skip(f"a rail.yaml exists above {tmp_path}")
    result = run_rail("render", cwd=tmp_path)
    assert result.returncode == 2
    assert "no rail.yaml found" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "rendered").exists()


def test_version(tmp_path: Path, run_rail: Any) -> None:
    result = run_rail("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"rail, version {__version__}"


def test_unknown_target_is_bad_usage(stack_copy: Path, run_rail: Any, snapshot: Snapshot) -> None:
    before = snapshot(stack_copy)
    result = run_rail("render", "--target", "bogus", cwd=stack_copy)
    assert result.returncode == 2
    assert "'bogus'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert snapshot(stack_copy) == before


def test_a_hand_written_doc_in_the_way_is_never_overwritten(stack_copy: Path, run_rail: Any) -> None:
    doc = stack_copy / "docs/valkey.md"
    doc.write_text("# our own notes\n")
    done = run_rail("render", cwd=stack_copy)
    assert done.returncode == 2 and "docs/valkey.md" in done.stderr and "in the way" in done.stderr
    assert doc.read_text() == "# our own notes\n"


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    """`rail explain | head -1`: the closed pipe ends rail quietly (exit 1), not as an internal error."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before rail writes a byte
    try:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "rail"), "explain"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    error = done.stderr.decode()
    assert done.returncode == 1, error
    assert "internal error" not in error and "Traceback" not in error


def test_the_installed_command_keeps_exit_codes_and_output(stack_copy: Path, run_rail: Any) -> None:
    """The console script ends with os._exit: everything printed must still arrive."""
    done = run_rail("lint", "--format", "json", cwd=stack_copy)
    assert done.returncode == 0 and done.stdout.rstrip().endswith("}")
    (stack_copy / "releases" / "s3" / "valkey.yaml").write_text("name: [\n", encoding="utf-8")
    broken = run_rail("lint", cwd=stack_copy)
    assert broken.returncode == 2 and "valkey.yaml" in broken.stderr
