"""The validated stack: frozen dataclasses built by validating factories, no I/O."""

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
    "SERVICE_CLASSES",
    "ArgoSettings",
    "CacheClaim",
    "Chart",
    "DatabaseClaim",
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
