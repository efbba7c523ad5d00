"""Real PostgreSQL and redis-server (it speaks Valkey's protocol) for the backup tests,
from Debian's packages: on 127.0.0.1 only, free ports, temporary data folders,
stopped when the test session ends.

The binaries are installed once a session (``apt-get install postgresql redis-server
age rclone``) where they are missing and this runs as root with apt-get; a test that
still lacks one is skipped, naming it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("postgresql", "redis-server", "age", "rclone")
TOOLS = ("redis-server", "redis-cli", "age", "age-keygen", "rclone", "runuser")
PG_TOOLS = ("initdb", "pg_ctl", "psql", "pg_dumpall")


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin that has the server tools."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    return next((path for path in found if all((path / tool).is_file() for tool in PG_TOOLS)), None)


def missing() -> list[str]:
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if postgres_bin() is None:
        absent.append("postgresql (initdb, pg_ctl, psql, pg_dumpall)")
    return absent


def install() -> str:
    """Install the Debian packages when something is missing; the apt log's tail, for the skip reason."""
    if not missing():
        return ""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root or no apt-get: cannot install " + " ".join(PACKAGES)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = []
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=900)
        log.append((done.stdout + done.stderr)[-400:])
        if done.returncode != 0:
            break
    # Debian's packages start their own servers where they can: ours never use them.
    return "\n".join(log)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start in {timeout:.0f}s")


@dataclass
class Postgres:
    """A PostgreSQL cluster of its own, run as the Debian ``postgres`` user."""

    password: str
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rail-pg-")))
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.bin = postgres_bin()
        assert self.bin is not None
        os.chmod(self.folder, 0o755)  # the postgres user must reach its data folder
        self.data = self.folder / "data"
        self.socket = self.folder / "socket"
        for path in (self.data, self.socket):
            path.mkdir()
        password_file = self.folder / "password"
        password_file.write_text(self.password + "\n", encoding="utf-8")
        shutil.chown(self.folder, "postgres", "postgres")
        for path in (self.data, self.socket, password_file):
            shutil.chown(path, "postgres", "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--no-sync",
        )
        password_file.unlink()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket} -c fsync=off"
        log = self.folder / "server.log"
        log.touch()
        shutil.chown(log, "postgres", "postgres")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start")

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    @property
    def env(self) -> dict[str, str]:
        """libpq's variables for this server, as its superuser."""
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "postgres",
            "PGPASSWORD": self.password,
            "PATH": f"{self.bin}:{os.environ.get('PATH', '')}",
        }

    def sql(self, query: str, database: str = "postgres") -> str:
        done = subprocess.run(
            ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", query],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    def stop(self) -> None:
        if self.bin is not None and self.data.is_dir():
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "stop",
                ],
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Redis:
    """A redis-server on 127.0.0.1 with a password; ``folder`` is its data folder."""

    password: str
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rail-redis-")))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self, appendonly: bool = False) -> Redis:
        self.port = free_port()
        # The password through stdin's config, never the command line (ps would show it).
        config = (
            f"port {self.port}\nbind 127.0.0.1\ndir {self.folder}\nsave ''\n"
            f"appendonly {'yes' if appendonly else 'no'}\nrequirepass {self.password}\n"
        )
        self.process = subprocess.Popen(
            ["redis-server", "-"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        assert self.process.stdin is not None
        self.process.stdin.write(config.encode("utf-8"))
        self.process.stdin.close()
        wait_for(lambda: self._ping(), f"redis-server on port {self.port}")
        return self

    def _ping(self) -> bool:
        try:
            return self.cli("PING") == "PONG"
        except subprocess.CalledProcessError:
            return False

    @property
    def env(self) -> dict[str, str]:
        return {"REDISCLI_AUTH": self.password}

    def cli(self, *args: str, db: int = 0) -> str:
        done = subprocess.run(
            ["redis-cli", "--no-auth-warning", "-h", "127.0.0.1", "-p", str(self.port), "-n", str(db), *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout.strip()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
