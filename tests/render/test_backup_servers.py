"""The rendered backup commands against real servers, and the restore steps of
docs/backup.md into fresh ones.

The backup scripts are taken from the CronJobs ``rail render`` writes for the
shipped stack and run by bash with the environment the CronJob gives them; only
what points at the cluster is changed: the hosts and ports (the test servers), the
rclone remote's type (``local``, in a temporary folder), and the age recipient
(the test's own, from ``age-keygen``: the shipped one's identity was discarded).
The Secrets the CronJob reads are the test servers' passwords. Then the restore
steps, taken from ``renderer.render.backup`` and checked to be exactly the
commands ``docs/backup.md`` shows, bring the data back into fresh servers: row
counts and checksums, every key, type and value.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import backup_servers as servers
import pytest

from renderer.load.stack import load_stack
from renderer.render import backup as backup_commands
from renderer.render import render
from renderer.yamlio import load_document

REPO = Path(__file__).resolve().parents[2]
CANARY = "rail-canary-do-not-leak-7f3a"  # in the data: must never be readable in a backup file


@pytest.fixture(scope="session")
def tools() -> None:
    log = servers.install()
    absent = servers.missing()
    if absent:
        pytest.skip(
            f"backup server tests need {', '.join(absent)} (Debian packages {' '.join(servers.PACKAGES)}): {log}"
        )


@pytest.fixture(scope="session")
def rendered() -> dict[str, Any]:
    """The shipped stack rendered in memory: CronJobs by name, and docs/backup.md."""
    files = render(load_stack(REPO), ("flux",))
    cronjobs = {}
    for file in files:
        if "/cronjob-" in file.path:
            data = load_document(file.content.decode("utf-8"), file.path).data
            cronjobs[data["metadata"]["name"]] = data
    doc = next(file for file in files if file.path == "docs/backup.md").content.decode("utf-8")
    return {"cronjobs": cronjobs, "doc": doc}


@pytest.fixture(scope="session")
def identity(tmp_path_factory: pytest.TempPathFactory, tools: None) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("age")
    key = folder / "identity.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True)
    return key, recipient.stdout.strip()


@pytest.fixture(scope="session")
def postgres_password() -> str:
    return secrets.token_hex(12)


@pytest.fixture(scope="session")
def postgres(tools: None, postgres_password: str) -> Iterator[servers.Postgres]:
    server = servers.Postgres(postgres_password)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis(tools: None) -> Iterator[servers.Redis]:
    server = servers.Redis(secrets.token_hex(12)).start(appendonly=False)
    try:
        yield server
    finally:
        server.remove()


def container(cronjob: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    return found


def cronjob_env(cronjob: dict[str, Any], secret_values: dict[tuple[str, str], str]) -> dict[str, str]:
    """The environment the CronJob gives its container: values as written, each
    ``secretKeyRef`` from ``secret_values`` (a key the test does not know fails)."""
    env: dict[str, str] = {}
    for item in container(cronjob)["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secret_values[(ref["name"], ref["key"])]
    return env


def run_backup(cronjob: dict[str, Any], env: dict[str, str], remote_root: Path) -> subprocess.CompletedProcess[str]:
    command = container(cronjob)["command"]
    assert command[:2] == ["/bin/bash", "-c"]
    return subprocess.run(
        ["bash", "-c", command[2]],
        env={"PATH": os.environ["PATH"], **env},
        cwd=remote_root,  # the local remote's paths are relative to here
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def restore(
    engine: str, env: dict[str, str], remote_root: Path, actions: dict[str, Callable[[], dict[str, str]]]
) -> None:
    """The restore steps in order: each command as written (bash, with ``env``; the
    ``BACKUP_FILE`` a step sets reaches the next ones), each cluster step by its local
    equivalent in ``actions``, which may add to the environment."""
    state = remote_root / "restore-state"
    env = {"PATH": os.environ["PATH"], **env, "RAIL_TEST_STATE": str(state)}
    for step in backup_commands.restore_steps(engine):
        if step.command is None:
            env.update(actions[step.action]())
            continue
        script = f'set -euo pipefail\n{step.command}\nprintf "%s" "${{BACKUP_FILE:-}}" > "$RAIL_TEST_STATE"\n'
        done = subprocess.run(
            ["bash", "-c", script], env=env, cwd=remote_root, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"{step.command}: {done.stderr}"
        if state.read_text(encoding="utf-8"):
            env["BACKUP_FILE"] = state.read_text(encoding="utf-8")


def doc_commands(doc: str, release: str) -> list[str]:
    """The shell blocks of the doc's "Restore `release`" section, in order."""
    section = doc.split(f"### Restore `{release}`", 1)[1].split("\n#", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)\n\s*```", section, flags=re.S)]


def encrypted_backups(folder: Path, extension: str) -> list[Path]:
    files = sorted(folder.iterdir())
    assert [file.name for file in files if file.name.endswith(".partial")] == []
    backups = [file for file in files if file.name.endswith(extension)]
    for file in backups:
        content = file.read_bytes()
        assert content.startswith(b"age-encryption.org/v1\n"), file
        assert CANARY.encode() not in content
    return backups


# -- PostgreSQL --------------------------------------------------------------------------

SEED = """
CREATE ROLE gitea LOGIN PASSWORD 'gitea-test-only';
CREATE DATABASE gitea OWNER gitea;
"""
TABLES = f"""
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, amount numeric(12, 2), seen timestamptz);
INSERT INTO items (name, amount, seen)
  SELECT 'item ' || i || ' {CANARY}', i * 1.25, timestamptz '2026-01-01 00:00+00' + i * interval '1 minute'
  FROM generate_series(1, 2500) AS i;
CREATE TABLE tags (item_id int REFERENCES items(id), tag text);
INSERT INTO tags SELECT id, 'tag-' || (id % 7) FROM items;
ALTER TABLE items OWNER TO gitea;
"""
CHECKSUM = "SELECT count(*) || ' ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t"


def pg_state(server: servers.Postgres) -> dict[str, str]:
    return {
        "databases": server.sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database"),
        "roles": server.sql("SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_'"),
        "items": server.sql(CHECKSUM.format(table="items"), "gitea"),
        "tags": server.sql(CHECKSUM.format(table="tags"), "gitea"),
        "owner": server.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'items'", "gitea"),
    }


def test_postgresql_backup_restores_into_a_fresh_server(
    rendered: dict[str, Any],
    postgres: servers.Postgres,
    postgres_password: str,
    identity: tuple[Path, str],
    tmp_path: Path,
) -> None:
    key, recipient = identity
    for statement in SEED.strip().split(";\n"):
        postgres.sql(statement)
    for statement in TABLES.strip().split(";\n"):
        postgres.sql(statement, "gitea")
    before = pg_state(postgres)
    assert before["items"].startswith("2500 ")

    cronjob = rendered["cronjobs"]["backup-postgresql-ha"]
    secret_values = {
        ("postgresql-ha-credentials", "postgres-password"): postgres_password,
        ("backup-destination", "user"): "unused-by-a-local-remote",
        ("backup-destination", "password"): "unused-by-a-local-remote",
    }
    env = cronjob_env(cronjob, secret_values)
    assert env["PGUSER"] == "postgres" and env["PGPASSWORD"] == postgres_password
    env.update(
        PGHOST="127.0.0.1", PGPORT=str(postgres.port), AGE_RECIPIENT=recipient, RCLONE_CONFIG_BACKUP_TYPE="local"
    )
    env["PATH"] = postgres.env["PATH"]
    done = run_backup(cronjob, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert postgres_password not in done.stdout + done.stderr

    folder = tmp_path / env["BACKUP_REMOTE"].split(":", 1)[1]
    (backup,) = encrypted_backups(folder, ".sql.age")
    assert backup.name.startswith("postgresql-ha-")

    # The doc's restore steps are the ones run here.
    assert doc_commands(rendered["doc"], "postgresql-ha") == backup_commands.commands("postgresql")
    fresh = servers.Postgres(postgres_password)
    try:
        assert "gitea" not in fresh.sql("SELECT string_agg(datname, ',') FROM pg_database")
        restore_env = {
            **fresh.env,
            "BACKUP_REMOTE": env["BACKUP_REMOTE"],
            "AGE_IDENTITY": str(key),
            "RCLONE_CONFIG_BACKUP_TYPE": "local",
        }
        restore("postgresql", restore_env, tmp_path, {})
        assert pg_state(fresh) == before
    finally:
        fresh.stop()


def test_a_failed_dump_fails_the_job_and_leaves_no_backup(
    rendered: dict[str, Any], postgres: servers.Postgres, identity: tuple[Path, str], tmp_path: Path
) -> None:
    """pipefail: pg_dumpall refused (a wrong password) is a failed Job, and what rclone
    received is never renamed to a backup."""
    cronjob = rendered["cronjobs"]["backup-postgresql-ha"]
    values = {
        ("postgresql-ha-credentials", "postgres-password"): "wrong-password",
        ("backup-destination", "user"): "u",
        ("backup-destination", "password"): "p",
    }
    env = cronjob_env(cronjob, values)
    env.update(PGHOST="127.0.0.1", PGPORT=str(postgres.port), AGE_RECIPIENT=identity[1])
    env.update(RCLONE_CONFIG_BACKUP_TYPE="local", PATH=postgres.env["PATH"])
    done = run_backup(cronjob, env, tmp_path)
    assert done.returncode != 0
    folder = tmp_path / env["BACKUP_REMOTE"].split(":", 1)[1]
    names = [path.name for path in folder.iterdir()] if folder.is_dir() else []
    assert [name for name in names if name.endswith(".sql.age")] == []


# -- Valkey (redis-server) ---------------------------------------------------------------

# Every key with its type, TTL class and value, sorted: one text to compare.
DUMP_LUA = """
local keys = redis.call('KEYS', '*')
table.sort(keys)
local out = {}
for _, k in ipairs(keys) do
  local t = redis.call('TYPE', k)['ok']
  local v
  if t == 'string' then v = {redis.call('GET', k)}
  elseif t == 'hash' then v = redis.call('HGETALL', k)
  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
  elseif t == 'set' then v = redis.call('SMEMBERS', k); table.sort(v)
  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES')
  else v = {'?'} end
  local ttl = redis.call('TTL', k) > 0 and 'ttl' or 'persistent'
  table.insert(out, k .. '|' .. t .. '|' .. ttl .. '|' .. table.concat(v, '\\31'))
end
return out
"""


def redis_state(server: servers.Redis) -> dict[int, str]:
    return {db: server.cli("EVAL", DUMP_LUA, "0", db=db) for db in (0, 1)}


def seed_redis(server: servers.Redis) -> None:
    for db in (0, 1):
        for index in range(300):
            server.cli("SET", f"key:{index}", f"value {index} {CANARY}", db=db)
        server.cli("HSET", "user:1", "name", "Ada", "lang", "en", db=db)
        server.cli("RPUSH", "queue", "a", "b", "c", db=db)
        server.cli("SADD", "members", "x", "y", "z", db=db)
        server.cli("ZADD", "scores", "1", "one", "2.5", "two", db=db)
        server.cli("SET", "session", "expiring", "EX", "86400", db=db)


def test_valkey_backup_restores_into_a_fresh_server(
    rendered: dict[str, Any], redis: servers.Redis, identity: tuple[Path, str], tmp_path: Path
) -> None:
    key, recipient = identity
    seed_redis(redis)
    before = redis_state(redis)
    assert before[0].count("key:") == 300 and before[1].count("key:") == 300

    cronjob = rendered["cronjobs"]["backup-valkey"]
    secret_values = {
        ("valkey-credentials", "valkey-password"): redis.password,
        ("backup-destination", "user"): "unused-by-a-local-remote",
        ("backup-destination", "password"): "unused-by-a-local-remote",
    }
    env = cronjob_env(cronjob, secret_values)
    assert env["REDISCLI_AUTH"] == redis.password
    env.update(
        VALKEY_HOST="127.0.0.1", VALKEY_PORT=str(redis.port), AGE_RECIPIENT=recipient, RCLONE_CONFIG_BACKUP_TYPE="local"
    )
    done = run_backup(cronjob, env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert redis.password not in done.stdout + done.stderr

    folder = tmp_path / env["BACKUP_REMOTE"].split(":", 1)[1]
    (backup,) = encrypted_backups(folder, ".rdb.age")
    assert backup.name.startswith("valkey-")

    assert doc_commands(rendered["doc"], "valkey") == backup_commands.commands("valkey")
    fresh = servers.Redis(secrets.token_hex(12))
    try:
        # A stale append-only log of the old server: the restore steps remove it.
        (fresh.folder / "appendonlydir").mkdir()
        restore_env = {
            "BACKUP_REMOTE": env["BACKUP_REMOTE"],
            "AGE_IDENTITY": str(key),
            "RESTORE_DIR": str(fresh.folder),
            "RCLONE_CONFIG_BACKUP_TYPE": "local",
        }

        def start_without_aof() -> dict[str, str]:
            assert (fresh.folder / "dump.rdb").read_bytes().startswith(b"REDIS")
            assert not (fresh.folder / "appendonlydir").exists()
            fresh.start(appendonly=False)
            return {"VALKEY_HOST": "127.0.0.1", "VALKEY_PORT": str(fresh.port), **fresh.env}

        def restart() -> dict[str, str]:
            # Wait for the log CONFIG SET appendonly yes writes, then start as the chart runs it.
            servers.wait_for(lambda: "aof_rewrite_in_progress:0" in fresh.cli("INFO", "persistence"), "AOF rewrite")
            servers.wait_for(lambda: "aof_rewrite_scheduled:0" in fresh.cli("INFO", "persistence"), "AOF rewrite")
            fresh.stop()
            (fresh.folder / "dump.rdb").unlink()  # from here on only the new log holds the data
            fresh.start(appendonly=True)
            return {"VALKEY_PORT": str(fresh.port)}

        actions = {"stop": lambda: {}, "start-without-aof": start_without_aof, "restart": restart}
        restore("valkey", restore_env, tmp_path, actions)
        assert redis_state(fresh) == before
    finally:
        fresh.remove()
