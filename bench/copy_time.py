"""Benchmark: how long `copier copy` takes for the default answers, and the full matrix.

Prints figures; never fails on time. Usage:

    uv run python -m bench.copy_time            # copy time only (median of 7 runs)
    uv run python -m bench.copy_time --matrix   # plus the wall time of tests/test_matrix.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from tests.matrix import ROOT, cells

COPIER = [sys.executable, "-m", "copier"]


def time_copy(runs: int) -> list[float]:
    """Wall time of `copier copy --trust --defaults` (CLI, as a user runs it), per run.

    A first, uncounted run lets Python write its bytecode caches, as on a user's machine
    (some CI images set PYTHONDONTWRITEBYTECODE, which would time the compiler instead).
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    timings = []
    for run in range(runs + 1):
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            subprocess.run(
                [
                    *COPIER,
                    "copy",
                    "--quiet",
                    "--trust",
                    "--defaults",
                    "-r",
                    "HEAD",
                    str(ROOT),
                    scratch,
                ],
                check=True,
                capture_output=True,
                env=env,
            )
            if run:
                timings.append(time.perf_counter() - started)
    return timings


def time_matrix() -> float:
    """Wall time of the whole generation matrix, as the test suite runs it."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/test_matrix.py"], cwd=ROOT, check=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--matrix", action="store_true", help="also time the full matrix")
    args = parser.parse_args()

    timings = time_copy(args.runs)
    print(
        f"copier copy (defaults): median {statistics.median(timings):.2f} s, "
        f"min {min(timings):.2f} s, max {max(timings):.2f} s over {args.runs} runs"
    )
    if args.matrix:
        print(f"matrix: {len(cells())} cells, wall time {time_matrix():.0f} s")


if __name__ == "__main__":
    main()
