"""No output format of ``rail diff`` (or ``rail check``) contains a secret value.

Canary values are changed in a values file, in a spec's env vars, in a SOPS file
and in a plain ``Secret`` of a manifest repository; each change still shows, as
"(redacted)", and no canary (nor its base64 form) appears anywhere in any report.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from gitstack import build_stack, changes_of, clone, commit, edit, fields_of, init, rail, rail_process, template, write

FORMATS = ("text", "json", "github", "sarif", "markdown")
CHECK_FORMATS = ("text", "json", "github", "sarif")

PG_VALUES = "values/s3/postgresql-ha.yaml"
GITEA = "releases/s5/gitea.yaml"
VALKEY_SOPS = "secrets/s3/valkey-credentials.sops.yaml"
ENC_OLD = "data:4CAgbcCQSZ1xg8PNJmHyICvrbOE7kagC,"
ENC_NEW = "data:canaryENC222canaryENC222canaryE,"

BASE_ENV = """\
      - name: GITEA__SECURITY__SECRET_KEY
        value: canary-env-111
      - name: GITEA__DATABASE__PASSWD
"""
HEAD_ENV = """\
      - name: GITEA__SECURITY__SECRET_KEY
        value: canary-env-222
      - name: GITEA__SECURITY__INTERNAL_TOKEN
        value: canary-env-new-333
      - name: GITEA__DATABASE__PASSWD
"""
CACHE_HOST = "- name: GITEA__CACHE__HOST\n        value: redis://:$(VALKEY_PASSWORD)@"
SPEC_CANARIES = (
    "canary-val-111",
    "canary-val-222",
    "canary-env-111",
    "canary-env-222",
    "canary-env-new-333",
    "canary-url-111",
    "canary-url-222",
    "canary-tree-444",
    "canaryENC222",
    "4CAgbcCQSZ1xg8PNJmHyICvrbOE7kagC",  # the ciphertext of the committed SOPS file
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def assert_no_canary(text: str, canaries: tuple[str, ...]) -> None:
    leaked = [canary for canary in canaries if canary in text]
    assert not leaked, f"secret values leaked into the output: {leaked}"


@pytest.fixture
def spec_secrets(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base: canaries committed in a values file and in Gitea's env; head: every one of them changed."""
    repo = clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")
    with (repo / PG_VALUES).open("a", encoding="utf-8") as values:
        values.write("auth:\n  password: canary-val-111\n")
    edit(repo, GITEA, "      - name: GITEA__DATABASE__PASSWD\n", BASE_ENV)
    edit(repo, GITEA, CACHE_HOST, CACHE_HOST.replace("$(VALKEY_PASSWORD)", "canary-url-111"))
    commit(repo, "canaries")

    edit(repo, PG_VALUES, "password: canary-val-111", "password: canary-val-222")
    edit(repo, GITEA, BASE_ENV, HEAD_ENV)
    edit(repo, GITEA, "redis://:canary-url-111@", "redis://:canary-url-222@")
    with (repo / PG_VALUES).open("a", encoding="utf-8") as values:
        values.write("backup:\n  s3:\n    accessKey: canary-tree-444\n")
    edit(repo, VALKEY_SOPS, ENC_OLD, ENC_NEW)
    return repo


def test_spec_stack_secret_changes_show_redacted(spec_secrets: Path) -> None:
    run = rail(spec_secrets, "diff", "--base", "main", "--format", "json")

    assert run.exit_code in (0, 1), run.output
    report = run.json()
    gitea = fields_of(changes_of(report, "HelmRelease", "gitea")[0])
    env = "spec.values.gitea.additionalConfigFromEnvs"
    assert gitea[f"{env}[name=GITEA__SECURITY__SECRET_KEY].value"] == ("(redacted)", "(redacted)")
    # An added item is shown key by key: its name plainly, its value redacted.
    assert gitea[f"{env}[name=GITEA__SECURITY__INTERNAL_TOKEN].name"] == (None, "GITEA__SECURITY__INTERNAL_TOKEN")
    assert gitea[f"{env}[name=GITEA__SECURITY__INTERNAL_TOKEN].value"] == (None, "(redacted)")
    assert gitea[f"{env}[name=GITEA__CACHE__HOST].value"] == ("(redacted)", "(redacted)")
    database = fields_of(changes_of(report, "HelmRelease", "postgresql-ha")[0])
    assert database["spec.values.auth.password"] == ("(redacted)", "(redacted)")
    assert database["spec.values.backup.s3.accessKey"] == (None, "(redacted)")
    valkey_secret = fields_of(changes_of(report, "Secret", "valkey-credentials")[0])
    assert valkey_secret["stringData.valkey-password"] == ("(redacted)", "(redacted)")
    for change in report["changes"]:
        for field in change["fields"]:
            if "(redacted)" in (field["old"], field["new"]):
                assert field["redacted"] is True


def test_spec_stack_canaries_absent_from_every_format(spec_secrets: Path, tmp_path: Path) -> None:
    """Each diff format to its own file (and text to stdout) in one run; then every format of rail check."""
    args: list[str] = []
    for output_format in FORMATS:
        args += ["--format", output_format, "--output", str(tmp_path / f"diff.{output_format}")]
    run = rail_process(spec_secrets, "diff", "--base", "main", *args, "--format", "text")

    assert run.exit_code in (0, 1), run.output
    assert "(redacted)" in run.stdout
    assert_no_canary(run.output, SPEC_CANARIES)
    for output_format in FORMATS:
        written = (tmp_path / f"diff.{output_format}").read_text(encoding="utf-8")
        assert written, output_format
        assert_no_canary(written, SPEC_CANARIES)
        if output_format not in ("github", "sarif"):  # these carry findings only
            assert "redacted" in written, output_format
    for output_format in CHECK_FORMATS:
        check = rail(spec_secrets, "check", "--base", "main", "--format", output_format)
        assert check.exit_code in (0, 1), check.output
        assert_no_canary(check.output, SPEC_CANARIES)


MANIFEST_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: {name}
  namespace: apps
type: Opaque
stringData:
  password: {password}
data:
  token: {token}
"""
MANIFEST_CANARIES = (
    "canary-plain-111",
    "canary-plain-222",
    "canary-b64-111",
    "canary-b64-222",
    "canary-gone-555",
    "canary-new-666",
)


@pytest.fixture
def manifest_secrets(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest repository with plain Secrets: one changed, one removed, one added."""
    repo = tmp_path / "manifests"
    shutil.copytree(template("stack", tmp_path_factory, build_stack) / "rendered/flux", repo)
    write(
        repo,
        "s5-apps/secret-app.yaml",
        MANIFEST_SECRET.format(name="app", password="canary-plain-111", token=_b64("canary-b64-111")),
    )
    write(
        repo,
        "s5-apps/secret-old.yaml",
        MANIFEST_SECRET.format(name="old", password="canary-gone-555", token=_b64("canary-gone-555")),
    )
    init(repo)
    write(
        repo,
        "s5-apps/secret-app.yaml",
        MANIFEST_SECRET.format(name="app", password="canary-plain-222", token=_b64("canary-b64-222")),
    )
    (repo / "s5-apps/secret-old.yaml").unlink()
    write(
        repo,
        "s5-apps/secret-new.yaml",
        MANIFEST_SECRET.format(name="new", password="canary-new-666", token=_b64("canary-new-666")),
    )
    return repo


def test_manifest_secret_changes_show_redacted(manifest_secrets: Path) -> None:
    run = rail(manifest_secrets, "diff", "--base", "main", "--format", "json")

    assert run.exit_code in (0, 1), run.output
    report = run.json()
    app = changes_of(report, "Secret", "app")[0]
    assert app["change"] == "modified"
    assert fields_of(app) == {
        "stringData.password": ("(redacted)", "(redacted)"),
        "data.token": ("(redacted)", "(redacted)"),
    }
    assert changes_of(report, "Secret", "old")[0]["change"] == "removed"
    assert changes_of(report, "Secret", "new")[0]["change"] == "added"


@pytest.mark.parametrize("output_format", FORMATS)
def test_manifest_canaries_absent_from_every_diff_format(manifest_secrets: Path, output_format: str) -> None:
    run = rail(manifest_secrets, "diff", "--base", "main", "--format", output_format)

    assert run.exit_code in (0, 1), run.output
    canaries = MANIFEST_CANARIES + tuple(_b64(canary) for canary in MANIFEST_CANARIES)
    assert_no_canary(run.output, canaries)
    if output_format in ("text", "markdown"):
        assert "stringData.password" in run.stdout
        assert "(redacted)" in run.stdout
