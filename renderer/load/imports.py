"""Imports: the stacks a stack builds on, read from their committed interface files.

An import is a sibling folder (``path``) or a git repository at a pinned ``ref``
(``git``, read from git objects with ``git cat-file``: nothing is checked out, no
working tree is touched). Either way rail reads two files of the imported stack:
its ``rail.yaml`` (for the output folder) and ``<output>/interface.yaml``. A bad
import (missing folder, unknown ref, no interface file, a path that leaves the
imported repository) is an input error at the import's line in ``rail.yaml``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem, ProblemCollector
from ..model.interface import INTERFACE_NAME, ImportedStack, Interface, Moved
from ..yamlio import Document, load_document
from .files import decode_text, inside, read_text

# Where relative import paths start: the stack's root, unless a caller reads the stack
# from a copy (``rail diff`` materializes each revision in a temporary folder; its
# sibling repositories are beside the real one).
_BASE: ContextVar[Path | None] = ContextVar("rail_import_base", default=None)
# The repository and revision a caller reads the stack at (``rail diff``'s base, a commit;
# ``:`` the index): a path import inside that repository is read as it was there.
_REVISION: ContextVar[tuple[Path, str] | None] = ContextVar("rail_import_revision", default=None)


@contextmanager
def imports_relative_to(root: Path) -> Iterator[None]:
    token = _BASE.set(root.resolve())
    try:
        yield
    finally:
        _BASE.reset(token)


@contextmanager
def imports_at_revision(top: Path, treeish: str | None) -> Iterator[None]:
    """Inside, path imports inside the repository at ``top`` are read from ``treeish`` (a
    commit, or ``:`` for the index; None: the working tree, as they are)."""
    token = _REVISION.set(None if treeish is None else (top.resolve(), treeish))
    try:
        yield
    finally:
        _REVISION.reset(token)


_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://|^[^/]+@[^/]+:")


def load_imports(root: Path, config: Document, own_name: str) -> tuple[ImportedStack, ...]:
    """Every import of the stack at ``root`` (``config``: its rail.yaml, schema-checked)."""
    items = config.data.get("imports") or []
    root = _BASE.get() or root
    problems = ProblemCollector()
    imported: list[ImportedStack] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        key = ("imports", index)
        name = item["name"]
        if name in seen:
            problems.add(config.problem((*key, "name"), f"duplicate import '{name}'", "each import needs its own name"))
            continue
        seen.add(name)
        try:
            read = _from_path if "path" in item else _from_git
            stack = read(root, config, index, item)
        except InputError as error:
            problems.extend(error.problems)
            continue
        if stack.interface.stack == own_name:
            problems.add(
                config.problem(
                    key,
                    f"import '{name}' is stack '{own_name}' itself ({stack.where})",
                    "import other stacks only; refer to your own releases without a prefix",
                )
            )
            continue
        imported.append(stack)
    problems.raise_if_any()
    return tuple(sorted(imported, key=lambda stack: stack.name))


@dataclass(frozen=True)
class StackFiles:
    """Another stack's files, read where they are: a folder, or a git commit (from git
    objects, never checked out). ``where`` is how findings name it."""

    where: str
    read: Callable[[str], str | None]  # a file relative to the stack; None if absent
    listing: Callable[[str], list[str]]  # the files below a folder of the stack, relative to the stack
    commit: str = ""
    pinned: bool = True  # a tag or a commit; a branch moves


def stack_files(root: Path, config: Document, key: tuple[Any, ...], name: str, item: Mapping[str, Any]) -> StackFiles:
    """The files of the stack ``item`` locates (an import or a ``moved:`` record: path, or
    git and ref); a bad location is an input error at ``key`` of ``config``."""
    root = _BASE.get() or root
    if "path" in item:
        return _path_files(root, config, (*key, "path"), name, str(item["path"]))
    return _git_files(root, config, key, name, item)


def _path_files(root: Path, config: Document, key: tuple[Any, ...], name: str, written: str) -> StackFiles:
    folder = (root / written).resolve() if not os.path.isabs(written) else Path(written).resolve()
    if not folder.is_dir():
        raise InputError(
            config.problem(
                key,
                f"{name}: folder '{written}' does not exist",
                "check out that stack there (the path is relative to this rail.yaml), or fix the path",
            )
        )
    if folder == root.resolve():
        raise InputError(config.problem(key, f"{name} points at this stack", "name another stack"))
    revision = _REVISION.get()
    if revision is not None:
        top, treeish = revision
        try:
            subdir = folder.relative_to(top).as_posix()
        except ValueError:
            subdir = None  # another repository: its files as they are now, whatever revision this one is at
        if subdir is not None:  # in the same repository: as it was at the revision being read
            return _tree_files(top, treeish, "" if subdir == "." else subdir, _display(written, ""), config, key, name)

    def read(relative: str) -> str | None:
        path = inside(folder, relative)
        if path is None:
            raise InputError(_traversal(config, key, name, relative))
        if not path.is_file():
            return None
        return read_text(path, _display(written, relative))

    def listing(relative: str) -> list[str]:
        below = inside(folder, relative)
        if below is None or not below.is_dir():
            return []
        found = (path.relative_to(folder).as_posix() for path in below.rglob("*") if path.is_file())
        return sorted(path for path in found if inside(folder, path) is not None)

    return StackFiles(_display(written, ""), read, listing)


def _git_files(root: Path, config: Document, key: tuple[Any, ...], name: str, item: Mapping[str, Any]) -> StackFiles:
    written, ref = str(item["git"]), str(item["ref"])
    git_key = (*key, "git")
    if _REMOTE.match(written) and not written.startswith("file://"):
        raise InputError(
            config.problem(
                git_key,
                f"{name}: rail reads local repositories only, not '{written}'",
                "clone or fetch it next to this stack (git clone --bare URL ../platform.git) and name that path",
            )
        )
    local = written.removeprefix("file://")
    repository = (root / local).resolve() if not os.path.isabs(local) else Path(local).resolve()
    if not repository.exists():
        raise InputError(
            config.problem(git_key, f"{name}: repository '{written}' does not exist", "fix the path or clone it")
        )
    found = _git(repository, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found is None:
        raise InputError(
            config.problem(
                (*key, "ref"),
                f"{name}: '{ref}' is no commit, tag or branch of {written}",
                f"name a tag or commit of it (git -C {written} tag --list)",
            )
        )
    commit = found.decode("ascii").strip()
    is_tag = _git(repository, "rev-parse", "--verify", "--quiet", f"refs/tags/{ref}") is not None
    pinned = is_tag or (_COMMIT.match(ref) is not None and commit.startswith(ref))
    subdir = str(item.get("subdir", "")).strip("/")
    where = f"{written}@{ref}:{subdir + '/' if subdir else ''}"
    files = _tree_files(repository, commit, subdir, where, config, git_key, name)
    return replace(files, commit=commit, pinned=pinned)


def _tree_files(
    repository: Path, treeish: str, subdir: str, where: str, config: Document, key: tuple[Any, ...], name: str
) -> StackFiles:
    """A stack's files in a git tree: ``treeish`` a commit, or ``:`` for the index."""
    spec = treeish if treeish == ":" else f"{treeish}:"

    def read(relative: str) -> str | None:
        if relative.startswith("/") or ".." in relative.split("/"):
            raise InputError(_traversal(config, key, name, relative))
        path = f"{subdir}/{relative}" if subdir else relative
        content = _git(repository, "cat-file", "blob", f"{spec}{path}")
        return None if content is None else decode_text(content, where + relative)

    def listing(relative: str) -> list[str]:
        if relative.startswith("/") or ".." in relative.split("/"):
            return []
        folder = "/".join(part for part in (subdir, relative.strip("/")) if part)
        if treeish == ":":
            found = _git(repository, "ls-files", "-z", "--", folder or ".")
        else:
            found = _git(repository, "ls-tree", "-r", "-z", "--name-only", "--full-tree", treeish, "--", folder or ".")
        prefix = f"{subdir}/" if subdir else ""
        names = (entry.decode() for entry in (found or b"").split(b"\0") if entry)
        return sorted(entry.removeprefix(prefix) for entry in names if entry.startswith(prefix))

    return StackFiles(where, read, listing, commit=treeish if treeish != ":" else "")


def _from_path(root: Path, config: Document, index: int, item: dict[str, Any]) -> ImportedStack:
    files = stack_files(root, config, ("imports", index), f"import '{item['name']}'", item)
    return _imported(
        config, index, item, files.read, files.where, source={"path": item["path"]}, commit="", pinned=True
    )


def _from_git(root: Path, config: Document, index: int, item: dict[str, Any]) -> ImportedStack:
    files = stack_files(root, config, ("imports", index), f"import '{item['name']}'", item)
    source = {"git": item["git"], "ref": item["ref"]}
    subdir = item.get("subdir", "").strip("/")
    if subdir:
        source["subdir"] = subdir
    return _imported(
        config, index, item, files.read, files.where, source=source, commit=files.commit, pinned=files.pinned
    )


def _imported(
    config: Document,
    index: int,
    item: dict[str, Any],
    read: Any,
    where: str,
    *,
    source: dict[str, str],
    commit: str,
    pinned: bool,
) -> ImportedStack:
    name = item["name"]
    key = ("imports", index)
    relative = f"{output_folder(read, where, config, key, f'import {name!r}')}/{INTERFACE_NAME}"
    text = read(relative)
    if text is None:
        raise InputError(
            config.problem(
                key,
                f"import '{name}': no interface file {where}{relative}",
                "run `rail render` in the imported stack and commit rendered/interface.yaml there",
            )
        )
    document = load_document(text, where + relative)
    interface = Interface.from_document(document)
    line, _ = config.locate(key)
    ref_line, _ = config.locate((*key, "ref"))
    return ImportedStack(
        name=name,
        interface=interface,
        where=where + relative,
        source=source,
        config_path=config.path,
        line=line,
        ref_line=ref_line if "ref" in item else None,
        commit=commit,
        pinned=pinned,
    )


def output_folder(
    read: Callable[[str], str | None], where: str, config: Document, key: tuple[Any, ...], name: str
) -> str:
    """Another stack's output folder, as its rail.yaml names it (``rendered`` by default);
    no rail.yaml there is an input error at ``key`` of ``config``."""
    text = read("rail.yaml")
    if text is None:
        raise InputError(config.problem(key, f"{name}: no rail.yaml in {where or '.'}", "point it at a rail stack"))
    data = load_document(text, where + "rail.yaml").data
    output = data.get("output", "rendered") if isinstance(data, dict) else "rendered"
    return output.strip("/") if isinstance(output, str) and output.strip("/") else "rendered"


def _display(written: str, relative: str) -> str:
    return f"{written.rstrip('/')}/{relative}"


def _traversal(config: Document, key: tuple[Any, ...], name: str, relative: str) -> Problem:
    return config.problem(
        key,
        f"{name}: '{relative}' leaves that stack's repository",
        "the stack's output folder must be inside it: fix 'output' in its rail.yaml",
    )


def _git(repository: Path, *args: str) -> bytes | None:
    """The output of one git command, None if it fails (an unknown ref, a missing file)."""
    import subprocess  # only a stack that imports another from git runs it

    environment = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(["git", "-C", str(repository), *args], capture_output=True, check=False, env=environment)
    except OSError:
        raise InputError(Problem(path=str(repository), message="cannot run git", hint="install git")) from None
    return done.stdout if done.returncode == 0 else None


def load_moves(config: Document, releases: set[str]) -> tuple[Moved, ...]:
    """``moved:`` in rail.yaml; a release recorded as moved must have no spec left here."""
    problems = ProblemCollector()
    moved: list[Moved] = []
    seen: set[str] = set()
    for index, item in enumerate(config.data.get("moved") or []):
        name = item["release"]
        if name in seen:
            problems.add(config.problem(("moved", index, "release"), f"release '{name}' is recorded as moved twice"))
        elif name in releases:
            problems.add(
                config.problem(
                    ("moved", index, "release"),
                    f"release '{name}' is recorded as moved to {item['to']}, but its spec is still here",
                    "delete its spec (and values) from this stack, or remove the moved: record",
                )
            )
        seen.add(name)
        moved.append(Moved.from_data(name, item))
    problems.raise_if_any()
    return tuple(sorted(moved, key=lambda item: item.release))
