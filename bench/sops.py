"""SOPS-looking Secret manifests for the synthetic stacks.

The layout is the one ``sops --encrypt`` writes (and the shipped examples under
``secrets/`` have): four-space indentation, every ``stringData`` value an
``ENC[AES256_GCM,data:...,iv:...,tag:...,type:str]`` string, and a ``sops:``
block with an age recipient, ``lastmodified``, ``mac`` and ``encrypted_regex``.
The ciphertext is random bytes: it looks like SOPS and decrypts to nothing.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Sequence

BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
LASTMODIFIED = "2026-11-27T00:00:00Z"  # fixed: the same seed gives the same bytes


def b64(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size)).decode("ascii")


def age_recipient(rng: random.Random) -> str:
    return "age1" + "".join(rng.choice(BECH32) for _ in range(58))


def encrypted(rng: random.Random, plaintext_size: int) -> str:
    return f"ENC[AES256_GCM,data:{b64(rng, plaintext_size)},iv:{b64(rng, 32)},tag:{b64(rng, 16)},type:str]"


def _age_block(rng: random.Random) -> list[str]:
    text = b64(rng, 230)
    wrapped = [text[i : i + 64] for i in range(0, len(text), 64)]
    pad = " " * 12
    return [
        f"{pad}-----BEGIN AGE ENCRYPTED FILE-----",
        *(f"{pad}{line}" for line in wrapped),
        f"{pad}-----END AGE ENCRYPTED FILE-----",
    ]


def secret_manifest(rng: random.Random, name: str, namespace: str, keys: Sequence[str], recipient: str) -> str:
    """One encrypted-looking ``Secret`` with ``keys`` under ``stringData``."""
    lines = [
        "# SYNTHETIC (bench/generate.py): random ciphertext to a random age recipient; it decrypts to nothing.",
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"    name: {name}",
        f"    namespace: {namespace}",
        "    labels:",
        "        app.kubernetes.io/part-of: synthetic",
        "type: Opaque",
        "stringData:",
        *(f"    {key}: {encrypted(rng, rng.randint(12, 40))}" for key in keys),
        "sops:",
        "    kms: []",
        "    gcp_kms: []",
        "    azure_kv: []",
        "    hc_vault: []",
        "    age:",
        f"        - recipient: {recipient}",
        "          enc: |",
        *_age_block(rng),
        f'    lastmodified: "{LASTMODIFIED}"',
        f"    mac: {encrypted(rng, 64)}",
        "    pgp: []",
        "    encrypted_regex: ^(data|stringData)$",
        "    version: 3.9.0",
    ]
    return "\n".join(lines) + "\n"


def sops_config(recipient: str) -> str:
    return (
        "# sops creation rules of the synthetic stack: encrypt only data and stringData.\n"
        "creation_rules:\n"
        "  - path_regex: secrets/.*\\.sops\\.yaml$\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        f"    age: {recipient}\n"
    )
