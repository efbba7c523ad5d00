"""A stack's interface: what other stacks may build on, and what it took from them.

``rail render`` writes it to ``<output>/interface.yaml``; a stack that imports
another reads the other's. It names releases, their layers and exports (service
addresses, ports, Secret *names* and keys), never a secret value: it is built from
specs and from the key names of SOPS files, never from what the keys hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, Problem
from ..memo import cached_property
from ..yamlio import Document

INTERFACE_VERSION = 1
INTERFACE_NAME = "interface.yaml"
FIELDS = ("host", "port", "address", "service", "namespace", "secretName")


@dataclass(frozen=True)
class Endpoint:
    """Where an export is reached: what ``${ref:release.export.FIELD}`` resolves to, in a
    stack or from an imported stack's interface."""

    service: str
    namespace: str
    host: str
    port: int
    secret_name: str = ""

    def field(self, name: str) -> str | int:
        fields: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "address": f"{self.host}:{self.port}",
            "service": self.service,
            "namespace": self.namespace,
            "secretName": self.secret_name,
        }
        return fields[name]


@dataclass(frozen=True)
class InterfaceExport:
    name: str
    service: str
    namespace: str
    host: str
    port: int
    secret_name: str = ""
    secret_keys: tuple[str, ...] = ()

    def field(self, name: str) -> str | int:
        return Endpoint(self.service, self.namespace, self.host, self.port, self.secret_name).field(name)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"service": self.service, "namespace": self.namespace, "host": self.host}
        data["port"] = self.port
        if self.secret_name:
            data["secretName"] = self.secret_name
            data["secretKeys"] = list(self.secret_keys)
        return data


@dataclass(frozen=True)
class InterfaceRelease:
    name: str
    layer: str
    service_class: str
    namespace: str
    chart: str
    version: str
    exports: tuple[InterfaceExport, ...] = ()

    def export(self, name: str) -> InterfaceExport | None:
        return next((item for item in self.exports if item.name == name), None)


@dataclass(frozen=True)
class InterfaceLayer:
    id: str
    name: str
    order: int


@dataclass(frozen=True)
class Consumed:
    """One reference into an imported stack, with the value it had when rendered."""

    reference: str  # "platform/postgresql-ha.database.address"
    value: str | int


LOCATION_KEYS = ("path", "git", "ref", "subdir")  # where another stack is: an import's keys


@dataclass(frozen=True)
class Moved:
    """A release moved out of the stack (``moved:`` in rail.yaml): where to, when, why."""

    release: str
    to: str
    reason: str
    date: str = ""
    name: str = ""  # its name there, if it changed
    # Where the destination stack is, as an import names one ((key, value) pairs of
    # path, or git, ref and subdir): what lets ``rail diff`` show the move as one change.
    location: tuple[tuple[str, str], ...] = ()

    @property
    def new_name(self) -> str:
        return self.name or self.release

    def to_data(self) -> dict[str, str]:
        data = {"to": self.to, "reason": self.reason}
        if self.date:
            data["date"] = self.date
        if self.name:
            data["as"] = self.name
        data.update(self.location)
        return data

    @classmethod
    def from_data(cls, release: str, data: Mapping[str, Any]) -> Moved:
        return cls(
            release=release,
            to=str(data["to"]),
            reason=str(data["reason"]),
            date=str(data.get("date", "")),
            name=str(data.get("as", "")),
            location=tuple((key, str(data[key])) for key in LOCATION_KEYS if key in data),
        )


@dataclass(frozen=True)
class FluxInterface:
    """Where the stack's Flux Kustomizations are: what an importing stack's wait for."""

    namespace: str
    kustomizations: tuple[str, ...]  # lowest layer first


@dataclass(frozen=True)
class Interface:
    stack: str
    layers: tuple[InterfaceLayer, ...]
    releases: tuple[InterfaceRelease, ...]
    flux: FluxInterface | None = None
    moved: tuple[Moved, ...] = ()
    # import name -> (how it was imported, as written in rail.yaml, and the references used)
    imports: tuple[tuple[str, Mapping[str, str], tuple[Consumed, ...]], ...] = ()

    def release(self, name: str) -> InterfaceRelease | None:
        return self._releases_by_name.get(name)

    @cached_property
    def _releases_by_name(self) -> dict[str, InterfaceRelease]:
        # export-changed asks for every release by name: a scan each would be quadratic.
        by_name: dict[str, InterfaceRelease] = {}
        for item in self.releases:
            by_name.setdefault(item.name, item)  # the first of a name, as a scan finds it
        return by_name

    def layer(self, layer_id: str) -> InterfaceLayer | None:
        return next((item for item in self.layers if item.id == layer_id), None)

    def moved_release(self, name: str) -> Moved | None:
        return next((item for item in self.moved if item.release == name), None)

    def consumed(self, import_name: str) -> tuple[Consumed, ...]:
        return next((uses for name, _, uses in self.imports if name == import_name), ())

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "interface": INTERFACE_VERSION,
            "stack": self.stack,
            "layers": [{"id": layer.id, "name": layer.name} for layer in self.layers],
            "releases": {
                release.name: {
                    "layer": release.layer,
                    "class": release.service_class,
                    "namespace": release.namespace,
                    "chart": {"name": release.chart, "version": release.version},
                    "exports": {export.name: export.to_data() for export in release.exports},
                }
                for release in self.releases
            },
        }
        if self.flux is not None:
            data["flux"] = {"namespace": self.flux.namespace, "kustomizations": list(self.flux.kustomizations)}
        if self.moved:
            data["moved"] = {item.release: item.to_data() for item in self.moved}
        if self.imports:
            data["imports"] = {
                name: {**dict(source), "uses": {item.reference: item.value for item in uses}}
                for name, source, uses in self.imports
            }
        return data

    @classmethod
    def from_document(cls, document: Document) -> Interface:
        """Read an interface file; a file of another shape is an input error at its line."""
        data = document.data
        if not isinstance(data, dict) or data.get("interface") != INTERFACE_VERSION:
            raise InputError(
                document.problem(
                    ("interface",),
                    f"not a rail interface file (version {INTERFACE_VERSION})",
                    "run `rail render` in the imported stack with this rail version and commit the result",
                )
            )
        try:
            return _parse(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError(
                Problem(
                    path=document.path,
                    message="interface file is malformed",
                    hint="it is generated: run `rail render` in the imported stack, never edit it",
                )
            ) from None


def _parse(data: Mapping[str, Any]) -> Interface:
    layers = tuple(
        InterfaceLayer(id=str(item["id"]), name=str(item["name"]), order=index)
        for index, item in enumerate(data["layers"])
    )
    releases = []
    for name, item in sorted(data["releases"].items()):
        exports = tuple(
            InterfaceExport(
                name=str(export_name),
                service=str(export["service"]),
                namespace=str(export["namespace"]),
                host=str(export["host"]),
                port=int(export["port"]),
                secret_name=str(export.get("secretName", "")),
                secret_keys=tuple(str(key) for key in export.get("secretKeys", ())),
            )
            for export_name, export in sorted((item.get("exports") or {}).items())
        )
        releases.append(
            InterfaceRelease(
                name=str(name),
                layer=str(item["layer"]),
                service_class=str(item["class"]),
                namespace=str(item["namespace"]),
                chart=str(item["chart"]["name"]),
                version=str(item["chart"]["version"]),
                exports=exports,
            )
        )
    imports = tuple(
        (
            str(name),
            {str(key): str(value) for key, value in item.items() if key != "uses"},
            tuple(Consumed(str(ref), value) for ref, value in sorted((item.get("uses") or {}).items())),
        )
        for name, item in sorted((data.get("imports") or {}).items())
    )
    flux_data = data.get("flux")
    flux = (
        FluxInterface(str(flux_data["namespace"]), tuple(str(name) for name in flux_data["kustomizations"]))
        if flux_data
        else None
    )
    moved = tuple(Moved.from_data(str(name), item) for name, item in sorted((data.get("moved") or {}).items()))
    return Interface(
        stack=str(data["stack"]), layers=layers, releases=tuple(releases), flux=flux, imports=imports, moved=moved
    )


@dataclass(frozen=True)
class ImportedStack:
    """An imported stack's interface, and where it came from (for findings that name both)."""

    name: str  # the import's name in rail.yaml: the prefix of references into it
    interface: Interface
    where: str  # the interface file, as a reader finds it: "../platform/rendered/interface.yaml"
    source: Mapping[str, str]  # path, or git and ref, as written in rail.yaml
    config_path: str  # the importing rail.yaml
    line: int | None  # of the import entry in it
    ref_line: int | None = None
    commit: str = ""
    pinned: bool = True  # a tag or a commit; a branch moves

    def describe(self) -> str:
        return f"stack '{self.interface.stack}' ({self.where})"
