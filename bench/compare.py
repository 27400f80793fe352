"""Render every stack, serve each under its production server, and load it side by side.

For each framework offered by copier.yml the default project is rendered on SQLite, migrated,
and served by `python -m <package>`; the bare-framework reference app of bench/reference/ is
served by the same server with the same worker count. Each scenario is loaded with wrk when
it is installed (a Python load generator otherwise), and the report gives requests/s, p50
and p99 latency, and the service's share of its reference's throughput. It prints figures
and writes reports/compare.md and reports/compare.svg; it never fails on a time.

    uv run python bench/compare.py --duration 10 --connections 32 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import LoadResult, run_load
from tests.matrix import ROOT, axes, default_cell
from tests.render import install, project_env, render
from tests.served import Server, free_port, stop, wait_until_ready

REPORTS = ROOT / "reports"


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
    Scenario("list serialization (50)", "GET", "/tasks?limit=50"),
    Scenario("db write", "POST", "/tasks", '{"command": "bench run", "priority": "high"}', 201),
    Scenario("validation error", "POST", "/tasks", '{"command": ""}', 422),
]


@dataclass
class Target:
    """One server to load: a generated service or its framework's reference app."""

    label: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    results: dict[str, LoadResult] = field(default_factory=dict)


def reference_command(framework: str, workers: int, port: int) -> list[str]:
    python = sys.executable
    if framework == "fastapi":
        return [
            python, "-m", "uvicorn", "bench.reference.fastapi_app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    return [
        python, "-m", "gunicorn", "bench.reference.flask_app:create_app()",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", "gthread",
        "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip


def prepare(framework: str, scratch: Path, workers: int) -> tuple[Target, Target]:
    """Render and migrate one stack; return its service and its reference."""
    project = render(scratch / framework, {**default_cell().data, "framework": framework})
    database = f"sqlite:///{scratch / f'{framework}.db'}"
    env = {"DATABASE_URL": database}
    python = str(install(project))  # the service runs from its own lock, as its user runs it
    subprocess.run(
        [python, "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env=project_env(env),
        check=True,
        capture_output=True,
    )
    package = next(path.name for path in (project / "src").iterdir() if path.is_dir())
    service_port, reference_port = free_port(), free_port()
    service = Target(
        f"{framework} service",
        [python, "-m", package],
        project,
        # No worker recycling while measuring: the reference apps do not recycle either.
        {**env, "PORT": str(service_port), "WEB_CONCURRENCY": str(workers), "MAX_REQUESTS": "0"},
    )
    reference = Target(
        f"{framework} reference",
        reference_command(framework, workers, reference_port),
        ROOT,
        {"DATABASE_URL": database, "PORT": str(reference_port)},
    )
    return service, reference


def measure(target: Target, duration: float, connections: int) -> None:
    """Start the target, check every scenario answers as expected, then load each one."""
    port = int(target.env["PORT"])
    # Logs go to a file, as in production: writing them is part of the cost measured.
    with (target.cwd.parent / f"{target.label.replace(' ', '-')}.log").open("w") as log:
        process = subprocess.Popen(
            target.command,
            cwd=target.cwd,
            env=project_env(target.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        wait_until_ready(server, path="/health/live")
        seeded = [server.request("POST", "/tasks", {"command": f"seed {n}"}) for n in range(60)]
        task_id = str(uuid.UUID(seeded[0].json()["id"]))  # canonical, dashed form
        for scenario in SCENARIOS:
            path = scenario.path.format(task_id=task_id)
            body = json.loads(scenario.body) if scenario.body else None
            reply = server.request(scenario.method, path, body)
            if reply.status != scenario.expected_status:
                raise SystemExit(f"{target.label} {scenario.name}: got {reply.status}")
            target.results[scenario.name] = run_load(
                server.base_url + path, scenario.method, scenario.body, duration, connections
            )
            print(f"  {target.label:<20} {scenario.name:<26} {target.results[scenario.name]}")
    finally:
        stop(process)


def report(targets: list[Target], settings: str) -> str:
    """A markdown table: one row per scenario, for each stack its service, reference, ratio."""
    stacks = [targets[i : i + 2] for i in range(0, len(targets), 2)]
    header = ["scenario"]
    for service, reference in stacks:
        header += [f"{service.label} req/s (p99 ms)", f"{reference.label} req/s", "service/ref"]
    lines = [f"Settings: {settings}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "---|" * len(header))
    for scenario in SCENARIOS:
        row = [scenario.name]
        for service, reference in stacks:
            ours, bare = service.results[scenario.name], reference.results[scenario.name]
            row += [
                f"{ours.requests_per_second:,.0f} ({ours.p99_ms:.1f})",
                f"{bare.requests_per_second:,.0f}",
                f"{ours.requests_per_second / bare.requests_per_second:.2f}",
            ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def svg_chart(targets: list[Target]) -> str:
    """Grouped horizontal bars of requests/s, one group per scenario."""
    colors = ["#4c78a8", "#9ecae9", "#f58518", "#ffbf79"]
    bar, gap, left, width = 14, 18, 190, 520
    peak = max(r.requests_per_second for t in targets for r in t.results.values()) or 1
    height = len(SCENARIOS) * (len(targets) * bar + gap) + 40 + 18 * len(targets)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" '
        f'height="{height}" font-family="sans-serif" font-size="12">'
    ]
    y = 20
    for scenario in SCENARIOS:
        parts.append(f'<text x="4" y="{y + bar}">{scenario.name}</text>')
        for index, target in enumerate(targets):
            value = target.results[scenario.name].requests_per_second
            length = width * value / peak
            parts.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 2}" '
                f'fill="{colors[index % len(colors)]}"/>'
                f'<text x="{left + length + 4:.1f}" y="{y + bar - 3}">{value:,.0f}</text>'
            )
            y += bar
        y += gap
    for index, target in enumerate(targets):
        parts.append(
            f'<rect x="{left}" y="{y}" width="12" height="12" fill="{colors[index % 4]}"/>'
            f'<text x="{left + 18}" y="{y + 11}">{target.label} (requests/s)</text>'
        )
        y += 18
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frameworks", nargs="+", default=axes()["framework"])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    generator = "wrk" if shutil.which("wrk") else "python threads"
    settings = (
        f"{args.workers} workers, {args.connections} connections, {args.duration:g} s per "
        f"scenario, load by {generator}, SQLite, {os.cpu_count()} CPUs shared with the load"
    )
    print(settings)
    targets: list[Target] = []
    with tempfile.TemporaryDirectory() as scratch:
        for framework in args.frameworks:
            service, reference = prepare(framework, Path(scratch), args.workers)
            for target in (service, reference):
                measure(target, args.duration, args.connections)
                time.sleep(1)
            targets += [service, reference]
    table = report(targets, settings)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "compare.md").write_text(table)
    (REPORTS / "compare.svg").write_text(svg_chart(targets))
    print()
    print(table)
    print(f"written: {REPORTS / 'compare.md'}, {REPORTS / 'compare.svg'}")


if __name__ == "__main__":
    main()
