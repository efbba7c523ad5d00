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
from renderer.secrets import (
    NOT_SECRET,
    REFERENCE,
    SECRET_KEY,
    SECRET_VALUE,
    classify,
    contains_secret,
    find_plaintext,
    is_literal,
    is_secret_key,
    redacted,
    scan,
    value_shape,
)
from renderer.yamlio import load_documents

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
def test_credential_urls(value: Any, flagged: bool) -> None:
    assert bool(value_shape(value)) is flagged


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


# --------------------------------------------------------------------------- the classifier, by question


def _token(*parts: str) -> str:
    """Tokens are built from parts so this file holds none a secret scanner would flag."""
    return "".join(parts)


KEY_NAMES: list[tuple[str, bool]] = [
    # The key names the issue lists, in the spellings real repositories use.
    ("pass", True),
    ("dbPass", True),
    ("db_pass", True),
    ("secret", True),
    ("SECRET", True),
    ("PWD", True),
    ("credentials", True),
    ("credential", True),
    ("auth", True),
    ("basicAuth", True),
    ("PROXY_AUTH", True),
    ("pgpass", True),
    ("PGPASSWORD", True),
    ("api-key", True),
    ("private_key", True),
    ("LFS_JWT_SECRET", True),
    ("clientSecret", True),
    # Pointers, switches and look-alikes.
    ("bypass", False),
    ("sslPassthrough", False),
    ("oauthEnabled", False),
    ("authority", False),
    ("authMethod", False),
    ("tokenTTL", False),
    ("ai_max_tokens", False),
    ("secretKeyRef", False),
    ("tlsSecret", False),
    ("customUsersSecret", False),
    ("gitCredentialsSecret", False),
    ("imagePullSecrets", False),
    ("passwordKey", False),
    ("userPasswordKey", False),
    ("tokenKey", False),
    ("automountServiceAccountToken", True),  # named like one; its boolean value is never a literal
    ("existingSecretPasswordKey", False),
    ("dsn", False),  # a DSN is a secret only when it holds a password: judged by value
]


@pytest.mark.parametrize(("key", "secret"), KEY_NAMES, ids=[key for key, _ in KEY_NAMES])
def test_key_names(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


SHAPES: list[tuple[str, str]] = [
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n", "PEM"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "PEM"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n", "PEM"),
    (_token("gh", "p_", "A1b2" * 9), "GitHub"),
    (_token("gh", "s_", "Z9y8" * 9), "GitHub"),
    (_token("github", "_pat_", "11ABCDEFG0", "x" * 72), "GitHub"),
    (_token("gl", "pat-", "abcDEF123_-xyzUVW789"), "GitLab"),
    (_token("xo", "xb-", "1234567890-abcdefghij"), "Slack"),
    (_token("AK", "IA", "IOSFODNN7EXAMPL2"), "AWS"),
    (_token("AS", "IA", "ABCDEFGHIJKLMNOP"), "AWS"),
    (_token("AI", "za", "SyA1234567890abcdefghijklmnopqrstuv"), "Google"),
    (_token("sk", "_live_", "4eC39HqLyjWDarjtT1zdp7dc"), "Stripe"),
    (_token("AGE-SECRET", "-KEY-1", "QQPZS9Y3JZ8D2K7XW4M6N5R0T8V2C4F6H8J0L2N4P6R8T0V2X4Z6B8D0F2"), "age"),
    (_token("ey", "JhbGciOiJIUzI1NiJ9", ".", "ey", "JzdWIiOiIxMjM0In0", ".", "dozjgNryP4J3jVmNHl0w5N"), "JSON web"),
    ("https://deploy:hunter2@git.example.org/repo.git", "URL"),
    ("host=db.platform port=5432 user=gitea password=hunter2 dbname=gitea", "password parameter"),
    ("jdbc:postgresql://db:5432/app?user=app&password=hunter2&ssl=true", "password parameter"),
    ("Server=db;Database=app;User Id=app;Pwd=hunter2;", "password parameter"),
    ("--db-password=hunter2", "password parameter"),
    # Inside a longer value (a script in a ConfigMap, extra args).
    (_token("git clone https://x:", "gh", "p_", "Q" * 36, "@github.com/o/r"), "URL"),
]


@pytest.mark.parametrize(("value", "what"), SHAPES, ids=[what + str(i) for i, (_, what) in enumerate(SHAPES)])
def test_secret_value_shapes_under_harmless_keys(value: str, what: str) -> None:
    for key in ("DSN", "url", "extraArgs", "description"):
        verdict = classify((key,), value)
        assert verdict.kind == SECRET_VALUE, (key, verdict)
        assert what in verdict.reason
        assert value not in verdict.reason


NOT_SHAPES = [
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
    "ghp_short",
    "https://git.example.org/repo.git",
    "https://x-access-token:%s@github.com",  # printf slot in a script
    "https://x-access-token:{TOKEN}@github.com/{repo}.git",  # f-string slot
    'psql "host=h password=$PGPASSWORD"',
    "connect(host=h, password=password)",  # code passing a variable
    "conn = connect(password=args.password)",
    "password_file=/run/secrets/db",
    "AKIAlowercase000000000",
    "sslmode=require",
]


@pytest.mark.parametrize("value", NOT_SHAPES)
def test_values_that_only_look_close(value: str) -> None:
    assert classify(("DSN",), value).kind == NOT_SECRET


REFERENCES = [
    "${DB_PASSWORD}",
    "$(DB_PASSWORD)",
    "$DB_PASSWORD",
    "${{ secrets.OP_CONNECT_TOKEN }}",
    "{{ .Values.password }}",
    "{SOME_PASSWORD}",
    "{env:LITELLM_API_KEY}",
    "<<PLEX_API_KEY>>",
    "<path:secret/data/gitea#password>",
    "op://kubernetes/Downflate - Webhook Secret/password",
    "secret://prod/db/password",
    "vault:secret/data/gitea#password",
    "ref+vault://secret/gitea#/password",
    "os.environ/QWEN_KEY",
    "ENC[AES256_GCM,data:6EBm4idb,iv:aWsU,tag:feYC,type:str]",
]


@pytest.mark.parametrize("value", REFERENCES)
def test_references_are_never_values(value: str) -> None:
    for key in ("password", "apiKey", "token", "secret", "DSN"):
        verdict = classify((key,), value)
        assert verdict.kind == REFERENCE, (key, verdict)


def test_a_custom_yaml_tag_is_a_reference() -> None:
    data = load_documents("api_key: !env_var SONARR_API_KEY\ntoken: !Env X\npw: !Find y\n", "x.yaml", strict_tags=False)
    assert list(scan(data[0].data)) == []
    assert classify(("api_key",), data[0].data["api_key"]).kind == REFERENCE


@pytest.mark.parametrize("value", ["", "  ", None, "N/A", "null", "none"])
def test_empty_and_no_value_are_not_secrets(value: Any) -> None:
    assert not classify(("password",), value).is_secret


@pytest.mark.parametrize("value", ["changeme", "password", "admin", "hunter2", 123456])
def test_weak_defaults_stay_findings(value: Any) -> None:
    assert classify(("password",), value).kind == SECRET_KEY


SIBLINGS: list[tuple[str, dict[str, Any], list[tuple[Any, ...]]]] = [
    ("secretKey beside existingSecret", {"rcon": {"existingSecret": "app", "secretKey": "RCON_PASSWORD"}}, []),
    ("secretKey beside secretName", {"t": {"secretName": "foreman", "secretKey": "GITHUB_TOKEN"}}, []),
    ("xSecret beside xSecretKey", {"coderGitSecret": "foreman-agent", "coderGitSecretKey": "GITHUB_TOKEN"}, []),
    ("clientSecretKey", {"oidc": [{"existingSecret": "s", "clientSecretKey": "OIDC_SECRET"}]}, []),
    ("secretKeys map", {"secretKeys": {"password": "db-password", "token": "api-token"}}, []),
    ("existingSecretKeys map", {"auth": {"existingSecretKeys": {"adminPassword": "admin"}}}, []),
    ("tls secret", {"ingress": {"tls": {"secret": "wildcard-cert"}}}, []),
    ("auth method", {"mcp": {"auth": "oauth"}}, []),
    # A literal stays one beside an empty existingSecret (Bitnami's default).
    (
        "minio keys",
        {"existingSecret": "", "accessKey": "minio", "secretKey": "minio12345"},
        [("accessKey",), ("secretKey",)],
    ),
    ("secret beside nothing", {"app": {"secret": "hunter2"}}, [("app", "secret")]),
    # A secret's shape wins over every excuse a key or a holder gives.
    (
        "token beside existingSecret",
        {"a": {"existingSecret": "app", "secretKey": _token("gh", "p_", "k" * 36)}},
        [("a", "secretKey")],
    ),
    (
        "token under secretKeys",
        {"secretKeys": {"x": {"token": _token("gl", "pat-", "k" * 20)}}},
        [("secretKeys", "x", "token")],
    ),
    ("deep under secretKeys", {"existingSecretKeys": {"x": {"password": "db-password"}}}, []),
    (
        "argo parameter",
        {"parameters": [{"name": "auth.password", "value": "hunter2"}, {"name": "image.tag", "value": "1.2"}]},
        [("parameters", 0, "value")],
    ),
]


@pytest.mark.parametrize(("data", "expected"), [(d, e) for _, d, e in SIBLINGS], ids=[n for n, _, _ in SIBLINGS])
def test_siblings_and_holders(data: Any, expected: list[tuple[Any, ...]]) -> None:
    assert [path for path, _ in scan(data)] == expected


def test_redaction_marker_never_holds_the_value_and_is_deterministic() -> None:
    token = _token("gh", "p_", "Xy7Z" * 9)
    shown = redacted(token, "HelmRelease apps/gitea|spec.values.token")
    assert shown.startswith("(redacted #") and token not in shown
    assert shown == redacted(token, "HelmRelease apps/gitea|spec.values.token")
    assert shown != redacted(token, "another place")  # keyed: no lookup table across objects
    # Something a person chose (a password, a URL around one) gets no digest: it could be guessed.
    assert redacted("correct-horse-battery-staple-2024-blue", "s") == "(redacted)"
    assert redacted("redis://:hunter2@valkey-primary.platform.svc.cluster.local:6379/0", "s") == "(redacted)"


def test_a_secret_inside_embedded_yaml_is_found() -> None:
    assert contains_secret("replicaCount: 1\nauth:\n  password: hunter2\n", ("data", "values.yaml"))
    assert not contains_secret("replicaCount: 1\nauth:\n  existingSecret: app\n", ("data", "values.yaml"))
    assert not contains_secret("not: [valid", ("data", "x"))


HOSTILE = {
    "url": "a://:" * 20_000 + "@",
    "assignments": "a=" * 40_000,
    "open templates": "{{" + "{" * 50_000,
    "open variables": "${" + "{" * 50_000,
    "template starts": "{{" * 30_000,
    "env starts": "$(a" * 30_000,
    "pem header": "-----BEGIN " + "A " * 50_000,
    "angle": "<<" + "a " * 50_000,
}


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_take_linear_time(value: str) -> None:
    """Not a speed target: a guard against backtracking. A lazy `{{.*?}}` took 25 s on the
    template case (quadratic); linear code takes milliseconds, so 5 s only catches a hang."""
    import time

    started = time.perf_counter()
    value_shape(value)
    classify(("password",), value)
    list(scan({"DSN": value, "list": [value]}))
    assert time.perf_counter() - started < 5
