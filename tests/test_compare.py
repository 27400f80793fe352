"""The comparison command runs end to end and writes its report (a short run: figures only).

How fast either stack is, is never asserted: only that every measurement was taken, each
scenario answered as it should before it was loaded, and the report has every section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.compare import SCENARIOS, main
from bench.report import paired_spread
from tests.databases import require_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("compare")]


def test_a_short_comparison_writes_both_reports(tmp_path: Path) -> None:
    require_server("postgresql")

    main(
        [
            "--database", "postgresql", "--duration", "0.3", "--repeats", "2", "--connections", "8",
            "--sweep", "1", "8", "--sweep-duration", "0.2", "--sweep-repeats", "2",
            "--delays", "0", "5", "--startups", "2",
            "--output", str(tmp_path),
        ]
    )  # fmt: skip

    markdown = (tmp_path / "compare.md").read_text()
    page = (tmp_path / "compare.html").read_text()
    for section in ("Throughput", "Concurrency sweep", "I/O-latency sweep", "The claims, checked"):
        assert f"## {section}" in markdown
        assert f"<h2>{section}</h2>" in page
    for scenario in SCENARIOS:
        row = next(
            line for line in markdown.splitlines() if line.startswith(f"| {scenario.name} |")
        )
        # The ratio of the medians, and the spread of the two side-by-side pairs' ratios.
        assert re.search(r"\| [\d,]+ \([\d.]+\) \| [\d,]+ \| [\d.]+ \([\d.]+-[\d.]+\) \|", row), row
    # Each sweep point: both targets of a stack, then their ratio with its spread.
    point = r"[\d,]+ \([\d.]+ / [\d.]+\) \| [\d,]+ \([\d.]+ / [\d.]+\) \| [\d.]+ \([\d.]+-[\d.]+\)"
    for value in ("1", "8", "5"):  # connections 1 and 8, a 5 ms delay
        row = rf"^\| {value} \| {point} \| {point} \|$"
        assert re.search(row, markdown, flags=re.MULTILINE), value
    assert "own test suite, `make test` (s; both stacks' at once) | " in markdown
    # Each reference's start-up, bare and importing its service's libraries; none for a service.
    seconds = r" \d+\.\d\d "
    for row in (rf"\| start-up to first answer \(s\) \|({seconds}\|){{4}}",
                rf"\| the bare app importing its service's libraries first \(s\) \|"
                rf"( - \|{seconds}\|){{2}}"):  # fmt: skip
        assert re.search(row, markdown), row
    memory = next(
        line for line in markdown.splitlines() if line.startswith("| memory per worker at rest")
    )
    assert re.fullmatch(r"\|[^|]+(\| [1-9]\d* ){4}\|", memory), memory
    assert page.count("<svg") == 3
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_spread_is_the_middle_half_of_the_paired_ratios() -> None:
    service = [100.0, 90.0, 110.0, 80.0, 120.0]
    reference = [100.0, 100.0, 100.0, 100.0, 100.0]

    assert paired_spread(service, reference) == " (0.85-1.15)"  # quartiles of 0.8 ... 1.2
    assert paired_spread(service[:3], reference[:3]) == " (0.90-1.10)"  # few pairs: all
    assert paired_spread([], []) == ""
