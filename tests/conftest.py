"""Fixtures: each matrix cell is rendered once per run (per xdist worker that needs it)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.matrix import Cell
from tests.render import render

_STARTED = time.monotonic()


class Renders:
    """Renders cells on demand into one folder and remembers them for the run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, Path] = {}

    def get(self, cell: Cell) -> Path:
        if cell.id not in self._done:
            self._done[cell.id] = render(self.root / cell.id / "project", cell.data)
        return self._done[cell.id]


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
