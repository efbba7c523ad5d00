"""A load that takes over an earlier load's unchanged releases (renderer/load/reuse.py):
the same stack as a full load, with the unchanged releases' very objects and the
changed ones read again; no reuse where it would not be safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderer.load import load_stack
from renderer.load.reuse import Reuse
from renderer.load.stack import LoadedStack

PG = "releases/s3/postgresql-ha.yaml"
PG_VALUES = "values/s3/postgresql-ha.yaml"
PG_SECRET = "secrets/s3/postgresql-ha-credentials.sops.yaml"
GITEA = "releases/s5/gitea.yaml"
GITEA_CLAIM = "secrets/s3/gitea-database.sops.yaml"  # gitea's database claim's password Secret
VALKEY = "releases/s3/valkey.yaml"


def _load(root: Path, reuse: Reuse | None = None) -> LoadedStack:
    return load_stack(root, refuse_plaintext=False, reuse=reuse)


def _same_as_full(root: Path, reused: LoadedStack) -> None:
    """Everything a full load of ``root`` gives, in the same order."""
    full = _load(root)
    assert reused.stack == full.stack
    for name in ("spec_documents", "values_documents", "secret_files"):
        mine, theirs = getattr(reused, name), getattr(full, name)
        assert list(mine) == list(theirs), name  # the same order: later stages iterate them
        assert mine == theirs, name
        for key, document in mine.items():
            text = getattr(document, "text", None) or getattr(document, "raw", None)
            assert text == (getattr(theirs[key], "text", None) or getattr(theirs[key], "raw", None)), key
    assert (reused.escaped, reused.dangling, reused.moved) == (full.escaped, full.dangling, full.moved)


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_unchanged_release_is_taken_over_and_a_changed_one_read_again(stack_copy: Path) -> None:
    before = _load(stack_copy)
    _edit(stack_copy, PG_VALUES, "minAvailable: 2", "minAvailable: 1")

    after = _load(stack_copy, Reuse.of(before, {PG_VALUES}))

    _same_as_full(stack_copy, after)
    assert after.values_documents[PG_VALUES] is not before.values_documents[PG_VALUES]
    assert "minAvailable: 1" in (after.values_documents[PG_VALUES].text or "")
    assert after.spec_documents[PG] is not before.spec_documents[PG]  # its release is read whole
    assert after.spec_documents[VALKEY] is before.spec_documents[VALKEY]
    assert after.secret_files[GITEA_CLAIM] is before.secret_files[GITEA_CLAIM]
    taken = {r.name for r in after.stack.releases if any(r is b for b in before.stack.releases)}
    assert taken == {r.name for r in before.stack.releases} - {"postgresql-ha"}


@pytest.mark.parametrize(
    ("changed", "release"),
    [(GITEA, "gitea"), (GITEA_CLAIM, "gitea"), (PG_SECRET, "postgresql-ha"), (PG_VALUES, "postgresql-ha")],
)
def test_any_file_of_a_release_among_the_changed_reads_it_again(stack_copy: Path, changed: str, release: str) -> None:
    before = _load(stack_copy)
    reuse = Reuse.of(before, {changed})
    assert reuse is not None

    after = _load(stack_copy, reuse)

    _same_as_full(stack_copy, after)
    read_again = [r.name for r in after.stack.releases if not any(r is b for b in before.stack.releases)]
    assert read_again == [release]


def test_a_values_path_spelt_another_way_is_still_seen_as_changed(stack_copy: Path) -> None:
    _edit(stack_copy, PG, f"  - {PG_VALUES}", f"  - ./{PG_VALUES}")
    before = _load(stack_copy)
    _edit(stack_copy, PG_VALUES, "minAvailable: 2", "minAvailable: 1")

    reuse = Reuse.of(before, {PG_VALUES})
    assert reuse is not None and reuse.release(PG) is None
    after = _load(stack_copy, reuse)

    _same_as_full(stack_copy, after)
    assert "minAvailable: 1" in (after.values_documents[f"./{PG_VALUES}"].text or "")


@pytest.mark.parametrize("path", ["/etc/values.yaml", "..\\values.yaml", "../outside.yaml", "a/../../b.yaml"])
def test_a_path_git_cannot_vouch_for_is_never_taken_as_unchanged(stack_copy: Path, path: str) -> None:
    reuse = Reuse.of(_load(stack_copy), set())
    assert reuse is not None
    assert not reuse._unchanged(path)
    assert reuse._unchanged("values/s3/postgresql-ha.yaml") and reuse._unchanged(".//values/s3/../s3/x.yaml")


def test_no_reuse_where_it_is_not_safe(stack_copy: Path) -> None:
    lenient = _load(stack_copy)
    assert Reuse.of(lenient, {"rail.yaml"}) is None  # the config every release is read with
    assert Reuse.of(load_stack(stack_copy), set()) is None  # a strict load's checks are per file
    reuse = Reuse.of(lenient, set())
    assert reuse is not None
    strict = load_stack(stack_copy, reuse=reuse)  # a strict load never takes over: it checks each file
    assert strict.spec_documents[VALKEY] is not lenient.spec_documents[VALKEY]
