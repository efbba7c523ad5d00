"""Jinja2, sandboxed and strict: templates are code we ship or the stack owner
writes; spec values reach them only as data and leave through ``tojson``.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextvars import ContextVar
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..memo import cached_property
from ..yamlio import Document, load_documents
from .bytecode import bytecode_cache

# While a template renders for its parsed documents, large values are left out of
# the text as a unique placeholder string and put back into the parsed data: the
# YAML parser then reads only the template's own small skeleton. The nonce makes a
# placeholder impossible to forge from spec text; it never reaches any output.
_HOLES: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar("rail_template_holes", default=None)


def _tojson(value: Any) -> str:
    holes = _HOLES.get()
    if holes is not None and isinstance(value, (dict, list)) and value:
        _check_plain(value)
        nonce, table = holes
        token = f"{nonce}{len(table)}"
        table[token] = value
        return json.dumps(token)
    # JSON is YAML: a JSON-encoded value can never become YAML syntax.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_not_json)


def _check_plain(value: Any) -> None:
    """What ``json.dumps`` would refuse, refused the same way without encoding."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                _not_json(key)
            _check_plain(item)
    elif isinstance(value, list):
        for item in value:
            _check_plain(item)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        _not_json(value)


def _fill(data: Any, nonce: str, table: dict[str, Any]) -> Any:
    if isinstance(data, str):
        if nonce not in data:
            return data
        if data in table:
            return table[data]
        # A mapping or list spliced into a larger string: no YAML value can say that.
        raise ValueError("a mapping or list passed through tojson inside a string")
    if isinstance(data, dict):
        return {key: _fill(item, nonce, table) for key, item in data.items()}
    if isinstance(data, list):
        return [_fill(item, nonce, table) for item in data]
    return data


def _not_json(value: Any) -> Any:
    """What json cannot encode is a template error (undefined name, wrong object), not a crash."""
    from jinja2 import Undefined
    from jinja2.exceptions import TemplateRuntimeError

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    raise TemplateRuntimeError(f"tojson cannot encode a {type(value).__name__}")


@cache
def _environment(folders: tuple[Path, ...]) -> Any:
    from . import compiled

    env = compiled.environment(None, {"tojson": _tojson})
    salt = compiled.salt(env)
    # rail's own templates come compiled with rail (see compiled.py); others, or edited
    # ones, are compiled here, their code kept in the bytecode cache for the next run.
    env.loader = compiled.loader([str(folder) for folder in folders], salt, compiled.FOLDER)
    env.bytecode_cache = bytecode_cache(salt)
    return env


class Templates:
    """Templates looked up in ``folders`` in order (a target's own, then the shared
    ``common``), each with the name errors show for it; rendered to text or to
    parsed YAML documents."""

    def __init__(self, folders: tuple[tuple[Path, str], ...]) -> None:
        self.folders = folders

    @cached_property
    def fingerprint(self) -> str:
        """A digest of every template file by name and content: what a rendered text can depend on."""
        digest = hashlib.sha256()
        for folder, _ in self.folders:
            if folder.is_dir():
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    digest.update(f"{path.relative_to(folder).as_posix()}\0".encode())
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
            digest.update(b"\1")
        return digest.hexdigest()

    def exists(self, name: str) -> bool:
        return any((folder / name).is_file() for folder, _ in self.folders)

    def _where(self, name: str) -> str:
        for folder, display in self.folders:
            if (folder / name).is_file():
                return f"{display}/{name}"
        return f"{self.folders[0][1]}/{name}"

    def text(self, name: str, context: dict[str, Any]) -> str:
        from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

        where = self._where(name)
        try:
            return str(_environment(tuple(f for f, _ in self.folders)).get_template(name).render(**context))
        except TemplateNotFound:
            raise InputError(
                Problem(path=where, message="template not found", hint="restore it from rail's templates/")
            ) from None
        except TemplateSyntaxError as exc:
            raise InputError(
                Problem(path=where, line=exc.lineno, message=f"template syntax error: {exc.message}")
            ) from None
        except TemplateError as exc:
            # Undefined names and sandbox refusals: the line is the template frame's.
            raise InputError(
                Problem(
                    path=where,
                    line=_template_line(exc, name),
                    message=f"template error: {exc.message or type(exc).__name__}",
                    hint="templates get release, values, labels and the names listed in docs; check the spelling",
                )
            ) from None
        except (TypeError, ValueError, LookupError, ArithmeticError) as exc:
            # A template that meets a value of an unexpected type (a quoted number): the
            # template's line, and the error's kind only (its text may quote the value).
            raise InputError(
                Problem(
                    path=where,
                    line=_template_line(exc, name),
                    message=f"template failed on a value of an unexpected type ({type(exc).__name__})",
                    hint="check the types of the values this template reads (rail lint runs values-schema)",
                )
            ) from None

    def documents(self, name: str, context: dict[str, Any]) -> list[Document]:
        nonce = f"rail-value-{os.urandom(12).hex()}-"
        table: dict[str, Any] = {}
        reset = _HOLES.set((nonce, table))
        try:
            text = self.text(name, context)
        finally:
            _HOLES.reset(reset)
        try:
            # One-off text (the nonce): kept in no memo and no cache; the objects are (target.py).
            documents = load_documents(text, f"{self._where(name)} (output)", shared=False)
            return [replace(d, data=_fill(d.data, nonce, table)) for d in documents if d.data is not None]
        except ValueError as exc:
            raise InputError(
                Problem(path=self._where(name), message=f"template output: {exc}", hint="use tojson on its own")
            ) from None
        except InputError as error:
            raise InputError(
                [
                    Problem(
                        path=self._where(name),
                        message=f"template output is not valid YAML: {p.message} (output line {p.line})",
                        hint="pass spec values through the tojson filter",
                    )
                    for p in error.problems
                ]
            ) from None


def _template_line(exc: BaseException, name: str) -> int | None:
    import traceback  # an error's path only

    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(name):
            line = frame.lineno
    return line
