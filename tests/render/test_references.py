"""``${ref:RELEASE.EXPORT.FIELD}`` references (renderer.render.references), resolved
on a temporary copy of the shipped stack through the real loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from renderer.errors import InputError
from renderer.load import load_stack
from renderer.load.stack import marker_strings
from renderer.render.references import FIELDS, Endpoint, Resolution, resolve

REPO = Path(__file__).resolve().parents[2]
GITEA = "releases/s5/gitea.yaml"
POSTGRES = "releases/s3/postgresql-ha.yaml"
VALKEY = "releases/s3/valkey.yaml"
PG_HOST = "postgresql-ha-pgpool.platform.svc.cluster.local"
VALKEY_HOST = "valkey-primary.platform.svc.cluster.local"


@pytest.fixture
def stack(unrendered_stack: Path) -> Path:
    return unrendered_stack


def add_values(root: Path, spec: str, block: str) -> int:
    """Insert ``block`` (YAML, indented as top-level values keys) at the top of the
    spec's ``values:`` and return the file line of its first line."""
    path = root / spec
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = lines.index("values:\n") + 1
    indented = ["  " + line + "\n" if line else "\n" for line in block.strip("\n").split("\n")]
    path.write_text("".join(lines[:at] + indented + lines[at:]), encoding="utf-8")
    return at + 1


def line_of(root: Path, relative: str, needle: str) -> int:
    for number, line in enumerate((root / relative).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {relative}")


def resolved(root: Path) -> Resolution:
    return resolve(load_stack(root))


def resolve_error(root: Path) -> InputError:
    loaded = load_stack(root)
    with pytest.raises(InputError) as caught:
        resolve(loaded)
    return caught.value


# --------------------------------------------------------------------------- resolution


def test_shipped_stack_endpoints(stack: Path) -> None:
    resolution = resolved(stack)
    assert resolution.endpoints[("postgresql-ha", "database")] == Endpoint(
        service="postgresql-ha-pgpool",
        namespace="platform",
        host=PG_HOST,
        port=5432,
        secret_name="postgresql-ha-credentials",
    )
    assert resolution.endpoints[("valkey", "cache")] == Endpoint(
        service="valkey-primary", namespace="platform", host=VALKEY_HOST, port=6379, secret_name="valkey-credentials"
    )


def test_shipped_gitea_references(stack: Path) -> None:
    resolution = resolved(stack)
    assert resolution.referenced["gitea"] == ("postgresql-ha", "valkey")
    assert resolution.referenced["postgresql-ha"] == ()
    assert resolution.referenced["valkey"] == ()
    gitea = resolution.values["gitea"]["gitea"]
    assert gitea["config"]["database"]["HOST"] == f"{PG_HOST}:5432"
    envs = {item["name"]: item for item in gitea["additionalConfigFromEnvs"]}
    # Inside a longer string, only the reference is replaced; $(VAR) stays for Kubernetes.
    assert envs["GITEA__CACHE__HOST"]["value"] == (
        f"redis://:$(VALKEY_PASSWORD)@{VALKEY_HOST}:6379/1?pool_size=100&idle_timeout=180s&"
    )
    assert "${ref:" not in repr(resolution.values)


def test_every_field(stack: Path) -> None:
    add_values(
        stack,
        GITEA,
        """
refs:
  address: ${ref:postgresql-ha.database.address}
  host: ${ref:postgresql-ha.database.host}
  port: ${ref:postgresql-ha.database.port}
  service: ${ref:postgresql-ha.database.service}
  namespace: ${ref:postgresql-ha.database.namespace}
  secretName: ${ref:postgresql-ha.database.secretName}
  portInText: "port=${ref:valkey.cache.port}"
  twoInOne: ${ref:valkey.cache.host},${ref:postgresql-ha.database.host}
  list:
    - ${ref:valkey.cache.port}
    - ${ref:valkey.cache.secretName}
""",
    )
    refs = resolved(stack).values["gitea"]["refs"]
    assert refs == {
        "address": f"{PG_HOST}:5432",
        "host": PG_HOST,
        "port": 5432,
        "service": "postgresql-ha-pgpool",
        "namespace": "platform",
        "secretName": "postgresql-ha-credentials",
        "portInText": "port=6379",
        "twoInOne": f"{VALKEY_HOST},{PG_HOST}",
        "list": [6379, "valkey-credentials"],
    }
    # A whole-string port becomes a number, so a chart's integer port value validates.
    assert isinstance(refs["port"], int) and not isinstance(refs["port"], bool)
    assert isinstance(refs["list"][0], int)
    assert isinstance(refs["portInText"], str)
    assert set(FIELDS) == {"host", "port", "address", "service", "namespace", "secretName"}


def test_host_follows_cluster_domain_release_name_and_export(stack: Path) -> None:
    config = stack / "rail.yaml"
    config.write_text(config.read_text().replace("clusterDomain: cluster.local", "clusterDomain: k8s.example"))
    spec = stack / POSTGRES
    text = spec.read_text().replace("namespace: platform\n", "namespace: platform\nreleaseName: main\n")
    text = text.replace("    port: 5432\n", "    port: 6432\n")
    spec.write_text(text)
    resolution = resolved(stack)
    endpoint = resolution.endpoints[("postgresql-ha", "database")]
    assert endpoint.service == "main-postgresql-ha-pgpool"
    assert endpoint.host == "main-postgresql-ha-pgpool.platform.svc.k8s.example"
    assert endpoint.port == 6432
    assert resolution.values["gitea"]["gitea"]["config"]["database"]["HOST"] == (
        "main-postgresql-ha-pgpool.platform.svc.k8s.example:6432"
    )


def test_fullname_override_in_values_file_changes_the_host(stack: Path) -> None:
    values = stack / "values/s3/postgresql-ha.yaml"
    values.write_text(values.read_text() + "fullnameOverride: pg\n")
    assert resolved(stack).endpoints[("postgresql-ha", "database")].host == "pg-pgpool.platform.svc.cluster.local"


def test_reference_in_a_values_file(stack: Path) -> None:
    values = stack / "values/s3/postgresql-ha.yaml"
    values.write_text(values.read_text() + "cacheHost: ${ref:valkey.cache.host}\n")
    resolution = resolved(stack)
    assert resolution.values["postgresql-ha"]["cacheHost"] == VALKEY_HOST
    assert resolution.referenced["postgresql-ha"] == ("valkey",)


# A file whose text does not hold the marker is not walked; only a double-quoted scalar's
# escapes spell a reference its text does not show, and they are resolved the same.
SPELLED_WITH_ESCAPES = [
    '"\\x24{ref:valkey.cache.host}"',
    '"\\u0024{ref:valkey.cache.host}"',
    '"${re\\\n  f:valkey.cache.host}"',  # an escaped line break joins the two lines
]


@pytest.mark.parametrize("spelled", SPELLED_WITH_ESCAPES)
def test_a_reference_spelled_with_escapes_is_resolved(stack: Path, spelled: str) -> None:
    values = stack / "values/s3/postgresql-ha.yaml"
    values.write_text(values.read_text() + f"cacheHost: {spelled}\n")
    assert "${ref:" not in values.read_text()
    resolution = resolved(stack)
    assert resolution.values["postgresql-ha"]["cacheHost"] == VALKEY_HOST
    assert resolution.referenced["postgresql-ha"] == ("valkey",)


def test_a_dangling_reference_spelled_with_escapes_is_found(stack: Path) -> None:
    values = stack / "values/s3/postgresql-ha.yaml"
    values.write_text(values.read_text() + 'cacheHost: "\\x24{ref:nowhere.cache.host}"\n')
    loaded = load_stack(stack, refuse_plaintext=False)
    assert [(d.release, d.target) for d in loaded.dangling] == [("postgresql-ha", "nowhere")]


# --------------------------------------------------------------------------- errors

BAD_REFERENCES: list[tuple[str, str, str]] = [
    # (reference text, what the message says, what the hint says)
    ("${ref:postgresql-ha.nothing.host}", "exports no endpoint 'nothing'", "database"),
    ("${ref:postgresql-ha.database.password}", "unknown reference field 'password'", "secretName"),
    ("${ref:postgresql-ha.database.Host}", "unknown reference field 'Host'", "host"),
    ("${ref:nowhere.database.host}", "release 'nowhere', which does not exist", "release"),
    ("${ref:postgresql-ha.database}", "malformed reference", "RELEASE.EXPORT.FIELD"),
    ("${ref:postgresql-ha.database.host.extra}", "malformed reference", "RELEASE.EXPORT.FIELD"),
    ("${ref:}", "malformed reference", "RELEASE.EXPORT.FIELD"),
    ("${ref:{__class__}.x.host}", "malformed reference", "RELEASE.EXPORT.FIELD"),
]


@pytest.mark.parametrize(("reference", "message", "hint"), BAD_REFERENCES, ids=[r for r, _, _ in BAD_REFERENCES])
def test_bad_reference_names_file_and_line_of_the_value(stack: Path, reference: str, message: str, hint: str) -> None:
    line = add_values(stack, GITEA, f"broken:\n  deep:\n    - fine\n    - 'x {reference} y'\n")
    problems = resolve_error(stack).problems
    assert len(problems) == 1
    problem = problems[0]
    assert problem.path == GITEA
    assert problem.line == line + 3
    assert problem.column == 9  # the list item, after "- "
    assert problem.key_path == "values.broken.deep[1]"
    assert message in problem.message
    assert hint in problem.hint
    assert problem.format().startswith(f"{GITEA}:{line + 3}:9: error: ")


def test_self_reference_is_refused(stack: Path) -> None:
    add_values(stack, POSTGRES, "selfHost: ${ref:postgresql-ha.database.host}")
    problem = resolve_error(stack).problems[0]
    assert problem.path == POSTGRES
    assert problem.line == line_of(stack, POSTGRES, "selfHost:")
    assert "itself" in problem.message
    assert problem.key_path == "values.selfHost"


def test_secret_name_of_an_export_without_one(stack: Path) -> None:
    spec = stack / VALKEY
    spec.write_text(spec.read_text().replace("    secretName: valkey-credentials\n", ""))
    (stack / "releases/s3/backup.yaml").unlink()  # its CronJob would log in with that Secret
    assert resolved(stack).endpoints[("valkey", "cache")].secret_name == ""
    line = add_values(stack, GITEA, "valkeySecret: ${ref:valkey.cache.secretName}")
    problems = resolve_error(stack).problems
    assert len(problems) == 1
    assert (problems[0].path, problems[0].line, problems[0].key_path) == (GITEA, line, "values.valkeySecret")
    assert "no secretName" in problems[0].message


def test_error_in_a_values_file_names_that_file(stack: Path) -> None:
    values = stack / "values/s3/postgresql-ha.yaml"
    values.write_text(values.read_text() + "other:\n  host: ${ref:valkey.nothing.host}\n")
    problem = resolve_error(stack).problems[0]
    assert problem.path == "values/s3/postgresql-ha.yaml"
    assert problem.line == line_of(stack, "values/s3/postgresql-ha.yaml", "${ref:valkey.nothing.host}")
    assert problem.key_path == "other.host"


def test_all_bad_references_of_a_run_are_reported(stack: Path) -> None:
    add_values(
        stack,
        GITEA,
        """
one: ${ref:postgresql-ha.nothing.host}
two: ${ref:valkey.cache.bogus}
""",
    )
    add_values(stack, POSTGRES, "three: ${ref:postgresql-ha.database.port}")
    problems = resolve_error(stack).problems
    where = sorted((p.path, p.key_path) for p in problems)
    assert where == sorted([(GITEA, "values.one"), (GITEA, "values.two"), (POSTGRES, "values.three")])
    for problem in problems:
        assert problem.line is not None


def test_unknown_export_service_is_refused(stack: Path) -> None:
    spec = stack / POSTGRES
    spec.write_text(spec.read_text().replace("    service: pgpool\n", "    service: '{__class__}'\n"))
    problem = resolve_error(stack).problems[0]
    assert problem.path == POSTGRES
    assert problem.key_path == "exports.database.service"
    assert "not a service of chart 'postgresql-ha'" in problem.message


def _walk(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [item for value in data.values() for item in _walk(value)]
    if isinstance(data, list):
        return [item for value in data for item in _walk(value)]
    return [data]


def test_resolution_leaves_no_reference_text(stack: Path) -> None:
    resolution = resolved(stack)
    for values in resolution.values.values():
        assert not any(isinstance(item, str) and "${ref:" in item for item in _walk(values))


# --------------------------------------------------------------------------- substitution


def _marked(origins: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [path for data in origins for path, _ in marker_strings(data)]


SUBSTITUTION_CASES: list[list[dict[str, Any]]] = [
    [{"a": {"b": "${ref:pg.db.host}", "c": [1, "x ${ref:pg.db.port} y"]}, "d": "plain"}],
    # a later file replaces the mapping that held a reference with a scalar, and a list with a mapping
    [{"a": {"b": "${ref:pg.db.host}"}, "l": ["${ref:pg.db.port}"]}, {"a": "gone", "l": {"0": "kept"}}],
    # a later file's reference under an earlier file's mapping; int and bool keys
    [{"a": {"x": 1}, 1: {True: "${ref:pg.db.host}"}}, {"a": {"y": "${ref:pg.db.port}"}}],
    [{"s": "${ref:unknown.db.host} and ${ref:pg.db.host"}],  # left as written (a lenient load)
]


@pytest.mark.parametrize("origins", SUBSTITUTION_CASES)
def test_substituting_at_the_marked_places_is_substituting_everywhere(origins: list[dict[str, Any]]) -> None:
    from renderer.load.stack import deep_merge
    from renderer.render.references import _substitute, _substitute_at

    endpoints = {("pg", "db"): Endpoint("pg", "ns", "pg.ns.svc", 5432, "")}
    merged: dict[str, Any] = {}
    for data in origins:
        merged = deep_merge(merged, data)
    everywhere = _substitute(merged, endpoints)
    marked = _substitute_at(merged, _marked(origins), endpoints)
    assert marked == everywhere
    assert repr(marked) == repr(everywhere)  # the same types and key order
    assert _substitute_at(merged, [], endpoints) is merged
    for key, value in merged.items():  # parts without a reference are the same objects
        if not marker_strings(value):
            assert marked[key] is value


def test_each_endpoint_read_is_spelt_once_for_the_render_keys(stack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A render key spells the endpoints a release's references read by their digests:
    many references read one endpoint (gitea reads the database's host, port and more),
    each endpoint is spelt once a resolve."""
    from renderer.render import references
    from renderer.render.target import sharing_renders

    spelt: list[object] = []
    real = references.digest_of_spelling

    def counted(value: object) -> str | None:
        if isinstance(value, Endpoint) or value is None:
            spelt.append(value)
        return real(value)

    monkeypatch.setattr(references, "digest_of_spelling", counted)
    loaded = load_stack(stack)
    with sharing_renders():
        resolve(loaded)
    endpoints = [value for value in spelt if value is not None]
    assert endpoints and len({id(value) for value in endpoints}) == len(endpoints)  # none twice
