"""Charts kept inside the repository: chart folders and packaged ``.tgz`` charts.

A chart folder holds ``Chart.yaml`` (and usually ``values.yaml``, and
``Chart.lock`` with the versions ``helm dependency update`` resolved the
dependency ranges to); a packaged chart is the same files under one top folder
of a gzipped tar, with its packaged dependencies in ``charts/`` (read one level
deep). A chart folder's own ``charts/`` copies are charts of their own here,
which :meth:`LocalCharts.copies` finds again for their parent. Packages are
read in memory, never extracted: member names that would leave the package are
ignored and absurd sizes refused, so a hostile archive costs little. Anything
unreadable becomes a note, never an error: these files are not rail's input,
only facts about charts.
"""

from __future__ import annotations

import io
import os
import posixpath
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from ...catalog import DEPENDENCY_KINDS
from ...catalog.versions import is_exact
from ...errors import InputError
from ...yamlio import Document, load_documents

CHART_FILE = "Chart.yaml"
VALUES_FILE = "values.yaml"
REQUIREMENTS_FILE = "requirements.yaml"  # apiVersion v1 charts list dependencies here
LOCK_FILE = "Chart.lock"  # the versions `helm dependency update` resolved the ranges to
REQUIREMENTS_LOCK_FILE = "requirements.lock"
PACKAGE_SUFFIX = ".tgz"
CHART_FILES = (CHART_FILE, VALUES_FILE, REQUIREMENTS_FILE, LOCK_FILE, REQUIREMENTS_LOCK_FILE)
SUBCHARTS_DIR = "charts"  # a chart's own copies of its dependencies
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "rendered"})  # and every dot folder

MAX_FILE_BYTES = 2 * 1024 * 1024  # a Chart.yaml or values.yaml larger than this is not one
MAX_PACKAGE_BYTES = 20 * 1024 * 1024  # a packaged chart on disk
MAX_PACKAGE_SCAN_BYTES = 64 * 1024 * 1024  # how far into the uncompressed tar rail reads
MAX_PACKAGE_MEMBERS = 5000
MAX_NESTED_PACKAGES = 20  # packaged dependencies read inside one packaged chart
MAX_NESTED_SCAN_BYTES = 8 * 1024 * 1024  # how far into each of those rail reads


@dataclass(frozen=True)
class LocalDependency:
    name: str  # the alias if set: Helm reads its values and condition under it
    chart: str  # the dependency's own chart name
    kind: str  # from DEPENDENCY_KINDS, else "other"
    condition: str | None = None
    tags: tuple[str, ...] = ()
    version: str | None = None  # as Chart.yaml writes it: a version or a range
    repository: str | None = None
    locked: str | None = None  # the version Chart.lock (requirements.lock) pins it to
    index: int = 0  # its place in the ``dependencies`` list, for locations
    import_values: bool = False  # copies values into the parent: changes no enabling

    @property
    def pinned(self) -> str | None:
        """The one version Helm installs: the locked one, else an exact Chart.yaml version."""
        if self.locked:
            return self.locked
        return self.version if self.version is not None and is_exact(self.version) else None


@dataclass(frozen=True)
class LocalChart:
    name: str
    version: str | None
    path: str  # repo-relative folder, or the .tgz file
    dependencies: tuple[LocalDependency, ...]
    values: Mapping[str, Any]
    values_document: Document | None = None  # for locations; None inside a package
    # The file listing the dependencies (Chart.yaml or requirements.yaml), for locations.
    dependencies_document: Document | None = None
    # Dependencies packaged inside a packaged chart (its charts/ folder); a chart folder's
    # copies are charts of their own in :class:`LocalCharts` (see ``copies``).
    embedded: tuple[LocalChart, ...] = ()

    @property
    def packaged(self) -> bool:
        return self.path.endswith(PACKAGE_SUFFIX)

    def dependency_location(self, dependency: LocalDependency) -> tuple[str, int | None, int | None]:
        """Where ``dependency`` is listed: its Chart.yaml entry, or the package itself."""
        if self.dependencies_document is None:
            return (self.path.split("#", 1)[0], None, None)
        return self.dependencies_document.where(("dependencies", dependency.index))


@dataclass
class LocalCharts:
    by_path: dict[str, LocalChart] = field(default_factory=dict)
    by_name: dict[str, list[LocalChart]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, chart: LocalChart) -> None:
        self.by_path[chart.path] = chart
        self.by_name.setdefault(chart.name, []).append(chart)

    def at(self, path: str) -> LocalChart | None:
        """The chart at a repo-relative path (``./charts/app``, ``charts/app-1.0.0.tgz``).

        A path is relative to its source's root, which is the lint root or, when a
        repository is linted from outside, a folder below it: then the one chart
        whose path ends with it.
        """
        normalized = posixpath.normpath(path.strip()).rstrip("/")
        if normalized.startswith(("/", "../")) or normalized in ("..", "."):
            return self.by_path.get(normalized) if normalized == "." else None
        found = self.by_path.get(normalized)
        if found is None:
            below = [chart for key, chart in self.by_path.items() if key.endswith("/" + normalized)]
            found = below[0] if len(below) == 1 else None
        return found

    def named(self, name: str | None, version: str | None) -> LocalChart | None:
        """The first chart found called ``name`` at exactly ``version``."""
        if not name or not version:
            return None
        return next((c for c in self.by_name.get(name, []) if c.version == version.strip()), None)

    def copies(self, chart: LocalChart) -> tuple[LocalChart, ...]:
        """The dependency charts kept in ``chart``'s own ``charts/`` folder (or package)."""
        if chart.packaged:
            return chart.embedded
        folder = SUBCHARTS_DIR if chart.path == "." else f"{chart.path}/{SUBCHARTS_DIR}"
        return tuple(c for path, c in self.by_path.items() if posixpath.dirname(path) == folder)

    def inside_chart(self, chart: LocalChart) -> bool:
        """Whether ``chart`` is a copy in another chart folder's ``charts/``: that chart deploys it."""
        parent = posixpath.dirname(chart.path)
        if posixpath.basename(parent) != SUBCHARTS_DIR:
            return False
        owner = posixpath.dirname(parent) or "."
        return owner in self.by_path and not self.by_path[owner].packaged

    def referenced(self, chart: LocalChart, dependency: LocalDependency) -> LocalChart | None:
        """A ``file://`` dependency: the chart folder it names, relative to ``chart``'s folder."""
        repository = (dependency.repository or "").strip()
        if not repository.startswith("file://") or chart.packaged:
            return None
        relative = repository[len("file://") :]
        base = "" if chart.path == "." else chart.path
        target = posixpath.normpath(posixpath.join(base, relative)) if base else posixpath.normpath(relative)
        return self.by_path.get(target)


def discover(root: Path, skip: Iterable[str] = ()) -> LocalCharts:
    """Every chart folder and packaged chart under ``root``, in path order.

    ``skip``: repo-relative folders not to enter (the stack's output folder).
    """
    charts = LocalCharts()
    skipped = {posixpath.normpath(path.strip("/")) for path in skip if path.strip("/")}
    folders: list[str] = []
    packages: list[str] = []
    _scan(os.fspath(root), "", skipped, folders, packages)
    # A walk's order, whatever order the file system listed them in: a folder's own
    # chart, then the packages in it, then its subfolders by name (the first found wins).
    found = [(tuple(f.split("/")) if f else (), f, False) for f in folders]
    for package in packages:
        folder, _, name = package.rpartition("/")
        found.append(((*(folder.split("/") if folder else ()), "\0" + name), package, True))
    for _, relative, packaged in sorted(found):
        if packaged:
            _add(charts, _read_package(root / relative, relative, charts.notes))
        else:
            _add(charts, _read_folder(root / relative if relative else root, relative, charts.notes))
    return charts


def _scan(folder: str, relative: str, skipped: set[str], folders: list[str], packages: list[str]) -> None:
    """Chart folders and packaged charts below ``folder``: plain ``scandir``, since this
    visits every folder of the repository on each lint run."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    prefix = f"{relative}/" if relative else ""
    for entry in entries:
        name = entry.name
        if entry.is_dir(follow_symlinks=False):
            if name[0] != "." and name not in SKIPPED_DIRS and prefix + name not in skipped:
                _scan(entry.path, prefix + name, skipped, folders, packages)
        elif name == CHART_FILE:
            folders.append(relative)
        elif name.endswith(PACKAGE_SUFFIX) and not entry.is_symlink():
            packages.append(prefix + name)


def _add(charts: LocalCharts, chart: LocalChart | None) -> None:
    if chart is not None:
        charts.add(chart)


def _parse(text: str, display: str, notes: list[str]) -> Document | None:
    try:
        documents = [d for d in load_documents(text, display, strict_tags=False) if d.data is not None]
    except InputError as exc:
        problem = exc.problems[0] if exc.problems else None
        notes.append(f"{display}: not read as a chart file ({problem.message if problem else 'invalid YAML'})")
        return None
    return documents[0] if documents else Document(path=display, data=None)


def _read_folder(folder: Path, relative: str, notes: list[str]) -> LocalChart | None:
    texts: dict[str, str] = {}
    for name in CHART_FILES:
        path = folder / name
        display = f"{relative}/{name}" if relative else name
        if not path.is_file() or path.is_symlink():
            continue
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                notes.append(f"{display}: {size} bytes, too large for a chart file: chart not read")
                return None
            texts[name] = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            notes.append(f"{display}: unreadable: chart not read")
            return None
    if CHART_FILE not in texts:
        return None
    return _chart(relative or ".", texts, lambda name: f"{relative}/{name}" if relative else name, notes)


def _read_package(path: Path, display: str, notes: list[str]) -> LocalChart | None:
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size > MAX_PACKAGE_BYTES:
        notes.append(f"{display}: {size} bytes, too large for a packaged chart: not read")
        return None
    try:
        with path.open("rb") as handle:
            return _read_archive(handle, display, notes, nested=True)
    except OSError:
        notes.append(f"{display}: not a readable packaged chart (gzipped tar): not read")
        return None


def _read_archive(handle: IO[bytes], display: str, notes: list[str], *, nested: bool) -> LocalChart | None:
    """A packaged chart from an open file; ``nested``: also read the packaged dependencies
    in its ``charts/`` folder (one level: a package inside those is not opened)."""
    import tarfile  # only a repository with packaged charts pays its import

    texts: dict[str, str] = {}
    packages: list[tuple[str, bytes]] = []
    top: str | None = None
    try:
        with tarfile.open(fileobj=handle, mode="r:gz") as archive:
            for _ in range(MAX_PACKAGE_MEMBERS):
                member = archive.next()
                if member is None:
                    break
                if member.offset_data + member.size > (MAX_PACKAGE_SCAN_BYTES if nested else MAX_NESTED_SCAN_BYTES):
                    # Reading on would decompress it all: stop before a bomb goes off.
                    notes.append(f"{display}: members too large: packaged chart read only in part")
                    break
                parts = member.name.split("/")
                if member.name.startswith("/") or "\\" in member.name or ".." in parts:
                    continue  # a name that would leave the package
                if top is None:
                    top = parts[0]
                if parts[0] != top or not member.isfile():
                    continue
                if len(parts) == 2 and parts[1] in CHART_FILES and member.size <= MAX_FILE_BYTES:
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        texts[parts[1]] = extracted.read(MAX_FILE_BYTES).decode("utf-8")
                elif (
                    nested
                    and len(parts) == 3
                    and parts[1] == SUBCHARTS_DIR
                    and parts[2].endswith(PACKAGE_SUFFIX)
                    and member.size <= MAX_PACKAGE_BYTES
                    and len(packages) < MAX_NESTED_PACKAGES
                ):
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        packages.append((parts[2], extracted.read(MAX_PACKAGE_BYTES)))
                elif not nested and texts.keys() >= {CHART_FILE, VALUES_FILE}:
                    break
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError):
        notes.append(f"{display}: not a readable packaged chart (gzipped tar): not read")
        return None
    if CHART_FILE not in texts:
        return None
    embedded = []
    for name, data in packages:
        inner = _read_archive(io.BytesIO(data), f"{display}#{top}/{SUBCHARTS_DIR}/{name}", notes, nested=False)
        if inner is not None:
            embedded.append(inner)
    chart = _chart(display, texts, lambda name: f"{display}#{top}/{name}", notes, packaged=True)
    return replace(chart, embedded=tuple(embedded)) if chart is not None else None


def _chart(
    path: str,
    texts: Mapping[str, str],
    display: Callable[[str], str],
    notes: list[str],
    *,
    packaged: bool = False,
) -> LocalChart | None:
    chart_document = _parse(texts[CHART_FILE], display(CHART_FILE), notes)
    if chart_document is None or not isinstance(chart_document.data, dict):
        return None
    metadata = chart_document.data
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        return None
    version = metadata.get("version")
    dependencies = metadata.get("dependencies")
    requirements = None
    if not dependencies and REQUIREMENTS_FILE in texts:
        requirements = _parse(texts[REQUIREMENTS_FILE], display(REQUIREMENTS_FILE), notes)
        if requirements is not None and isinstance(requirements.data, dict):
            dependencies = requirements.data.get("dependencies")
    dependencies_document = requirements if requirements is not None else chart_document
    values_document = _parse(texts[VALUES_FILE], display(VALUES_FILE), notes) if VALUES_FILE in texts else None
    values = values_document.data if values_document is not None and isinstance(values_document.data, dict) else {}
    lock_name = LOCK_FILE if LOCK_FILE in texts else REQUIREMENTS_LOCK_FILE
    lock = _parse(texts[lock_name], display(lock_name), notes) if lock_name in texts else None
    locked = lock.data.get("dependencies") if lock is not None and isinstance(lock.data, dict) else None
    return LocalChart(
        name=name,
        version=str(version).strip() if version is not None else None,
        path=path,
        dependencies=tuple(_dependencies(dependencies, locked)),
        values=values,
        values_document=None if packaged else values_document,
        dependencies_document=None if packaged else dependencies_document,
    )


def _dependencies(items: Any, locked: Any = None) -> list[LocalDependency]:
    result = []
    locks = _locks(locked)
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        chart = item["name"]
        alias = item.get("alias")
        condition = item.get("condition")
        tags = item.get("tags")
        version = item.get("version")
        repository = item.get("repository")
        result.append(
            LocalDependency(
                name=alias if isinstance(alias, str) and alias else chart,
                chart=chart,
                kind=DEPENDENCY_KINDS.get(chart, "other"),
                condition=condition if isinstance(condition, str) else None,
                tags=tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else (),
                version=str(version).strip() if isinstance(version, (str, int, float)) else None,
                repository=repository if isinstance(repository, str) else None,
                locked=_locked(locks, chart, repository if isinstance(repository, str) else None),
                index=index,
                import_values=bool(item.get("import-values")),
            )
        )
    return result


def _locks(items: Any) -> list[tuple[str, str | None, str]]:
    """Chart.lock's ``dependencies``: (name, repository, version), in file order."""
    result = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item.get("version") is not None:
            repository = item.get("repository")
            result.append((item["name"], repository if isinstance(repository, str) else None, str(item["version"])))
    return result


def _locked(locks: list[tuple[str, str | None, str]], chart: str, repository: str | None) -> str | None:
    """The locked version of dependency ``chart`` (by name, and by repository when both say one)."""
    for name, locked_repository, version in locks:
        if name != chart:
            continue
        if repository and locked_repository and _bare(repository) != _bare(locked_repository):
            continue
        return version.strip()
    return None


def _bare(url: str) -> str:
    return url.strip().rstrip("/").lower()
