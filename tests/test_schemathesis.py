"""Schemathesis against both served stacks on each database: it must find nothing.

Each stack runs under its production server (`python -m my_service`), with a database of
its own; Schemathesis reads the served /openapi.json and runs every check with positive
and negative data through all its phases, the stateful one following the links it infers
from the API (a 201's Location, create_task's `id`). The settings, seed and budget are in
tests/schemathesis.toml. The tests of one database share the parity tests' xdist group, so
each stack is rendered and installed once per database.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.databases import require_server
from tests.render import Renders, checked
from tests.served import Stacks
from tests.test_parity import DATABASES, FRAMEWORKS, group, readable_diff

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
# The same limit as the hostile corpus: bodies over it are part of what is generated.
MAX_BODY_SIZE = 131072
# The stateful phase's summary line: how many links it followed of those it found.
# The operation whose only warning may be missing test data (see schemathesis.toml).
RETRY = "POST /tasks/{task_id}/retry"
LINKS = re.compile(r"API Links:\s+(\d+) covered / \d+ selected / (\d+) total")


@pytest.fixture(scope="session")
def fuzzed(renders: Renders) -> Iterator[Stacks]:
    with ExitStack() as exits:
        yield Stacks(renders, exits, "schemathesis", {"MAX_BODY_SIZE": str(MAX_BODY_SIZE)})


def schemathesis() -> str:
    # The template's environment's own script, next to the interpreter running the tests.
    script = Path(sys.executable).with_name("schemathesis")
    return str(script) if script.exists() else shutil.which("schemathesis") or "schemathesis"


def run_schemathesis(base_url: str, workdir: Path) -> dict[str, Any]:
    """One run against a served stack; its JSON report."""
    reports = workdir / "reports"
    shutil.rmtree(reports, ignore_errors=True)
    result = checked(
        [
            schemathesis(),
            "--no-color",
            "--config-file",
            str(CONFIG),
            "run",
            f"{base_url}/openapi.json",
            "--report",
            "json",
            "--report-dir",
            str(reports),
        ],
        cwd=workdir,
        timeout=600,
        check=False,
    )
    report_files = sorted(reports.glob("*.json"))
    assert report_files, f"no report:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(report_files[-1].read_text())
    report["output"] = result.stdout
    return report


@pytest.mark.parametrize(
    ("database", "framework"),
    [
        pytest.param(database, framework, marks=group(database))
        for database in DATABASES
        for framework in FRAMEWORKS
    ],
)
def test_schemathesis_finds_nothing(
    fuzzed: Stacks,
    database: str,
    framework: str,
    tmp_path: Path,
    record_property: Any,
) -> None:
    require_server(database)
    server, _task = fuzzed.get(framework, database)

    report = run_schemathesis(server.base_url, tmp_path)
    document = server.request("GET", "/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())

    cases = report["test_cases"]
    warnings = {name: found for name, found in report["warnings"].items() if found}
    # The one allowed warning (see schemathesis.toml): retry's 200 needs a failed task.
    if warnings.get("missing_test_data") == [RETRY]:
        del warnings["missing_test_data"]
    links = LINKS.search(report["output"])
    covered, total = (int(links[1]), int(links[2])) if links else (0, 0)
    figure = (
        f"{framework}/{database}: {cases['generated']} cases, "
        f"{report['operations']['tested']} operations, {covered}/{total} links followed, "
        f"{cases['with_failures']} failing, {report['running_time']:.1f} s"
    )
    record_property("figure", figure)
    print(figure)
    assert report["exit_code"] == 0, report["output"][-12000:]
    assert cases["with_failures"] == 0
    assert not report["errors"], report["errors"]
    assert not warnings, warnings
    assert report["operations"]["tested"] == report["operations"]["total"] == operations
    # The stateful phase chained operations: create, then get, update and delete the task.
    assert total > 0, report["output"][-3000:]
    # The stateful phase chained operations through the links it inferred. How many of them
    # a run follows depends on the data the server answers with (new ids each run) and on the
    # machine: the figure is printed, the chaining itself is asserted.
    assert covered > 0, report["output"][-3000:]
    assert all(phase["status"] == "success" for phase in report["phases"].values()), report[
        "phases"
    ]


@pytest.mark.parametrize("database", [pytest.param(db, marks=group(db)) for db in DATABASES])
def test_served_openapi_documents_are_identical(fuzzed: Stacks, database: str) -> None:
    """The bytes each production server sends for /openapi.json: one document, two stacks."""
    require_server(database)
    sent = {
        framework: fuzzed.get(framework, database)[0].request("GET", "/openapi.json")
        for framework in FRAMEWORKS
    }

    assert {reply.status for reply in sent.values()} == {200}
    bodies = {framework: reply.body for framework, reply in sent.items()}
    assert bodies["fastapi"] == bodies["flask"], readable_diff(
        json.loads(bodies["fastapi"]), json.loads(bodies["flask"]), sort_keys=False
    )
