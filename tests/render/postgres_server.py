"""A throwaway PostgreSQL server for tests: Debian's packages, a fresh cluster in a
temporary folder, listening on 127.0.0.1 only, on a free port, with password
(SCRAM) authentication, so a wrong password or a missing CONNECT right really fails."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ADMIN_PASSWORD = "admin-Test-pw-7f3a"  # the test cluster's superuser; never a real secret


@dataclass(frozen=True)
class Server:
    bin_dir: Path
    host: str
    port: int
    admin: str
    admin_password: str

    def env(self, **extra: str) -> dict[str, str]:
        """An environment for libpq tools: no user files, no inherited connection settings."""
        base = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        base["PATH"] = f"{self.bin_dir}:{base.get('PATH', '/usr/bin:/bin')}"
        base["PGCONNECT_TIMEOUT"] = "5"
        return {**base, **extra}

    def psql(self, sql: str, *, user: str = "", password: str = "", database: str = "postgres") -> str:
        """Runs ``sql`` as ``user`` over TCP; returns the unaligned output. Raises on failure."""
        env = self.env(
            PGHOST=self.host,
            PGPORT=str(self.port),
            PGUSER=user or self.admin,
            PGPASSWORD=password or self.admin_password,
            PGDATABASE=database,
        )
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise ConnectionRefusedError(result.stderr.strip())
        return result.stdout.strip()


def find_bin_dir() -> Path | None:
    """Debian's server binaries (``/usr/lib/postgresql/<major>/bin``), the newest."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    return candidates[0].parent if candidates else None


def install() -> str:
    """Installs Debian's ``postgresql`` when it is missing; returns why it could not, or ''."""
    if find_bin_dir() is not None:
        return ""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "PostgreSQL's server is not installed and this user cannot apt-get install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed: {result.stderr.strip()[-300:]}"
    return "" if find_bin_dir() is not None else "apt-get installed postgresql, but no server binary was found"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server() -> Iterator[Server]:
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    # initdb and postgres refuse to run as root: as root, run them as Debian's postgres user.
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="rail-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    password_file = folder / "pw"
    password_file.write_text(ADMIN_PASSWORD + "\n", encoding="utf-8")
    if owner is not None:
        for path in (folder, sockets, password_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets}"
    log = folder / "server.log"
    subprocess.run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield Server(bin_dir=bin_dir, host="127.0.0.1", port=port, admin="postgres", admin_password=ADMIN_PASSWORD)
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(folder, ignore_errors=True)
