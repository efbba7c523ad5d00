"""sops-unencrypted beyond its cases: which files count, where a spec-listed secret is
reported (its source, never twice), and that values never reach a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_stack

from renderer.app import run_lint
from renderer.lint.finding import WARNING, Finding
from renderer.lint.graph import build
from renderer.lint.manifests import parse
from renderer.lint.rule import LintContext, LintOptions
from renderer.lint.rules import sops_unencrypted
from renderer.lint.rules.sops_unencrypted import is_sops_path
from renderer.model import StackConfig

SECRET = "canary-s3cr3t-4711"
REPO = Path(__file__).resolve().parents[3]
ENC = "ENC[AES256_GCM,data:6EBm4idb0Q9Q,iv:aWsUzxN47KIjfEU7Y3fN=,tag:feYCU2t1a/1Q==,type:str]"
MAC = "ENC[AES256_GCM,data:gttkWidL0K2L3o39,iv:pYyznBaiYqJlV3XF=,tag:5yMXcGpLx/Nb==,type:str]"


def _lint(text: str, path: str = "secret.sops.yaml") -> list[Finding]:
    graph = build(StackConfig.default(), parse(text, path))
    return list(sops_unencrypted.check(LintContext(graph=graph)))


def _silent(findings: list[Finding]) -> None:
    for finding in findings:
        assert SECRET not in finding.message
        assert SECRET not in finding.hint


def test_docstring_is_the_rule_documentation() -> None:
    doc = sops_unencrypted.RULE.doc
    assert doc.startswith("sops-unencrypted: ")
    assert "Fails::" in doc and "Passes::" in doc


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("secrets/a.sops.yaml", True),
        ("a.sops.yml", True),
        (".sops.yaml", False),  # sops's creation rules
        ("secrets/.sops.yaml", False),
        ("secrets/a.yaml", False),
        ("secrets/a.sops.json", False),
    ],
)
def test_is_sops_path(path: str, expected: bool) -> None:
    assert is_sops_path(path) is expected


def _secret(string_data: str, sops: str = f"sops:\n  mac: {MAC}\n  version: 3.9.0\n") -> str:
    return f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: apps\nstringData:\n{string_data}{sops}"


def test_encrypted_passes() -> None:
    assert _lint(_secret(f"  password: {ENC}\n  empty: ENC[AES256_GCM,data:,iv:a=,tag:b==,type:str]\n")) == []


@pytest.mark.parametrize("value", ['""', "''", '"  "', "null", "~"])
def test_an_empty_value_holds_nothing_to_encrypt(value: str) -> None:
    assert _lint(_secret(f"  password: {value}\n  token: {ENC}\n")) == []


@pytest.mark.parametrize(
    "value",
    [SECRET, "12345", "ENC[not sops]", "ENC[AES256_GCM,data:abc"],
)
def test_every_value_that_is_not_a_sops_ciphertext_is_reported(value: str) -> None:
    findings = _lint(_secret(f"  password: {value}\n"))
    assert [(f.line, f.object and f.object.name) for f in findings] == [(7, "s")]
    assert "stringData.password is not encrypted" in findings[0].message
    _silent(findings)


def test_unencrypted_suffix_is_plain_on_purpose() -> None:
    sops = f"sops:\n  mac: {MAC}\n  unencrypted_suffix: _unencrypted\n"
    assert _lint(_secret(f"  password: {ENC}\n  note_unencrypted: hello\n", sops)) == []


def test_no_metadata_is_one_finding_naming_keys_only() -> None:
    findings = _lint(_secret(f"  password: {SECRET}\n  token: {SECRET}\n", sops=""))
    assert len(findings) == 1
    assert "no SOPS metadata" in findings[0].message
    assert "(password, token)" in findings[0].message
    _silent(findings)


def test_each_document_of_a_multi_document_file() -> None:
    text = _secret(f"  a: {ENC}\n") + "---\n" + _secret(f"  b: {SECRET}\n")
    findings = _lint(text)
    assert [f.message.split(": ", 1)[1] for f in findings] == [
        "stringData.b is not encrypted (not an ENC[AES256_GCM,...] value)"
    ]


def test_a_plain_yaml_file_without_a_sops_block_is_not_a_sops_file() -> None:
    assert _lint(_secret(f"  password: {SECRET}\n", sops=""), "secret.yaml") == []


def _stack(tmp_path: Path) -> Path:
    return copy_stack(REPO, tmp_path / "stack", outputs=False)


def _found(work: Path) -> list[Finding]:
    return [f for f in run_lint(work, [], LintOptions()).findings if f.rule == "sops-unencrypted"]


def test_a_spec_listed_secret_is_reported_at_its_source_with_the_rendered_copy_related(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    source = work / "secrets" / "s5" / "gitea-admin.sops.yaml"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("    password: "))
    lines[index] = f"    password: {SECRET}\n"
    source.write_text("".join(lines), encoding="utf-8")
    found = _found(work)
    assert [(f.path, f.line) for f in found] == [("secrets/s5/gitea-admin.sops.yaml", index + 1)]
    assert [(r.path, r.line) for r in found[0].related] == [
        ("rendered/flux/s5-apps/secret-gitea-admin.sops.yaml", index + 1)
    ]
    _silent(found)


def test_strays_are_searched_in_the_stack_folders_only(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    plain = _secret(f"  password: {SECRET}\n", sops="")
    for relative in ("secrets/s5/new.sops.yaml", "values/s3/extra.sops.yaml", "root.sops.yaml"):
        (work / relative).write_text(plain, encoding="utf-8")
    # Not the stack's: test fixtures, tool folders, rail's own output.
    for relative in ("tests/fixtures/bad.sops.yaml", "node_modules/x/bad.sops.yaml", "secrets/.git/bad.sops.yaml"):
        (work / relative).parent.mkdir(parents=True, exist_ok=True)
        (work / relative).write_text(plain, encoding="utf-8")
    found = _found(work)
    assert sorted(f.path for f in found) == ["root.sops.yaml", "secrets/s5/new.sops.yaml", "values/s3/extra.sops.yaml"]
    _silent(found)


def test_an_unreadable_stray_is_a_warning_without_its_text(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    (work / "secrets" / "s5" / "broken.sops.yaml").write_text(f'stringData:\n  password: "{SECRET}\n')
    found = _found(work)
    assert [(f.path, f.severity) for f in found] == [("secrets/s5/broken.sops.yaml", WARNING)]
    _silent(found)


def test_manifests_named_on_the_command_line(tmp_path: Path) -> None:
    work = _stack(tmp_path)
    extra = tmp_path / "elsewhere"
    extra.mkdir()
    (extra / "db.sops.yaml").write_text(_secret(f"  password: {SECRET}\n"), encoding="utf-8")
    found = [f for f in run_lint(work, [extra], LintOptions()).findings if f.rule == "sops-unencrypted"]
    assert len(found) == 1
    assert found[0].path.endswith("elsewhere/db.sops.yaml")
    assert found[0].line == 7
