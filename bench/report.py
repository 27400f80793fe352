"""The comparison's report: the same tables in Markdown and in a self-contained HTML page.

The HTML page has its charts inline (SVG), no script and no external asset, so it opens
anywhere, offline. The claims section sets each loud claim the project grew from beside
the closest figure measured here.
"""

from __future__ import annotations

import html
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.load import LoadResult
from bench.targets import Target

COLORS = ["#1f6feb", "#8ab4f8", "#d9480f", "#ffa94d"]  # service, reference per stack
# What the shipped defaults allow at once (config.py, server.py): the reason behind a gap.
FLASK_THREADS = 4
POOL_CONNECTIONS = 10  # FastAPI's DATABASE_POOL_SIZE, no overflow: connections per process

Table = tuple[list[str], list[list[str]]]


@dataclass(frozen=True)
class Claim:
    text: str
    claimed_ratio: float  # FastAPI / Flask
    closest: str  # what was measured instead
    measure: Callable[[Target, Target], float | None]


def _largest_delay(fastapi: Target, flask: Target) -> float | None:
    if not fastapi.latency or not flask.latency:
        return None
    delay = max(fastapi.latency)
    return fastapi.latency[delay].requests_per_second / max(
        flask.latency[delay].requests_per_second, 1e-9
    )


def _near_fifty(fastapi: Target, flask: Target) -> float | None:
    points = sorted(set(fastapi.sweep) & set(flask.sweep), key=lambda n: abs(n - 50))
    if not points:
        return None
    fast, slow = fastapi.sweep[points[0]], flask.sweep[points[0]]
    return fast.requests_per_second / max(slow.requests_per_second, 1e-9)


CLAIMS = [
    Claim(
        "FastAPI serves 5,800 req/s and Flask 1,200 when each request waits 100 ms on I/O",
        5800 / 1200,
        "db read with the largest database delay of the I/O-latency sweep",
        _largest_delay,
    ),
    Claim(
        "FastAPI serves 317 req/s and Flask 19 at 50 concurrent requests",
        317 / 19,
        "db read at the sweep's concurrency nearest 50",
        _near_fifty,
    ),
]


def verdict(claimed: float, measured: float | None, workers: int) -> tuple[str, str]:
    if measured is None:
        return "not measured", "needs PostgreSQL or MySQL: SQLite has no network round trip"
    reason = (
        f"with shipped defaults a Flask server runs at most {workers} x {FLASK_THREADS} = "
        f"{workers * FLASK_THREADS} requests at once, a FastAPI server any number, but each of "
        f"its {workers} workers holds at most {POOL_CONNECTIONS} database connections: under "
        "slow I/O each stack's ceiling is its concurrency divided by the wait, so THREADS and "
        "the pool size, not the framework, set the gap"
    )
    if measured >= 0.8 * claimed:
        return "holds", reason
    if measured > 1.15:
        return f"partly: FastAPI ahead, {measured:.1f}x rather than {claimed:.1f}x", reason
    if measured < 0.87:
        return f"reversed: Flask ahead ({measured:.2f}x)", reason
    return f"not reproduced: {measured:.2f}x, within 15%", reason


def _latency(result: LoadResult) -> str:
    return f"{result.requests_per_second:,.0f} ({result.p50_ms:.1f} / {result.p99_ms:.1f})"


def _rate(result: LoadResult | None) -> str:
    return "-" if result is None else f"{result.requests_per_second:,.0f}"


def _ratio(ours: LoadResult | None, bare: LoadResult | None) -> str:
    if ours is None or bare is None or not bare.requests_per_second:
        return "-"
    return f"{ours.requests_per_second / bare.requests_per_second:.2f}"


def paired_spread(ours: Sequence[float], bare: Sequence[float]) -> str:
    """How far the ratio moved from one pair of side-by-side runs to the next: the middle
    half of the pairs' ratios (all of them when there are fewer than four pairs)."""
    ratios = sorted(mine / theirs for mine, theirs in zip(ours, bare, strict=False) if theirs)
    if not ratios:
        return ""
    low, high = ratios[0], ratios[-1]
    if len(ratios) >= 4:
        low, _, high = statistics.quantiles(ratios, n=4)
    return f" ({low:.2f}-{high:.2f})"


def stacks(targets: Sequence[Target]) -> list[tuple[Target, Target]]:
    return [(targets[i], targets[i + 1]) for i in range(0, len(targets) - 1, 2)]


def scenario_table(targets: Sequence[Target], scenarios: list[str]) -> Table:
    header = ["scenario"]
    for service, reference in stacks(targets):
        header += [
            f"{service.label} req/s (p99 ms)",
            f"{reference.label} req/s",
            "ratio (run by run)",
        ]
    rows = []
    for name in scenarios:
        row = [name]
        for service, reference in stacks(targets):
            ours, bare = service.results.get(name), reference.results.get(name)
            p99 = f" ({ours.p99_ms:.1f})" if ours else ""
            spread = paired_spread(service.repeats.get(name, []), reference.repeats.get(name, []))
            row += [_rate(ours) + p99, _rate(bare), _ratio(ours, bare) + spread]
        rows.append(row)
    return header, rows


def sweep_table(targets: Sequence[Target], attribute: str, unit: str) -> Table:
    """Each point of a sweep: every target's req/s and latency, and after each stack's pair
    the ratio of its service to its reference, with its run-by-run spread."""
    points = sorted({point for target in targets for point in getattr(target, attribute)})
    header = [unit]
    for service, reference in stacks(targets):
        header += [
            f"{service.label} req/s (p50 / p99 ms)",
            f"{reference.label} req/s (p50 / p99 ms)",
            "ratio (run by run)",
        ]
    if not points:
        return header, [["not measured", *("-" for _ in header[1:])]]
    rows = []
    for point in points:
        row = [f"{point:g}"]
        for service, reference in stacks(targets):
            ours = getattr(service, attribute).get(point)
            bare = getattr(reference, attribute).get(point)
            spread = paired_spread(
                getattr(service, f"{attribute}_repeats").get(point, []),
                getattr(reference, f"{attribute}_repeats").get(point, []),
            )
            row += [
                "-" if ours is None else _latency(ours),
                "-" if bare is None else _latency(bare),
                _ratio(ours, bare) + spread,
            ]
        rows.append(row)
    return header, rows


def resource_table(targets: Sequence[Target]) -> Table:
    header = ["", *(target.label for target in targets)]
    rows = [
        ["start-up to first answer (s)", *(f"{t.startup_seconds:.2f}" for t in targets)],
        [
            "the bare app importing its service's libraries first (s)",
            *(
                "-" if t.libraries_startup_seconds is None else f"{t.libraries_startup_seconds:.2f}"
                for t in targets
            ),
        ],
        ["memory per worker at rest (MiB, PSS)", *(f"{t.memory_rest_mib:.0f}" for t in targets)],
        ["memory per worker under load (MiB, PSS)", *(f"{t.memory_load_mib:.0f}" for t in targets)],
        ["lines of Python (src)", *(f"{t.lines_of_code:,}" for t in targets)],
        [
            "own test suite, `make test` (s; both stacks' at once)",
            *(
                "-" if t.test_suite_seconds is None else f"{t.test_suite_seconds:.1f}"
                for t in targets
            ),
        ],
    ]
    return header, rows


def claims_table(targets: Sequence[Target], workers: int) -> Table:
    services = {target.framework: target for target in targets if target.kind == "service"}
    header = ["claim", "closest measurement here", "FastAPI / Flask", "verdict", "why"]
    rows = []
    for claim in CLAIMS:
        measured = None
        if "fastapi" in services and "flask" in services:
            measured = claim.measure(services["fastapi"], services["flask"])
        word, reason = verdict(claim.claimed_ratio, measured, workers)
        shown = "-" if measured is None else f"{measured:.2f}x (claimed {claim.claimed_ratio:.1f}x)"
        rows.append([claim.text, claim.closest, shown, word, reason])
    return header, rows


def markdown_table(table: Table) -> str:
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(table: Table) -> str:
    header, rows = table
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(targets: Sequence[Target], scenarios: list[str]) -> str:
    """Grouped horizontal bars of requests/s, one group per scenario."""
    bar, gap, left, width = 13, 16, 170, 560
    peak = max((r.requests_per_second for t in targets for r in t.results.values()), default=1)
    height = len(scenarios) * (len(targets) * bar + gap) + 20 * len(targets) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}">'
    ]
    y = 10
    for name in scenarios:
        parts.append(f'<text x="0" y="{y + bar + 2}">{html.escape(name)}</text>')
        for index, target in enumerate(targets):
            value = target.results[name].requests_per_second if name in target.results else 0.0
            length = width * value / (peak or 1)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar - 2}" '
                f'fill="{COLORS[index % 4]}"/><text x="{left + length + 4:.1f}" '
                f'y="{y + bar - 3}">{value:,.0f}</text>'
            )
            y += bar
        y += gap
    parts += _legend(targets, left, y)
    return "\n".join([*parts, "</svg>"])


def line_chart(targets: Sequence[Target], attribute: str, axis: str) -> str:
    """Requests/s against the sweep's points, one line per target (points evenly spaced)."""
    points = sorted({point for target in targets for point in getattr(target, attribute)})
    if not points:
        return ""
    left, top, width, height = 60, 10, 560, 220
    peak = max(r.requests_per_second for t in targets for r in getattr(t, attribute).values())
    peak = peak or 1
    step = width / max(len(points) - 1, 1)
    bottom = top + height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 40}" '
        f'height="{bottom + 80 + 20 * len(targets)}">',
        f'<line x1="{left}" y1="{bottom}" x2="{left + width}" y2="{bottom}" stroke="#888"/>',
        f'<text x="0" y="{top + 10}">{peak:,.0f}</text><text x="0" y="{bottom}">0</text>',
    ]
    for index, point in enumerate(points):
        parts.append(f'<text x="{left + index * step - 8:.0f}" y="{bottom + 16}">{point:g}</text>')
    parts.append(f'<text x="{left}" y="{bottom + 34}">{html.escape(axis)}</text>')
    for index, target in enumerate(targets):
        series: dict[float, LoadResult] = getattr(target, attribute)
        coordinates = " ".join(
            f"{left + position * step:.1f},"
            f"{bottom - height * series[point].requests_per_second / peak:.1f}"
            for position, point in enumerate(points)
            if point in series
        )
        parts.append(
            f'<polyline fill="none" stroke-width="2" stroke="{COLORS[index % 4]}" '
            f'points="{coordinates}"/>'
        )
    parts += _legend(targets, left, bottom + 50)
    return "\n".join([*parts, "</svg>"])


def _legend(targets: Sequence[Target], left: int, y: float) -> list[str]:
    return [
        f'<rect x="{left}" y="{y + 20 * index}" width="12" height="12" '
        f'fill="{COLORS[index % 4]}"/><text x="{left + 18}" y="{y + 20 * index + 11}">'
        f"{html.escape(target.label)} (requests/s)</text>"
        for index, target in enumerate(targets)
    ]


def write_reports(
    targets: Sequence[Target],
    output: Path,
    *,
    settings: str,
    machine: str,
    date: str,
    scenarios: list[str],
) -> list[Path]:
    """compare.md and compare.html in `output`; the paths written."""
    workers = int(targets[0].env.get("WEB_CONCURRENCY", "2")) if targets else 2
    sections: list[tuple[str, str, Table, str]] = [
        ("Throughput", "Each stack's service beside its bare reference. Ratio: service / it, of "
         "their median runs; in brackets, the middle half of the ratios of the runs taken "
         "side by side (all of them below four pairs): how far the machine moved the ratio.",
         scenario_table(targets, scenarios), bar_chart(targets, scenarios)),
        ("Concurrency sweep", "db read at rising numbers of connections; ratio as above.",
         sweep_table(targets, "sweep", "connections"), line_chart(targets, "sweep", "connections")),
        ("I/O-latency sweep", "db read with each database round trip delayed by a proxy; "
         "ratio as above.",
         sweep_table(targets, "latency", "ms per round trip"),
         line_chart(targets, "latency", "ms added per database round trip")),
        ("Resources and size", "Start-up, memory, code and the project's own tests. Start-up:"
         " from the command to the first answer. A service imports, before it serves, libraries"
         " its bare reference does without (pydantic-settings, the SQLAlchemy ORM and, for"
         " Flask, flask-openapi3: bench/reference/libraries.py); the reference importing them"
         " first shows how much of the gap is theirs, the rest is the service's own code."
         " Memory per worker: the whole server's proportional set size (master included; a"
         " page that processes share is split among them) divided by its workers.",
         resource_table(targets), ""),
        ("The claims, checked", "Each claim beside the closest figure measured here.",
         claims_table(targets, workers), ""),
    ]  # fmt: skip
    intro = f"Measured {date} on {machine}. Settings: {settings}."
    markdown = ["# FastAPI or Flask: measured side by side", "", intro, ""]
    page = [
        "<!doctype html><html><head><meta charset='utf-8'><title>FastAPI or Flask</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}svg{font-size:12px}"
        "</style></head><body><h1>FastAPI or Flask: measured side by side</h1>",
        f"<p>{html.escape(intro)}</p>",
    ]
    for title, note, table, chart in sections:
        markdown += [f"## {title}", "", note, "", markdown_table(table), ""]
        page += [
            f"<h2>{html.escape(title)}</h2><p>{html.escape(note)}</p>",
            chart,
            html_table(table),
        ]
    page.append("</body></html>")
    output.mkdir(parents=True, exist_ok=True)
    written = [output / "compare.md", output / "compare.html"]
    written[0].write_text("\n".join(markdown))
    written[1].write_text("\n".join(page) + "\n")
    return written
