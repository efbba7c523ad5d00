"""Reading the two sides: the working tree, the index (``--staged``), a revision
(``--head``); a side that cannot be read is exit 2 with the reason, never shown as
everything deleted; reading changes nothing in the repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV
from gitstack import (
    build_stack,
    clone,
    commit,
    diff_json,
    edit,
    finding_of,
    git,
    git_state,
    init,
    line_of,
    rail,
    rail_process,
    render,
    rules_of,
    template,
    write,
)

PG = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"
GITEA = "releases/s5/gitea.yaml"


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


def changed_names(report: dict[str, Any]) -> set[str]:
    return {change["object"]["name"] for change in report["changes"]}


def assert_broken(run_output: str, exit_code: int) -> None:
    """Exit 2, a reason, and nothing that reads as a diff (no deletions, no traceback)."""
    assert exit_code == 2, run_output
    assert "Traceback" not in run_output
    assert "removed" not in run_output
    assert "internal error" not in run_output


# One side broken ------------------------------------------------------------------------------


def assert_head_findings(run_output: str, exit_code: int) -> None:
    """A head that does not load: exit 1 with findings, no traceback, nothing reading as deleted."""
    assert exit_code == 1, run_output
    assert "Traceback" not in run_output
    assert "- removed" not in run_output
    assert "internal error" not in run_output


def test_yaml_syntax_error_in_the_head_spec(stack: Path) -> None:
    edit(stack, VALKEY, "architecture: standalone", "architecture: [standalone")

    run = rail_process(stack, "diff", "--base", "main")

    assert_head_findings(run.output, run.exit_code)
    line = line_of(stack, VALKEY, "architecture:")
    assert any(f"{VALKEY}:{n}: error yaml-syntax" in run.stdout for n in (line, line + 1)), run.stdout
    assert "YAML" in run.stdout
    assert "diff rules skipped" in run.stdout


def test_yaml_syntax_error_in_the_head_spec_json_format(stack: Path) -> None:
    edit(stack, VALKEY, "architecture: standalone", "architecture: [standalone")

    run = rail_process(stack, "diff", "--base", "main", "--format", "json")

    assert_head_findings(run.output, run.exit_code)
    finding = finding_of(run.json(), "yaml-syntax")
    assert finding["path"] == VALKEY
    assert finding["severity"] == "error"
    assert finding["line"] in (line_of(stack, VALKEY, "architecture:"), line_of(stack, VALKEY, "architecture:") + 1)
    assert run.json()["changes"] == []  # no half comparison that reads as "everything removed"


def test_broken_base_revision(stack: Path) -> None:
    """The base does not parse: a note naming the file (never its content); the head is clean: exit 0."""
    edit(stack, GITEA, "class: application", "class: [application")
    commit(stack, "broken gitea spec")
    edit(stack, GITEA, "class: [application", "class: application")

    run = rail_process(stack, "diff", "--base", "HEAD", "--format", "json")

    assert run.exit_code == 0, run.output
    notes = run.json()["summary"]["notes"]
    assert any(note.startswith("base does not parse") and GITEA in note for note in notes), notes
    assert not any("[application" in note for note in notes)


def test_head_revision_that_fails_to_render(stack: Path) -> None:
    # A reference to an export the release does not have. (A dependsOn naming no release
    # no longer stops the diff: it is dangling-reference / dependency-removed, exit 1.)
    edit(stack, GITEA, "${ref:postgresql-ha.database.address}", "${ref:postgresql-ha.nothing.address}")

    run = rail_process(stack, "diff", "--base", "main")

    assert_head_findings(run.output, run.exit_code)
    assert f"{GITEA}:" in run.stdout
    assert "exports no endpoint 'nothing'" in run.stdout


def test_head_with_a_dependency_on_no_release_is_a_finding(stack: Path) -> None:
    edit(stack, GITEA, "  - valkey\n", "  - valkey\n  - no-such-release\n")

    run = rail_process(stack, "diff", "--base", "main")

    assert run.exit_code == 1, run.output
    assert f"{GITEA}:{line_of(stack, GITEA, 'no-such-release')}: error dangling-reference" in run.stdout
    assert "dependsOn names release 'no-such-release', which does not exist" in run.stdout
    assert "Traceback" not in run.output


def test_broken_manifest_in_a_manifest_repository(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = tmp_path / "manifests"
    shutil.copytree(template("stack", tmp_path_factory, build_stack) / "rendered/flux", repo)
    init(repo)
    path = "s3-platform/helmrelease-valkey.yaml"
    edit(repo, path, "kind: HelmRelease", "kind: [HelmRelease")

    run = rail_process(repo, "diff", "--base", "main")

    assert run.exit_code == 1, run.output
    assert f"{path}:" in run.stdout
    assert "yaml-syntax" in run.stdout


def test_base_revision_that_does_not_exist(stack: Path) -> None:
    run = rail_process(stack, "diff", "--base", "no-such-branch")

    assert_broken(run.output, run.exit_code)
    assert "base 'no-such-branch'" in run.stderr
    assert "unknown git revision" in run.stderr
    assert "git log" in run.stderr


@pytest.mark.parametrize("shallow", [False, True], ids=["full", "shallow"])
def test_revision_that_looks_like_an_option(stack: Path, tmp_path: Path, shallow: bool) -> None:
    """``--base '--output=pwned.txt'`` is no revision; git is never asked, and the hint's
    command, pasted into a shell, names it as one revision and writes no file either."""
    repo = stack
    if shallow:
        repo = tmp_path / "shallow"
        git(tmp_path, "clone", "-q", "--depth", "1", f"file://{stack}", str(repo))

    run = rail_process(repo, "diff", "--base", "--output=pwned.txt")

    assert_broken(run.output, run.exit_code)
    assert "unknown git revision '--output=pwned.txt'" in run.stderr
    assert not list(repo.rglob("pwned.txt"))
    (command,) = re.findall(r"`(git (?:log|fetch) [^`]*--end-of-options[^`]*)`", run.stderr)
    words = shlex.split(command)
    assert words.count("--output=pwned.txt") == 1
    assert words.index("--end-of-options") == words.index("--output=pwned.txt") - 1
    pasted = subprocess.run(words, cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True)
    assert pasted.returncode != 0
    assert not list(repo.rglob("pwned.txt"))
    assert not list(Path.cwd().glob("pwned.txt"))


def test_head_revision_that_does_not_exist(stack: Path) -> None:
    run = rail_process(stack, "diff", "--base", "main", "--head", "no-such-commit")

    assert_broken(run.output, run.exit_code)
    assert "head (no-such-commit)" in run.stderr


def test_shallow_clone_missing_the_base(stack: Path, tmp_path: Path) -> None:
    base = git(stack, "rev-parse", "HEAD").strip()
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    render(stack)
    commit(stack, "bigger volume")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{stack}", str(shallow))
    assert git(shallow, "rev-parse", "--is-shallow-repository").strip() == "true"

    run = rail_process(shallow, "diff", "--base", base)

    assert_broken(run.output, run.exit_code)
    assert f"base '{base}'" in run.stderr
    assert "shallow clone" in run.stderr
    assert f"git fetch origin {base}" in run.stderr
    assert "fetch-depth: 0" in run.stderr

    # Fetching the base alone is not enough for a merge base: full history is.
    git(shallow, "fetch", "-q", "origin", base)
    run = rail_process(shallow, "diff", "--base", base)
    assert_broken(run.output, run.exit_code)
    assert "no merge base" in run.stderr
    assert "fetch-depth: 0" in run.stderr
    code, tip = diff_json(shallow, "--base", base, "--base-tip")  # the base's tip needs no history
    assert changed_names(tip) == {"postgresql-ha"}
    git(shallow, "fetch", "-q", "--unshallow", "origin")
    code, report = diff_json(shallow, "--base", base)
    assert changed_names(report) == {"postgresql-ha"}
    assert report["summary"]["base_commit"] == base
    assert code == 0, report["findings"]


def test_not_a_git_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    write(folder, "app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\n")

    run = rail_process(folder, "diff", "--base", "main")

    assert_broken(run.output, run.exit_code)
    assert "git" in run.stderr


# --staged and --head ----------------------------------------------------------------------------


def test_staged_compares_the_index_with_head(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    git(stack, "add", PG)
    edit(stack, VALKEY, "size: 2Gi", "size: 1Gi")  # not staged
    write(stack, "releases/s3/scratch.yaml", "name: [unfinished\n")  # untracked, not staged

    code, report = diff_json(stack, "--staged")

    assert changed_names(report) == {"postgresql-ha"}
    assert "persistence-shrink" in rules_of(report)
    assert all("valkey" not in finding["message"] for finding in report["findings"])
    assert report["summary"]["base"] == "HEAD"
    assert report["summary"]["head"].startswith("the index on ")
    assert code == 1


def test_staged_with_nothing_staged_is_clean(stack: Path) -> None:
    edit(stack, VALKEY, "size: 2Gi", "size: 1Gi")  # not staged

    code, report = diff_json(stack, "--staged", "--base", "main")

    assert report["changes"] == []
    assert code == 0


def test_staged_does_not_take_head(stack: Path) -> None:
    run = rail(stack, "diff", "--staged", "--head", "main")

    assert run.exit_code == 2
    assert "--staged" in run.stderr


def test_head_revision_compares_two_commits(stack: Path) -> None:
    git(stack, "switch", "-q", "-c", "feature")
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)
    feature = commit(stack, "smaller volume")
    edit(stack, VALKEY, "size: 2Gi", "size: 1Gi")  # uncommitted: not part of --head feature

    code, report = diff_json(stack, "--base", "main", "--head", "feature")
    _, by_sha = diff_json(stack, "--base", "main", "--head", feature)

    assert changed_names(report) == {"postgresql-ha"}
    assert rules_of(report) == ["persistence-shrink"]
    assert report["findings"][0]["line"] == line_of(stack, PG, "size: 8Gi")
    assert report["summary"]["head"] == "feature"
    assert by_sha["changes"] == report["changes"]
    assert code == 1


EXTRA_RELEASE = """\
name: extra
layer: S3
namespace: platform
class: cache
chart: {source: bitnami, name: valkey, version: 4.0.2}
values:
  auth: {enabled: false}
"""


def test_working_tree_includes_uncommitted_and_untracked_changes(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 20Gi")
    write(stack, "releases/s3/extra.yaml", EXTRA_RELEASE)  # untracked

    _, report = diff_json(stack, "--base", "main")

    assert {"postgresql-ha", "extra"} <= changed_names(report)


# Reading changes nothing ------------------------------------------------------------------------


def _tree(repo: Path) -> dict[str, bytes]:
    return {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(repo).parts
    }


@pytest.mark.parametrize(
    "args",
    [
        ("--base", "main"),
        ("--staged",),
        ("--base", "main", "--head", "feature"),
        ("--base", "main", "--format", "markdown"),
        ("--base", "no-such-branch"),
    ],
    ids=["worktree", "staged", "head-rev", "markdown", "failing"],
)
def test_reading_never_changes_the_repository(stack: Path, args: tuple[str, ...]) -> None:
    git(stack, "branch", "feature")
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    git(stack, "add", PG)
    edit(stack, VALKEY, "size: 2Gi", "size: 1Gi")
    write(stack, "notes.txt", "untracked\n")
    before, tree_before, cwd_before = git_state(stack), _tree(stack), os.getcwd()

    run = rail(stack, "diff", *args)

    assert run.exit_code in (0, 1, 2)
    assert git_state(stack) == before
    assert _tree(stack) == tree_before
    assert os.getcwd() == cwd_before
    assert git(stack, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_stack_in_a_subfolder_of_the_repository(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = tmp_path / "monorepo"
    stack_dir = repo / "stacks/prod"
    shutil.copytree(template("stack", tmp_path_factory, build_stack), stack_dir, ignore=shutil.ignore_patterns(".git"))
    write(repo, "README.md", "a monorepo\n")
    write(repo, "other/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\n")
    init(repo)
    edit(stack_dir, PG, "size: 10Gi", "size: 8Gi")
    write(repo, "other/app.yaml", "not: [yaml\n")  # outside the stack: not read
    git(repo, "add", "-A")

    code, report = diff_json(stack_dir / "releases", "--staged")

    assert changed_names(report) == {"postgresql-ha"}
    finding = next(f for f in report["findings"] if f["rule"] == "persistence-shrink")
    assert finding["path"] == PG
    assert code == 1


def test_staged_diff_before_the_first_commit(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """pre-commit on a new repository: no HEAD yet, so the base is empty and everything is added."""
    repo = tmp_path / "new"
    shutil.copytree(template("stack", tmp_path_factory, build_stack), repo, ignore=shutil.ignore_patterns(".git"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")

    code, report = diff_json(repo, "--staged")
    named = rail(repo, "diff", "--base", "main")

    assert report["changes"]
    assert {change["change"] for change in report["changes"]} == {"added"}
    assert code == 0, report["findings"]
    assert named.exit_code == 2  # only the default base HEAD stands for "nothing yet"
    assert "unknown git revision 'main'" in named.stderr


def test_an_output_folder_in_memory_is_judged_as_on_disk(tmp_path: Path) -> None:
    """A revision's rendered/ stays in memory: the drift check must see exactly what it sees on disk."""
    from renderer.load import load_stack
    from renderer.render import render_stack
    from renderer.render.output import plan
    from tests.conftest import copy_stack, tree_bytes

    root = copy_stack(Path(__file__).resolve().parents[2], tmp_path / "stack")
    write(root, "rendered/flux/s3-platform/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (root / "rendered" / "flux" / "s5-apps" / "kustomization.yaml").unlink()
    stale = next((root / "rendered" / "flux" / "s3-platform").glob("helmrelease-*.yaml"))
    stale.write_bytes(stale.read_bytes() + b"# edited\n")
    loaded = load_stack(root, refuse_plaintext=False)
    files = render_stack(loaded, loaded.stack.config.targets).files
    tree = {f"rendered/{p}": c for p, c in tree_bytes(root / "rendered").items()}
    tree.update({f"docs/{p}": c for p, c in tree_bytes(root / "docs").items()})
    on_disk, in_memory = plan(root, "rendered", files), plan(root, "rendered", files, tree=tree)
    assert on_disk == in_memory
    assert on_disk.foreign == ("rendered/flux/s3-platform/extra.yaml",)
    assert on_disk.missing == ("rendered/flux/s5-apps/kustomization.yaml",) and len(on_disk.stale) == 1


def test_a_revision_writes_out_its_inputs_only() -> None:
    from renderer.diff.sides import split_output

    files = {
        "rail.yaml": b"name: x\noutput: out\n",
        "releases/a.yaml": b"name: a\n",
        "out/flux/x.yaml": b"kind: X\n",
        "docs/valkey.md": b"# doc\n",
    }
    written, in_memory = split_output(files)
    assert sorted(written) == ["docs/valkey.md", "rail.yaml", "releases/a.yaml"]
    assert in_memory == {"out/flux/x.yaml": b"kind: X\n", "docs/valkey.md": b"# doc\n"}
    # Without a readable rail.yaml, loading must report it: everything is written out.
    assert split_output({"rail.yaml": b"output: [\n", "out/x": b""}) == (
        {"rail.yaml": b"output: [\n", "out/x": b""},
        None,
    )
    assert split_output({"rail.yaml": b"output: ../elsewhere\n"})[1] is None


def test_a_revision_shares_unchanged_files_with_the_working_tree(tmp_path: Path) -> None:
    """Files equal to the working tree's are hard-linked, never changed, and all removed after."""
    from renderer.diff.sides import materialized

    worktree = tmp_path / "work"
    write(worktree, "same.yaml", "a: 1\n")
    write(worktree, "changed.yaml", "a: 2\n")
    (worktree / "same.yaml").chmod(0o640)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    files = {"same.yaml": b"a: 1\n", "changed.yaml": b"a: 1\n", "only-here.yaml": b"b: 1\n"}
    with materialized(files, same_as=worktree, scratch=scratch) as root:
        assert root.parent == scratch
        assert (root / "same.yaml").stat().st_ino == (worktree / "same.yaml").stat().st_ino
        assert (root / "changed.yaml").stat().st_ino != (worktree / "changed.yaml").stat().st_ino
        assert {p: (root / p).read_bytes() for p in files} == files
    assert list(scratch.iterdir()) == []
    assert (worktree / "same.yaml").read_text() == "a: 1\n" and (worktree / "changed.yaml").read_text() == "a: 2\n"
    assert (worktree / "same.yaml").stat().st_mode & 0o777 == 0o640


def test_a_diff_leaves_nothing_in_the_git_folder_but_its_kept_links(stack: Path) -> None:
    """With the cache on, the working tree's folder of links is kept (renderer.diff.standing):
    links only, each to the very file the working tree holds. With the cache off, nothing."""
    from renderer.diff.standing import WORKTREE_PREFIX

    before = sorted(p.name for p in (stack / ".git").iterdir())
    edit(stack, GITEA, "TYPE: redis", "TYPE: level")
    run = rail(stack, "diff", "--base", "HEAD")
    assert run.exit_code in (0, 1), run.stderr
    assert "modified" in run.stdout
    added = sorted(set(p.name for p in (stack / ".git").iterdir()) - set(before))
    assert len(added) == 1 and added[0].startswith(WORKTREE_PREFIX)
    kept = stack / ".git" / added[0]
    files = [p for p in kept.rglob("*") if not p.is_dir()]
    assert GITEA in {p.relative_to(kept).as_posix() for p in files}
    for file in files:
        assert file.stat().st_ino == (stack / file.relative_to(kept)).stat().st_ino
    shutil.rmtree(kept)
    run = rail(stack, "--no-cache", "diff", "--base", "HEAD")
    assert "modified" in run.stdout
    assert sorted(p.name for p in (stack / ".git").iterdir()) == before


def test_an_ignored_file_in_the_working_tree_is_not_part_of_the_change(stack: Path) -> None:
    """A pull request cannot hold an ignored file: a scratch spec git ignores is no new release."""
    write(stack, ".gitignore", "releases/s3/scratch-*.yaml\n")
    commit(stack, "ignore scratch specs")
    write(stack, "releases/s3/scratch-extra.yaml", EXTRA_RELEASE)
    code, report = diff_json(stack, "--base", "HEAD")
    assert code == 0, report
    assert report["changes"] == []
    write(stack, "releases/s3/extra.yaml", EXTRA_RELEASE)  # not ignored: it is a change
    _, report = diff_json(stack, "--base", "HEAD")
    assert report["changes"]


def test_a_file_gone_since_git_listed_it_is_left_out(tmp_path: Path) -> None:
    from renderer.diff.sides import linked

    write(tmp_path / "work", "kept.yaml", "a: 1\n")
    with linked(["kept.yaml", "gone.yaml"], tmp_path / "work") as root:
        assert sorted(p.name for p in root.iterdir()) == ["kept.yaml"]


def test_a_side_read_from_git_lets_go_of_its_files_once_linted(stack: Path) -> None:
    """A side's output folder, held in memory for its lint's render check, is released
    once the lint is done: at 10,000 releases it is ~90 MB held while the other side is read."""
    from renderer.diff import engine
    from renderer.diff.git import Repository
    from renderer.lint.rule import LintOptions

    with engine._revision_root(Repository.of(stack), "HEAD", "base", stack) as (root, output, links):
        assert output  # the rendered output, from git, never written out
        side, result, problems = engine._read_and_lint("base", root, output, links, LintOptions(), lint=True)
        assert side is not None and result is not None and problems == []
        assert side.output_files is None
        assert output == {}


def test_git_objects_are_read_one_at_a_time_and_a_missing_one_is_none(stack: Path) -> None:
    from renderer.diff.git import Repository

    repository = Repository.of(stack)
    config = (stack / "rail.yaml").read_bytes()
    sha = git(stack, "hash-object", "rail.yaml").strip()
    assert repository._batch([sha, "0" * 40, "HEAD", sha]) == [config, None, None, config]  # HEAD: a commit
    assert repository._batch([]) == []
