"""``rail cache info|prune|clear``, ``--no-cache`` and ``RAIL_NO_CACHE``, as processes;
and the output of every command the same with the cache off, cold and warm."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REPO_ROOT, RunRail, copy_stack

from renderer.cache import store


def entries(folder: Path) -> list[Path]:
    return [
        path
        for path in (folder / store.layout_name()).rglob("*")
        if path.is_file() and path.name not in ("usage", "seen")
    ]


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    return copy_stack(REPO_ROOT, tmp_path / "stack")


def env_for(folder: Path, **extra: str) -> dict[str, str]:
    return {"RAIL_CACHE_DIR": str(folder), "RAIL_NO_CACHE": "", "RAIL_CACHE_MAX_BYTES": "", **extra}


def test_info_on_a_fresh_folder_then_after_a_run(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    fresh = run_rail("cache", "info", cwd=stack, env=env_for(folder))
    assert fresh.returncode == 0, fresh.stderr
    assert f"folder:  {folder}\n" in fresh.stdout
    assert "in use:  yes\n" in fresh.stdout
    assert "cap:     2048.0 MiB" in fresh.stdout
    assert "total:   0 entries" in fresh.stdout
    assert "seen:    0 keys seen once" in fresh.stdout
    assert run_rail("lint", cwd=stack, env=env_for(folder)).returncode == 0
    seen = run_rail("cache", "info", cwd=stack, env=env_for(folder))
    assert "total:   0 entries" in seen.stdout and "seen:    0 keys" not in seen.stdout
    assert run_rail("lint", cwd=stack, env=env_for(folder)).returncode == 0  # seen again: stored
    after = run_rail("cache", "info", cwd=stack, env=env_for(folder))
    assert after.returncode == 0
    for kind in ("parse", "render", "verdict", "positions"):
        assert f"  {kind} " in after.stdout, after.stdout
    assert "total:   0 entries" not in after.stdout


def test_info_says_why_the_cache_is_not_used(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    off = run_rail("--no-cache", "cache", "info", cwd=stack, env=env_for(folder))
    assert off.returncode == 0 and "in use:  no: turned off (--no-cache)" in off.stdout
    by_env = run_rail("cache", "info", cwd=stack, env=env_for(folder, RAIL_NO_CACHE="1"))
    assert by_env.returncode == 0 and "in use:  no: turned off (RAIL_NO_CACHE)" in by_env.stdout
    assert not folder.exists()  # turned off: not even made
    folder.mkdir()
    folder.chmod(0o777)
    shared = run_rail("cache", "info", cwd=stack, env=env_for(folder))
    assert shared.returncode == 0 and "in use:  no: others can write to it (mode 0777" in shared.stdout


@pytest.mark.parametrize("how", ["option", "environment"])
def test_turned_off_nothing_is_written(run_rail: RunRail, stack: Path, tmp_path: Path, how: str) -> None:
    folder = tmp_path / "cache"
    args = ("--no-cache", "lint") if how == "option" else ("lint",)
    env = env_for(folder, RAIL_NO_CACHE="1") if how == "environment" else env_for(folder)
    assert run_rail(*args, cwd=stack, env=env).returncode == 0
    assert not folder.exists() or entries(folder) == []
    assert not (folder / "templates").exists() or not any((folder / "templates").iterdir())


def test_a_shared_folder_is_not_used_and_the_run_goes_on(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    result = run_rail("lint", cwd=stack, env=env_for(folder))
    assert result.returncode == 0, result.stderr
    assert list(folder.iterdir()) == []


def test_prune_applies_the_cap(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    for _ in range(2):  # seen, then stored
        assert run_rail("render", "--check", cwd=stack, env=env_for(folder)).returncode == 0
    before = entries(folder)
    cap = sum(path.stat().st_size for path in before) // 2
    stale = folder / "v0-0.0.0" / "parse" / "ab"
    stale.mkdir(parents=True)
    (stale / ("ab" * 32)).write_bytes(b"old")
    result = run_rail("cache", "prune", cwd=stack, env=env_for(folder, RAIL_CACHE_MAX_BYTES=str(cap)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"pruned {folder}: removed ")
    after = entries(folder)
    assert 0 < len(after) < len(before)
    assert sum(path.stat().st_size for path in after) <= cap
    assert not (folder / "v0-0.0.0").exists()


def test_clear_removes_only_what_rail_wrote(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    assert run_rail("lint", cwd=stack, env=env_for(folder)).returncode == 0
    (folder / "mine.txt").write_text("not rail's", encoding="utf-8")
    result = run_rail("cache", "clear", cwd=stack, env=env_for(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"cleared {folder}: removed ")
    assert sorted(path.name for path in folder.iterdir()) == ["mine.txt"]
    again = run_rail("cache", "clear", cwd=stack, env=env_for(folder))
    assert again.returncode == 0 and "removed 0 entries" in again.stdout
    missing = run_rail("cache", "clear", cwd=stack, env=env_for(tmp_path / "nowhere"))
    assert missing.returncode == 0 and "does not exist" in missing.stdout


def test_clear_and_prune_refuse_a_folder_that_is_not_private(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / "templates").mkdir()
    folder.chmod(0o777)
    for command in ("clear", "prune"):
        result = run_rail("cache", command, cwd=stack, env=env_for(folder))
        assert result.returncode == 2
        assert "not rail's private cache folder (others can write to it" in result.stderr
        assert "Traceback" not in result.stderr
    assert (folder / "templates").is_dir()


def test_cache_help_documents_the_switches(run_rail: RunRail, stack: Path) -> None:
    top = run_rail("--help", cwd=stack)
    assert "--no-cache" in top.stdout and "cache" in top.stdout
    text = run_rail("cache", "--help", cwd=stack).stdout
    for word in ("RAIL_CACHE_DIR", "RAIL_CACHE_MAX_BYTES", "RAIL_NO_CACHE", "info", "prune", "clear"):
        assert word in text


def test_output_is_the_same_off_cold_and_warm(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    """Byte for byte, exit codes included: lint, render --check, check, and a render into
    an empty folder (its files compared too)."""
    folder = tmp_path / "cache"
    (stack / "values" / "s3" / "postgresql-ha.yaml").open("a", encoding="utf-8").write("extraKnob: 1\n")

    def run_all(env: dict[str, str]) -> list[tuple[int, str, str]]:
        results = []
        for args in (("lint",), ("render", "--check"), ("check",), ("lint", "--format", "json")):
            done = run_rail(*args, cwd=stack, env=env)
            results.append((done.returncode, done.stdout, done.stderr))
        return results

    off = run_all(env_for(folder, RAIL_NO_CACHE="1"))
    assert not folder.exists() or entries(folder) == []
    cold = run_all(env_for(folder))
    second = run_all(env_for(folder))  # the runs that store what the cold ones saw
    assert entries(folder)
    warm = run_all(env_for(folder))
    assert off == cold == second == warm
    assert {code for code, _, _ in off} <= {0, 1}
    renders = []
    for mode in ("1", ""):
        target = copy_stack(REPO_ROOT, tmp_path / f"render-{mode or 'warm'}", outputs=False)
        done = run_rail("render", cwd=target, env=env_for(folder, RAIL_NO_CACHE=mode))
        assert done.returncode == 0, done.stderr
        renders.append(
            {p.relative_to(target).as_posix(): p.read_bytes() for p in (target / "rendered").rglob("*") if p.is_file()}
        )
    assert renders[0] == renders[1]


def test_two_commands_at_once_share_the_folder(run_rail: RunRail, stack: Path, tmp_path: Path) -> None:
    import subprocess

    from conftest import RAIL

    folder = tmp_path / "cache"
    env = {**os.environ, **env_for(folder)}
    runs = [
        subprocess.Popen([str(RAIL), *args], cwd=stack, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in (("lint",), ("lint",), ("render", "--check"))
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _, err in outputs]
    assert outputs[0] == outputs[1]
    warm = run_rail("lint", cwd=stack, env=env_for(folder))
    assert (warm.stdout.encode(), warm.stderr.encode()) == outputs[0]
    assert list(folder.rglob(".tmp-*")) == []
