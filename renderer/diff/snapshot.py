"""A side of a diff kept between runs, keyed by its git tree id (issue 16).

Reading a side is loading and rendering the whole stack: at 1,000 releases most of a
``rail check --staged``. Yet a side is a function of its tree alone (no import: see
:mod:`.cached`), and the same trees come back: the index a pre-commit hook checks is
the next commit's base; the base a pull request's every push diffs against is the same
commit. So a side read once is kept whole, as what reading it built (the model, the
rendered objects and the documents they came from, positions and all), and the next
run restores it instead of reading git objects, writing them out, loading and
rendering.

**No secret at rest.** A side holds its Secrets: the SOPS files the specs list, which
render byte for byte into the output. Those are cut out before the side is kept: the
entry names each file and keeps only the SHA-256 of its bytes; restoring reads the
file again from the same tree (``git cat-file``) and checks it against the digest.
Everything else kept must have passed the cache's guard in this run (a document read
from the store, or classified before it was stored: :func:`renderer.yamlio.admitted`);
a document that did not is classified now, and a side holding one the guard refuses
is not kept at all. Last, the payload is searched for SOPS ciphertext and PEM blocks;
one found means nothing is stored.

The entry is a pickle of rail's own dataclasses. Pickle runs code named in its input,
so it is read only from the cache's folder, which is private (0700, this user's,
checked on every run) and whose entries are self-checking: the same trust as the
installed code itself. Restoring needs the side's lint result too (kept beside it by
:mod:`.cached`): a side restored is never linted, since its files are not written out.
"""

from __future__ import annotations

import hashlib
import pickle
import zlib
from dataclasses import dataclass, replace
from typing import Any

from .. import __version__, cache
from ..errors import InputError
from ..load.stack import SecretFile, secret_document
from ..render import Rendered
from ..render.target import OutputFile
from ..yamlio import Document, admitted
from .git import Repository
from .sides import DiffObject, ObjectKey, Side

KIND = "snapshot"
FORMAT = "side-snapshot/2"  # bump when what is kept, or how, changes
_SECRET_KINDS = frozenset({"Secret", "SealedSecret"})
_AT_REST = (b"ENC[", b"-----BEGIN")  # never in a payload, whatever let it through
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
    return cache.digest(FORMAT, __version__, tree)


@dataclass(frozen=True)
class _Kept:
    side: Side  # with every Secret cut out
    secrets: dict[str, str]  # secret file path -> SHA-256 of its bytes
    outputs: dict[int, str]  # index in rendered.files -> the secret file it passes through
    as_text: frozenset[int]  # indexes in rendered.files whose bytes are their document's text
    objects: dict[ObjectKey, str]  # a Secret object -> the secret file it is


class _NotKept(Exception):
    """A part of the side may hold a secret: the side is not kept."""


def store(entry: str | None, side: Side) -> None:
    """Keep ``side`` under ``entry`` (None: not kept), without a secret."""
    if entry is None or not cache.enabled() or not side.from_specs or side.loaded is None or side.rendered is None:
        return
    try:
        kept = _without_secrets(side)
    except _NotKept:
        return
    try:
        payload = pickle.dumps((FORMAT, kept), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return
    if any(marker in payload for marker in _AT_REST):
        return
    # Level 1: a seventh of the size (23.8 MB -> 3.5 MB at 1,000 releases) for ~0.2 s, so
    # the cap holds a 10,000-release stack's sides, not one or two.
    cache.put(KIND, entry, zlib.compress(payload, 1))


def restore(entry: str | None, label: str, repository: Repository, side: str) -> Side | None:
    """The side kept under ``entry``, its Secrets read again from ``side``'s tree; None when
    nothing is kept, or what is kept does not match the tree (it is then read as usual)."""
    if entry is None:
        return None
    payload = cache.get(KIND, entry)
    if payload is None:
        return None
    try:
        version, kept = pickle.loads(zlib.decompress(payload))  # the cache's own private, self-checking entry
    except _UNREADABLE:  # an entry of another build of rail: read the side as usual
        return None
    if version != FORMAT or not isinstance(kept, _Kept):
        return None
    secrets = _secret_files(kept, repository, side)
    if secrets is None:
        return None
    return _with_secrets(kept, secrets, label)


def _without_secrets(side: Side) -> _Kept:
    loaded, rendered = side.loaded, side.rendered
    assert loaded is not None and rendered is not None
    if loaded.imports:
        raise _NotKept
    # A rendered Secret is its file's document under another path: the same data.
    secret_data = {id(secret.document.data): path for path, secret in loaded.secret_files.items()}
    secret_bytes = {secret.raw: path for path, secret in loaded.secret_files.items()}
    for document in (*loaded.spec_documents.values(), *loaded.values_documents.values()):
        _check(document)
    outputs: dict[int, str] = {}
    as_text: set[int] = set()
    files: list[OutputFile] = []
    for index, file in enumerate(rendered.files):
        source = secret_bytes.get(file.content)
        if source is None and file.document is not None:
            source = secret_data.get(id(file.document.data))
        if source is not None:
            outputs[index] = source
            files.append(OutputFile(file.path, b"", _where(file.document)))
            continue
        if file.document is not None:
            _check(file.document)
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
            kept_objects[object_key] = replace(obj, data={}, document=_where(obj.document))
            continue
        if obj.kind in _SECRET_KINDS:
            raise _NotKept  # a Secret that is no SOPS file of the stack
        if obj.document is not None:
            _check(obj.document)
        elif not cache.secret_free(obj.data):
            raise _NotKept
        kept_objects[object_key] = obj
    stubs = {
        path: replace(secret, raw=b"", document=Document(path=path, data=None))
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
    return _Kept(kept_side, digests, outputs, frozenset(as_text), objects)


def _where(document: Document | None) -> Document | None:
    """A secret's document without its content: only where it was."""
    return None if document is None else Document(path=document.path, data=None)


def _check(document: Document) -> None:
    """Let ``document`` be kept only if the guard passes it (in this run, or now)."""
    if not admitted(document) and not cache.secret_free(document.data):
        raise _NotKept


def _secret_files(kept: _Kept, repository: Repository, side: str) -> dict[str, SecretFile] | None:
    paths = sorted(kept.secrets)
    read = repository.read_paths(side, paths)
    loaded = kept.side.loaded
    if read is None or loaded is None:
        return None
    secrets: dict[str, SecretFile] = {}
    for path in paths:
        raw = read[path]
        if hashlib.sha256(raw).hexdigest() != kept.secrets[path]:
            return None  # a link, or not the bytes the side was read with
        try:
            document = secret_document(raw.decode("utf-8"), path)
        except (InputError, UnicodeDecodeError):  # it read before: read the side as usual
            return None
        if document is None:
            return None
        secrets[path] = replace(loaded.secret_files[path], raw=raw, document=document)
    return secrets


def _at(document: Document, stub: Document | None) -> Document | None:
    """The secret's document where the stub says it was (None: it had none)."""
    if stub is None:
        return None
    return document if stub.path == document.path else replace(document, path=stub.path)


def _with_secrets(kept: _Kept, secrets: dict[str, SecretFile], label: str) -> Side | None:
    side, loaded, rendered = kept.side, kept.side.loaded, kept.side.rendered
    if loaded is None or rendered is None:
        return None
    files = list(rendered.files)
    for index in kept.as_text:
        stub = files[index]
        if stub.document is None or stub.document.text is None:
            return None
        files[index] = OutputFile(stub.path, stub.document.text.encode("utf-8"), stub.document)
    for index, path in kept.outputs.items():
        secret, stub = secrets[path], files[index]
        files[index] = OutputFile(stub.path, secret.raw, _at(secret.document, stub.document))
    objects = dict(side.objects)
    for object_key, path in kept.objects.items():
        stub_object = objects[object_key]
        document = _at(secrets[path].document, stub_object.document)
        data: Any = document.data if document is not None else {}
        objects[object_key] = replace(stub_object, data=data, document=document)
    return replace(
        side,
        label=label,
        objects=objects,
        loaded=replace(loaded, secret_files=secrets),
        rendered=Rendered(files=files, resolution=rendered.resolution),
    )
