"""``${ref:RELEASE.EXPORT.FIELD}``: a value that names another release's endpoint.

Resolving a reference fills in the host that will really exist (Flux's release
name, then the chart's Service naming) and adds a dependency edge, so the
referring release waits for the one it uses and the layer rule can check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..catalog import service_host
from ..errors import Problem, ProblemCollector
from ..load.stack import LoadedStack, marker_strings
from ..model import Release
from ..model.interface import FIELDS, Endpoint
from ..yamlio import Document
from . import crossrefs
from .crossrefs import CrossUse
from .digests import digest_of_spelling, spell_by_digest, wanted

MARKER = "${ref:"
REFERENCE = re.compile(r"\$\{ref:([^}]*)\}")
_TARGET = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?)\.([a-z][a-zA-Z0-9]*)\.([a-zA-Z]+)$")


@dataclass(frozen=True)
class Resolution:
    """Resolved values per release and the references each release makes."""

    values: dict[str, dict[str, Any]]
    referenced: dict[str, tuple[str, ...]]
    endpoints: dict[tuple[str, str], Endpoint]
    # Uses of imported stacks (IMPORT/RELEASE), failed ones included: lint reports those.
    cross: tuple[CrossUse, ...] = ()


def resolve(loaded: LoadedStack) -> Resolution:
    stack = loaded.stack
    problems = ProblemCollector()
    merged = {release.name: loaded.merged_values(release) for release in stack.releases}
    endpoints = _endpoints(loaded, merged, problems)
    referenced: dict[str, tuple[str, ...]] = {}
    stack_names = {r.name for r in stack.releases}
    cross: list[CrossUse] = []
    unreferring: set[str] = set()  # releases whose files hold no reference: nothing to substitute
    # Where each other release's files hold a reference, relative to its values: only there
    # can its merged values (each value is one file's, at the same key path) hold one.
    marked: dict[str, list[tuple[Any, ...]]] = {}
    read: dict[str, set[str]] = {}  # and the references they make (the endpoints the values read)
    made_of = _digest_inputs(loaded)
    for release in stack.releases:
        targets: set[str] = set()
        spec = loaded.spec_documents[release.origin]
        for index, dependency in enumerate(release.depends_on):
            if "/" in dependency:
                used = crossrefs.check(loaded, release, dependency, spec, ("dependsOn", index), "dependsOn")
                _cross(used, cross, problems)
        origins: list[tuple[Document, tuple[Any, ...], Any]] = [
            (loaded.values_documents[path], (), loaded.values_documents[path].data) for path in release.values_files
        ]
        origins.append((loaded.spec_documents[release.origin], ("values",), release.values))
        if not any(document.may_hold(MARKER) for document, _, _ in origins):
            unreferring.add(release.name)
            referenced[release.name] = ()
            continue
        places: list[tuple[Any, ...]] = []
        for document, prefix, data in origins:
            if not document.may_hold(MARKER):
                continue  # none of its strings holds a reference: not walked
            for key_path, text in marker_strings(data, prefix):
                places.append(key_path[len(prefix) :])
                for match in REFERENCE.finditer(text):
                    read.setdefault(release.name, set()).add(match.group(1))
                    if "/" in match.group(1):
                        used = crossrefs.check(loaded, release, match.group(1), document, key_path, "reference")
                        if _cross(used, cross, problems):
                            targets.add(used.qualified)  # type: ignore[union-attr]
                        continue
                    if loaded.lenient and _names_no_release(match.group(1), stack_names):
                        continue  # lint and diff: loading kept it as dangling; the text stays as written
                    target = _check_reference(match.group(1), release, endpoints, stack_names)
                    if isinstance(target, str):
                        targets.add(target)
                    else:
                        problems.add(document.problem(key_path, target[0], target[1]))
        referenced[release.name] = tuple(sorted(targets))
        marked[release.name] = places
    problems.raise_if_any()
    for use in cross:
        if use.value is not None:
            endpoints[(use.qualified, use.field_path.split(".")[1])] = _imported_endpoint(loaded, use)
    values = {
        name: data if name in unreferring else _substitute_at(data, marked[name], endpoints)
        for name, data in merged.items()
    }
    spelt_endpoints: dict[tuple[str, str], str | None] = {}  # many releases read the same endpoint
    for name, inputs in made_of.items():
        endpoints_read = (_endpoint_read(text, endpoints, spelt_endpoints) for text in sorted(read.get(name, ())))
        spell_by_digest(values[name], *inputs, *(part for pair in endpoints_read for part in pair))
    return Resolution(values=values, referenced=referenced, endpoints=endpoints, cross=tuple(cross))


def _digest_inputs(loaded: LoadedStack) -> dict[str, tuple[str | None, ...]]:
    """What each release's merged values are made of, as texts, when render keys spell
    them by a digest (:mod:`.digests`); the releases, the stack config and its sources
    and layers are recorded so here. A file without a text (none read) is None: spelt in full."""
    if not wanted():
        return {}
    config = loaded.stack.config
    config_digest = digest_of_spelling(config)
    spell_by_digest(config, "config", config_digest)
    # A chart source and a layer are in most objects' contexts: spelt once each, not once an object.
    for part in (*config.sources, *config.layers):
        spell_by_digest(part, "part", digest_of_spelling(part))
    made_of: dict[str, tuple[str | None, ...]] = {}
    for release in loaded.stack.releases:
        spec_text = loaded.spec_documents[release.origin].text
        # Release.from_data reads the spec (its path and text) and the config, nothing else.
        spell_by_digest(release, "release", release.origin, spec_text, config_digest)
        files = [part for path in release.values_files for part in (path, loaded.values_documents[path].text)]
        made_of[release.name] = ("values", release.origin, spec_text, str(len(release.values_files)), *files)
    return made_of


def _endpoint_read(
    text: str, endpoints: dict[tuple[str, str], Endpoint], spelt: dict[tuple[str, str], str | None]
) -> tuple[str, str | None]:
    """A reference's text and a digest of the endpoint :func:`_lookup` reads for it;
    ``spelt``: the digests worked out so far, by endpoint."""
    parts = text.split(".")
    if len(parts) != 3:
        return text, None
    where = (parts[0], parts[1])
    if where not in spelt:
        spelt[where] = digest_of_spelling(endpoints.get(where))
    return text, spelt[where]


def _cross(used: CrossUse | Problem, cross: list[CrossUse], problems: ProblemCollector) -> bool:
    """Keep a use of an imported stack; True if it names a release the import has."""
    if isinstance(used, Problem):
        problems.add(used)
        return False
    cross.append(used)
    return not used.problem


def _imported_endpoint(loaded: LoadedStack, use: CrossUse) -> Endpoint:
    release, export = use.field_path.split(".")[:2]
    imported = crossrefs.by_name(loaded)[use.import_name].interface.release(release)
    found = imported.export(export) if imported else None
    assert found is not None, "crossrefs.check found it"
    return Endpoint(found.service, found.namespace, found.host, found.port, found.secret_name)


def _endpoints(
    loaded: LoadedStack, merged: dict[str, dict[str, Any]], problems: ProblemCollector
) -> dict[tuple[str, str], Endpoint]:
    domain = loaded.stack.config.cluster_domain
    endpoints: dict[tuple[str, str], Endpoint] = {}
    for release in loaded.stack.releases:
        for export in release.exports:
            service = service_host(
                export.service,
                release_name=release.helm_release_name,
                chart=release.chart.name,
                values=merged[release.name],
            )
            if service is None:
                problems.add(
                    Problem(
                        path=release.origin,
                        message=f"export '{export.name}': '{export.service}' is not a service"
                        f" of chart '{release.chart.name}'",
                        key_path=f"exports.{export.name}.service",
                        hint="use a service role rail knows for this chart, or a pattern such as '{fullname}-http'",
                    )
                )
                continue
            endpoints[(release.name, export.name)] = Endpoint(
                service=service,
                namespace=release.namespace,
                host=f"{service}.{release.namespace}.svc.{domain}",
                port=export.port,
                secret_name=export.secret_name,
            )
    return endpoints


def _check_reference(
    text: str, release: Release, endpoints: dict[tuple[str, str], Endpoint], stack_names: set[str]
) -> str | tuple[str, str]:
    match = _TARGET.match(text)
    if not match:
        return (
            "malformed reference",
            "write ${ref:RELEASE.EXPORT.FIELD}, for example ${ref:postgresql-ha.database.address}",
        )
    target, export, field = match.group(1), match.group(3), match.group(4)
    if target not in stack_names:
        return (f"reference to release '{target}', which does not exist", "name a release of this stack")
    if target == release.name:
        return ("a release cannot refer to itself", "use the value directly")
    if (target, export) not in endpoints:
        known = sorted(name for owner, name in endpoints if owner == target)
        return (
            f"release '{target}' exports no endpoint '{export}'",
            f"its exports: {', '.join(known)}" if known else f"add 'exports' to the spec of '{target}'",
        )
    if field not in FIELDS:
        return (f"unknown reference field '{field}'", f"use one of: {', '.join(FIELDS)}")
    if field == "secretName" and not endpoints[(target, export)].secret_name:
        return (f"export '{target}.{export}' has no secretName", f"set exports.{export}.secretName in its spec")
    return target


def _substitute_at(data: Any, places: list[tuple[Any, ...]], endpoints: dict[tuple[str, str], Endpoint]) -> Any:
    """``data`` with the references at ``places`` (key paths) replaced, as :func:`_substitute`
    gives it when no other string of ``data`` holds one: only those paths are walked."""
    if not places:
        return data
    if any(not place for place in places):
        return _substitute(data, endpoints)
    below: dict[Any, list[tuple[Any, ...]]] = {}
    for place in places:
        below.setdefault(place[0], []).append(place[1:])
    changed: Any = None
    for key, rest in below.items():
        if isinstance(data, dict):
            if key not in data:
                continue  # a later file replaced the mapping that held it
        elif not (isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data)):
            continue  # a later file replaced it with a scalar (or a list with a mapping)
        old = data[key]
        new = _substitute_at(old, rest, endpoints)
        if new is not old:
            if changed is None:
                changed = dict(data) if isinstance(data, dict) else list(data)
            changed[key] = new
    return data if changed is None else changed


def _substitute(data: Any, endpoints: dict[tuple[str, str], Endpoint]) -> Any:
    """``data`` with its references replaced; parts without one are the same objects,
    not copies (a stack's values are held once, however many releases refer)."""
    if isinstance(data, (dict, list)):
        changed: Any = None
        for key, old in data.items() if isinstance(data, dict) else enumerate(data):
            new = _substitute(old, endpoints)
            if new is not old:
                if changed is None:
                    changed = dict(data) if isinstance(data, dict) else list(data)
                changed[key] = new
        return data if changed is None else changed
    if isinstance(data, str) and MARKER in data:
        whole = REFERENCE.fullmatch(data)
        if whole:
            return _lookup(whole.group(1), endpoints)
        return REFERENCE.sub(lambda m: str(_lookup(m.group(1), endpoints)), data)
    return data


def _names_no_release(text: str, stack_names: set[str]) -> bool:
    match = _TARGET.match(text)
    return match is not None and match.group(1) not in stack_names


def _lookup(text: str, endpoints: dict[tuple[str, str], Endpoint]) -> str | int:
    release, export, field = text.split(".")
    endpoint = endpoints.get((release, export))
    # None only for a release a lenient load kept as dangling: left as written.
    return endpoint.field(field) if endpoint is not None else f"${{ref:{text}}}"
