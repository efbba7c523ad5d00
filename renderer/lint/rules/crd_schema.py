"""crd-schema: a Flux or Argo CD object that its CustomResourceDefinition would reject.

A typo in a HelmRelease (``intervall``, ``dependson``), a number where the CRD
wants a string, or an unknown enum value makes the API server reject the
object when Flux applies it: the whole Kustomization then fails, and every
other change in it waits. This rule checks every ``HelmRelease``,
``HelmRepository``, ``OCIRepository``, ``HelmChart``, Flux ``Kustomization``,
Argo CD ``Application`` and ``AppProject`` against the schema of its CRD,
packaged with rail under ``schemas/crds/`` (generated from the upstream CRDs by
``scripts/gen_crd_schemas.py``).

Each finding points at the offending key and says what is wrong with it: an
unknown key (with the closest known one), a wrong type, a value outside an
enum, a pattern it does not match, a missing required key. Values are never
echoed: a value may be a secret.

Not checked, with a note instead of a finding:

- API versions rail has no schema for: the deprecated ``v2beta1``/``v2beta2``
  HelmRelease and ``v1beta2`` sources and Kustomizations that Flux 2.8 no
  longer serves (migrate them); one note per kind and version, with how many
  objects use it (a HelmRelease's is the release graph's note, "linted as v2");
- kustomize patches and fragments: objects without a name, objects in a file a
  ``kustomization.yaml`` lists under ``patches`` (or ``patchesStrategicMerge``),
  and HelmReleases with neither ``spec.chart`` nor ``spec.chartRef``;
- a value that is a Flux ``${VAR}`` substitution, where only its type or
  pattern is wrong: it is known when Flux reconciles.

Fails::

    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    spec:
      intervall: 10m               # unknown key: did you mean 'interval'?
      upgrade:
        remediation:
          strategy: delete         # not one of rollback, uninstall

Passes::

    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    spec:
      interval: 10m
      upgrade:
        remediation:
          strategy: rollback
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ...load.schema import TYPE_HINTS as _TYPE_HINTS
from ...schemacheck import Validator, type_name
from ...yamlio import format_key_path
from ..finding import ERROR, Finding, Location, ObjectRef
from ..manifests import Manifest
from ..notes import DEPRECATED_API, NO_SCHEMA, Note
from ..rule import LintContext, Rule

# The kinds this rule checks, by API group.
CHECKED_KINDS: dict[str, frozenset[str]] = {
    "helm.toolkit.fluxcd.io": frozenset({"HelmRelease"}),
    "source.toolkit.fluxcd.io": frozenset({"HelmRepository", "OCIRepository", "HelmChart"}),
    "kustomize.toolkit.fluxcd.io": frozenset({"Kustomization"}),
    "argoproj.io": frozenset({"Application", "AppProject"}),
}
_FLUX_SUFFIX = ".toolkit.fluxcd.io"
# Kinds of error where the value is wrong, not the structure: a ${VAR} there is fine.
_VALUE_ERRORS = frozenset(
    {"type", "pattern", "enum", "const", "minimum", "maximum", "minLength", "maxLength", "anyOf", "oneOf", "format"}
)
_DURATION_KEYS = frozenset({"interval", "timeout", "retryInterval", "maxAge"})


@cache
def schema_index() -> dict[str, str]:
    """``"<group>/<version>/<Kind>"`` -> the schema file under ``schemas/crds/``."""
    from ...resources import data_dir

    index: dict[str, str] = json.loads((data_dir("schemas") / "crds" / "index.json").read_text(encoding="utf-8"))
    return index


@cache
def validator(api_key: str) -> Any:
    """The validator of one kind and version, built once per process; None without a schema.

    The packaged schemas are trusted: the test suite checks them against the
    metaschema (tests/lint/rules/test_crd_schema.py), never at run time.
    """
    name = schema_index().get(api_key)
    if name is None:
        return None
    from ...resources import data_dir

    schema = json.loads((data_dir("schemas") / "crds" / name).read_text(encoding="utf-8"))

    def full() -> Any:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema)

    return Validator(schema, full, bundled=True)


def _served(group: str, kind: str) -> list[str]:
    prefix, suffix = f"{group}/", f"/{kind}"
    return sorted(key.split("/")[1] for key in schema_index() if key.startswith(prefix) and key.endswith(suffix))


def _skip_reason(manifest: Manifest, patch_files: set[str]) -> str | None:
    """Why ``manifest`` is a fragment rather than an object, or None."""
    if manifest.path in patch_files:
        return "is in a file a kustomization.yaml applies as a patch"
    if not manifest.name:
        return "has no name: read as a kustomize patch or fragment"
    return None


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    patch_files = graph.patch_files
    for manifest in graph.manifests:
        kinds = CHECKED_KINDS.get(manifest.group)
        if kinds is None or manifest.kind not in kinds:
            continue
        if manifest.kind == "HelmRelease" and not (
            manifest.name and ("chart" in manifest.spec() or "chartRef" in manifest.spec())
        ):
            continue  # a fragment: graph.build notes it
        label = f"{manifest.kind} {manifest.name or '(unnamed)'}"
        reason = _skip_reason(manifest, patch_files)
        if reason is not None:
            graph.notes.append(f"{manifest.path}: {label} {reason}: not schema-checked")
            continue
        checker = validator(f"{manifest.group}/{manifest.version}/{manifest.kind}")
        if checker is None:
            if manifest.kind != "HelmRelease":  # graph.build notes a HelmRelease's version
                graph.notes.append(_unserved_note(manifest))
            continue
        yield from _check_object(manifest, checker, graph.notes)


def _unserved_note(manifest: Manifest) -> Note:
    """One note per (kind, apiVersion), whatever the number of objects: the version is
    the problem, and the files it is in are listed with the count."""
    served = _served(manifest.group, manifest.kind)
    migrate = f" (migrate it to {manifest.group}/{served[-1]})" if served else ""
    detail = f"{manifest.kind} {manifest.name}"
    if manifest.group.endswith(_FLUX_SUFFIX):
        message = f"{manifest.kind} {manifest.api_version} is a deprecated version Flux 2.8 no longer serves"
        return Note(DEPRECATED_API, f"{message}: not schema-checked{migrate}", manifest.path, detail)
    message = f"{manifest.kind} {manifest.api_version}: rail has no schema for it: not schema-checked"
    return Note(NO_SCHEMA, message, manifest.path, detail)


@dataclass(frozen=True)
class _Problem:
    key_path: tuple[Any, ...]  # where to point
    message: str
    hint: str
    parent: tuple[Any, ...] = ()  # the object the key is in (unknown and missing keys)
    missing: str | None = None  # a required key that is absent
    suggestion: str | None = None  # the known key an unknown one is closest to


def _check_object(manifest: Manifest, checker: Any, notes: list[str | Note]) -> Iterator[Finding]:
    problems: list[_Problem] = []
    substituted = False
    for error in checker.iter_errors(manifest.data):
        if error.validator in _VALUE_ERRORS and isinstance(error.instance, str) and "${" in error.instance:
            substituted = True
            continue
        problems.extend(_describe(error))
    if substituted:
        notes.append(
            f"{manifest.path}: {manifest.kind} {manifest.name}: values that are ${{VAR}} substitutions were not"
            " schema-checked (known only when Flux reconciles)"
        )
    # A misspelt required key is one mistake, not two: report the unknown key only.
    misspelt = {(p.parent, p.suggestion) for p in problems if p.suggestion is not None}
    ref = ObjectRef(manifest.kind, manifest.namespace, manifest.name)
    seen: set[tuple[tuple[Any, ...], str]] = set()
    for problem in problems:
        if problem.missing is not None and (problem.parent, problem.missing) in misspelt:
            continue
        message = problem.message
        if problem.suggestion is not None and problem.suggestion in _missing_at(problems, problem.parent):
            message += f" (and the required key '{problem.suggestion}' is missing)"
        if (problem.key_path, message) in seen:
            continue
        seen.add((problem.key_path, message))
        path, line, column = manifest.document.where(problem.key_path)
        yield Finding(
            rule=RULE.id,
            message=f"{manifest.kind} '{manifest.name}': {message}",
            location=Location(path, line, column),
            object=ref,
            hint=problem.hint,
        )


def _missing_at(problems: list[_Problem], parent: tuple[Any, ...]) -> set[str]:
    return {p.missing for p in problems if p.missing is not None and p.parent == parent}


def _describe(error: Any) -> Iterator[_Problem]:
    """What one validation error means, located at its key; never the value."""
    path = tuple(error.absolute_path)
    shown = format_key_path(path) or "(top level)"
    kind = error.validator
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted(error.schema.get("properties", {}))
        for key in sorted((k for k in error.instance if k not in known), key=str):
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys here: {', '.join(known) or 'none'}"
            yield _Problem(
                (*path, key),
                f"unknown key '{format_key_path((*path, key))}'",
                hint,
                parent=path,
                suggestion=close[0] if close else None,
            )
        return
    if kind == "required" and isinstance(error.instance, dict):
        for key in error.validator_value:
            if key not in error.instance:
                message = f"{shown}: missing required key '{key}'"
                yield _Problem(path, message, f"add {format_key_path((*path, key))}", parent=path, missing=key)
        return
    if kind == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        hint = _TYPE_HINTS.get(expected_text, "change the value's type")
        if expected_text == "string" and path and path[-1] in _DURATION_KEYS:
            hint = "write a Go duration such as 10m or 1h30m"
        yield _Problem(path, f"{shown}: wrong type: expected {expected_text}, got {type_name(error.instance)}", hint)
        return
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        # The allowed values come from the schema, never from the object.
        choices = ", ".join(json.dumps(a) for a in allowed)
        yield _Problem(path, f"{shown}: value is not one of {choices}", f"use one of: {choices}")
        return
    if kind == "pattern":
        key = path[-1] if path else ""
        hint = f"must match {error.validator_value}"
        if key in _DURATION_KEYS:
            hint = "use a Go duration such as 10m or 1h30m"
        yield _Problem(path, f"{shown}: value does not match the required pattern", hint)
        return
    if kind in ("anyOf", "oneOf"):
        types = [sub.get("type") for sub in error.validator_value if isinstance(sub, dict)]
        if types and all(isinstance(item, str) for item in types):
            expected_text = " or ".join(str(item) for item in types)
            yield _Problem(path, f"{shown}: wrong type: expected {expected_text}, got {type_name(error.instance)}", "")
        else:
            yield _Problem(path, f"{shown}: matches none of the forms the schema allows ({kind})", "")
        return
    if kind in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems"):
        yield _Problem(path, f"{shown}: value violates {kind} {error.validator_value}", "")
        return
    yield _Problem(path, f"{shown}: invalid ({kind})", f"see {shown} in the CRD")


RULE = Rule(
    id="crd-schema",
    severity=ERROR,
    summary="a Flux or Argo CD object its CRD schema would reject",
    check=check,
    doc=__doc__ or "",
)
