"""What Argo CD itself decides about rail's Argo output, re-implemented for the tests.

Written from Argo CD's documented behaviour and its AppProject code
(``pkg/apis/application/v1alpha1/app_project_types.go``, ``util/glob``,
``util/git.NormalizeGitURL``), facts only:

- A pattern is matched with ``github.com/gobwas/glob``: ``*`` is any run of
  characters that are not a separator, ``**`` any run at all, ``?`` one
  non-separator character, ``[abc]`` / ``[!abc]`` / ``[a-z]`` a class, ``{a,b}``
  alternatives, ``\\`` escapes the next character. The pattern ``*`` alone matches
  everything.
- Source repositories (``spec.sourceRepos``) are matched with ``/`` as the
  separator, after both sides are normalized (trimmed, lower-cased, a trailing
  ``.git`` removed): ``oci://registry/charts/*`` admits ``oci://registry/charts/x``
  but not ``oci://registry/charts/x/y``. An Application's native OCI source names
  the chart in its ``repoURL`` (``oci://registry/.../chart``).
- Destinations (``spec.destinations``) match server (or cluster name) and
  namespace with no separator.
- Negation: a pattern starting with ``!`` denies what it names, and counts as a
  match for everything else. For sources, an Application is refused as soon as
  a deny pattern names its URL, else permitted when some pattern (a deny pattern
  included) matches; for destinations, permitted when some destination matches
  on server (or name) and namespace, and no destination denies its server, name
  or namespace.
- Resource kinds: a namespaced kind is permitted when
  ``namespaceResourceWhitelist`` is unset or lists it (``*`` globs, matched like
  shell patterns) and no blacklist entry does; a cluster-scoped kind only when
  ``clusterResourceWhitelist`` lists it (an empty whitelist admits none).
- Applications in the Argo CD namespace itself need no ``sourceNamespaces``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import cache
from typing import Any


def _compile(pattern: str, separators: str) -> re.Pattern[str]:
    not_separator = f"[^{re.escape(separators)}]" if separators else "."
    out, index, depth = "", 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out += re.escape(pattern[index + 1])
            index += 2
            continue
        if pattern.startswith("**", index):
            out += ".*"
            index += 2
            continue
        if char == "*":
            out += f"{not_separator}*"
        elif char == "?":
            out += not_separator
        elif char == "[":
            end = pattern.index("]", index + 1)
            body = pattern[index + 1 : end]
            negated = body.startswith("!")
            body = body[1:] if negated else body
            out += "[" + ("^" if negated else "") + body.replace("\\", "\\\\") + "]"
            index = end + 1
            continue
        elif char == "{":
            out += "(?:"
            depth += 1
        elif char == "}" and depth:
            out += ")"
            depth -= 1
        elif char == "," and depth:
            out += "|"
        else:
            out += re.escape(char)
        index += 1
    return re.compile(out + r"\Z", re.DOTALL)


@cache
def _compiled(pattern: str, separators: str) -> re.Pattern[str]:
    return _compile(pattern, separators)


def glob_match(pattern: str, text: str, separators: str = "") -> bool:
    """gobwas/glob ``Match``, as Argo CD's ``glob.Match`` calls it."""
    return _compiled(pattern, separators).match(text) is not None


def _is_deny(pattern: str) -> bool:
    return pattern.startswith("!")


def _pattern_match(pattern: str, value: str, separators: str = "") -> bool:
    """Argo CD's ``globMatch`` with negation allowed: ``!p`` matches what ``p`` does not."""
    if _is_deny(pattern):
        return not glob_match(pattern[1:], value, separators)
    if pattern == "*":
        return True
    return glob_match(pattern, value, separators)


def normalize_repo_url(url: str) -> str:
    """``git.NormalizeGitURL`` for the https and oci URLs rail writes (no SSH forms)."""
    url = url.strip().lower()
    return url[: -len(".git")] if url.endswith(".git") else url


def source_permitted(project: dict[str, Any], repo_url: str) -> bool:
    source = normalize_repo_url(repo_url)
    matched_any = False
    for pattern in project.get("spec", {}).get("sourceRepos") or []:
        normalized = "!" + normalize_repo_url(pattern[1:]) if _is_deny(pattern) else normalize_repo_url(pattern)
        if _pattern_match(normalized, source, "/"):
            matched_any = True
        elif _is_deny(normalized):
            return False
    return matched_any


@dataclass(frozen=True)
class Destination:
    server: str = ""
    name: str = ""
    namespace: str = ""


def destination_permitted(project: dict[str, Any], destination: Destination) -> bool:
    matched_any, denied = False, False
    for item in project.get("spec", {}).get("destinations") or []:
        server, name, namespace = (str(item.get(key, "")) for key in ("server", "name", "namespace"))
        name_ok = destination.name != "" and _pattern_match(name, destination.name)
        server_ok = destination.server != "" and _pattern_match(server, destination.server)
        namespace_ok = _pattern_match(namespace, destination.namespace)
        if (server_ok or name_ok) and namespace_ok:
            matched_any = True
        elif (
            (not name_ok and _is_deny(name))
            or (not server_ok and _is_deny(server))
            or (not namespace_ok and _is_deny(namespace))
        ):
            denied = True
    return matched_any and not denied


def _kind_listed(group: str, kind: str, entries: list[dict[str, str]]) -> bool:
    return any(
        fnmatch.fnmatchcase(kind, entry.get("kind", "")) and fnmatch.fnmatchcase(group, entry.get("group", ""))
        for entry in entries
    )


def kind_permitted(project: dict[str, Any], group: str, kind: str, namespaced: bool) -> bool:
    spec = project.get("spec", {})
    if namespaced:
        whitelist = spec.get("namespaceResourceWhitelist")
        allowed = whitelist is None or (len(whitelist) > 0 and _kind_listed(group, kind, whitelist))
        return allowed and not _kind_listed(group, kind, spec.get("namespaceResourceBlacklist") or [])
    whitelist = spec.get("clusterResourceWhitelist") or []
    return _kind_listed(group, kind, whitelist) and not _kind_listed(
        group, kind, spec.get("clusterResourceBlacklist") or []
    )


def refusals(project: dict[str, Any], application: dict[str, Any]) -> list[str]:
    """Why Argo CD refuses ``application`` under ``project`` (empty: permitted)."""
    spec = application.get("spec", {})
    reasons = []
    sources = [spec["source"]] if isinstance(spec.get("source"), dict) else list(spec.get("sources") or [])
    for source in sources:
        if not source_permitted(project, str(source.get("repoURL", ""))):
            reasons.append(f"source {source.get('repoURL')} is not permitted")
    raw = spec.get("destination") or {}
    destination = Destination(str(raw.get("server", "")), str(raw.get("name", "")), str(raw.get("namespace", "")))
    if not destination_permitted(project, destination):
        reasons.append(f"destination {destination.server or destination.name}/{destination.namespace} is not permitted")
    return reasons
