"""References to where a secret is kept are not secrets; weak defaults still are.

Every reference shape the ``plaintext-secret`` rule documents is planted under
secret-looking keys (``password``, ``token``, ``PWD``, ``SECRET``, ``credentials``,
``auth``, ``pgpass``, ``apiKey``) in a values file of the shipped stack and in a
hand-written HelmRelease named on the command line; custom YAML tags (``!env_var``,
``!Env``, ``!Find``) only in the HelmRelease, since rail's own specs and values files
refuse them. Beside them, ``password: changeme`` and ``password: password``. One
``rail lint --format json`` run: no reference is a finding, each weak default is.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import RAIL, REPO_ROOT, copy_stack

VALUES = "values/s3/postgresql-ha.yaml"
MANIFEST = "manifests/helmrelease.yaml"
KEYS = ("password", "token", "PWD", "SECRET", "credentials", "auth", "pgpass", "apiKey")


@dataclass(frozen=True)
class Reference:
    name: str
    lines: tuple[str, ...]  # the YAML under the reference's own map; {key}: the secret-looking key
    tagged: bool = False  # a custom YAML tag: hand-written manifests only
    each_key: bool = True  # written once under every key of KEYS


REFERENCES = (
    Reference("flux-substitution", ('{key}: "${{DB_PASSWORD}}"',)),
    Reference("kubernetes-env", ('{key}: "$(DB_PASSWORD)"',)),
    Reference("go-template", ('{key}: "{{{{ .Values.x }}}}"',)),
    Reference("braced-name", ('{key}: "{{SOME_PASSWORD}}"',)),
    Reference("braced-env", ('{key}: "{{env:VAR}}"',)),
    Reference("kometa", ('{key}: "<<PLEX_TOKEN>>"',)),
    Reference("1password", ("{key}: op://vault/item/field",)),
    Reference("secret-uri", ("{key}: secret://x/y",)),
    Reference("bank-vaults", ('{key}: "vault:secret/data/x#key"',)),
    Reference("vals", ('{key}: "ref+vault://x#/k"',)),
    Reference("litellm", ("{key}: os.environ/KEY",)),
    Reference("empty", ('{key}: ""',)),
    Reference("sops-value", ("{key}: ENC[AES256_GCM,data:Zm9vYmFy,iv:aXZpdml2aXZpdg==,tag:dGFndGFn,type:str]",)),
    Reference("tag-env-var", ("{key}: !env_var SOME_KEY",), tagged=True),
    Reference("tag-Env", ("{key}: !Env X",), tagged=True),
    Reference("tag-Find", ("{key}: !Find x",), tagged=True),
    Reference("secretKey-beside-existingSecret", ("existingSecret: app", "secretKey: RCON_PASSWORD"), each_key=False),
    Reference(
        "secretKeys-map", ("secretKeys:", "  adminPassword: admin-password", "  token: api-token"), each_key=False
    ),
    Reference(
        "existingSecretKeys-map",
        ("existingSecretKeys:", "  password: db-password", "  PWD: pwd", "  credentials: creds"),
        each_key=False,
    ),
)
WEAK_DEFAULTS = ("changeme", "password")


@dataclass(frozen=True)
class Planted:
    placement: str
    name: str  # reference name and key, or the weak default
    path: str
    lines: tuple[int, ...]


def _block(indent: int, tagged: bool) -> tuple[list[str], list[tuple[str, tuple[int, ...]]]]:
    """The ``references:`` tree (one map per reference and key) and the 0-based lines of each."""
    pad = " " * indent
    lines, at = [f"{pad}references:"], []
    for reference in REFERENCES:
        if reference.tagged and not tagged:
            continue
        for key in KEYS if reference.each_key else ("-",):
            lines.append(f"{pad}  {reference.name}-{key.lower() if key != '-' else 'map'}:")
            first = len(lines)
            lines.extend(f"{pad}    {line.format(key=key)}" for line in reference.lines)
            at.append((f"{reference.name}/{key}", tuple(range(first, len(lines)))))
    lines.append(f"{pad}weak:")
    for index, value in enumerate(WEAK_DEFAULTS):
        lines.append(f"{pad}  w{index}:")
        at.append((f"weak/{value}", (len(lines),)))
        lines.append(f"{pad}    password: {value}")
    return lines, at


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: references
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: wiki
      version: 2.0.0
      sourceRef: {kind: HelmRepository, name: wiki-charts}
  values:
"""


@dataclass
class LintRun:
    exit_code: int
    stderr: str
    findings: list[dict[str, Any]]
    planted: list[Planted]


@pytest.fixture(scope="module")
def linted(tmp_path_factory: pytest.TempPathFactory) -> LintRun:
    root = copy_stack(REPO_ROOT, tmp_path_factory.mktemp("references") / "stack")
    planted = []
    original = (root / VALUES).read_text(encoding="utf-8")
    lines, at = _block(0, tagged=False)
    (root / VALUES).write_text(original + "\n".join(lines) + "\n", encoding="utf-8")
    first = len(original.splitlines()) + 1
    planted += [Planted("values-file", name, VALUES, tuple(first + i for i in rows)) for name, rows in at]

    lines, at = _block(4, tagged=True)
    (root / "manifests").mkdir()
    (root / MANIFEST).write_text(HELM_RELEASE + "\n".join(lines) + "\n", encoding="utf-8")
    first = len(HELM_RELEASE.splitlines()) + 1
    planted += [Planted("helmrelease", name, MANIFEST, tuple(first + i for i in rows)) for name, rows in at]

    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITEA_ACTIONS", None)
    done = subprocess.run(
        [str(RAIL), "lint", "manifests", "--format", "json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return LintRun(done.returncode, done.stderr, json.loads(done.stdout)["findings"], planted)


def _secret_findings(run: LintRun, path: str) -> list[dict[str, Any]]:
    return [f for f in run.findings if f["path"] == path and f["rule"] in ("plaintext-secret", "sops-unencrypted")]


CASES = [
    (placement, f"{reference.name}/{key}")
    for placement in ("values-file", "helmrelease")
    for reference in REFERENCES
    if placement == "helmrelease" or not reference.tagged
    for key in (KEYS if reference.each_key else ("-",))
]


def _planted(run: LintRun, placement: str, name: str) -> Planted:
    (found,) = [p for p in run.planted if p.placement == placement and p.name == name]
    return found


@pytest.mark.parametrize(("placement", "name"), CASES, ids=[f"{p}-{n.replace('/-', '')}" for p, n in CASES])
def test_reference_is_not_a_finding(linted: LintRun, placement: str, name: str) -> None:
    planted = _planted(linted, placement, name)
    wrong = [f for f in _secret_findings(linted, planted.path) if f["line"] in planted.lines]
    assert not wrong, f"{name} in the {placement} is reported: " + "; ".join(
        f"{f['path']}:{f['line']} {f['message']}" for f in wrong
    )


WEAK_CASES = [(placement, value) for placement in ("values-file", "helmrelease") for value in WEAK_DEFAULTS]


@pytest.mark.parametrize(("placement", "value"), WEAK_CASES, ids=[f"{p}-{v}" for p, v in WEAK_CASES])
def test_weak_default_is_a_finding(linted: LintRun, placement: str, value: str) -> None:
    planted = _planted(linted, placement, f"weak/{value}")
    found = [f for f in _secret_findings(linted, planted.path) if f["line"] in planted.lines]
    assert [f["rule"] for f in found] == ["plaintext-secret"], (
        f"password: {value} in the {placement} ({planted.path}:{planted.lines[0]}): {found}"
    )
    if value != "password":  # the key's own name is in the message
        assert value not in json.dumps(found), "the finding prints the value"
    assert linted.exit_code == 1


@pytest.mark.parametrize("path", [VALUES, MANIFEST])
def test_the_weak_defaults_are_the_only_secret_findings(linted: LintRun, path: str) -> None:
    """Nothing else in the planted files is reported: every other value is a reference."""
    weak = {line for p in linted.planted if p.path == path and p.name.startswith("weak/") for line in p.lines}
    lines = sorted(f["line"] for f in _secret_findings(linted, path))
    assert lines == sorted(weak), [(f["line"], f["message"]) for f in _secret_findings(linted, path)]
