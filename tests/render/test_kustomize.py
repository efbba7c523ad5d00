"""``kubectl kustomize`` builds every folder rail renders for Flux."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

pytestmark = pytest.mark.slow

# What each folder of the shipped stack must contain once built.
EXPECTED_KINDS = {
    "layers": {"Kustomization"},
    "s2-cluster": {"Namespace", "HelmRepository"},
    "s3-platform": {"HelmRelease", "OCIRepository", "Secret"},
    "s5-apps": {"HelmRelease", "Secret"},
}


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl not on PATH")
    return found


def build(kubectl: str, folder: Path) -> list[dict]:
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {folder.name} failed:\n{result.stderr}"
    return [doc for doc in YAML(typ="safe", pure=True).load_all(result.stdout) if doc is not None]


def test_every_flux_folder_builds(rendered_stack: Path, kubectl: str) -> None:
    flux = rendered_stack / "rendered" / "flux"
    folders = sorted(path for path in flux.iterdir() if path.is_dir())
    assert {folder.name for folder in folders} == set(EXPECTED_KINDS)
    for folder in folders:
        objects = build(kubectl, folder)
        listed = sorted(p.name for p in folder.iterdir() if p.name != "kustomization.yaml")
        assert len(objects) == len(listed), f"{folder.name}: built {len(objects)} objects from {len(listed)} files"
        kinds = {obj["kind"] for obj in objects}
        assert kinds >= EXPECTED_KINDS[folder.name], f"{folder.name}: built only {sorted(kinds)}"
