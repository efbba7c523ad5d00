"""Charts kept inside the repository: chart folders and packaged ``.tgz`` charts.

A chart folder holds ``Chart.yaml`` (and usually ``values.yaml``); a packaged
chart is the same two files under one top folder of a gzipped tar. Packages are
read in memory, never extracted: member names that would leave the package are
ignored and absurd sizes refused, so a hostile archive costs little. Anything
unreadable becomes a note, never an error: these files are not rail's input,
only facts about charts.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...catalog import DEPENDENCY_KINDS
from ...errors import InputError
from ...yamlio import Document, load_documents

CHART_FILE = "Chart.yaml"
VALUES_FILE = "values.yaml"
REQUIREMENTS_FILE = "requirements.yaml"  # apiVersion v1 charts list dependencies here
PACKAGE_SUFFIX = ".tgz"
CHART_FILES = (CHART_FILE, VALUES_FILE, REQUIREMENTS_FILE)
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "rendered"})  # and every dot folder

MAX_FILE_BYTES = 2 * 1024 * 1024  # a Chart.yaml or values.yaml larger than this is not one
MAX_PACKAGE_BYTES = 20 * 1024 * 1024  # a packaged chart on disk
MAX_PACKAGE_SCAN_BYTES = 64 * 1024 * 1024  # how far into the uncompressed tar rail reads
MAX_PACKAGE_MEMBERS = 5000


@dataclass(frozen=True)
class LocalDependency:
    name: str  # the alias if set: Helm reads its values and condition under it
    chart: str  # the dependency's own chart name
    kind: str  # from DEPENDENCY_KINDS, else "other"
    condition: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalChart:
    name: str
    version: str | None
    path: str  # repo-relative folder, or the .tgz file
    dependencies: tuple[LocalDependency, ...]
    values: Mapping[str, Any]
    values_document: Document | None = None  # for locations; None inside a package

    @property
    def packaged(self) -> bool:
        return self.path.endswith(PACKAGE_SUFFIX)


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
    texts: dict[str, str] = {}
    top: str | None = None
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            for _ in range(MAX_PACKAGE_MEMBERS):
                member = archive.next()
                if member is None:
                    break
                if member.offset_data + member.size > MAX_PACKAGE_SCAN_BYTES:
                    # Reading on would decompress it all: stop before a bomb goes off.
                    notes.append(f"{display}: members too large: packaged chart read only in part")
                    break
                parts = member.name.split("/")
                if member.name.startswith("/") or "\\" in member.name or ".." in parts or len(parts) != 2:
                    continue  # a file of a sub folder, or a name that would leave the package
                if top is None:
                    top = parts[0]
                if parts[0] != top or parts[1] not in CHART_FILES:
                    continue
                if not member.isfile() or member.size > MAX_FILE_BYTES:
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    texts[parts[1]] = handle.read(MAX_FILE_BYTES).decode("utf-8")
                if texts.keys() >= set(CHART_FILES):
                    break
    except (tarfile.TarError, OSError, EOFError, zlib.error, UnicodeDecodeError):
        notes.append(f"{display}: not a readable packaged chart (gzipped tar): not read")
        return None
    if CHART_FILE not in texts:
        return None
    return _chart(display, texts, lambda name: f"{display}#{top}/{name}", notes, packaged=True)


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
    if not dependencies and REQUIREMENTS_FILE in texts:
        requirements = _parse(texts[REQUIREMENTS_FILE], display(REQUIREMENTS_FILE), notes)
        if requirements is not None and isinstance(requirements.data, dict):
            dependencies = requirements.data.get("dependencies")
    values_document = _parse(texts[VALUES_FILE], display(VALUES_FILE), notes) if VALUES_FILE in texts else None
    values = values_document.data if values_document is not None and isinstance(values_document.data, dict) else {}
    return LocalChart(
        name=name,
        version=str(version).strip() if version is not None else None,
        path=path,
        dependencies=tuple(_dependencies(dependencies)),
        values=values,
        values_document=None if packaged else values_document,
    )


def _dependencies(items: Any) -> list[LocalDependency]:
    result = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        chart = item["name"]
        alias = item.get("alias")
        condition = item.get("condition")
        tags = item.get("tags")
        result.append(
            LocalDependency(
                name=alias if isinstance(alias, str) and alias else chart,
                chart=chart,
                kind=DEPENDENCY_KINDS.get(chart, "other"),
                condition=condition if isinstance(condition, str) else None,
                tags=tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else (),
            )
        )
    return result
