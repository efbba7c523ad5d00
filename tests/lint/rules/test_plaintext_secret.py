"""plaintext-secret beyond its cases: the manifest kinds it reads, what it leaves to
other rules, one finding per value, and never the value in a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_stack

from renderer.app import run_lint
from renderer.lint.finding import Finding
from renderer.lint.graph import build
from renderer.lint.manifests import parse
from renderer.lint.rule import LintContext, LintOptions
from renderer.lint.rules import plaintext_secret
from renderer.model import StackConfig
from renderer.secrets import find_plaintext, is_secret_key, is_sops_encrypted

SECRET = "canary-s3cr3t-4711"
REPO = Path(__file__).resolve().parents[3]


def _lint(text: str, path: str = "repo.yaml") -> list[Finding]:
    graph = build(StackConfig.default(), parse(text, path))
    return list(plaintext_secret.check(LintContext(graph=graph)))


def _assert_silent(findings: list[Finding]) -> None:
    for finding in findings:
        for text in (finding.message, finding.hint, *(str(r) for r in finding.related)):
            assert SECRET not in text


def test_docstring_is_the_rule_documentation() -> None:
    doc = plaintext_secret.RULE.doc
    assert doc.startswith("plaintext-secret: ")
    assert "Fails::" in doc and "Passes::" in doc


HELM_RELEASE = f"""
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: wiki, namespace: apps}}
spec:
  interval: 10m
  chart:
    spec: {{chart: wiki, version: 2.0.0, sourceRef: {{kind: HelmRepository, name: requarks}}}}
  values:
    db:
      password: {SECRET}
    oidc:
      clientSecret: {SECRET}
    cache: redis://:{SECRET}@valkey-primary.platform.svc:6379/0
"""


def test_helm_release_values() -> None:
    findings = _lint(HELM_RELEASE)
    assert [(f.line, f.object and f.object.name) for f in findings] == [(11, "wiki"), (13, "wiki"), (14, "wiki")]
    assert "spec.values.db.password" in findings[0].message
    _assert_silent(findings)


def test_config_map_plain_keys_and_embedded_yaml() -> None:
    text = f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-config, namespace: apps}}
data:
  DB_PASSWORD: {SECRET}
  LOG_LEVEL: debug
  values.yaml: |
    auth:
      password: {SECRET}
    url: "postgresql://app:{SECRET}@db:5432/app"
  not-yaml: "a: b: c"
"""
    findings = _lint(text)
    assert [f.line for f in findings] == [6, 8, 8]
    assert "data.DB_PASSWORD" in findings[0].message
    assert "ConfigMap key 'values.yaml', at auth.password" in findings[1].message
    assert "at url" in findings[2].message
    _assert_silent(findings)


def test_plain_secret_lists_keys_never_values() -> None:
    text = f"""
apiVersion: v1
kind: Secret
metadata: {{name: app, namespace: apps}}
stringData:
  api-key: {SECRET}
data:
  token: Y2FuYXJ5LXMzY3IzdC00NzEx
"""
    findings = _lint(text)
    assert len(findings) == 1
    assert findings[0].line == 6
    assert "api-key, token" in findings[0].message
    assert "Y2FuYXJ5" not in findings[0].message
    _assert_silent(findings)


@pytest.mark.parametrize(
    "text",
    [
        # An empty Secret, or one filled in by Flux substitution, holds nothing.
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a, namespace: apps}\ntype: Opaque\n",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\nstringData: {password: '${DB_PASSWORD}'}\n",
        # SOPS files are sops-unencrypted's, whatever they hold.
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: a}}\nstringData: {{password: {SECRET}}}\nsops: {{mac: x}}\n",
    ],
)
def test_secrets_left_alone(text: str) -> None:
    assert _lint(text) == []


def test_sops_named_secret_is_left_to_sops_unencrypted() -> None:
    text = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: a}}\nstringData: {{password: {SECRET}}}\n"
    assert _lint(text, "secrets/a.sops.yaml") == []
    assert len(_lint(text, "secrets/a.yaml")) == 1


def test_argo_application_helm_values() -> None:
    text = f"""
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: wiki, namespace: argocd}}
spec:
  sources:
    - repoURL: https://charts.example.org
      chart: wiki
      helm:
        parameters:
          - name: postgresql.auth.password
            value: {SECRET}
          - name: replicaCount
            value: "2"
        valuesObject:
          apiToken: {SECRET}
        values: |
          adminPassword: {SECRET}
"""
    findings = _lint(text)
    assert sorted(f.line for f in findings) == [12, 16, 17]
    _assert_silent(findings)


def test_workloads_and_cronjobs() -> None:
    text = f"""
apiVersion: batch/v1
kind: CronJob
metadata: {{name: backup, namespace: platform}}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: backup
              env:
                - {{name: PGPASSWORD, value: {SECRET}}}
                - {{name: AWS_SECRET_ACCESS_KEY, valueFrom: {{secretKeyRef: {{name: s3, key: secret}}}}}}
"""
    findings = _lint(text)
    assert [f.line for f in findings] == [13]
    assert "'PGPASSWORD'" in findings[0].message


def test_kinds_it_does_not_read() -> None:
    # A CRD's schema names properties "password"; a Service has no secrets.
    text = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.org}
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            password: {type: string, default: changeme}
"""
    assert _lint(text) == []


def _stack(tmp_path: Path) -> Path:
    return copy_stack(REPO, tmp_path / "stack", outputs=False)


def test_a_spec_value_is_reported_once_at_the_spec_with_the_rendered_place_related(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    spec = work / "releases" / "s3" / "postgresql-ha.yaml"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("    replicaCount: 1\n", f"    replicaCount: 1\n    adminPassword: {SECRET}\n"))
    result = run_lint(work, [], LintOptions())
    found = [f for f in result.findings if f.rule == "plaintext-secret"]
    assert len(found) == 1
    assert found[0].path == "releases/s3/postgresql-ha.yaml"
    assert [r.path for r in found[0].related] == ["rendered/flux/s3-platform/helmrelease-postgresql-ha.yaml"]
    assert found[0].related[0].line is not None
    _assert_silent(found)


def test_a_values_file_shared_by_two_specs_is_reported_once(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    shared = work / "values" / "shared.yaml"
    shared.write_text(f"metrics:\n  token: {SECRET}\n", encoding="utf-8")
    for name in ("s3/postgresql-ha.yaml", "s3/valkey.yaml"):
        spec = work / "releases" / name
        text = spec.read_text(encoding="utf-8")
        if "valuesFiles:" in text:
            text = text.replace("valuesFiles:\n", "valuesFiles:\n  - values/shared.yaml\n")
        else:
            text = text.replace("values:\n", "valuesFiles:\n  - values/shared.yaml\nvalues:\n", 1)
        spec.write_text(text, encoding="utf-8")
    result = run_lint(work, [], LintOptions())
    found = [f for f in result.findings if f.rule == "plaintext-secret"]
    assert [(f.path, f.line) for f in found] == [("values/shared.yaml", 2)]


# renderer.secrets additions this rule relies on (the rest: tests/test_secrets.py).


@pytest.mark.parametrize(
    "key",
    [
        "LFS_JWT_SECRET",
        "jwtSecret",
        "cookieSecret",
        "sessionSecret",
        "webhookSecret",
        "otpSecret",
        "secret_key_base",
        "secretKeyBase",
        "encryptionKey",
        "signingKey",
        "masterKey",
        "sharedSecret",
    ],
)
def test_application_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["existingSecret", "jwtSecretRef", "signingKeySecretRef", "encryptionKeyFile"])
def test_application_secret_references_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


def test_a_list_under_a_secret_key() -> None:
    data = {"auth": {"passwords": ["a", "${B}", {"password": "c"}], "usernames": ["x", "y"]}}
    assert [path for path, _ in find_plaintext(data)] == [
        ("auth", "passwords", 0),
        ("auth", "passwords", 2, "password"),
    ]


@pytest.mark.parametrize(
    ("value", "encrypted"),
    [
        ("ENC[AES256_GCM,data:6EBm4idb,iv:aWsU=,tag:feYC==,type:str]", True),
        ("ENC[AES256_GCM,data:,iv:a=,tag:b==,type:str]", True),
        ("ENC[AES256_GCM,data:x]", False),
        ("ENC[whatever]", False),
        ("hunter2", False),
        (None, False),
        (5, False),
    ],
)
def test_is_sops_encrypted(value: object, encrypted: bool) -> None:
    assert is_sops_encrypted(value) is encrypted
