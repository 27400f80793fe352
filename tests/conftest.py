"""Fixtures: each matrix cell is rendered once per run (per xdist worker that needs it)."""

from __future__ import annotations

import time

import pytest

from tests.render import Renders

_STARTED = time.monotonic()


@pytest.fixture(scope="session")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Renders:
    return Renders(tmp_path_factory.mktemp("renders"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Figures a test measured, recorded with record_property("figure", ...): they travel
    # back from xdist workers with the reports, where print output would be lost.
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        for name, value in report.user_properties:
            if name == "figure":
                terminalreporter.write_line(f"{report.nodeid}: {value}")
    terminalreporter.write_line(f"twinstack: wall time {time.monotonic() - _STARTED:.1f} s")
