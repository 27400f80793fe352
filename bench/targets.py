"""The four servers a comparison loads: each stack's generated service and its bare reference.

A service is rendered with the user's answers, installed from its own lock, migrated and
served by `python -m <package>` with its shipped defaults. Its reference is the least code
doing the same work (bench/reference/) under the same server and worker count. Each target
gets its own fresh database, migrated with the project's own migrations.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.load import LoadResult
from tests.databases import provisioned
from tests.matrix import ROOT, default_cell
from tests.render import install, make, project_env, render
from tests.served import Server, free_port, stop

LABELS = {"fastapi": "FastAPI", "flask": "Flask"}


@dataclass
class Target:
    """One server to measure, and what was measured of it."""

    framework: str
    kind: str  # "service" or "reference"
    command: list[str]
    cwd: Path
    database_url: str
    env: dict[str, str]
    lines_of_code: int
    log: Path  # the server's output, appended to at each start
    test_suite_seconds: float | None = None
    startup_seconds: float = 0.0
    # A reference only: the same app importing its service's libraries first
    # (bench/reference/libraries.py), and its start-up.
    libraries_command: list[str] | None = None
    libraries_startup_seconds: float | None = None
    memory_rest_mib: float = 0.0
    memory_load_mib: float = 0.0
    results: dict[str, LoadResult] = field(default_factory=dict)
    # Each basic scenario's req/s, run by run, in the order taken (alternated with the
    # other target of the pair: the n-th runs of both were taken side by side).
    repeats: dict[str, list[float]] = field(default_factory=dict)
    sweep: dict[int, LoadResult] = field(default_factory=dict)
    latency: dict[float, LoadResult] = field(default_factory=dict)
    # Each sweep point's req/s, run by run, alternated like `repeats`.
    sweep_repeats: dict[int, list[float]] = field(default_factory=dict)
    latency_repeats: dict[float, list[float]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{LABELS[self.framework]} {self.kind}"

    def start(
        self, database_url: str | None = None, command: list[str] | None = None
    ) -> tuple[Server, float]:
        """The target's server (or `command`'s) on `database_url` (its own by default), just
        started, and when it was; stop it with tests.served.stop."""
        port = free_port()
        env = {**self.env, "DATABASE_URL": database_url or self.database_url, "PORT": str(port)}
        with self.log.open("a") as log:
            started = time.perf_counter()
            process = subprocess.Popen(
                [part.format(port=port) for part in command or self.command],
                cwd=self.cwd,
                env=project_env(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # one process group: stop() reaps every worker
            )
        return Server(process, f"http://127.0.0.1:{port}"), started

    @contextmanager
    def serving(self, startups: int = 1) -> Iterator[Server]:
        """The target's server on its own database, until the block ends. The time from start
        to the first answer is its start-up time: the median of `startups` cold starts, the
        last of which is the server yielded."""
        times = self.cold_start_times(startups - 1)
        server, seconds = self.cold_start()
        self.startup_seconds = statistics.median([*times, seconds])
        try:
            yield server
        finally:
            stop(server.process)

    def time_libraries_startup(self, startups: int) -> None:
        """A reference's start-up when it imports its service's libraries first: the median
        of `startups` cold starts, on its own database."""
        if self.libraries_command is not None:
            times = self.cold_start_times(startups, self.libraries_command)
            self.libraries_startup_seconds = statistics.median(times)

    def cold_start_times(self, count: int, command: list[str] | None = None) -> list[float]:
        """The start-up times of `count` cold starts, each server stopped once it answered."""
        times = []
        for _ in range(count):
            server, seconds = self.cold_start(command)
            stop(server.process)
            times.append(seconds)
        return times

    def cold_start(self, command: list[str] | None = None) -> tuple[Server, float]:
        """The server (or `command`'s) started, once it answers; the seconds that took."""
        server, started = self.start(command=command)
        try:
            wait_for_live(server)
        except BaseException:
            stop(server.process)
            raise
        return server, time.perf_counter() - started


@contextmanager
def serving_together(targets: list[Target], database_urls: list[str]) -> Iterator[list[Server]]:
    """Each target's server on the matching URL, started at once (start-up not recorded)."""
    with ExitStack() as stack:
        servers = []
        for target, url in zip(targets, database_urls, strict=True):
            server, _ = target.start(url)
            stack.callback(stop, server.process)
            servers.append(server)
        for server in servers:
            wait_for_live(server)
        yield servers


def wait_for_live(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.base_url}: the server exited at start; see its log")
        try:
            if server.request("GET", "/health/live").status == 200:
                return
        except OSError:
            # Refused: nothing listens yet. A server that imports its app before it binds
            # (the services, with preload) is refused until it is nearly ready, and 50 ms
            # between tries added 0-50 ms to its start-up (10 of one run's starts read
            # 0.358-0.362 s; 0.344 s polled every 2 ms). One that binds first (a reference
            # whose workers import the app) holds the connection until it answers instead.
            time.sleep(0.002)
    raise SystemExit(f"{server.base_url}: no answer in {timeout:.0f} s")


def count_lines(paths: list[Path]) -> int:
    return sum(len(path.read_text().splitlines()) for path in paths)


def reference_command(framework: str, workers: int, *, libraries: bool = False) -> list[str]:
    """The bare app under the stack's own server, with the service's defaults ({port} is filled
    in at start); with `libraries`, the same app importing its service's libraries first."""
    python = sys.executable
    module = "bench.reference.libraries" if libraries else f"bench.reference.{framework}_app"
    factory = f"{framework}_app" if libraries else "create_app"
    if framework == "fastapi":
        return [
            python, "-m", "uvicorn", f"{module}:{factory}", "--factory",
            "--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    return [
        python, "-m", "gunicorn", f"{module}:{factory}()",
        "--bind", "127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread",
        "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip


_compiled: set[tuple[str, Path]] = set()
_compile_lock = threading.Lock()


def compile_bytecode(python: str | Path, path: Path) -> None:
    """Python's bytecode caches for the modules under `path`, written once, before any start
    is timed.

    A start without them compiles every module it imports: 2.2 s of imports for the Flask
    service instead of 0.6 s, and 1.1 s for its reference instead of 0.35, so that start-up
    measured the compiler, and more of it for the larger import. That happens wherever
    PYTHONDONTWRITEBYTECODE is set (CI images), which also stops a start writing them. A
    user's second start, `make install` and the Docker image all read caches.
    """
    with _compile_lock:
        if (str(python), path) not in _compiled:
            subprocess.run(
                [str(python), "-m", "compileall", "-q", "-j", "0", str(path)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            _compiled.add((str(python), path))


def migrate(project: Path, database_url: str) -> None:
    make(project, "migrate", env={"DATABASE_URL": database_url})


@contextmanager
def prepared(
    framework: str, database: str, workers: int, scratch: Path, *, run_tests: bool = True
) -> Iterator[tuple[Target, Target]]:
    """A stack's service and reference, ready to serve, each on a fresh migrated database."""
    answers = {**default_cell().data, "framework": framework, "database": database}
    project = render(scratch / framework / "project", answers)
    # `make install` compiles what it installs; the project's own code is editable.
    compile_bytecode(install(project), project / "src")
    # The references run on the template's environment.
    compile_bytecode(sys.executable, Path(sysconfig.get_path("purelib")))
    compile_bytecode(sys.executable, ROOT / "bench")
    with ExitStack() as stack:
        urls = []
        for kind in ("service", "reference", "tests"):
            name = f"ts_compare_{framework}_{kind}_{os.getpid()}"
            url = stack.enter_context(provisioned(database, name))
            urls.append(url or f"sqlite:///{scratch / framework / f'{kind}.db'}")
        service_url, reference_url, tests_url = urls
        with ThreadPoolExecutor() as pool:  # two databases, migrated side by side
            list(pool.map(lambda url: migrate(project, url), (service_url, reference_url)))
        source = sorted((project / "src").rglob("*.py"))
        package = next(path.name for path in (project / "src").iterdir() if path.is_dir())
        service = Target(
            framework,
            "service",
            [str(install(project)), "-m", package],
            project,
            service_url,
            {"WEB_CONCURRENCY": str(workers)},
            count_lines(source),
            scratch / framework / "service.log",
        )
        reference_files = [ROOT / "bench" / "reference" / f"{framework}_app.py"]
        reference = Target(
            framework,
            "reference",
            reference_command(framework, workers),
            ROOT,
            reference_url,
            {},
            count_lines([*reference_files, ROOT / "bench" / "reference" / "common.py"]),
            scratch / framework / "reference.log",  # not beside its cwd, the template
            libraries_command=reference_command(framework, workers, libraries=True),
        )
        if run_tests:
            started = time.perf_counter()
            test_env = {"TEST_DATABASE_URL": tests_url} if database != "sqlite" else {}
            make(project, "test", env=test_env)
            service.test_suite_seconds = time.perf_counter() - started
        yield service, reference


def host_and_port(database_url: str) -> tuple[str, int]:
    url = make_url(database_url)
    default = {"postgresql": 5432, "mysql": 3306}[url.get_backend_name()]
    return url.host or "127.0.0.1", int(url.port or default)


def through(database_url: str, port: int) -> str:
    """The same database URL, reached through a proxy on 127.0.0.1:<port>."""
    url = make_url(database_url).set(host="127.0.0.1", port=port)
    return url.render_as_string(hide_password=False)
