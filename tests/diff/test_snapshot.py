"""A side kept whole by its tree id (renderer/diff/snapshot.py), with the real store:
a tree seen before is neither written out nor read again, the report is the same byte
for byte, and no Secret is kept (its SOPS file is read again from git)."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path
from typing import Any

import pytest
from gitstack import commit, count_side_reads, edit, git, rail, render, shipped_clone
from typed_equal import identical

from renderer import cache, yamlio
from renderer.cache import store
from renderer.diff import cached, snapshot
from renderer.diff.git import INDEX, Repository
from renderer.diff.sides import Side
from renderer.lint import documents, results
from renderer.load import stack as stack_module
from renderer.load.stack import secret_document, the_secret
from renderer.render import target

SOPS_FILE = "secrets/s3/valkey-credentials.sops.yaml"
VALKEY = "releases/s3/valkey.yaml"
PG = "releases/s3/postgresql-ha.yaml"
CANARY = "qzvcanarysnapshot5f3e"  # a plaintext value inside the SOPS file: never at rest


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shipped_clone(tmp_path, tmp_path_factory)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return count_side_reads(monkeypatch)


def _check(stack: Path) -> str:
    run = rail(stack, "check", "--staged", "--format", "json")
    assert run.exit_code in (0, 1), run.output
    return run.stdout


def _snapshots(folder: Path) -> list[Path]:
    return sorted(path for path in (folder / store.layout_name() / snapshot.KIND).rglob("*") if path.is_file())


def _stage_a_change(stack: Path) -> None:
    edit(stack, VALKEY, "size: 2Gi", "size: 4Gi")
    render(stack)
    git(stack, "add", "-A")


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "compressed"])
def test_a_seen_tree_is_restored_and_says_the_same(
    stack: Path, cache_folder: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    if compressed:  # as a side too large to keep raw is
        monkeypatch.setattr(snapshot, "_RAW_AT_MOST", 0)
    edit(stack, PG, "size: 10Gi", "size: 8Gi")  # a change the diff blocks: its finding is in the report
    render(stack)
    git(stack, "add", "-A")
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    plain = _check(stack)
    monkeypatch.delenv("RAIL_NO_CACHE")
    reads.clear()
    cold = _check(stack)
    assert len(reads) == 2 and len(_snapshots(cache_folder)) == 2
    reads.clear()
    warm = _check(stack)
    assert reads == []  # both trees restored: nothing written out, loaded or rendered
    assert plain == cold == warm
    assert "persistence-shrink" in warm
    payloads = [cache.get(snapshot.KIND, path.name) or b"" for path in _snapshots(cache_folder)]
    assert all((payload[:1] == snapshot._RAW) is not compressed for payload in payloads)


def test_the_commit_a_hook_checked_is_the_next_base(stack: Path, cache_folder: Path, reads: list[str]) -> None:
    _stage_a_change(stack)
    _check(stack)
    git(stack, "commit", "-q", "--no-verify", "-m", "grow valkey")
    edit(stack, VALKEY, "size: 4Gi", "size: 6Gi")
    render(stack)
    git(stack, "add", "-A")
    reads.clear()
    _check(stack)
    assert len(reads) == 1 and reads[0].startswith("head (the index")


def test_no_secret_is_kept(stack: Path, cache_folder: Path) -> None:
    sops = stack / SOPS_FILE
    sops.write_text(sops.read_text(encoding="utf-8").replace("stringData:\n", f"stringData:\n    extra: {CANARY}\n"))
    commit(stack, "a SOPS file with a plaintext value: lint's finding, never the cache's content")
    assert "sops-unencrypted" in _check(stack)
    kept = _snapshots(cache_folder)
    assert kept, "no side was kept: the search below proves nothing"
    ciphertexts = [part.split(b",")[0] for part in sops.read_bytes().split(b"ENC[AES256_GCM,data:")[1:]]
    assert ciphertexts
    for path in cache_folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert CANARY.encode() not in content, path
            assert not any(text in content for text in ciphertexts), path
    assert not any(b"ENC[" in path.read_bytes() for path in kept)


def test_a_secret_file_that_does_not_match_is_read_as_usual(
    stack: Path, cache_folder: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _check(stack)
    real = Repository.read_paths

    def changed(self: Repository, side: str, paths: list[str]) -> dict[str, bytes] | None:
        read = real(self, side, paths)
        return None if read is None else {path: content + b"\n# not the bytes kept\n" for path, content in read.items()}

    monkeypatch.setattr(Repository, "read_paths", changed)
    monkeypatch.setattr(snapshot, "_plain_bytes", lambda path: None)  # every secret file from git
    reads.clear()
    assert _check(stack) == first
    assert len(reads) == 1  # nothing staged: one tree on both sides, read once


def test_a_side_holding_a_plaintext_secret_is_not_kept(stack: Path, cache_folder: Path) -> None:
    edit(stack, VALKEY, "  architecture: standalone", f"  architecture: standalone\n  password: {CANARY}")
    commit(stack, "a plaintext password")
    _check(stack)
    assert _snapshots(cache_folder) == []
    assert not any(CANARY.encode() in path.read_bytes() for path in cache_folder.rglob("*") if path.is_file())


def test_a_damaged_snapshot_is_read_as_usual(stack: Path, cache_folder: Path, reads: list[str]) -> None:
    first = _check(stack)
    for path in _snapshots(cache_folder):
        path.write_bytes(path.read_bytes()[:-40] + b"\0" * 40)
    reads.clear()
    assert _check(stack) == first
    assert len(reads) == 1  # read again, kept again, restored for the other side (the same tree)


def test_read_paths_reads_a_side_and_refuses_a_missing_file_or_a_link(stack: Path) -> None:
    repository = Repository.of(stack)
    head = repository.resolve("HEAD")
    read = repository.read_paths(head, [SOPS_FILE, VALKEY])
    assert read == {SOPS_FILE: (stack / SOPS_FILE).read_bytes(), VALKEY: (stack / VALKEY).read_bytes()}
    assert repository.read_paths(head, [SOPS_FILE, "secrets/none.sops.yaml"]) is None
    (stack / "secrets" / "link.sops.yaml").symlink_to("s3/valkey-credentials.sops.yaml")
    git(stack, "add", "-A")
    assert repository.read_paths(INDEX, ["secrets/link.sops.yaml"]) is None
    assert repository.read_paths(INDEX, [SOPS_FILE]) == {SOPS_FILE: (stack / SOPS_FILE).read_bytes()}


@pytest.mark.parametrize("raw_at_most", [0, 10, 70_005, 1 << 20], ids=["compressed", "switched", "late", "raw"])
def test_a_marker_split_across_two_writes_is_caught_and_a_payload_reads_back(raw_at_most: int) -> None:
    split = snapshot._Compressed(raw_at_most)
    split.write(b"data: ENC")
    split.write(b"[AES256_GCM,data:...]")
    assert split.close() is None
    clean = snapshot._Compressed(raw_at_most)
    for piece in (b"a" * 70_000, b"ENCODED [", b"b" * 10):
        clean.write(piece)
    pieces = clean.close()
    assert pieces is not None
    payload = b"".join(pieces)
    written = b"a" * 70_000 + b"ENCODED [" + b"b" * 10
    if raw_at_most >= len(written):
        assert payload == snapshot._RAW + written
    else:
        assert len(payload) < 1_000  # compressed from its first byte on
        assert io.BufferedReader(snapshot._Decompressed(payload), 4096).read() == written


def test_a_side_the_guard_has_mostly_not_seen_is_not_kept_this_time(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged_at_most, admitted = snapshot._JUDGED_AT_MOST, snapshot.admitted
    monkeypatch.setattr(snapshot, "_JUDGED_AT_MOST", 3)
    monkeypatch.setattr(snapshot, "admitted", lambda document: False)  # as in a first run
    _check(stack)
    assert _snapshots(cache_folder) == []
    monkeypatch.setattr(snapshot, "_JUDGED_AT_MOST", judged_at_most)
    monkeypatch.setattr(snapshot, "admitted", admitted)
    _check(stack)
    assert _snapshots(cache_folder)


def test_secret_files_are_read_from_the_working_tree_only_where_it_holds_their_bytes(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(stack)
    repository, head, entry = _entry(stack)
    sops = stack / SOPS_FILE
    kept = sops.read_bytes()
    sops.write_bytes(kept + b"# edited, not staged\n")
    others = sorted(path for path in _kept(entry).secrets if path != SOPS_FILE)
    linked = stack / others[0]  # the same bytes, through a link: not followed
    linked.rename(stack / "elsewhere.yaml")
    linked.symlink_to(stack / "elsewhere.yaml")
    asked: list[list[str]] = []
    real = Repository.read_paths

    def counted(self: Repository, side: str, paths: list[str]) -> dict[str, bytes] | None:
        asked.append(paths)
        return real(self, side, paths)

    monkeypatch.setattr(Repository, "read_paths", counted)
    with yamlio.sharing_parses(), snapshot.sharing_skeletons():
        side = snapshot.restore(entry, "base", repository, head)
    assert side is not None and side.loaded is not None
    assert asked == [sorted([SOPS_FILE, others[0]])]  # the rest from the working tree
    assert side.loaded.secret_files[SOPS_FILE].raw == kept
    _assert_as_read(side)


# --------------------------------------------------------------------------- skeletons


def _entry(stack: Path) -> tuple[Repository, str, str]:
    repository = Repository.of(stack)
    head = repository.resolve("HEAD")
    tree = cached.tree_id(repository, head)
    assert tree is not None
    return repository, head, snapshot.key(tree)


def _kept(entry: str) -> Any:
    kept = snapshot.read_entry(entry)
    assert kept is not None, "the side was not kept, or does not read back"
    return kept


def _restore_counting_parses(
    stack: Path, monkeypatch: pytest.MonkeyPatch, read_paths: Any = None
) -> tuple[Side | None, list[str]]:
    """The kept side of HEAD, restored in a scope as a diff restores it, and the files
    parsed meanwhile; each secret's parse is the one the scope serves afterwards."""
    repository, head, entry = _entry(stack)
    parsed: list[str] = []
    real = yamlio._load_documents

    def counted(text: str, path: str, strict_tags: bool) -> list[yamlio.Document]:
        parsed.append(path)
        return real(text, path, strict_tags)

    monkeypatch.setattr(yamlio, "_load_documents", counted)
    if read_paths is not None:
        monkeypatch.setattr(Repository, "read_paths", read_paths)
        monkeypatch.setattr(snapshot, "_plain_bytes", lambda path: None)  # every secret file from git
    with yamlio.sharing_parses(), snapshot.sharing_skeletons():
        side = snapshot.restore(entry, "base", repository, head)
        if side is not None and side.loaded is not None:
            for path, secret in side.loaded.secret_files.items():
                again = the_secret(yamlio.load_documents(secret.raw.decode("utf-8"), path, strict_tags=False))
                assert again is not None and again.data is secret.document.data  # one parse, shared
    monkeypatch.setattr(yamlio, "_load_documents", real)
    return side, parsed


def _assert_as_read(side: Side) -> None:
    """Every secret file of ``side`` as parsing its bytes gives it: data, types, key order, positions."""
    assert side.loaded is not None
    secrets = side.loaded.secret_files
    assert secrets
    for path, secret in secrets.items():
        fresh = secret_document(secret.raw.decode("utf-8"), path)
        assert fresh is not None
        document = secret.document
        assert identical(document.data, fresh.data), path
        assert (document.path, document.index, document.start_line, document.text) == (
            fresh.path,
            fresh.index,
            fresh.start_line,
            fresh.text,
        )
        assert fresh.positions and len(fresh.positions) > 10
        for key_path in fresh.positions:
            assert document.locate(key_path) == fresh.locate(key_path), (path, key_path)
    secret_objects = [obj for obj in side.objects.values() if obj.kind == "Secret"]
    assert secret_objects
    by_data = {id(secret.document.data) for secret in secrets.values()}
    assert all(obj.document is not None and id(obj.document.data) in by_data for obj in secret_objects)


def test_a_restored_side_rebuilds_its_sops_files_without_parsing_them(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(stack)
    _, _, entry = _entry(stack)
    kept = _kept(entry)
    assert kept.skeletons and set(kept.skeletons) == set(kept.secrets)  # every shipped SOPS file has one
    side, parsed = _restore_counting_parses(stack, monkeypatch)
    assert side is not None and side.loaded is not None
    assert not set(parsed) & set(side.loaded.secret_files)  # no SOPS file parsed
    _assert_as_read(side)


def test_a_sops_file_slicing_cannot_rebuild_is_parsed_and_restores_the_same(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sops = stack / SOPS_FILE
    sops.write_text(
        sops.read_text(encoding="utf-8").replace(
            "    labels:\n", '    annotations:\n        note: "a tab\\there"\n    labels:\n', 1
        )
    )
    commit(stack, "an escaped scalar in a SOPS file")
    _check(stack)
    kept = _kept(_entry(stack)[2])
    assert SOPS_FILE in kept.secrets and SOPS_FILE not in kept.skeletons
    assert len(kept.skeletons) == len(kept.secrets) - 1
    side, parsed = _restore_counting_parses(stack, monkeypatch)
    assert side is not None and side.loaded is not None
    assert [path for path in parsed if path in side.loaded.secret_files] == [SOPS_FILE]
    assert side.loaded.secret_files[SOPS_FILE].document.data["metadata"]["annotations"]["note"] == "a tab\there"
    _assert_as_read(side)


def test_a_sops_file_whose_bytes_changed_is_not_restored(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(stack)
    real = Repository.read_paths

    def one_character_changed(self: Repository, side: str, paths: list[str]) -> dict[str, bytes] | None:
        read = real(self, side, paths)
        if read is None or SOPS_FILE not in read:
            return read
        content = read[SOPS_FILE]
        at = content.index(b"data:") + len(b"data:")
        flipped = b"B" if content[at : at + 1] != b"B" else b"C"
        return {**read, SOPS_FILE: content[:at] + flipped + content[at + 1 :]}  # the same length: the skeleton fits

    side, _ = _restore_counting_parses(stack, monkeypatch, one_character_changed)
    assert side is None


def test_a_side_kept_after_its_base_was_restored_makes_no_skeleton_again(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(stack)
    made: list[str] = []
    real = snapshot.skeleton

    def counted(text: str, path: str, documents: list[yamlio.Document]) -> yamlio.Skeleton | None:
        made.append(path)
        return real(text, path, documents)

    monkeypatch.setattr(snapshot, "skeleton", counted)
    _stage_a_change(stack)  # a release changed: the head is a new side, its SOPS files the base's
    _check(stack)
    assert made == []
    sops = stack / SOPS_FILE
    sops.write_text(sops.read_text(encoding="utf-8").replace("    labels:\n", "    labels:\n        team: cache\n"))
    git(stack, "add", "-A")
    _check(stack)
    assert made == [SOPS_FILE]  # only the SOPS file the new side changed
    kept = _kept(snapshot.key(cached.tree_id(Repository.of(stack), INDEX) or ""))
    assert set(kept.skeletons) == set(kept.secrets)


@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "compressed"])
def test_the_cache_folder_never_holds_ciphertext_or_a_pem_block(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    if compressed:
        monkeypatch.setattr(snapshot, "_RAW_AT_MOST", 0)
    _check(stack)
    _stage_a_change(stack)
    _check(stack)
    _check(stack)
    assert len(_snapshots(cache_folder)) == 2
    searched = 0
    layout = cache_folder / store.layout_name()
    for path in cache_folder.rglob("*"):
        if not path.is_file():
            continue
        contents = [path.read_bytes()]
        is_entry = path.parent.parent.parent == layout and all(c in "0123456789abcdef" for c in path.name)
        payload = cache.get(path.parent.parent.name, path.name) if is_entry else None
        if payload is not None and payload[:1] == snapshot._RAW:
            contents.append(payload)  # a side kept raw: its pickle, searched as it is
            searched += path.parent.parent.name == snapshot.KIND
        elif payload is not None:
            try:
                contents.append(zlib.decompressobj().decompress(payload))
                searched += path.parent.parent.name == snapshot.KIND
            except zlib.error:
                pass  # not compressed: searched as it is
        for content in contents:
            assert b"ENC[" not in content and b"-----BEGIN" not in content, path
    assert searched == 2  # both snapshots were read, decompressed if they were compressed


def test_a_restored_sides_bytes_are_the_bytes_its_renders_share(stack: Path, cache_folder: Path) -> None:
    _check(stack)
    repository, head, entry = _entry(stack)
    with yamlio.sharing_parses(), target.sharing_renders(), snapshot.sharing_skeletons():
        side = snapshot.restore(entry, "base", repository, head)
        shared = target._SHARED.get()
        assert side is not None and side.rendered is not None and shared
        contents = {id(file.document.text): file.content for file in side.rendered.files if file.document}
        given = [(content, written) for content, written in shared.values() if id(written.text) in contents]
        assert given  # one copy: the bytes the other side's render takes are the restored file's own
        assert all(content is contents[id(written.text)] for content, written in given)


def test_a_restored_side_gives_the_walks_of_its_values_for_references(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check(stack)
    repository, head, entry = _entry(stack)
    assert _kept(entry).marks  # gitea and zulip hold references: walked, and kept
    with stack_module.sharing_marks(), yamlio.sharing_parses(), target.sharing_renders(), snapshot.sharing_skeletons():
        side = snapshot.restore(entry, "base", repository, head)
        assert side is not None and side.loaded is not None

        def walked(*args: Any) -> None:
            raise AssertionError("a restored side's values were walked again")

        monkeypatch.setattr(stack_module, "_walk", walked)
        loaded = side.loaded
        found: dict[str, list[Any]] = {}
        for release in loaded.stack.releases:  # what loading and rendering walk: a file that may hold one
            sources = [
                (loaded.values_documents[path], (), loaded.values_documents[path].data) for path in release.values_files
            ]
            sources.append((loaded.spec_documents[release.origin], ("values",), release.values))
            found[release.name] = [
                hit
                for document, prefix, data in sources
                if document.may_hold("${ref:")
                for hit in stack_module.marker_strings(data, prefix)
            ]
    assert found["gitea"] and all("${ref:" in text for _, text in found["gitea"])


def _kept_clean_base(stack: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """The report of a one-release change with the cache off, and the side the clean tree
    is kept as after a check (the base that change's next check restores)."""
    monkeypatch.setenv("RAIL_NO_CACHE", "1")
    _stage_a_change(stack)
    plain = _check(stack)
    git(stack, "reset", "-q", "--hard")
    monkeypatch.delenv("RAIL_NO_CACHE")
    _check(stack)  # the clean tree: read, linted, kept
    _, _, entry = _entry(stack)
    return plain, _kept(entry)


def test_the_next_index_finds_its_unchanged_objects_results_in_the_kept_base(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base is kept with the per-object rule entries its lint resolved: the index's lint
    after a one-release change asks the cache only for what the change touched."""
    plain, whole = _kept_clean_base(stack, monkeypatch)
    kept = whole.results
    assert kept and all(b"ENC[" not in payload for payload in kept.values())
    asked: list[str] = []
    real = cache.get

    def counted(kind: str, key: str) -> bytes | None:
        if kind == results.KIND:
            asked.append(key)
        return real(kind, key)

    monkeypatch.setattr(cache, "get", counted)
    _stage_a_change(stack)
    assert _check(stack) == plain
    assert 0 < len(asked) <= len(kept) // 5, (len(asked), len(kept))


def test_a_restored_sides_secrets_have_their_content_digests_back(stack: Path, cache_folder: Path) -> None:
    """The Secrets' documents are cut out of a kept side and rebuilt when it is restored; the
    content digests the lint keys them by are kept (digests only) and given back, each the
    digest of the rebuilt document, so the next lint does not hash a Secret again."""
    _check(stack)
    repository, head, entry = _entry(stack)
    kept = _kept(entry)
    assert kept.secret_contents and all(re.fullmatch(r"[0-9a-f]{64}", value) for value in kept.secret_contents.values())
    with yamlio.sharing_parses(), target.sharing_renders(), snapshot.sharing_skeletons():
        side = snapshot.restore(entry, "base", repository, head)
    assert side is not None and side.rendered is not None and side.loaded is not None
    rendered = [side.rendered.files[index].document for index in kept.outputs]
    assert rendered and all(documents.known_content(doc) is not None for doc in rendered if doc is not None)
    for doc in [*rendered, *(secret.document for secret in side.loaded.secret_files.values())]:
        known = documents.known_content(doc) if doc is not None else None
        assert doc is None or known is None or known == documents._content_digest(doc)


def test_the_next_index_renders_only_the_changed_release_of_the_kept_base(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base is kept with what each release rendered, by its inputs: the index's render
    after a one-release change spells the changed release's objects, no other's."""
    plain, kept = _kept_clean_base(stack, monkeypatch)
    assert kept.side.loaded is not None
    assert len(kept.release_renders) == len(kept.side.loaded.stack.releases) and all(
        render_key in kept.renders for made in kept.release_renders.values() for _, render_key in made
    )
    spelt: list[str] = []
    real = target._render_key

    def counted(templates: str, template: str, context: dict[str, Any], origin: str) -> str | None:
        if template == "helmrelease.yaml.j2":
            spelt.append(origin)
        return real(templates, template, context, origin)

    monkeypatch.setattr(target, "_render_key", counted)
    _stage_a_change(stack)
    spelt.clear()  # rail render's own, above
    assert _check(stack) == plain
    assert spelt == [VALKEY]


def test_the_next_index_is_cut_from_the_stubs_of_its_restored_base(
    stack: Path, cache_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index kept after a one-release change is cut from its restored base's own stubs
    (its secret files, its output files kept as their text): the very objects, so it is
    told against the base at a glance; only the changed release's are made anew."""
    plain, _ = _kept_clean_base(stack, monkeypatch)
    told: list[tuple[Any, Any]] = []
    real = snapshot.tell

    def spied(kept: Any, root: Any) -> Any:
        told.append((kept, root))
        return real(kept, root)

    monkeypatch.setattr(snapshot, "tell", spied)
    _stage_a_change(stack)
    assert _check(stack) == plain
    ((kept, root),) = told
    base_secrets = root.kept.side.loaded.secret_files
    secrets = kept.side.loaded.secret_files
    assert len(secrets) > 1 and {path for path, stub in secrets.items() if stub is not base_secrets[path]} == {
        SOPS_FILE,  # the changed release's: read again
        "secrets/s3/backup-destination.sops.yaml",  # a Backup's: backups are always read
    }
    assert all(stub.raw == b"" and stub.document.data is None for stub in secrets.values())
    base_files = {file.path: file for file in root.kept.side.rendered.files}
    as_text = [kept.side.rendered.files[index] for index in kept.as_text]
    made_anew = [file.path for file in as_text if base_files.get(file.path) is not file]
    assert len(as_text) > 10 and 0 < len(made_anew) <= 3, made_anew
    assert all(file.content == b"" for file in as_text)
