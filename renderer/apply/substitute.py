"""Flux's post-build variable substitution, as kustomize-controller runs it on each
object a Kustomization builds, so rail lints what Flux applies rather than the template.

Upstream: ``fluxcd/pkg`` ``kustomize/kustomize_varsub.go`` (``SubstituteVariables``,
``LoadVariables``, ``varSubstitution``), the kustomize-controller's
``kustomizations.md`` ("Post build variable substitution") and ``features.go``; the
text engine is :mod:`renderer.apply.envsubst`. In Flux's order:

1. An object *labelled or annotated* ``kustomize.toolkit.fluxcd.io/substitute: disabled``
   is left alone. Only the object's own metadata counts: on a Flux Kustomization the mark
   keeps its parent from substituting its text; it does not turn off its own postBuild.
2. Nothing is substituted unless the Kustomization has ``spec.postBuild`` and at least one
   variable (``substituteStrategy: Always``, newer controllers, lifts the second part), so
   ``${var:=default}`` stays literal in a Kustomization without variables.
3. Variables come from ``substituteFrom`` in list order, a later source overwriting an
   earlier one, then from ``substitute``, which wins. Newlines are removed from every
   value. A missing source fails the Kustomization unless it is ``optional``.
4. Every variable name must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$`` (ASCII), or
   every object fails: a ConfigMap key such as ``app.conf`` is enough.
5. The object is written as YAML, envsubst runs over the whole text, and the text is read
   back as YAML 1.1 (``yes``, ``on``, ``n`` are booleans there): a value can change a
   type (``replicas: ${N}`` is a number), add keys, or break the YAML. Flux writes the
   object from its parsed form, so quotes in the source file are long gone by then, which
   is why Flux's docs quote values with a ``${quote}`` variable.

The text here is rail's canonical YAML, not go-yaml v2's: the same wherever a reference
sits in a plain scalar (``key: ${VAR}``, by far the common case), but a string that needs
quoting is double-quoted here where go-yaml may single-quote or fold it, so a value holding
``"`` or ``\\`` substituted into such a string may read differently from Flux.

rail cannot read Secrets, nor ConfigMaps outside the repository: their values are
:data:`UNKNOWN`, and every reference to one comes out as an :class:`Unknown` string whose
text is ``${NAME}`` where the value would be (never a guess, never a secret), which the
secret classifier already reads as a reference. A variable that is not defined anywhere
is substituted as ``""``, as Flux does; it is reported in the notes, and in strict mode
(``--feature-gates=StrictPostBuildSubstitutions=true``) the object fails instead.
Whatever would make Flux fail is a :class:`Note`, never an exception. Notes name
variables and sources, never values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import InputError
from ..yamlio import dump, load_documents
from .envsubst import UNDEFINED, UNKNOWN, Evaluation, Hole, SubstitutionSyntaxError, Unresolved, parse

__all__ = [
    "SUBSTITUTE_KEY",
    "UNKNOWN",
    "Note",
    "Result",
    "Unknown",
    "Value",
    "Variables",
    "is_unknown",
    "substitute",
    "variables_for",
]

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED = "disabled"
# RE2's [:alpha:] and [:digit:] are ASCII classes.
VARIABLE_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")

# Why an object was not substituted (Result.skipped).
SKIP_DISABLED = "disabled"
SKIP_NO_VARIABLES = "no-variables"
SKIP_FAILED = "failed"

# Note kinds.
UNDEFINED_VARIABLE = "undefined-variable"
INVALID_NAME = "invalid-variable-name"
SYNTAX_ERROR = "substitution-syntax"
INVALID_YAML = "invalid-yaml-after-substitution"
MISSING_SOURCE = "missing-substitute-source"
OPAQUE_SOURCE = "opaque-substitute-source"
NOT_A_STRING = "variable-not-a-string"
INVALID_REFERENCE = "invalid-substitute-reference"

Value = str | Literal[Unresolved.UNKNOWN]


class Unknown(str):
    """A string rail cannot know, because (part of) it is a variable's hidden value.

    Its text is the known text with ``${NAME}`` where each unknown value goes, so it
    reads as a reference to where the value is kept; ``names`` are those variables.
    """

    names: frozenset[str]

    def __new__(cls, text: str, names: Iterable[str]) -> Unknown:
        made = super().__new__(cls, text)
        made.names = frozenset(names)
        return made


def is_unknown(value: object) -> bool:
    """Whether ``value`` holds a variable rail cannot read (a Secret's, say)."""
    return isinstance(value, Unknown)


@dataclass(frozen=True)
class Note:
    """Something Flux does with this substitution that a rule may want to report."""

    kind: str
    message: str
    variable: str = ""


@dataclass(frozen=True)
class Variables(Mapping[str, Value]):
    """The variables of one Flux Kustomization: a mapping of name to value or UNKNOWN,
    and what rail could not see. ``opaque`` names sources whose keys rail cannot list:
    any name not defined elsewhere may come from them, so it is unknown, not undefined."""

    defined: Mapping[str, Value] = field(default_factory=dict)
    opaque: tuple[str, ...] = ()
    post_build: bool = True
    always: bool = False
    origins: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()

    def __getitem__(self, name: str) -> Value:
        return self.defined[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.defined)

    def __len__(self) -> int:
        return len(self.defined)

    @property
    def runs(self) -> bool:
        """Whether Flux substitutes at all (``if len(vars) > 0 || Always``); a source rail
        cannot see is taken to define something."""
        return self.post_build and (self.always or bool(self.defined) or bool(self.opaque))


@dataclass(frozen=True)
class Result:
    """One object after substitution: ``data`` is what Flux applies (the object itself
    when nothing was substituted, or when Flux would fail: see ``skipped``)."""

    data: Any
    substituted: bool = False
    skipped: str = ""
    notes: tuple[Note, ...] = ()
    unknown: frozenset[str] = frozenset()
    undefined: frozenset[str] = frozenset()

    @property
    def failed(self) -> bool:
        return self.skipped == SKIP_FAILED


# --------------------------------------------------------------------------- one object


def substitute(obj: Mapping[str, Any], variables: Mapping[str, Value], *, strict: bool = False) -> Result:
    """``obj`` as Flux applies it with ``variables`` (a :class:`Variables`, or any mapping
    of name to value or UNKNOWN); ``strict``: the controller's StrictPostBuildSubstitutions."""
    if _disabled(obj):
        return Result(obj, skipped=SKIP_DISABLED)
    runs = variables.runs if isinstance(variables, Variables) else len(variables) > 0
    if not runs:
        return Result(obj, skipped=SKIP_NO_VARIABLES)
    invalid = sorted(name for name in variables if not VARIABLE_NAME.fullmatch(name))
    if invalid:
        return Result(obj, skipped=SKIP_FAILED, notes=tuple(_invalid_name(name) for name in invalid))
    text = dump(obj)
    if "$" not in text:
        return Result(obj, substituted=True)
    try:
        template = parse(text)
    except SubstitutionSyntaxError as error:
        note = Note(SYNTAX_ERROR, f"Flux cannot substitute variables in this object ({error}): the build fails")
        return Result(obj, skipped=SKIP_FAILED, notes=(note,))
    evaluation = template.evaluate(_lookup(variables))
    notes = tuple(_undefined(name, strict) for name in sorted(evaluation.undefined))
    unknown, undefined = evaluation.unknown, evaluation.undefined
    if strict and undefined:
        return Result(obj, skipped=SKIP_FAILED, notes=notes, unknown=unknown, undefined=undefined)
    marked = _marked(evaluation, text)
    if marked is None:
        note = Note(INVALID_YAML, "rail cannot mark unknown values in this object")
        return Result(obj, skipped=SKIP_FAILED, notes=(*notes, note), unknown=unknown, undefined=undefined)
    if marked[0] == text:
        return Result(obj, substituted=True, notes=notes, unknown=unknown, undefined=undefined)
    read = _read_back(*marked)
    if isinstance(read, Note):
        return Result(obj, skipped=SKIP_FAILED, notes=(*notes, read), unknown=unknown, undefined=undefined)
    data, extra = read
    return Result(data, substituted=True, notes=(*notes, *extra), unknown=unknown, undefined=undefined)


def _disabled(obj: Mapping[str, Any]) -> bool:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return False
    for where in ("labels", "annotations"):
        marks = metadata.get(where)
        if isinstance(marks, Mapping) and marks.get(SUBSTITUTE_KEY) == DISABLED:
            return True
    return False


def _lookup(variables: Mapping[str, Value]) -> Callable[[str], str | Unresolved]:
    open_ended = isinstance(variables, Variables) and bool(variables.opaque)

    def lookup(name: str) -> str | Unresolved:
        if name in variables:
            value = variables[name]
            return value.replace("\n", "") if isinstance(value, str) else UNKNOWN
        return UNKNOWN if open_ended else UNDEFINED

    return lookup


@dataclass(frozen=True)
class _Marks:
    """How unknown values travel through the YAML text: as private-use characters no
    YAML construct reads specially, numbered in the order of ``holes``."""

    opening: str
    closing: str
    holes: tuple[Hole, ...]

    def pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.opening) + r"([0-9]+)" + re.escape(self.closing))


def _marked(evaluation: Evaluation, original: str) -> tuple[str, _Marks] | None:
    """The substituted text, and its marks; None if the text uses every private-use pair."""
    for code in range(0xE000, 0xF8FE, 2):
        opening, closing = chr(code), chr(code + 1)
        if opening not in original and closing not in original:
            break
    else:
        return None
    holes: list[Hole] = []

    def mark(hole: Hole) -> str:
        holes.append(hole)
        return f"{opening}{len(holes) - 1}{closing}"

    text = evaluation.text(mark)
    return text, _Marks(opening, closing, tuple(holes))


def _read_back(text: str, marks: _Marks) -> tuple[Any, tuple[Note, ...]] | Note:
    """The substituted text parsed again, marks turned into :class:`Unknown` strings."""
    try:
        documents = load_documents(text, "(substituted)")
    except InputError as error:
        reason = error.problems[0].message if error.problems else "invalid YAML"
        return Note(INVALID_YAML, f"after substitution the object is not valid YAML ({reason}): Flux fails")
    if not documents or not isinstance(documents[0].data, Mapping):
        return Note(INVALID_YAML, "after substitution the text is no longer one object: Flux fails")
    notes: tuple[Note, ...] = ()
    if len(documents) > 1:
        notes = (Note(INVALID_YAML, "after substitution the text holds several YAML documents: Flux keeps the first"),)
    data = _restore(documents[0].data, marks.pattern(), marks.holes)
    return _yaml11_booleans(text, data), notes


def _restore(value: Any, found: re.Pattern[str], holes: tuple[Hole, ...]) -> Any:
    if isinstance(value, str):
        names: list[str] = []

        def name(match: re.Match[str]) -> str:
            hole = holes[int(match.group(1))]
            names.append(hole.name)
            return "${" + hole.name + "}"

        text = found.sub(name, value)
        return Unknown(text, names) if names else value
    if isinstance(value, dict):
        return {_restore(key, found, holes): _restore(item, found, holes) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item, found, holes) for item in value]
    return value


# YAML 1.1 booleans that YAML 1.2 (rail's reader) leaves as strings. Flux reads the
# substituted text with go-yaml v2, a YAML 1.1 reader; true/false agree in both.
_YAML11 = {word: True for word in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")} | {
    word: False for word in ("n", "N", "no", "No", "NO", "off", "Off", "OFF")
}


def _yaml11_booleans(text: str, data: Any) -> Any:
    """Plain scalars that YAML 1.1 reads as booleans, as Flux reads them (a key becomes
    ``"true"``/``"false"``, as JSON keys must be strings). rail's writer quotes every
    such string, so a plain one can only come from a substituted value."""
    if not _has_yaml11_word(data):
        return data
    from ruamel.yaml import YAML

    nodes = list(YAML(typ="safe").compose_all(text))
    return _as_yaml11(nodes[0], data) if nodes else data


def _has_yaml11_word(value: Any) -> bool:
    if type(value) is str:
        return value in _YAML11
    if isinstance(value, dict):
        return any(_has_yaml11_word(key) or _has_yaml11_word(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_yaml11_word(item) for item in value)
    return False


def _as_yaml11(node: Any, value: Any) -> Any:
    entries = node.value
    if isinstance(value, dict) and isinstance(entries, list) and len(entries) == len(value):
        out: dict[Any, Any] = {}
        for (key_node, item_node), (key, item) in zip(entries, value.items(), strict=True):
            word = _plain_word(key_node, key)
            out[key if word is None else ("true" if word else "false")] = _as_yaml11(item_node, item)
        return out
    if isinstance(value, list) and isinstance(entries, list) and len(entries) == len(value):
        return [_as_yaml11(item_node, item) for item_node, item in zip(entries, value, strict=True)]
    word = _plain_word(node, value)
    return value if word is None else word


def _plain_word(node: Any, value: Any) -> bool | None:
    if type(value) is str and value in _YAML11 and not getattr(node, "style", None):
        return _YAML11[value]
    return None


def _invalid_name(name: str) -> Note:
    return Note(
        INVALID_NAME,
        f"variable name {name!r} is invalid (it must match ^[_[:alpha:]][_[:alpha:][:digit:]]*$): "
        "Flux fails every object of this Kustomization",
        name,
    )


def _undefined(name: str, strict: bool) -> Note:
    outcome = (
        "with StrictPostBuildSubstitutions Flux fails the Kustomization"
        if strict
        else "Flux substitutes an empty string"
    )
    return Note(UNDEFINED_VARIABLE, f"variable {name} is not defined and has no default: {outcome}", name)


# --------------------------------------------------------------------------- a Kustomization's variables

NamespacedName = tuple[str, str]


def variables_for(
    kustomization: Mapping[str, Any],
    config_maps: Mapping[NamespacedName, Mapping[str, Any]],
    secrets: Collection[NamespacedName] | Mapping[NamespacedName, Collection[str] | None],
    *,
    namespace: str | None = None,
) -> Variables:
    """The variables of one Flux Kustomization, as ``LoadVariables`` builds them.

    ``config_maps``: the ``data`` of the ConfigMaps in the repository, by (namespace,
    name). ``secrets``: the Secrets in the repository; their values are always UNKNOWN.
    Given as a mapping to their key names (a SOPS file shows them), a Secret defines just
    those; given as a set, rail cannot tell which variables it defines, so it may define
    any name, and it may override what earlier sources define. Sources are looked up in
    the Kustomization's namespace (``namespace`` overrides; ``default`` without one).
    """
    spec = kustomization.get("spec")
    post_build = spec.get("postBuild") if isinstance(spec, Mapping) else None
    if not isinstance(post_build, Mapping):
        return Variables(post_build=False)
    metadata = kustomization.get("metadata")
    own_namespace = metadata.get("namespace") if isinstance(metadata, Mapping) else None
    where = namespace or (own_namespace if isinstance(own_namespace, str) and own_namespace else "default")
    loader = _Loader(where, config_maps, secrets)
    references = post_build.get("substituteFrom")
    if references is not None and not isinstance(references, list):
        loader.notes.append(Note(INVALID_REFERENCE, "spec.postBuild.substituteFrom must be a list"))
    for index, reference in enumerate(references if isinstance(references, list) else []):
        loader.load(index, reference)
    loader.inline(post_build.get("substitute"))
    for name in sorted(loader.defined):
        if not VARIABLE_NAME.fullmatch(name):
            loader.notes.append(_invalid_name(name))
    return Variables(
        defined=dict(loader.defined),
        opaque=tuple(loader.opaque),
        always=post_build.get("substituteStrategy") == "Always",
        origins=dict(loader.origins),
        notes=tuple(loader.notes),
    )


class _Loader:
    """Fills the variable table in Flux's order, noting what Flux would refuse."""

    def __init__(
        self,
        namespace: str,
        config_maps: Mapping[NamespacedName, Mapping[str, Any]],
        secrets: Collection[NamespacedName] | Mapping[NamespacedName, Collection[str] | None],
    ) -> None:
        self.namespace = namespace
        self.config_maps = config_maps
        self.secrets = secrets
        self.defined: dict[str, Value] = {}
        self.origins: dict[str, str] = {}
        self.opaque: list[str] = []
        self.notes: list[Note] = []

    def load(self, index: int, reference: Any) -> None:
        at = f"spec.postBuild.substituteFrom[{index}]"
        if not isinstance(reference, Mapping):
            self.notes.append(Note(INVALID_REFERENCE, f"{at} must be a mapping with kind and name"))
            return
        kind, name = reference.get("kind"), reference.get("name")
        if kind not in ("ConfigMap", "Secret") or not isinstance(name, str) or not name:
            self.notes.append(Note(INVALID_REFERENCE, f"{at} must name a ConfigMap or a Secret"))
            return
        source = f"{kind}/{self.namespace}/{name}"
        key = (self.namespace, name)
        if kind == "ConfigMap" and key in self.config_maps:
            self.config_map(source, self.config_maps[key])
        elif kind == "Secret" and key in self.secrets:
            keys = self.secrets[key] if isinstance(self.secrets, Mapping) else None
            self.secret(source, keys)
        elif reference.get("optional") is not True:
            self.notes.append(
                Note(
                    MISSING_SOURCE,
                    f"{source}, named in {at}, is not in the repository: Flux fails unless it exists "
                    "in the cluster, and rail cannot see its variables",
                )
            )
            self.open(source)

    def config_map(self, source: str, data: Mapping[str, Any]) -> None:
        for name, value in data.items():
            if isinstance(value, str):
                self.set(str(name), value.replace("\n", ""), source)
            else:
                self.notes.append(_not_a_string(str(name), source))

    def secret(self, source: str, keys: Collection[str] | None) -> None:
        if keys is None:
            self.notes.append(
                Note(
                    OPAQUE_SOURCE,
                    f"rail cannot list the variables {source} defines: a variable it may define "
                    "is unknown, not undefined",
                )
            )
            self.open(source)
            return
        for name in keys:
            self.set(str(name), UNKNOWN, source)

    def open(self, source: str) -> None:
        """A source rail cannot list: it may define, or redefine, any name."""
        self.opaque.append(source)
        for name in self.defined:
            self.defined[name] = UNKNOWN
            self.origins[name] += f" (or {source})"

    def inline(self, table: Any) -> None:
        if table is None:
            return
        if not isinstance(table, Mapping):
            self.notes.append(Note(INVALID_REFERENCE, "spec.postBuild.substitute must be a mapping"))
            return
        for name, value in table.items():
            if isinstance(value, str):
                self.set(str(name), value.replace("\n", ""), "spec.postBuild.substitute")
            else:
                self.notes.append(_not_a_string(str(name), "spec.postBuild.substitute"))

    def set(self, name: str, value: Value, source: str) -> None:
        self.defined[name] = value
        self.origins[name] = source


def _not_a_string(name: str, source: str) -> Note:
    return Note(
        NOT_A_STRING,
        f"variable {name} in {source} is not a string (quote it): Kubernetes refuses the object",
        name,
    )
