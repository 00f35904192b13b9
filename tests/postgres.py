"""A throwaway PostgreSQL server for the test session: initdb in a temp dir, loopback only.

scripts/system-deps.sh installs the Debian package when it is missing. PostgreSQL refuses to
run as root, so as root the server runs as the `postgres` (or `nobody`) system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found; run scripts/system-deps.sh")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="labworks-pg-"))
        self.port = _free_port()
        self.user = "labworks"
        self.password = "test-only-password"
        self.proc: subprocess.Popen | None = None
        self._runas: list[str] = []
        if os.geteuid() == 0:
            account = "postgres"
            try:
                pwd.getpwnam(account)
            except KeyError:
                account = "nobody"
            os.chmod(self.dir, 0o777)
            self._runas = ["runuser", "-u", account, "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._runas, *argv], check=True, capture_output=True, cwd=self.dir)

    def start(self) -> PostgresServer:
        data = self.dir / "data"
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        pwfile.chmod(0o644)
        self._run(
            _pg_bin("initdb"), "-D", str(data), "-U", self.user, "--pwfile", str(pwfile),
            "--auth=scram-sha-256", "-E", "UTF8",
        )  # fmt: skip
        self.proc = subprocess.Popen(
            [
                *self._runas, _pg_bin("postgres"), "-D", str(data), "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "server.log", "wb"), cwd=self.dir,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.dir / "server.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("PostgreSQL did not start within 60 s")
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """A fast shutdown: the clients a session leaves open are cut off, not waited for
        (a plain SIGTERM waits for them, and as root runuser would take 2 s more)."""
        if self.proc and self.proc.poll() is None:
            try:
                self._run(_pg_bin("pg_ctl"), "stop", "-D", str(self.dir / "data"), "-m", "fast")
                self.proc.wait(30)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
