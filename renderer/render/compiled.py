"""rail's own templates, compiled to Python modules when rail is built.

A first run on a fresh machine (or any run with ``RAIL_NO_CACHE=1``) would
otherwise spend most of a small stack's render in Jinja2's compiler. The build
hook (``hatch_build.py``) compiles every template under ``templates/`` with the
environment rail renders with, and puts one Python module a template into the
wheel (``renderer/_compiled_templates``); pip byte-compiles them on install, so
a run loads code instead of compiling it. An editable install writes the same
folder into the source tree (ignored by git).

A module is found by a key of everything its code depends on: Jinja2's version,
the environment's settings (``salt``), the template's name and its source's
digest. A template someone edited, a stack's own template, another Jinja2 or
other settings has no module, and is compiled at run time as before (with the
bytecode cache); a stack's own template that is byte for byte rail's uses rail's
module. So the folder can never be stale, only unused.

This module is also loaded by the build hook on its own (by file, without the
``renderer`` package or its dependencies): it imports nothing of rail's, and
Jinja2 only inside functions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

# Where the build puts the modules: beside the ``render`` package, inside ``renderer``.
FOLDER_NAME = "_compiled_templates"
FOLDER = Path(__file__).resolve().parents[1] / FOLDER_NAME
PREFIX = "t_"

# What shapes the environment; the filters are added by name (their code is not in the modules).
_OPTIONS = {"autoescape": False, "keep_trailing_newline": True}


def environment(loader: Any, filters: dict[str, Callable[..., Any]]) -> Any:
    """rail's sandboxed, strict environment: the same at build time and at run time."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(loader=loader, undefined=StrictUndefined, **_OPTIONS)
    env.filters.update(filters)
    return env


def salt(env: Any) -> str:
    """Everything of ``env`` that shapes the generated code: a change never reuses old code."""
    settings = {**_OPTIONS, "undefined": env.undefined}
    return repr((type(env).__name__, sorted(settings.items(), key=str), sorted(env.filters), sorted(env.tests)))


def key(env_salt: str, name: str, source: str) -> str:
    """The module name of ``name`` compiled from ``source``: Jinja2's version, settings, name, source."""
    import jinja2

    checksum = hashlib.sha256(source.encode("utf-8")).hexdigest()
    whole = f"{jinja2.__version__}\0{env_salt}\0{name}\0{checksum}"
    return PREFIX + hashlib.sha256(whole.encode("utf-8")).hexdigest()[:40]


def code(folder: Path, env_salt: str, name: str, source: str) -> CodeType | None:
    """The compiled code of ``name`` from ``source``, or None when the build compiled no such template."""
    module = key(env_salt, name, source)
    path = folder / f"{module}.py"
    if not path.is_file():
        return None
    from importlib.machinery import SourceFileLoader

    # The import system's own loader: it reads the .pyc pip wrote on install (or writes one).
    try:
        found = SourceFileLoader(module, str(path)).get_code(module)
    except Exception:  # noqa: BLE001 - a damaged module or .pyc: compile the template instead, never fail
        return None
    return found


def loader(folders: list[str], env_salt: str, folder: Path) -> Any:
    """A ``FileSystemLoader`` that takes a template's code from the compiled set when it has it.

    It still reads the source: the source's digest is the key, and an edited template
    is compiled from what it says now. Errors point at the source file, as when Jinja2
    compiles it (the template's ``filename``; Jinja2 maps lines through the code's debug info).
    """
    from jinja2 import FileSystemLoader

    class _CompiledLoader(FileSystemLoader):
        def load(self, environment: Any, name: str, globals: Any = None) -> Any:
            source, filename, uptodate = self.get_source(environment, name)
            found = code(folder, env_salt, name, source)
            if found is None:
                return super().load(environment, name, globals)
            template = environment.template_class.from_code(environment, found, globals or {}, uptodate)
            template.filename = filename
            return template

    return _CompiledLoader(folders)


def template_names(folder: Path) -> list[tuple[str, Path]]:
    """Every template under ``folder``'s subfolders (flux, argo, common, docs), by the name
    a ``FileSystemLoader`` of that subfolder looks it up with."""
    found = []
    for target in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(p for p in target.rglob("*") if p.is_file()):
            found.append((path.relative_to(target).as_posix(), path))
    return found


def build(templates: Path, out: Path, byte_compile: bool = False) -> list[str]:
    """Compile every template under ``templates`` into ``out`` (replaced whole); the module names.

    Used by the build hook. ``byte_compile`` also writes the .pyc files (an editable
    install: nobody else will before the first run)."""
    import shutil
    import tempfile

    from jinja2 import TemplateSyntaxError

    env = environment(None, {"tojson": _placeholder})
    env_salt = salt(env)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out.parent))
    modules = []
    try:
        for name, path in template_names(templates):
            source = path.read_text(encoding="utf-8")
            module = key(env_salt, name, source)
            try:
                generated = env.compile(source, name, str(path), raw=True)
            except TemplateSyntaxError:
                continue  # left to run time, which reports it at its file and line
            (staging / f"{module}.py").write_text(generated, encoding="utf-8")
            modules.append(module)
        if byte_compile:
            import py_compile

            for module in modules:
                py_compile.compile(str(staging / f"{module}.py"), doraise=True)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(set(modules))


def _placeholder(value: Any) -> Any:
    """The build only needs the filter's name: its code is looked up at render time."""
    return value
