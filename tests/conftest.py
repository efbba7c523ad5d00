"""Shared fixtures: the repository, the reference data beside it, copies of the
shipped stack, and the installed ``rail`` command run as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# What a stack is made of, and the folders rail renders into (copied when present).
STACK_FILES = ("rail.yaml",)
STACK_FOLDERS = ("releases", "values", "secrets", "templates")
OUTPUT_FOLDERS = ("rendered", "docs")
# The console script installed beside this interpreter (cli.py has no __main__).
RAIL = Path(sys.executable).parent / "rail"


# A database release in S2 (with its chart source): one layer-boundary error, the
# smallest foreign repository with a finding. Used where a test needs "a real finding".
DATABASE_IN_S2 = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: pg, namespace: kube-system, labels: {railiance.io/service-class: database}}
spec:
  interval: 10m
  chart: {spec: {chart: pg, version: 1.0.0, sourceRef: {kind: HelmRepository, name: r}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: r, namespace: kube-system}
spec: {interval: 1h, url: "https://charts.example.com"}
"""

# Git must not read the user's or the system's configuration (signing, hooks, templates).
GIT_ENV = {
    "GIT_AUTHOR_NAME": "rail tests",
    "GIT_AUTHOR_EMAIL": "rail-tests@example.com",
    "GIT_COMMITTER_NAME": "rail tests",
    "GIT_COMMITTER_EMAIL": "rail-tests@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

RunRail = Callable[..., "subprocess.CompletedProcess[str]"]


def copy_stack(source: Path, destination: Path, *, outputs: bool = True) -> Path:
    """Copy the stack at ``source`` into ``destination`` (created) and return it;
    with ``outputs`` false, without what rail rendered there."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in STACK_FILES:
        shutil.copy2(source / name, destination / name)
    for name in STACK_FOLDERS + (OUTPUT_FOLDERS if outputs else ()):
        if (source / name).is_dir():
            shutil.copytree(source / name, destination / name, symlinks=True)
    return destination


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, by POSIX path relative to it, with its bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def rail(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``rail`` in ``cwd``; ``env`` entries are added to the current environment."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        [str(RAIL), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120, check=False
    )
    cache_written(full_env)
    return done


def cache_written(env: Mapping[str, str | None]) -> None:
    """Return once the writes a ``rail`` process left to a child of its own are done
    (``renderer.cache.later``): the test may look into the cache folder next, or remove it."""
    from renderer.cache.later import wait_for_writers

    folder = env.get("RAIL_CACHE_DIR")
    if folder:
        wait_for_writers(Path(folder))


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rail's cache in a folder of the test run's, not the user's home."""
    folder = tmp_path_factory.mktemp("rail-cache")
    os.environ["RAIL_CACHE_DIR"] = str(folder)
    # The same suite on a laptop and in CI: the CI default (cache off without
    # RAIL_CACHE_DIR) is tested on its own, with CI set by that test.
    os.environ.pop("CI", None)
    return folder


@pytest.fixture(autouse=True)
def cache_writes_done() -> Iterator[None]:
    """After each test, no child of a ``rail`` process it ran still writes to the shared
    cache folder: the next test starts from what the last one left."""
    yield
    cache_written(os.environ)


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache folder for this test, the cache on (settings are worked out once a run)."""
    from renderer.cache import settings

    where = tmp_path / "cache"
    monkeypatch.setenv("RAIL_CACHE_DIR", str(where))
    monkeypatch.delenv("RAIL_NO_CACHE", raising=False)
    monkeypatch.delenv("RAIL_CACHE_MAX_BYTES", raising=False)
    settings.switch_on()
    yield where
    settings.switch_on()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir(repo_root: Path) -> Path:
    shared = repo_root.parent / "shared"
    if not shared.is_dir():
        pytest.skip(f"reference data folder {shared} is missing (the 'shared' folder beside the repository)")
    return shared


@pytest.fixture
def stack_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped stack, free to break."""
    return copy_stack(REPO_ROOT, tmp_path / "stack")


@pytest.fixture
def unrendered_stack(tmp_path: Path) -> Path:
    """A private copy of the shipped stack's sources only (config, specs, values, secrets, templates)."""
    return copy_stack(REPO_ROOT, tmp_path / "stack", outputs=False)


@pytest.fixture(scope="session")
def rendered_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped stack, freshly rendered in-process. Shared: do not modify."""
    from renderer.app import run_render

    root = copy_stack(REPO_ROOT, tmp_path_factory.mktemp("rendered") / "stack", outputs=False)
    run_render(root, "all", check=False)
    return root


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Path], dict[str, bytes]]:
    """``snapshot(folder)``: every file under it, by relative POSIX path, with its bytes."""
    return tree_bytes


@pytest.fixture(scope="session")
def run_rail() -> RunRail:
    """``run_rail(*args, cwd=..., env=None)``: the installed CLI as a process, text output."""
    if not RAIL.is_file():
        pytest.fail(f"the rail console script is not installed at {RAIL}: pip install -e .")
    return rail
