"""Database claims: the bootstrap Job that creates an application's role and database.

A release that declares ``needs.database`` gets, in the database release's layer and
namespace, one Kubernetes ``Job`` that creates the role and the database if they are
absent, and changes nothing when they exist. Why a Job: the layer Kustomizations apply
with ``wait: true``, so the S3 layer is ready only once the Job has completed, and the
applications of S5 start against a database that exists; a Job is plain Kubernetes
(no operator to install), and both Flux and Argo CD apply it. A Job's pod template
cannot change, so the Job's name carries a digest of what it does: a changed claim is a
new Job (Flux and Argo CD prune the old one), an unchanged one is left alone.

No password is ever in the rendered text: the Job reads the role's password and the
administrator's from Secrets of its own namespace at run time
(``valueFrom.secretKeyRef``), and ``psql`` receives the names and the password as
variables (``-v``), quoted by ``:'var'`` and ``format('%I'/'%L')``, never pasted into
shell or SQL text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model import DatabaseClaim, Release, Stack
from .references import Resolution

TEMPLATE = "database-claim-job.yaml.j2"

# The PostgreSQL client the Job runs: the official image, pinned (psql and pg_isready,
# POSIX sh). Its major version is at least the server's (postgresql-ha 16.x runs 17).
CLIENT_IMAGE = "docker.io/library/postgres:17.6-alpine"
CLIENT_UID = 70  # the image's postgres user

# The script the Job runs. Every input comes from the environment: the names and the
# password reach SQL only as psql variables (``:'var'`` is a quoted literal; format's
# %I quotes an identifier and %L a literal), so no value is ever parsed as shell or SQL.
# VERBOSITY=terse keeps the statement text (which holds the password) out of an error.
SCRIPT = """\
set -eu
tries=0
until pg_isready --quiet; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "database not ready after 5 minutes" >&2
    exit 1
  fi
  sleep 5
done
psql --no-psqlrc --quiet \\
  --set ON_ERROR_STOP=1 --set VERBOSITY=terse \\
  --set role="$CLAIM_ROLE" --set db="$CLAIM_DATABASE" --set password="$CLAIM_PASSWORD" \\
  --file - <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role')
\\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'db')
\\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db')
 WHERE has_database_privilege('public', :'db', 'CONNECT')
\\gexec
SQL
echo "role and database ready"
"""


@dataclass(frozen=True)
class ClaimJob:
    """One bootstrap Job: where it goes and what its template is given."""

    claimant: Release  # the release whose spec declares the claim
    database: Release  # the database release it runs against
    claim: DatabaseClaim
    context: dict[str, Any]

    @property
    def base_name(self) -> str:
        return f"db-claim-{self.claimant.name}"


def admin_credentials(values: Mapping[str, Any], secret_name: str) -> tuple[str, str, str]:
    """The administrator the Job logs in as: (user, Secret, key).

    Bitnami postgresql-ha keeps the superuser ``postgres``'s password under
    ``password`` when ``postgresql.username`` is ``postgres`` (the shipped stack), and
    under ``postgres-password`` when the chart's own user is another one.
    """
    postgresql = values.get("postgresql")
    username = postgresql.get("username", "postgres") if isinstance(postgresql, Mapping) else "postgres"
    key = "password" if username == "postgres" else "postgres-password"
    return "postgres", secret_name, key


def claim_jobs(stack: Stack, resolution: Resolution, secret_names: Mapping[str, str]) -> list[ClaimJob]:
    """The bootstrap Job of every database claim rail can render.

    A claim of a release that is missing, not a database, or exports no endpoint renders
    nothing: ``rail lint`` reports it (rule ``database-claim``).
    ``secret_names``: the Secret name in each claim's password file, by path.
    """
    jobs = []
    for release in stack.releases:
        claim = release.needs.database
        if claim is None:
            continue
        database = stack.release(claim.release)
        if database is None or database.service_class != "database" or not database.exports:
            continue
        export = database.exports[0]
        endpoint = resolution.endpoints.get((database.name, export.name))
        if endpoint is None:
            continue
        admin_user, admin_secret, admin_key = admin_credentials(
            resolution.values.get(database.name, {}), export.secret_name or f"{database.name}-credentials"
        )
        env = [
            {"name": "PGHOST", "value": endpoint.host},
            {"name": "PGPORT", "value": str(endpoint.port)},
            {"name": "PGUSER", "value": admin_user},
            {"name": "PGDATABASE", "value": "postgres"},
            {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": admin_secret, "key": admin_key}}},
            {"name": "CLAIM_ROLE", "value": claim.user},
            {"name": "CLAIM_DATABASE", "value": claim.name},
            {
                "name": "CLAIM_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": secret_names[claim.password_secret], "key": claim.password_key}},
            },
        ]
        context = {
            "namespace": database.namespace,
            "claimant": release.name,
            "database_release": database.name,
            "image": CLIENT_IMAGE,
            "uid": CLIENT_UID,
            "script": SCRIPT,
            "env": env,
        }
        jobs.append(ClaimJob(claimant=release, database=database, claim=claim, context=context))
    return jobs


def digest(content: bytes) -> str:
    """A short digest of a Job's canonical text without its name: part of its name."""
    return hashlib.sha256(content).hexdigest()[:10]
