"""The rendered database bootstrap, run against a real PostgreSQL.

The script and the environment come from the Jobs ``rail render`` wrote for the
shipped stack (Gitea's and Zulip's claims); only what Kubernetes would supply is
filled in: each ``secretKeyRef`` by a test password, and the host and port by
the test server's (the cluster's DNS name does not resolve here).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres_server import Server, install, running_server

from renderer.yamlio import load_document

# Passwords as Kubernetes would hand them over, by (Secret, key). Zulip's is full of
# shell and SQL syntax: it must arrive as data, never as code.
SECRETS = {
    ("postgresql-ha-credentials", "password"): "",  # filled in: the test server's admin password
    ("gitea-database", "password"): "gitea-Test-pw-2b8c",
    ("zulip-database", "password"): "z'q\"$(touch /tmp/rail-pwned) `id`; DROP ROLE postgres; -- :'role' \\x",
}


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    reason = install()
    if reason:
        pytest.skip(f"no PostgreSQL server to test the bootstrap against: {reason}")
    with running_server() as running:
        yield running


@pytest.fixture(scope="session")
def jobs(rendered_stack: Path) -> dict[str, dict[str, Any]]:
    """The rendered Flux bootstrap Jobs of the shipped stack, by claimant."""
    found = {}
    for path in sorted((rendered_stack / "rendered" / "flux" / "s3-platform").glob("job-db-claim-*.yaml")):
        data = load_document(path.read_text(encoding="utf-8"), path.name).data
        found[data["metadata"]["labels"]["railiance.io/claim"]] = data
    assert set(found) == {"gitea", "zulip"}, sorted(found)
    return found


def _run_job(job: dict[str, Any], server: Server) -> subprocess.CompletedProcess[str]:
    container = job["spec"]["template"]["spec"]["containers"][0]
    secrets = {**SECRETS, ("postgresql-ha-credentials", "password"): server.admin_password}
    env: dict[str, str] = {}
    for item in container["env"]:
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secrets[(ref["name"], ref["key"])]
        else:
            env[item["name"]] = item["value"]
    assert env["PGHOST"].endswith(".svc.cluster.local")
    env.update(PGHOST=server.host, PGPORT=str(server.port))
    command = [*container["command"], *container["args"]]
    return subprocess.run(command, env=server.env(**env), capture_output=True, text=True, timeout=120)


def _state(server: Server) -> tuple[str, str]:
    """Roles and databases as the catalog holds them, row versions (xmin) included:
    any UPDATE, even one writing the same values, shows."""
    roles = server.psql(
        "SELECT string_agg(format('%s|%s|%s|%s', rolname, rolcanlogin, rolpassword IS NOT NULL, xmin), ','"
        " ORDER BY rolname) FROM pg_authid WHERE rolname IN ('gitea', 'zulip')"
    )
    databases = server.psql(
        "SELECT string_agg(format('%s|%s|%s|%s', datname, pg_get_userbyid(datdba), datacl, xmin), ','"
        " ORDER BY datname) FROM pg_database WHERE datname IN ('gitea', 'zulip')"
    )
    return roles, databases


def test_bootstrap_creates_once_and_then_changes_nothing(jobs: dict[str, dict[str, Any]], server: Server) -> None:
    assert _state(server) == ("", ""), "the claims' roles and databases must not exist yet"
    first = {name: _run_job(job, server) for name, job in sorted(jobs.items())}
    for name, result in first.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    after_first = _state(server)
    roles, databases = after_first
    assert [row.split("|")[:3] for row in roles.split(",")] == [["gitea", "t", "t"], ["zulip", "t", "t"]]
    assert [row.split("|")[:2] for row in databases.split(",")] == [["gitea", "gitea"], ["zulip", "zulip"]]

    second = {name: _run_job(job, server) for name, job in sorted(jobs.items())}
    for name, result in second.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
    assert _state(server) == after_first
    assert not Path("/tmp/rail-pwned").exists(), "a password was run as shell code"
    for result in (*first.values(), *second.values()):
        for password in [*filter(None, SECRETS.values()), server.admin_password]:
            assert password not in result.stdout + result.stderr


def test_each_role_reaches_its_own_database_only(jobs: dict[str, dict[str, Any]], server: Server) -> None:
    for job in jobs.values():
        assert _run_job(job, server).returncode == 0
    gitea = SECRETS[("gitea-database", "password")]
    zulip = SECRETS[("zulip-database", "password")]
    assert (
        server.psql("SELECT current_user || '@' || current_database()", user="gitea", password=gitea, database="gitea")
        == "gitea@gitea"
    )
    assert (
        server.psql("SELECT current_user || '@' || current_database()", user="zulip", password=zulip, database="zulip")
        == "zulip@zulip"
    )
    # The owner may create tables in its own database.
    server.psql("CREATE TABLE IF NOT EXISTS probe (id int)", user="gitea", password=gitea, database="gitea")
    with pytest.raises(ConnectionRefusedError, match="permission denied for database"):
        server.psql("SELECT 1", user="gitea", password=gitea, database="zulip")
    with pytest.raises(ConnectionRefusedError, match="permission denied for database"):
        server.psql("SELECT 1", user="zulip", password=zulip, database="gitea")
    with pytest.raises(ConnectionRefusedError, match="password authentication failed"):
        server.psql("SELECT 1", user="gitea", password=zulip, database="gitea")


def test_a_failing_statement_shows_no_password(jobs: dict[str, dict[str, Any]], server: Server) -> None:
    """psql's error for a failing statement quotes no statement text (VERBOSITY=terse)."""
    job = jobs["gitea"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    # The same script, with CREATE ROLE made to fail: a role name over PostgreSQL's limit is refused
    # only by a statement that is run, so make it a reserved role prefix instead.
    broken = {**job, "spec": {**job["spec"], "template": {**job["spec"]["template"]}}}
    env = [dict(item) for item in container["env"]]
    for item in env:
        if item["name"] == "CLAIM_ROLE":
            item["value"] = "pg_reserved"
    broken["spec"]["template"]["spec"] = {**job["spec"]["template"]["spec"], "containers": [{**container, "env": env}]}
    result = _run_job(broken, server)
    assert result.returncode != 0
    assert "pg_" in result.stderr
    assert SECRETS[("gitea-database", "password")] not in result.stdout + result.stderr
