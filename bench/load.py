"""Load generators: wrk when installed, else a small keep-alive Python client."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    unexpected: int  # socket errors and timeouts

    def __str__(self) -> str:
        return (
            f"{self.requests_per_second:10,.0f} req/s  p50 {self.p50_ms:6.2f} ms  "
            f"p99 {self.p99_ms:7.2f} ms  errors {self.unexpected}"
        )


def _milliseconds(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(url: str, method: str, body: str | None, duration: float, connections: int) -> LoadResult:
    script = (
        f'wrk.method = "{method}"\n'
        + (f"wrk.body = [[{body}]]\n" if body else "")
        + 'wrk.headers["Content-Type"] = "application/json"\n'
    )
    with tempfile.TemporaryDirectory() as scratch:
        lua = Path(scratch) / "request.lua"
        lua.write_text(script)
        finished = subprocess.run(
            [
                "wrk",
                f"-t{min(2, connections)}",
                f"-c{connections}",
                f"-d{max(1, round(duration))}s",  # wrk counts whole seconds
                "--latency",
                "-s",
                str(lua),
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if finished.returncode != 0:  # "unable to connect": the server is gone; say so
        raise RuntimeError(f"wrk exited {finished.returncode}: {finished.stderr.strip()}")
    output = finished.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    unexpected = sum(int(n) for n in errors.groups()) if errors else 0
    return LoadResult(rps, p50, p99, unexpected)


def _python(
    url: str, method: str, body: str | None, duration: float, connections: int
) -> LoadResult:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                headers = {"Content-Type": "application/json"}
                connection.request(method, path, body=body, headers=headers)
                connection.getresponse().read()
            except OSError:
                with lock:
                    errors[0] += 1
                connection.close()
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    if not latencies:
        return LoadResult(0.0, 0.0, 0.0, errors[0])
    return LoadResult(
        len(latencies) / duration,
        latencies[len(latencies) // 2] * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        errors[0],
    )


def run_load(
    url: str, method: str, body: str | None, duration: float, connections: int
) -> LoadResult:
    """Load `url` for `duration` seconds over `connections` keep-alive connections."""
    generate = _wrk if shutil.which("wrk") else _python
    return generate(url, method, body, duration, connections)
