"""The validated stack: frozen dataclasses built by validating factories, no I/O."""

from .backup import BACKUP_KIND, Backup, Coverage, Destination
from .stack import (
    SERVICE_CLASSES,
    ArgoSettings,
    CacheClaim,
    Chart,
    DatabaseClaim,
    Export,
    FluxSettings,
    Layer,
    Migration,
    Needs,
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
    "CacheClaim",
    "Chart",
    "Coverage",
    "DatabaseClaim",
    "Destination",
    "Export",
    "FluxSettings",
    "Layer",
    "Migration",
    "Needs",
    "Release",
    "Source",
    "Stack",
    "StackConfig",
    "ValuesFrom",
]
