"""The string functions of Flux's envsubst (``funcs.go``) and the glob its ``#``, ``##``,
``%`` and ``%%`` use (its ``path`` package: Go's ``path.Match`` where ``*`` and ``?`` also
match ``/``), ported from ``github.com/fluxcd/pkg/envsubst``.

Go strings are bytes: lengths and substring offsets count UTF-8 bytes here too. Case
mapping is Go's, one character to one character. Everything else works on characters,
which for valid UTF-8 is what Go's byte loops decide.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass


def _go_atoi(text: str) -> int | None:
    """strconv.Atoi: an optional sign and ASCII digits, within int64; else None."""
    if not _ATOI.fullmatch(text):
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 else None


_ATOI = re.compile(r"[+-]?[0-9]+")


def _simple_case(char: str, upper: bool) -> str:
    """Go maps case one rune to one rune (``ß`` stays ``ß``); Python's full mapping does not."""
    mapped = char.upper() if upper else char.lower()
    return mapped if len(mapped) == 1 else char


def _to_len(value: str, args: list[str]) -> str:
    return str(len(value.encode("utf-8")))


def _to_lower(value: str, args: list[str]) -> str:
    return "".join(_simple_case(char, False) for char in value)


def _to_upper(value: str, args: list[str]) -> str:
    return "".join(_simple_case(char, True) for char in value)


def _to_lower_first(value: str, args: list[str]) -> str:
    return _simple_case(value[0], False) + value[1:] if value else value


def _to_upper_first(value: str, args: list[str]) -> str:
    return _simple_case(value[0], True) + value[1:] if value else value


def _to_substr(value: str, args: list[str]) -> str:
    """Offsets count UTF-8 bytes, as Go slices strings; a cut inside a character is
    decoded as U+FFFD (Flux would carry the broken bytes on)."""
    data = value.encode("utf-8")
    size = len(data)
    pos = _go_atoi(args[0])
    if pos is None:
        return value
    if pos < 0:
        pos = max(size + pos, 0)
    if len(args) == 1:
        return data[pos:].decode("utf-8", "replace") if pos < size else ""
    length = _go_atoi(args[1])
    if length is None:
        return value
    if length < 0:
        end = size + length
        return "" if end < pos else data[pos:end].decode("utf-8", "replace")
    if pos + length >= size:
        return data[pos:].decode("utf-8", "replace") if pos < size else ""
    return data[pos : pos + length].decode("utf-8", "replace")


def _replace_all(value: str, args: list[str]) -> str:
    if not args:
        return value
    return value.replace(args[0], args[1] if len(args) > 1 else "")


def _replace_first(value: str, args: list[str]) -> str:
    if not args:
        return value
    return value.replace(args[0], args[1] if len(args) > 1 else "", 1)


def _replace_prefix(value: str, args: list[str]) -> str:
    if len(args) != 2 or not value.startswith(args[0]):
        return value
    return value.replace(args[0], args[1], 1)


def _replace_suffix(value: str, args: list[str]) -> str:
    if len(args) != 2 or not value.endswith(args[0]):
        return value
    return value[: len(value) - len(args[0])] + args[1]


def _trim_shortest_prefix(value: str, args: list[str]) -> str:
    return _trim_prefix(value, args[0], shortest=True) if args else value


def _trim_longest_prefix(value: str, args: list[str]) -> str:
    return _trim_prefix(value, args[0], shortest=False) if args else value


def _trim_shortest_suffix(value: str, args: list[str]) -> str:
    # Upstream reverses the value *and the pattern* and trims a prefix.
    return _trim_prefix(value[::-1], args[0][::-1], shortest=True)[::-1] if args else value


def _trim_longest_suffix(value: str, args: list[str]) -> str:
    return _trim_prefix(value[::-1], args[0][::-1], shortest=False)[::-1] if args else value


def _to_default(value: str, args: list[str]) -> str:
    return value if value or not args else "".join(args)


FUNCTIONS: dict[str, Callable[[str, list[str]], str]] = {
    ",": _to_lower_first,
    ",,": _to_lower,
    "^": _to_upper_first,
    "^^": _to_upper,
    "len": _to_len,
    "#": _trim_shortest_prefix,
    "##": _trim_longest_prefix,
    "%": _trim_shortest_suffix,
    "%%": _trim_longest_suffix,
    ":": _to_substr,
    "/#": _replace_prefix,
    "/%": _replace_suffix,
    "/": _replace_first,
    "//": _replace_all,
}


# --------------------------------------------------------------------------- the glob (path/match.go)


class _BadPattern(Exception):
    pass


def _trim_prefix(value: str, pattern: str, *, shortest: bool) -> str:
    """trimShortest / trimLongest: cut the shortest or longest prefix ``value[:n]``, n >= 1,
    that the glob matches. Upstream tries n = len .. 1 and gives up on the first error;
    a malformed chunk is always reached before a match can succeed, so a malformed pattern
    leaves the value as it is. (``%`` and ``%%`` reverse the pattern first, which is why a
    bracket expression there, reversed into ``]...[``, never matches.)"""
    atoms = _compile(pattern)
    if atoms is None:
        return value
    lengths = _matching_prefixes(atoms, value)
    if not lengths:
        return value
    return value[(min(lengths) if shortest else max(lengths)) :]


class _Wild(enum.Enum):
    """The wildcards; a literal ``*`` or ``?`` (escaped in the pattern) is a plain string."""

    STAR = "*"
    ANY = "?"


@dataclass(frozen=True)
class _Class:
    negated: bool
    ranges: tuple[tuple[str, str], ...]

    def matches(self, char: str) -> bool:
        return any(lo <= char <= hi for lo, hi in self.ranges) != self.negated


_Atom = str | _Class | _Wild


def _compile(pattern: str) -> list[_Atom] | None:
    """The pattern as atoms, or None when a chunk of it is malformed."""
    atoms: list[_Atom] = []
    rest = pattern
    try:
        while rest:
            star, chunk, rest = _scan_chunk(rest)
            if star:
                atoms.append(_Wild.STAR)
            atoms.extend(_chunk_atoms(chunk))
    except _BadPattern:
        return None
    return atoms


def _matching_prefixes(atoms: list[_Atom], value: str) -> set[int]:
    """Every n >= 1 for which ``value[:n]`` matches the whole pattern, in one pass over the
    value with the set of pattern positions as the bits of an int (shift-and). For a
    well-formed pattern this is what upstream's chunk matcher decides, without its loop
    over every prefix and every skip."""
    stars = sum(1 << index for index, atom in enumerate(atoms) if atom is _Wild.STAR)
    accept = 1 << len(atoms)
    masks: dict[str, int] = {}

    def mask(char: str) -> int:
        if char not in masks:
            masks[char] = sum(1 << index for index, atom in enumerate(atoms) if _consumes(atom, char))
        return masks[char]

    # Stars are never adjacent (a run of them is one chunk prefix): one step closes.
    states = 1 | (1 & stars) << 1
    found: set[int] = set()
    for index, char in enumerate(value, start=1):
        states = ((states & mask(char)) << 1) | (states & stars)
        states |= (states & stars) << 1
        if not states:
            break
        if states & accept:
            found.add(index)
    return found


def _consumes(atom: _Atom, char: str) -> bool:
    """Whether a non-star atom matches ``char`` (a star keeps its own position)."""
    if atom is _Wild.ANY:
        return True
    if isinstance(atom, _Class):
        return atom.matches(char)
    return atom == char


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """A run of stars, then the chunk up to the next star outside brackets."""
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 < len(pattern):
                index += 1
        elif char == "[":
            in_range = True
        elif char == "]":
            in_range = False
        elif char == "*" and not in_range:
            break
        index += 1
    return star, pattern[:index], pattern[index:]


def _get_esc(chunk: str) -> tuple[str, str]:
    """One member of a bracket expression; upstream also refuses one that ends the chunk."""
    if not chunk or chunk[0] in "-]":
        raise _BadPattern
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern
    if len(chunk) == 1:
        raise _BadPattern
    return chunk[0], chunk[1:]


def _bracket(chunk: str) -> tuple[_Class, str]:
    """A bracket expression, ``chunk`` just past its ``[``; returns the rest of the chunk."""
    negated = chunk.startswith("^")
    if negated:
        chunk = chunk[1:]
    ranges: list[tuple[str, str]] = []
    while True:
        if chunk.startswith("]") and ranges:
            return _Class(negated, tuple(ranges)), chunk[1:]
        lo, chunk = _get_esc(chunk)
        hi = lo
        if chunk[0] == "-":
            hi, chunk = _get_esc(chunk[1:])
        ranges.append((lo, hi))


def _chunk_atoms(chunk: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    while chunk:
        head = chunk[0]
        if head == "[":
            bracket, chunk = _bracket(chunk[1:])
            atoms.append(bracket)
            continue
        if head == "\\":
            chunk = chunk[1:]
            if not chunk:
                raise _BadPattern
            atoms.append(chunk[0])
        else:
            atoms.append(_Wild.ANY if head == "?" else head)
        chunk = chunk[1:]
    return atoms
