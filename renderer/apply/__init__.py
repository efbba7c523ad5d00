"""The apply model: what Flux and Argo CD apply, built from the repository's files."""

from .flux import Applied, FluxKustomization, apply_repository
from .kustomize import build
from .model import AppliedObject, Build, BuildNote, Location, Overlay

__all__ = [
    "Applied",
    "AppliedObject",
    "Build",
    "BuildNote",
    "FluxKustomization",
    "Location",
    "Overlay",
    "apply_repository",
    "build",
]
