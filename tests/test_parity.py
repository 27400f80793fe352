"""Parity: with the same answers, the FastAPI and Flask projects serve one contract.

For each database, both stacks are rendered and play the same requests
(tests/parity_contract.py); their answers, their OpenAPI documents and the files of
their trees are compared. All tests of one database run on one xdist worker, which
renders and plays each stack once.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.databases import provisioned, require_server
from tests.matrix import ROOT, axes
from tests.render import Renders, install, project_env, rendered_files
from tests.served import stack_cell as cell

FRAMEWORKS = tuple(axes()["framework"])
DATABASES = tuple(axes()["database"])
CONTRACT = Path(__file__).with_name("parity_contract.py")
PACKAGE = "my_service"  # the default answers' package name

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
# The seam, as a rule: a path may differ between the two trees (or exist in one only) iff
# it is the framework's by nature. Every other file is one file of includes/, the same.
WEB_LAYER = f"src/{PACKAGE}/web/"  # the framework glue, all of it
ROUTES = "routes.py"  # each domain's routes, e.g. src/<package>/tasks/routes.py
STACK_FILES = {
    # the server and its configuration, and their tests
    f"src/{PACKAGE}/server.py",
    "gunicorn.conf.py",
    "tests/test_server.py",
    # the test client: how the shared tests reach the web layer
    "tests/support.py",
    # files that name their stack by nature: dependencies, docs, commands, image, answers
    "pyproject.toml",
    "uv.lock",
    "README.md",
    "Makefile",
    "Dockerfile",
    ".copier-answers.yml",
}


def rendered_path(template_path: Path) -> str:
    return template_path.as_posix().removesuffix(".jinja").replace("{{ package_name }}", PACKAGE)


def sync_async_pair() -> set[str]:
    """The declared sync/async pair: the shared files written with `is_async` (copier.yml)."""
    stack = ROOT / "template-fastapi"
    return {
        rendered_path(link.relative_to(stack))
        for link in stack.rglob("*.jinja")
        if link.is_symlink() and "is_async" in link.read_text()
    }


def may_differ(path: str, pair: set[str]) -> bool:
    in_package = path.startswith(f"src/{PACKAGE}/")
    return (
        path.startswith(WEB_LAYER)
        or (in_package and path.rpartition("/")[2] == ROUTES)
        or path in STACK_FILES
        or path in pair
    )


def group(database: str) -> pytest.MarkDecorator:
    return pytest.mark.xdist_group(f"parity-{database}")


class Played:
    """What each stack answered, per database: each stack renders and plays once a run."""

    def __init__(self, renders: Renders) -> None:
        self.renders = renders
        self._done: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, framework: str, database: str) -> dict[str, Any]:
        key = (framework, database)
        if key not in self._done:
            self._done[key] = self._play(framework, database)
        return self._done[key]

    def _play(self, framework: str, database: str) -> dict[str, Any]:
        project = self.renders.get(cell(framework, database))
        output = project.parent / "parity.json"
        # The pid keeps two runs on one machine (two engineers, CI) out of each other's way.
        name = f"ts_parity_{framework}_{database}_{os.getpid()}"
        with provisioned(database, name) as url:
            database_url = url or f"sqlite:///{project.parent / 'parity.db'}"
            python = str(install(project))  # the project's own environment, from its lock
            command = [python, str(CONTRACT), PACKAGE, database_url, str(output)]
            env = project_env({"PYTHONPATH": f"src{os.pathsep}{project}"})
            played = subprocess.run(
                command, cwd=project, env=env, capture_output=True, text=True, check=False
            )
        assert played.returncode == 0, f"{framework}: {played.stdout}\n{played.stderr[-6000:]}"
        result: dict[str, Any] = json.loads(output.read_text())
        return result


@pytest.fixture(scope="session")
def played(renders: Renders) -> Played:
    return Played(renders)


def normalize(value: Any, ids: dict[str, str]) -> Any:
    """Ids become <id-N> in order of appearance, well-formed timestamps become <time>."""
    if isinstance(value, dict):
        return {key: normalize(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item, ids) for item in value]
    if isinstance(value, str):
        if TIMESTAMP.match(value):
            return "<time>"
        return UUID.sub(lambda match: ids.setdefault(match[0], f"<id-{len(ids)}>"), value)
    return value


def readable_diff(fastapi: Any, flask: Any, *, sort_keys: bool = True) -> str:
    """A unified diff of two JSON values; without sort_keys, key order shows too."""
    left = json.dumps(fastapi, indent=1, sort_keys=sort_keys).splitlines()
    right = json.dumps(flask, indent=1, sort_keys=sort_keys).splitlines()
    return "\n".join(difflib.unified_diff(left, right, "fastapi", "flask", lineterm="", n=4))


@pytest.mark.parametrize("database", [pytest.param(db, marks=group(db)) for db in DATABASES])
def test_both_stacks_answer_the_contract_identically(played: Played, database: str) -> None:
    require_server(database)
    answers = {
        framework: normalize(played.get(framework, database)["results"], {})
        for framework in FRAMEWORKS
    }

    mismatches = [
        f"{fastapi['step']}:\n{readable_diff(fastapi, flask)}"
        for fastapi, flask in zip(answers["fastapi"], answers["flask"], strict=True)
        if fastapi != flask
    ]
    assert not mismatches, "\n\n".join(mismatches)
    statuses = {answer["status"] for answer in answers["fastapi"]}
    assert statuses >= {200, 201, 204, 404, 405, 409, 413, 422, 503}, statuses


@pytest.mark.parametrize("database", [pytest.param(db, marks=group(db)) for db in DATABASES])
def test_openapi_documents_match(played: Played, database: str) -> None:
    require_server(database)
    # Whole documents, words and order included: a client generated from either stack's has
    # the same names, and /docs reads the same (tests/test_schemathesis.py compares the bytes
    # each production server sends).
    documents = {framework: played.get(framework, database)["openapi"] for framework in FRAMEWORKS}

    assert documents["fastapi"] == documents["flask"], readable_diff(
        documents["fastapi"], documents["flask"]
    )
    assert len(documents["fastapi"]["paths"]) == 6


@group("sqlite")
def test_trees_differ_only_at_the_seam(renders: Renders) -> None:
    trees = {framework: renders.get(cell(framework, "sqlite")) for framework in FRAMEWORKS}
    files = {
        framework: {path.relative_to(project).as_posix() for path in rendered_files(project)}
        for framework, project in trees.items()
    }
    pair = sync_async_pair()

    only_in_one = files["fastapi"] ^ files["flask"]
    changed = {
        name
        for name in files["fastapi"] & files["flask"]
        if (trees["fastapi"] / name).read_bytes() != (trees["flask"] / name).read_bytes()
    }

    assert sorted(path for path in only_in_one | changed if not may_differ(path, pair)) == []
    # A file woven with is_async that renders the same in both is a plain shared file.
    assert pair <= changed, f"declared async/sync but identical: {sorted(pair - changed)}"
    assert {f"src/{PACKAGE}/database.py", f"src/{PACKAGE}/tasks/service.py"} <= pair
