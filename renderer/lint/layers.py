"""Which layer a manifest belongs to (DESIGN.md contract, in this order): the
``railiance.io/layer`` label, the stack config's path globs, its namespace lists;
else none, which the ``layer-unassigned`` rule reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ..model import Layer, StackConfig

LAYER_LABEL = "railiance.io/layer"
CLASS_LABEL = "railiance.io/service-class"


@dataclass(frozen=True)
class LayerAssignment:
    layer: Layer | None
    reason: str  # "label", "path", "namespace" or "" when unassigned


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


def assign(config: StackConfig, label: object, path: str, namespace: str | None) -> LayerAssignment:
    if isinstance(label, str):
        layer = config.layer(label)
        if layer is not None:
            return LayerAssignment(layer, "label")
    for layer in config.layers:
        if any(_glob(pattern).match(path) for pattern in layer.paths):
            return LayerAssignment(layer, "path")
    if namespace is not None:
        layer = config.layer_of_namespace(namespace)
        if layer is not None:
            return LayerAssignment(layer, "namespace")
    return LayerAssignment(None, "")
