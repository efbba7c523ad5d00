"""Dependency order of a stack's releases, and the cycles that forbid one."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from ..errors import InputError, Problem
from ..model import Stack
from ..yamlio import Document


def edges(stack: Stack, referenced: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Every release's dependencies: its ``dependsOn`` and what it refers to."""
    return {
        release.name: tuple(sorted(set(release.depends_on) | set(referenced.get(release.name, ()))))
        for release in stack.releases
    }


def check_acyclic(
    stack: Stack, graph: dict[str, tuple[str, ...]], documents: Mapping[str, Document] | None = None
) -> None:
    """Raise on the first cycle found, naming it edge by edge; with the specs'
    ``documents``, at the line of each ``dependsOn`` entry in the cycle."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for dependency in graph.get(name, ()):
            if state.get(dependency) == 1:
                return [*path[path.index(dependency) :], dependency]
            if dependency not in state:
                cycle = visit(dependency)
                if cycle:
                    return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name)
            if cycle:
                raise InputError(_cycle_problems(stack, cycle, documents or {}))


def _cycle_problems(stack: Stack, cycle: list[str], documents: Mapping[str, Document]) -> list[Problem]:
    message = "dependency cycle: " + " -> ".join(cycle)
    hint = "Flux would wait forever: remove one dependsOn or reference in the cycle"
    problems = []
    for name, dependency in pairwise(cycle):
        release = stack.release(name)
        if release and dependency in release.depends_on and release.origin in documents:
            index = release.depends_on.index(dependency)
            problems.append(documents[release.origin].problem(("dependsOn", index), message, hint))
    if problems:
        return problems
    # Only references close the cycle: name the first release's spec.
    first = stack.release(cycle[0])
    return [Problem(path=first.origin if first else "rail.yaml", message=message, hint=hint)]
