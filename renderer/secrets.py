"""What counts as a secret value, shared by render (which refuses them) and lint.

Nothing here returns or formats a value: callers get key paths only, so no secret
can leak into a message by way of this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

_SECRET_KEY = re.compile(
    r"(passwords?|passwd|passphrase|token|apikey|privatekey|secretkey|accesskey|clientsecret|secretaccesskey"
    # Application secrets charts take as literals: Gitea's LFS_JWT_SECRET, Rails'
    # secret_key_base, oauth2-proxy's cookieSecret, Meilisearch's masterKey.
    r"|jwtsecret|cookiesecret|sessionsecret|webhooksecret|otpsecret|sharedsecret|secretkeybase"
    r"|encryptionkey|signingkey|masterkey)$"
)
_NOT_SECRET_KEY = re.compile(r"^(existing|use|enable|create|auto)|(secretname|secretref|file|files)$")
# scheme://user:password@host, where the password is not a placeholder.
_CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@", re.IGNORECASE)
# A SOPS-encrypted leaf value (the only cipher SOPS writes).
_SOPS_VALUE = re.compile(r"^ENC\[AES256_GCM,data:[^\]]*,type:[a-z]+\]$")
_PLACEHOLDER = re.compile(r"^(\$\(.+\)|\$\{.+\}|\{\{.+\}\}|ENC\[.+\])$")
# Where a secret is kept, inside a value: Kubernetes $(VAR), ${VAR} (shell, Flux,
# rail's ${ref:...}), a Go template. Only a complete one counts: `pa$(ss` is a password.
_SEPARATORS = re.compile(r"[-_.]")
_REFERENCE = re.compile(r"\$\([^()\s]+\)|\$\{[^{}\s]+\}|\{\{.*?\}\}")


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and _is_secret_name(key)


@lru_cache(maxsize=8192)
def _is_secret_name(key: str) -> bool:
    # Keys repeat across every values file of a stack (enabled, image, tag, ...): judged once.
    normalized = _SEPARATORS.sub("", key).lower()
    return bool(_SECRET_KEY.search(normalized)) and not _NOT_SECRET_KEY.search(normalized)


def is_literal(value: object) -> bool:
    """A value that is the secret itself, not a reference to where it is kept."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str) or not value.strip():
        return False
    return not (value.startswith("ENC[") or _REFERENCE.search(value))


def is_sops_encrypted(value: object) -> bool:
    """A value SOPS encrypted: ``ENC[AES256_GCM,data:...,type:...]``."""
    return isinstance(value, str) and bool(_SOPS_VALUE.match(value))


def has_credential_url(value: object) -> bool:
    if not isinstance(value, str) or "@" not in value or "://" not in value:
        return False
    return any(not _PLACEHOLDER.match(match.group(1)) for match in _CREDENTIAL_URL.finditer(value))


def find_plaintext(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Key paths of literal secrets in ``data``, each with what kind of secret it is."""
    return _find(data, prefix, None)


def _find(data: Any, prefix: tuple[Any, ...], under: str | None) -> Iterator[tuple[tuple[Any, ...], str]]:
    """``under``: the secret-looking key a list sits under (its literal items are secrets).

    Most leaves are no secret: their key path is only built for the ones that are."""
    if isinstance(data, dict):
        name = data.get("name")
        env_name = name if isinstance(name, str) and is_secret_key(name) else None
        for key, value in data.items():
            if isinstance(value, list) and is_secret_key(key):
                # `passwords: [a, b]`: every literal item is a secret.
                yield from _find(value, (*prefix, key), str(key))
            elif isinstance(value, (dict, list)):
                yield from _find(value, (*prefix, key), None)
            elif is_secret_key(key) and is_literal(value):
                yield (*prefix, key), f"a literal value under the secret-looking key '{key}'"
            elif key == "value" and env_name and is_literal(value):
                yield (*prefix, key), f"a literal value for the secret-looking variable '{env_name}'"
            elif has_credential_url(value):
                yield (*prefix, key), "a URL with an embedded password (user:password@)"
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, (dict, list)):
                yield from _find(item, (*prefix, index), None)
            elif under is not None and is_literal(item):
                yield (*prefix, index), f"a literal value under the secret-looking key '{under}'"
            elif has_credential_url(item):
                yield (*prefix, index), "a URL with an embedded password (user:password@)"
