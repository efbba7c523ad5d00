"""Flux's ``envsubst``, character for character: the parser and evaluator that
kustomize-controller runs over the YAML text of every object it builds.

Rail must predict what Flux applies, so this is a port of ``github.com/fluxcd/pkg/envsubst``
(a fork of ``drone/envsubst``; ``parse/scan.go``, ``parse/parse.go``, ``template.go``,
``funcs.go`` and the glob matcher of its ``path`` package), not a reimplementation of bash.
What the real code accepts, and nothing else:

==============================  ===================================================
``${var}``                      the value (an undefined variable is ``""``)
``${#var}``                     length of the value, in UTF-8 bytes
``${var^}`` ``${var^^}``        upper-case the first character / all of it
``${var,}`` ``${var,,}``        lower-case the first character / all of it
``${var:pos}`` ``${var:pos:len}``  substring in bytes; negative ``pos`` counts from the end,
                                a negative ``len`` stops that far from the end
``${var#glob}`` ``${var##glob}``  drop the shortest / longest prefix matching ``glob``
``${var%glob}`` ``${var%%glob}``  drop the shortest / longest suffix matching ``glob``
``${var/pat/rep}``              replace the first ``pat`` (``//``: every; ``/#``: a
                                prefix; ``/%``: a suffix); ``rep`` may be left out
``${var=def}`` ``${var:=def}``  the value, or ``def`` when it is empty (``:-``, and
``${var:-def}``                 ``:?`` and ``:+`` too: all of them are "default if empty";
                                none assigns, and ``def`` may hold ``${...}``)
==============================  ===================================================

Quirks kept on purpose, because Flux has them:

- ``$$`` becomes ``$`` in plain text, so ``$${var}`` is the literal ``${var}``; ``$var``
  without braces is never substituted. Inside ``/pat/rep``, ``$$``, ``\\/`` and ``\\\\``
  are escapes too; inside a default they are not.
- ``${var-def}``, ``${var+alt}``, ``${}``, ``${ var}`` and an unclosed ``${`` are syntax
  errors, and one syntax error anywhere fails the whole object.
- Arguments are evaluated before the function: in strict mode a missing variable in a
  default that is never used still fails (upstream ``template.go`` ``evalFunc``).
- Strict mode (``--feature-gates=StrictPostBuildSubstitutions``) fails on a variable
  that is not defined, unless it is read through ``=``, ``:=``, ``:-``, ``:?`` or ``:+``;
  a variable defined as ``""`` is defined.
- A NUL character ends the input (the scanner's end-of-input rune is ``0``).

Values rail cannot read (a Secret's) are :data:`UNKNOWN`: the evaluation carries them as
:class:`Hole` pieces, never as text, so no caller can mistake a guess for a value.
Nesting deeper than :data:`MAX_DEPTH` is refused instead of recursing without bound.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from .envfuncs import FUNCTIONS

MAX_DEPTH = 64

# Scanner modes and escape sets (parse/scan.go).
_IDENT, _LBRACK, _RBRACK, _ESCAPE = 1, 2, 4, 8
_DOLLAR, _BACKSLASH = 1, 2
_ALL_ESCAPES = _DOLLAR | _BACKSLASH
_EOF = ""

# Tokens.
_T_ILLEGAL, _T_EOF, _T_IDENT, _T_LBRACK, _T_RBRACK = range(5)

# Operators that supply their own value when the variable is unset (template.go isDefaultOp).
DEFAULT_OPERATORS = frozenset({"-", "+", "=", "?", ":-", ":+", ":=", ":?"})


class Unresolved(enum.Enum):
    """A variable lookup that has no text: its value is hidden, or it does not exist."""

    UNKNOWN = "unknown"
    UNDEFINED = "undefined"


UNKNOWN: Literal[Unresolved.UNKNOWN] = Unresolved.UNKNOWN
UNDEFINED: Literal[Unresolved.UNDEFINED] = Unresolved.UNDEFINED

Lookup = Callable[[str], "str | Unresolved"]


class SubstitutionSyntaxError(ValueError):
    """The text is not valid envsubst input; Flux fails the object. The message is one
    of a few fixed phrases and never quotes the input (which may hold secrets)."""


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Func:
    """``${param<name>args}``: ``name`` is the operator (``""`` for a bare reference)."""

    param: str
    name: str = ""
    args: tuple[Node, ...] = ()


Node = Text | Func


@dataclass(frozen=True)
class Hole:
    """A piece of output rail cannot know: it stands for the value of ``name``."""

    name: str


Piece = str | Hole


@dataclass(frozen=True)
class Evaluation:
    """The output as pieces, and the variables that decided it."""

    pieces: tuple[Piece, ...]
    unknown: frozenset[str] = frozenset()
    # Read without a default operator and not defined: "" in Flux, an error in strict mode.
    undefined: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        return all(isinstance(piece, str) for piece in self.pieces)

    def text(self, hole: Callable[[Hole], str] = lambda hole: "${" + hole.name + "}") -> str:
        return "".join(piece if isinstance(piece, str) else hole(piece) for piece in self.pieces)


# --------------------------------------------------------------------------- scanning


def _accept_rune(r: str, i: int) -> bool:
    return True


def _accept_ident(r: str, i: int) -> bool:
    # Go's unicode.IsLetter / IsDigit: every letter, decimal digits only.
    return r.isalpha() or r.isdecimal() or r == "_"


def _accept_colon(r: str, i: int) -> bool:
    return r == ":"


def _accept_one_hash(r: str, i: int) -> bool:
    return r == "#" and i == 1


def _accept_not_closing(r: str, i: int) -> bool:
    return r != "}"


def _accept_hash_func(r: str, i: int) -> bool:
    return r == "#" and i < 3


def _accept_percent_func(r: str, i: int) -> bool:
    return r == "%" and i < 3


def _accept_default_func(r: str, i: int) -> bool:
    return (i == 1 and r == ":") or (i == 2 and r in "=-?+")


def _accept_replace_func(r: str, i: int) -> bool:
    return (i == 1 and r == "/") or (i == 2 and r in "/#%")


def _accept_one_equal(r: str, i: int) -> bool:
    return i == 1 and r == "="


def _accept_one_colon(r: str, i: int) -> bool:
    return i == 1 and r == ":"


def _reject_colon_close(r: str, i: int) -> bool:
    return r not in ":}"


def _accept_slash(r: str, i: int) -> bool:
    return r == "/"


def _accept_not_slash(r: str, i: int) -> bool:
    return r != "/"


def _accept_casing_func(r: str, i: int) -> bool:
    return r in ",^" and i < 3


Accept = Callable[[str, int], bool]


class _Scanner:
    """parse/scan.go over a Python string. Go's ``skip`` deletes the escape character
    from its buffer; here the buffer is never copied (that would be quadratic on ``$$$$``):
    the token is kept as slices, and positions stay in the original text."""

    def __init__(self, text: str) -> None:
        self.buf = text
        self.pos = 0
        self.width = 0
        self.mode = 0
        self.escapes = 0
        self.accept: Accept = _accept_rune
        self._start = 0
        self._parts: list[str] = []
        self._part_start = 0
        self._skipped = 0

    def read(self) -> str:
        if self.pos >= len(self.buf):
            self.width = 0
            return _EOF
        self.width = 1
        self.pos += 1
        return self.buf[self.pos - 1]

    def unread(self) -> None:
        self.pos -= self.width

    def peek(self) -> str:
        r = self.read()
        self.unread()
        return r

    def string(self) -> str:
        return "".join(self._parts) + self.buf[self._part_start : self.pos]

    def scan(self) -> int:
        self._start = self._part_start = self.pos
        self._parts = []
        self._skipped = 0
        r = self.read()
        if r == _EOF:
            return _T_EOF
        if self._scan_lbrack(r):
            return _T_LBRACK
        if self._scan_rbrack(r):
            return _T_RBRACK
        if self._scan_ident(r):
            return _T_IDENT
        return _T_ILLEGAL

    def _index(self) -> int:
        return self.pos - self._start - self._skipped

    def _skip(self) -> None:
        # The escape character (just read) is dropped and the escaped one taken as read.
        at = self.pos - 1
        self._parts.append(self.buf[self._part_start : at])
        self._part_start = at + 1
        self._skipped += 1
        self.pos = at + 2

    def _scan_ident(self, r: str) -> bool:
        if not self.mode & _IDENT:
            return False
        if self._scan_escaped(r):
            self._skip()
        elif not self.accept(r, self._index()):
            return False
        # Plain text takes every character up to a "$" (the only one that starts a
        # variable or an escape here): jump there instead of reading each one.
        plain = self.accept is _accept_rune and not self.escapes & _BACKSLASH
        while True:
            if plain:
                found = self.buf.find("$", self.pos)
                self.pos = len(self.buf) if found < 0 else found
            r = self.read()
            if r == _EOF:
                self.unread()
                break
            if self._scan_lbrack(r):
                self.unread()
                self.unread()
                break
            if self._scan_escaped(r):
                self._skip()
                continue
            if not self.accept(r, self._index()):
                self.unread()
                break
        return True

    def _scan_lbrack(self, r: str) -> bool:
        if not self.mode & _LBRACK:
            return False
        if r == "$":
            if self.read() == "{":
                return True
            self.unread()
        return False

    def _scan_rbrack(self, r: str) -> bool:
        return bool(self.mode & _RBRACK) and r == "}"

    def _scan_escaped(self, r: str) -> bool:
        if not self.mode & _ESCAPE:
            return False
        if r == "$" and self.escapes & _DOLLAR and self.peek() == "$":
            return True
        return r == "\\" and bool(self.escapes & _BACKSLASH) and self.peek() in ("/", "\\")


# --------------------------------------------------------------------------- parsing

_BAD_SUBSTITUTION = "bad substitution"
_MISSING_BRACE = "missing closing brace"
_BAD_NAME = "unable to parse variable name"
_BAD_ARGUMENT = "unable to parse substitution within function"
_BAD_DEFAULT = "unable to parse default function"


@dataclass(frozen=True)
class Template:
    """A parsed text: :func:`parse` once, :meth:`evaluate` against any variables."""

    nodes: tuple[Node, ...]
    names: frozenset[str] = field(default=frozenset())

    def evaluate(self, lookup: Lookup) -> Evaluation:
        return _Evaluator(lookup).run(self.nodes)


def parse(text: str) -> Template:
    """Parse ``text`` as Flux does; raise :class:`SubstitutionSyntaxError` where Flux fails."""
    end = text.find("\x00")
    parser = _Parser(text if end < 0 else text[:end])
    nodes = parser.parse_any()
    return Template(nodes=nodes, names=frozenset(_names(nodes)))


def _names(nodes: tuple[Node, ...]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, Func):
            yield node.param
            yield from _names(node.args)


class _Parser:
    """parse/parse.go; Go recurses for each text token, this loops."""

    def __init__(self, text: str) -> None:
        self.s = _Scanner(text)

    def parse_any(self) -> tuple[Node, ...]:
        s = self.s
        nodes: list[Node] = []
        while True:
            s.accept = _accept_rune
            s.mode = _IDENT | _LBRACK | _ESCAPE
            s.escapes = _DOLLAR
            token = s.scan()
            if token == _T_IDENT:
                nodes.append(Text(s.string()))
            elif token == _T_EOF:
                return tuple(nodes)
            elif token == _T_LBRACK:
                nodes.append(self.parse_func(1))
            else:
                raise SubstitutionSyntaxError(_BAD_SUBSTITUTION)

    def parse_func(self, depth: int) -> Func:
        if depth > MAX_DEPTH:
            raise SubstitutionSyntaxError(f"substitutions nested deeper than {MAX_DEPTH}")
        s = self.s
        s.escapes = _ALL_ESCAPES
        if s.peek() == "#":
            return self.parse_len_func()
        s.accept = _accept_ident
        s.mode = _IDENT
        if s.scan() != _T_IDENT:
            raise SubstitutionSyntaxError(_BAD_NAME)
        name = s.string()
        following = s.peek()
        if following == ":":
            return self.parse_default_or_substr(name, depth)
        if following == "=":
            return self.parse_default_func(name, depth)
        if following in (",", "^"):
            return self.parse_casing_func(name)
        if following == "/":
            return self.parse_replace_func(name, depth)
        if following == "#":
            return self.parse_remove_func(name, _accept_hash_func, depth)
        if following == "%":
            return self.parse_remove_func(name, _accept_percent_func, depth)
        s.accept = _accept_ident
        s.mode = _RBRACK
        if s.scan() != _T_RBRACK:
            raise SubstitutionSyntaxError(_MISSING_BRACE)
        return Func(param=name)

    def parse_param(self, accept: Accept, mode: int, depth: int) -> Node:
        s = self.s
        s.accept = accept
        s.mode = mode | _LBRACK
        token = s.scan()
        if token == _T_LBRACK:
            return self.parse_func(depth + 1)
        if token in (_T_IDENT, _T_RBRACK):
            return Text(s.string())
        raise SubstitutionSyntaxError(_BAD_ARGUMENT)

    def operator(self, accept: Accept, error: str = _BAD_SUBSTITUTION) -> str:
        s = self.s
        s.accept = accept
        s.mode = _IDENT
        if s.scan() != _T_IDENT:
            raise SubstitutionSyntaxError(error)
        return s.string()

    def parse_default_or_substr(self, name: str, depth: int) -> Func:
        s = self.s
        s.read()
        following = s.peek()
        s.unread()
        if following in ("=", "-", "?", "+"):
            return self.parse_default_func(name, depth)
        return self.parse_substr_func(name, depth)

    def parse_substr_func(self, name: str, depth: int) -> Func:
        s = self.s
        operator = self.operator(_accept_one_colon)
        args = [self.parse_param(_reject_colon_close, _IDENT, depth)]
        s.accept = _accept_colon
        s.mode = _IDENT | _RBRACK
        token = s.scan()
        if token == _T_RBRACK:
            return Func(name, operator, tuple(args))
        if token != _T_IDENT:
            raise SubstitutionSyntaxError(_BAD_SUBSTITUTION)
        args.append(self.parse_param(_accept_not_closing, _IDENT, depth))
        self.consume_rbrack()
        return Func(name, operator, tuple(args))

    def parse_remove_func(self, name: str, accept: Accept, depth: int) -> Func:
        operator = self.operator(accept)
        arg = self.parse_param(_accept_not_closing, _IDENT, depth)
        self.consume_rbrack()
        return Func(name, operator, (arg,))

    def parse_replace_func(self, name: str, depth: int) -> Func:
        s = self.s
        operator = self.operator(_accept_replace_func)
        args: list[Node] = []
        if s.peek() == "/":
            args.append(Text(""))  # ${var/#/x}: an empty pattern
        else:
            args.append(self.parse_param(_accept_not_slash, _IDENT | _ESCAPE, depth))
        self.operator(_accept_slash)  # the delimiter (any run of slashes)
        if s.peek() == "}":
            self.consume_rbrack()
            return Func(name, operator, tuple(args))
        args.append(self.parse_param(_accept_not_closing, _IDENT | _ESCAPE, depth))
        self.consume_rbrack()
        return Func(name, operator, tuple(args))

    def parse_default_func(self, name: str, depth: int) -> Func:
        s = self.s
        accept = _accept_one_equal if s.peek() == "=" else _accept_default_func
        operator = self.operator(accept, _BAD_DEFAULT)
        args: list[Node] = []
        while s.peek() != "}":
            args.append(self.parse_param(_accept_not_closing, _IDENT, depth))
        self.consume_rbrack()
        return Func(name, operator, tuple(args))

    def parse_casing_func(self, name: str) -> Func:
        operator = self.operator(_accept_casing_func)
        self.consume_rbrack()
        return Func(name, operator)

    def parse_len_func(self) -> Func:
        operator = self.operator(_accept_one_hash)
        param = self.operator(_accept_ident)
        self.consume_rbrack()
        return Func(param, operator)

    def consume_rbrack(self) -> None:
        self.s.mode = _RBRACK
        if self.s.scan() != _T_RBRACK:
            raise SubstitutionSyntaxError(_BAD_SUBSTITUTION)


# --------------------------------------------------------------------------- evaluating


class _Evaluator:
    """template.go: arguments first, then the variable, then the function."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup
        self.unknown: set[str] = set()
        self.undefined: set[str] = set()

    def run(self, nodes: tuple[Node, ...]) -> Evaluation:
        pieces = self.nodes(nodes)
        return Evaluation(_joined(pieces), frozenset(self.unknown), frozenset(self.undefined))

    def nodes(self, nodes: tuple[Node, ...]) -> list[Piece]:
        pieces: list[Piece] = []
        for node in nodes:
            if isinstance(node, Text):
                pieces.append(node.value)
            else:
                pieces.extend(self.func(node))
        return pieces

    def func(self, node: Func) -> list[Piece]:
        args = [_joined(self.nodes((arg,))) for arg in node.args]
        value = self.lookup(node.param)
        if value is UNDEFINED:
            if node.name not in DEFAULT_OPERATORS:
                self.undefined.add(node.param)
            value = ""
        elif value is UNKNOWN:
            self.unknown.add(node.param)
        if _is_default(node.name, len(args)):
            if isinstance(value, str):
                if value or not args:
                    return [value]
                return [piece for arg in args for piece in arg]
            return [Hole(node.param)]
        if not isinstance(value, str) or any(not _is_text(arg) for arg in args):
            return [Hole(node.param)]
        texts = ["".join(piece for piece in arg if isinstance(piece, str)) for arg in args]
        return [FUNCTIONS[_function_name(node.name, len(texts))](value, texts)]


def _joined(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Adjacent text merged (in one join, not by repeated concatenation), empty text
    dropped: a single string when everything is known."""
    out: list[Piece] = []
    run: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            run.append(piece)
            continue
        if any(run):
            out.append("".join(run))
        run = []
        out.append(piece)
    if any(run):
        out.append("".join(run))
    return tuple(out)


def _is_text(pieces: tuple[Piece, ...]) -> bool:
    return all(isinstance(piece, str) for piece in pieces)


def _function_name(name: str, args: int) -> str:
    return "len" if name == "#" and args == 0 else name


def _is_default(name: str, args: int) -> bool:
    """lookupFunc falls back to toDefault for every name it does not know (``^,`` too)."""
    return _function_name(name, args) not in FUNCTIONS


def expand(text: str, values: Mapping[str, str], *, strict: bool = False) -> str:
    """``envsubst.Eval`` with known values: what ``flux envsubst`` prints. Raises
    :class:`SubstitutionSyntaxError`, or in strict mode :class:`KeyError` naming a
    variable that is read without a default and not defined."""
    evaluation = parse(text).evaluate(lambda name: values.get(name, UNDEFINED))
    if strict and evaluation.undefined:
        raise KeyError(sorted(evaluation.undefined)[0])
    return evaluation.text()
