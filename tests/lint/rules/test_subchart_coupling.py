"""subchart-coupling beyond its cases: Helm's enabled algorithm step by step, local
chart discovery (folders and hostile packages), notes, and unknown values.

The packaged chart of the ``packaged-chart`` case is built by :func:`package`:
``python tests/lint/rules/test_subchart_coupling.py`` rewrites it, and a test
checks the committed file is what the builder makes.
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from renderer.app import run_lint
from renderer.lint.charts import dependency_enabled, discover
from renderer.lint.charts import local as local_charts
from renderer.lint.rule import LintOptions

REPO = Path(__file__).resolve().parents[3]
PACKAGE = REPO / "tests/cases/lint/subchart-coupling/packaged-chart/input/charts/webapp-1.2.0.tgz"
PACKAGE_FILES = {
    "webapp/Chart.yaml": """\
apiVersion: v2
name: webapp
version: 1.2.0
dependencies:
  - name: redis
    alias: cache
    version: 20.x.x
    repository: oci://registry-1.docker.io/bitnamicharts
    condition: cache.enabled
""",
    "webapp/values.yaml": """\
cache:
  enabled: true
""",
    "webapp/templates/deployment.yaml": "# not read by rail\n",
}


def tar_bytes(files: dict[str, str | bytes], *, sizes: dict[str, int] | None = None) -> bytes:
    """A deterministic uncompressed tar: fixed owner, mode and time, in the given order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, 0, "", ""
            archive.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    for name, size in (sizes or {}).items():
        # Forge a header's size field (a bomb's claim) without writing the data.
        offset = data.index(name.encode())
        field = f"{size:011o}\0".encode()
        header = bytearray(data[offset : offset + 512])
        header[124:136] = field
        header[148:156] = b"        "
        header[148:156] = f"{sum(header):06o}\0 ".encode()
        data = data[:offset] + bytes(header) + data[offset + 512 :]
    return data


def package(files: dict[str, str | bytes]) -> bytes:
    return gzip.compress(tar_bytes(files), mtime=0)


def test_the_committed_package_is_what_the_builder_makes() -> None:
    # Compared uncompressed: zlib builds may compress the same bytes differently.
    assert gzip.decompress(PACKAGE.read_bytes()) == tar_bytes(dict(PACKAGE_FILES))


# --------------------------------------------------------------------------- Helm's algorithm


@pytest.mark.parametrize(
    ("condition", "tags", "values", "enabled", "by", "key"),
    [
        # every dependency starts enabled
        (None, (), {}, True, "default", ()),
        ("db.enabled", (), {}, True, "default", ()),
        ("db.enabled", (), {"db": {"enabled": False}}, False, "condition", ("db", "enabled")),
        # the first path that resolves to a boolean wins
        ("a.on,b.on", (), {"a": {"on": False}, "b": {"on": True}}, False, "condition", ("a", "on")),
        ("a.on,b.on", (), {"b": {"on": True}}, True, "condition", ("b", "on")),
        # a non-boolean is skipped, and so is a table
        ("a.on,b.on", (), {"a": {"on": "false"}, "b": {"on": False}}, False, "condition", ("b", "on")),
        ("a,b.on", (), {"a": {"on": True}, "b": {"on": False}}, False, "condition", ("b", "on")),
        ("a.on", (), {"a": {"on": None}}, True, "default", ()),
        # Helm trims the list, not each path: " b.on" names a key with a space
        ("a.on, b.on", (), {"b": {"on": False}}, True, "default", ()),
        (" b.on ", (), {"b": {"on": False}}, False, "condition", ("b", "on")),
        # tags: any true tag enables; no true and a false one disables; non-bools are ignored
        (None, ("x", "y"), {"tags": {"x": False, "y": True}}, True, "tags", ("tags", "y")),
        (None, ("x", "y"), {"tags": {"x": False, "y": "true"}}, False, "tags", ("tags", "x")),
        (None, ("x",), {"tags": {"x": "false"}}, True, "default", ()),
        (None, ("x",), {"tags": "x"}, True, "default", ()),
        # the condition overrides the tags
        ("d.on", ("x",), {"tags": {"x": True}, "d": {"on": False}}, False, "condition", ("d", "on")),
        ("d.on", ("x",), {"tags": {"x": False}, "d": {"on": True}}, True, "condition", ("d", "on")),
        ("d.on", ("x",), {"tags": {"x": False}, "d": {"on": 1}}, False, "tags", ("tags", "x")),
    ],
)
def test_dependency_enabled_as_helm_decides(
    condition: str | None, tags: tuple[str, ...], values: dict[str, Any], enabled: bool, by: str, key: tuple[str, ...]
) -> None:
    decision = dependency_enabled(condition, tags, values)
    assert (decision.enabled, decision.by, decision.key) == (enabled, by, key)


def test_skipped_and_substituted_paths_are_reported() -> None:
    decision = dependency_enabled("a.on,b.on,c.on", (), {"a": {"on": "yes"}, "b": {"on": "${ON}"}, "c": {"on": True}})
    assert decision.skipped == ("a.on", "b.on")
    assert decision.substituted == "b.on"
    assert decision.enabled


# --------------------------------------------------------------------------- discovery


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


CHART = "apiVersion: v2\nname: {name}\nversion: 1.0.0\ndependencies:\n  - {{name: postgresql, condition: pg.enabled}}\n"


def test_discovery_finds_folders_and_packages_and_skips_tool_folders(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "charts/a/Chart.yaml": CHART.format(name="a"),
            "charts/a/values.yaml": "pg: {enabled: true}\n",
            "charts/b-1.0.0.tgz": package({"b/Chart.yaml": CHART.format(name="b"), "b/values.yaml": "x: 1\n"}),
            "deploy/Chart.yaml": CHART.format(name="c"),  # no values.yaml: still a chart
            ".git/Chart.yaml": CHART.format(name="git"),
            "node_modules/x/Chart.yaml": CHART.format(name="npm"),
            "out/x/Chart.yaml": CHART.format(name="rendered"),
        },
    )
    charts = discover(tmp_path, ["out"])
    assert sorted(charts.by_path) == ["charts/a", "charts/b-1.0.0.tgz", "deploy"]
    assert charts.at("./charts/a/") is charts.by_path["charts/a"]
    assert charts.at("../charts/a") is None
    assert charts.named("b", "1.0.0") is charts.by_path["charts/b-1.0.0.tgz"]
    assert charts.named("b", "1.0.1") is None
    dependency = charts.by_path["charts/a"].dependencies[0]
    assert (dependency.name, dependency.kind, dependency.condition) == ("postgresql", "database", "pg.enabled")
    assert charts.by_path["charts/b-1.0.0.tgz"].values == {"x": 1}
    assert charts.notes == []


def test_a_chart_path_is_found_when_the_repository_is_linted_from_outside(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"repo/charts/a/Chart.yaml": CHART.format(name="a"), "other/charts/b/Chart.yaml": CHART.format(name="b")},
    )
    charts = discover(tmp_path)
    assert charts.at("./charts/a") is charts.by_path["repo/charts/a"]
    assert charts.at("s/a") is None  # a suffix starts at a path segment
    _write(tmp_path, {"again/charts/a/Chart.yaml": CHART.format(name="a")})
    assert discover(tmp_path).at("charts/a") is None  # ambiguous: no guess


def test_hostile_packages_are_read_safely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = CHART.format(name="evil")
    _write(
        tmp_path,
        {
            # names that leave the package, or sit deeper than the chart's top folder, are ignored
            "traversal.tgz": package(
                {"../evil/Chart.yaml": chart, "/evil/Chart.yaml": chart, "evil/sub/Chart.yaml": chart}
            ),
            # a member that claims to be huge: reading stops before decompressing it
            "bomb.tgz": gzip.compress(
                tar_bytes({"bomb/zero": b"", "bomb/Chart.yaml": chart}, sizes={"bomb/zero": 2**33 - 1}), mtime=0
            ),
            "garbage.tgz": b"not a gzip file",
            "big.tgz": b"\0" * 2048,
        },
    )
    monkeypatch.setattr(local_charts, "MAX_PACKAGE_BYTES", 1024)
    charts = discover(tmp_path)
    assert charts.by_path == {}
    notes = "\n".join(charts.notes)
    assert "bomb.tgz: members too large" in notes
    assert "garbage.tgz: not a readable packaged chart" in notes
    assert "big.tgz: 2048 bytes, too large" in notes
    assert not (tmp_path / "evil").exists()


def test_oversized_and_broken_chart_files_become_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(
        tmp_path,
        {
            "big/Chart.yaml": CHART.format(name="big") + "#" * 200 + "\n",
            "broken/Chart.yaml": "name: [unclosed\n",
        },
    )
    monkeypatch.setattr(local_charts, "MAX_FILE_BYTES", 150)
    charts = discover(tmp_path)
    assert charts.by_path == {}
    assert any("big/Chart.yaml" in note and "too large" in note for note in charts.notes)
    assert any(note.startswith("broken/Chart.yaml: not read as a chart file") for note in charts.notes)


# --------------------------------------------------------------------------- whole runs

RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: {chart}
      version: {version}
      sourceRef: {{kind: HelmRepository, name: charts}}
{rest}"""


def _lint(root: Path) -> tuple[list[str], list[str]]:
    result = run_lint(root, [root], LintOptions())
    found = [f"{f.severity} {f.message}" for f in result.findings if f.rule == "subchart-coupling"]
    return found, list(result.notes)


def test_a_version_outside_every_known_range_is_a_note_not_a_guess(tmp_path: Path) -> None:
    _write(tmp_path, {"gitea.yaml": RELEASE.format(name="gitea", chart="gitea", version="13.0.0", rest="")})
    found, notes = _lint(tmp_path)
    assert found == []
    assert any("no subchart facts for gitea 13.0.0" in note and "HelmRelease apps/gitea" in note for note in notes)


def test_a_local_chart_wins_only_at_the_release_version(tmp_path: Path) -> None:
    # Gitea's own source tree carries version 0.0.0 (the release job stamps it).
    _write(
        tmp_path,
        {
            "helm-gitea/Chart.yaml": "apiVersion: v2\nname: gitea\nversion: 0.0.0\n",
            "gitea.yaml": RELEASE.format(name="gitea", chart="gitea", version="12.4.0", rest=""),
            "local.yaml": RELEASE.format(name="local", chart="gitea", version="0.0.0", rest=""),
        },
    )
    found, _ = _lint(tmp_path)
    # The catalog for 12.4.0 (two subcharts on by default); the local chart, without dependencies, for 0.0.0.
    assert len(found) == 2
    assert all("gitea 12.4.0 deploys" in message for message in found)


def test_unknown_values_make_it_a_warning_that_says_so(tmp_path: Path) -> None:
    rest = "  valuesFrom:\n    - {kind: Secret, name: gitea-values}\n  values:\n    postgresql-ha: {enabled: true}\n"
    _write(tmp_path, {"gitea.yaml": RELEASE.format(name="gitea", chart="gitea", version="12.4.0", rest=rest)})
    found = sorted(_lint(tmp_path)[0])
    # postgresql-ha is on in the inline values, which win over any valuesFrom: an error.
    assert found[0].startswith("error gitea 12.4.0 deploys its own database as subchart 'postgresql-ha'")
    # valkey-cluster is on by default, and the unknown Secret may turn it off: a warning.
    assert found[1].startswith("warning gitea 12.4.0 deploys its own cache as subchart 'valkey-cluster'")
    assert "unless Secret apps/gitea-values turn it off" in found[1]


def test_a_flux_substitution_in_a_condition_is_a_warning(tmp_path: Path) -> None:
    rest = (
        "  values:\n    postgresql-ha:\n      enabled: ${GITEA_PG}\n"
        "    valkey-cluster: {enabled: false}\n    postgresql: {enabled: false}\n    valkey: {enabled: false}\n"
    )
    _write(tmp_path, {"gitea.yaml": RELEASE.format(name="gitea", chart="gitea", version="12.4.0", rest=rest)})
    found = _lint(tmp_path)[0]
    assert len(found) == 1
    assert found[0].startswith("warning ")
    assert "unless the Flux substitution in postgresql-ha.enabled gives false" in found[0]


def test_database_and_platform_releases_are_not_checked(tmp_path: Path) -> None:
    labels = "  # a database release is S3's own business\n"
    text = RELEASE.format(name="gitea", chart="gitea", version="12.4.0", rest=labels).replace(
        "  namespace: apps\n", "  namespace: apps\n  labels: {railiance.io/service-class: database}\n", 1
    )
    _write(tmp_path, {"gitea.yaml": text})
    assert _lint(tmp_path)[0] == []


if __name__ == "__main__":
    PACKAGE.parent.mkdir(parents=True, exist_ok=True)
    PACKAGE.write_bytes(package(dict(PACKAGE_FILES)))
    sys.stdout.write(f"wrote {PACKAGE.relative_to(REPO)}\n")
