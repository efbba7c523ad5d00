"""Dependency order of a stack's releases, and the cycles that forbid one."""

from __future__ import annotations

from ..errors import InputError, Problem
from ..model import Stack


def edges(stack: Stack, referenced: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Every release's dependencies: its ``dependsOn`` and what it refers to."""
    return {
        release.name: tuple(sorted(set(release.depends_on) | set(referenced.get(release.name, ()))))
        for release in stack.releases
    }


def check_acyclic(stack: Stack, graph: dict[str, tuple[str, ...]]) -> None:
    """Raise on the first cycle found, naming it edge by edge."""
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
                first = stack.release(cycle[0])
                raise InputError(
                    Problem(
                        path=first.origin if first else "rail.yaml",
                        message="dependency cycle: " + " -> ".join(cycle),
                        hint="Flux would wait forever: remove one dependsOn or reference in the cycle",
                    )
                )
