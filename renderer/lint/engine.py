"""Runs the rules: severities from the stack config, suppressions, the verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import cache
from ..catalog import stack_charts
from ..errors import InputError, Problem
from ..schemacheck import Validator
from .finding import WARNING, Finding, Location, ObjectRef, Verdict
from .inputs import LintInputs
from .notes import Note, grouped
from .rule import LintContext, LintOptions, Rule
from .rules import RULES, SUPPRESSION_RULE, rule_ids

SUPPRESS_ANNOTATION = "railiance.io/suppress."
OFF = "off"


@dataclass(frozen=True)
class RuleSettings:
    severity: Mapping[str, str] = field(default_factory=dict)  # rule -> error | warning | off
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Suppression:
    rule: str
    reason: str
    object: ObjectRef
    location: Location


@dataclass(frozen=True)
class LintResult(Verdict):
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]  # grouped (see notes.py): one line per kind of note, as every format prints them
    strict: bool = False
    suppressed: tuple[Finding, ...] = ()  # what the suppressions silenced: a pull-request comment lists them

    def summary(self) -> dict[str, Any]:
        return {"errors": self.errors, "warnings": self.warnings, "failed": self.failed, "notes": list(self.notes)}


def settings_from_config(data: Mapping[str, Any] | None, path: str) -> RuleSettings:
    """Validate the stack config's ``lint.rules`` once: unknown rules and bad options are input errors."""
    severity: dict[str, str] = {}
    options: dict[str, Mapping[str, Any]] = {}
    problems: list[Problem] = []
    known = rule_ids()
    for rule_id, value in ((data or {}).get("rules") or {}).items():
        if rule_id not in known:
            import difflib  # an error's hint only

            close = difflib.get_close_matches(rule_id, known, n=1)
            problems.append(
                Problem(
                    path=path,
                    key_path=f"lint.rules.{rule_id}",
                    message=f"unknown rule '{rule_id}'",
                    hint=f"did you mean '{close[0]}'?" if close else "see `rail explain` for the rules",
                )
            )
            continue
        if isinstance(value, str):
            severity[rule_id] = value
            continue
        severity_value = value.get("severity")
        if severity_value:
            severity[rule_id] = severity_value
        rule_options = value.get("options") or {}
        rule = next((r for r in RULES if r.id == rule_id), None)
        if rule_options and rule is not None:
            problems.extend(_check_options(rule, rule_options, path))
        options[rule_id] = rule_options
    if problems:
        raise InputError(problems)
    return RuleSettings(severity=severity, options=options)


def _check_options(rule: Rule, options: Mapping[str, Any], path: str) -> list[Problem]:
    schema = {"type": "object", "additionalProperties": False, "properties": dict(rule.options_schema)}

    def full() -> Any:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema)

    return [
        Problem(
            path=path,
            key_path=f"lint.rules.{rule.id}.options" + "".join(f".{p}" for p in error.absolute_path),
            message=f"invalid option ({error.validator})",
            hint=f"options of {rule.id}: {', '.join(sorted(rule.options_schema)) or 'none'}",
        )
        for error in Validator(schema, full).iter_errors(dict(options))
    ]


def run(context: LintContext, settings: RuleSettings, notes: list[str | Note]) -> LintResult:
    findings: list[Finding] = []
    for rule in RULES:
        configured = settings.severity.get(rule.id)
        if configured == OFF:
            continue
        for finding in rule.check(context):
            severity = configured or finding.severity or rule.severity
            findings.append(replace(finding, severity=severity))
    findings, suppressed = _apply_suppressions(context, findings, settings)
    for rule in RULES:
        if rule.fold is not None:
            own = tuple(f for f in findings if f.rule == rule.id)
            kept, folded = rule.fold(context, own)
            findings = [f for f in findings if f.rule != rule.id] + list(kept)
            notes = [*notes, *folded]
    findings = [_with_applier(context, finding) for finding in findings]
    unique = {(f.rule, f.location, f.message, f.object): f for f in findings}
    ordered = sorted(unique.values(), key=Finding.sort_key)
    return LintResult(
        findings=tuple(ordered),
        notes=grouped(notes),
        strict=context.options.strict,
        suppressed=tuple(sorted(suppressed, key=Finding.sort_key)),
    )


def _with_applier(context: LintContext, finding: Finding) -> Finding:
    """A finding on an object Flux applies names the Kustomization that applies it as
    a ``see:`` place: where to look for the patches, substitutions and layer."""
    if finding.object is None:
        return finding
    graph = context.graph
    node = graph.releases.get(finding.object)
    manifest = node.manifest if node is not None else graph.objects.get(finding.object)
    applier = manifest.applied_by if manifest is not None else None
    if applier is None:
        return finding
    place = Location(applier.path, applier.line)
    if place == finding.location or place in finding.related:
        return finding
    return replace(finding, related=(*finding.related, place))


def _suppressions(context: LintContext) -> tuple[list[Suppression], list[Finding]]:
    found: list[Suppression] = []
    invalid: list[Finding] = []
    graph = context.graph
    for node in graph.releases.values():
        if node.spec is not None and graph.loaded is not None:
            document = graph.loaded.spec_documents.get(node.spec.origin)
            entries = (document.data or {}).get("suppress", {}) if document else {}
            for rule_id, reason in entries.items():
                location, _ = graph.spec_location(node, ("suppress", rule_id))
                found.append(Suppression(rule_id, str(reason), node.ref, location))
    release_refs = {id(node.manifest): node.ref for node in graph.releases.values()}
    for manifest in graph.manifests:
        # Any annotated object, not only releases: a ConfigMap whose "secret" is a key name.
        annotations = manifest.annotations()
        if not annotations:
            continue
        ref = release_refs.get(id(manifest))
        if ref is None and manifest.kind and manifest.name:
            ref = ObjectRef(manifest.kind, manifest.namespace, manifest.name)
        if ref is None:
            continue
        for key, reason in annotations.items():
            if isinstance(key, str) and key.startswith(SUPPRESS_ANNOTATION):
                location = Location(*manifest.document.where(("metadata", "annotations", key)))
                found.append(Suppression(key[len(SUPPRESS_ANNOTATION) :], str(reason or ""), ref, location))
    valid = []
    for suppression in found:
        problem = None
        if suppression.rule not in rule_ids():
            problem = f"suppression names unknown rule '{suppression.rule}'"
        elif not suppression.reason.strip():
            problem = f"suppression of {suppression.rule} has no reason"
        if problem:
            invalid.append(
                Finding(
                    rule=SUPPRESSION_RULE, message=problem, location=suppression.location, object=suppression.object
                )
            )
        else:
            valid.append(suppression)
    return valid, invalid


def _apply_suppressions(
    context: LintContext, findings: list[Finding], settings: RuleSettings
) -> tuple[list[Finding], list[Finding]]:
    """The findings kept, and those a suppression silenced."""
    suppressions, invalid = _suppressions(context)
    used: set[Suppression] = set()
    kept, silenced = [], []
    # The first suppression of each rule and object, as a scan in order finds it: findings
    # times suppressions would be quadratic (a stack suppresses per release).
    first: dict[tuple[str, Any], Suppression] = {}
    for suppression in suppressions:
        first.setdefault((suppression.rule, suppression.object), suppression)
    for finding in findings:
        match = first.get((finding.rule, finding.object))
        if match is None:
            kept.append(finding)
        else:
            used.add(match)
            silenced.append(finding)
    severity = settings.severity.get(SUPPRESSION_RULE, WARNING)
    if severity == OFF:
        return kept, silenced
    for suppression in suppressions:
        if suppression not in used:
            invalid.append(
                Finding(
                    rule=SUPPRESSION_RULE,
                    message=f"suppression of {suppression.rule} matches no finding",
                    location=suppression.location,
                    object=suppression.object,
                    hint="remove it: the problem it silenced is gone",
                )
            )
    return kept + [replace(finding, severity=severity) for finding in invalid], silenced


def lint_inputs(inputs: LintInputs, options: LintOptions) -> LintResult:
    """Build the release graph of ``inputs`` and run every rule on it, the stack's own
    ``charts:`` facts before the catalog's."""
    from .graph import build

    settings = settings_from_config(inputs.config.lint, inputs.config.path)
    with stack_charts(inputs.config.charts):
        graph = build(inputs.config, inputs.manifests, inputs.loaded, inputs.referenced)
        context = LintContext(
            graph=graph,
            root=inputs.root,
            loaded=inputs.loaded,
            drift=inputs.drift,
            source_documents=inputs.source_documents,
            unreadable=inputs.unreadable,
            escaped=inputs.escaped,
            applied=inputs.applied,
            scope=inputs.scope,
            options=options,
            rule_options=settings.options,
            cached=cache.enabled(),
        )
        graph.notes[:0] = inputs.notes  # rules add theirs to the same list as they run
        return run(context, settings, graph.notes)
