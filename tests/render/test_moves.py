"""Moves between repositories: ``moved:`` in rail.yaml and the tombstone ``MOVED.md`` (issue 15)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import REPO_ROOT, rail

EXAMPLE = REPO_ROOT / "examples" / "multi-repo"
RECORD = """moved:
  - release: gitea
    to: railiance-apps
    path: ../apps  # where railiance-apps is checked out: rail diff shows the move as one change
    date: "2026-11-30"
    reason: "workplan T03: applications and their values live in railiance-apps"
"""


def _stacks(tmp_path: Path) -> tuple[Path, Path]:
    for name in ("cluster", "platform", "apps"):
        shutil.copytree(EXAMPLE / name, tmp_path / name)
    return tmp_path / "cluster", tmp_path / "platform"


def test_the_tombstone_follows_the_records(tmp_path: Path) -> None:
    cluster, _ = _stacks(tmp_path)
    tombstone = (cluster / "MOVED.md").read_text(encoding="utf-8")
    assert "| gitea | railiance-apps | gitea | 2026-11-30 | workplan T03:" in tombstone
    assert rail("render", "--check", cwd=cluster).returncode == 0
    config = cluster / "rail.yaml"
    text = config.read_text(encoding="utf-8")
    assert RECORD in text
    # A second record: the tombstone is stale until rendered.
    config.write_text(
        text.replace(RECORD, RECORD + '  - {release: velero, to: railiance-platform, reason: "T05 | backups"}\n'),
        encoding="utf-8",
    )
    assert "stale: MOVED.md" in rail("render", "--check", cwd=cluster).stdout
    assert rail("render", cwd=cluster).returncode == 0
    assert "| velero | railiance-platform | velero | - | T05 \\| backups |" in (cluster / "MOVED.md").read_text()
    # No record left: rail removes the file it wrote.
    config.write_text(text.replace(RECORD, ""), encoding="utf-8")
    assert "extra: MOVED.md" in rail("render", "--check", cwd=cluster).stdout
    assert rail("render", cwd=cluster).returncode == 0
    assert not (cluster / "MOVED.md").exists()


def test_a_hand_written_moved_md_is_never_overwritten(tmp_path: Path) -> None:
    cluster, _ = _stacks(tmp_path)
    (cluster / "MOVED.md").write_text("# our own notes\n", encoding="utf-8")
    done = rail("render", cwd=cluster)
    assert done.returncode == 2
    assert "MOVED.md: error: rail renders this file, but a file rail did not write is in the way" in done.stderr
    assert (cluster / "MOVED.md").read_text() == "# our own notes\n"


def test_a_moved_release_whose_spec_is_still_here_is_exit_2(tmp_path: Path) -> None:
    cluster, _ = _stacks(tmp_path)
    shutil.copy(EXAMPLE / "cluster/releases/s2/ingress-nginx.yaml", cluster / "releases/s2/gitea.yaml")
    spec = cluster / "releases/s2/gitea.yaml"
    spec.write_text(spec.read_text().replace("name: ingress-nginx\n", "name: gitea\n", 1), encoding="utf-8")
    done = rail("render", cwd=cluster)
    assert done.returncode == 2
    line = next(
        n for n, text in enumerate((cluster / "rail.yaml").read_text().splitlines(), 1) if "release: gitea" in text
    )
    assert done.stderr.startswith(f"rail.yaml:{line}:")
    assert "recorded as moved to railiance-apps, but its spec is still here" in done.stderr


def test_a_stack_still_naming_a_moved_release_is_told_where_it_went(tmp_path: Path) -> None:
    _, platform = _stacks(tmp_path)
    spec = platform / "releases/s3/valkey.yaml"
    spec.write_text(spec.read_text().replace("class: cache\n", "class: cache\ndependsOn: [cluster/gitea]\n"))
    findings = json.loads(rail("lint", "--format", "json", cwd=platform).stdout)["findings"]
    dangling = [finding for finding in findings if finding["rule"] == "dangling-reference"]
    assert len(dangling) == 1, findings
    message = dangling[0]["message"]
    assert dangling[0]["path"] == "releases/s3/valkey.yaml"
    assert "stack 'railiance-platform'" in message and "stack 'railiance-cluster' (../cluster/" in message
    assert "records as moved to railiance-apps on 2026-11-30: workplan T03" in message
