"""The charts package reading chart folders and packages the way Helm reads them:
aliases, tags, conditions, import-values, Chart.lock pins, the copies in a chart's
``charts/`` folder (and inside a package), and ``file://`` dependencies."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from renderer.lint.charts import LocalCharts, dependency_enabled, discover


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _package(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.USTAR_FORMAT) as archive,
    ):
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


UMBRELLA = """\
apiVersion: v2
name: forge
version: 1.0.0
dependencies:
  - name: gitea
    version: 11.x
    repository: https://dl.gitea.com/charts/
  - name: postgresql
    alias: maindb
    version: 16.7.27
    repository: oci://registry-1.docker.io/bitnamicharts
    condition: maindb.enabled
    tags: [database]
    import-values:
      - child: primary.service
        parent: db.service
  - name: redis
    version: ~21.1.0
    repository: oci://registry-1.docker.io/bitnamicharts
"""

LOCK = """\
dependencies:
- name: gitea
  repository: https://dl.gitea.com/charts/
  version: 11.0.1
- name: postgresql
  repository: oci://registry-1.docker.io/bitnamicharts
  version: 16.7.27
- name: redis
  repository: https://charts.example.com/
  version: 21.1.6
digest: sha256:00
"""


def test_chart_lock_pins_a_range_and_alias_keeps_its_chart(tmp_path: Path) -> None:
    _write(tmp_path, {"charts/forge/Chart.yaml": UMBRELLA, "charts/forge/Chart.lock": LOCK})
    chart = discover(tmp_path).by_path["charts/forge"]
    gitea, maindb, redis = chart.dependencies
    assert (gitea.version, gitea.locked, gitea.pinned) == ("11.x", "11.0.1", "11.0.1")
    assert (maindb.name, maindb.chart, maindb.kind) == ("maindb", "postgresql", "database")
    assert (maindb.condition, maindb.tags, maindb.import_values) == ("maindb.enabled", ("database",), True)
    assert maindb.pinned == "16.7.27"
    # The lock names another repository: not this dependency's pin, and a range is no pin.
    assert (redis.locked, redis.pinned) == (None, None)
    assert [chart.dependency_location(d)[1] for d in chart.dependencies] == [5, 8, 17]
    assert chart.dependency_location(gitea)[0] == "charts/forge/Chart.yaml"


def test_requirements_yaml_and_lock_of_an_apiversion_v1_chart(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "old/Chart.yaml": "apiVersion: v1\nname: old\nversion: 0.1.0\n",
            "old/requirements.yaml": (
                "dependencies:\n  - name: mysql\n    version: ^1.6.0\n    condition: mysql.enabled\n"
            ),
            "old/requirements.lock": "dependencies:\n- name: mysql\n  version: 1.6.9\n",
        },
    )
    chart = discover(tmp_path).by_path["old"]
    (mysql,) = chart.dependencies
    assert (mysql.kind, mysql.pinned) == ("database", "1.6.9")
    assert chart.dependency_location(mysql) == ("old/requirements.yaml", 2, 5)


def test_copies_in_charts_folder_are_inside_their_chart(tmp_path: Path) -> None:
    gitea = _package([("gitea/Chart.yaml", b"apiVersion: v2\nname: gitea\nversion: 12.4.0\n")])
    _write(
        tmp_path,
        {
            "charts/forge/Chart.yaml": UMBRELLA,
            "charts/forge/charts/search/Chart.yaml": "apiVersion: v2\nname: search\nversion: 1.0.0\n",
            "charts/other/Chart.yaml": "apiVersion: v2\nname: other\nversion: 1.0.0\n",
        },
    )
    (tmp_path / "charts/forge/charts/gitea-12.4.0.tgz").write_bytes(gitea)
    index = discover(tmp_path)
    forge = index.by_path["charts/forge"]
    assert sorted(c.path for c in index.copies(forge)) == [
        "charts/forge/charts/gitea-12.4.0.tgz",
        "charts/forge/charts/search",
    ]
    assert index.inside_chart(index.by_path["charts/forge/charts/search"])
    assert index.inside_chart(index.by_path["charts/forge/charts/gitea-12.4.0.tgz"])
    # charts/ at the top is only a folder of charts: no chart owns it.
    assert not index.inside_chart(forge)
    assert not index.inside_chart(index.by_path["charts/other"])


def test_a_repository_that_is_a_chart_owns_its_charts_folder(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "Chart.yaml": "apiVersion: v2\nname: top\nversion: 1.0.0\n",
            "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.0\n",
        },
    )
    index = discover(tmp_path)
    assert index.inside_chart(index.by_path["charts/sub"])
    assert [c.path for c in index.copies(index.by_path["."])] == ["charts/sub"]


def test_file_dependency_names_a_chart_folder(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "apps/suite/Chart.yaml": (
                "apiVersion: v2\nname: suite\nversion: 1.0.0\ndependencies:\n"
                "  - name: wiki\n    version: 3.2.0\n    repository: file://../wiki\n"
                "  - name: gone\n    version: 1.0.0\n    repository: file://../gone\n"
            ),
            "apps/wiki/Chart.yaml": "apiVersion: v2\nname: wiki\nversion: 3.2.0\n",
        },
    )
    index = discover(tmp_path)
    suite = index.by_path["apps/suite"]
    wiki, gone = suite.dependencies
    found = index.referenced(suite, wiki)
    assert found is not None and found.path == "apps/wiki"
    assert index.referenced(suite, gone) is None


def test_packaged_chart_reads_its_lock_and_packaged_dependencies(tmp_path: Path) -> None:
    inner = _package(
        [
            ("gitea/Chart.yaml", b"apiVersion: v2\nname: gitea\nversion: 12.4.0\ndependencies:\n  - name: valkey\n"),
            ("gitea/values.yaml", b"valkey:\n  enabled: true\n"),
        ]
    )
    outer = _package(
        [
            ("forge/Chart.yaml", UMBRELLA.encode()),
            ("forge/Chart.lock", LOCK.encode()),
            ("forge/values.yaml", b"maindb:\n  enabled: false\n"),
            ("forge/templates/deployment.yaml", b"kind: Deployment\n"),
            ("forge/charts/gitea-12.4.0.tgz", inner),
            ("forge/charts/../../escape.tgz", inner),
        ]
    )
    (tmp_path / "forge-1.0.0.tgz").write_bytes(outer)
    index = discover(tmp_path)
    forge = index.by_path["forge-1.0.0.tgz"]
    assert forge.packaged and forge.values == {"maindb": {"enabled": False}}
    assert forge.dependencies[0].pinned == "11.0.1"
    assert forge.dependency_location(forge.dependencies[0]) == ("forge-1.0.0.tgz", None, None)
    (gitea,) = index.copies(forge)
    assert (gitea.name, gitea.version) == ("gitea", "12.4.0")
    assert gitea.path == "forge-1.0.0.tgz#forge/charts/gitea-12.4.0.tgz"
    assert gitea.values == {"valkey": {"enabled": True}}
    assert [d.kind for d in gitea.dependencies] == ["cache"]
    # A package's own packaged dependencies are not charts of the repository.
    assert set(index.by_path) == {"forge-1.0.0.tgz"}


def test_broken_files_are_notes_not_errors(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "a/Chart.yaml": UMBRELLA,
            "a/Chart.lock": "dependencies: [\n",
            "b/Chart.yaml": "apiVersion: v2\nname: b\nversion: 1.0.0\n",
        },
    )
    (tmp_path / "broken.tgz").write_bytes(b"not a tar")
    index = discover(tmp_path)
    assert index.by_path["a"].dependencies[0].pinned is None
    assert any("a/Chart.lock" in note for note in index.notes)
    assert any("broken.tgz" in note for note in index.notes)
    assert isinstance(index, LocalCharts)


def test_nested_condition_paths_are_read_from_the_top_values() -> None:
    # Helm looks a subchart's subchart's condition up under its parent's alias.
    values = {"git": {"postgresql-ha": {"enabled": False}}, "postgresql-ha": {"enabled": True}}
    decision = dependency_enabled("git.postgresql-ha.enabled", (), values)
    assert (decision.enabled, decision.key) == (False, ("git", "postgresql-ha", "enabled"))


def test_an_undeployed_chart_is_checked_only_inside_the_folders_named(tmp_path: Path) -> None:
    from renderer.app import run_lint
    from renderer.lint.rule import LintOptions

    chart = (
        "apiVersion: v2\nname: wiki\nversion: 1.0.0\ndependencies:\n"
        "  - {name: postgresql, version: 16.0.0, repository: oci://r/bitnamicharts, condition: postgresql.enabled}\n"
    )
    for folder in ("named/charts/wiki", "elsewhere/charts/wiki"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "Chart.yaml").write_text(chart)
        (tmp_path / folder / "values.yaml").write_text("postgresql:\n  enabled: true\n")
    result = run_lint(tmp_path, [tmp_path / "named"], LintOptions())
    found = [f.path for f in result.findings if f.rule == "subchart-coupling"]
    assert found == ["named/charts/wiki/values.yaml"]
