"""A side of a diff kept between runs, keyed by its git tree id (issue 16).

Reading a side is loading and rendering the whole stack: at 1,000 releases most of a
``rail check --staged``. Yet a side is a function of its tree alone (no import: see
:mod:`.cached`), and the same trees come back: the index a pre-commit hook checks is
the next commit's base; the base a pull request's every push diffs against is the same
commit. So a side read once is kept whole, as what reading it built (the model, the
rendered objects and the documents they came from, texts and all: a key's line is
worked out again from the text when a finding asks), and the next run restores it
instead of reading git objects, writing them out, loading and rendering. The base is
restored first, and gives the run what reading it parsed and rendered: the head (read,
when its tree is new) shares everything the two have in common, one set of objects,
neither read from the cache nor rendered again. Unlike the small entries (stored on
their second sighting, :mod:`renderer.cache`), a side is kept at its first: the tree a
hook checks comes back once, as the next commit's base. A side kept after this run
restored one is kept as its differences from the side kept whole that restore started
from (:mod:`.kept`): the few releases a commit touched, not the whole stack again.

**No secret at rest.** A side holds its Secrets: the SOPS files the specs list, which
render byte for byte into the output. Those are cut out before the side is kept: the
entry names each file and keeps only the SHA-256 of its bytes; restoring reads the
file again and checks it against the digest. Bytes with that digest are the tree's
wherever they come from: so they are read from the working tree where it holds them
(a regular file there, no link followed: the base of a pre-commit check, as a rule),
and from the tree itself (``git cat-file``) where it does not. Its
parse is kept as a skeleton (:func:`renderer.yamlio.skeleton`: the structure, and where
each value sits in the text, no value), which the file's text rebuilds without parsing
it again (1,200 parses of a 1,000-release stack, a second of every run); a file whose
skeleton would not rebuild its parse exactly has none, and is parsed.
Everything else kept must have passed the cache's guard in this run (a document read
from the store, or classified before it was stored: :func:`renderer.yamlio.admitted`);
a document that did not is classified now (at most :data:`_JUDGED_AT_MOST` of them: a
side the guard has mostly not seen, in a first run, is kept the next time), and a side
holding one the guard refuses is not kept at all. Last, the payload is searched for SOPS ciphertext and PEM blocks;
one found means nothing is stored.

The entry is a pickle of rail's own dataclasses. Pickle runs code named in its input,
so it is read only from the cache's folder, which is private (0700, this user's,
checked on every run) and whose entries are self-checking: the same trust as the
installed code itself. Restoring needs the side's lint result too (kept beside it by
:mod:`.cached`): a side restored is never linted, since its files are not written out.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import __version__, cache
from ..errors import InputError
from ..lint.documents import known_content, remember_content
from ..lint.results import Resolved, share_resolved
from ..load.stack import SecretFile, marks_of, secret_document, share_marks, the_secret
from ..memo import memo_scope
from ..render import Rendered
from ..render.target import (
    OutputFile,
    share_placed,
    share_release_renders,
    share_renders,
    shared_release_renders,
    shared_renders_of,
)
from ..yamlio import (
    Document,
    Skeleton,
    admitted,
    adopt_parse,
    load_documents,
    parser_identity,
    rebuild,
    share_parses,
    shared_parses_of,
    skeleton,
)
from .git import Repository
from .indexed import regular_bytes
from .kept import Kept, Root, Told, join, tell
from .sides import DiffObject, ObjectKey, Side, remember_objects

KIND = "snapshot"
FORMAT = "side-snapshot/11"  # bump when what is kept, or how, changes
_SECRET_AT_MOST = 1 << 22  # bytes: a larger working tree file is not read for a secret file
_SECRET_KINDS = frozenset({"Secret", "SealedSecret"})
_AT_REST = (b"ENC[", b"-----BEGIN")  # never in a payload, whatever let it through
_JUDGED_AT_MOST = 256  # documents the guard judges when a side is kept (~1 ms each)
_LONGEST_MARKER = max(len(marker) for marker in _AT_REST) - 1
_PIECE = 1 << 20  # compressed bytes decompressed at a time
_RAW = b"R"  # the first byte of a payload kept uncompressed (a zlib stream starts with 0x78)
_RAW_AT_MOST = 32 << 20  # a side pickled larger is compressed: some 2,000 releases
_UNREADABLE = (
    zlib.error,
    pickle.UnpicklingError,
    AttributeError,
    EOFError,
    ImportError,
    IndexError,
    TypeError,
    ValueError,
)


def key(tree: str) -> str:
    # The parser's identity too: a side keeps parses and SOPS skeletons, both what this
    # ruamel.yaml made of the texts (the parse entries of renderer.yamlio are keyed so).
    return cache.digest(FORMAT, __version__, tree, parser_identity())


# Skeletons of the SOPS files this scope has seen, by the SHA-256 of their bytes (None: the
# file has none): a side kept after another was restored (the head of a pre-commit check,
# after its base) shares most of its secret files with it, and makes none of them again.
_SKELETONS: ContextVar[dict[str, Skeleton | None] | None] = ContextVar("rail_skeletons", default=None)


# The side kept whole this scope restored first (directly, or as the root of a delta it
# restored): the side a hook keeps next is told against it (see .kept). Under the key "".
_ROOTS: ContextVar[dict[str, Root] | None] = ContextVar("rail_roots", default=None)


# What a restored side was made of, by the identity of what restoring made: each restored
# secret file, Secret object and output file's document, with the stub it was made from (a
# kept side's: no secret in it) and, for a file, the bytes it was given. The side kept after
# (the index of a pre-commit hook, sharing nearly all of them) is cut from the same stubs:
# no copy made, no text encoded again, and told against its root by identity.
_STUBS: ContextVar[dict[int, tuple[Any, Any, bytes | None]] | None] = ContextVar("rail_stubs", default=None)


def _made_from(made: Any, stub: Any, content: bytes | None = None) -> None:
    stubs = _STUBS.get()
    if stubs is not None:
        stubs[id(made)] = (made, stub, content)


def _restored_as(made: Any) -> tuple[Any, Any, bytes | None] | None:
    """``made``, the stub it was restored from in this scope and its bytes; None if it was not."""
    found = (_STUBS.get() or {}).get(id(made))
    return found if found is not None and found[0] is made else None


def _stub_of(made: Any) -> Any:
    """The stub ``made`` was restored from in this scope, or None."""
    found = _restored_as(made)
    return found[1] if found is not None else None


def sharing_skeletons() -> AbstractContextManager[None]:
    """Inside, a secret file's skeleton is made once, or taken from the side it was
    restored with; and a side kept is told against the side kept whole restored first."""
    return _sharing()


@contextmanager
def _sharing() -> Iterator[None]:
    with memo_scope(_SKELETONS), memo_scope(_ROOTS), memo_scope(_STUBS):
        yield


class _NotKept(Exception):
    """A part of the side may hold a secret: the side is not kept."""


def store(entry: str | None, side: Side, resolved: Resolved | None = None) -> None:
    """Keep ``side`` under ``entry`` (None: not kept), without a secret; ``resolved``: the
    per-object rule entries its lint used (renderer.lint.results.recording)."""
    if entry is None or not cache.enabled() or not side.from_specs or side.loaded is None or side.rendered is None:
        return
    try:
        kept = _without_secrets(side, resolved or {})
    except _NotKept:
        return
    # Kept at the first sighting, as the side's lint result is (renderer.diff.cached): as
    # the few entries it does not share with the side this run restored, if it can be.
    roots = _ROOTS.get()
    root = roots.get("") if roots is not None else None
    told = tell(kept, root) if root is not None and root.entry != entry else None
    # Pickled into a sink that keeps a small side as it is (decompressing 17 MB, a side of
    # 1,000 releases, is ~50 ms of a pre-commit hook) and compresses a large one as it goes:
    # at 10,000 releases a side kept whole pickles to some 240 MB, which is never held whole
    # (peak memory is a target); level 1 keeps a seventh.
    sink = _Compressed()
    try:
        pickle.Pickler(sink, protocol=pickle.HIGHEST_PROTOCOL).dump((FORMAT, told or kept))
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    pieces = sink.close()
    if pieces is not None:
        cache.put_pieces(KIND, entry, pieces)


def read_kept(payload: bytes) -> Kept | Told | None:
    """What :func:`store` kept, or None: an entry of another build, or not one at all."""
    try:
        # The cache's own private, self-checking entry. A compressed one is read as it is
        # decompressed, never whole.
        if payload[:1] == _RAW:
            version, kept = pickle.loads(memoryview(payload)[1:])
        else:
            version, kept = pickle.load(io.BufferedReader(_Decompressed(payload), _PIECE))
    except _UNREADABLE:  # an entry of another build of rail: read the side as usual
        return None
    return kept if version == FORMAT and isinstance(kept, (Kept, Told)) else None


def _whole(entry: str) -> Kept | None:
    """The side kept whole under ``entry`` (the cache's), or None."""
    roots = _ROOTS.get()
    root = roots.get("") if roots is not None else None
    if root is not None and root.entry == entry:
        return root.kept
    payload = cache.get(KIND, entry)
    kept = read_kept(payload) if payload is not None else None
    return kept if isinstance(kept, Kept) else None


def read_entry(entry: str) -> Kept | None:
    """The side kept under ``entry``, joined to its root if it is a delta (None: nothing
    kept, or its root is gone); the first root a scope restores is the one it tells the
    sides it keeps against."""
    payload = cache.get(KIND, entry)
    read = read_kept(payload) if payload is not None else None
    if read is None:
        return None
    if isinstance(read, Kept):
        root = Root(entry, read)
        kept: Kept | None = read
    else:
        whole = _whole(read.root)
        if whole is None:
            return None  # its root is gone (pruned): read the side as usual
        root = Root(read.root, whole)
        kept = join(read, root)
    roots = _ROOTS.get()
    if kept is not None and roots is not None:
        roots.setdefault("", root)
    return kept


class _Compressed:
    """A file to pickle into: watches what is written for :data:`_AT_REST`, and keeps it
    as it is (after :data:`_RAW`) up to :data:`_RAW_AT_MOST` bytes; past that, compresses
    all of it (a zlib stream, whose first byte is never :data:`_RAW`)."""

    def __init__(self, raw_at_most: int | None = None) -> None:
        self._raw_at_most = _RAW_AT_MOST if raw_at_most is None else raw_at_most
        self._compressor: Any = None  # a zlib compressor, once the payload is too large to keep raw
        self._parts: list[bytes] = [_RAW]
        self._size = 0
        self._tail = b""  # the end of the last write: a marker may straddle two
        self._tainted = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        chunk = bytes(data)
        seen = self._tail + chunk
        if any(marker in seen for marker in _AT_REST):
            self._tainted = True
        self._tail = seen[-_LONGEST_MARKER:]
        self._size += len(chunk)
        if self._compressor is None and self._size > self._raw_at_most:
            self._compressor = zlib.compressobj(1)
            raw, self._parts = self._parts[1:], []
            raw.reverse()
            while raw:  # each raw piece freed as it is compressed
                self._parts.append(self._compressor.compress(raw.pop()))
        self._parts.append(chunk if self._compressor is None else self._compressor.compress(chunk))
        return len(chunk)

    def close(self) -> list[bytes] | None:
        """The payload's pieces in order (written as they are: a join would hold it twice),
        or None if a marker went by."""
        if self._compressor is not None:
            self._parts.append(self._compressor.flush())
        return None if self._tainted else self._parts


def restore(entry: str | None, label: str, repository: Repository, side: str) -> Side | None:
    """The side kept under ``entry``, its Secrets read again from ``side``'s tree; None when
    nothing is kept, or what is kept does not match the tree (it is then read as usual)."""
    kept = read_entry(entry) if entry is not None else None
    if kept is None:
        return None
    secrets = _secret_files(kept, repository, side)
    if secrets is None:
        return None
    restored = _with_secrets(kept, secrets, label)
    if restored is not None:
        for content, document in kept.contents.items():
            remember_content(document, content)
        share_parses(kept.parses)
        share_marks(kept.marks)
        share_resolved(kept.results)
        _remember_secret_contents(restored, kept)
        remember_objects(restored.objects, restored.config)
        # The restored side's bytes are its renders' bytes: one copy, shared by the other side.
        files = restored.rendered.files if restored.rendered is not None else ()
        share_renders(kept.renders, {id(f.document.text): f.content for f in files if f.document is not None})
        share_placed(files)
        share_release_renders(kept.release_renders)
    return restored


class _Decompressed(io.RawIOBase):
    """A compressed payload read as a file, a piece at a time (``pickle.load`` reads it)."""

    def __init__(self, payload: bytes) -> None:
        self._decompressor = zlib.decompressobj()
        self._payload = memoryview(payload)
        self._offset = 0
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and self._offset < len(self._payload):
            piece = self._payload[self._offset : self._offset + _PIECE]
            self._offset += len(piece)
            self._pending = memoryview(self._decompressor.decompress(piece))
        if not self._pending:
            self._pending = memoryview(self._decompressor.flush())
        target = memoryview(buffer).cast("B")
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _without_secrets(side: Side, resolved: Resolved) -> Kept:
    loaded, rendered = side.loaded, side.rendered
    assert loaded is not None and rendered is not None
    if loaded.imports:
        raise _NotKept
    guard = _Guard()
    # A rendered Secret is its file's document under another path: the same data.
    secret_data = {id(secret.document.data): path for path, secret in loaded.secret_files.items()}
    secret_bytes = {secret.raw: path for path, secret in loaded.secret_files.items()}
    for document in (*loaded.spec_documents.values(), *loaded.values_documents.values()):
        guard.check(document)
    outputs: dict[int, str] = {}
    secret_contents: dict[tuple[str, int], str] = {}
    for secret in loaded.secret_files.values():
        _digest_of(secret.document, secret_contents)
    as_text: set[int] = set()
    files: list[OutputFile] = []
    for index, file in enumerate(rendered.files):
        source = secret_bytes.get(file.content)
        if source is None and file.document is not None:
            source = secret_data.get(id(file.document.data))
        if source is not None:
            outputs[index] = source
            files.append(OutputFile(file.path, b"", _where(file.document)))
            _digest_of(file.document, secret_contents)
            continue
        if file.document is not None:
            guard.check(file.document)
            known = _restored_as(file.document)
            if known is not None and file.content is known[2] and known[1].path == file.path:
                as_text.add(index)  # the very text and bytes a restored file had: its stub
                files.append(known[1])
                continue
            text = file.document.text
            if text is not None and file.content == text.encode("utf-8"):
                as_text.add(index)  # kept once, as the text: most of a side's bytes
                files.append(OutputFile(file.path, b"", file.document))
                continue
        files.append(file)
    objects: dict[ObjectKey, str] = {}
    kept_objects: dict[ObjectKey, DiffObject] = {}
    for object_key, obj in side.objects.items():
        source = secret_data.get(id(obj.document.data)) if obj.document is not None else None
        if source is not None:
            objects[object_key] = source
            kept_objects[object_key] = _stub_of(obj) or replace(obj, data={}, document=_where(obj.document))
            continue
        if obj.kind in _SECRET_KINDS:
            raise _NotKept  # a Secret that is no SOPS file of the stack
        if obj.document is not None:
            guard.check(obj.document)
        elif not cache.secret_free(obj.data):
            raise _NotKept
        kept_objects[object_key] = obj
    stubs = {
        path: _stub_of(secret) or replace(secret, raw=b"", document=Document(path=path, data=None))
        for path, secret in loaded.secret_files.items()
    }
    kept_side = replace(
        side,
        objects=kept_objects,
        loaded=replace(loaded, secret_files=stubs),
        rendered=Rendered(files=files, resolution=rendered.resolution),
        manifests=[],  # lint's: a restored side is never linted
        output_files=None,
    )
    digests = {path: hashlib.sha256(secret.raw).hexdigest() for path, secret in loaded.secret_files.items()}
    texts = {document.text for document in (*loaded.spec_documents.values(), *loaded.values_documents.values())}
    parses = shared_parses_of({text for text in texts if text is not None})
    renders = shared_renders_of({id(file.document.data) for file in files if file.document is not None})
    skeletons = _skeletons(loaded.secret_files, digests)
    contents = _contents(kept_side)
    return Kept(
        side=kept_side,
        secrets=digests,
        outputs=outputs,
        as_text=frozenset(as_text),
        objects=objects,
        parses=parses,
        renders=renders,
        skeletons=skeletons,
        contents=contents,
        marks=marks_of(loaded),
        results=resolved,
        secret_contents=secret_contents,
        release_renders=shared_release_renders(renders.keys()),
    )


def _digest_of(document: Document | None, found: dict[tuple[str, int], str]) -> None:
    """A Secret's document's content digest (renderer.lint.documents), if this run worked
    it out, by its path and index: a digest is all of a Secret that is ever kept."""
    content = known_content(document) if document is not None else None
    if document is not None and content is not None:
        found[(document.path, document.index)] = content


def _remember_secret_contents(side: Side, kept: Kept) -> None:
    """The content digests of a restored side's Secret documents, as kept: each rebuilt
    from the very bytes it was kept from (checked by their digest)."""
    loaded, rendered = side.loaded, side.rendered
    if loaded is None or rendered is None or not kept.secret_contents:
        return
    documents: list[Document | None] = [secret.document for secret in loaded.secret_files.values()]
    documents += [rendered.files[index].document for index in kept.outputs]
    for document in documents:
        content = kept.secret_contents.get((document.path, document.index)) if document is not None else None
        if document is not None and content is not None:
            remember_content(document, content)


def _contents(side: Side) -> dict[str, Document]:
    """The content digests this run worked out for the documents ``side`` keeps (its
    Secrets already cut out), each with its document."""
    loaded, rendered = side.loaded, side.rendered
    assert loaded is not None and rendered is not None
    documents = [
        *(obj.document for obj in side.objects.values()),
        *(file.document for file in rendered.files),
        *loaded.spec_documents.values(),
        *loaded.values_documents.values(),
    ]
    contents: dict[str, Document] = {}
    for document in documents:
        content = known_content(document) if document is not None else None
        if document is not None and content is not None:
            contents.setdefault(content, document)
    return contents


def _skeletons(secret_files: dict[str, SecretFile], digests: dict[str, str]) -> dict[str, Skeleton]:
    known = _SKELETONS.get()
    made: dict[str, Skeleton] = {}
    for path, secret in secret_files.items():
        digest = digests[path]
        if known is not None and digest in known:
            found = known[digest]
        else:
            found = _skeleton(secret.raw, path)
            if known is not None:
                known[digest] = found
        if found is not None:
            made[path] = found
    return made


def _skeleton(raw: bytes, path: str) -> Skeleton | None:
    """A secret file's skeleton, from its parse in this scope (no second parse)."""
    try:
        text = raw.decode("utf-8")
        return skeleton(text, path, load_documents(text, path, strict_tags=False))
    except (InputError, UnicodeDecodeError):
        return None


def _where(document: Document | None) -> Document | None:
    """A secret's document without its content: only where it was."""
    return None if document is None else Document(path=document.path, data=None)


class _Guard:
    """Lets a document be kept only if the guard passed it in this run, or passes it now;
    judging at most :data:`_JUDGED_AT_MOST` of them now. A side whose documents the guard
    has mostly not seen (a first run: entries are stored on their second sighting, see
    :mod:`renderer.cache`) is not kept this time, rather than paying for judging it all;
    a change of a few files, the common case, is judged and kept."""

    def __init__(self) -> None:
        self.judged = 0

    def check(self, document: Document) -> None:
        if admitted(document):
            return
        self.judged += 1
        if self.judged > _JUDGED_AT_MOST or not cache.secret_free(document.data):
            raise _NotKept


def _secret_files(kept: Kept, repository: Repository, side: str) -> dict[str, SecretFile] | None:
    read = _secret_bytes(kept.secrets, repository, side)
    loaded = kept.side.loaded
    if read is None or loaded is None:
        return None
    known = _SKELETONS.get()
    secrets: dict[str, SecretFile] = {}
    for path in sorted(kept.secrets):
        raw, digest = read[path], kept.secrets[path]
        try:
            document = _secret(raw.decode("utf-8"), path, kept.skeletons.get(path))
        except (InputError, UnicodeDecodeError):  # it read before: read the side as usual
            return None
        if document is None:
            return None
        if known is not None:
            known.setdefault(digest, kept.skeletons.get(path))
        secrets[path] = replace(loaded.secret_files[path], raw=raw, document=document)
        _made_from(secrets[path], loaded.secret_files[path])
    return secrets


def _secret_bytes(digests: dict[str, str], repository: Repository, side: str) -> dict[str, bytes] | None:
    """The bytes of each secret file the side was read with, each checked against its
    SHA-256; None if one is not. Bytes with that digest are the tree's wherever they are
    read: so from the working tree where it holds them (a pre-commit check's base, as a
    rule: two git processes fewer), the rest from the tree itself."""
    # A plain string joined by "/": a Path a file costs more than reading it, at 1,200 files.
    folder = os.fspath(repository.top / repository.prefix)
    read: dict[str, bytes] = {}
    for path, digest in digests.items():
        raw = _plain_bytes(f"{folder}/{path}")
        if raw is not None and hashlib.sha256(raw).hexdigest() == digest:
            read[path] = raw
    rest = sorted(path for path in digests if path not in read)
    if not rest:
        return read
    from_git = repository.read_paths(side, rest)
    if from_git is None:
        return None
    for path in rest:
        if hashlib.sha256(from_git[path]).hexdigest() != digests[path]:
            return None  # a link, or not the bytes the side was read with
        read[path] = from_git[path]
    return read


def _plain_bytes(path: str | Path) -> bytes | None:
    """A regular file's bytes (no link followed, no fifo waited on), none larger than a
    secret file is."""
    return regular_bytes(path, _SECRET_AT_MOST)


def _secret(text: str, path: str, kept: Skeleton | None) -> Document | None:
    """A secret file's document: rebuilt from its skeleton as the parse it was made from,
    which the run then shares as that parse; parsed when it has none."""
    documents = None if kept is None else rebuild(text, path, kept)
    if documents is None:
        return secret_document(text, path)
    return the_secret(adopt_parse(text, path, False, documents))


def _at(document: Document, stub: Document | None) -> Document | None:
    """The secret's document where the stub says it was (None: it had none)."""
    if stub is None:
        return None
    return document if stub.path == document.path else replace(document, path=stub.path)


def _with_secrets(kept: Kept, secrets: dict[str, SecretFile], label: str) -> Side | None:
    side, loaded, rendered = kept.side, kept.side.loaded, kept.side.rendered
    if loaded is None or rendered is None:
        return None
    files = list(rendered.files)
    for index in kept.as_text:
        stub = files[index]
        if stub.document is None or stub.document.text is None:
            return None
        files[index] = OutputFile(stub.path, stub.document.text.encode("utf-8"), stub.document)
        _made_from(stub.document, stub, files[index].content)
    for index, path in kept.outputs.items():
        secret, stub = secrets[path], files[index]
        files[index] = OutputFile(stub.path, secret.raw, _at(secret.document, stub.document))
    objects = dict(side.objects)
    for object_key, path in kept.objects.items():
        stub_object = objects[object_key]
        document = _at(secrets[path].document, stub_object.document)
        data: Any = document.data if document is not None else {}
        objects[object_key] = replace(stub_object, data=data, document=document)
        _made_from(objects[object_key], stub_object)
    return replace(
        side,
        label=label,
        objects=objects,
        loaded=replace(loaded, secret_files=secrets),
        rendered=Rendered(files=files, resolution=rendered.resolution),
    )
