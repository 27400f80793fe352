"""The fault tier: each stack under its production server while its database or its own
processes fail, on a PRIVATE PostgreSQL and a PRIVATE MariaDB (tests/private_databases.py).

Each case prints its figures (counts, latencies, recovery time) and asserts only outcomes a
loaded machine cannot fake: statuses (503, never 500), no reset, every request answered
within a generous bound, the service serving again without a restart.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from tests.private_databases import PrivateServer, available, private_server
from tests.render import Renders, install, run_tool
from tests.served import Server, serving
from tests.served import stack_cell as cell
from tests.test_parity import FRAMEWORKS

pytestmark = pytest.mark.slow

DATABASES = ("postgresql", "mysql")
# The generated defaults the README documents: DATABASE_TIMEOUT=5 s per database call.
DATABASE_TIMEOUT = 2.0  # shortened here to keep the tier fast; the bound scales with it
GENEROUS = 60.0  # seconds: an answer later than this is a hang, whatever the load


class Closable(Protocol):
    def close(self) -> None: ...


# --- a client that records what every request got ------------------------------------
@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: str, seconds: float) -> None:
        with self.lock:
            self.statuses[outcome] += 1
            self.latencies.append(seconds)

    def summary(self) -> str:
        if not self.latencies:
            return "no requests"
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{dict(self.statuses)} p50={statistics.median(ordered) * 1000:.0f} ms "
            f"p99={p99 * 1000:.0f} ms max={ordered[-1] * 1000:.0f} ms"
        )


def call(server: Server, method: str, path: str, body: bytes | None = None) -> str:
    """One request on a fresh connection: its status, or the name of what went wrong."""
    connection = http.client.HTTPConnection(*server.address, timeout=GENEROUS)
    try:
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (ConnectionRefusedError, ConnectionResetError, TimeoutError, OSError) as error:
        return type(error).__name__
    except http.client.HTTPException as error:
        return type(error).__name__
    finally:
        connection.close()


def timed(tally: Tally, server: Server, method: str, path: str, body: bytes | None = None) -> str:
    start = time.monotonic()
    outcome = call(server, method, path, body)
    tally.record(outcome, time.monotonic() - start)
    return outcome


@contextmanager
def load(server: Server, workers: int, tally: Tally, pause: float = 0.02) -> Iterator[None]:
    """`workers` clients writing and reading tasks in a loop until the block ends."""
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            timed(tally, server, "POST", "/tasks", b'{"command": "fault"}')
            timed(tally, server, "GET", "/tasks?limit=5")
            time.sleep(pause)

    threads = [threading.Thread(target=client) for _ in range(workers)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(GENEROUS * 2)


def recovery_seconds(server: Server, timeout: float = GENEROUS) -> float:
    """Seconds until a write succeeds again."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if call(server, "POST", "/tasks", b'{"command": "back"}') == "201":
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError("the service did not recover without a restart")


# --- served stacks on private databases ----------------------------------------------
@dataclass
class Stack:
    framework: str
    database: PrivateServer
    project: Path
    python: Path

    @contextmanager
    def served(self, **settings: str) -> Iterator[Server]:
        env = {
            "DATABASE_URL": self.database.url,
            "DATABASE_TIMEOUT": str(DATABASE_TIMEOUT),
            "DATABASE_POOL_TIMEOUT": str(DATABASE_TIMEOUT),
            "WEB_CONCURRENCY": "2",
            "GRACEFUL_TIMEOUT": "20",
            **settings,
        }
        # One log per serving, kept after the run: the evidence of each case.
        log = self.project.parent / f"faults-{self.framework}-{time.monotonic_ns()}.log"
        with serving(self.python, self.project, env, log) as server:
            yield server


@pytest.fixture(scope="module", params=DATABASES)
def database(request: pytest.FixtureRequest) -> Iterator[PrivateServer]:
    reason = available(request.param)
    if reason:
        pytest.skip(reason)
    # Not under pytest's tmp_path: that is private to this user, and PostgreSQL runs as
    # the postgres user, which must reach its data directory.
    scratch = Path(tempfile.mkdtemp(prefix="twinstack-faults-"))
    scratch.chmod(0o755)
    try:
        with private_server(request.param, scratch) as server:
            yield server
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(params=FRAMEWORKS)
def stack(request: pytest.FixtureRequest, database: PrivateServer, renders: Renders) -> Stack:
    project = renders.get(cell(request.param, database.kind))
    python = install(project)
    run_tool(project, "alembic", "upgrade", "head", env={"DATABASE_URL": database.url})
    return Stack(request.param, database, project, python)


def report(stack: Stack, case: str, text: str) -> None:
    print(f"\n[faults] {stack.framework}/{stack.database.kind} {case}: {text}")


# Faults of the HTTP server, not of the database: one database suffices.
on_postgresql_only = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


def assert_no_server_errors(tally: Tally, allowed: set[str]) -> None:
    unexpected = {outcome for outcome in tally.statuses if outcome not in allowed}
    assert not unexpected, f"unexpected outcomes: {dict(tally.statuses)}"


# --- the cases ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("database", "mode"),
    # MariaDB: the hard stop (SIGKILL) only; it is the harder case, and time is short.
    [("postgresql", "fast"), ("postgresql", "immediate"), ("mysql", "immediate")],
    indirect=["database"],
)
def test_database_restart_is_503_then_recovers(stack: Stack, mode: str) -> None:
    tally = Tally()
    with stack.served() as server, load(server, 4, tally):
        time.sleep(1.0)
        stack.database.stop(mode)
        time.sleep(1.5)
        restarted = stack.database.start()
        recovered = recovery_seconds(server)
    report(
        stack,
        f"restart -m {mode}",
        f"{tally.summary()}; database back in {restarted:.2f} s, "
        f"service writing again {recovered:.2f} s later",
    )
    assert_no_server_errors(tally, {"200", "201", "503"})
    assert tally.statuses["503"] > 0, "the outage was not seen"


# Two changes sent at once to the same task, of which the task's rules allow only one:
# (the status the task starts from, the first change, the second change).
Move = str | dict[str, str]  # "cancel" (POST /tasks/{id}/cancel) or a PATCH body
RACES: dict[str, tuple[str, Move, Move]] = {
    "done against failed (a running task)": ("running", {"status": "done"}, {"status": "failed"}),
    "cancel against claim (a queued task)": ("queued", "cancel", {"status": "running"}),
}


def change(server: Server, task: str, move: Move) -> str:
    if isinstance(move, str):
        return call(server, "POST", f"/tasks/{task}/{move}")
    return call(server, "PATCH", f"/tasks/{task}", json.dumps(move).encode())


def status_after(move: Move) -> str:
    return "cancelled" if isinstance(move, str) else move["status"]


def race_pair(server: Server, task: str, first: Move, second: Move) -> tuple[str, str]:
    """Both changes released at the same instant, each on its own connection."""
    barrier = threading.Barrier(2)
    answers = ["none", "none"]

    def send(index: int, move: Move) -> None:
        barrier.wait()
        answers[index] = change(server, task, move)

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(GENEROUS)
    return answers[0], answers[1]


@pytest.mark.parametrize("race", list(RACES))
def test_racing_status_changes_have_one_winner(stack: Stack, race: str) -> None:
    """Over real sockets, 2 workers: of two conflicting changes exactly one is acknowledged
    (200), the other refused (409), and the task ends as the winner left it."""
    start_status, first, second = RACES[race]
    outcomes: Counter[tuple[str, str]] = Counter()
    illegal = []
    with stack.served() as server:
        for _ in range(40):
            task = server.request("POST", "/tasks", {"command": "race"}).json()["id"]
            if start_status == "running":
                assert change(server, task, {"status": "running"}) == "200"
            pair = race_pair(server, task, first, second)
            outcomes[pair] += 1
            final = server.request("GET", f"/tasks/{task}").json()["status"]
            winner = {("200", "409"): first, ("409", "200"): second}.get(pair)
            if winner is None or final != status_after(winner):
                illegal.append((task, pair, final))
    report(stack, f"race: {race}", f"40 tasks, answers {dict(outcomes)}")
    assert not illegal, illegal


def test_refused_sessions_are_503(stack: Stack) -> None:
    """A database out of sessions (connection limit) answers 503 until sessions free up."""
    tally = Tally()
    # The service's own pool may keep its sessions: the limit bites on new connections,
    # which a pool of one with overflow opens under load (and closes again).
    with stack.served(DATABASE_POOL_SIZE="1", DATABASE_MAX_OVERFLOW="10") as server:
        hogs = hog_sessions(stack.database)
        try:
            with load(server, 6, tally):
                time.sleep(3.0)
        finally:
            for hog in hogs:
                hog.close()
        recovered = recovery_seconds(server)
    report(stack, "sessions refused", f"{tally.summary()}; writing again after {recovered:.2f} s")
    assert_no_server_errors(tally, {"200", "201", "503"})


def hog_sessions(database: PrivateServer) -> list[Closable]:
    """Take every session the server has left, so the service's new connections are refused."""
    hogs: list[Closable] = []
    for _ in range(300):
        try:
            hogs.append(database.session("faults"))
        except Exception:  # the server refuses: every session is taken
            break
    return hogs


def test_database_black_hole_is_503_within_the_deadline(stack: Stack) -> None:
    tally = Tally()
    probes: dict[str, Tally] = {"/health/live": Tally(), "/health/ready": Tally()}
    outage = 3 * DATABASE_TIMEOUT + 2  # long enough for a pooled and a new connection
    with stack.served() as server:
        with load(server, 4, tally):
            time.sleep(1.0)
            stack.database.freeze()
            try:
                deadline = time.monotonic() + outage
                while time.monotonic() < deadline:
                    for path, probe in probes.items():
                        timed(probe, server, "GET", path)
                    time.sleep(0.2)
            finally:
                stack.database.thaw()
        recovered = recovery_seconds(server)
    report(
        stack,
        "black hole",
        f"requests {tally.summary()}; live {probes['/health/live'].summary()}; "
        f"ready {probes['/health/ready'].summary()}; recovered {recovered:.2f} s after SIGCONT",
    )
    assert_no_server_errors(tally, {"200", "201", "503"})
    assert tally.statuses["503"] > 0
    assert set(probes["/health/live"].statuses) == {"200"}
    assert "503" in probes["/health/ready"].statuses
    assert_no_server_errors(probes["/health/ready"], {"200", "503"})


@on_postgresql_only  # stopping is the server's business
def test_sigterm_finishes_in_flight_and_refuses_new_connections(stack: Stack) -> None:
    tally = Tally()
    after = Counter[str]()
    with stack.served() as server:
        with load(server, 4, tally, pause=0.0):
            time.sleep(1.5)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.7)  # the supervisor polls its signals every 0.5 s
            for _ in range(20):
                after[call(server, "GET", "/health/live")] += 1
                time.sleep(0.05)
        server.process.wait(GENEROUS)
    report(stack, "SIGTERM under load", f"in flight {tally.summary()}; after SIGTERM {dict(after)}")
    # In flight: answered, or refused once the socket was closed. A connection the kernel
    # completed in the instant the socket closed is reset with the backlog: counted, not
    # failed (it raced the signal); every connection made after SIGTERM is refused.
    assert_no_server_errors(tally, {"200", "201", "ConnectionRefusedError", "ConnectionResetError"})
    assert tally.statuses["ConnectionResetError"] <= 5, dict(tally.statuses)
    assert set(after) == {"ConnectionRefusedError"}, dict(after)


@on_postgresql_only  # replacing workers is the server's business
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkill_of_a_worker_is_replaced(stack: Stack, workers: str) -> None:
    tally = Tally()
    with stack.served(WEB_CONCURRENCY=workers) as server:
        children = worker_pids(server.process.pid)
        assert children, "no worker processes"
        with load(server, 2, tally):
            time.sleep(1.0)
            os.kill(children[0], signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(0.3)
            recovered = recovery_seconds(server)
            time.sleep(1.0)
        serving_after = call(server, "GET", "/health/live")
        replaced = worker_pids(server.process.pid)
    report(
        stack,
        f"SIGKILL of 1 of {workers} workers",
        f"{tally.summary()}; serving again {recovered + 0.3:.2f} s after, "
        f"{time.monotonic() - killed_at:.1f} s later workers {len(replaced)}",
    )
    assert serving_after == "200"
    assert len(replaced) == int(workers)
    # A request on the killed worker's connection may be lost with it: while the client
    # still sends it (BrokenPipeError), before or while its answer is written (cut short:
    # IncompleteRead). That is the kill.
    lost_with_the_kill = {
        "ConnectionResetError",
        "BrokenPipeError",
        "RemoteDisconnected",
        "IncompleteRead",
    }
    assert_no_server_errors(tally, {"200", "201", *lost_with_the_kill})
    assert sum(tally.statuses[outcome] for outcome in lost_with_the_kill) <= 2, tally.summary()


def worker_pids(parent: int) -> list[int]:
    """The worker processes (Gunicorn's or Uvicorn's), not helpers such as resource trackers."""
    found = subprocess.run(
        ["pgrep", "-P", str(parent)], capture_output=True, text=True, check=False
    ).stdout.split()
    pids = []
    for pid in found:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"resource_tracker" not in command:
            pids.append(int(pid))
    return pids


@on_postgresql_only  # the slow clients never reach the database
def test_slow_clients_do_not_starve_the_service(stack: Stack) -> None:
    tally = Tally()
    with stack.served() as server:
        host, port = server.address
        idle = [socket.create_connection((host, port), timeout=GENEROUS) for _ in range(200)]
        stop = threading.Event()

        def slowloris() -> None:
            with socket.create_connection((host, port), timeout=GENEROUS) as sock:
                request = b"GET /health/live HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 10_000
                for byte in request:
                    if stop.is_set():
                        return
                    try:
                        sock.sendall(bytes([byte]))
                    except OSError:
                        return  # the server hung up on it: fine
                    time.sleep(0.5)

        attackers = [threading.Thread(target=slowloris) for _ in range(16)]
        for thread in attackers:
            thread.start()
        time.sleep(2.0)
        try:
            for _ in range(40):
                timed(tally, server, "GET", "/health/live")
                timed(tally, server, "GET", "/tasks?limit=5")
                time.sleep(0.1)
        finally:
            stop.set()
            for sock in idle:
                sock.close()
            for thread in attackers:
                thread.join(5)
    report(stack, "slowloris x16 + 200 idle connections", tally.summary())
    assert set(tally.statuses) == {"200"}, dict(tally.statuses)


@on_postgresql_only  # recycling is the server's business
@pytest.mark.parametrize("workers", [1, 2])
def test_worker_recycling_loses_nothing(stack: Stack, workers: int) -> None:
    """Workers recycled every ~100 requests under 4 clients: no request lost, no stall.

    Each worker's replacement is started and ready before it stops (Gunicorn's arbiter and
    the FastAPI stack's Supervisor both do so), and a draining worker still serves the
    requests on the connections it accepted.
    """
    tally = Tally()
    settings = {"WEB_CONCURRENCY": str(workers), "MAX_REQUESTS": "100"}
    with stack.served(**settings, MAX_REQUESTS_JITTER="20") as server:
        start = time.monotonic()
        with load(server, 4, tally, pause=0.0):
            # 12 s at least; longer until a worker was replaced (a loaded machine starts a
            # replacement slowly, and the old worker serves until it is ready).
            time.sleep(12.0)
            while worker_starts(stack) <= workers and time.monotonic() - start < GENEROUS:
                time.sleep(1.0)
        elapsed = time.monotonic() - start
        serving_after = call(server, "GET", "/health/live")
        started = worker_starts(stack)
    report(
        stack,
        f"MAX_REQUESTS=100 jitter 20, {workers} worker(s), 4 clients for {elapsed:.0f} s",
        f"{tally.summary()}; {len(tally.latencies) / elapsed:.0f} req/s; "
        f"{started - workers} workers replaced",
    )
    assert serving_after == "200"
    assert started > workers, "no worker was recycled: the case tested nothing"
    assert_no_server_errors(tally, {"200", "201"})


def worker_starts(stack: Stack) -> int:
    """How many worker processes the latest serving of `stack` started (from its log)."""
    log = max(stack.project.parent.glob(f"faults-{stack.framework}-*.log"), key=_mtime)
    marker = "Started server process" if stack.framework == "fastapi" else "Booting worker"
    return log.read_text().count(marker)


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


@on_postgresql_only  # the body never reaches the database
def test_a_chunk_that_never_comes_is_answered(stack: Stack) -> None:
    """A chunk size of 20 hex digits announces more than any client sends: 400, not a hang.

    Uvicorn refuses the size at once; Gunicorn waits for the chunk's bytes until the body
    read deadline (BODY_READ_TIMEOUT, 10 s), then answers 400 and closes.
    """
    framing = b"FFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"
    with (
        stack.served() as server,
        socket.create_connection(server.address, timeout=GENEROUS) as sock,
    ):
        sock.sendall(
            b"POST /tasks HTTP/1.1\r\nHost: faults\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + framing
        )
        start = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        waited = time.monotonic() - start
    report(stack, "chunk size of 20 hex digits", f"{answer[:12]!r} after {waited:.2f} s, closed")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]


# Both stacks' body read deadline (server.BODY_READ_TIMEOUT for Flask,
# web.middleware.BODY_READ_TIMEOUT for FastAPI), as the README documents it.
BODY_READ_TIMEOUT = 10.0


# A body in two pieces, framed by its declared length or in one chunk, and a body cut
# short: a request head and body that never end.
_HEAD = b"POST /tasks HTTP/1.1\r\nHost: faults\r\nContent-Type: application/json\r\n"
_BODY = b'{"command": "stalled"}'
FRAMINGS = {
    "declared length": (
        _HEAD + b"Content-Length: %d\r\n\r\n" % len(_BODY) + _BODY[:9],
        _BODY[9:],
        _HEAD + b"Content-Length: %d\r\n\r\n" % (len(_BODY) + 1) + _BODY,  # a byte short
    ),
    "chunked": (
        _HEAD + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(_BODY) + _BODY[:9],
        _BODY[9:] + b"\r\n0\r\n\r\n",
        _HEAD + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % (len(_BODY) + 1) + _BODY,
    ),
}


@on_postgresql_only  # the body never reaches the database
@pytest.mark.parametrize("framing", list(FRAMINGS))
def test_a_body_that_stops_short_is_answered_at_its_deadline(stack: Stack, framing: str) -> None:
    """A body that pauses for less than the body read deadline is read as usual. One that
    stops short of its declared length (or of its chunk's) is answered 400 once the
    deadline passes, not later (Flask waited a second deadline for the rest, FastAPI for
    ever), and the server closes the connection after saying so: its framing is lost with
    the missing bytes.
    """
    first_piece, second_piece, cut_short = FRAMINGS[framing]
    with stack.served() as server:
        with socket.create_connection(server.address, timeout=GENEROUS) as sock:
            sock.sendall(first_piece)
            time.sleep(BODY_READ_TIMEOUT / 4)
            sock.sendall(second_piece)
            paused = sock.recv(65536)
        with socket.create_connection(server.address, timeout=GENEROUS) as sock:
            sock.sendall(cut_short)
            start = time.monotonic()
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            waited = time.monotonic() - start
    report(stack, f"{framing}, a byte short", f"{answer[:12]!r} after {waited:.2f} s, closed")
    assert paused.startswith(b"HTTP/1.1 201"), paused[:300]
    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    headers = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nconnection: close" in headers, headers
    assert answer.endswith(b'{"detail":"Bad Request"}'), answer[-200:]
    # At one deadline: a second wait for the rest would end past twice it.
    assert BODY_READ_TIMEOUT - 1 < waited < 2 * BODY_READ_TIMEOUT - 1, waited
