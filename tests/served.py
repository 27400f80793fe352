"""Install a rendered project into its own virtual environment and serve it for real."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.databases import provisioned
from tests.matrix import Cell
from tests.render import Renders, install, project_env, run_tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    """A running service and the way to talk to it."""

    process: subprocess.Popen[str]
    base_url: str

    @property
    def address(self) -> tuple[str, int]:
        """The host and port it listens on, for a raw socket."""
        host, port = self.base_url.removeprefix("http://").split(":")
        return host, int(port)

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, _lower(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, _lower(error.headers.items()), error.read())


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_dom(url: str, scratch: Path) -> str | None:
    """The DOM of a page after its scripts ran in headless Chromium; None without Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    result = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={scratch}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return result.stdout


def post_across_sigterm(server: Server, body: bytes) -> int:
    """Start a POST, SIGTERM the server half-way through its body, finish it; its status.

    A graceful shutdown lets a request already in flight complete: 201, not a reset.
    """
    half = len(body) // 2
    host, port = server.address
    with socket.create_connection((host, port), timeout=20) as sock:
        head = (
            f"POST /tasks HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body[:half])
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        sock.sendall(body[half:])
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def wait_until_ready(server: Server, timeout: float = 60, path: str = "/health/ready") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited early:\n{server.process.communicate()[1][-4000:]}")
        try:
            if server.request("GET", path).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready in time")


@contextmanager
def serving(python: Path, project: Path, env: dict[str, str], log: Path) -> Iterator[Server]:
    """Run `python -m <package>` (the production server) until the block ends, then SIGTERM.

    The server's output goes to `log`, a file: a pipe nobody reads would fill up and stall it.
    """
    port = free_port()
    package = next(path.name for path in (project / "src").iterdir() if path.is_dir())
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(python), "-m", package],
            cwd=project,
            env=project_env({**env, "HOST": "127.0.0.1", "PORT": str(port)}),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stop() can reap every worker
        )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then up to 40 s for a graceful exit before SIGKILL to the whole group.

    The process must have been started with start_new_session=True: a server killed alone
    would leave its worker processes behind, still holding the port.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stack_cell(framework: str, database: str) -> Cell:
    """The matrix cell of a stack on a database, with the other answers at their defaults."""
    return Cell((("framework", framework), ("database", database), ("ci", "github")))


class Stacks:
    """Both stacks served on each database, started on first use and stopped with `exits`.

    Each user (`purpose`) gets servers and databases of its own, so what one writes cannot
    change what another reads; the rendered projects and their installs are shared.
    """

    def __init__(
        self, renders: Renders, exits: ExitStack, purpose: str, env: Mapping[str, str]
    ) -> None:
        self.renders = renders
        self.exits = exits
        self.purpose = purpose
        self.env = dict(env)
        self._served: dict[tuple[str, str], tuple[Server, str]] = {}

    def get(self, framework: str, database: str) -> tuple[Server, str]:
        """The running server of a stack and the id of a task it holds."""
        key = (framework, database)
        if key not in self._served:
            self._served[key] = self._serve(framework, database)
        return self._served[key]

    def _serve(self, framework: str, database: str) -> tuple[Server, str]:
        project = self.renders.get(stack_cell(framework, database))
        # The pid keeps two runs on one machine (two engineers, CI) out of each other's way.
        name = f"ts_{self.purpose}_{framework}_{database}_{os.getpid()}"
        url = self.exits.enter_context(provisioned(database, name))
        env = {
            **self.env,
            "DATABASE_URL": url or f"sqlite:///{project.parent / f'{self.purpose}.db'}",
            "WEB_CONCURRENCY": "1",
        }
        python = install(project)
        run_tool(project, "alembic", "upgrade", "head", env=env)
        log = project.parent / f"{self.purpose}-server.log"
        server = self.exits.enter_context(serving(python, project, env, log))
        task = server.request("POST", "/tasks", {"command": "target"}).json()["id"]
        return server, str(task)
