"""The chart catalog as data (renderer/catalog/charts.yaml + charts.schema.json).

The shipped file must satisfy its schema and cite a source for every entry; the
loader must turn it into the same facts the rules always read, pick the entry of
the publisher a repository URL names, and refuse a file that breaks the schema
with a message that says where and what.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from renderer.catalog import CHARTS, COUPLING_KINDS, DEPENDENCY_KINDS, ChartFacts, chart_facts
from renderer.catalog.charts import (
    CATALOG_PATH,
    catalog_schema,
    chart_entries,
    load_catalog,
    shipped,
)
from renderer.errors import InputError
from renderer.model.stack import SERVICE_CLASSES
from renderer.schemacheck import supported
from renderer.yamlio import load_document

REPO = Path(__file__).resolve().parents[2]
BITNAMI_OCI = "oci://registry-1.docker.io/bitnamicharts"
VALKEY_IO = "https://valkey.io/valkey-helm/"
FACT_FIELDS = ("dependencies", "bundled", "fix", "defaults")


def _raw_entries() -> list[dict[str, Any]]:
    document = load_document(CATALOG_PATH.read_text(encoding="utf-8"), str(CATALOG_PATH))
    entries: list[dict[str, Any]] = document.data["charts"]
    return entries


# --------------------------------------------------------------------------- the data


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(catalog_schema())


def test_the_shipped_catalog_validates_against_its_schema() -> None:
    document = load_document(CATALOG_PATH.read_text(encoding="utf-8"), str(CATALOG_PATH))
    errors = [error.message for error in Draft202012Validator(catalog_schema()).iter_errors(document.data)]
    assert errors == []


def test_the_fast_check_judges_the_schema_so_loading_needs_no_jsonschema() -> None:
    # Valid data is then accepted by renderer.schemacheck alone (the lint hot path).
    assert supported(catalog_schema())


def test_importing_the_catalog_reads_nothing() -> None:
    script = "import sys, renderer.catalog\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    modules = set(done.stdout.split())
    assert not {"jsonschema", "ruamel.yaml"} & modules


def test_loading_the_catalog_does_not_import_jsonschema() -> None:
    script = "import sys\nfrom renderer.catalog import chart_facts\nchart_facts('gitea')\n"
    script += "print('jsonschema' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("entry", _raw_entries(), ids=lambda entry: str(entry["name"]))
def test_every_entry_cites_where_its_facts_were_read(entry: dict[str, Any]) -> None:
    assert entry["sources"], entry["name"]
    for source in entry["sources"]:
        assert source["repository"] and source["versions"] and source["files"]
    versions = {version for source in entry["sources"] for version in source["versions"]}
    if any(field in entry for field in FACT_FIELDS):
        # Facts that depend on the chart's version name the versions they were read at.
        assert "every" not in versions, entry["name"]
        assert all("code" in source and "ref" in source for source in entry["sources"]), entry["name"]


def test_the_classes_are_rails_service_classes() -> None:
    schema_classes = set(catalog_schema()["$defs"]["facts"]["properties"]["class"]["enum"])
    assert schema_classes == set(SERVICE_CLASSES)
    assert {facts.service_class for facts in shipped()} <= set(SERVICE_CLASSES)


def test_dependency_kinds_agree_with_the_kinds_rail_knows() -> None:
    schema_kinds = set(catalog_schema()["$defs"]["kind"]["enum"])
    assert set(DEPENDENCY_KINDS.values()) | COUPLING_KINDS <= schema_kinds
    for facts in shipped():
        for _, dependencies in facts.dependencies:
            for dependency in dependencies:
                known = DEPENDENCY_KINDS.get(dependency.name)
                assert known in (None, dependency.kind), (facts.name, dependency.name)


def test_entries_of_one_name_are_told_apart_by_repository() -> None:
    names = [facts.name for facts in shipped()]
    for name in set(names):
        entries = chart_entries(name)
        if len(entries) > 1:
            claimed = [prefix for facts in entries for prefix in facts.repositories]
            assert all(facts.repositories for facts in entries), name
            assert len(claimed) == len(set(claimed)), name


# --------------------------------------------------------------------------- lookups


def test_lookup_by_name() -> None:
    gitea = chart_facts("gitea")
    assert gitea is not None and gitea.service_class == "application"
    assert chart_facts("cert-manager") == CHARTS["cert-manager"]
    assert chart_facts("no-such-chart") is None
    assert chart_facts(None) is None
    assert chart_facts("") is None


def test_charts_maps_every_name_to_its_first_entry() -> None:
    assert set(CHARTS) == {facts.name for facts in shipped()}
    assert all(isinstance(facts, ChartFacts) for facts in CHARTS.values())
    assert CHARTS["valkey"] is chart_entries("valkey")[0]


def test_a_lookup_without_repository_keeps_bitnamis_valkey() -> None:
    valkey = chart_facts("valkey")
    assert valkey is not None
    assert valkey.defaults["auth.enabled"] is True
    assert BITNAMI_OCI in valkey.repositories


@pytest.mark.parametrize(
    ("repository", "bitnami"),
    [
        (BITNAMI_OCI, True),
        (BITNAMI_OCI + "/", True),
        (BITNAMI_OCI + "/valkey", True),  # an OCIRepository names the chart itself
        ("OCI://Registry-1.Docker.IO/bitnamicharts", True),  # scheme and host ignore case
        ("https://charts.bitnami.com/bitnami", True),
        (VALKEY_IO, False),
        (VALKEY_IO.rstrip("/"), False),
    ],
)
def test_a_lookup_with_repository_picks_that_publishers_entry(repository: str, bitnami: bool) -> None:
    valkey = chart_facts("valkey", repository)
    assert valkey is not None
    assert ("auth.enabled" in valkey.defaults) is bitnami
    assert valkey.published_at(repository)


def test_bitnamis_gitea_does_not_get_the_gitea_projects_subcharts() -> None:
    bitnami = chart_facts("gitea", BITNAMI_OCI + "/gitea")
    assert bitnami is not None and bitnami is not CHARTS["gitea"]
    assert bitnami.service_class == "application"
    assert bitnami.dependencies_for("12.4.0") is None
    assert chart_facts("gitea", "oci://docker.gitea.com/charts/gitea") is CHARTS["gitea"]


def test_a_repository_no_entry_claims_falls_back_to_the_first_entry() -> None:
    # A mirror or proxy: rail cannot tell the publisher, so today's answer stands.
    assert chart_facts("valkey", "oci://harbor.example.com/proxy") is CHARTS["valkey"]
    assert chart_facts("gitea", "https://charts.example.com") is CHARTS["gitea"]


def test_a_prefix_matches_whole_path_segments_only() -> None:
    valkey = CHARTS["valkey"]
    assert not valkey.published_at(BITNAMI_OCI + "x")
    assert not valkey.published_at("oci://registry-1.docker.io")


def test_gitea_versions_pick_their_own_subcharts() -> None:
    gitea = CHARTS["gitea"]

    def names(version: str) -> dict[str, bool] | None:
        dependencies = gitea.dependencies_for(version)
        return None if dependencies is None else {d.name: d.default_enabled for d in dependencies}

    assert names("12.4.0") == {"postgresql": False, "postgresql-ha": True, "valkey-cluster": True, "valkey": False}
    assert names("12.7.0") == names("12.4.0")
    assert names("11.0.1") == {"postgresql": False, "postgresql-ha": True, "redis-cluster": True, "redis": False}
    # 9.0.0 made postgresql-ha and redis-cluster the defaults; redis is there in
    # 10.x, its default not read: None, never a guess.
    assert names("10.3.0") == {"postgresql": False, "postgresql-ha": True, "redis-cluster": True, "redis": None}
    assert names("9.6.1") == names("10.3.0")
    # Not read: no facts rather than a guess (the rule then says so in a note).
    assert names("8.3.0") is None
    assert names("13.0.0") is None


def test_immich_bundles_valkey_from_its_own_templates_from_0_10() -> None:
    immich = CHARTS["immich"]
    (valkey,) = immich.bundled_for("0.10.0")
    assert (valkey.name, valkey.kind, valkey.key, valkey.value) == ("valkey", "cache", "valkey.enabled", True)
    assert immich.bundled_for("0.9.4") == ()
    assert immich.dependencies_for("0.13.4") == ()
    older = immich.dependencies_for("0.9.4")
    assert older is not None and {d.name: d.default_enabled for d in older} == {"postgresql": None, "redis": None}


def test_netbox_pre_releases_compare_by_their_numbers() -> None:
    netbox = CHARTS["netbox"]
    assert netbox.dependencies_for("5.0.0-beta.100") is not None  # beta.52 <= beta.100 < beta.160
    assert netbox.dependencies_for("5.0.0-beta.9") is None
    assert netbox.dependencies_for("5.0.0") is None  # the release is after all its betas


def test_zulip_keeps_its_tags_and_harbor_its_bundled_components() -> None:
    zulip = CHARTS["zulip"].dependencies_for("2.1.0")
    assert zulip is not None
    assert {d.name: d.tags for d in zulip}["redis"] == ("redis",)
    harbor = CHARTS["harbor"]
    assert ("database", "database", "database.type", "internal") in {
        (b.name, b.kind, b.key, b.value) for b in harbor.bundled_for("1.19.1")
    }
    assert harbor.defaults["database.type"] == "internal"


# --------------------------------------------------------------------------- refusals


GOOD_ENTRY = """\
charts:
  - name: demo
    class: application
    sources:
      - repository: https://charts.example.com
        code: https://example.com/demo
        ref: v1.0.0
        versions: [1.0.0]
        files: ["Chart.yaml dependencies"]
    dependencies:
      - versions: ">=1.0.0 <2.0.0"
        charts:
          - {name: postgresql, kind: database, condition: postgresql.enabled, enabled: true}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "charts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_of_ones_own_loads(tmp_path: Path) -> None:
    (demo,) = load_catalog(_write(tmp_path, GOOD_ENTRY))
    dependencies = demo.dependencies_for("1.2.3")
    assert dependencies is not None and dependencies[0].condition == "postgresql.enabled"


def test_an_unknown_field_is_refused_with_its_place(tmp_path: Path) -> None:
    bad = GOOD_ENTRY.replace("    class: application\n", "    class: application\n    colour: blue\n")
    with pytest.raises(InputError) as caught:
        load_catalog(_write(tmp_path, bad))
    (problem,) = caught.value.problems
    assert "invalid chart catalog" in problem.message and "colour" in problem.message
    assert problem.key_path == "charts[0]"
    assert problem.line == 2  # the entry that carries it


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("class: application", "class: webapp", "webapp"),
        ('versions: ">=1.0.0 <2.0.0"', 'versions: "1.x"', "1.x"),
        ("kind: database", "kind: db", "db"),
        ("        versions: [1.0.0]\n", "", "versions"),  # a source without the versions read
    ],
)
def test_a_bad_value_is_refused(tmp_path: Path, old: str, new: str, says: str) -> None:
    assert old in GOOD_ENTRY
    with pytest.raises(InputError) as caught:
        load_catalog(_write(tmp_path, GOOD_ENTRY.replace(old, new)))
    assert any(says in problem.message for problem in caught.value.problems), caught.value.problems


def test_the_compiled_catalog_is_generated_from_the_yaml() -> None:
    # rail reads charts.json at run time: it must hold exactly what charts.yaml says.
    from renderer.catalog.charts import COMPILED_PATH, compiled_text

    assert COMPILED_PATH.read_text(encoding="utf-8") == compiled_text(CATALOG_PATH), (
        "renderer/catalog/charts.json is stale: run python scripts/gen_chart_catalog.py"
    )
    assert shipped() == load_catalog(CATALOG_PATH)


def test_charts_in_rail_yaml_are_checked_like_the_catalog(tmp_path: Path) -> None:
    from renderer.load import load_stack

    (tmp_path / "rail.yaml").write_text(
        "version: 1\nname: team\nlayers: [{id: S5, name: apps}]\ncharts:\n  - name: wiki\n    class: app\n"
    )
    with pytest.raises(InputError) as caught:
        load_stack(tmp_path)
    problem = caught.value.problems[0]
    assert (problem.path, problem.line, problem.key_path) == ("rail.yaml", 6, "charts[0].class")


def test_a_chart_of_rail_yaml_comes_before_the_catalog() -> None:
    from renderer.catalog import stack_charts

    mine = {"name": "gitea", "class": "application"}
    assert chart_facts("gitea") is not None and chart_facts("gitea").dependencies  # type: ignore[union-attr]
    with stack_charts([mine]):
        facts = chart_facts("gitea", "https://dl.gitea.com/charts/")
        assert facts is not None and facts.dependencies == ()  # no repositories: it answers for any
    with stack_charts([{**mine, "repositories": ["https://charts.example.com"]}]):
        assert chart_facts("gitea", "https://dl.gitea.com/charts/").dependencies  # type: ignore[union-attr]
        assert chart_facts("gitea", "https://charts.example.com/").dependencies == ()  # type: ignore[union-attr]
    assert chart_facts("gitea").dependencies  # type: ignore[union-attr]
