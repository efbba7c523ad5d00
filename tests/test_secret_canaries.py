"""Secret canaries: no plaintext secret ever leaves rail, and every one is found.

Each canary is a unique value, built from parts at run time (no token a secret scanner
would flag is written in this file), of every shape ``renderer/secrets.py`` knows: by key
name (``pass``, ``secret``, ``SECRET``, ``PWD``, ``credentials``, ``auth``, ``pgpass``,
``password`` with a weak default) and by value shape under harmless keys (``DSN``,
``url``, an ``extraArgs`` item): PEM and OpenSSH private keys, GitHub, GitLab, Slack,
AWS, Google, Stripe and age keys, a JWT, a ``user:pass@`` URL, a libpq DSN and a JDBC URL.

One more: a GitHub token under ``secretKey`` beside ``existingSecret`` (where
``secretKey: RCON_PASSWORD`` would name a key of that Secret): a secret's shape wins.

All of them are planted at once in every place a secret hides: a release spec's inline
``values``, a values file and a listed SOPS file of the shipped stack; and, hand-written,
a HelmRelease, an Argo CD Application (``valuesObject``, ``parameters`` and the
``values`` string), ConfigMaps (a key each, and an embedded ``values.yaml``), plain
Secrets (with the base64 form under ``data``) and a ``*.sops.yaml`` with plain values.

``rail lint`` (the stack plus the manifests folder named as a PATH), ``rail render``,
``rail diff`` (in real git repositories: the canaries on the base side only, the head
side only, and on both sides with every value changed) and ``rail check`` run as
processes, once per (command, side): every format written to its own ``--output`` file
and, in the same run, to stdout. Then, per (command, side, stream or format): no canary,
no run of ten characters of one, nor its base64 form at any offset, is in it; per
placement: lint reports each canary at its file and line (``plaintext-secret``, or
``sops-unencrypted`` in SOPS files), the diff lists each changed field with
``redacted: true``, and the findings of a side that adds a canary include it. A broken
YAML or schema-invalid file with a canary on the offending line is exit 2 naming the
file and line, and never shows the canary.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import string
import subprocess
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV, RAIL, REPO_ROOT, cache_written, copy_stack

# --------------------------------------------------------------------------- canary values

ALNUM = string.ascii_letters + string.digits
BASE32 = string.ascii_uppercase + "234567"
UPPER_DIGITS = string.digits + string.ascii_uppercase
BASE64_CHARS = ALNUM + "+/"
URL_SAFE = ALNUM + "_-"
# Prefixes and markers, split so no token shape a secret scanner matches is in this file.
PEM_BEGIN, PEM_END = "-----BEGIN ", "-----END "
PRIVATE_KEY = "PRIVATE" + " KEY-----"
OPENSSH_KEY = "OPENSSH " + PRIVATE_KEY
WEAK_BASE, WEAK_HEAD = "change" + "me", "letme" + "in123"  # weak defaults, a changed one

WINDOW = 10  # a run of this many characters of a canary's random part in any output is a leak


def _chars(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


Made = tuple[str, tuple[str, ...]]  # the value, and its random parts (what must never be printed)


def _word(rng: random.Random, role: str) -> Made:
    value = _chars(rng, ALNUM, 24)
    return value, (value,)


def _weak(rng: random.Random, role: str) -> Made:
    value = WEAK_HEAD if role.endswith("head") else WEAK_BASE
    return value, (value,)


def _pem(kind: str) -> Callable[[random.Random, str], Made]:
    def make(rng: random.Random, role: str) -> Made:
        body = [_chars(rng, BASE64_CHARS, 64) for _ in range(3)]
        return f"{PEM_BEGIN}{kind}\n" + "\n".join(body) + f"\n{PEM_END}{kind}\n", tuple(body)

    return make


def _token(*parts: tuple[str, int] | str) -> Callable[[random.Random, str], Made]:
    """Literal strings and (alphabet, length) random runs, joined; the runs must never be printed."""

    def make(rng: random.Random, role: str) -> Made:
        pieces = [(part, False) if isinstance(part, str) else (_chars(rng, *part), True) for part in parts]
        return "".join(piece for piece, _ in pieces), tuple(piece for piece, made in pieces if made)

    return make


def _jwt(rng: random.Random, role: str) -> Made:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": _chars(rng, ALNUM, 16), "name": _chars(rng, ALNUM, 12)}).encode())
    signature = _chars(rng, URL_SAFE, 43)
    return f"{header}.{payload}.{signature}", (payload, signature)


def _with_password(template: str) -> Callable[[random.Random, str], Made]:
    def make(rng: random.Random, role: str) -> Made:
        password = _chars(rng, ALNUM, 20)
        return template.format(password), (password,)

    return make


@dataclass(frozen=True)
class Shape:
    name: str  # the test id
    key: str  # the key the value sits under
    make: Callable[[random.Random, str], Made]
    item: bool = False  # a list item under the key (extraArgs)
    beside: tuple[tuple[str, str], ...] = ()  # sibling keys written before it, in maps


BY_KEY = (
    Shape("key-pass", "pass", _word),
    Shape("key-secret", "secret", _word),
    Shape("key-SECRET", "SECRET", _word),
    Shape("key-PWD", "PWD", _word),
    Shape("key-credentials", "credentials", _word),
    Shape("key-auth", "auth", _word),
    Shape("key-pgpass", "pgpass", _word),
    Shape("key-password", "password", _word),
    Shape("key-password-weak", "password", _weak),
)
_VALUE_SHAPES: tuple[tuple[str, Callable[[random.Random, str], Made]], ...] = (
    ("pem-private-key", _pem(PRIVATE_KEY)),
    ("pem-openssh-key", _pem(OPENSSH_KEY)),
    ("github-ghp", _token("gh" + "p_", (ALNUM, 36))),
    ("github-pat", _token("github" + "_pat_", (ALNUM, 22), "_", (ALNUM, 59))),
    ("gitlab-glpat", _token("gl" + "pat-", (URL_SAFE, 20))),
    ("slack-xoxb", _token("xo" + "xb-", (string.digits, 12), "-", (string.digits, 13), "-", (ALNUM, 24))),
    ("aws-akia", _token("AK" + "IA", (BASE32, 16))),
    ("google-aiza", _token("AI" + "za", (URL_SAFE, 35))),
    ("stripe-live", _token("sk" + "_live_", (ALNUM, 24))),
    ("age-key", _token("AGE-SECRET" + "-KEY-1", (UPPER_DIGITS, 58))),
    ("jwt", _jwt),
    ("url-user-pass", _with_password("postgresql://app:{}@db.example.com:5432/app")),
    ("libpq-dsn", _with_password("host=db port=5432 dbname=app user=app password={}")),
    ("jdbc-url", _with_password("jdbc:postgresql://db.example.com:5432/app?user=app&password={}")),
)
HARMLESS_KEYS = ("DSN", "url", "extraArgs")
BY_VALUE = tuple(
    Shape(name, HARMLESS_KEYS[index % 3], make, item=HARMLESS_KEYS[index % 3] == "extraArgs")
    for index, (name, make) in enumerate(_VALUE_SHAPES)
)
# A value with a secret's shape is a secret under any key: also under one that, beside
# `existingSecret`, would name a key of that Secret (`secretKey: RCON_PASSWORD`).
BESIDE_POINTER = Shape(
    "github-ghp-beside-existingSecret",
    "secretKey",
    _token("gh" + "p_", (ALNUM, 36)),
    beside=(("existingSecret", "app"),),
)
SHAPES = (*BY_KEY, *BY_VALUE, BESIDE_POINTER)


@dataclass(frozen=True)
class Canary:
    slot: str  # the map it sits in (`canaries.c07`), unique in a placement
    shape: Shape
    value: str
    needles: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.shape.key

    @property
    def values_path(self) -> str:
        """Its key path inside a values tree."""
        return f"canaries.{self.slot}.{self.key}" + ("[0]" if self.shape.item else "")


def make_canaries(placement: str, role: str) -> list[Canary]:
    """One canary of every shape for ``placement``, unique to it and to ``role``."""
    canaries = []
    for index, shape in enumerate(SHAPES):
        value, needles = shape.make(random.Random(f"rail-canary/{placement}/{shape.name}/{role}"), role)
        canaries.append(Canary(f"c{index:02d}", shape, value, needles))
    return canaries


# --------------------------------------------------------------------------- leak detection


def _windows(text: str, size: int = WINDOW) -> set[str]:
    return {text[index : index + size] for index in range(len(text) - size + 1)}


def _encoded_windows(text: str) -> set[str]:
    """Runs of the base64 of ``text`` at each of the three byte alignments it can have
    inside a longer encoded value (the edge characters depend on the neighbours)."""
    found: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + text.encode()).decode()
        found |= _windows(encoded[4:-4])
    return found


@dataclass
class Leaks:
    """Every run of every canary's random parts, plain and base64; short values whole."""

    windows: dict[str, str] = field(default_factory=dict)  # run -> which canary
    whole: dict[str, set[str]] = field(default_factory=dict)  # a short value -> the canaries it is
    seen: dict[str, list[str]] = field(default_factory=dict)  # text -> what it leaks

    def add(self, label: str, canaries: Iterable[Canary]) -> None:
        for canary in canaries:
            # A weak default is the same everywhere: where it leaked from, the other canaries say.
            name = f"weak default {canary.value!r}" if canary.shape.make is _weak else f"{label}/{canary.shape.name}"
            for needle in canary.needles:
                if len(needle) < WINDOW + 4:  # a weak default, a short run of digits: looked for whole
                    self.whole.setdefault(needle, set()).add(name)
                    encoded = base64.b64encode(needle.encode()).decode().rstrip("=")
                    self.whole.setdefault(encoded, set()).add(f"{name} (base64)")
                    continue
                for run in _windows(needle):
                    self.windows[run] = name
                for run in _encoded_windows(needle):
                    self.windows[run] = f"{name} (base64)"

    def random_parts_in(self, text: str) -> list[str]:
        """Like :meth:`found_in`, for the random parts only (a weak default is no canary of ours)."""
        return sorted({self.windows[run] for run in _windows(text) & self.windows.keys()})

    def found_in(self, text: str) -> list[str]:
        if text not in self.seen:
            leaked = {name for needle, names in self.whole.items() if needle in text for name in names}
            leaked |= {self.windows[run] for run in _windows(text) & self.windows.keys()}
            self.seen[text] = sorted(leaked)
        return self.seen[text]


# --------------------------------------------------------------------------- where canaries are planted


@dataclass(frozen=True)
class Expected:
    """What one planted canary must give: a finding, and a redacted field in a diff."""

    canary: Canary
    placement: str
    path: str  # relative to the repository (lint: the stack root)
    line: int
    rule: str
    fragment: str  # a part of the finding's message naming the key
    fields: tuple[tuple[str, str, str], ...]  # (kind, name, field path) the diff shows redacted


def _scalar(prefix: str, value: str, indent: int) -> list[str]:
    """``prefix`` (``key:`` or ``-``) and the value: double-quoted, or a block if multi-line."""
    pad = " " * indent
    if "\n" in value:
        body = " " * (indent + 2)
        return [f"{pad}{prefix} |", *(f"{body}{line}" for line in value.rstrip("\n").split("\n"))]
    return [f"{pad}{prefix} {json.dumps(value)}"]


def _tree(canaries: list[Canary], indent: int) -> tuple[list[str], dict[str, int]]:
    """The ``canaries:`` values tree, and the 0-based line of each canary in it."""
    pad = " " * indent
    lines, at = [f"{pad}canaries:"], {}
    for canary in canaries:
        lines.append(f"{pad}  {canary.slot}:")
        lines.extend(f"{pad}    {key}: {value}" for key, value in canary.shape.beside)
        if canary.shape.item:
            lines.append(f"{pad}    {canary.key}:")
            at[canary.slot] = len(lines)
            lines.extend(_scalar("-", canary.value, indent + 6))
        else:
            at[canary.slot] = len(lines)
            lines.extend(_scalar(f"{canary.key}:", canary.value, indent + 4))
    return lines, at


class Text:
    """Lines of a file being written, with the 1-based line of each marked canary."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.at: dict[str, int] = {}

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def mark(self, slot: str) -> None:
        self.at[slot] = len(self.lines) + 1

    def tree(self, canaries: list[Canary] | None, indent: int) -> None:
        if canaries:
            lines, at = _tree(canaries, indent)
            self.at.update({slot: len(self.lines) + 1 + offset for slot, offset in at.items()})
            self.lines.extend(lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# Hand-written manifests: each placement is one file, written for a list of canaries or,
# without them (None), as the same objects holding none (the clean side of a diff).
ManifestWriter = Callable[[list[Canary] | None, list[Canary]], Text]


def _helm_release(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    out = Text()
    out.add(
        "apiVersion: helm.toolkit.fluxcd.io/v2",
        "kind: HelmRelease",
        "metadata:",
        "  name: canary-values",
        "  namespace: apps",
        "spec:",
        "  interval: 10m",
        "  chart:",
        "    spec:",
        "      chart: wiki",
        "      version: 2.0.0",
        "      sourceRef: {kind: HelmRepository, name: canary-charts}",
        "  values:",
        "    replicaCount: 1",
    )
    out.tree(canaries, 4)
    out.add(
        "---",
        "apiVersion: source.toolkit.fluxcd.io/v1",
        "kind: HelmRepository",
        "metadata:",
        "  name: canary-charts",
        "  namespace: apps",
        "spec:",
        "  interval: 1h",
        "  url: https://charts.example.com",
    )
    return out


def _application(name: str, helm: list[str]) -> list[str]:
    return [
        "apiVersion: argoproj.io/v1alpha1",
        "kind: Application",
        "metadata:",
        f"  name: {name}",
        "  namespace: argocd",
        "spec:",
        "  project: default",
        "  destination:",
        "    server: https://kubernetes.default.svc",
        "    namespace: apps",
        "  source:",
        "    repoURL: https://charts.example.com",
        "    chart: wiki",
        "    targetRevision: 2.0.0",
        "    helm:",
        *helm,
    ]


def _argo_values_object(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    out = Text()
    out.add(*_application("canary-values-object", ["      valuesObject:", "        replicaCount: 1"]))
    out.tree(canaries, 8)
    return out


def _argo_parameters(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    out = Text()
    out.add(
        *_application(
            "canary-parameters", ["      parameters:", "        - name: replicaCount", '          value: "1"']
        )
    )
    for canary in canaries or ():
        out.add(f"        - name: {canary.values_path}")
        out.mark(canary.slot)
        out.add(*_scalar("value:", canary.value, 10))
    return out


def _embedded(canaries: list[Canary] | None, indent: int) -> list[str]:
    lines, _ = _tree(canaries, indent) if canaries else ([], {})
    return [" " * indent + "replicaCount: 1", *lines]


def _argo_helm_values(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    """One Application per canary, its values as a YAML string (``helm.values: |``): a
    string holding one secret, so a secret-shaped neighbour cannot hide it."""
    out = Text()
    by_slot = {canary.slot: canary for canary in canaries or ()}
    for index, slot in enumerate(slots):
        if index:
            out.add("---")
        canary = by_slot.get(slot.slot)
        out.add(*_application(f"canary-helm-values-{slot.slot}", []))
        if canary is not None:
            out.mark(canary.slot)
        out.add("      values: |", *_embedded([canary] if canary else None, 8))
    return out


def _config_maps(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    """One ConfigMap per canary, the value under its key (a list item as a string)."""
    out = Text()
    by_slot = {canary.slot: canary for canary in canaries or ()}
    for index, slot in enumerate(slots):
        if index:
            out.add("---")
        out.add("apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: canary-{slot.slot}", "  namespace: apps")
        out.add("data:", "  mode: plain")
        canary = by_slot.get(slot.slot)
        if canary is not None:
            out.add(*(f"  {key}: {value}" for key, value in canary.shape.beside))
            out.mark(canary.slot)
            out.add(*_scalar(f"{canary.key}:", canary.value, 2))
    return out


def _config_map_values_yaml(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    """One ConfigMap per canary holding a ``values.yaml`` (for a ``valuesFrom``)."""
    out = Text()
    by_slot = {canary.slot: canary for canary in canaries or ()}
    for index, slot in enumerate(slots):
        if index:
            out.add("---")
        canary = by_slot.get(slot.slot)
        out.add(
            "apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: canary-values-{slot.slot}", "  namespace: apps"
        )
        out.add("data:")
        if canary is not None:
            out.mark(canary.slot)
        out.add("  values.yaml: |", *_embedded([canary] if canary else None, 4))
    return out


def _secrets(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    """One plain Secret per canary: the value under stringData, its base64 under data."""
    out = Text()
    by_slot = {canary.slot: canary for canary in canaries or ()}
    for index, slot in enumerate(slots):
        if index:
            out.add("---")
        out.add("apiVersion: v1", "kind: Secret", "metadata:", f"  name: canary-{slot.slot}", "  namespace: apps")
        out.add("type: Opaque")
        canary = by_slot.get(slot.slot)
        if canary is not None:
            out.add("stringData:")
            out.mark(canary.slot)
            out.add(*_scalar(f"{canary.key}:", canary.value, 2))
            out.add("data:", f"  {canary.key}.b64: {base64.b64encode(canary.value.encode()).decode()}")
    return out


ENCRYPTED = "ENC[AES256_GCM,data:{},iv:{},tag:{},type:str]"


def _encrypted(seed: str) -> str:
    rng = random.Random(f"rail-canary/encrypted/{seed}")
    return ENCRYPTED.format(_chars(rng, BASE64_CHARS, 16), _chars(rng, BASE64_CHARS, 43) + "=", _chars(rng, ALNUM, 22))


def _sops_lines(canaries: list[Canary] | None, indent: int) -> tuple[list[str], dict[str, int]]:
    """Plain values added by hand to a SOPS file's stringData, one key per canary."""
    lines: list[str] = []
    at = {}
    for canary in canaries or ():
        at[canary.slot] = len(lines)
        lines.extend(_scalar(f"{canary.slot}-{canary.key}:", canary.value, indent))
    return lines, at


def _sops_manifest(canaries: list[Canary] | None, slots: list[Canary]) -> Text:
    out = Text()
    out.add("apiVersion: v1", "kind: Secret", "metadata:", "  name: canaries", "  namespace: apps", "type: Opaque")
    out.add("stringData:", f"  username: {_encrypted('username')}")
    lines, at = _sops_lines(canaries, 2)
    out.at.update({slot: len(out.lines) + 1 + offset for slot, offset in at.items()})
    out.add(*lines)
    out.add("sops:", "  age: []", f"  mac: {_encrypted('mac')}", "  version: 3.9.0")
    return out


@dataclass(frozen=True)
class ManifestPlacement:
    name: str
    file: str
    write: ManifestWriter
    rule: str
    fragment: Callable[[Canary, str], str]  # (canary, file) -> a part of its finding's message
    fields: Callable[[Canary], tuple[tuple[str, str, str], ...]]


MANIFEST_PLACEMENTS = (
    ManifestPlacement(
        "helmrelease",
        "helmrelease.yaml",
        _helm_release,
        "plaintext-secret",
        lambda c, _: f" at spec.values.{c.values_path}:",
        lambda c: (("HelmRelease", "canary-values", f"spec.values.{c.values_path}"),),
    ),
    ManifestPlacement(
        "argo-valuesObject",
        "argo-values-object.yaml",
        _argo_values_object,
        "plaintext-secret",
        lambda c, _: f" at spec.source.helm.valuesObject.{c.values_path}:",
        lambda c: (("Application", "canary-values-object", f"spec.source.helm.valuesObject.{c.values_path}"),),
    ),
    ManifestPlacement(
        "argo-parameters",
        "argo-parameters.yaml",
        _argo_parameters,
        "plaintext-secret",
        lambda c, _: " at spec.source.helm.parameters[",
        lambda c: (("Application", "canary-parameters", f"spec.source.helm.parameters[name={c.values_path}].value"),),
    ),
    ManifestPlacement(
        "argo-helm-values",
        "argo-helm-values.yaml",
        _argo_helm_values,
        "plaintext-secret",
        lambda c, _: f" at {c.values_path}:",
        lambda c: (("Application", f"canary-helm-values-{c.slot}", "spec.source.helm.values"),),
    ),
    ManifestPlacement(
        "configmap",
        "configmaps.yaml",
        _config_maps,
        "plaintext-secret",
        lambda c, _: f" at data.{c.key}:",
        lambda c: (("ConfigMap", f"canary-{c.slot}", f"data.{c.key}"),),
    ),
    ManifestPlacement(
        "configmap-values-yaml",
        "configmap-values-yaml.yaml",
        _config_map_values_yaml,
        "plaintext-secret",
        lambda c, _: f" at {c.values_path}:",
        lambda c: (("ConfigMap", f"canary-values-{c.slot}", "data.values.yaml"),),
    ),
    ManifestPlacement(
        "secret",
        "secrets.yaml",
        _secrets,
        "plaintext-secret",
        lambda c, _: f"Secret 'canary-{c.slot}' is not encrypted",
        lambda c: (("Secret", f"canary-{c.slot}", f"stringData.{c.key}"),),
    ),
    ManifestPlacement(
        "sops-manifest",
        "canaries.sops.yaml",
        _sops_manifest,
        "sops-unencrypted",
        lambda c, _: f"stringData.{c.slot}-{c.key} is not encrypted",
        lambda c: (("Secret", "canaries", f"stringData.{c.slot}-{c.key}"),),
    ),
)


def write_manifests(folder: Path, prefix: str, role: str | None, clean_role: str) -> list[Expected]:
    """Every manifest placement into ``folder``; ``role`` None: the clean objects.
    ``prefix``: the folder relative to the repository, for the expected paths."""
    folder.mkdir(parents=True, exist_ok=True)
    expected = []
    for placement in MANIFEST_PLACEMENTS:
        slots = make_canaries(placement.name, clean_role)
        canaries = make_canaries(placement.name, role) if role is not None else None
        text = placement.write(canaries, slots)
        (folder / placement.file).write_text(text.text(), encoding="utf-8")
        path = f"{prefix}/{placement.file}"
        for canary in canaries or ():
            expected.append(
                Expected(
                    canary=canary,
                    placement=placement.name,
                    path=path,
                    line=text.at[canary.slot],
                    rule=placement.rule,
                    fragment=placement.fragment(canary, path),
                    fields=placement.fields(canary),
                )
            )
    return expected


# The shipped stack: a spec's inline values, a values file, a SOPS file a spec lists.
SPEC = "releases/s3/valkey.yaml"
VALUES = "values/s3/postgresql-ha.yaml"
SOPS = "secrets/s5/gitea-admin.sops.yaml"
STACK_PLACEMENTS = ("spec", "values-file", "sops-file")


def _insert_after(text: str, anchor: str, lines: list[str]) -> tuple[str, int]:
    """``lines`` inserted after the line ``anchor``; the 1-based line number of the first."""
    old = text.splitlines()
    index = old.index(anchor) + 1
    return "\n".join([*old[:index], *lines, *old[index:]]) + "\n", index + 1


def plant_stack(root: Path, role: str) -> list[Expected]:
    """The canaries of ``role`` into the stack at ``root`` (its files as shipped)."""
    expected = []

    def record(placement: str, path: str, canary: Canary, line: int, rule: str, fragment: str, fields: Any) -> None:
        expected.append(Expected(canary, placement, path, line, rule, fragment, tuple(fields)))

    canaries = make_canaries("spec", role)
    lines, at = _tree(canaries, 2)
    text, first = _insert_after((root / SPEC).read_text(encoding="utf-8"), "values:", lines)
    (root / SPEC).write_text(text, encoding="utf-8")
    for canary in canaries:
        fields = (
            ("HelmRelease", "valkey", f"spec.values.{canary.values_path}"),
            ("Application", "valkey", f"spec.source.helm.valuesObject.{canary.values_path}"),
        )
        record(
            "spec",
            SPEC,
            canary,
            first + at[canary.slot],
            "plaintext-secret",
            f" at values.{canary.values_path}:",
            fields,
        )

    canaries = make_canaries("values-file", role)
    lines, at = _tree(canaries, 0)
    original = (root / VALUES).read_text(encoding="utf-8")
    first = len(original.splitlines()) + 1
    (root / VALUES).write_text(original + "\n".join(lines) + "\n", encoding="utf-8")
    for canary in canaries:
        fields = (
            ("HelmRelease", "postgresql-ha", f"spec.values.{canary.values_path}"),
            ("Application", "postgresql-ha", f"spec.source.helm.valuesObject.{canary.values_path}"),
        )
        record(
            "values-file",
            VALUES,
            canary,
            first + at[canary.slot],
            "plaintext-secret",
            f" at {canary.values_path}:",
            fields,
        )

    canaries = make_canaries("sops-file", role)
    lines, at = _sops_lines(canaries, 4)
    text, first = _insert_after((root / SOPS).read_text(encoding="utf-8"), "stringData:", lines)
    (root / SOPS).write_text(text, encoding="utf-8")
    for canary in canaries:
        key = f"{canary.slot}-{canary.key}"
        fields = (("Secret", "gitea-admin", f"stringData.{key}"),)
        record(
            "sops-file", SOPS, canary, first + at[canary.slot], "sops-unencrypted", f"stringData.{key} is not", fields
        )
    return expected


# --------------------------------------------------------------------------- git and rail as processes


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", message)


@dataclass
class Run:
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    files: dict[str, str]  # format -> what its --output file holds

    def outputs(self) -> dict[str, str]:
        """Everything the run printed or wrote, by where it went."""
        return {"stdout": self.stdout, "stderr": self.stderr, **{f"--output {k}": v for k, v in self.files.items()}}

    def report(self, fmt: str = "json") -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.files[fmt])
        return data


def run_rail(cwd: Path, reports: Path | None, formats: tuple[str, ...], *args: str) -> Run:
    """``rail ARGS`` as a process in ``cwd``; each format written to a file in ``reports``
    and, in the same run, to stdout after it."""
    command = [*args]
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            command += ["--format", fmt, "--output", str(reports / f"report.{fmt}")]
        for fmt in formats:
            command += ["--format", fmt]
    env = {**os.environ, **GIT_ENV, "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITEA_ACTIONS", None)
    done = subprocess.run(
        [str(RAIL), *command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    cache_written(env)  # the cache is searched for canaries next
    files = {}
    if reports is not None:
        files = {
            fmt: (reports / f"report.{fmt}").read_text(encoding="utf-8")
            for fmt in formats
            if (reports / f"report.{fmt}").is_file()
        }
    return Run(tuple(command), done.returncode, done.stdout, done.stderr, files)


LINT_FORMATS = ("text", "json", "github", "sarif")
DIFF_FORMATS = ("text", "json", "github", "sarif", "markdown")
SIDES = ("base-only", "head-only", "both")
# Per side: the role of the canaries on the base side and on the head side (None: none).
SIDE_ROLES: dict[str, tuple[str | None, str | None]] = {
    "base-only": ("base-only/base", None),
    "head-only": (None, "head-only/head"),
    "both": ("both/base", "both/head"),
}
CLEAN = "clean"


@dataclass
class SideRuns:
    """One side's repositories, what was planted on each side, and the runs."""

    base: list[Expected]
    head: list[Expected]
    runs: dict[str, Run]  # "diff stack", "diff manifests", "check stack"


@dataclass(repr=False)
class World:
    lint: Run
    render: Run  # the same stack: render refuses it
    lint_expected: list[Expected]
    sides: dict[str, SideRuns]
    leaks: Leaks


def _stack_template(folder: Path) -> Path:
    """The shipped stack, freshly rendered, committed on main."""
    from renderer.app import run_render

    root = copy_stack(REPO_ROOT, folder, outputs=False)
    run_render(root, "all", check=False)
    commit_all(root, "shipped stack")
    return root


def _manifest_template(folder: Path) -> Path:
    """A repository of hand-written manifests (no rail.yaml), holding no canary, committed."""
    write_manifests(folder / "apps", "apps", None, CLEAN)
    commit_all(folder, "manifests")
    return folder


def _side(tmp: Path, side: str, stack: Path, manifests: Path) -> SideRuns:
    base_role, head_role = SIDE_ROLES[side]
    stack_repo = shutil.copytree(stack, tmp / side / "stack", symlinks=True)
    manifest_repo = shutil.copytree(manifests, tmp / side / "manifests", symlinks=True)
    pristine = {name: (stack_repo / name).read_text(encoding="utf-8") for name in (SPEC, VALUES, SOPS)}

    base: list[Expected] = []
    if base_role is not None:
        base += plant_stack(stack_repo, base_role)
        base += write_manifests(manifest_repo / "apps", "apps", base_role, CLEAN)
        commit_all(stack_repo, "base canaries")
        commit_all(manifest_repo, "base canaries")
    for name, text in pristine.items():  # the head starts from the shipped files again
        (stack_repo / name).write_text(text, encoding="utf-8")
    head = plant_stack(stack_repo, head_role) if head_role is not None else []
    head += write_manifests(manifest_repo / "apps", "apps", head_role, CLEAN)

    reports = tmp / side / "reports"
    runs = {
        "diff stack": run_rail(stack_repo, reports / "diff-stack", DIFF_FORMATS, "diff", "--base", "main"),
        "diff manifests": run_rail(manifest_repo, reports / "diff-manifests", DIFF_FORMATS, "diff", "--base", "main"),
        "check stack": run_rail(stack_repo, reports / "check-stack", LINT_FORMATS, "check", "--base", "main"),
    }
    return SideRuns(base, head, runs)


@pytest.fixture(scope="module")
def stack_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stack_template(tmp_path_factory.mktemp("template") / "stack")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, stack_template: Path) -> World:
    tmp = tmp_path_factory.mktemp("canaries")
    # rail lint: the stack's own files and a folder of manifests named on the command line.
    lint_root = copy_stack(REPO_ROOT, tmp / "lint" / "stack")
    lint_expected = plant_stack(lint_root, "lint")
    lint_expected += write_manifests(lint_root / "manifests", "manifests", "lint", CLEAN)
    stack = stack_template
    manifests = _manifest_template(tmp / "templates" / "manifests")
    with ThreadPoolExecutor(max_workers=4) as pool:
        lint = pool.submit(run_rail, lint_root, tmp / "lint" / "reports", LINT_FORMATS, "lint", "manifests")
        render = pool.submit(run_rail, lint_root, None, (), "render", "--check")
        sides = {side: pool.submit(_side, tmp, side, stack, manifests) for side in SIDES}
        world = World(
            lint.result(), render.result(), lint_expected, {side: job.result() for side, job in sides.items()}, Leaks()
        )
    for label, items in (
        ("lint", lint_expected),
        *(
            (f"{side} {where}", getattr(runs, where))
            for side, runs in world.sides.items()
            for where in ("base", "head")
        ),
    ):
        for placement in {item.placement for item in items}:
            world.leaks.add(f"{label}: {placement}", (item.canary for item in items if item.placement == placement))
    return world


# --------------------------------------------------------------------------- the tests

COMMANDS = (
    ("diff stack", DIFF_FORMATS),
    ("diff manifests", DIFF_FORMATS),
    ("check stack", LINT_FORMATS),
)
# Each run prints every format to stdout and writes each to its own --output file.
RUNS = [("render", None, "stdout"), ("render", None, "stderr")]
RUNS += [("lint", None, channel) for channel in ("stdout", "stderr", *LINT_FORMATS)] + [
    (command, side, channel)
    for side in SIDES
    for command, formats in COMMANDS
    for channel in ("stdout", "stderr", *formats)
]


def _run_of(world: World, command: str, side: str | None) -> Run:
    if side is None:
        return world.render if command == "render" else world.lint
    return world.sides[side].runs[command]


@pytest.mark.parametrize(
    ("command", "side", "channel"), RUNS, ids=[f"{c.replace(' ', '-')}-{s or 'tree'}-{f}" for c, s, f in RUNS]
)
def test_no_canary_in_any_output(world: World, command: str, side: str | None, channel: str) -> None:
    run = _run_of(world, command, side)
    # Findings fail lint, and check or diff where the head holds canaries (the base's
    # alone are fixed, and changed ones unchanged findings: the diff lets them pass).
    # rail render refuses a spec or values file holding a literal secret (exit 2).
    blocking = side is None or side == "head-only" or (side == "both" and command.startswith("check"))
    expected = 2 if command == "render" else 1 if blocking else 0
    assert run.exit_code == expected, f"rail {' '.join(run.args[:3])}: exit {run.exit_code}\n{run.stderr}"
    assert "Traceback" not in run.stderr
    if channel == "stdout":
        text = run.stdout
    elif channel == "stderr":
        text = run.stderr
    else:
        assert channel in run.files, f"no --output file for --format {channel}"
        text = run.files[channel]
        # github annotations carry findings only: none, nothing to print.
        assert text.strip() or (channel == "github" and not blocking), f"--format {channel} wrote an empty report"
    leaked = world.leaks.found_in(text)
    where = (
        "stdout (every format)" if channel == "stdout" else channel if channel == "stderr" else f"--format {channel}"
    )
    assert not leaked, f"rail {command} ({side or 'working tree'}): {where} holds {leaked}"


PLACEMENTS = (*STACK_PLACEMENTS, *(placement.name for placement in MANIFEST_PLACEMENTS))


def _matches(finding: dict[str, Any], expected: Expected) -> bool:
    return (
        finding["rule"] == expected.rule
        and finding["path"] == expected.path
        and finding["line"] == expected.line
        and expected.fragment in finding["message"]
    )


def _planted(items: list[Expected], placement: str) -> list[Expected]:
    found = [item for item in items if item.placement == placement]
    assert len(found) == len(SHAPES), (placement, len(found))
    return found


def _missed(findings: list[dict[str, Any]], planted: list[Expected]) -> list[str]:
    """The planted canaries no finding reports, each with what the file did get."""
    missed = []
    for expected in planted:
        if not any(_matches(finding, expected) for finding in findings):
            near = [
                f"{f['rule']}@{f['line']}"
                for f in findings
                if f["path"] == expected.path and f["line"] == expected.line
            ]
            missed.append(
                f"{expected.canary.shape.name}: no {expected.rule} at {expected.path}:{expected.line}"
                f" with {expected.fragment!r} (at that line: {near or 'nothing'})"
            )
    return missed


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_lint_finds_every_canary(world: World, placement: str) -> None:
    """rail lint --format json: each canary of the placement is a finding at its file and line."""
    missed = _missed(world.lint.report()["findings"], _planted(world.lint_expected, placement))
    assert not missed, f"{len(missed)} of {len(SHAPES)} canaries missed:\n" + "\n".join(missed)


def _fields(report: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (change["object"]["kind"], change["object"]["name"], item["path"]): item
        for change in report["changes"]
        for item in change["fields"]
    }


def _is_redacted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("(redacted") and value.endswith(")")


DIFF_CASES = [(side, placement) for side in SIDES for placement in PLACEMENTS]


@pytest.mark.parametrize(("side", "placement"), DIFF_CASES, ids=[f"{s}-{p}" for s, p in DIFF_CASES])
def test_diff_lists_every_canary_field_redacted(world: World, side: str, placement: str) -> None:
    """rail diff --format json: the field each canary is in is listed, ``redacted: true``,
    on the side(s) holding the canary shown as "(redacted)"."""
    runs = world.sides[side]
    base_role, head_role = SIDE_ROLES[side]
    planted = _planted(runs.base if base_role else runs.head, placement)
    repo = "diff stack" if placement in STACK_PLACEMENTS else "diff manifests"
    fields = _fields(runs.runs[repo].report())
    wrong = []
    for expected in planted:
        for where in expected.fields:
            item = fields.get(where)
            if item is None:
                wrong.append(f"{expected.canary.shape.name}: {where} not listed")
                continue
            # The side without the canary holds nothing secret here: absent, or the clean
            # embedded values string (what it shows is checked by the leak tests).
            old_ok = _is_redacted(item["old"]) or not base_role
            new_ok = _is_redacted(item["new"]) or not head_role
            if item["redacted"] is not True or not old_ok or not new_ok:
                shown = {
                    key: item[key] if _is_redacted(item[key]) or item[key] is None else "<shown>"
                    for key in ("old", "new")
                }
                wrong.append(f"{expected.canary.shape.name}: {where} redacted={item['redacted']} {shown}")
    assert not wrong, f"{len(wrong)} of {len(SHAPES)} canary fields wrong:\n" + "\n".join(wrong)


# Head canaries as findings: of the diff where the head adds them (a canary the base had
# too is an unchanged finding, not listed), and of rail check on the stack (no manifests).
def _head_commands(side: str, placement: str) -> tuple[str, ...]:
    if placement in STACK_PLACEMENTS:
        return ("check stack",) if side == "both" else ("diff stack", "check stack")
    return () if side == "both" else ("diff manifests",)


HEAD_CASES = [
    (side, placement, command)
    for side in ("head-only", "both")
    for placement in PLACEMENTS
    for command in _head_commands(side, placement)
]


@pytest.mark.parametrize(
    ("side", "placement", "command"), HEAD_CASES, ids=["-".join(c).replace(" ", "-") for c in HEAD_CASES]
)
def test_head_canaries_are_findings(world: World, side: str, placement: str, command: str) -> None:
    """A canary the head side adds is a new finding of the diff; rail check reports every head canary."""
    runs = world.sides[side]
    missed = _missed(runs.runs[command].report()["findings"], _planted(runs.head, placement))
    assert not missed, f"rail {command}: {len(missed)} of {len(SHAPES)} canaries missed:\n" + "\n".join(missed)


def test_every_redacted_field_says_so(world: World) -> None:
    """A field shown as "(redacted)" is flagged ``redacted``, on every side and repository."""
    for side, runs in world.sides.items():
        for command in ("diff stack", "diff manifests"):
            for where, item in _fields(runs.runs[command].report()).items():
                if _is_redacted(item["old"]) or _is_redacted(item["new"]):
                    assert item["redacted"] is True, (side, where, item)


def test_the_leak_detector_sees_pieces_and_base64() -> None:
    """The detector the tests above rely on: a piece of a canary, or the canary base64-encoded
    inside a longer text at any byte offset, is a leak; a redacted value is not."""
    canaries = {canary.shape.name: canary for canary in make_canaries("self-test", "self-test")}
    leaks = Leaks()
    leaks.add("self-test", canaries.values())
    token, dsn, weak = canaries["github-ghp"], canaries["libpq-dsn"], canaries["key-password-weak"]
    assert leaks.found_in(f"value: {token.value[4 : 4 + WINDOW]}...") == ["self-test/github-ghp"]
    for prefix in ("", "a", "ab"):
        encoded = base64.b64encode(f"{prefix}DSN: {dsn.value}\n".encode()).decode()
        assert leaks.found_in(encoded) == ["self-test/libpq-dsn (base64)"], prefix
    assert leaks.found_in(f"password: {weak.value}") == [f"weak default {weak.value!r}"]
    assert not leaks.found_in(f"password: (redacted) -> (redacted #0123abcd) {dsn.value.split('password=')[0]}")


def test_the_canaries_are_nowhere_in_the_repository(world: World) -> None:
    """A canary found in an output came from the planted value, not from a file of the repository."""
    listed = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    found = {}
    for name in filter(None, listed):
        path = REPO_ROOT / name
        if path.is_file():
            leaked = world.leaks.random_parts_in(path.read_bytes().decode("utf-8", errors="replace"))
            if leaked:
                found[name] = leaked
    assert not found, found


# --------------------------------------------------------------------------- broken files


@dataclass(frozen=True)
class Broken:
    path: str
    lines: tuple[int, ...]  # the canary's lines: the error names one of them
    canaries: tuple[Canary, ...]


def _append(root: Path, relative: str, lines: list[str]) -> tuple[int, ...]:
    original = (root / relative).read_text(encoding="utf-8")
    (root / relative).write_text(original + "\n".join(lines) + "\n", encoding="utf-8")
    first = len(original.splitlines()) + 1
    return tuple(range(first, first + len(lines)))


def _break(root: Path, case: str) -> Broken:
    """Plant a canary on a line YAML (or the spec schema) rejects."""
    shapes = {canary.shape.name: canary for canary in make_canaries(f"broken/{case}", "broken")}
    token, word, aws, pem = (shapes[name] for name in ("github-ghp", "key-password", "aws-akia", "pem-private-key"))
    if case == "values-mapping-on-the-canary-line":
        lines = _append(root, VALUES, ["auth:", f"  password: {word.value} : x"])
        return Broken(VALUES, lines[1:], (word,))
    if case == "values-tab-before-the-canary":
        lines = _append(root, VALUES, ["auth:", f"\tpassword: {word.value}"])
        return Broken(VALUES, lines[1:], (word,))
    if case == "values-pem-dedented":
        body = pem.value.rstrip("\n").split("\n")
        block = ["tls:", "  key: |", *(f"    {line}" for line in body[:2]), f"  {body[2]}", f"    {body[3]}"]
        return Broken(VALUES, _append(root, VALUES, block)[2:], (pem,))
    if case in ("spec-unclosed-quote", "spec-unclosed-flow-map"):
        line = (
            f'  password: "{word.value}' if case == "spec-unclosed-quote" else f"  auth: {{password: '{token.value}}}"
        )
        text, first = _insert_after((root / SPEC).read_text(encoding="utf-8"), "values:", [line])
        (root / SPEC).write_text(text, encoding="utf-8")
        return Broken(SPEC, (first,), (word,) if case == "spec-unclosed-quote" else (token,))
    if case == "spec-schema-rejects-a-token":
        spec = (root / SPEC).read_text(encoding="utf-8")
        spec = spec.replace("namespace: platform\n", f"namespace: {json.dumps(token.value)}\n", 1)
        spec = spec.replace("  version: 4.0.2\n", f"  version: {aws.value}\n", 1)
        (root / SPEC).write_text(spec, encoding="utf-8")
        lines = spec.splitlines()
        at = (lines.index(f"namespace: {json.dumps(token.value)}") + 1, lines.index(f"  version: {aws.value}") + 1)
        return Broken(SPEC, at, (token, aws))
    if case == "manifest-mapping-on-the-canary-line":
        bad = f"    password: {token.value} : x"
        text = _helm_release(None, []).text().replace("    replicaCount: 1\n", bad + "\n", 1)
        (root / "manifests").mkdir(exist_ok=True)
        (root / "manifests" / "broken.yaml").write_text(text, encoding="utf-8")
        return Broken("manifests/broken.yaml", (text.splitlines().index(bad) + 1,), (token,))
    raise AssertionError(case)


BROKEN_CASES = (
    "values-mapping-on-the-canary-line",
    "spec-unclosed-quote",
    "spec-unclosed-flow-map",
    "values-pem-dedented",
    "values-tab-before-the-canary",
    "spec-schema-rejects-a-token",
    "manifest-mapping-on-the-canary-line",
)
# What each case runs: every command (diff with the broken file in the working tree, and
# on the committed base side) for the first two, lint and render for the other stack
# files, lint for the manifest named on the command line.
ALL_COMMANDS = ("lint", "render", "check", "diff-head", "diff-base")
BROKEN_COMMANDS = {
    case: ALL_COMMANDS if index < 2 else ("lint",) if case.startswith("manifest-") else ("lint", "render")
    for index, case in enumerate(BROKEN_CASES)
}


@dataclass
class BrokenRuns:
    broken: Broken
    runs: dict[str, Run]


def _broken_runs(tmp: Path, stack: Path, case: str) -> BrokenRuns:
    root = shutil.copytree(stack, tmp / case / "repo", symlinks=True)
    broken = _break(root, case)
    reports = tmp / case / "reports"
    commands = BROKEN_COMMANDS[case]
    runs = {}
    if broken.path.startswith("manifests/"):
        runs["lint"] = run_rail(root, reports / "lint", ("json",), "lint", "manifests")
        return BrokenRuns(broken, runs)
    runs["lint"] = run_rail(root, reports / "lint", ("json",), "lint")
    runs["render"] = run_rail(root, None, (), "render")
    if "check" in commands:
        runs["check"] = run_rail(root, reports / "check", ("sarif",), "check", "--base", "main")
        runs["diff-head"] = run_rail(root, reports / "diff-head", ("markdown",), "diff", "--base", "main")
        commit_all(root, "broken")
        git(root, "checkout", "-q", "HEAD~1", "--", ".")  # the working tree: the shipped stack again
        runs["diff-base"] = run_rail(root, reports / "diff-base", ("json",), "diff", "--base", "main")
    return BrokenRuns(broken, runs)


@pytest.fixture(scope="module")
def broken_world(tmp_path_factory: pytest.TempPathFactory, stack_template: Path) -> dict[str, BrokenRuns]:
    tmp = tmp_path_factory.mktemp("broken")
    stack = stack_template
    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = {case: pool.submit(_broken_runs, tmp, stack, case) for case in BROKEN_CASES}
        return {case: job.result() for case, job in jobs.items()}


BROKEN_RUNS = [(case, command) for case in BROKEN_CASES for command in BROKEN_COMMANDS[case]]


@pytest.mark.parametrize(("case", "command"), BROKEN_RUNS, ids=[f"{c}-{m}" for c, m in BROKEN_RUNS])
def test_broken_file_beside_a_canary(broken_world: dict[str, BrokenRuns], case: str, command: str) -> None:
    """Exit 2 naming the file and the canary's line (or where the construct holding it
    began), and not a piece of the canary anywhere; a diff whose side does not load says
    so as a note (base) or findings (head)."""
    outcome = broken_world[case]
    broken, run = outcome.broken, outcome.runs[command]
    leaks = Leaks()
    leaks.add(case, broken.canaries)
    for where, text in run.outputs().items():
        leaked = leaks.found_in(text)
        assert not leaked, f"rail {command} on {case}: {where} holds {leaked}"
    assert "Traceback" not in run.stderr
    if case.startswith("manifest-") and run.exit_code == 1:
        # A foreign file that does not parse may be the finding yaml-syntax (DESIGN.md).
        found = [(f["rule"], f["path"], f["line"]) for f in run.report()["findings"] if f["path"] == broken.path]
        assert any(rule == "yaml-syntax" and line in broken.lines for rule, _, line in found), found
        return
    if command == "diff-base":
        # A base that does not load is a note naming the file, never its content (issue 13).
        assert run.exit_code == 0, f"rail {command} on {case}: exit {run.exit_code}\n{run.stdout}{run.stderr}"
        assert any(broken.path in note for note in run.report()["summary"]["notes"])
        return
    if command == "diff-head":
        # A head that does not load: its problems are error findings at their file (issue 13).
        assert run.exit_code == 1, f"rail {command} on {case}: exit {run.exit_code}\n{run.stdout}{run.stderr}"
        assert "yaml-syntax" in run.files["markdown"] and broken.path in run.files["markdown"]
        return
    assert run.exit_code == 2, f"rail {command} on {case}: exit {run.exit_code}\n{run.stdout}{run.stderr}"
    named = [f"{broken.path}:{line}:" for line in broken.lines]
    began = [f"started on line {line})" for line in broken.lines]
    assert any(text in run.stderr for text in named) or (
        f"{broken.path}:" in run.stderr and any(text in run.stderr for text in began)
    ), f"rail {command} on {case}: the error names neither {named} nor {began}:\n{run.stderr}"
