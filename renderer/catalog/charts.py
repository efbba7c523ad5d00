"""Facts about well-known charts: what they are, which data services they bundle
as subcharts in which versions, and the defaults rail's rules need.

The facts live in ``charts.yaml`` beside this module, checked against
``charts.schema.json``; rail reads them from ``charts.json``, which
scripts/gen_chart_catalog.py generates from it (a test keeps the two equal), once,
on first use (importing this module reads nothing). A chart that is not there can still be linted from its folder or
packaged ``.tgz`` inside the repository.

File format: one list ``charts``, one entry per chart (and per publisher, where
two projects publish charts of the same name):

- ``name``: the chart's name; ``class``: rail's service class of what it installs.
- ``repositories``: chart repository URL prefixes (``https://...``) and OCI prefixes
  (``oci://registry/path``) that publish *this* chart. A lookup with a repository
  takes the entry that claims it; a lookup without one, or with a repository no
  entry claims (a mirror, a proxy), takes the first entry of that name in the file.
- ``sources``: where the facts were read: the chart repository, OCI references,
  the source code and commit or tag, the chart versions read, and the files and
  keys (``Chart.yaml`` dependencies, ``values.yaml`` keys). ``versions: [every]``
  marks an entry holding only its class, which no chart version changes.
- ``dependencies``: a list of ``{versions: <range>, charts: [...]}``; the first
  range that holds a chart version gives its subcharts (``name`` is the alias when
  Chart.yaml sets one; ``condition`` null means none; ``enabled`` is the default of
  the condition in values.yaml, null where the subchart is known but its default
  was not read).
- ``bundled``: components the chart deploys from its own templates, switched on by
  ``key: value`` (Harbor's ``database.type: internal``), optionally only in the
  chart ``versions`` of a range.
- ``fix``: kind -> the values key that points the chart at an external service.
- ``defaults``: dotted values key -> the chart's default, for the keys rail's rules read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..schemacheck import Validator
from ..yamlio import Document, format_key_path, load_document
from .versions import in_range

_HERE = Path(__file__).resolve().parent
CATALOG_PATH = _HERE / "charts.yaml"
COMPILED_PATH = _HERE / "charts.json"  # generated from CATALOG_PATH: scripts/gen_chart_catalog.py
SCHEMA_PATH = _HERE / "charts.schema.json"

# What a bundled dependency is, by the chart it pulls in: used for local charts too.
DEPENDENCY_KINDS: Mapping[str, str] = {
    "postgresql": "database",
    "postgresql-ha": "database",
    "mysql": "database",
    "mariadb": "database",
    "mariadb-galera": "database",
    "mongodb": "database",
    "clickhouse": "database",
    "cassandra": "database",
    "cockroachdb": "database",
    "redis": "cache",
    "redis-cluster": "cache",
    "valkey": "cache",
    "valkey-cluster": "cache",
    "memcached": "cache",
    "keydb": "cache",
    "dragonfly": "cache",
    "rabbitmq": "broker",
    "kafka": "broker",
    "nats": "broker",
    "elasticsearch": "search",
    "opensearch": "search",
    "meilisearch": "search",
    "minio": "storage",
}
COUPLING_KINDS = frozenset({"database", "cache", "broker", "search"})


@dataclass(frozen=True)
class Dependency:
    """One Chart.yaml dependency. ``name`` is the alias if the chart sets one:
    Helm reads its values (and its ``condition``) under that name."""

    name: str
    kind: str
    condition: str | None = None
    tags: tuple[str, ...] = ()
    # The condition's default in values.yaml; None: the subchart is known to be
    # there but its default was not read (rail then reports it only when the
    # release's own values turn it on, never on a guessed default).
    default_enabled: bool | None = True


@dataclass(frozen=True)
class Bundled:
    """A component the chart deploys from its own templates while ``key`` is ``value``
    (Harbor's ``database.type: internal``), in the chart versions ``versions`` holds
    (empty: every version)."""

    name: str
    kind: str
    key: str
    value: str | bool
    versions: str = ""

    def in_version(self, version: str | None) -> bool:
        return not self.versions or (version is not None and in_range(version, self.versions))


@dataclass(frozen=True)
class ChartFacts:
    name: str
    service_class: str
    # (version range, dependencies); the first range that matches wins.
    dependencies: tuple[tuple[str, tuple[Dependency, ...]], ...] = ()
    # Components a chart deploys from its own templates, switched by a value
    # (Harbor's database.type: internal): coupling as much as a subchart is.
    bundled: tuple[Bundled, ...] = ()
    fix: Mapping[str, str] = field(default_factory=dict)  # kind -> values key for the external service
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # URL / OCI prefixes of the publisher; empty: any publisher of this name.
    repositories: tuple[str, ...] = ()

    def dependencies_for(self, version: str | None) -> tuple[Dependency, ...] | None:
        """The dependencies of ``version``, or None when no known range covers it."""
        for version_range, dependencies in self.dependencies:
            if version is not None and in_range(version, version_range):
                return dependencies
        return None

    def all_dependency_names(self) -> set[str]:
        return {dep.name for _, deps in self.dependencies for dep in deps}

    def bundled_for(self, version: str | None) -> tuple[Bundled, ...]:
        return tuple(bundled for bundled in self.bundled if bundled.in_version(version))

    def published_at(self, repository: str) -> bool:
        """Whether ``repository`` (a chart repository URL or OCI reference) is one of ours."""
        return any(_under(repository, prefix) for prefix in self.repositories)


def _normal(url: str) -> str:
    # Scheme and host are case-insensitive, and Flux accepts a trailing slash or not.
    scheme, sep, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}".rstrip("/")


def _under(repository: str, prefix: str) -> bool:
    """``oci://r/bitnamicharts/valkey`` is under ``oci://r/bitnamicharts``; ``.../bitnamichartsx`` is not."""
    repository, prefix = _normal(repository), _normal(prefix)
    return repository == prefix or repository.startswith(prefix + "/")


# --------------------------------------------------------------------------- reading


def _dependency(item: Mapping[str, Any]) -> Dependency:
    return Dependency(
        name=item["name"],
        kind=item["kind"],
        condition=item["condition"],
        tags=tuple(item.get("tags", ())),
        default_enabled=item["enabled"],
    )


def _facts(entry: Mapping[str, Any]) -> ChartFacts:
    """One entry, already valid against the schema -> its facts."""
    return ChartFacts(
        name=entry["name"],
        service_class=entry["class"],
        dependencies=tuple(
            (block["versions"], tuple(_dependency(item) for item in block["charts"]))
            for block in entry.get("dependencies", ())
        ),
        bundled=tuple(
            Bundled(b["name"], b["kind"], b["key"], b["value"], b.get("versions", "")) for b in entry.get("bundled", ())
        ),
        fix=dict(entry.get("fix", {})),
        defaults=dict(entry.get("defaults", {})),
        repositories=tuple(entry.get("repositories", ())),
    )


@cache
def catalog_schema() -> Mapping[str, Any]:
    schema: Mapping[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _validator() -> Validator:
    schema = catalog_schema()

    def full() -> Any:
        # Only built when the fast check says "invalid": jsonschema explains why.
        from jsonschema import Draft202012Validator

        return Draft202012Validator(schema)

    return Validator(schema, full)


def _schema_problems(document: Document) -> list[Problem]:
    problems = []
    for error in _validator().iter_errors(document.data):
        key_path = tuple(error.absolute_path)
        line, column = document.locate(key_path)
        problems.append(
            Problem(
                path=document.path,
                line=line,
                column=column,
                message=f"invalid chart catalog: {error.message}",
                key_path=format_key_path(key_path),
                hint=f"see {SCHEMA_PATH.name} ({error.validator})",
            )
        )
    return problems


def load_catalog(path: Path) -> tuple[ChartFacts, ...]:
    """Every entry of a catalog file, in file order; ``InputError`` if it breaks the schema."""
    document = load_document(path.read_text(encoding="utf-8"), str(path))
    problems = _schema_problems(document)
    if problems:
        raise InputError(problems)
    return tuple(_facts(entry) for entry in document.data["charts"])


def compiled_text(path: Path) -> str:
    """What ``charts.json`` holds for the catalog at ``path``: its entries without their
    citations, keys sorted, one entry per line (scripts/gen_chart_catalog.py writes it)."""
    document = load_document(path.read_text(encoding="utf-8"), str(path))
    problems = _schema_problems(document)
    if problems:
        raise InputError(problems)
    entries = [{key: value for key, value in entry.items() if key != "sources"} for entry in document.data["charts"]]
    lines = ",\n".join(json.dumps(entry, sort_keys=True, ensure_ascii=False) for entry in entries)
    return '{"charts": [\n' + lines + "\n]}\n"


@cache
def shipped() -> tuple[ChartFacts, ...]:
    """The charts rail knows, read once from ``charts.json`` (generated from
    ``charts.yaml`` and checked against it by a test: a JSON load costs a pre-commit
    lint a millisecond, the YAML's parse tens of them)."""
    data = json.loads(COMPILED_PATH.read_text(encoding="utf-8"))
    return tuple(_facts(entry) for entry in data["charts"])


@cache
def _first_by_name() -> Mapping[str, ChartFacts]:
    first: dict[str, ChartFacts] = {}
    for facts in shipped():
        first.setdefault(facts.name, facts)
    return first


class _Charts(Mapping[str, ChartFacts]):
    """Name -> the first entry of that name; reads ``charts.yaml`` on first use only,
    so importing the catalog stays cheap for commands that never ask."""

    def __getitem__(self, name: str) -> ChartFacts:
        return _first_by_name()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_first_by_name())

    def __len__(self) -> int:
        return len(_first_by_name())


CHARTS: Mapping[str, ChartFacts] = _Charts()


# The charts of rail.yaml (``charts:``) for the run at hand: they come before the shipped ones.
_STACK_CHARTS: ContextVar[tuple[ChartFacts, ...]] = ContextVar("rail_stack_charts", default=())


@contextmanager
def stack_charts(entries: Iterable[Mapping[str, Any]]) -> Iterator[None]:
    """Inside, the ``charts:`` entries of a stack's rail.yaml (already checked against
    the schema's ``facts``) answer :func:`chart_facts` before the catalog does."""
    token = _STACK_CHARTS.set(tuple(_facts(entry) for entry in entries))
    try:
        yield
    finally:
        _STACK_CHARTS.reset(token)


def chart_entries(name: str) -> tuple[ChartFacts, ...]:
    """Every entry named ``name``, one per publisher that differs: the stack's first."""
    return tuple(facts for facts in (*_STACK_CHARTS.get(), *shipped()) if facts.name == name)


def chart_facts(name: str | None, repository: str | None = None) -> ChartFacts | None:
    """The facts of chart ``name``; with ``repository``, of the entry published there.
    An entry of the stack's rail.yaml that names no repository answers for any."""
    if not name:
        return None
    own = [facts for facts in _STACK_CHARTS.get() if facts.name == name]
    mine = _published(own, repository) or next((f for f in own if not f.repositories or not repository), None)
    if mine is not None:
        return mine
    return _published(_shipped_by_name().get(name, ()), repository) or CHARTS.get(name)


@cache
def _shipped_by_name() -> Mapping[str, tuple[ChartFacts, ...]]:
    """The shipped entries of each chart, in the catalog's order: every release asks."""
    named: dict[str, list[ChartFacts]] = {}
    for facts in shipped():
        named.setdefault(facts.name, []).append(facts)
    return {name: tuple(entries) for name, entries in named.items()}


def _published(entries: Iterable[ChartFacts], repository: str | None) -> ChartFacts | None:
    return next((facts for facts in entries if repository and facts.published_at(repository)), None)
