"""FastAPI or Flask for this service? Both stacks rendered, served and measured side by side.

`make compare` (or `uv run python -m bench.compare`) takes the answers `copier copy` takes
(the database at least), renders both stacks, installs each from its own lock and serves it
under its production server with its shipped defaults, each next to its bare-framework
reference (bench/reference/) under the same server and worker count, each on a fresh
database. It then measures, for all four: the five basic scenarios, a concurrency sweep,
an I/O-latency sweep with the database behind a delaying proxy, memory per worker at rest
and under load, start-up time (and each reference's when it imports its service's
libraries first: bench/reference/libraries.py), lines of code and the project's own
test-suite time; and writes a self-contained HTML report with charts and the same tables
in Markdown. It prints figures and never fails on a time.

A service and its reference serve at the same time and their runs alternate, so that a
change in the machine's load falls on both alike; each basic scenario is run --repeats
times per target and its median run is kept, after a warm-up that opens the pools.

    make compare                                  # PostgreSQL, 2 workers, under 3 minutes
    make compare ARGS="--database sqlite --workers 4 --connections 128"
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bench.delay_proxy import DelayProxy
from bench.load import LoadResult, run_load
from bench.processes import memory_per_worker_mib, wait_for_workers
from bench.report import write_reports
from bench.targets import Target, host_and_port, prepared, serving_together, through
from tests.databases import HOST, PORTS
from tests.matrix import ROOT, axes
from tests.served import Server

STARTED = time.monotonic()


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    body: str | None = None
    expected_status: int = 200


SCENARIOS = [
    Scenario("framework overhead", "GET", "/health/live"),
    Scenario("db read", "GET", "/tasks/{task_id}"),
    Scenario("list (20 rows)", "GET", "/tasks?limit=20"),
    Scenario("db write", "POST", "/tasks", '{"command": "bench run", "priority": "high"}', 201),
    Scenario("validation error", "POST", "/tasks", '{"command": ""}', 422),
]
READ = SCENARIOS[1]


def progress(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def seed(server: Server) -> str:
    """Sixty tasks, so that reads and lists have rows; the id of the first."""
    created = [server.request("POST", "/tasks", {"command": f"seed {n}"}) for n in range(60)]
    return str(uuid.UUID(str(created[0].json()["id"])))


def load(
    server: Server, scenario: Scenario, task_id: str, seconds: float, connections: int
) -> LoadResult:
    path = scenario.path.format(task_id=task_id)
    return run_load(server.base_url + path, scenario.method, scenario.body, seconds, connections)


def median_run(runs: list[LoadResult]) -> LoadResult:
    """The run of median throughput (the lower middle one of an even number)."""
    return sorted(runs, key=lambda run: run.requests_per_second)[(len(runs) - 1) // 2]


def check(server: Server, target: Target, task_id: str) -> None:
    """Every scenario answers as it should before it is loaded: a fast error is no result."""
    for scenario in SCENARIOS:
        body = json.loads(scenario.body) if scenario.body else None
        reply = server.request(scenario.method, scenario.path.format(task_id=task_id), body)
        if reply.status != scenario.expected_status:
            raise SystemExit(
                f"{target.label}, {scenario.name}: {reply.status} {reply.body[:200]!r}"
            )


@dataclass
class Served:
    """A running target and the task its reads fetch."""

    target: Target
    server: Server
    task_id: str


def sample_memory_under_load(served: Served, seconds: float) -> threading.Timer:
    """Sample the workers' memory half-way through a load of `seconds`; join() the result."""
    group = served.server.process.pid

    def sample() -> None:
        served.target.memory_load_mib = memory_per_worker_mib(group)

    timer = threading.Timer(seconds / 2, sample)
    timer.start()
    return timer


def warm_up(both: list[Served], args: argparse.Namespace) -> None:
    """Read from both servers at once for a second: every pooled connection is opened."""
    threads = [
        threading.Thread(target=load, args=(served.server, READ, served.task_id, 1.0,
                                            args.connections))
        for served in both
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure(pair: tuple[Target, Target], args: argparse.Namespace) -> list[str]:
    """Scenarios, memory and the concurrency sweep of a service and its reference; the id of
    the task each reads (its database keeps it for the I/O-latency sweep).

    Both serve at once, on their own databases; their runs alternate, so that a change in
    the machine's load (other work, a warming cache) falls on both alike, and each figure of
    a scenario is the median of its repeated runs.
    """
    with ExitStack() as stack:
        both = []
        for target in pair:  # started one at a time: each start-up is timed alone
            target.time_libraries_startup(args.startups)  # a reference's, before it serves
            if target.libraries_startup_seconds is not None:
                progress(f"{target.label}, importing its service's libraries: ready in "
                         f"{target.libraries_startup_seconds:.2f} s")  # fmt: skip
            server = stack.enter_context(target.serving(args.startups))
            progress(f"{target.label}: ready in {target.startup_seconds:.2f} s")
            task_id = seed(server)
            check(server, target, task_id)
            wait_for_workers(server.process.pid, args.workers)
            target.memory_rest_mib = memory_per_worker_mib(server.process.pid)
            both.append(Served(target, server, task_id))
        warm_up(both, args)
        unsampled = {served.target.label for served in both}  # memory under load: once each

        def run(served: Served, scenario: Scenario) -> LoadResult:
            sampler = None
            if scenario is READ and served.target.label in unsampled:
                unsampled.discard(served.target.label)
                sampler = sample_memory_under_load(served, args.duration)
            result = load(served.server, scenario, served.task_id, args.duration, args.connections)
            if sampler:
                sampler.join()
            return result

        for scenario in SCENARIOS:
            runs = alternated(both, args.repeats, partial(run, scenario=scenario))
            results = medians(runs)
            for served in both:
                served.target.results[scenario.name] = results[served.target.label]
                served.target.repeats[scenario.name] = rates(runs[served.target.label])
                progress(f"{served.target.label:<18} {scenario.name:<20} "
                         f"{results[served.target.label]}")  # fmt: skip
        for connections in args.sweep:
            runs = alternated(
                both,
                args.sweep_repeats,
                partial(read, seconds=args.sweep_duration, connections=connections),
            )
            results = medians(runs)
            for served in both:
                served.target.sweep[connections] = results[served.target.label]
                served.target.sweep_repeats[connections] = rates(runs[served.target.label])
                progress(
                    f"{served.target.label:<18} db read x{connections:<4} "
                    f"{results[served.target.label]}"
                )
    return [served.task_id for served in both]


def read(served: Served, *, seconds: float, connections: int) -> LoadResult:
    """One run of the read scenario."""
    return load(served.server, READ, served.task_id, seconds, connections)


def alternated(
    both: list[Served], repeats: int, run: Callable[[Served], LoadResult]
) -> dict[str, list[LoadResult]]:
    """`repeats` runs of each target, taken in turns (S R, R S, S R...): the n-th run of one
    target and the n-th of the other were taken side by side."""
    runs: dict[str, list[LoadResult]] = {served.target.label: [] for served in both}
    for repeat in range(repeats):
        for served in both if repeat % 2 == 0 else both[::-1]:
            runs[served.target.label].append(run(served))
    return runs


def medians(runs: dict[str, list[LoadResult]]) -> dict[str, LoadResult]:
    return {label: median_run(results) for label, results in runs.items()}


def rates(runs: list[LoadResult]) -> list[float]:
    """Each run's req/s, in the order taken."""
    return [result.requests_per_second for result in runs]


def measure_latency(
    pair: tuple[Target, Target], task_ids: list[str], proxy: DelayProxy, args: argparse.Namespace
) -> None:
    """The read scenario with every database round trip delayed, from 0 to the largest delay;
    both servers reach their databases through the proxy, their runs alternate."""
    urls = [through(target.database_url, proxy.port) for target in pair]
    with serving_together(list(pair), urls) as servers:
        both = [
            Served(target, server, task_id)
            for target, server, task_id in zip(pair, servers, task_ids, strict=True)
        ]
        warm_up(both, args)
        for delay in args.delays:
            proxy.delay_ms = delay
            runs = alternated(
                both,
                args.sweep_repeats,
                partial(read, seconds=args.sweep_duration, connections=args.connections),
            )
            results = medians(runs)
            for served in both:
                served.target.latency[delay] = results[served.target.label]
                served.target.latency_repeats[delay] = rates(runs[served.target.label])
                progress(
                    f"{served.target.label:<18} db read +{delay:g} ms/rt "
                    f"{results[served.target.label]}"
                )
        proxy.delay_ms = 0


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        model = names[0] if names else model
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; the load generator runs "
        "on the same CPUs"
    )


def reachable(database: str) -> bool:
    if database == "sqlite":
        return True
    try:
        with socket.create_connection((HOST, PORTS[database]), timeout=2):
            return True
    except OSError:
        return False


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=axes()["database"], default="postgresql")
    parser.add_argument("--frameworks", nargs="+", choices=axes()["framework"],
                        default=axes()["framework"])  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY of each server")
    parser.add_argument("--connections", type=int, default=64, help="for the basic scenarios")
    parser.add_argument("--duration", type=float, default=1.0,
                        help="seconds per run (wrk counts whole seconds)")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3,
                        help="alternated runs per scenario and target: their median")  # fmt: skip
    parser.add_argument("--sweep", type=int, nargs="+", default=[1, 4, 16, 64, 256])
    parser.add_argument("--sweep-duration", type=float, default=1.0,
                        help="seconds per point of either sweep")  # fmt: skip
    parser.add_argument(
        "--sweep-repeats",
        type=int,
        default=1,
        help="alternated runs per point of either sweep: their median",
    )
    parser.add_argument(
        "--startups", type=int, default=1, help="cold starts per target: the median start-up time"
    )
    parser.add_argument("--delays", type=float, nargs="+", default=[0, 1, 5, 20],
                        help="milliseconds added to each database round trip")  # fmt: skip
    parser.add_argument("--no-tests", action="store_true", help="skip the test-suite timing")
    parser.add_argument("--output", type=Path, default=ROOT / "reports")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not reachable(args.database):
        raise SystemExit(
            f"no {args.database} server on {HOST}:{PORTS[args.database]}: start one, "
            "or compare on SQLite with --database sqlite"
        )
    generator = "wrk" if shutil.which("wrk") else "a Python load generator (install wrk)"
    settings = (
        f"{args.database}, {args.workers} workers per server, {args.connections} connections, "
        f"basic scenarios: median of {args.repeats} alternated {args.duration:g} s runs, "
        f"sweeps: median of {args.sweep_repeats} alternated {args.sweep_duration:g} s runs per "
        f"point, start-up: median of {args.startups}, load by {generator}"
    )
    progress(f"comparing {' and '.join(args.frameworks)}: {settings}")
    targets: list[Target] = []
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        # The stacks are prepared side by side (half the wait on 2 cores), measured in turn.
        progress(f"{' and '.join(args.frameworks)}: rendering, installing from the locks, "
                 "migrating, testing")  # fmt: skip
        managers = [
            prepared(framework, args.database, args.workers, Path(scratch),
                     run_tests=not args.no_tests)
            for framework in args.frameworks
        ]  # fmt: skip
        with ThreadPoolExecutor() as pool:
            pairs = list(pool.map(stack.enter_context, managers))
        for pair in pairs:
            task_ids = measure(pair, args)
            if args.database != "sqlite":
                proxy = DelayProxy(*host_and_port(pair[0].database_url))
                with proxy.running():
                    measure_latency(pair, task_ids, proxy, args)
            targets += pair
    written = write_reports(
        targets,
        args.output,
        settings=settings,
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        scenarios=[scenario.name for scenario in SCENARIOS],
    )
    progress(f"done: {', '.join(str(path) for path in written)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
