"""kustomize's ``configMapGenerator`` and ``secretGenerator``, as kustomize v5.5 does them.

Flux and Argo CD apply what kustomize builds, so rail must build the same objects,
byte for byte: a different value or name suffix would make rail lint, diff and
report objects that never reach the cluster. Every rule below was read in the
kustomize source (``api/kv``, ``api/internal/generators``, ``api/hasher``,
``api/resmap``, ``api/filters/nameref``) and checked against ``kubectl kustomize``
(kustomize v5.5.0).

The pieces, in the order a build uses them:

* :func:`generate` turns one kustomization's generator entries into
  :class:`Generated` objects (``generate_all`` does both kinds and their behaviors).
  Sources are read in kustomize's order: ``envs`` (then the legacy ``env``), then
  ``literals``, then ``files``; a key given twice is an error.

  - ``literals``: ``KEY=value``, split at the first ``=``; one pair of matching
    surrounding quotes (``"..."`` or ``'...'``) is removed, nothing else.
  - ``files``: ``path`` (the key is the file's base name) or ``key=path``; the
    content is kept as is (no trimming). In a ConfigMap a file that is not UTF-8
    goes under ``binaryData``, base64-encoded.
  - ``envs``: one ``KEY=value`` a line, lines split at ``\\n`` with one trailing
    ``\\r`` dropped, a UTF-8 BOM dropped from the first line, leading white space
    (Go's ``unicode.IsSpace``) dropped, blank lines and lines starting with ``#``
    skipped. Nothing else is trimmed or unquoted: ``B = 2`` is key ``"B "`` with
    value ``" 2"``, ``C="x"`` keeps its quotes, ``export C=1`` is key
    ``"export C"``. A line without ``=`` gives the empty value (kustomize v5.5 no
    longer reads the process environment); a line ``=x`` (empty key) is skipped.
    A line of 64 KiB or more stops kustomize's line scanner without an error:
    that line and every later one are dropped. rail drops them too, and says so.
  - A Secret's values are base64-encoded under ``data``, broken into lines of 70
    characters each ending in ``\\n`` once the encoding reaches 70 characters
    (kustomize's ``encodeBase64``); ``binaryData`` in a ConfigMap likewise.
    ``type`` defaults to ``Opaque``.
  - ``options`` and the kustomization's ``generatorOptions``: labels and
    annotations (the entry's own keys win), ``disableNameSuffixHash`` and
    ``immutable`` (true in either wins).

  Like kustomize, keys are not validated (``"B "`` passes): the API server
  judges them.

* :func:`absorb` applies an entry's ``behavior`` against the objects built so far
  (a base's generated objects, the kustomization's resources, earlier entries):
  ``create`` (or none, or an unknown word) needs no object of that kind and name,
  ``merge`` and ``replace`` need exactly one. Both keep the old object's name and
  namespace and merge labels and annotations (new keys win); ``merge`` also
  merges ``data`` and ``binaryData`` key by key; every other field (``type``,
  ``immutable``) comes from the new entry. The result gets the name suffix only
  if both the old object and the new entry do (what kubectl does).

* :func:`hashed_name` is the suffix. kustomize hashes the *final* object (after
  every transformer: a patch or replacement of ``data`` changes the suffix), so
  :func:`suffix_names` must run last, as in kustomize's own build, and returns the
  renames for :func:`rename_references`. The hash covers kind, ``data``,
  ``binaryData`` (Secret: ``type``, ``data``, ``stringData``); never the name,
  labels or namespace (see :func:`name_hash`).

* :func:`rename_references` rewrites references to renamed ConfigMaps and Secrets
  the way kustomize's nameReference transformer does, with kustomize's built-in
  list (:data:`BUILTIN_NAME_REFERENCES`) plus what ``configurations`` files add
  (:func:`load_configurations`). The built-in list, for v5.5:

  - ConfigMap, in Pod (``spec/``), PodTemplate (``template/spec/``), Deployment,
    ReplicaSet, DaemonSet, StatefulSet, Job (``spec/template/spec/``) and CronJob
    (``spec/jobTemplate/spec/template/spec/``): ``volumes/configMap/name``,
    ``volumes/projected/sources/configMap/name``,
    ``containers|initContainers/env/valueFrom/configMapKeyRef/name``,
    ``containers|initContainers/envFrom/configMapRef/name``; Node
    ``spec/configSource/configMap``; Role and ClusterRole ``rules/resourceNames``;
    Ingress annotation ``nginx.ingress.kubernetes.io/fastcgi-params-configmap``.
  - Secret, in the same workloads: ``volumes/secret/secretName``,
    ``volumes/projected/sources/secret/name``,
    ``containers|initContainers/env/valueFrom/secretKeyRef/name``,
    ``containers|initContainers/envFrom/secretRef/name``,
    ``imagePullSecrets/name``; Ingress ``spec/tls/secretName`` and the
    annotations ``ingress.kubernetes.io/auth-secret``,
    ``nginx.ingress.kubernetes.io/auth-secret``,
    ``nginx.ingress.kubernetes.io/auth-tls-secret``; ServiceAccount
    ``imagePullSecrets/name``; StorageClass ``parameters/secretName``,
    ``adminSecretName``, ``userSecretName``, ``secretRef``; Role and ClusterRole
    ``rules/resourceNames``; Knative Service (serving.knative.dev/v1)
    ``spec/template/spec/containers/env/valueFrom/secretKeyRef/name``;
    PersistentVolume ``spec/azureFile/secretName``.

  Flux's ``HelmRelease`` ``spec/valuesFrom/name`` and ``Kustomization``
  ``spec/postBuild/substituteFrom/name`` are *not* built in: kustomize renames
  them only when a ``configurations`` file lists them. Like kustomize, a field is
  renamed by its path alone: the ``kind`` beside a ``valuesFrom`` name is not
  read, so with a ConfigMap and a Secret of the same name both configured, both
  entries take the ConfigMap's new name (ConfigMap references are fixed first).

Paths: a generator's input files and ``configurations`` files are resolved
against the kustomization's folder and must stay inside ``root``: an absolute
path, a ``../`` past the root, a symlink out of it, a URL or a file that is not a
regular file is refused with a note, before anything is read. Flux builds with
the repository as the boundary; ``kubectl kustomize`` and Argo CD's default allow
only the kustomization's own folder: pass that folder as ``root`` for their rule.

Known differences from kustomize: merging over a hand-written ConfigMap whose
``data`` values are not strings uses their Python form (kustomize keeps the YAML
source text: ``1.50`` stays ``"1.50"``, here it becomes ``"1.5"``); input files
larger than :data:`MAX_INPUT_BYTES` are refused (no API server takes them);
:func:`rename_references` leaves a reference alone where kustomize would stop
with "found multiple possible referrals", and treats group and version of a
``nameReference`` entry as matching any ConfigMap or Secret of that kind.

Notes never quote a value read from the inputs (a literal may be a secret): they
name the file, line and key path.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..errors import InputError, Problem
from ..yamlio import Document, KeyPath, format_key_path, load_document

CONFIG_MAP = "ConfigMap"
SECRET = "Secret"
# The kustomization field of each kind, in the order kustomize runs them.
GENERATOR_FIELDS = {CONFIG_MAP: "configMapGenerator", SECRET: "secretGenerator"}

BEHAVIORS = ("create", "merge", "replace")

# No API server stores an object this large (etcd's limit is 1.5 MiB): a larger
# input is a mistake, and reading it whole would only cost memory.
MAX_INPUT_BYTES = 8 * 1024 * 1024

# Go's bufio.Scanner gives up on a line this long (bufio.MaxScanTokenSize).
_MAX_ENV_LINE = 64 * 1024
_BASE64_LINE = 70
_UTF8_BOM = b"\xef\xbb\xbf"
# Go's unicode.IsSpace (Python's str.isspace also takes U+001C..U+001F).
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# The hash suffix: the first ten hex digits of a sha256, with the characters that
# could spell words or look alike swapped out (kustomize's hasher.encode).
_HASH_ALPHABET = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})

_ENTRY_FIELDS = frozenset({"name", "namespace", "behavior", "literals", "files", "envs", "env", "options"})
_OPTION_FIELDS = frozenset({"labels", "annotations", "disableNameSuffixHash", "immutable"})

Renames = Mapping[tuple[str, str, str], str]


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Generated:
    """One object a generator made, or one a generator may merge into.

    ``obj`` is the plain ConfigMap or Secret, named without its suffix; it is
    never changed after construction (every function here copies). ``source`` is
    the kustomization that made it and ``line`` the line of its entry there.
    ``hash_suffix`` says whether :func:`suffix_names` appends the content hash,
    and ``previous`` holds the object's earlier ``(name, namespace)`` ids, oldest
    first: a builder that renames the object (prefix, namespace) records them so
    an overlay's ``behavior: merge`` still finds it by the name it was made with.
    """

    obj: dict[str, Any]
    source: str
    line: int | None = None
    behavior: str = "create"
    hash_suffix: bool = True
    previous: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of_resource(cls, obj: Mapping[str, Any], source: str, line: int | None = None) -> Generated:
        """A hand-written object (from ``resources``) that a generator may merge into; it
        never gets a suffix, and neither does what merges into it."""
        return cls(obj=copy.deepcopy(dict(obj)), source=source, line=line, hash_suffix=False)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        return _meta_str(self.obj, "name")

    @property
    def namespace(self) -> str:
        return _meta_str(self.obj, "namespace")

    def ids(self) -> list[tuple[str, str]]:
        """Every ``(name, namespace)`` this object has had, the current one first."""
        return [(self.name, self.namespace), *self.previous]


@dataclass(frozen=True)
class GeneratorResult:
    """What a generator step produced: the objects and what went wrong (in file order)."""

    objects: tuple[Generated, ...] = ()
    notes: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Suffixed:
    """Objects with their final names, and ``{(kind, namespace, old name): new name}``."""

    objects: tuple[Generated, ...]
    renames: dict[tuple[str, str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    """Where a referrer holds a name: kustomize's ``fieldSpecs`` item. Empty
    ``kind``, ``group`` or ``version`` match anything."""

    path: tuple[str, ...]
    kind: str = ""
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class NameReference:
    """Which fields refer to objects of ``kind`` by name (a ``nameReference`` item)."""

    kind: str
    fieldspecs: tuple[FieldSpec, ...]


# --------------------------------------------------------------------------- generating


def generate(
    entries: Sequence[Any],
    kind: str,
    folder: Path,
    root: Path,
    options: Mapping[str, Any] | None = None,
    *,
    document: Document | None = None,
) -> GeneratorResult:
    """Build the objects of one kustomization's ``configMapGenerator`` (``kind``
    ``ConfigMap``) or ``secretGenerator`` (``Secret``) ``entries``.

    ``folder`` holds the kustomization, ``root`` is the boundary no input may
    leave, ``options`` is its ``generatorOptions``. ``document``, the parsed
    kustomization, gives the notes and objects their file and line. Behaviors are
    not applied here (see :func:`absorb`): each object carries its entry's.
    """
    if kind not in GENERATOR_FIELDS:
        raise ValueError(f"no generator makes a {kind}")
    context = _Context(kind=kind, folder=_absolute(folder), root=_absolute(root), document=document)
    global_options = context.options(options, ("generatorOptions",))
    objects = []
    for index, entry in enumerate(entries):
        made = context.entry(entry, index, global_options)
        if made is not None:
            objects.append(made)
    return GeneratorResult(objects=tuple(objects), notes=tuple(context.notes))


def generate_all(
    kustomization: Mapping[str, Any],
    folder: Path,
    root: Path,
    existing: Sequence[Generated] = (),
    *,
    document: Document | None = None,
) -> GeneratorResult:
    """Run both generators of ``kustomization`` as kustomize does (ConfigMaps, then
    Secrets, each entry's behavior applied in turn against ``existing`` and the
    entries before it) and return every object: ``existing`` (merged into where a
    behavior said so) followed by the new ones."""
    objects = list(existing)
    notes: list[Problem] = []
    options = kustomization.get("generatorOptions")
    if options is not None and not isinstance(options, Mapping):
        notes.append(_problem(document, folder, root, ("generatorOptions",), "generatorOptions must be a mapping"))
    for kind, name in GENERATOR_FIELDS.items():
        entries = kustomization.get(name)
        if entries is None:
            continue
        if not isinstance(entries, list):
            notes.append(_problem(document, folder, root, (name,), f"{name} must be a list of generators"))
            continue
        made = generate(
            entries, kind, folder, root, options if isinstance(options, Mapping) else None, document=document
        )
        # Both kinds read generatorOptions: say what is wrong with it once.
        notes.extend(note for note in made.notes if note not in notes)
        for item in made.objects:
            absorbed = absorb(objects, item)
            objects = list(absorbed.objects)
            notes.extend(absorbed.notes)
    return GeneratorResult(objects=tuple(objects), notes=tuple(notes))


@dataclass
class _Options:
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    disable_hash: bool = False
    immutable: bool = False

    def merged_over(self, global_options: _Options) -> _Options:
        """kustomize's MergeGlobalOptionsIntoLocal: local keys win, a global true wins."""
        return _Options(
            labels={**global_options.labels, **self.labels},
            annotations={**global_options.annotations, **self.annotations},
            disable_hash=self.disable_hash or global_options.disable_hash,
            immutable=self.immutable or global_options.immutable,
        )


@dataclass
class _Context:
    """One generator run: where it reads, and the notes it collects."""

    kind: str
    folder: Path
    root: Path
    document: Document | None
    notes: list[Problem] = field(default_factory=list)
    # Notes that stop kustomize (all but the env file's over-long line, which it
    # swallows): an entry with one of these makes no object.
    errors: int = 0

    @property
    def source(self) -> str:
        if self.document is not None:
            return self.document.path
        return _display(self.folder / "kustomization.yaml", self.root)

    def line(self, key_path: KeyPath) -> int | None:
        return self.document.locate(key_path)[0] if self.document is not None else None

    def note(self, key_path: KeyPath, message: str, hint: str = "") -> None:
        self.notes.append(_problem(self.document, self.folder, self.root, key_path, message, hint))
        self.errors += 1

    # -- options ---------------------------------------------------------------

    def options(self, raw: Any, at: KeyPath) -> _Options:
        result = _Options()
        if raw is None:
            return result
        if not isinstance(raw, Mapping):
            self.note(at, "generator options must be a mapping")
            return result
        for key in raw:
            if key not in _OPTION_FIELDS:
                self.note((*at, str(key)), f"unknown generator option {key!r}", f"use one of {sorted(_OPTION_FIELDS)}")
        for name, target in (("labels", result.labels), ("annotations", result.annotations)):
            values = raw.get(name)
            if values is None:
                continue
            if not isinstance(values, Mapping):
                self.note((*at, name), f"{name} must be a mapping of strings")
                continue
            for key, value in values.items():
                if isinstance(key, str) and isinstance(value, str):
                    target[key] = value
                else:
                    self.note((*at, name, str(key)), f"{name} keys and values must be strings", "quote the value")
        for name in ("disableNameSuffixHash", "immutable"):
            value = raw.get(name)
            if value is not None and not isinstance(value, bool):
                self.note((*at, name), f"{name} must be true or false")
        result.disable_hash = raw.get("disableNameSuffixHash") is True
        result.immutable = raw.get("immutable") is True
        return result

    # -- one entry -------------------------------------------------------------

    def entry(self, entry: Any, index: int, global_options: _Options) -> Generated | None:
        at: KeyPath = (GENERATOR_FIELDS[self.kind], index)
        if not isinstance(entry, Mapping):
            self.note(at, "a generator must be a mapping")
            return None
        allowed = _ENTRY_FIELDS | {"type"} if self.kind == SECRET else _ENTRY_FIELDS
        before = self.errors
        for key in entry:
            if key not in allowed:
                self.note((*at, str(key)), f"unknown field {key!r} in a {at[0]} entry", f"use one of {sorted(allowed)}")
        name = self.string(entry, "name", at)
        namespace = self.string(entry, "namespace", at)
        behavior = self.string(entry, "behavior", at)
        secret_type = self.string(entry, "type", at) if self.kind == SECRET else ""
        if not name:
            self.note(at, f"a {self.kind} generator needs a name")
        options = self.options(entry.get("options"), (*at, "options")).merged_over(global_options)
        pairs = self.pairs(entry, at, name)
        if self.errors > before:
            return None
        obj = _make_object(self.kind, name, namespace, secret_type, pairs, options)
        return Generated(
            obj=obj,
            source=self.source,
            line=self.line(at),
            behavior=behavior if behavior in BEHAVIORS else "create",
            hash_suffix=not options.disable_hash,
        )

    def string(self, entry: Mapping[str, Any], key: str, at: KeyPath) -> str:
        value = entry.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.note((*at, key), f"{key} must be a string")
            return ""
        return value

    def strings(self, entry: Mapping[str, Any], key: str, at: KeyPath) -> list[tuple[int, str]]:
        value = entry.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.note((*at, key), f"{key} must be a list of strings")
            return []
        result = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                result.append((index, item))
            else:
                self.note((*at, key, index), f"each of {key} must be a string")
        return result

    def pairs(self, entry: Mapping[str, Any], at: KeyPath, name: str) -> list[tuple[str, bytes | str]]:
        """The key/value pairs, in kustomize's order (envs, literals, files)."""
        pairs: list[tuple[str, bytes | str, KeyPath]] = []
        envs = [(index, path, (*at, "envs", index)) for index, path in self.strings(entry, "envs", at)]
        legacy = self.string(entry, "env", at)
        if legacy:
            envs.append((len(envs), legacy, (*at, "env")))
        for _index, path, where in envs:
            content = self.read(path, where)
            if content is not None:
                pairs.extend((key, value, where) for key, value in self.env_pairs(content, path))
        for index, literal in self.strings(entry, "literals", at):
            where = (*at, "literals", index)
            parsed = _parse_literal(literal)
            if parsed is None:
                self.note(where, "a literal must be KEY=value with a non-empty KEY")
            else:
                pairs.append((parsed[0], parsed[1], where))
        for index, source in self.strings(entry, "files", at):
            where = (*at, "files", index)
            parsed_source = _parse_file_source(source)
            if isinstance(parsed_source, str):
                self.note(where, parsed_source)
                continue
            key, path = parsed_source
            content = self.read(path, where)
            if content is not None:
                pairs.append((key, content, where))
        seen: set[str] = set()
        result = []
        for key, value, where in pairs:
            if key in seen:
                self.note(where, f"{self.kind.lower()} {name!r} repeats the key {key!r}", "give each key once")
                continue
            seen.add(key)
            result.append((key, value))
        return result

    def env_pairs(self, content: bytes, path: str) -> list[tuple[str, str]]:
        parsed = parse_env(content)
        shown = _display(self.folder / path, self.root)
        if parsed.error is not None:
            line, message = parsed.error
            self.notes.append(Problem(path=shown, line=line, message=message))
            self.errors += 0 if parsed.complete else 1
        return list(parsed.pairs)

    def read(self, path: str, where: KeyPath) -> bytes | None:
        """The bytes of ``path``, or None after a note when it may not or cannot be read."""
        resolved = resolve_input(path, self.folder, self.root)
        if isinstance(resolved, str):
            self.note(where, resolved)
            return None
        try:
            with resolved.open("rb") as handle:
                content = handle.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            self.note(where, f"cannot read {path!r}: {exc.strerror or type(exc).__name__}")
            return None
        if len(content) > MAX_INPUT_BYTES:
            self.note(
                where, f"{path!r} is larger than {MAX_INPUT_BYTES} bytes", "no API server stores an object that large"
            )
            return None
        return content


def _make_object(
    kind: str,
    name: str,
    namespace: str,
    secret_type: str,
    pairs: Sequence[tuple[str, bytes | str]],
    options: _Options,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if options.labels:
        metadata["labels"] = dict(sorted(options.labels.items()))
    if options.annotations:
        metadata["annotations"] = dict(sorted(options.annotations.items()))
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, value in sorted(pairs, key=lambda pair: pair[0]):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        if kind == SECRET:
            data[key] = encode_base64(raw)
            continue
        try:
            data[key] = raw.decode("utf-8") if isinstance(value, bytes) else value
        except UnicodeDecodeError:
            binary[key] = encode_base64(raw)
    if binary:
        obj["binaryData"] = binary
    if data:
        obj["data"] = data
    if kind == SECRET:
        obj["type"] = secret_type or "Opaque"
    if options.immutable:
        obj["immutable"] = True
    return obj


def encode_base64(raw: bytes) -> str:
    """kustomize's encodeBase64: standard base64, cut into 70-character lines that
    each end in a newline once the whole encoding is 70 characters or more."""
    text = base64.b64encode(raw).decode("ascii")
    if len(text) < _BASE64_LINE:
        return text
    return "".join(text[i : i + _BASE64_LINE] + "\n" for i in range(0, len(text), _BASE64_LINE))


def _parse_literal(source: str) -> tuple[str, str] | None:
    """``KEY=value`` split at the first ``=``, one pair of matching quotes removed."""
    key, sep, value = source.partition("=")
    if not sep or not key:
        return None
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return key, value


def _parse_file_source(source: str) -> tuple[str, str] | str:
    """``path`` or ``key=path``, as kustomize's ParseFileSource; a message when invalid."""
    separators = source.count("=")
    if separators == 0:
        return _go_base(source), source
    if separators > 1:
        return "a file source must be 'path' or 'key=path' (only one '=')"
    key, _, path = source.partition("=")
    if not key:
        return "a file source 'key=path' is missing its key"
    if not path:
        return "a file source 'key=path' is missing its path"
    return key, path


def _go_base(path: str) -> str:
    """Go's path.Base: the last element, trailing slashes ignored."""
    if not path:
        return "."
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- env files


@dataclass(frozen=True)
class EnvFile:
    """The pairs of an env file, and ``(line, message)`` when kustomize stops early:
    ``complete`` false when it fails the build, true when it goes on with the pairs
    read so far (the over-long line)."""

    pairs: tuple[tuple[str, str], ...]
    error: tuple[int, str] | None = None
    complete: bool = True


def parse_env(content: bytes) -> EnvFile:
    """Read an env file as kustomize v5.5's keyValuesFromLines does (see the module
    docstring for the rules). Invalid UTF-8 is an error for the whole file (kustomize
    fails the build); a line of 64 KiB or more ends the file (kustomize silently drops
    the rest), which is reported so that nobody loses keys without knowing."""
    pairs: list[tuple[str, str]] = []
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if len(raw) >= _MAX_ENV_LINE:
            return EnvFile(
                tuple(pairs),
                (number, f"line is {len(raw)} bytes long: kustomize drops it and every later line without a word"),
            )
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return EnvFile((), (number, "line is not valid UTF-8"), complete=False)
        if number == 1 and raw.startswith(_UTF8_BOM):
            text = text[1:]
        start = 0
        while start < len(text) and text[start] in _GO_SPACE:
            start += 1
        text = text[start:]
        if not text or text.startswith("#"):
            continue
        key, _, value = text.partition("=")
        if key:
            pairs.append((key, value))
    return EnvFile(tuple(pairs))


# --------------------------------------------------------------------------- paths


def resolve_input(path: str, folder: Path, root: Path) -> Path | str:
    """The real file ``path`` (relative to ``folder``) names, or why it may not be read.

    Refused before the file system is asked anything: empty, absolute, URL, a path
    whose ``..`` leaves ``root``. Then the path is resolved (symlinks followed) and
    refused if it lands outside ``root``, does not exist or is not a regular file.
    """
    if not path:
        return "an input path is empty"
    if "://" in path:
        return f"{path!r} is a URL: rail reads only files of the repository"
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).drive or PureWindowsPath(path).root:
        return f"{path!r} is an absolute path: give it relative to the kustomization"
    folder, root = _absolute(folder), _absolute(root)
    lexical = Path(os.path.normpath(folder / path))
    if not lexical.is_relative_to(root):
        return f"{path!r} leaves the repository"
    try:
        real_root = root.resolve(strict=True)
        real = lexical.resolve(strict=True)
    except FileNotFoundError:
        return f"{path!r} does not exist"
    except (OSError, RuntimeError):
        return f"{path!r} cannot be resolved (a symlink loop?)"
    if not real.is_relative_to(real_root):
        return f"{path!r} is a symlink that leaves the repository"
    if not real.is_file():
        return f"{path!r} is not a regular file"
    return real


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _display(path: Path, root: Path) -> str:
    absolute, base = _absolute(path), _absolute(root)
    normal = Path(os.path.normpath(absolute))
    return normal.relative_to(base).as_posix() if normal.is_relative_to(base) else normal.as_posix()


def _problem(
    document: Document | None, folder: Path, root: Path, key_path: KeyPath, message: str, hint: str = ""
) -> Problem:
    if document is not None:
        return document.problem(key_path, message, hint)
    return Problem(
        path=_display(Path(folder) / "kustomization.yaml", Path(root)),
        message=message,
        key_path=format_key_path(key_path),
        hint=hint,
    )


# --------------------------------------------------------------------------- behavior


def absorb(existing: Sequence[Generated], item: Generated) -> GeneratorResult:
    """Add ``item`` to ``existing`` as its behavior says (kustomize's
    appendReplaceOrMerge); the result lists ``existing`` in order, the merged object
    in the place of the one it replaced, a created one at the end."""
    matches = [index for index, old in enumerate(existing) if _same_id(old, item)]
    what = f"{item.kind} {item.name!r}"
    if len(matches) > 1:
        return GeneratorResult(tuple(existing), (_item_problem(item, f"several objects could take {what}"),))
    if not matches:
        if item.behavior in ("merge", "replace"):
            note = _item_problem(
                item,
                f"{what} does not exist, so it cannot be {item.behavior}d",
                "define it in a base, or drop the behavior",
            )
            return GeneratorResult(tuple(existing), (note,))
        return GeneratorResult((*existing, item))
    index = matches[0]
    if item.behavior not in ("merge", "replace"):
        note = _item_problem(item, f"{what} already exists", "set behavior: merge or behavior: replace")
        return GeneratorResult(tuple(existing), (note,))
    combined = merge_into(existing[index], item)
    return GeneratorResult((*existing[:index], combined, *existing[index + 1 :]))


def merge_into(old: Generated, new: Generated) -> Generated:
    """``new`` (behavior merge or replace) laid over ``old``: the old name and
    namespace, labels and annotations merged, for merge the data maps merged too."""
    obj = copy.deepcopy(new.obj)
    metadata = obj.setdefault("metadata", {})
    for name in ("labels", "annotations"):
        merged = {**_string_map(old.obj.get("metadata", {}).get(name)), **_string_map(metadata.get(name))}
        metadata.pop(name, None)
        if merged:
            metadata[name] = merged
    metadata["name"] = old.name
    metadata.pop("namespace", None)
    if old.namespace:
        metadata["namespace"] = old.namespace
    source, line = new.source, new.line
    if new.behavior == "merge":
        for name in ("data", "binaryData"):
            merged = {**_string_map(old.obj.get(name)), **_string_map(obj.get(name))}
            obj.pop(name, None)
            if merged:
                obj[name] = merged
        # kustomize keeps the origin of what was merged into.
        source, line = old.source, old.line
    return Generated(
        obj=obj,
        source=source,
        line=line,
        behavior=old.behavior,
        hash_suffix=old.hash_suffix and new.hash_suffix,
        previous=old.previous,
    )


def _same_id(old: Generated, new: Generated) -> bool:
    if old.kind != new.kind or str(old.obj.get("apiVersion", "")) != str(new.obj.get("apiVersion", "")):
        return False
    wanted = (new.name, _effective_namespace(new.namespace))
    return any((name, _effective_namespace(namespace)) == wanted for name, namespace in old.ids())


def _item_problem(item: Generated, message: str, hint: str = "") -> Problem:
    return Problem(path=item.source, line=item.line, message=message, hint=hint)


def _string_map(value: Any) -> dict[str, str]:
    """A map's values as kustomize reads them back (GetDataMap, GetLabels): strings."""
    if not isinstance(value, Mapping):
        return {}
    return {str(key): _scalar_text(item) for key, item in value.items()}


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- the name suffix


def name_hash(obj: Mapping[str, Any]) -> str:
    """The ten characters kustomize appends to a generated ConfigMap or Secret.

    kustomize's hasher JSON-encodes (Go's encoding/json: keys sorted, ``<``, ``>``,
    ``&``, U+2028 and U+2029 escaped) ``{kind, name, data}`` for a ConfigMap, plus
    ``binaryData`` when it is a map, or ``{kind, name, type, data}`` for a Secret,
    plus ``stringData`` when it is a map; a missing field is ``""``. It takes the
    sha256 of that, keeps ten hex digits and swaps 0, 1, 3, a, e for g, h, k, m, t.

    ``name`` is always ``""``: the hasher looks ``metadata/name`` up as one key
    (kyaml's Lookup takes path parts, not a slash path), finds nothing, and so two
    objects with the same content get the same suffix whatever their names.
    """
    kind = obj.get("kind")
    payload: dict[str, Any]
    if kind == CONFIG_MAP:
        payload = {"kind": CONFIG_MAP, "name": "", "data": _or_empty(obj.get("data"))}
        if isinstance(obj.get("binaryData"), Mapping):
            payload["binaryData"] = obj["binaryData"]
    elif kind == SECRET:
        payload = {"kind": SECRET, "type": _or_empty(obj.get("type")), "name": "", "data": _or_empty(obj.get("data"))}
        if isinstance(obj.get("stringData"), Mapping):
            payload["stringData"] = obj["stringData"]
    else:
        raise ValueError(f"kustomize hashes only ConfigMaps and Secrets, not {kind!r}")
    digest = hashlib.sha256(_go_json(payload).encode("utf-8")).hexdigest()
    return digest[:10].translate(_HASH_ALPHABET)


def hashed_name(obj: Mapping[str, Any]) -> str:
    """``<name>-<hash>``: the name kustomize gives ``obj`` as it is now."""
    return f"{_meta_str(obj, 'name')}-{name_hash(obj)}"


def suffix_names(objects: Sequence[Generated]) -> Suffixed:
    """Append the hash to every object that takes one (kustomize's last step, after
    every transformer) and return the renames, for :func:`rename_references`."""
    result = []
    renames: dict[tuple[str, str, str], str] = {}
    for item in objects:
        if not item.hash_suffix:
            result.append(item)
            continue
        new_name = hashed_name(item.obj)
        obj = copy.deepcopy(item.obj)
        obj["metadata"]["name"] = new_name
        renames[(item.kind, item.namespace, item.name)] = new_name
        result.append(replace(item, obj=obj, hash_suffix=False, previous=(*item.previous, (item.name, item.namespace))))
    return Suffixed(objects=tuple(result), renames=renames)


def _or_empty(value: Any) -> Any:
    return "" if value is None else value


def _go_json(value: Any) -> str:
    """Go's json.Marshal of the decoded YAML value (maps sorted by key)."""
    if isinstance(value, str):
        return _go_json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, Mapping):
        items = sorted((str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{_go_json_string(key)}:{_go_json(item)}" for key, item in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    raise TypeError(f"cannot encode a {type(value).__name__}")


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _go_json_string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char < " " or char in "<>&\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(f, 'f' or 'e', -1, 64) as encoding/json picks it."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("JSON has no NaN or infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        return f"{mantissa}e{sign}{digits.zfill(2) if sign == '+' else digits}"
    return format(Decimal(repr(value)), "f")


# --------------------------------------------------------------------------- name references


def _workload_specs(kinds_and_prefixes: Iterable[tuple[str, str, str]], paths: Iterable[str]) -> list[FieldSpec]:
    specs = []
    for kind, version, prefix in kinds_and_prefixes:
        for path in paths:
            specs.append(FieldSpec(path=split_path(prefix + path), kind=kind, version=version))
    return specs


_WORKLOADS = (
    ("Pod", "v1", "spec/"),
    ("PodTemplate", "", "template/spec/"),
    ("Deployment", "", "spec/template/spec/"),
    ("ReplicaSet", "", "spec/template/spec/"),
    ("DaemonSet", "", "spec/template/spec/"),
    ("StatefulSet", "", "spec/template/spec/"),
    ("Job", "", "spec/template/spec/"),
    ("CronJob", "", "spec/jobTemplate/spec/template/spec/"),
)
_CONFIG_MAP_POD_PATHS = (
    "volumes/configMap/name",
    "containers/env/valueFrom/configMapKeyRef/name",
    "initContainers/env/valueFrom/configMapKeyRef/name",
    "containers/envFrom/configMapRef/name",
    "initContainers/envFrom/configMapRef/name",
    "volumes/projected/sources/configMap/name",
)
_SECRET_POD_PATHS = (
    "volumes/secret/secretName",
    "containers/env/valueFrom/secretKeyRef/name",
    "initContainers/env/valueFrom/secretKeyRef/name",
    "containers/envFrom/secretRef/name",
    "initContainers/envFrom/secretRef/name",
    "imagePullSecrets/name",
    "volumes/projected/sources/secret/name",
)


def split_path(path: str) -> tuple[str, ...]:
    """A fieldSpec path's parts: split at ``/`` except ``\\/``; a ``[]`` suffix dropped."""
    parts: list[str] = []
    for piece in path.split("/"):
        if parts and parts[-1].endswith("\\"):
            parts[-1] = parts[-1][:-1] + "/" + piece
        else:
            parts.append(piece)
    return tuple(part.removesuffix("[]") for part in parts)


#: kustomize v5.5's built-in nameReference entries for ConfigMaps and Secrets.
BUILTIN_NAME_REFERENCES: tuple[NameReference, ...] = (
    NameReference(
        CONFIG_MAP,
        (
            *_workload_specs(_WORKLOADS, _CONFIG_MAP_POD_PATHS),
            FieldSpec(split_path("spec/configSource/configMap"), kind="Node"),
            FieldSpec(split_path("rules/resourceNames"), kind="Role"),
            FieldSpec(split_path("rules/resourceNames"), kind="ClusterRole"),
            FieldSpec(
                split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap"),
                kind="Ingress",
            ),
        ),
    ),
    NameReference(
        SECRET,
        (
            *_workload_specs(_WORKLOADS, _SECRET_POD_PATHS),
            FieldSpec(split_path("spec/tls/secretName"), kind="Ingress"),
            FieldSpec(split_path("metadata/annotations/ingress.kubernetes.io\\/auth-secret"), kind="Ingress"),
            FieldSpec(split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret"), kind="Ingress"),
            FieldSpec(split_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret"), kind="Ingress"),
            FieldSpec(split_path("imagePullSecrets/name"), kind="ServiceAccount"),
            FieldSpec(split_path("parameters/secretName"), kind="StorageClass"),
            FieldSpec(split_path("parameters/adminSecretName"), kind="StorageClass"),
            FieldSpec(split_path("parameters/userSecretName"), kind="StorageClass"),
            FieldSpec(split_path("parameters/secretRef"), kind="StorageClass"),
            FieldSpec(split_path("rules/resourceNames"), kind="Role"),
            FieldSpec(split_path("rules/resourceNames"), kind="ClusterRole"),
            FieldSpec(
                split_path("spec/template/spec/containers/env/valueFrom/secretKeyRef/name"),
                kind="Service",
                group="serving.knative.dev",
                version="v1",
            ),
            FieldSpec(split_path("spec/azureFile/secretName"), kind="PersistentVolume"),
        ),
    ),
)

# Referrers that live in no namespace: kustomize lets them refer to any namespace.
_CLUSTER_SCOPED = frozenset(
    {
        "ClusterRole",
        "ClusterRoleBinding",
        "Node",
        "StorageClass",
        "PersistentVolume",
        "Namespace",
        "PriorityClass",
        "IngressClass",
        "CustomResourceDefinition",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }
)


def merge_name_references(*groups: Iterable[NameReference]) -> tuple[NameReference, ...]:
    """Entries of the same kind joined (field specs in order, each once), kinds in
    first-seen order: the built-in list first, then what configurations add."""
    kinds: dict[str, list[FieldSpec]] = {}
    for group in groups:
        for reference in group:
            specs = kinds.setdefault(reference.kind, [])
            specs.extend(spec for spec in reference.fieldspecs if spec not in specs)
    return tuple(NameReference(kind, tuple(specs)) for kind, specs in kinds.items())


def load_configurations(
    paths: Sequence[Any], folder: Path, root: Path, *, document: Document | None = None
) -> tuple[tuple[NameReference, ...], tuple[Problem, ...]]:
    """The ``nameReference`` entries of a kustomization's ``configurations`` files
    (kustomize's transformer config format); their other sections (namePrefix,
    commonLabels, images...) are not read here. Paths follow :func:`resolve_input`."""
    references: list[NameReference] = []
    notes: list[Problem] = []
    for index, path in enumerate(paths):
        where: KeyPath = ("configurations", index)
        if not isinstance(path, str):
            notes.append(_problem(document, folder, root, where, "each of configurations must be a path"))
            continue
        resolved = resolve_input(path, folder, root)
        if isinstance(resolved, str):
            notes.append(_problem(document, folder, root, where, resolved))
            continue
        shown = _display(Path(folder) / path, Path(root))
        try:
            text = resolved.read_text(encoding="utf-8")
            config = load_document(text, shown)
        except (OSError, UnicodeDecodeError):
            notes.append(_problem(document, folder, root, where, f"cannot read {path!r} as UTF-8 text"))
            continue
        except InputError as exc:
            notes.extend(exc.problems)
            continue
        found, problems = _name_references(config)
        references.extend(found)
        notes.extend(problems)
    return tuple(references), tuple(notes)


def _name_references(config: Document) -> tuple[list[NameReference], list[Problem]]:
    data = config.data
    if data is None:
        return [], []
    if not isinstance(data, Mapping):
        return [], [config.problem((), "a transformer configuration must be a mapping")]
    entries = data.get("nameReference")
    if entries is None:
        return [], []
    if not isinstance(entries, list):
        return [], [config.problem(("nameReference",), "nameReference must be a list")]
    references, notes = [], []
    for index, entry in enumerate(entries):
        at: KeyPath = ("nameReference", index)
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kind"), str) or not entry["kind"]:
            notes.append(config.problem(at, "a nameReference entry needs a kind"))
            continue
        specs = []
        raw_specs = entry.get("fieldSpecs") or []
        if not isinstance(raw_specs, list):
            notes.append(config.problem((*at, "fieldSpecs"), "fieldSpecs must be a list"))
            continue
        for spec_index, spec in enumerate(raw_specs):
            if not isinstance(spec, Mapping) or not isinstance(spec.get("path"), str) or not spec["path"]:
                notes.append(config.problem((*at, "fieldSpecs", spec_index), "a field spec needs a path"))
                continue
            specs.append(
                FieldSpec(
                    path=split_path(spec["path"]),
                    kind=_text(spec.get("kind")),
                    group=_text(spec.get("group")),
                    version=_text(spec.get("version")),
                )
            )
        references.append(NameReference(entry["kind"], tuple(specs)))
    return references, notes


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def rename_references(
    objects: Iterable[Mapping[str, Any]],
    renames: Renames,
    references: Iterable[NameReference] = (),
) -> list[dict[str, Any]]:
    """Copies of ``objects`` whose references to renamed objects carry the new names.

    ``renames`` maps ``(kind, namespace, old name)`` to the new name (as
    :func:`suffix_names` returns it; a builder adds its other renames, every earlier
    name of an object included, since kustomize matches any previous name).
    ``references`` adds ``nameReference`` entries (:func:`load_configurations`) to
    :data:`BUILTIN_NAME_REFERENCES`. A reference matches a renamed object of the
    entry's kind and of the referrer's namespace (``""`` is ``default``; a
    cluster-scoped referrer matches any namespace); a name field holding a map
    (``{name, namespace}``) matches on its own namespace and gets the object's.
    """
    by_kind: dict[str, list[tuple[str, str, str]]] = {}
    for (kind, namespace, old), new in renames.items():
        by_kind.setdefault(kind, []).append((namespace, old, new))
    entries = [entry for entry in merge_name_references(BUILTIN_NAME_REFERENCES, references) if entry.kind in by_kind]
    result = []
    for obj in objects:
        copied = copy.deepcopy(dict(obj))
        for entry in entries:
            fixer = _Fixer(entry.kind, by_kind[entry.kind], copied)
            for spec in entry.fieldspecs:
                if _selects(spec, copied):
                    _walk(copied, spec.path, fixer.fix)
        result.append(copied)
    return result


@dataclass(frozen=True)
class _Fixer:
    """Renames the references in one referrer to objects of one kind."""

    kind: str
    renamed: list[tuple[str, str, str]]
    referrer: Mapping[str, Any]

    def candidates(self, old: str, namespace: str | None) -> list[tuple[str, str]]:
        referrer_kind = str(self.referrer.get("kind", ""))
        referrer_namespace = _effective_namespace(_meta_str(self.referrer, "namespace"))
        found = []
        for candidate_namespace, candidate_old, new in self.renamed:
            if candidate_old != old:
                continue
            effective = _effective_namespace(candidate_namespace)
            if namespace is not None and effective != _effective_namespace(namespace):
                continue
            if (
                referrer_kind not in _CLUSTER_SCOPED
                and self.kind != "ServiceAccount"
                and effective != referrer_namespace
            ):
                continue
            found.append((candidate_namespace, new))
        return found

    def scalar(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        found = self.candidates(value, None)
        if found and len({new for _, new in found}) == 1:
            return found[0][1]
        return value

    def mapping(self, value: dict[str, Any]) -> None:
        name = value.get("name")
        if not isinstance(name, str):
            return
        namespace = value.get("namespace")
        found = self.candidates(name, namespace if isinstance(namespace, str) else None)
        if not found or len(set(found)) != 1:
            return
        candidate_namespace, new = found[0]
        value["name"] = new
        if candidate_namespace:
            value["namespace"] = candidate_namespace

    def fix(self, value: Any) -> Any:
        if isinstance(value, dict):
            self.mapping(value)
            return value
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    self.mapping(item)
                else:
                    value[index] = self.scalar(item)
            return value
        return self.scalar(value)


def _walk(node: Any, path: tuple[str, ...], fix: Callable[[Any], Any]) -> None:
    """Apply ``fix`` to every field at ``path`` (lists are walked through, as
    kustomize's fieldspec filter does; a scalar in the way ends the walk)."""
    if isinstance(node, list):
        for item in node:
            _walk(item, path, fix)
        return
    if not isinstance(node, dict) or not path or path[0] not in node:
        return
    key, rest = path[0], path[1:]
    if rest:
        _walk(node[key], rest, fix)
    elif node[key] is not None:
        node[key] = fix(node[key])


def _selects(spec: FieldSpec, obj: Mapping[str, Any]) -> bool:
    if spec.kind and spec.kind != obj.get("kind"):
        return False
    api_version = obj.get("apiVersion")
    group, _, version = str(api_version or "").rpartition("/")
    if spec.group and spec.group != group:
        return False
    return not (spec.version and spec.version != version)


def _effective_namespace(namespace: str) -> str:
    return namespace or "default"


def _meta_str(obj: Mapping[str, Any], key: str) -> str:
    metadata = obj.get("metadata")
    value = metadata.get(key) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) else ""
