"""Jinja2, sandboxed and strict: templates are code we ship or the stack owner
writes; spec values reach them only as data and leave through ``tojson``.
"""

from __future__ import annotations

import json
import traceback
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..yamlio import Document, load_documents


def _tojson(value: Any) -> str:
    # JSON is YAML: a JSON-encoded value can never become YAML syntax.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_not_json)


def _not_json(value: Any) -> Any:
    """What json cannot encode is a template error (undefined name, wrong object), not a crash."""
    from jinja2 import Undefined
    from jinja2.exceptions import TemplateRuntimeError

    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    raise TemplateRuntimeError(f"tojson cannot encode a {type(value).__name__}")


@cache
def _environment(folders: tuple[Path, ...]) -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader([str(folder) for folder in folders]),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = _tojson
    return env


class Templates:
    """Templates looked up in ``folders`` in order (a target's own, then the shared
    ``common``), each with the name errors show for it; rendered to text or to
    parsed YAML documents."""

    def __init__(self, folders: tuple[tuple[Path, str], ...]) -> None:
        self.folders = folders

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
        text = self.text(name, context)
        try:
            return [d for d in load_documents(text, f"{self._where(name)} (output)") if d.data is not None]
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
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(name):
            line = frame.lineno
    return line
