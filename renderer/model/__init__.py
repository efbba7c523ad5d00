"""The validated stack: frozen dataclasses built by validating factories, no I/O."""

from .backup import BACKUP_KIND, Backup, Coverage, Destination
from .stack import (
    SERVICE_CLASSES,
    ArgoSettings,
    Chart,
    Export,
    FluxSettings,
    Layer,
    Release,
    Source,
    Stack,
    StackConfig,
    ValuesFrom,
)

__all__ = [
    "BACKUP_KIND",
    "SERVICE_CLASSES",
    "ArgoSettings",
    "Backup",
    "Chart",
    "Coverage",
    "Destination",
    "Export",
    "FluxSettings",
    "Layer",
    "Release",
    "Source",
    "Stack",
    "StackConfig",
    "ValuesFrom",
]
