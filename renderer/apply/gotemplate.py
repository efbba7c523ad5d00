"""The subset of Go's ``text/template`` (with sprig functions) that ApplicationSets use.

Argo CD renders every string of an ApplicationSet's template with Go's
``text/template`` when ``goTemplate: true``, with the sprig function library (minus
``env``, ``expandenv`` and ``getHostByName``) and its own ``normalize``. rail reads
the common part of that language:

- actions ``{{ pipeline }}`` with the trim markers ``{{-`` and ``-}}``, comments;
- operands: ``.``, fields ``.a.b``, variables ``$``, ``$x.a``, string, raw string,
  number, ``true``/``false``/``nil`` literals, parenthesised pipelines;
- pipelines ``a | f b``, variable declarations ``{{ $x := ... }}`` and assignments;
- ``if``/``else if``/``else``/``end``, ``with`` and ``range`` (over lists and maps);
- Go's builtins and a set of sprig functions (see ``_FUNCTIONS``).

Anything else (``define``, ``template``, ``block``, an unknown function, a method
call) raises :class:`Unsupported`; a template Go would refuse or fail on raises
:class:`TemplateError`. Never an other exception, whatever the input.

Values are data: what a field holds is printed, never parsed as a template again.
Rendering has a step budget and an output size limit, so a ``range`` inside a
``range`` cannot make a small template large.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MAX_STEPS = 100_000
MAX_OUTPUT = 1_000_000
MAX_NESTING = 50


class TemplateError(ValueError):
    """The template is not valid, or Go would fail to execute it."""


class Unsupported(TemplateError):
    """A construct or function of Go templates that rail does not implement."""


class _Missing:
    """A map key that is not there (Go's invalid reflect.Value): prints ``<no value>``."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING: Any = _Missing()


# --------------------------------------------------------------------------- value formatting


def go_string(value: Any) -> str:
    """``fmt.Sprint`` of a value decoded from JSON/YAML, as Go prints it."""
    if value is MISSING or value is None:
        return "<no value>" if value is MISSING else "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, Mapping):
        items = " ".join(f"{key}:{go_string(value[key])}" for key in sorted(value, key=str))
        return f"map[{items}]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_string(item) for item in value) + "]"
    return str(value)


def go_float(value: float) -> str:
    """``strconv.FormatFloat(f, 'g', -1, 64)``: the shortest digits, an exponent from 1e+06."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(str(d) for d in digits)
    point = len(text) + exponent  # where the decimal point sits in ``text``
    exp = point - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:  # the shortest form decides at precision 6, as Go does
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def _truth(value: Any) -> bool:
    if value is MISSING or value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, Mapping, list, tuple)):
        return len(value) > 0
    return True


def _empty(value: Any) -> bool:
    return not _truth(value)


# --------------------------------------------------------------------------- lexing


@dataclass
class _Token:
    kind: str  # field, var, ident, string, number, bool, nil, dot, lparen, rparen, pipe, declare, assign, comma
    value: Any
    text: str


_ACTION_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?))
  | (?P<dot>\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<lparen>\()
  | (?P<rparen>\)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<pipe>\|)
  | (?P<comma>,)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(action: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(action):
        match = _ACTION_TOKEN.match(action, position)
        if match is None:
            raise TemplateError(f"unexpected {action[position]!r} in action")
        position = match.end()
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "space":
            continue
        if kind == "char":
            raise Unsupported("character constants are not supported")
        value: Any = text
        if kind == "string":
            value = _unquote(text)
        elif kind == "raw":
            kind, value = "string", text[1:-1]
        elif kind == "number":
            value = _number(text)
        elif kind == "ident" and text in ("true", "false"):
            kind, value = "bool", text == "true"
        elif kind == "ident" and text == "nil":
            kind, value = "nil", None
        tokens.append(_Token(kind, value, text))
    return tokens


def _unquote(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, str):
        return value
    # Go escapes JSON lacks (\a, \v, \x41, octal): rare enough to refuse.
    raise Unsupported("string escape not supported")


def _number(text: str) -> int | float:
    clean = text.replace("_", "")
    try:
        if re.fullmatch(r"[-+]?0[xXbBoO].*", clean):
            return int(clean, 0)
        if re.fullmatch(r"[-+]?\d+", clean):
            if len(clean) > 30:
                raise TemplateError("number too long")
            return int(clean)
        return float(clean)
    except ValueError:
        raise TemplateError("bad number syntax") from None


# --------------------------------------------------------------------------- parsing


@dataclass
class _Command:
    args: list[
        Any
    ]  # each: ("field", names) ("var", name, names) ("dot",) ("lit", value) ("ident", name) ("sub", pipe, names)


@dataclass
class _Pipe:
    commands: list[_Command]
    declare: list[str] = field(default_factory=list)
    is_assign: bool = False


@dataclass
class _Text:
    text: str


@dataclass
class _Action:
    pipe: _Pipe


@dataclass
class _Branch:
    kind: str  # if, with, range
    pipe: _Pipe
    body: list[Any]
    otherwise: list[Any]


@dataclass
class Template:
    """A parsed template: render it with :meth:`execute`."""

    nodes: list[Any]

    def execute(self, data: Any, *, missing_key_error: bool = False) -> str:
        state = _State(missing_key_error=missing_key_error)
        state.vars = [("$", data)]
        state.run(self.nodes, data)
        return "".join(state.out)


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def parse(text: str) -> Template:
    """Parse ``text``; raise :class:`TemplateError` or :class:`Unsupported`."""
    items: list[Any] = []  # _Text or ("action", tokens)
    position = 0
    while True:
        start = text.find("{{", position)
        if start < 0:
            items.append(_Text(text[position:]))
            break
        match = _ACTION.match(text, start)
        if match is None:
            raise TemplateError("unclosed action")
        before = text[position:start]
        if match.group(1):
            before = before.rstrip(" \t\r\n")
        items.append(_Text(before))
        body = match.group(2)
        position = match.end()
        if match.group(3):
            rest = text[position:]
            position += len(rest) - len(rest.lstrip(" \t\r\n"))
        stripped = body.strip()
        if stripped.startswith("/*"):
            if not stripped.endswith("*/"):
                raise TemplateError("unclosed comment")
            continue
        items.append(_tokens(body))
    parser = _Parser(items)
    nodes, end = parser.block(0)
    if end is not None:
        raise TemplateError(f"unexpected {{{{{end}}}}}")
    return Template(nodes)


class _Parser:
    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.index = 0
        self.pending_else: list[_Token] = []  # the rest of the last {{else ...}} action

    def block(self, depth: int) -> tuple[list[Any], str | None]:
        """Nodes up to an ``else``/``end`` (returned as the second value, with the rest
        of an ``else`` action kept for ``else if``)."""
        if depth > MAX_NESTING:
            raise TemplateError("control structures nested too deep")
        nodes: list[Any] = []
        while self.index < len(self.items):
            item = self.items[self.index]
            self.index += 1
            if isinstance(item, _Text):
                if item.text:
                    nodes.append(item)
                continue
            tokens: list[_Token] = item
            if not tokens:
                raise TemplateError("missing value for command")
            head = tokens[0]
            if head.kind == "ident" and head.value in ("if", "with", "range"):
                nodes.append(self.branch(head.value, tokens[1:], depth))
                continue
            if head.kind == "ident" and head.value == "end":
                if len(tokens) > 1:
                    raise TemplateError("unexpected tokens after end")
                return nodes, "end"
            if head.kind == "ident" and head.value == "else":
                self.pending_else = tokens[1:]
                return nodes, "else"
            if head.kind == "ident" and head.value in ("define", "template", "block", "break", "continue"):
                raise Unsupported(f"'{head.value}' is not supported")
            nodes.append(_Action(_pipe(tokens, allow_declare=True)))
        return nodes, None

    def branch(self, kind: str, tokens: list[_Token], depth: int) -> _Branch:
        pipe = _pipe(tokens, allow_declare=kind == "range" or kind in ("if", "with"))
        body, end = self.block(depth + 1)
        otherwise: list[Any] = []
        if end == "else":
            rest = self.pending_else
            if rest and rest[0].kind == "ident" and rest[0].value in ("if", "with"):
                # `else if` / `else with`: a branch in the else part, closed by the same end.
                otherwise = [self.branch(rest[0].value, rest[1:], depth + 1)]
                return _Branch(kind, pipe, body, otherwise)
            if rest:
                raise TemplateError("unexpected tokens after else")
            otherwise, end = self.block(depth + 1)
        if end != "end":
            raise TemplateError(f"unexpected EOF: missing {{{{end}}}} for {kind}")
        return _Branch(kind, pipe, body, otherwise)


def _pipe(tokens: list[_Token], allow_declare: bool) -> _Pipe:
    declare: list[str] = []
    is_assign = False
    for index, token in enumerate(tokens):
        if token.kind in ("declare", "assign"):
            names = tokens[:index]
            if not allow_declare or not names or any(t.kind not in ("var", "comma") for t in names):
                raise TemplateError("bad variable declaration")
            declare = [t.value for t in names if t.kind == "var"]
            if any("." in name for name in declare) or len(declare) > 2:
                raise TemplateError("bad variable declaration")
            is_assign = token.kind == "assign"
            tokens = tokens[index + 1 :]
            break
        if token.kind not in ("var", "comma"):
            break
    commands, rest = _commands(tokens, 0)
    if rest != len(tokens):
        raise TemplateError("unexpected ')'")
    if not commands:
        raise TemplateError("missing value for command")
    return _Pipe(commands, declare, is_assign)


def _commands(tokens: list[_Token], index: int, depth: int = 0) -> tuple[list[_Command], int]:
    if depth > MAX_NESTING:
        raise TemplateError("parentheses nested too deep")
    commands: list[_Command] = []
    args: list[Any] = []
    while index < len(tokens):
        token = tokens[index]
        if token.kind == "rparen":
            break
        index += 1
        if token.kind == "pipe":
            if not args:
                raise TemplateError("missing command before '|'")
            commands.append(_Command(args))
            args = []
        elif token.kind == "lparen":
            inner, index = _commands(tokens, index, depth + 1)
            if index >= len(tokens) or tokens[index].kind != "rparen":
                raise TemplateError("unclosed left paren")
            if not inner:
                raise TemplateError("missing value for parenthesized pipeline")
            names = [n for n in tokens[index].text[1:].split(".") if n]
            args.append(("sub", _Pipe(inner), names))
            index += 1
        elif token.kind == "field":
            args.append(("field", [n for n in token.value.split(".") if n]))
        elif token.kind == "var":
            name, *names = token.value.split(".")
            args.append(("var", name, names))
        elif token.kind == "dot":
            args.append(("dot",))
        elif token.kind in ("string", "number", "bool", "nil"):
            args.append(("lit", token.value))
        elif token.kind == "ident":
            if token.value not in _FUNCTIONS:
                if token.value in _KEYWORDS:
                    raise TemplateError(f"unexpected '{token.value}'")
                raise Unsupported(f"function {token.value!r} is not supported")
            args.append(("ident", token.value))
        else:
            raise TemplateError(f"unexpected {token.text!r} in command")
    if args:
        commands.append(_Command(args))
    elif commands:
        raise TemplateError("missing command after '|'")
    return commands, index


_KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"})


# --------------------------------------------------------------------------- execution


class _State:
    def __init__(self, missing_key_error: bool) -> None:
        self.missing_key_error = missing_key_error
        self.vars: list[tuple[str, Any]] = []
        self.out: list[str] = []
        self.size = 0
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateError(f"template takes more than {MAX_STEPS} steps to render")

    def write(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise TemplateError(f"template output exceeds {MAX_OUTPUT} characters")
        self.out.append(text)

    def run(self, nodes: list[Any], dot: Any) -> None:
        for node in nodes:
            self.step()
            if isinstance(node, _Text):
                self.write(node.text)
            elif isinstance(node, _Action):
                value = self.pipe(node.pipe, dot)
                if not node.pipe.declare:
                    self.write(go_string(value))
            else:
                self.branch(node, dot)

    def branch(self, node: _Branch, dot: Any) -> None:
        mark = len(self.vars)
        try:
            if node.kind == "range":
                self.range(node, dot)
                return
            value = self.pipe(node.pipe, dot)
            if _truth(value):
                self.run(node.body, value if node.kind == "with" else dot)
            else:
                self.run(node.otherwise, dot)
        finally:
            del self.vars[mark:]

    def range(self, node: _Branch, dot: Any) -> None:
        pipe = node.pipe
        value = self.pipe(_Pipe(pipe.commands), dot)
        if isinstance(value, Mapping):
            pairs: list[tuple[Any, Any]] = [(key, value[key]) for key in sorted(value, key=str)]
        elif isinstance(value, (list, tuple)):
            pairs = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            if value > MAX_STEPS:
                raise TemplateError("range over a number too large")
            pairs = [(i, i) for i in range(value)]
        elif value is MISSING or value is None:
            pairs = []
        else:
            raise TemplateError(f"range can't iterate over a {_go_type(value)}")
        if not pairs:
            self.run(node.otherwise, dot)
            return
        mark = len(self.vars)
        for key, item in pairs:
            del self.vars[mark:]
            if len(pipe.declare) == 1:
                self.vars.append((pipe.declare[0], item))
            elif len(pipe.declare) == 2:
                self.vars.append((pipe.declare[0], key))
                self.vars.append((pipe.declare[1], item))
            self.run(node.body, item)

    def pipe(self, pipe: _Pipe, dot: Any) -> Any:
        value: Any = MISSING
        first = True
        for command in pipe.commands:
            value = self.command(command, dot, None if first else value, not first)
            first = False
        if pipe.declare:
            name = pipe.declare[0]
            if pipe.is_assign:
                for index in range(len(self.vars) - 1, -1, -1):
                    if self.vars[index][0] == name:
                        self.vars[index] = (name, value)
                        break
                else:
                    raise TemplateError(f"undefined variable: {name}")
            else:
                self.vars.append((name, value))
        return value

    def command(self, command: _Command, dot: Any, piped: Any, has_piped: bool) -> Any:
        self.step()
        head = command.args[0]
        if head[0] == "ident":
            args = [self.arg(arg, dot) for arg in command.args[1:]]
            if has_piped:
                args.append(piped)
            name = head[1]
            if name in ("and", "or"):
                return _and_or(name, args)
            try:
                return _FUNCTIONS[name](*args)
            except TemplateError:
                raise
            except (TypeError, ValueError, KeyError, IndexError, OverflowError, ZeroDivisionError, re.error) as exc:
                raise TemplateError(f"error calling {name}: {type(exc).__name__}") from None
        if len(command.args) > 1 or has_piped:
            raise TemplateError("can't give argument to non-function")
        return self.arg(head, dot)

    def arg(self, arg: Any, dot: Any) -> Any:
        kind = arg[0]
        if kind == "lit":
            return arg[1]
        if kind == "dot":
            return dot
        if kind == "field":
            return self.fields(dot, arg[1])
        if kind == "var":
            for name, value in reversed(self.vars):
                if name == arg[1]:
                    return self.fields(value, arg[2])
            raise TemplateError(f"undefined variable: {arg[1]}")
        if kind == "sub":
            return self.fields(self.pipe(arg[1], dot), arg[2])
        if kind == "ident":
            if arg[1] in ("and", "or"):
                raise TemplateError(f"missing arguments for {arg[1]}")
            return _FUNCTIONS[arg[1]]()
        raise TemplateError("bad argument")  # pragma: no cover - the parser makes no other

    def fields(self, value: Any, names: Sequence[str]) -> Any:
        for name in names:
            if value is MISSING:
                if self.missing_key_error:
                    raise TemplateError(f'nil data; no entry for key "{name}"')
                continue
            if value is None:
                raise TemplateError(f"nil pointer evaluating interface {{}}.{name}")
            if not isinstance(value, Mapping):
                raise TemplateError(f"can't evaluate field {name} in type {_go_type(value)}")
            if name in value:
                value = value[name]
            elif self.missing_key_error:
                raise TemplateError(f'map has no entry for key "{name}"')
            else:
                value = MISSING
        return value


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    return "interface {}"


def _and_or(name: str, args: list[Any]) -> Any:
    if not args:
        raise TemplateError(f"missing arguments for {name}")
    for arg in args:
        if _truth(arg) != (name == "and"):
            return arg
    return args[-1]


# --------------------------------------------------------------------------- functions


def _s(value: Any) -> str:
    """sprig's ``strval``: strings as they are, anything else as Go prints it."""
    if value is MISSING or value is None:
        return ""
    return go_string(value)


def _number_arg(value: Any) -> int:
    """sprig's ``toInt64``: numbers and numeric strings, else 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return 0
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value)) if re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value) else 0
        except ValueError:
            return 0
    return 0


def _compare(name: str, a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            raise TemplateError("incompatible types for comparison")
        if name in ("eq", "ne"):
            return (a == b) == (name == "eq")
        raise TemplateError("invalid type for comparison")
    numeric = isinstance(a, (int, float)) and isinstance(b, (int, float))
    if not numeric and not (isinstance(a, str) and isinstance(b, str)):
        if name in ("eq", "ne") and (a is None or a is MISSING or b is None or b is MISSING):
            same = (a is None or a is MISSING) and (b is None or b is MISSING)
            return same == (name == "eq")
        raise TemplateError("incompatible types for comparison")
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda x, y: x == y,
        "ne": lambda x, y: x != y,
        "lt": lambda x, y: x < y,
        "le": lambda x, y: x <= y,
        "gt": lambda x, y: x > y,
        "ge": lambda x, y: x >= y,
    }
    return ops[name](a, b)


def _eq(first: Any, *others: Any) -> bool:
    if not others:
        raise TemplateError("missing argument for comparison")
    return any(_compare("eq", first, other) for other in others)


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, Mapping):
            item = item.get(key, MISSING) if isinstance(key, str) else MISSING
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(key, int) or isinstance(key, bool):
                raise TemplateError("cannot index slice/array with non-integer")
            if not 0 <= key < len(item):
                raise TemplateError(f"index out of range: {key}")
            item = item[key]
        elif item is MISSING or item is None:
            raise TemplateError("index of untyped nil")
        else:
            raise TemplateError(f"can't index item of type {_go_type(item)}")
    return item


_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _printf(form: Any, *args: Any) -> str:
    if not isinstance(form, str):
        raise TemplateError("printf: the format must be a string")
    values = list(args)
    used = 0

    def one(match: re.Match[str]) -> str:
        nonlocal used
        flags, width, precision, verb = match.groups()
        if verb == "%":
            return "%"
        if used >= len(values):
            return f"%!{verb}(MISSING)"
        value = values[used]
        used += 1
        if verb in ("s", "v"):
            text = go_string(value)
            if precision is not None and verb == "s":
                text = text[: int(precision)]
        elif verb == "q":
            text = _go_quote(go_string(value)) if not isinstance(value, (int, float)) else go_string(value)
        elif verb == "d":
            if not isinstance(value, int) or isinstance(value, bool):
                return f"%!d({_go_type(value)}={go_string(value)})"
            text = str(value)
        elif verb in ("f", "F", "e", "g"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return f"%!{verb}({_go_type(value)}={go_string(value)})"
            if isinstance(value, int):
                return f"%!{verb}(int={value})"
            if verb == "g" and precision is None:
                text = go_float(value)
            else:
                text = format(value, f".{precision if precision is not None else 6}{verb.lower()}")
        elif verb in ("x", "X"):
            if isinstance(value, int) and not isinstance(value, bool):
                text = format(value, verb)
            elif isinstance(value, str):
                text = value.encode().hex()
                text = text.upper() if verb == "X" else text
            else:
                return f"%!{verb}({_go_type(value)}={go_string(value)})"
        elif verb == "t":
            if not isinstance(value, bool):
                return f"%!t({_go_type(value)}={go_string(value)})"
            text = go_string(value)
        else:
            raise Unsupported(f"printf verb %{verb} is not supported")
        if width is not None:
            size = min(int(width), 1000)
            text = text.ljust(size) if "-" in flags else text.rjust(size, "0" if "0" in flags and verb != "s" else " ")
        return text

    result = _VERB.sub(one, form)
    if used < len(values):
        extra = ", ".join(f"{_go_type(v)}={go_string(v)}" for v in values[used:])
        result += f"%!(EXTRA {extra})"
    return result


def _go_quote(text: str) -> str:
    """``strconv.Quote`` for printable text (JSON escapes are close enough: both escape
    quotes, backslashes and control characters)."""
    return json.dumps(text, ensure_ascii=False)


def _go_json(value: Any) -> str:
    """``json.Marshal``: keys sorted, ``<``, ``>`` and ``&`` escaped, floats as Go writes them."""
    parts: list[str] = []

    def write(item: Any, depth: int) -> None:
        if depth > MAX_NESTING * 4:
            raise TemplateError("toJson: value nested too deep")
        if item is MISSING or item is None:
            parts.append("null")
        elif isinstance(item, bool):
            parts.append("true" if item else "false")
        elif isinstance(item, int):
            parts.append(str(item))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise TemplateError(f"json: unsupported value: {go_float(item)}")
            parts.append(_json_float(item))
        elif isinstance(item, str):
            parts.append(json.dumps(item, ensure_ascii=False))
        elif isinstance(item, Mapping):
            parts.append("{")
            for index, key in enumerate(sorted(item, key=str)):
                parts.append(("," if index else "") + json.dumps(str(key), ensure_ascii=False) + ":")
                write(item[key], depth + 1)
            parts.append("}")
        elif isinstance(item, (list, tuple)):
            parts.append("[")
            for index, element in enumerate(item):
                if index:
                    parts.append(",")
                write(element, depth + 1)
            parts.append("]")
        else:
            raise TemplateError(f"json: unsupported type {type(item).__name__}")

    write(value, 0)
    text = "".join(parts)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def _json_float(value: float) -> str:
    """encoding/json's float64: positional, exponent form below 1e-6 or from 1e21."""
    size = abs(value)
    if size != 0 and (size < 1e-6 or size >= 1e21):
        text = go_float(value)
        return re.sub(r"e([-+])0(\d)$", r"e\1\2", text)
    plain = format(Decimal(repr(value)), "f")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return "0" if plain in ("-0", "") else plain


def sanitize_name(name: str) -> str:
    """Argo CD's ``SanitizeName`` (``normalize``, ``nameNormalized``): lowercase, every
    character but ``a-z0-9-.`` made ``-``, at most 253 characters, ``-``/``.`` trimmed."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())
    return name[:253].strip("-.")


def _trunc(length: Any, text: Any) -> str:
    value = _s(text)
    n = _number_arg(length)
    if n < 0:
        return value[len(value) + n :] if -n < len(value) else value
    return value[:n]


def _default(default: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return default
    return given[0]


def _ternary(yes: Any, no: Any, condition: Any) -> Any:
    return yes if condition is True else no


def _dict(*pairs: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for index in range(0, len(pairs), 2):
        key = _s(pairs[index])
        result[key] = pairs[index + 1] if index + 1 < len(pairs) else ""
    return result


def _split(separator: Any, text: Any) -> dict[str, str]:
    return {f"_{i}": part for i, part in enumerate(_s(text).split(_s(separator)))}


def _split_list(separator: Any, text: Any) -> list[str]:
    sep = _s(separator)
    value = _s(text)
    return [value] if sep == "" else value.split(sep)


def _join(separator: Any, items: Any) -> str:
    if isinstance(items, (list, tuple)):
        return _s(separator).join(_s(item) for item in items)
    return _s(items)


def _regex(pattern: Any) -> re.Pattern[str]:
    text = _s(pattern)
    if len(text) > 1000:
        raise TemplateError("regular expression too long")
    # Go's RE2 runs in linear time, Python's backtracking engine does not: a quantified
    # group holding a quantifier ((a+)+) is refused rather than risked.
    if _NESTED_QUANTIFIER.search(text):
        raise Unsupported("regular expressions with nested quantifiers are not supported")
    return re.compile(text)


_NESTED_QUANTIFIER = re.compile(r"\([^()]*[*+?}][^()]*\)[*+?{]")


def _regex_replace(pattern: Any, text: Any, replacement: Any) -> str:
    if len(_s(text)) > 100_000:
        raise TemplateError("regexReplaceAll: text too long")
    # Go's $1 / ${1} / ${name} in the replacement; Python's \g<1>.
    go = _s(replacement).replace("\\", "\\\\")
    python = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: f"\\g<{m.group(1) or m.group(2)}>", go)
    try:
        return _regex(pattern).sub(python, _s(text))
    except (re.error, IndexError):
        raise TemplateError("regexReplaceAll: bad replacement") from None


def _substr(start: Any, end: Any, text: Any) -> str:
    value = _s(text)
    a, b = _number_arg(start), _number_arg(end)
    if a < 0:
        return value[:b]
    if b < 0 or b > len(value):
        return value[a:]
    return value[a:b]


def _first(items: Any) -> Any:
    if isinstance(items, (list, tuple)):
        return items[0] if items else None
    raise TemplateError("first: not a list")


def _last(items: Any) -> Any:
    if isinstance(items, (list, tuple)):
        return items[-1] if items else None
    raise TemplateError("last: not a list")


def _get(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, Mapping):
        return mapping.get(_s(key), "")
    raise TemplateError("get: not a map")


def _has_key(mapping: Any, key: Any) -> bool:
    if isinstance(mapping, Mapping):
        return _s(key) in mapping
    raise TemplateError("hasKey: not a map")


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", text)


def _length(item: Any) -> int:
    if isinstance(item, (str, Mapping, list, tuple)):
        return len(item)
    raise TemplateError(f"len of type {_go_type(item)}")


def _arith(op: Callable[[int, int], int]) -> Callable[..., int]:
    def run(a: Any, b: Any) -> int:
        return op(_number_arg(a), _number_arg(b))

    return run


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise TemplateError("integer divide by zero")
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b >= 0) else -quotient


def _go_mod(a: int, b: int) -> int:
    if b == 0:
        raise TemplateError("integer divide by zero")
    return a - b * _go_div(a, b)


def _repeat(count: Any, text: Any) -> str:
    n = _number_arg(count)
    value = _s(text)
    if n * len(value) > MAX_OUTPUT:
        raise TemplateError("repeat: result too long")
    return value * max(n, 0)


def _b64dec(text: Any) -> str:
    try:
        return base64.b64decode(_s(text), validate=True).decode("utf-8", "replace")
    except ValueError:
        return "illegal base64 data"


def _to_string(value: Any) -> str:
    return _s(value)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    # Go's builtins
    "not": lambda value: not _truth(value),
    "and": lambda *args: _and_or("and", list(args)),
    "or": lambda *args: _and_or("or", list(args)),
    "eq": _eq,
    "ne": lambda a, b: _compare("ne", a, b),
    "lt": lambda a, b: _compare("lt", a, b),
    "le": lambda a, b: _compare("le", a, b),
    "gt": lambda a, b: _compare("gt", a, b),
    "ge": lambda a, b: _compare("ge", a, b),
    "len": _length,
    "index": _index,
    "printf": _printf,
    "print": lambda *args: _go_sprint(args),
    "println": lambda *args: " ".join(go_string(a) for a in args) + "\n",
    # sprig: defaults and logic
    "default": _default,
    "empty": _empty,
    "coalesce": lambda *args: next((a for a in args if not _empty(a)), None),
    "ternary": _ternary,
    # sprig: strings
    "lower": lambda s: _s(s).lower(),
    "upper": lambda s: _s(s).upper(),
    "title": lambda s: re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), _s(s)),
    "trim": lambda s: _s(s).strip(" \t\n\r\v\f"),
    "trimAll": lambda cut, s: _s(s).strip(_s(cut)),
    "trimPrefix": lambda prefix, s: _s(s).removeprefix(_s(prefix)),
    "trimSuffix": lambda suffix, s: _s(s).removesuffix(_s(suffix)),
    "trunc": _trunc,
    "replace": lambda old, new, s: _s(s).replace(_s(old), _s(new)),
    "quote": lambda *args: " ".join(_go_quote(_s(a)) for a in args if a is not None and a is not MISSING),
    "squote": lambda *args: " ".join(f"'{_s(a)}'" for a in args if a is not None and a is not MISSING),
    "contains": lambda sub, s: _s(sub) in _s(s),
    "hasPrefix": lambda prefix, s: _s(s).startswith(_s(prefix)),
    "hasSuffix": lambda suffix, s: _s(s).endswith(_s(suffix)),
    "cat": lambda *args: " ".join(_s(a) for a in args if a is not None and a is not MISSING),
    "nospace": lambda s: re.sub(r"\s", "", _s(s)),
    "repeat": _repeat,
    "substr": _substr,
    "split": _split,
    "splitList": _split_list,
    "join": _join,
    "toString": _to_string,
    "kebabcase": lambda s: "-".join(w.lower() for w in _words(_s(s))),
    "snakecase": lambda s: "_".join(w.lower() for w in _words(_s(s))),
    "camelcase": lambda s: "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\s-]+", _s(s)) if w),
    "regexMatch": lambda pattern, s: _regex(pattern).search(_s(s)) is not None,
    "regexReplaceAll": _regex_replace,
    "b64enc": lambda s: base64.b64encode(_s(s).encode()).decode(),
    "b64dec": _b64dec,
    "sha256sum": lambda s: hashlib.sha256(_s(s).encode()).hexdigest(),
    "sha1sum": lambda s: hashlib.sha1(_s(s).encode()).hexdigest(),
    "normalize": lambda s: sanitize_name(_s(s)),
    "toJson": _go_json,
    # sprig: numbers
    "int": _number_arg,
    "int64": _number_arg,
    "atoi": lambda s: _number_arg(_s(s)),
    "add": lambda *args: sum(_number_arg(a) for a in args),
    "add1": lambda a: _number_arg(a) + 1,
    "sub": _arith(lambda a, b: a - b),
    "mul": _arith(lambda a, b: a * b),
    "div": _arith(_go_div),
    "mod": _arith(_go_mod),
    "max": lambda *args: max(_number_arg(a) for a in args),
    "min": lambda *args: min(_number_arg(a) for a in args),
    # sprig: lists and dicts
    "list": lambda *args: list(args),
    "first": _first,
    "last": _last,
    "dict": _dict,
    "get": _get,
    "hasKey": _has_key,
    "keys": lambda *maps: [k for m in maps if isinstance(m, Mapping) for k in m],
}


def _go_sprint(args: Sequence[Any]) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out = ""
    for index, arg in enumerate(args):
        if index and not isinstance(arg, str) and not isinstance(args[index - 1], str):
            out += " "
        out += go_string(arg)
    return out
