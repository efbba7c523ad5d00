"""crd-schema: a Flux or Argo CD object that its CustomResourceDefinition would reject.

A typo in a HelmRelease (``intervall``, ``dependson``), a number where the CRD
wants a string, or an unknown enum value makes the API server reject the
object when Flux applies it: the whole Kustomization then fails, and every
other change in it waits. This rule checks every ``HelmRelease``,
``HelmRepository``, ``OCIRepository``, ``HelmChart``, Flux ``Kustomization``,
Argo CD ``Application`` and ``AppProject`` against the schema of its CRD,
packaged with rail under ``schemas/crds/`` (generated from the upstream CRDs by
``scripts/gen_crd_schemas.py``). The core kinds rail renders or passes through
(``Namespace``, ``ServiceAccount``, ``Secret``, ``ConfigMap``, ``RoleBinding``,
``batch/v1`` ``CronJob`` and ``Job``) are checked the same way against Kubernetes'
own schemas, under ``schemas/k8s/`` (``scripts/gen_core_schemas.py``, from the
``kubernetes-validate`` package; a SOPS Secret's ``sops`` key, which Flux removes
when it decrypts, is not checked).

Each finding points at the offending key and says what is wrong with it: an
unknown key (with the closest known one), a wrong type, a value outside an
enum, a pattern it does not match, a missing required key. Values are never
echoed: a value may be a secret.

What is checked is what the API server validates. A key whose value is ``null``
where the schema does not say ``nullable: true`` is dropped before validation
(recursively, in objects and in the objects inside lists), so
``syncPolicy.automated: null`` passes, and a required key that is null is a
missing required key, reported at that key. A required key the schema gives a
default is filled in by the API server, so it is never missing. A ``nullable: true``
key keeps its null, and null is then valid there. A null *item* of a list is not
dropped: it is replaced by the items' default if they have one, else it is an
error like any other value of the wrong type.

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
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    spec:
      interval: 10m
      prune: true
      sourceRef: null              # dropped by the API server: a missing required key
    ---
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    spec:
      syncPolicy:
        retry:
          limit: three             # wrong type: expected integer

Passes::

    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    spec:
      interval: 10m
      upgrade:
        remediation:
          strategy: rollback
    ---
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    spec:
      syncPolicy:
        automated: null            # dropped by the API server: no automated sync
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from ...load.schema import TYPE_HINTS as _TYPE_HINTS
from ...schemacheck import Validator, type_name
from ...yamlio import format_key_path
from ..finding import ERROR, Finding, Location, ObjectRef
from ..manifests import Manifest
from ..notes import DEPRECATED_API, NO_SCHEMA, Note
from ..results import each_object, object_unit
from ..rule import PER_OBJECT, LintContext, Rule

# The kinds this rule checks, by API group.
CHECKED_KINDS: dict[str, frozenset[str]] = {
    "helm.toolkit.fluxcd.io": frozenset({"HelmRelease"}),
    "source.toolkit.fluxcd.io": frozenset({"HelmRepository", "OCIRepository", "HelmChart"}),
    "kustomize.toolkit.fluxcd.io": frozenset({"Kustomization"}),
    "argoproj.io": frozenset({"Application", "AppProject"}),
    # Core kinds: Kubernetes' own schemas (schemas/k8s/, scripts/gen_core_schemas.py).
    "": frozenset({"Namespace", "ServiceAccount", "Secret", "ConfigMap"}),
    "batch": frozenset({"CronJob", "Job"}),
    "rbac.authorization.k8s.io": frozenset({"RoleBinding"}),
}
# Schema folders under schemas/, each with an index.json of "<group>/<version>/<Kind>".
_SCHEMA_FOLDERS = ("crds", "k8s")
# Keys the API server never sees: SOPS metadata, removed when Flux decrypts the Secret.
_NOT_APPLIED = {"Secret": ("sops",)}
_FLUX_SUFFIX = ".toolkit.fluxcd.io"
# Kinds of error where the value is wrong, not the structure: a ${VAR} there is fine.
_VALUE_ERRORS = frozenset(
    {"type", "pattern", "enum", "const", "minimum", "maximum", "minLength", "maxLength", "anyOf", "oneOf", "format"}
)
_DURATION_KEYS = frozenset({"interval", "timeout", "retryInterval", "maxAge"})


@cache
def schema_index() -> dict[str, str]:
    """``"<group>/<version>/<Kind>"`` -> the schema file under ``schemas/`` (``crds/...``, ``k8s/...``)."""
    from ...resources import data_dir

    index: dict[str, str] = {}
    for folder in _SCHEMA_FOLDERS:
        found = json.loads((data_dir("schemas") / folder / "index.json").read_text(encoding="utf-8"))
        index.update({key: f"{folder}/{name}" for key, name in found.items()})
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

    schema = json.loads((data_dir("schemas") / name).read_text(encoding="utf-8"))

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
    """Each object on its own (per-object: cached by the object's content, see
    ``lint.results``); what one reads besides itself is whether its file is a patch. A
    Secret's unit is clean-only: a SOPS stack's Secrets are a third of its objects, and
    of one only a digest and "no findings" are kept."""
    graph = context.graph
    patch_files = graph.patch_files
    units = (
        object_unit(manifest, f"patch={manifest.path in patch_files}")
        for manifest in graph.manifests
        if _checked(manifest)
    )
    yield from each_object(context, RULE.id, units, partial(_check_manifest, patch_files, graph.notes))


def _checked(manifest: Manifest) -> bool:
    kinds = CHECKED_KINDS.get(manifest.group)
    if kinds is None or manifest.kind not in kinds or not manifest.api_version:
        return False
    # A HelmRelease without a chart is a fragment: graph.build notes it.
    return manifest.kind != "HelmRelease" or bool(
        manifest.name and ("chart" in manifest.spec() or "chartRef" in manifest.spec())
    )


def _check_manifest(patch_files: set[str], notes: list[str | Note], manifest: Manifest) -> Iterator[Finding]:
    label = f"{manifest.kind} {manifest.name or '(unnamed)'}"
    reason = _skip_reason(manifest, patch_files)
    if reason is not None:
        notes.append(f"{manifest.path}: {label} {reason}: not schema-checked")
        return
    checker = validator(f"{manifest.group}/{manifest.version}/{manifest.kind}")
    if checker is None:
        if manifest.kind != "HelmRelease":  # graph.build notes a HelmRelease's version
            notes.append(_unserved_note(manifest))
        return
    yield from _check_object(manifest, checker, notes)


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


@dataclass
class Nulls:
    """Where :func:`drop_nulls` found nulls: the keys it dropped, the nulls it kept."""

    dropped: set[tuple[Any, ...]] = field(default_factory=set)  # keys the API server drops
    nullable: set[tuple[Any, ...]] = field(default_factory=set)  # nulls of ``nullable: true`` fields


def drop_nulls(instance: Any, schema: Any) -> tuple[Any, Nulls]:
    """``instance`` as the API server validates it against a structural ``schema``.

    A key whose value is null is dropped when the schema describes the key (in
    ``properties``, else ``additionalProperties``) and does not make it
    ``nullable: true`` (apiextensions-apiserver ``PruneNonNullableNullsWithoutDefaults``;
    one with a default is defaulted instead, which validates the same: see
    :func:`_describe`). Lists are walked into, but a null item stays, unless the
    items have a default, which replaces it (``Default``). Keys the schema does not
    describe are left alone (they are unknown keys, reported as such). A JSON Schema
    ``type`` that lists ``null`` counts as nullable too.

    Copy on write: when nothing is dropped, the very ``instance`` comes back (the
    validator's verdict memo is keyed by identity).
    """
    nulls = Nulls()
    return _drop(instance, schema if isinstance(schema, Mapping) else None, (), nulls), nulls


def _nullable(schema: Mapping[str, Any]) -> bool:
    kinds = schema.get("type")
    return schema.get("nullable") is True or kinds == "null" or (isinstance(kinds, list) and "null" in kinds)


def _field_schema(schema: Mapping[str, Any] | None, key: Any) -> Mapping[str, Any] | None:
    if schema is None:
        return None
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and key in properties:
        found = properties[key]
        return found if isinstance(found, Mapping) else None
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, Mapping) else None


def _drop(value: Any, schema: Mapping[str, Any] | None, path: tuple[Any, ...], nulls: Nulls) -> Any:
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            sub = _field_schema(schema, key)
            if item is None and sub is not None:
                if _nullable(sub):
                    nulls.nullable.add((*path, key))
                else:
                    nulls.dropped.add((*path, key))
                    changed = dict(value) if changed is None else changed
                    del changed[key]
                continue
            kept = _drop(item, sub, (*path, key), nulls)
            if kept is not item:
                changed = dict(value) if changed is None else changed
                changed[key] = kept
        return value if changed is None else changed
    if isinstance(value, list):
        found = schema.get("items") if schema is not None else None
        items = found if isinstance(found, Mapping) else None
        replaced: list[Any] | None = None
        for index, item in enumerate(value):
            if item is None and items is not None:
                if _nullable(items):
                    nulls.nullable.add((*path, index))
                elif "default" in items:
                    replaced = list(value) if replaced is None else replaced
                    replaced[index] = copy.deepcopy(items["default"])
                continue
            kept = _drop(item, items, (*path, index), nulls)
            if kept is not item:
                replaced = list(value) if replaced is None else replaced
                replaced[index] = kept
        return value if replaced is None else replaced
    return value


# What the API server still checks on a null it keeps (a nullable field): its enum.
_NULL_CHECKS = frozenset({"enum", "const"})


def _check_object(manifest: Manifest, checker: Any, notes: list[str | Note]) -> Iterator[Finding]:
    problems: list[_Problem] = []
    substituted = False
    data = manifest.data
    if manifest.kind in _NOT_APPLIED and manifest.group == "":
        data = {key: value for key, value in data.items() if key not in _NOT_APPLIED[manifest.kind]}
    instance, nulls = drop_nulls(data, checker.schema)
    for error in checker.iter_errors(instance):
        if error.validator in _VALUE_ERRORS and isinstance(error.instance, str) and "${" in error.instance:
            substituted = True
            continue
        if (
            error.instance is None
            and error.validator not in _NULL_CHECKS
            and tuple(error.absolute_path) in nulls.nullable
        ):
            continue  # null is a value of a nullable field
        problems.extend(_describe(error, nulls.dropped))
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


def _describe(error: Any, dropped: Collection[tuple[Any, ...]] = ()) -> Iterator[_Problem]:
    """What one validation error means, located at its key; never the value.

    ``dropped``: the keys whose null the API server drops (:func:`drop_nulls`); a
    required one of them is reported at the key itself."""
    path = tuple(error.absolute_path)
    shown = format_key_path(path) or "(top level)"
    kind = error.validator
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        import difflib  # an error's hint only: a valid object never gets here

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
        properties = error.schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        for key in error.validator_value:
            if key in error.instance:
                continue
            described = properties.get(key)
            if isinstance(described, Mapping) and "default" in described:
                continue  # the API server fills in the default before it validates
            full = format_key_path((*path, key))
            if (*path, key) in dropped:
                message = f"{shown}: missing required key '{key}' (it is null, which the API server drops)"
                yield _Problem((*path, key), message, f"give {full} a value", parent=path, missing=key)
            else:
                message = f"{shown}: missing required key '{key}'"
                yield _Problem(path, message, f"add {full}", parent=path, missing=key)
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
    scope=PER_OBJECT,
    severity=ERROR,
    summary="a Flux or Argo CD object its CRD schema would reject",
    check=check,
    doc=__doc__ or "",
)
