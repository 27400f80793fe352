"""Tasks per second of the generated worker with 1, 2 and 4 worker processes on PostgreSQL.

`uv run python -m bench.worker_throughput` renders a stack for PostgreSQL, installs it from
its own lock and migrates a fresh database. For each worker count it queues the same number
of `digest` tasks straight into the table (so that the API's speed is not measured), starts
that many `python -m my_service worker` processes, and times until every task is done;
then it stops them with SIGTERM. It prints the figures and never fails on a time.

    uv run python -m bench.worker_throughput                        # Flask, 2000 tasks
    uv run python -m bench.worker_throughput --framework fastapi --tasks 500 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from tests.databases import provisioned
from tests.matrix import default_cell
from tests.render import install, make, project_env, render

PACKAGE = "my_service"
# The shipped defaults but a shorter poll; INFO logs (one line per claim and per finish).
WORKER_ENV = {"WORKER_POLL_INTERVAL": "0.05", "LOG_LEVEL": "INFO"}
PATIENCE_SECONDS = 600  # a run slower than this is reported as unfinished


def queue_tasks(url: str, count: int) -> None:
    """`count` queued digest tasks, inserted in one transaction, oldest first."""
    now = datetime.now(UTC)
    # One microsecond apart, as tasks queued one by one are: the claim's index gives the order.
    rows = []
    for n in range(count):
        created = now + timedelta(microseconds=n)
        rows.append(
            (uuid.uuid4(), f"digest #{n}", json.dumps({"text": str(n)}), now, created, created)
        )
    with psycopg.connect(url, autocommit=False) as connection:
        connection.execute("DELETE FROM tasks")  # the previous run's
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO tasks (id, command, payload, priority, priority_rank, status,"
                " attempts, run_after, created_at, updated_at)"
                " VALUES (%s, %s, %s, 'normal', 1, 'queued', 0, %s, %s, %s)",
                rows,
            )


def done_count(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT count(*) FROM tasks WHERE status = 'done'").fetchone()
    return int(row[0]) if row else 0


def measure(python: Path, project: Path, url: str, tasks: int, workers: int) -> float | None:
    """Seconds for `workers` processes to finish `tasks` tasks; None past the patience.

    The workers start on an empty queue; the clock starts when the tasks are committed,
    all at once, so that start-up is not measured.
    """
    env = project_env({"DATABASE_URL": url, **WORKER_ENV})
    with ExitStack() as stack:
        logs, processes = [], []
        for _ in range(workers):
            log = stack.enter_context(tempfile.NamedTemporaryFile("w+", suffix=".log"))
            logs.append(Path(log.name))
            processes.append(
                subprocess.Popen(
                    [str(python), "-m", PACKAGE, "worker"],
                    cwd=project,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        while not all("worker started" in log.read_text() for log in logs):
            if any(process.poll() is not None for process in processes):
                raise SystemExit("a worker exited at start:\n" + logs[0].read_text()[-2000:])
            time.sleep(0.1)
        queue_tasks(url, tasks)
        started = time.monotonic()
        finished: float | None = None
        while time.monotonic() - started < PATIENCE_SECONDS:
            if done_count(url) >= tasks:
                finished = time.monotonic() - started
                break
            time.sleep(0.05)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    return finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", choices=("flask", "fastapi"), default="flask")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        answers = {**default_cell().data, "framework": arguments.framework}
        answers["database"] = "postgresql"
        project = render(Path(scratch) / "project", answers)
        python = install(project)
        name = f"ts_worker_bench_{arguments.framework}_{os.getpid()}"
        with provisioned("postgresql", name) as url:
            assert url is not None
            make(project, "migrate", env={"DATABASE_URL": url})
            print(
                f"{arguments.framework} on PostgreSQL, {arguments.tasks} digest tasks, "
                f"{os.cpu_count()} CPUs"
            )
            for workers in arguments.workers:
                seconds = measure(python, project, url, arguments.tasks, workers)
                if seconds is None:
                    print(f"  {workers} worker(s): not done within {PATIENCE_SECONDS} s")
                else:
                    rate = arguments.tasks / seconds
                    print(
                        f"  {workers} worker(s): {seconds:6.1f} s, {rate:7.1f} tasks/s, "
                        f"{rate / workers:6.1f} per worker"
                    )


if __name__ == "__main__":
    main()
