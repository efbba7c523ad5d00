"""What counts as a change: key order, comments, quoting and file moves do not; a type
change does; lists merged by name are matched by name; chart labels and checksum
annotations are noise, hidden and counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gitstack import (
    build_stack,
    changes_of,
    clone,
    commit,
    diff_json,
    edit,
    fields_of,
    git,
    init,
    only,
    rail,
    render,
    template,
    write,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from renderer.diff.compare import field_changes
from renderer.diff.sides import DiffObject

VALKEY = "releases/s3/valkey.yaml"
PG = "releases/s3/postgresql-ha.yaml"
PG_VALUES = "values/s3/postgresql-ha.yaml"
GITEA = "releases/s5/gitea.yaml"

# releases/s3/valkey.yaml with its keys reordered, comments added and quoting changed.
VALKEY_REORDERED = """\
# The same release, written differently.
values:
  image: {repository: "bitnamilegacy/valkey"}  # flow style, quoted
  primary:
    persistence:
      size: '2Gi'
      enabled: true
    replicaCount: 1
  global:
    security:
      allowInsecureImages: true
  architecture: "standalone"
  auth:
    existingSecretPasswordKey: valkey-password
    existingSecret: valkey-credentials
    enabled: true

exports:
  cache:
    # which service, which port
    description: the Valkey primary
    secretName: valkey-credentials
    port: 6379
    service: primary
secrets: ["secrets/s3/valkey-credentials.sops.yaml"]
chart:
  version: "4.0.2"
  name: valkey
  source: bitnami
class: cache
namespace: platform
layer: S3
description: Valkey cache, sessions and queues for the apps
name: valkey
"""


@pytest.fixture
def stack(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone(template("stack", tmp_path_factory, build_stack), tmp_path / "repo")


@pytest.fixture
def manifests(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest repository: the shipped stack's Flux objects, committed without rail.yaml."""
    repo = tmp_path / "manifests"
    shutil.copytree(template("stack", tmp_path_factory, build_stack) / "rendered/flux", repo)
    return repo


def test_key_order_comments_quoting_and_file_moves_are_no_change(stack: Path) -> None:
    write(stack, VALKEY, VALKEY_REORDERED)
    with (stack / PG).open("a", encoding="utf-8") as spec:
        spec.write("# a trailing comment\n")
    edit(stack, PG, "    replicaCount: 3\n", "    replicaCount: 3  # three for quorum\n")
    (stack / "values/s3/postgresql").mkdir()
    git(stack, "mv", PG_VALUES, "values/s3/postgresql/ha.yaml")
    edit(stack, PG, "  - values/s3/postgresql-ha.yaml", "  - values/s3/postgresql/ha.yaml")
    render(stack)  # the docs name the values file: a user re-renders

    run = rail(stack, "diff", "--base", "main")
    code, report = diff_json(stack, "--base", "main")

    assert run.exit_code == 0, run.output
    assert "no change to any rendered object" in run.stdout
    assert report["changes"] == []
    assert report["findings"] == []
    assert code == 0


def test_file_moves_in_a_manifest_repository_are_no_change(manifests: Path) -> None:
    init(manifests)
    (manifests / "all-in-one").mkdir()
    git(manifests, "mv", "s3-platform/helmrelease-valkey.yaml", "all-in-one/valkey.yaml")
    # Two objects joined into one multi-document file, with a comment between them.
    ocirepository = manifests / "s3-platform/ocirepository-valkey.yaml"
    joined = ocirepository.read_text(encoding="utf-8") + "---\n# moved here\n"
    joined += (manifests / "s5-apps/helmrelease-gitea.yaml").read_text(encoding="utf-8")
    write(manifests, "all-in-one/joined.yaml", joined)
    ocirepository.unlink()
    (manifests / "s5-apps/helmrelease-gitea.yaml").unlink()

    code, report = diff_json(manifests, "--base", "main")

    assert report["changes"] == []
    assert code == 0, report["findings"]


def test_a_type_change_is_a_change(stack: Path) -> None:
    queue = "      queue:\n        TYPE: redis\n"
    edit(stack, GITEA, queue, queue + '      server:\n        SSH_PORT: "22"\n        OFFLINE_MODE: "yes"\n')
    commit(stack, "quoted values")
    edit(stack, GITEA, 'SSH_PORT: "22"', "SSH_PORT: 22")
    edit(stack, GITEA, 'OFFLINE_MODE: "yes"', "OFFLINE_MODE: true")

    _, report = diff_json(stack, "--base", "main")

    fields = fields_of(only(changes_of(report, "HelmRelease", "gitea")))
    assert fields == {
        "spec.values.gitea.config.server.OFFLINE_MODE": ("yes", True),
        "spec.values.gitea.config.server.SSH_PORT": ("22", 22),
    }
    assert {change["object"]["name"] for change in report["changes"]} == {"gitea"}  # one per target


def test_an_inserted_env_var_is_its_own_fields_not_a_shifted_list(stack: Path) -> None:
    edit(
        stack,
        GITEA,
        "      - name: GITEA__CACHE__HOST\n",
        "      - name: GITEA__SERVER__DOMAIN\n        value: git.example.com\n      - name: GITEA__CACHE__HOST\n",
    )

    _, report = diff_json(stack, "--base", "main")

    assert {change["object"]["name"] for change in report["changes"]} == {"gitea"}  # one per target
    gitea = only(changes_of(report, "HelmRelease", "gitea"))
    # Shown key by key, as any added map is: each leaf can be redacted on its own.
    assert fields_of(gitea) == {
        "spec.values.gitea.additionalConfigFromEnvs[name=GITEA__SERVER__DOMAIN].name": (None, "GITEA__SERVER__DOMAIN"),
        "spec.values.gitea.additionalConfigFromEnvs[name=GITEA__SERVER__DOMAIN].value": (None, "git.example.com"),
    }


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  labels:
    app.kubernetes.io/name: web
    helm.sh/chart: web-{chart}
spec:
  template:
    metadata:
      annotations:
        checksum/config: {checksum}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          env:
            - name: A
              value: "1"
{extra_env}            - name: C
              value: "3"
          ports:
            - name: http
              containerPort: 80
{extra_port}        - name: sidecar
          image: busybox:1.36
"""


def _deployment(chart: str = "1.0.0", checksum: str = "aaa", extra_env: str = "", extra_port: str = "") -> str:
    return DEPLOYMENT.format(chart=chart, checksum=checksum, extra_env=extra_env, extra_port=extra_port)


def test_containers_env_and_ports_are_matched_by_name(manifests: Path) -> None:
    write(manifests, "s5-apps/deployment-web.yaml", _deployment())
    init(manifests)
    write(
        manifests,
        "s5-apps/deployment-web.yaml",
        _deployment(
            extra_env='            - name: B\n              value: "2"\n',
            extra_port="            - name: metrics\n              containerPort: 9090\n",
        ),
    )

    _, report = diff_json(manifests, "--base", "main")

    web = only(report["changes"])
    containers = "spec.template.spec.containers[name=web]"
    assert fields_of(web) == {
        f"{containers}.env[name=B].name": (None, "B"),
        f"{containers}.env[name=B].value": (None, "2"),
        f"{containers}.ports[name=metrics].containerPort": (None, 9090),
        f"{containers}.ports[name=metrics].name": (None, "metrics"),
    }


def test_chart_labels_and_checksum_annotations_are_hidden_and_counted(manifests: Path) -> None:
    write(manifests, "s5-apps/deployment-web.yaml", _deployment())
    gitea = "s5-apps/helmrelease-gitea.yaml"
    edit(manifests, gitea, "  labels:\n", "  labels:\n    helm.sh/chart: gitea-12.4.0\n")
    init(manifests)
    write(manifests, "s5-apps/deployment-web.yaml", _deployment(chart="1.0.1", checksum="bbb"))
    edit(manifests, gitea, "helm.sh/chart: gitea-12.4.0", "helm.sh/chart: gitea-12.4.1")

    code, report = diff_json(manifests, "--base", "main")
    run = rail(manifests, "diff", "--base", "main")

    assert report["changes"] == []
    # helm.sh/chart twice (Deployment, HelmRelease), checksum/config on the pod template once.
    assert report["summary"]["noise_hidden"] == 3
    assert report["summary"]["unchanged"] >= 2
    assert code == 0, report["findings"]
    assert "3 noise change(s) hidden" in run.stdout


def test_noise_beside_a_real_change_is_still_hidden(manifests: Path) -> None:
    write(manifests, "s5-apps/deployment-web.yaml", _deployment())
    init(manifests)
    text = _deployment(chart="1.0.1", checksum="bbb").replace("nginx:1.27", "nginx:1.28")
    write(manifests, "s5-apps/deployment-web.yaml", text)

    _, report = diff_json(manifests, "--base", "main")

    web = only(report["changes"])
    assert fields_of(web) == {"spec.template.spec.containers[name=web].image": ("nginx:1.27", "nginx:1.28")}
    assert report["summary"]["noise_hidden"] == 2


def test_only_the_differing_parts_reach_deepdiff_and_bool_is_not_one() -> None:
    """Equal subtrees are left out before deepdiff runs; 1 -> true and 1 -> 1.0 still show."""
    from renderer.diff.compare import field_changes
    from renderer.diff.sides import DiffObject

    big = {f"key{i}": {"nested": [i, {"name": f"n{i}", "value": i}]} for i in range(200)}

    def release(values: dict[str, object]) -> DiffObject:
        data = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "spec": {"values": values}}
        return DiffObject(("helm.toolkit.fluxcd.io", "HelmRelease", "apps", "x"), data, "x.yaml", None)

    old = release({**big, "flag": 1, "ratio": 1, "gone": "x", "env": [{"name": "A", "value": "1"}]})
    new = release({**big, "flag": True, "ratio": 1.0, "added": "y", "env": [{"name": "A", "value": "2"}]})
    changes = {change.path: (change.old, change.new) for change in field_changes(old, new)}
    assert changes == {
        "spec.values.flag": (1, True),
        "spec.values.ratio": (1, 1.0),
        "spec.values.gone": ("x", None),
        "spec.values.added": (None, "y"),
        "spec.values.env[name=A].value": ("1", "2"),
    }


# --------------------------------------------------------------------------- field changes, key by key


def _release(values: dict[str, object]) -> DiffObject:
    key = ("helm.toolkit.fluxcd.io", "HelmRelease", "apps", "gitea")
    return DiffObject(key, {"kind": "HelmRelease", "spec": {"values": values}}, "rendered/x.yaml", "S5")


def _fields(old: dict[str, object], new: dict[str, object]) -> dict[str, tuple[object, object, bool]]:
    return {f.path: (f.old, f.new, f.redacted) for f in field_changes(_release(old), _release(new))}


def test_keys_added_to_a_map_are_shown_one_by_one_each_redacted_on_its_own() -> None:
    old = {"database": {"HOST": "db.platform"}, "cache": {}}
    new = {
        "database": {"HOST": "pg-ha.platform", "NAME": "gitea", "pass": "canary-map-1"},
        "cache": {"ADAPTER": "redis", "auth": "canary-map-2"},
    }

    assert _fields(old, new) == {
        "spec.values.cache.ADAPTER": (None, "redis", False),
        "spec.values.cache.auth": (None, "(redacted)", True),
        "spec.values.database.HOST": ("db.platform", "pg-ha.platform", False),
        "spec.values.database.NAME": (None, "gitea", False),
        "spec.values.database.pass": (None, "(redacted)", True),
    }


def test_a_map_replacing_null_or_removed_whole_is_shown_key_by_key() -> None:
    assert _fields({"config": None}, {"config": {"a": 1, "token": "canary-map-3"}}) == {
        "spec.values.config": (None, None, False),  # the null is gone ...
        "spec.values.config.a": (None, 1, False),  # ... and each key arrived
        "spec.values.config.token": (None, "(redacted)", True),
    }
    assert _fields({"config": {"a": 1, "PWD": "canary-map-4"}}, {}) == {
        "spec.values.config.PWD": ("(redacted)", None, True),
        "spec.values.config.a": (1, None, False),
    }


def test_secret_shapes_under_harmless_keys_are_redacted_and_references_shown() -> None:
    dsn = "host=db password=canary-map-5 dbname=gitea"
    fields = _fields(
        {"DSN": "host=db dbname=gitea", "env": [{"name": "DB_PASSWORD", "value": "${DB_PASSWORD}"}]},
        {"DSN": dsn, "env": [{"name": "DB_PASSWORD", "value": "canary-map-6"}]},
    )
    assert fields["spec.values.DSN"] == ("host=db dbname=gitea", "(redacted)", True)
    # Each side on its own: the reference it was is shown, the literal it became is not.
    assert fields["spec.values.env[name=DB_PASSWORD].value"] == ("${DB_PASSWORD}", "(redacted)", True)
    assert "canary" not in repr(fields)


def test_a_string_holding_yaml_with_a_secret_inside_is_redacted() -> None:
    fields = _fields(
        {"values.yaml": "replicaCount: 1\n"}, {"values.yaml": "replicaCount: 1\nauth:\n  pass: canary-map-7\n"}
    )
    assert fields == {"spec.values.values.yaml": ("replicaCount: 1\n", "(redacted)", True)}


# --------------------------------------------------------------------------- leaves without deepdiff

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 1.0, 2.5]), st.sampled_from(["", "a", "b", "1"])
)
_KEYS = st.one_of(st.sampled_from(["a", "b", "c", "image", "[name=x]"]), st.integers(0, 2))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(old=_VALUES, new=_VALUES)
def test_leaves_of_maps_are_deepdiffs(old: object, new: object) -> None:
    """Where no two lists meet, rail's own walk reports exactly the leaves deepdiff does."""
    from renderer.diff.compare import _deepdiff_leaves, _differing, _mapping_leaves

    old_part, new_part = _differing(old, new)
    own = _mapping_leaves(old_part, new_part)
    assume(own is not None)
    assert own == _deepdiff_leaves(old_part, new_part)


def test_two_lists_are_left_to_deepdiff() -> None:
    from renderer.diff.compare import _mapping_leaves

    assert _mapping_leaves({"args": ["a", "b"]}, {"args": ["b", "a", "c"]}) is None
    assert _mapping_leaves({"args": ["a"]}, {"args": ["a"]}) == {}
    assert _mapping_leaves({"tag": "1"}, {"tag": "2", "args": ["x"]}) == {
        ("tag",): ("1", "2"),
        ("args", 0): (_missing(), "x"),
    }


def _missing() -> object:
    from renderer.diff.compare import _MISSING

    return _MISSING
