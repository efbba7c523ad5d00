"""The one secret classifier: is this value a secret, a reference to one, or neither, and why.

Every part of rail that looks at a value for secrecy asks here: the ``plaintext-secret``
and ``sops-unencrypted`` rules, render's refusal of literals in specs, the diff's
redaction and every reporter. One answer everywhere means a value lint calls secret
is never printed by the diff, and a reference lint accepts is never hidden.

A (key path, value) pair is classified as:

- ``secret-key``: a literal under a key that names a secret (``password``, ``pass``,
  ``PWD``, ``token``, ``credentials``, ``auth``, ``apiKey``, ``privateKey``, ``pgpass``,
  ``clientSecret`` ...), or the ``value`` of an ``{name: DB_PASSWORD, value: ...}`` pair;
- ``secret-value``: a value whose shape is a secret wherever it sits: a PEM private key,
  a token with a well-known prefix (GitHub, GitLab, Slack, AWS, Google, Stripe, age,
  JWT, ...), a URL with ``user:password@``, a ``password=`` parameter of a libpq DSN,
  a JDBC URL or a query string;
- ``reference``: where a secret is kept, not the secret: ``${VAR}``, ``$(VAR)``,
  ``{{ ... }}``, ``{VAR}``, ``<<VAR>>``, ``op://``, ``secret://``, ``vault:``, ``ref+...://``,
  a custom YAML tag (``!env_var X``), ``ENC[...]`` (SOPS), and keys that name a Secret or a
  key in one (``existingSecret``, ``passwordKey``, ``secretKey: RCON_PASSWORD`` beside
  ``existingSecret``, anything under ``secretKeys``);
- ``not-secret``: everything else, including empty values.

Nothing here does I/O, and no reason ever contains the value: callers may print reasons.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .memo import memo_scope

SECRET_KEY = "secret-key"
SECRET_VALUE = "secret-value"
REFERENCE = "reference"
NOT_SECRET = "not-secret"


@dataclass(frozen=True)
class Verdict:
    """What a value is, and why (the reason names keys and shapes, never the value)."""

    kind: str
    reason: str = ""

    @property
    def is_secret(self) -> bool:
        return self.kind in (SECRET_KEY, SECRET_VALUE)


NOTHING = Verdict(NOT_SECRET)

# --------------------------------------------------------------------------- key names


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that end a key naming a secret value. `pass` and `auth` count only as whole
# words (`dbPass`, `basic_auth`), so `bypass` and `oauth`-prefixed names stay out.
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "pass",
        "pwd",
        "passphrase",
        "pgpass",
        "pgpassword",
        "secret",
        "token",
        "credential",
        "credentials",
        "creds",
        "auth",
        "apikey",
        "privatekey",
        "secretkey",
        "accesskey",
        "masterkey",
    }
)
_PASSWORD_WORDS = frozenset({"password", "passwords", "passwd", "pass", "pwd", "passphrase", "pgpass", "pin"})
# Lower-case run-together names (`adminpassword`, `clientsecret`, `PGPASSWORD`).
_SECRET_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "accesskey")
# Two-word endings: `api_key`, `privateKey`, `secret_key_base` ...
_SECRET_KEY_QUALIFIERS = frozenset(
    {"api", "private", "secret", "access", "master", "encryption", "signing", "shared", "account", "hmac", "license"}
)
# A key whose first word says it is a switch or a pointer, not the value itself.
_POINTER_FIRST_WORDS = frozenset(
    {"existing", "use", "enable", "enabled", "create", "auto", "generate", "random", "mount", "from", "is", "has"}
)
# `xSecret` holds a secret value only for these x (`clientSecret`, `jwtSecret`); any other
# `xSecret` names a Kubernetes Secret object (`customUsersSecret`, `tlsSecret`).
_VALUE_SECRET_QUALIFIERS = _words(
    "client jwt cookie session webhook otp totp shared app application api hmac signing encryption "
    "oauth oauth2 oidc consumer master internal csrf secret token auth access account admin root user "
    "db database lfs server agent cluster ldap smtp mail s3 aws minio github gitlab hook"
)
# A bare `secret` under one of these names the Secret holding a certificate or pull credentials.
_OBJECT_SECRET_QUALIFIERS = frozenset({"tls", "cert", "certificate", "certificates", "ca", "pull", "ssl", "https"})
# `passwordKey`, `tokenKey`: the key inside a Secret where the value is kept.
_KEY_NAME_QUALIFIERS = frozenset(
    {"password", "passwd", "pass", "pwd", "token", "apikey", "credential", "credentials", "auth", "user", "username"}
)
# A map under one of these holds key names or references only (`secretKeys:`, `valueFrom:`).
_REFERENCE_HOLDERS = frozenset(
    {"valuefrom", "secretkeyref", "secretref", "configmapkeyref", "envfrom", "existingsecret"}
)
_REFERENCE_HOLDER_LAST = frozenset({"keys", "refs", "ref", "names", "files"})
# Sibling keys saying "the secret is in this Kubernetes Secret": the other keys of the
# map name keys of that Secret (`existingSecret: app` beside `secretKey: RCON_PASSWORD`).
_SECRET_OBJECT_SIBLINGS = frozenset({"existingsecret", "existingsecretname", "secretname", "secretref", "secret"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=16384)
def key_words(key: str) -> tuple[str, ...]:
    """``adminPassword`` -> (admin, password); ``DB_PASSWORD`` -> (db, password)."""
    return tuple(word.lower() for word in _NON_WORD.split(_CAMEL.sub(" ", key)) if word)


@lru_cache(maxsize=16384)
def _key_verdict(key: str) -> str:
    """``secret`` (the key names a secret value), ``pointer`` (it names where one is kept:
    a Secret or a key in it, a file, a switch) or ``""`` (neither)."""
    words = key_words(key)
    if not words:
        return ""
    joined = "".join(words)
    last = words[-1]
    if words[0] in _POINTER_FIRST_WORDS and len(words) > 1:
        return "pointer"
    if len(words) > 1 and words[-2] in ("per", "max", "min", "num"):
        return "pointer"  # cost_per_token, max_token: a count or a price
    if last == "key" and len(words) > 1:
        before = words[-2]
        if before in _KEY_NAME_QUALIFIERS or joined.endswith(("passwordkey", "tokenkey")):
            return "pointer"  # passwordKey, userPasswordKey, tokenKey
        if before in _SECRET_KEY_QUALIFIERS:
            return "secret"  # api_key, privateKey, secret_key, encryptionKey
        return ""
    if last == "base" and joined.endswith("secretkeybase"):
        return "secret"
    if last == "secret" and len(words) > 1 and words[-2] not in _VALUE_SECRET_QUALIFIERS:
        return "pointer"  # tlsSecret, customUsersSecret, gitCredentialsSecret: a Secret's name
    if last in _SECRET_WORDS:
        return "secret"
    if len(last) > 6 and last.endswith("secret"):
        return "secret" if last[:-6] in _VALUE_SECRET_QUALIFIERS else "pointer"  # clientsecret, tlssecret
    if len(last) > 4 and last.endswith(_SECRET_SUFFIXES):
        return "secret"  # adminpassword, PGPASSWORD, authtoken
    if any(word in _SECRET_WORDS for word in words[:-1]):
        return "pointer"  # passwordFile, tokenSecretRef, secretName, password_length
    return ""


def is_secret_key(key: object) -> bool:
    """The key names a secret value (``password``, ``apiKey``), not where one is kept."""
    return isinstance(key, str) and _key_verdict(key) == "secret"


def _names_a_secret_object(key: str) -> bool:
    """``existingSecret``, ``secretName``, ``passwordSecretRef``: the key names a Kubernetes Secret."""
    words = key_words(key)
    if "".join(words) in _SECRET_OBJECT_SIBLINGS:
        return True
    return "secret" in words and (words[0] == "existing" or words[-1] in ("name", "ref"))


# --------------------------------------------------------------------------- references

# A whole value that only says where the secret is: environment and template syntaxes,
# secret-manager URIs, doc placeholders. A partial one (`pa$(ss`) is a password.
_REFERENCE_VALUE = re.compile(
    r"""
    \$\([^()\s]+\)                       # Kubernetes $(VAR)
    | \$\{\{?[^{}]+\}?\}                 # ${VAR}, ${ref:...}, GitHub ${{ secrets.X }}
    | \$[A-Za-z_][A-Za-z0-9_]*           # shell $VAR
    | \{\{.*\}\}                         # Go and Jinja templates
    | \{[A-Za-z_][A-Za-z0-9_.:/-]*\}     # {SOME_PASSWORD}, {env:VAR}
    | <<\s*[A-Za-z_][A-Za-z0-9_.-]*\s*>> # <<PLEX_TOKEN>> (Kometa)
    | <[A-Za-z_][A-Za-z0-9_ .:/#-]*>     # <path:vault/data/x#key> (argocd-vault-plugin), <your-password>
    | %\([A-Za-z_]+\)s | %[sdv]          # printf placeholders
    | (?:op|secret|secrets|vault|vaults|sops|akv|keyvault|awssm|gcpsm|bws|doppler|infisical
        |ref\+[a-z0-9]+)://[^\n]+         # secret-manager URIs (1Password, vals, ...)
    | vault:\S+                          # bank-vaults
    | (?:os\.environ/|env:|secret:)[A-Za-z_][\w./-]*  # os.environ/KEY (LiteLLM), env:VAR
    | ENC\[.+\]                          # SOPS
    """,
    re.VERBOSE | re.DOTALL,
)
# Words a config uses for "no value here".
_NO_VALUE = frozenset(
    {"n/a", "na", "none", "null", "nil", "~", "-", "*", "unset", "undefined", "true", "false", "disabled", "enabled"}
)
_SOPS_VALUE = re.compile(r"^ENC\[AES256_GCM,data:[^\]]*,type:[a-z]+\]$")
# `auth: oauth` names a method, not a credential.
_AUTH_METHODS = _words(
    "oauth oauth2 oidc saml ldap basic bearer digest jwt token apikey api-key header headers sso "
    "local internal external cert certificate tls mtls kerberos password plain scram-sha-256 "
    "scram-sha-512 md5 trust iam aws azure gcp github google hmac anonymous forms form proxy ntlm "
    "negotiate required optional off on"
)
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def is_reference(value: object) -> bool:
    """The whole value names where a secret is kept (``${VAR}``, ``op://...``, a tag)."""
    if getattr(value, "yaml_tag", None):
        return True  # !env_var X, !secret x, !vault |: a tool resolves it
    if not isinstance(value, str):
        return False
    text = value.strip()
    return bool(text) and (_REFERENCE_VALUE.fullmatch(text) is not None)


def is_sops_encrypted(value: object) -> bool:
    """A value SOPS encrypted: ``ENC[AES256_GCM,data:...,type:...]``."""
    return isinstance(value, str) and bool(_SOPS_VALUE.match(value))


def is_blank(value: object) -> bool:
    """Nothing to keep secret: no value, or an empty or all-space string."""
    return value is None or (isinstance(value, str) and not value.strip())


def is_literal(value: object) -> bool:
    """A value that could be the secret itself: not empty, not a reference, not a switch."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text or text.lower() in _NO_VALUE:
        return False
    return not (is_reference(value) or has_inline_reference(text))


# A reference inside a longer value: `prefix-${VAR}` is built from a secret, not one.
_INLINE_VARIABLE = re.compile(r"\$\([^()\s]+\)|\$\{[^{}\s]+\}|ENC\[AES256_GCM,")


def has_inline_reference(text: str) -> bool:
    """``$(VAR)``, ``${VAR}``, ``{{ ... }}`` or ``ENC[...]`` somewhere in ``text``. A template
    is found by two ``find`` calls: a lazy ``{{.*?}}`` is quadratic on ``{{{{...``."""
    start = text.find("{{")
    if start >= 0 and text.find("}}", start + 2) >= 0:
        return True
    return _INLINE_VARIABLE.search(text) is not None


# --------------------------------------------------------------------------- value shapes

_PEM_PRIVATE = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Prefixed tokens (shapes from the public gitleaks and detect-secrets rule lists).
_TOKENS: tuple[tuple[str, str], ...] = (
    ("a GitHub token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"),
    ("a GitLab token", r"gl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"xox[abeoprs]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}"),
    ("an AWS access key id", r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}"),
    ("a Google API key", r"AIza[A-Za-z0-9_-]{35}"),
    ("a Stripe secret key", r"(?:sk|rk)_live_[A-Za-z0-9]{20,}"),
    ("an age secret key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
    ("a JSON web token", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    (
        "an OpenAI or Anthropic API key",
        r"sk-(?:proj-|ant-(?:api|admin)\d\d-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"
        r"|sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,}",
    ),
    ("an npm token", r"npm_[A-Za-z0-9]{36}"),
    ("a PyPI token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
    ("a SendGrid key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    ("a HashiCorp Vault token", r"hv[sb]\.[A-Za-z0-9_-]{24,}"),
    ("a DigitalOcean token", r"do[opr]_v1_[a-f0-9]{64}"),
    ("a Hugging Face token", r"hf_[A-Za-z]{34}"),
    ("a Grafana token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}"),
    ("a Shopify token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("a Tailscale key", r"tskey-[a-z]+-[A-Za-z0-9]{10,}-[A-Za-z0-9]{10,}"),
    ("a Twilio key", r"SK[0-9a-f]{32}"),
)
_TOKEN = re.compile(
    "|".join(f"(?P<t{index}>{pattern})" for index, (_, pattern) in enumerate(_TOKENS)).join(
        (r"(?<![A-Za-z0-9_])(?:", r")(?![A-Za-z0-9_])")
    )
)
# scheme://user:password@host
_CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@", re.IGNORECASE)
# name=value in a libpq DSN, a JDBC or ODBC string, a query string or a command line
# (`--db-password=x`); the name is judged as a key is, so `--sops-age-secret=name` is not.
_ASSIGNMENT = re.compile(
    r"(?:^|(?<=[\s;?&(\"']))-{0,2}([A-Za-z][A-Za-z0-9_.-]*?)\s*=\s*"
    r"(?:'([^']*)'|\"([^\"]*)\"|([^\s;&'\",)]+)([,)]?))"
)
_SECRET_PARAMETERS = frozenset({"pwd", "sig", "sharedaccesssignature"})


def _secret_parameter(name: str) -> bool:
    return is_secret_key(name) or name.lower() in _SECRET_PARAMETERS


def _placeholder(part: str) -> bool:
    """A password slot in a URL or DSN filled by a reference (or printf, or code)."""
    text = part.strip()
    if not text or is_reference(text) or has_inline_reference(text):
        return True
    if text[0] in "$%{<[(" or "os.environ" in text or "getenv" in text or "process.env" in text:
        return True
    return _CODE_NAME.fullmatch(text) is not None  # `password=args.password`: code, not a DSN


_CODE_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def value_shape(value: object) -> str:
    """Why the value itself is a secret wherever it sits, or "" (cheap tests first)."""
    if not isinstance(value, str) or len(value) < 8:
        return ""
    if "-----BEGIN" in value and _PEM_PRIVATE.search(value):
        return "a PEM private key"
    if "://" in value and "@" in value:
        for match in _CREDENTIAL_URL.finditer(value):
            if not _placeholder(match.group(1)):
                return "a URL with an embedded password (user:password@)"
    if "=" in value:
        for match in _ASSIGNMENT.finditer(value):
            if not _secret_parameter(match.group(1)):
                continue
            quoted = match.group(2) if match.group(2) is not None else match.group(3)
            # `f(password=password)` is code passing a variable, not a DSN.
            slot = quoted if quoted is not None else (None if match.group(5) else match.group(4))
            if (
                slot is not None
                and not _placeholder(slot)
                and is_literal(slot)
                and not _auth_method(match.group(1), slot)
            ):
                return "a password parameter (password=...) in a connection string or command line"
    if len(value) >= 20:
        found = _TOKEN.search(value)
        if found is not None and found.lastgroup is not None:
            return _TOKENS[int(found.lastgroup[1:])][0]
    return ""


# --------------------------------------------------------------------------- the classifier


def classify(
    path: tuple[Any, ...], value: Any, siblings: Mapping[Any, Any] | None = None, *, under_holder: bool = False
) -> Verdict:
    """What ``value`` at ``path`` is; ``siblings``: the mapping it sits in, when known;
    ``under_holder``: a map of Secret references is above it (``secretKeys:``). A value
    with a secret's shape is a secret wherever it sits, even beside ``existingSecret``."""
    if isinstance(value, (dict, list)) or value is None or isinstance(value, bool):
        return NOTHING
    if is_reference(value):
        return Verdict(REFERENCE, "a reference to where the secret is kept")
    if under_holder or _under_reference_holder(path):
        by_key = Verdict(REFERENCE, "a key name under a map of Secret references")
    else:
        by_key = _by_key(path, value, siblings)
        if by_key.is_secret:
            return by_key
    shape = value_shape(value)
    return Verdict(SECRET_VALUE, shape) if shape else by_key


def _by_key(path: tuple[Any, ...], value: Any, siblings: Mapping[Any, Any] | None) -> Verdict:
    key = path[-1] if path and isinstance(path[-1], str) else None
    if key is None or not is_literal(value):
        return NOTHING
    verdict = _key_verdict(key)
    if verdict == "secret":
        if not isinstance(value, str) and not _password_word(key):
            return Verdict(NOT_SECRET, f"a number under '{key}' (only a password is ever a number)")
        if _auth_method(key, value):
            return Verdict(NOT_SECRET, f"'{key}' names an authentication method")
        if _object_secret_under(path):
            return Verdict(REFERENCE, f"'{key}' names a Kubernetes Secret (under '{path[-2]}')")
        if siblings is not None and _names_secret_object_or_key(key, value, siblings):
            return Verdict(REFERENCE, f"'{key}' names a Secret or a key in one (see its siblings)")
        return Verdict(SECRET_KEY, f"a literal value under the secret-looking key '{key}'")
    if key == "value" and siblings is not None:
        name = siblings.get("name", siblings.get("key"))
        if isinstance(name, str) and _named_secret(name):
            return Verdict(SECRET_KEY, f"a literal value for the secret-looking variable '{name}'")
    return NOTHING


def _password_word(key: str) -> bool:
    last = key_words(key)[-1]
    return last in _PASSWORD_WORDS or last.endswith(("password", "passwd", "passphrase"))


def _auth_method(key: str, value: Any) -> bool:
    """``auth: oauth``, ``authSource=admin``-like slots naming a method, not a credential."""
    return key_words(key)[-1:] == ("auth",) and str(value).strip().lower() in _AUTH_METHODS


def _object_secret_under(path: tuple[Any, ...]) -> bool:
    """``tls: {secret: wildcard-cert}``: a bare ``secret`` key under a TLS or pull section."""
    if len(path) < 2 or not isinstance(path[-2], str) or key_words(str(path[-1])) != ("secret",):
        return False
    parent = key_words(path[-2])
    return bool(parent) and parent[-1] in _OBJECT_SECRET_QUALIFIERS


def _named_secret(name: str) -> bool:
    # `auth.password` (an Argo CD Helm parameter) and `DB_PASSWORD` (an env var).
    return is_secret_key(name) or is_secret_key(name.rsplit(".", 1)[-1])


def _under_reference_holder(path: tuple[Any, ...]) -> bool:
    return any(isinstance(part, str) and _holds_references(part) for part in path[:-1])


@lru_cache(maxsize=4096)
def _holds_references(key: str) -> bool:
    """``valueFrom``, ``secretKeyRef``, ``secretKeys``, ``existingSecretKeys``: a map of
    Secret names and keys, not of values."""
    words = key_words(key)
    if "".join(words) in _REFERENCE_HOLDERS:
        return True
    return len(words) > 1 and words[-1] in _REFERENCE_HOLDER_LAST and any(w in _SECRET_WORDS for w in words)


def _names_secret_object_or_key(key: str, value: Any, siblings: Mapping[Any, Any]) -> bool:
    """``secretKey: RCON_PASSWORD`` beside ``existingSecret``; ``coderGitSecret: x`` beside
    ``coderGitSecretKey``: the map points at a Kubernetes Secret, these keys name it or its keys."""
    if any(isinstance(other, str) and other.startswith(key) and other != key for other in siblings):
        return True  # `xSecret` beside `xSecretKey` / `xSecretName`
    words = key_words(key)
    if words[-1] != "key" and words[-1] not in ("secret",):
        return False
    if not (isinstance(value, str) and (_ENV_NAME.match(value) or _secret_object_sibling(key, siblings))):
        return False
    return words[-1] == "key" or _secret_object_sibling(key, siblings)


def _secret_object_sibling(key: str, siblings: Mapping[Any, Any]) -> bool:
    return any(
        isinstance(other, str) and other != key and _names_a_secret_object(other) and is_literal(value)
        for other, value in siblings.items()
    )


# --------------------------------------------------------------------------- walking data


def scan(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Verdict]]:
    """Key paths of the secrets in ``data``, each with its verdict. Key paths are only
    built for the hits: most leaves of a values file are no secret."""
    return _scan(data, prefix, None)


def find_plaintext(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Key paths of literal secrets in ``data``, each with why it is one."""
    for path, verdict in _scan(data, prefix, None):
        yield path, verdict.reason


def find_plaintext_in(root: Any, key: str | None = None) -> Iterator[tuple[tuple[Any, ...], str]]:
    """:func:`find_plaintext` of ``root`` (``key`` None), or of ``root[key]`` with the
    prefix ``(key,)``: the same hits, in the same order, read from ``root``'s own scan,
    which a run with the cache on shares with the cache's secret guard (see
    :func:`sharing_scans`)."""
    hits = _document_scan(root)
    if key is None:
        yield from ((path, verdict.reason) for path, verdict in hits)
    elif isinstance(root, dict) and isinstance(root.get(key), (dict, list)):
        # A top-level map or list is scanned as _scan(root[key], (key,), None) within
        # the root's scan, exactly the call find_plaintext would make (a top-level key
        # is never under a secret-looking list key, nor under a holder).
        yield from ((path, verdict.reason) for path, verdict in hits if len(path) > 1 and path[0] == key)


# One scan per document and command: the cache's guard (renderer.app.holds_secret, on a
# document about to be stored) and the plaintext-secret rule read the same hits. Kept by
# the data's identity, with the data, so an id is never reused while its entry lives.
_SCANS: ContextVar[dict[int, tuple[Any, tuple[tuple[tuple[Any, ...], Verdict], ...]]] | None] = ContextVar(
    "rail_secret_scans", default=None
)


def sharing_scans() -> AbstractContextManager[None]:
    """Inside, a document's top-level scan is made once (inside another such scope, that one's are shared)."""
    if _SCANS.get() is not None:
        return nullcontext()
    return memo_scope(_SCANS)


def _document_scan(root: Any) -> tuple[tuple[tuple[Any, ...], Verdict], ...]:
    """Every hit of ``_scan(root, (), None)``, from the scope's memo when one is open."""
    memo = _SCANS.get()
    if memo is None or not isinstance(root, (dict, list)):
        return tuple(_scan(root, (), None))
    known = memo.get(id(root))
    if known is not None and known[0] is root:
        return known[1]
    hits = tuple(_scan(root, (), None))
    memo[id(root)] = (root, hits)
    return hits


def _scan(
    data: Any, prefix: tuple[Any, ...], under: str | None, holder: bool = False
) -> Iterator[tuple[tuple[Any, ...], Verdict]]:
    """``under``: the secret-looking key a list sits under (its literal items are secrets);
    ``holder``: a map of Secret references is above (only secret shapes count there)."""
    if isinstance(data, dict):
        holder = holder or bool(prefix and isinstance(prefix[-1], str) and _holds_references(prefix[-1]))
        for key, value in data.items():
            if isinstance(value, list):
                # `passwords: [a, b]`; not `headersToExtAuth: [...]` (header names).
                listed = str(key) if is_secret_key(key) and key_words(str(key))[-1] != "auth" else None
                yield from _scan(value, (*prefix, key), listed, holder)
            elif isinstance(value, dict):
                yield from _scan(value, (*prefix, key), None, holder)
            else:
                verdict = _leaf(prefix[-1:], key, value, data, holder)
                if verdict.is_secret:
                    yield (*prefix, key), verdict
    elif isinstance(data, list):
        for index, item in enumerate(data):
            if isinstance(item, (dict, list)):
                yield from _scan(item, (*prefix, index), None, holder)
            elif under is not None and not holder and is_literal(item):
                yield (*prefix, index), Verdict(SECRET_KEY, f"a literal value under the secret-looking key '{under}'")
            else:
                shape = value_shape(item)
                if shape and not is_reference(item):
                    yield (*prefix, index), Verdict(SECRET_VALUE, shape)


def _leaf(parent: tuple[Any, ...], key: Any, value: Any, siblings: Mapping[Any, Any], holder: bool) -> Verdict:
    # The common case first: a key that names nothing secret and a short plain value.
    if not isinstance(key, str):
        return NOTHING
    if isinstance(value, str) and len(value) < 8 and key != "value" and _key_verdict(key) != "secret":
        return NOTHING
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return NOTHING
    return classify((*parent, key), value, siblings, under_holder=holder)


def embedded_data(value: Any, path: str = "(embedded)") -> Any:
    """A string holding a YAML or JSON mapping or list (a ConfigMap's ``values.yaml: |``, Argo
    CD's ``helm.values``), parsed; None for any other value. Parsing is not I/O."""
    if not isinstance(value, str) or ":" not in value:
        return None
    from .errors import InputError
    from .yamlio import load_documents

    try:
        documents = load_documents(value, path, strict_tags=False)
    except InputError:  # not YAML: a plain value
        return None
    data = [document.data for document in documents if isinstance(document.data, (dict, list))]
    if not data:
        return None
    return data[0] if len(data) == 1 else data


def contains_secret(value: Any, path: tuple[Any, ...] = ()) -> bool:
    """Anything secret in ``value``: a leaf, a map or list, or a string holding YAML."""
    if isinstance(value, dict):
        if isinstance(value.get("sops"), dict):
            return True
        if not path and _SCANS.get() is not None:  # a document: its scan may be shared
            return bool(_document_scan(value))
        return any(True for _ in _scan(value, path, None))
    if not path and isinstance(value, list) and _SCANS.get() is not None:
        return bool(_document_scan(value))  # the scan below, with under=None
    if isinstance(value, list):
        under = str(path[-1]) if path and is_secret_key(path[-1]) else None
        return any(True for _ in _scan(value, path, under))
    if isinstance(value, str) and value.startswith("ENC["):
        return True
    if classify(path, value).is_secret:
        return True
    if isinstance(value, str) and "\n" in value:
        embedded = embedded_data(value)
        return embedded is not None and contains_secret(embedded)
    return False


# --------------------------------------------------------------------------- redaction

REDACTED = "(redacted)"


def redacted(value: Any, salt: str) -> str:
    """What a report shows for a secret value: ``(redacted)``, with a short keyed digest
    only where the whole value is a random token or key (nothing in it a person chose, so
    the digest reveals nothing): reviewers can then see *which* value changed. Same input,
    same text. A URL or DSN around a password never gets one: its password may be weak."""
    if isinstance(value, str) and _random_token(value.strip()):
        digest = hmac.new(salt.encode(), value.encode(), hashlib.sha256).hexdigest()[:8]
        return f"(redacted #{digest})"
    return REDACTED


def _random_token(text: str) -> bool:
    """A value made by a machine: a prefixed token (its shape fixes its random part) or a key."""
    return bool(_PEM_PRIVATE.search(text) or _TOKEN.fullmatch(text))
