"""A side's lint result kept by its tree id (renderer/diff/cached.py): a base seen
before is not linted again, and the diff says the same, byte for byte. The index is
keyed by the tree a commit of it would have.

``renderer.cache`` is a dict here (``enabled`` -> True, every key admitted at its first
sighting), so the tests prove the keys and what is stored, whatever store sits behind the
five functions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gitstack import clone, commit, edit, git, rail, render, shipped_clone

from renderer import cache
from renderer.diff import cached, engine, snapshot
from renderer.diff.git import INDEX, WORKTREE, Repository
from renderer.lint.rule import LintOptions

PG = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"


class Store:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], bytes] = {}
        self.on = True

    def get(self, kind: str, key: str) -> bytes | None:
        return self.entries.get((kind, key))

    def admit(self, kind: str, key: str) -> bool:
        return self.on

    def put(self, kind: str, key: str, payload: bytes) -> None:
        self.entries[(kind, key)] = payload

    def sides(self) -> list[bytes]:
        return [payload for (kind, _), payload in self.entries.items() if kind == cached.KIND]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    fake = Store()
    monkeypatch.setattr(cache, "enabled", lambda: fake.on)
    monkeypatch.setattr(cache, "get", fake.get)
    monkeypatch.setattr(cache, "admit", fake.admit)
    monkeypatch.setattr(cache, "put", fake.put)
    return fake


@pytest.fixture
def lints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The label of every side the diff lints."""
    seen: list[str] = []
    real = engine._lint

    def counted(side: engine.Side, options: LintOptions) -> engine.LintResult:
        seen.append(side.label)
        return real(side, options)

    monkeypatch.setattr(engine, "_lint", counted)
    return seen


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_clone(tmp_path, tmp_path_factory)


def _diff(stack: Path, *args: str) -> str:
    run = rail(stack, "diff", "--format", "json", *args)
    assert run.exit_code in (0, 1), run.output
    return run.stdout


def test_a_warm_base_is_not_linted_again_and_the_diff_is_the_same(stack: Path, store: Store, lints: list[str]) -> None:
    edit(stack, PG, "size: 10Gi", "size: 8Gi")
    render(stack)
    store.on = False
    plain = _diff(stack, "--base", "main")
    store.on = True
    lints.clear()
    cold = _diff(stack, "--base", "main")
    assert len(lints) == 2 and len(store.sides()) == 1  # the base is a commit: kept; the working tree is not
    lints.clear()
    warm = _diff(stack, "--base", "main")
    assert len(lints) == 1 and lints[0].startswith("head (the working tree")
    assert plain == cold == warm
    assert "persistence-shrink" in warm


def test_the_key_is_the_tree_not_the_commit(stack: Path, store: Store, lints: list[str]) -> None:
    _diff(stack, "--staged")  # nothing staged: the index is HEAD's tree, linted once for both sides
    assert len(lints) == 1 and lints[0].startswith("head (the index")
    git(stack, "commit", "-q", "--allow-empty", "--no-verify", "-m", "same tree, new commit")
    lints.clear()
    _diff(stack, "--staged")
    assert lints == []


def test_a_changed_base_is_linted_again(stack: Path, store: Store, lints: list[str]) -> None:
    _diff(stack, "--staged")
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    render(stack)
    commit(stack, "grow valkey")
    lints.clear()
    _diff(stack, "--staged")
    assert len(lints) == 1 and len(store.sides()) == 2  # one new tree: the index's, which is HEAD's


def test_the_index_is_keyed_by_its_tree_and_the_working_tree_has_no_key(stack: Path, store: Store) -> None:
    repository = Repository.of(stack)
    head = repository.resolve("HEAD")
    assert cached.side_key(repository, WORKTREE, LintOptions()) is None
    assert cached.side_key(repository, INDEX, LintOptions()) == cached.side_key(repository, head, LintOptions())
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    assert cached.side_key(repository, INDEX, LintOptions()) == cached.side_key(repository, head, LintOptions())
    git(stack, "add", VALKEY)
    assert cached.side_key(repository, INDEX, LintOptions()) != cached.side_key(repository, head, LintOptions())
    assert cached.side_key(repository, head, LintOptions()) is not None
    assert cached.side_key(repository, head, LintOptions()) != cached.side_key(
        repository, head, LintOptions(strict=True)
    )
    store.on = False
    assert cached.side_key(repository, head, LintOptions()) is None


def test_a_base_that_imports_a_stack_is_never_kept(stack: Path, store: Store, lints: list[str]) -> None:
    platform = stack.parent / "platform"
    clone(stack, platform)
    (stack / "rail.yaml").write_text(
        (stack / "rail.yaml").read_text() + "imports:\n  - {name: platform, path: ../platform}\n", encoding="utf-8"
    )
    commit(stack, "import the platform")
    _diff(stack, "--staged")
    assert store.sides() == []


def test_what_is_kept_holds_no_value(stack: Path, store: Store) -> None:
    edit(stack, VALKEY, "  architecture: standalone", "  architecture: standalone\n  password: canary-hunter2-canary")
    commit(stack, "a plaintext password in the base")
    report = _diff(stack, "--staged")
    assert len(store.sides()) == 1
    assert not [kind for kind, _ in store.entries if kind == snapshot.KIND]  # a side holding it is not kept
    assert b"plaintext-secret" in store.sides()[0] and b"canary" not in store.sides()[0]
    assert "canary" not in report


def test_a_torn_entry_is_linted_again(stack: Path, store: Store, lints: list[str]) -> None:
    first = _diff(stack, "--staged")
    for key in list(store.entries):
        store.entries[key] = b'{"findings": ['
    lints.clear()
    assert _diff(stack, "--staged") == first
    # The head is linted again and its entries written again; the base, the same tree, reads them.
    assert len(lints) == 1
    assert all(payload != b'{"findings": [' for payload in store.entries.values())
