"""The bootstrap Jobs of database claims, as rendered objects (renderer/render/claims.py)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from renderer.yamlio import load_document

CANARY = "Canary-claim-pw-91f0c2"


def _sops_secret(name: str, namespace: str, key: str, value: str) -> str:
    """A Secret in SOPS's shape whose ciphertext is the value in base64: what a careless
    renderer could decode or copy shows up in the output."""
    data = base64.b64encode(value.encode()).decode()
    return (
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: Opaque\n"
        f"stringData:\n  {key}: ENC[AES256_GCM,data:{data},iv:aXY=,tag:dGFn,type:str]\n"
        "sops:\n  mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n  version: 3.9.0\n"
    )


def _jobs(root: Path, target: str = "flux") -> dict[str, tuple[str, dict[str, Any]]]:
    found = {}
    for path in sorted((root / "rendered" / target / "s3-platform").glob("job-*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = load_document(text, path.name).data
        found[data["metadata"]["labels"]["railiance.io/claim"]] = (text, data)
    return found


def test_the_job_holds_no_password(unrendered_stack: Path, run_rail: Any) -> None:
    secret = unrendered_stack / "secrets" / "s3" / "gitea-database.sops.yaml"
    secret.write_text(_sops_secret("gitea-database", "platform", "password", CANARY), encoding="utf-8")
    result = run_rail("render", cwd=unrendered_stack)
    assert result.returncode == 0, result.stderr
    jobs = _jobs(unrendered_stack) | {f"argo-{k}": v for k, v in _jobs(unrendered_stack, "argo").items()}
    assert set(jobs) == {"gitea", "zulip", "argo-gitea", "argo-zulip"}
    encoded = base64.b64encode(CANARY.encode()).decode()
    for text, data in jobs.values():
        assert CANARY not in text and encoded not in text
        env = data["spec"]["template"]["spec"]["containers"][0]["env"]
        passwords = {item["name"]: item for item in env if "PASSWORD" in item["name"]}
        assert set(passwords) == {"PGPASSWORD", "CLAIM_PASSWORD"}
        assert all(set(item) == {"name", "valueFrom"} for item in passwords.values())
    claim = jobs["gitea"][1]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "CLAIM_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "gitea-database", "key": "password"}},
    } in claim
    # The Secret itself sits beside the Job, byte for byte, for Flux to decrypt.
    copied = unrendered_stack / "rendered" / "flux" / "s3-platform" / "secret-gitea-database.sops.yaml"
    assert copied.read_bytes() == secret.read_bytes()
    assert "secret-gitea-database.sops.yaml" in (copied.parent / "kustomization.yaml").read_text(encoding="utf-8")


def test_a_changed_claim_is_a_new_job(unrendered_stack: Path, run_rail: Any) -> None:
    assert run_rail("render", cwd=unrendered_stack).returncode == 0
    before = {name: data["metadata"]["name"] for name, (_, data) in _jobs(unrendered_stack).items()}
    assert run_rail("render", cwd=unrendered_stack).returncode == 0
    assert {name: data["metadata"]["name"] for name, (_, data) in _jobs(unrendered_stack).items()} == before
    spec = unrendered_stack / "releases" / "s5" / "zulip.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("    name: zulip\n", "    name: chat\n", 1), "utf-8")
    assert run_rail("render", cwd=unrendered_stack).returncode == 0
    after = {name: data for name, (_, data) in _jobs(unrendered_stack).items()}
    assert after["gitea"]["metadata"]["name"] == before["gitea"]
    assert after["zulip"]["metadata"]["name"] != before["zulip"]
    assert after["zulip"]["metadata"]["name"].startswith("db-claim-zulip-")
    env = {
        item["name"]: item.get("value") for item in after["zulip"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["CLAIM_DATABASE"] == "chat" and env["CLAIM_ROLE"] == "chat"
    assert not list((unrendered_stack / "rendered").rglob(f"job-{before['zulip']}.yaml")), "the old Job is pruned"


def test_argo_applies_the_job_in_its_database_wave(rendered_stack: Path) -> None:
    folder = rendered_stack / "rendered" / "argo" / "s3-platform"
    application = load_document((folder / "application-postgresql-ha.yaml").read_text("utf-8"), "app").data
    wave = application["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
    for _, data in _jobs(rendered_stack, "argo").values():
        assert data["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": wave}
    zulip = load_document(
        (rendered_stack / "rendered" / "argo" / "s5-apps" / "application-zulip.yaml").read_text("utf-8"), "app"
    ).data
    assert int(zulip["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) > int(wave)


def test_claim_secret_in_another_namespace_is_an_input_error(unrendered_stack: Path, run_rail: Any) -> None:
    secret = unrendered_stack / "secrets" / "s3" / "gitea-database.sops.yaml"
    secret.write_text(_sops_secret("gitea-database", "apps", "password", CANARY), encoding="utf-8")
    result = run_rail("render", cwd=unrendered_stack)
    assert result.returncode == 2
    assert "releases/s5/gitea.yaml:" in result.stderr
    assert "runs in 'platform'" in result.stderr
    assert "Traceback" not in result.stderr and CANARY not in result.stderr


def test_claim_secret_without_the_key_is_an_input_error(unrendered_stack: Path, run_rail: Any) -> None:
    secret = unrendered_stack / "secrets" / "s3" / "gitea-database.sops.yaml"
    secret.write_text(_sops_secret("gitea-database", "platform", "pw", CANARY), encoding="utf-8")
    result = run_rail("render", cwd=unrendered_stack)
    assert result.returncode == 2
    assert "has no key 'password'" in result.stderr and CANARY not in result.stderr


def test_a_quote_in_a_claimed_name_is_refused(unrendered_stack: Path, run_rail: Any) -> None:
    spec = unrendered_stack / "releases" / "s5" / "zulip.yaml"
    spec.write_text(spec.read_text("utf-8").replace("    name: zulip\n", '    name: "zu\'lip"\n', 1), "utf-8")
    result = run_rail("render", cwd=unrendered_stack)
    assert result.returncode == 2
    assert "releases/s5/zulip.yaml:" in result.stderr and "needs.database.name" in result.stderr
    assert "Traceback" not in result.stderr
