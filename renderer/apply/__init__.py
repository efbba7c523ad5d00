"""The apply model: what Flux and Argo CD apply, built from the repository's files."""

from .kustomize import build
from .model import AppliedObject, Build, BuildNote, Location, Overlay

__all__ = ["AppliedObject", "Build", "BuildNote", "Location", "Overlay", "build"]
