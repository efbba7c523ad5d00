"""Which layer a manifest belongs to (DESIGN.md contract, in this order): the
``railiance.io/layer`` label, the stack config's path globs, the Flux
Kustomization that applies it (a layer's ``kustomizations`` name globs, the nearest
applier that matches: a team maps its existing tree onto layers without relabelling
a file), its namespace lists; else none, which the ``layer-unassigned`` rule reports.

A ``kustomizations`` glob with a ``/`` matches ``namespace/name``, one without the
name alone (``infra-*``, ``flux-system/apps``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache

from ..model import Layer, StackConfig
from .manifests import Applier

LAYER_LABEL = "railiance.io/layer"
CLASS_LABEL = "railiance.io/service-class"


@dataclass(frozen=True)
class LayerAssignment:
    layer: Layer | None
    reason: str  # "label", "path", "kustomization", "namespace" or "" when unassigned


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            out += ".*"
            index += 2
        elif pattern[index] == "*":
            out += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            out += "[^/]"
            index += 1
        else:
            out += re.escape(pattern[index])
            index += 1
    return re.compile(out + r"\Z")


def assign(
    config: StackConfig, label: object, path: str, namespace: str | None, appliers: Sequence[Applier] = ()
) -> LayerAssignment:
    """``appliers``: the Flux Kustomizations that apply the object, the nearest first."""
    if isinstance(label, str):
        layer = config.layer(label)
        if layer is not None:
            return LayerAssignment(layer, "label")
    for layer in config.layers:
        if any(_glob(pattern).match(path) for pattern in layer.paths):
            return LayerAssignment(layer, "path")
    for applier in appliers:
        for layer in config.layers:
            if any(_matches_kustomization(pattern, applier) for pattern in layer.kustomizations):
                return LayerAssignment(layer, "kustomization")
    if namespace is not None:
        layer = config.layer_of_namespace(namespace)
        if layer is not None:
            return LayerAssignment(layer, "namespace")
    return LayerAssignment(None, "")


def _matches_kustomization(pattern: str, applier: Applier) -> bool:
    if applier.kind != "Kustomization":
        return False
    subject = f"{applier.namespace}/{applier.name}" if "/" in pattern else applier.name
    return fnmatchcase(subject, pattern)
