"""No secret at rest: canaries planted in every place a secret hides, every command run
with the cache on, then every byte under the cache folder searched for them."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from pathlib import Path

from conftest import GIT_ENV, REPO_ROOT, RunRail, copy_stack

from renderer.cache import store

# The shipped SOPS file's ciphertext and MAC: a SOPS file is never stored, encrypted or not.
SOPS_FILE = "secrets/s3/valkey-credentials.sops.yaml"


PREFIX = "qzvcanary"  # in no template or schema: any trace of a canary is a leak


def _canary(label: str) -> str:
    return f"{PREFIX}{label}{secrets.token_hex(10)}"


def _variants(value: str) -> list[bytes]:
    """The canary, and its base64 form at each of the three alignments."""
    raw = value.encode()
    forms = [raw]
    for shift in range(3):
        encoded = base64.b64encode(b"x" * shift + raw)[4:-4]  # the stable middle of the encoding
        forms.append(encoded)
    return forms


def test_no_canary_reaches_the_cache(run_rail: RunRail, tmp_path: Path) -> None:
    stack = copy_stack(REPO_ROOT, tmp_path / "stack")
    password, string_data, data, sops_plain = (_canary(label) for label in ("pw", "sd", "db", "sp"))
    values = stack / "values" / "s3" / "postgresql-ha.yaml"
    values.write_text(values.read_text(encoding="utf-8") + f"canaryDatabase:\n  password: {password}\n", "utf-8")
    manifests = stack / "manifests"
    manifests.mkdir()
    (manifests / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: canary, namespace: apps}\ntype: Opaque\n"
        f"stringData:\n  token: {string_data}\n"
        f"data:\n  other: {base64.b64encode(data.encode()).decode()}\n",
        encoding="utf-8",
    )
    sops = stack / SOPS_FILE
    sops_text = sops.read_text(encoding="utf-8")
    ciphertexts = [part.split(",")[0] for part in sops_text.split("ENC[AES256_GCM,data:")[1:]]
    assert ciphertexts
    sops.write_text(sops_text.replace("stringData:\n", f"stringData:\n    plain-password: {sops_plain}\n"), "utf-8")
    git = {**os.environ, **GIT_ENV}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "canaries"]):
        subprocess.run(["git", *command], cwd=stack, env=git, check=True, capture_output=True)
    (stack / "values" / "s3" / "postgresql-ha.yaml").open("a", encoding="utf-8").write("extraKnob: 2\n")

    folder = tmp_path / "cache"
    env = {"RAIL_CACHE_DIR": str(folder), "RAIL_NO_CACHE": "", **GIT_ENV}
    codes = {}
    commands = (
        ("render",),
        ("render", "--check"),
        ("lint",),
        ("lint", "manifests"),
        ("check",),
        ("diff", "--base", "HEAD"),
        ("lint", "manifests"),  # warm
    )
    for args in commands * 2:  # an entry is stored on its key's second sighting: every one offered
        done = run_rail(*args, cwd=stack, env=env)
        codes[args] = done.returncode
        assert "Traceback" not in done.stderr, done.stderr
    assert codes[("lint",)] == 1 and codes[("lint", "manifests")] == 1  # the canaries are findings

    stored = [path for path in folder.rglob("*") if path.is_file()]
    layout = folder / store.layout_name()
    for kind in ("parse", "positions", "render", "verdict", "rule"):
        assert (layout / kind).is_dir(), f"the cache was not used for {kind}: the search below proves nothing"
    assert len(stored) > 50
    forbidden = [form for value in (password, string_data, data, sops_plain) for form in _variants(value)]
    forbidden += [ciphertext.encode() for ciphertext in ciphertexts]
    for path in stored:
        content = path.read_bytes()
        for form in forbidden:
            assert form not in content, f"{path.relative_to(folder)} holds a canary"
        assert PREFIX.encode() not in content, f"{path.relative_to(folder)} holds part of a canary"
