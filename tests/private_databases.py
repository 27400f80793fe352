"""Private database servers for fault injection: started, restarted, stopped and frozen at will.

The shared servers (5432, 3306) are used by everyone on the machine and are never
signalled. The fault tier starts its own PostgreSQL (initdb + pg_ctl, as the postgres
user) and its own MariaDB (mariadb-install-db + mariadbd), each in a scratch directory on
a free port, and does to them what an outage does: restart, refuse, freeze (SIGSTOP).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymysql

from tests.served import free_port

HOST = "127.0.0.1"
START_TIMEOUT = 60.0


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root; the server runs as the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _wait_for(connect: object, what: str, timeout: float = START_TIMEOUT) -> float:
    """Seconds until `connect()` succeeds; fails after `timeout`."""
    start = time.monotonic()
    while True:
        try:
            connect()  # type: ignore[operator]
            return time.monotonic() - start
        except Exception:
            if time.monotonic() - start > timeout:
                raise AssertionError(f"{what} did not come up in {timeout} s") from None
            time.sleep(0.1)


def _signal_if_alive(pid: int, signal_number: int) -> None:
    # A process listed a moment ago may be gone: thawed first, the postmaster reaps the
    # backends that ended while it was stopped before they are signalled (seen in CI).
    with suppress(ProcessLookupError):
        os.kill(pid, signal_number)


@dataclass
class PrivateServer:
    """One private server: its URL for the service, and the faults it can suffer."""

    kind: str  # "postgresql" or "mysql"
    port: int
    root: Path
    bin: Path
    process: subprocess.Popen[bytes] | None = None  # mariadbd, our child: reaped on stop

    @property
    def url(self) -> str:
        if self.kind == "postgresql":
            return f"postgresql://postgres@{HOST}:{self.port}/faults"
        return f"mysql://root@{HOST}:{self.port}/faults"

    # --- processes -------------------------------------------------------------------
    def pids(self) -> list[int]:
        """Every process of the server (postmaster and backends, or mariadbd)."""
        main = self.main_pid()
        if main is None:
            return []
        children = subprocess.run(
            ["pgrep", "-P", str(main)], capture_output=True, text=True, check=False
        ).stdout.split()
        return [main, *(int(pid) for pid in children)]

    def main_pid(self) -> int | None:
        pid_file = self.root / (
            "data/postmaster.pid" if self.kind == "postgresql" else "mariadb.pid"
        )
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def freeze(self) -> None:
        """SIGSTOP every process of the server: connections stay open, nothing answers."""
        for pid in self.pids():
            _signal_if_alive(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids():
            _signal_if_alive(pid, signal.SIGCONT)

    # --- lifecycle -------------------------------------------------------------------
    def session(self, dbname: str = "postgres", *, autocommit: bool = False) -> Any:
        """A new session as the superuser: a psycopg or PyMySQL connection (MariaDB: no
        database selected)."""
        if self.kind == "postgresql":
            return psycopg.connect(
                host=HOST,
                port=self.port,
                user="postgres",
                dbname=dbname,
                connect_timeout=2,
                autocommit=autocommit,
            )
        return pymysql.connect(
            host=HOST, port=self.port, user="root", password="", connect_timeout=2,
            autocommit=autocommit,
        )  # fmt: skip

    def ping(self) -> None:
        self.session().close()

    def _pg_ctl(self, *arguments: str, check: bool) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), *arguments]
        subprocess.run(_as_postgres(command), check=check, capture_output=True)

    def start(self) -> float:
        """Start the server; seconds until it accepts a session."""
        started = time.monotonic()
        if self.kind == "postgresql":
            options = f"-p {self.port} -k {self.root} -c listen_addresses={HOST}"
            self._pg_ctl("-l", str(self.root / "server.log"), "-o", options, "start", check=True)
        else:
            with (self.root / "server.log").open("a") as log:  # the server keeps its own copy
                self.process = subprocess.Popen(
                    [
                        str(self.bin),
                        "--no-defaults",
                        f"--datadir={self.root / 'data'}",
                        f"--port={self.port}",
                        f"--bind-address={HOST}",
                        f"--socket={self.root / 'mariadb.sock'}",
                        f"--pid-file={self.root / 'mariadb.pid'}",
                        "--user=root",
                        "--innodb-buffer-pool-size=32M",
                        "--skip-log-bin",
                        "--max-connections=200",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        _wait_for(self.ping, f"private {self.kind}")
        return time.monotonic() - started

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (PostgreSQL: pg_ctl -m fast or immediate; MariaDB: SIGTERM/SIGKILL)."""
        self.thaw()  # a frozen server cannot stop
        if self.kind == "postgresql":
            self._pg_ctl("-m", mode, "-w", "stop", check=False)
            return
        pid = self.main_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL if mode == "immediate" else signal.SIGTERM)
        if self.process is not None:
            self.process.wait(timeout=START_TIMEOUT)
            self.process = None
        (self.root / "mariadb.pid").unlink(missing_ok=True)

    def execute(self, statement: str) -> None:
        connection = self.session(autocommit=True)
        try:
            if self.kind == "postgresql":
                connection.execute(statement.encode())
            else:
                with connection.cursor() as cursor:
                    cursor.execute(statement)
        finally:
            connection.close()


def available(kind: str) -> str | None:
    """Why a private `kind` server cannot be started here; None if it can."""
    if kind == "postgresql":
        return None if _postgres_bin() else "no PostgreSQL binaries under /usr/lib/postgresql"
    if shutil.which("mariadbd") and shutil.which("mariadb-install-db"):
        return None
    return "no mariadbd / mariadb-install-db"


@contextmanager
def private_server(kind: str, scratch: Path) -> Iterator[PrivateServer]:
    """A fresh private server with an empty `faults` database, removed afterwards."""
    root = scratch / f"{kind}-{os.getpid()}"
    root.mkdir(parents=True)
    port = free_port()
    if kind == "postgresql":
        pg_bin = _postgres_bin()
        assert pg_bin is not None
        postgres = pwd.getpwnam("postgres")
        os.chown(root, postgres.pw_uid, postgres.pw_gid)
        root.chmod(0o700)
        subprocess.run(
            _as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(root / "data"),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server = PrivateServer(kind, port, root, pg_bin)
    else:
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={root / 'data'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        mariadbd = shutil.which("mariadbd")
        assert mariadbd is not None
        server = PrivateServer(kind, port, root, Path(mariadbd))
    try:
        server.start()
        server.execute("CREATE DATABASE faults")
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
