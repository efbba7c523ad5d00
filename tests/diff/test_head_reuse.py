"""The index's load takes over what the restored base read where git says nothing changed
(renderer/load/reuse.py, wired in renderer/diff/engine.py): ``rail check --staged`` says
the same as with the cache off, and reads again only the releases whose files are staged
changed, in real git repositories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gitstack import edit, git, rail, render, shipped_clone, write

from renderer.load import reuse as reuse_module

PG = "releases/s3/postgresql-ha.yaml"
PG_VALUES = "values/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"
GITEA = "releases/s5/gitea.yaml"
INTERFACE = "rendered/interface.yaml"
BACKUP = "releases/s3/backup.yaml"  # a Backup, not a release: always read (the backups are checked as a whole)
ADMIN_SECRET = "secrets/s5/gitea-admin.sops.yaml"


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_clone(tmp_path, tmp_path_factory)


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """Each spec the index's load asked about: whether it was taken over (False: read)."""
    asked: dict[str, bool] = {}
    real = reuse_module.Reuse.release

    def spied(self: reuse_module.Reuse, origin: str) -> reuse_module.Taken | None:
        found = real(self, origin)
        asked[origin] = found is not None
        return found

    monkeypatch.setattr(reuse_module.Reuse, "release", spied)
    return asked


def _check(stack: Path) -> tuple[int, str]:
    run = rail(stack, "check", "--staged", "--format", "json")
    assert run.exit_code in (0, 1), run.output
    return run.exit_code, run.stdout


def _says_what_it_says_without_the_cache(stack: Path, monkeypatch: pytest.MonkeyPatch, taken: dict[str, bool]) -> None:
    """``rail check --staged`` with the cache says what it says without; ``taken`` then
    holds what the run with the cache took over."""
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    plain = _check(stack)
    monkeypatch.delenv("RAIL_NO_CACHE")
    taken.clear()
    assert _check(stack) == plain


def _seen(stack: Path) -> None:
    """HEAD's side kept: what the hooks before this commit left."""
    for _ in range(2):
        _check(stack)


def _stage_values(stack: Path) -> None:
    edit(stack, PG_VALUES, "minAvailable: 2", "minAvailable: 1")


def _stage_secret(stack: Path) -> None:
    edit(stack, ADMIN_SECRET, 'railiance.io/example: "true"', 'railiance.io/example: "false"')


def _stage_new_release(stack: Path) -> None:
    text = (stack / VALKEY).read_text(encoding="utf-8")
    write(stack, "releases/s3/valkey-two.yaml", text.replace("name: valkey\n", "name: valkey-two\n", 1))


def _stage_shrink(stack: Path) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")


STAGED: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    # what is staged -> the release specs read again (every other one is taken over)
    "values file": (_stage_values, {PG}),
    "a release's Secret": (_stage_secret, {GITEA}),
    "a new release": (_stage_new_release, {"releases/s3/valkey-two.yaml"}),  # nothing earlier to take over
    "a volume shrink": (_stage_shrink, {PG}),
}


@pytest.mark.parametrize("change", sorted(STAGED))
def test_a_staged_change_says_the_same_and_reads_only_what_changed(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch, taken: dict[str, bool], change: str
) -> None:
    make, read_again = STAGED[change]
    _seen(stack)
    make(stack)
    render(stack)
    git(stack, "add", "-A")
    edit(stack, VALKEY, "size: 2Gi", "size: 1Gi")  # in the working tree only: the index's valkey is HEAD's

    _says_what_it_says_without_the_cache(stack, monkeypatch, taken)

    assert taken, "the index's load took nothing over"
    assert {origin for origin, took in taken.items() if not took} == {*read_again, BACKUP}
    assert taken[VALKEY]


def test_a_changed_config_takes_nothing_over(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch, taken: dict[str, bool]
) -> None:
    _seen(stack)
    edit(stack, "rail.yaml", "clusterDomain: cluster.local", "clusterDomain: cluster.example")
    render(stack)
    git(stack, "add", "-A")

    _says_what_it_says_without_the_cache(stack, monkeypatch, taken)

    assert taken == {}  # no reuse: every release is read with the new config


def test_the_index_keys_its_lint_by_digests_its_base_kept(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documents the index shares with its restored base (taken over, or rendered
    afresh from the base's rendered objects) are not spelt and hashed again: only the
    changed release's, and Secrets' (no Secret's digest is kept)."""
    from renderer.lint import documents

    _seen(stack)
    _stage_values(stack)
    render(stack)
    git(stack, "add", "-A")
    digested: list[str] = []
    original = documents._content_digest

    def counting(document: Any) -> str | None:
        data = document.data if isinstance(document.data, dict) else {}
        if data.get("kind") != "Secret":
            digested.append(document.path)
        return original(document)

    monkeypatch.setattr(documents, "_content_digest", counting)
    _check(stack)

    # The stack's interface file is rendered whole from every release: made afresh each time.
    assert digested and all("postgresql-ha" in path or path == INTERFACE for path in digested), digested


def test_the_index_is_asked_of_git_ahead_and_each_answer_taken(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch, taken: dict[str, bool]
) -> None:
    """What reading the index asks git is started before the base is restored: each of
    those answers is then taken, none asked of git a second time, none left running."""
    from renderer.diff.git import Repository

    _seen(stack)
    _stage_values(stack)
    render(stack)
    git(stack, "add", "-A")
    started: list[tuple[str, ...]] = []
    taken_ahead: list[tuple[str, ...]] = []
    dropped: list[tuple[str, ...]] = []
    ask_ahead, run, drop_ahead = Repository.ask_ahead, Repository.run, Repository.drop_ahead

    def asking(self: Repository, *commands: tuple[str, ...]) -> None:
        started.extend(commands)
        ask_ahead(self, *commands)

    def running(self: Repository, *args: str) -> Any:
        if args in self._ahead:
            taken_ahead.append(args)
        return run(self, *args)

    def dropping(self: Repository) -> None:
        dropped.extend(self._ahead)
        drop_ahead(self)

    monkeypatch.setattr(Repository, "ask_ahead", asking)
    monkeypatch.setattr(Repository, "run", running)
    monkeypatch.setattr(Repository, "drop_ahead", dropping)

    _says_what_it_says_without_the_cache(stack, monkeypatch, taken)

    assert any(args[0] == "ls-files" and "-s" in args for args in started)
    assert any(args[0] == "diff-index" for args in started)
    assert sorted(taken_ahead) == sorted(started) and not dropped
