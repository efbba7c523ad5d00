"""No secret value ever reaches lint output, in any format (DESIGN.md, Secrets).

Canary values are planted wherever a secret can hide: a spec's inline values, a
values file, a shipped SOPS secret edited by hand, a stray ``*.sops.yaml`` (one of
them not even valid YAML), and, in a folder of hand-written manifests, a
HelmRelease, a ConfigMap's values.yaml, a plain Secret (also base64-encoded), an env
var and a credential URL. ``rail lint`` runs as a process with every ``--format``:
the findings must be there, the canary must not, on stdout, stderr or in an
``--output`` file.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

CANARY = "canary-s3cr3t-4711"
ENCODED = base64.b64encode(CANARY.encode()).decode()
FORMATS = ("text", "json", "github", "sarif")

RunRail = Callable[..., "subprocess.CompletedProcess[str]"]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


MANIFESTS = f"""\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: wiki
  namespace: apps
spec:
  interval: 10m
  chart:
    spec: {{chart: wiki, version: 2.0.0, sourceRef: {{kind: HelmRepository, name: requarks}}}}
  valuesFrom:
    - kind: ConfigMap
      name: wiki-values
  values:
    adminPassword: {CANARY}
    cache: redis://:{CANARY}@valkey-primary.platform.svc:6379/0
    env:
      - name: DB_PASSWORD
        value: {CANARY}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: wiki-values
  namespace: apps
data:
  values.yaml: |
    auth:
      password: {CANARY}
  API_TOKEN: {CANARY}
---
apiVersion: v1
kind: Secret
metadata:
  name: wiki-credentials
  namespace: apps
stringData:
  password: {CANARY}
data:
  token: {ENCODED}
"""


@pytest.fixture
def planted(stack_copy: Path) -> Path:
    root = stack_copy
    _replace(
        root / "releases" / "s3" / "postgresql-ha.yaml",
        "    replicaCount: 1\n",
        f"    replicaCount: 1\n    adminPassword: {CANARY}\n",
    )
    _replace(
        root / "values" / "s3" / "postgresql-ha.yaml",
        "  repmgrUsername: repmgr\n",
        f"  repmgrUsername: repmgr\n  repmgrPassword: {CANARY}\n",
    )
    secret = root / "secrets" / "s3" / "valkey-credentials.sops.yaml"
    lines = secret.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("    valkey-password: "))
    lines[index] = f"    valkey-password: {CANARY}\n"
    secret.write_text("".join(lines), encoding="utf-8")
    stray = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\n  namespace: apps\n"
        f"stringData:\n  token: {CANARY}\ndata:\n  key: {ENCODED}\n"
    )
    (root / "secrets" / "s5" / "extra.sops.yaml").write_text(stray, encoding="utf-8")
    (root / "secrets" / "s5" / "broken.sops.yaml").write_text(f'stringData:\n  password: "{CANARY}\n')
    manifests = root / "manifests"
    manifests.mkdir()
    (manifests / "wiki.yaml").write_text(MANIFESTS, encoding="utf-8")
    return root


def _assert_clean(text: str, where: str) -> None:
    assert CANARY not in text, f"the secret is printed in {where}"
    assert ENCODED not in text, f"the base64 of the secret is printed in {where}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_prints_a_secret(planted: Path, run_rail: RunRail, fmt: str) -> None:
    result = run_rail("lint", "manifests", "--format", fmt, cwd=planted)
    assert result.returncode == 1, result.stderr
    _assert_clean(result.stdout, f"--format {fmt} stdout")
    _assert_clean(result.stderr, f"--format {fmt} stderr")
    # The findings are there: the test would prove nothing if the rules were silent.
    for rule in ("plaintext-secret", "sops-unencrypted"):
        assert rule in result.stdout, f"no {rule} finding in --format {fmt}"


def test_every_planted_secret_is_found(planted: Path, run_rail: RunRail) -> None:
    result = run_rail("lint", "manifests", "--format", "json", cwd=planted)
    findings = json.loads(result.stdout)["findings"]
    where = {(f["rule"], f["path"]) for f in findings if f["rule"] in ("plaintext-secret", "sops-unencrypted")}
    assert where == {
        ("plaintext-secret", "releases/s3/postgresql-ha.yaml"),
        ("plaintext-secret", "values/s3/postgresql-ha.yaml"),
        ("plaintext-secret", "manifests/wiki.yaml"),
        ("sops-unencrypted", "secrets/s3/valkey-credentials.sops.yaml"),
        ("sops-unencrypted", "secrets/s5/extra.sops.yaml"),
        ("sops-unencrypted", "secrets/s5/broken.sops.yaml"),
    }
    in_manifests = sorted(
        f["line"] for f in findings if f["path"] == "manifests/wiki.yaml" and f["rule"] == "plaintext-secret"
    )
    # adminPassword, the URL, the env var, the ConfigMap's values.yaml and API_TOKEN, the Secret.
    assert in_manifests == [14, 15, 18, 26, 29, 37]


def test_several_formats_to_files_in_one_run(planted: Path, run_rail: RunRail, tmp_path: Path) -> None:
    args = ["lint", "manifests"]
    for fmt in FORMATS:
        args += ["--format", fmt, "--output", str(tmp_path / f"report.{fmt}")]
    result = run_rail(*args, cwd=planted)
    assert result.returncode == 1, result.stderr
    _assert_clean(result.stdout + result.stderr, "stdout/stderr")
    for fmt in FORMATS:
        report = (tmp_path / f"report.{fmt}").read_text(encoding="utf-8")
        assert "plaintext-secret" in report
        _assert_clean(report, f"the {fmt} report file")


def test_render_refusing_the_secret_does_not_print_it(planted: Path, run_rail: RunRail) -> None:
    result = run_rail("render", cwd=planted)
    assert result.returncode == 2
    _assert_clean(result.stdout + result.stderr, "rail render")
