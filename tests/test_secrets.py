"""What counts as a plaintext secret (renderer.secrets): one table per question.

Positives are what must never reach rendered/; negatives are the ways charts and
specs name where a secret is kept (existingSecret keys, placeholders, SOPS values),
which must not be flagged, or nobody could write a spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderer.load import load_stack
from renderer.secrets import find_plaintext, has_credential_url, is_literal, is_secret_key

SECRET_KEYS = [
    "password",
    "adminPassword",
    "postgresPassword",
    "repmgrPassword",
    "srCheckPassword",
    "DB_PASSWORD",
    "admin-password",
    "valkey-password",
    "passwords",  # postgresql-ha pgpool.customUsers.passwords
    "passwd",
    "passphrase",
    "api_key",
    "apiKey",
    "API_KEY",
    "clientSecret",
    "client-secret",
    "client_secret",
    "token",
    "accessToken",
    "privateKey",
    "secretKey",
    "accessKey",
    "secretAccessKey",
    "aws_secret_access_key",
]
NOT_SECRET_KEYS = [
    "existingSecret",
    "customUsersSecret",
    "passwordKey",
    "existingSecretPasswordKey",
    "existingSecretKey",
    "usePasswordFiles",
    "usePasswordFile",
    "usePasswordFileFromSecret",
    "secretName",
    "passwordSecretRef",
    "tokenSecretRef",
    "passwordFile",
    "password_file",
    "createPassword",
    "autoGenerateToken",
    "enablePassword",
    "authenticationMethod",
    "username",
    "usernames",
    "name",
    "host",
    "enabled",
    "",
    5,
    None,
    ("password",),
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", NOT_SECRET_KEYS, ids=repr)
def test_keys_that_name_where_a_secret_is_kept(key: Any) -> None:
    assert not is_secret_key(key)


LITERALS: list[tuple[Any, bool]] = [
    ("hunter2", True),
    ("correct horse battery staple", True),
    (12345, True),
    (1.5, True),
    ("pa$(ss", True),  # an unfinished placeholder is part of a password
    ("pa${ss", True),
    ("x{{y", True),
    ("prefix ENC[not sops]", True),
    # References to where the secret is kept, and non-values:
    ("$(DB_PASSWORD)", False),
    ("${DB_PASSWORD}", False),
    ("${ref:postgresql-ha.database.secretName}", False),
    ("{{ .Values.password }}", False),
    ("redis://:$(VALKEY_PASSWORD)@host", False),
    ("ENC[AES256_GCM,data:6EBm4idb,iv:aWsU,tag:feYC,type:str]", False),
    ("", False),
    ("   ", False),
    (None, False),
    (True, False),
    (False, False),
    (["hunter2"], False),
    ({"secretKeyRef": {"name": "s", "key": "k"}}, False),
]


@pytest.mark.parametrize(("value", "literal"), LITERALS, ids=[repr(v) for v, _ in LITERALS])
def test_is_literal(value: Any, literal: bool) -> None:
    assert is_literal(value) is literal


URLS: list[tuple[Any, bool]] = [
    ("redis://:hunter2@h", True),
    ("redis://:hunter2@valkey-primary.platform.svc.cluster.local:6379/0", True),
    ("redis+cluster://:hunter2@h:6379/0", True),
    ("postgresql://gitea:hunter2@host:5432/gitea?sslmode=disable", True),
    ("postgres://user:p%40ss@host/db", True),
    ("https://user:ghp_token@github.com/org/repo.git", True),
    ("redis://:$(VALKEY_PASSWORD)@h redis://:hunter2@h", True),  # one placeholder, one password
    # Placeholders and URLs without a password:
    ("redis://:$(VALKEY_PASSWORD)@h", False),
    ("redis://:$(VALKEY_PASSWORD)@h:6379/0?pool_size=100&idle_timeout=180s&", False),
    ("redis://:${VALKEY_PASSWORD}@h", False),
    ("postgresql://gitea:$(DB_PASSWORD)@host:5432/gitea", False),
    ("redis://:ENC[AES256_GCM,data:abc,type:str]@h", False),
    ("redis://h:6379/0", False),
    ("http://user@host/path", False),
    ("https://host:443/path", False),
    ("oci://registry-1.docker.io/bitnamicharts", False),
    ("mailto:someone@example.org", False),
    ("user:pw@host", False),  # no scheme: not a URL
    (5, False),
    (None, False),
]


@pytest.mark.parametrize(("value", "flagged"), URLS, ids=[repr(v) for v, _ in URLS])
def test_has_credential_url(value: Any, flagged: bool) -> None:
    assert has_credential_url(value) is flagged


FIND: list[tuple[str, Any, list[tuple[Any, ...]]]] = [
    ("password", {"password": "hunter2"}, [("password",)]),
    ("nested", {"auth": {"adminPassword": "hunter2"}}, [("auth", "adminPassword")]),
    ("number", {"db": {"password": 123456}}, [("db", "password")]),
    ("api_key", {"api_key": "k-123"}, [("api_key",)]),
    ("clientSecret", {"oidc": {"clientSecret": "s"}}, [("oidc", "clientSecret")]),
    ("customUsers", {"pgpool": {"customUsers": {"passwords": "a,b"}}}, [("pgpool", "customUsers", "passwords")]),
    ("url", {"cache": {"HOST": "redis://:hunter2@h:6379/0"}}, [("cache", "HOST")]),
    ("url in list", {"hosts": ["redis://h", "redis://:hunter2@h"]}, [("hosts", 1)]),
    (
        "env value",
        {"env": [{"name": "DB_PASSWORD", "value": "x"}, {"name": "DB_HOST", "value": "h"}]},
        [("env", 0, "value")],
    ),
    (
        "several",
        {"password": "a", "b": [{"token": "t"}], "c": "postgresql://u:p@h/db"},
        [("password",), ("b", 0, "token"), ("c",)],
    ),
    # Nothing to find:
    ("existingSecret", {"auth": {"existingSecret": "valkey-credentials"}}, []),
    ("customUsersSecret", {"pgpool": {"customUsersSecret": "postgresql-ha-pgpool-users"}}, []),
    ("passwordKey", {"auth": {"existingSecretPasswordKey": "valkey-password", "passwordKey": "password"}}, []),
    ("usePasswordFiles", {"postgresql": {"usePasswordFiles": True}, "pgpool": {"usePasswordFiles": False}}, []),
    ("k8s placeholder", {"password": "$(DB_PASSWORD)"}, []),
    ("shell placeholder", {"password": "${DB_PASSWORD}"}, []),
    ("sops", {"stringData": {"password": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]"}}, []),
    ("empty", {"password": "", "adminPassword": None}, []),
    ("url placeholder", {"value": "redis://:$(VALKEY_PASSWORD)@h:6379/0"}, []),
    (
        "env from secret",
        {
            "env": [
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "database-password"}}},
                {"name": "VALKEY_PASSWORD", "value": "$(OTHER)"},
                {"name": "CACHE", "value": "redis://:$(VALKEY_PASSWORD)@h/0"},
            ]
        },
        [],
    ),
    ("not a dict", "hunter2", []),
]


@pytest.mark.parametrize(("data", "expected"), [(d, e) for _, d, e in FIND], ids=[name for name, _, _ in FIND])
def test_find_plaintext(data: Any, expected: list[tuple[Any, ...]]) -> None:
    found = list(find_plaintext(data))
    assert [path for path, _ in found] == expected


def test_find_plaintext_says_what_but_never_the_value() -> None:
    secret = "hunter2-Canary"
    data = {
        "password": secret,
        "env": [{"name": "API_TOKEN", "value": secret}],
        "url": f"redis://:{secret}@h",
    }
    found = list(find_plaintext(data))
    assert len(found) == 3
    for _, what in found:
        assert what
        assert secret not in what
    assert "'password'" in found[0][1]
    assert "'API_TOKEN'" in found[1][1]
    assert "URL" in found[2][1]


def test_find_plaintext_prefix() -> None:
    found = list(find_plaintext({"password": "x"}, ("values",)))
    assert [path for path, _ in found] == [("values", "password")]


def test_shipped_specs_hold_no_plaintext() -> None:
    """The shipped stack's inline values and values files pass its own check."""
    loaded = load_stack(Path(__file__).resolve().parent.parent)
    for release in loaded.stack.releases:
        assert list(find_plaintext(loaded.merged_values(release))) == [], release.name
