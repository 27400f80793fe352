"""What the READMEs tell a user to do works exactly as written.

The commands are read out of the README files themselves, so a README that drifts from
what works fails here: the template's first command (then `copier update` in the
result), the generated project's pip fallback, its database set-up, `make dev`, and free
text answers that land in Python, TOML, YAML and Markdown.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.databases import execute, require_server
from tests.git_support import commit_all, copy_working_tree, git
from tests.matrix import ROOT, default_cell
from tests.render import install, make, project_env, render, run
from tests.served import free_port, serving

pytestmark = pytest.mark.slow

HOSTILE = {
    "description": "The \"fast\" queue \\ naïve <b>*bold*</b> [link](x) `code` # 'q' | ü",
    "author_name": 'Zoë O\'Brien "Bob" \\ Ñ',
    "author_email": "zoe.o'brien+q@example.com",
}


def code_lines(readme: Path, starting: str) -> list[str]:
    """The lines of the README's shell blocks that start with `starting`."""
    blocks = re.findall(r"```sh\n(.*?)```", readme.read_text(), flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith(starting)]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_for(url: str, process: subprocess.Popen[str], timeout: float = 180) -> tuple[int, bytes]:
    """The first answer other than a refused connection, while `process` lives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early:\n{process.communicate()[0][-4000:]}")
        try:
            return get(url)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing answered {url}")


@contextmanager
def background(command: str, cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A shell command in its own process group, stopped (all of it) when the block ends."""
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=cwd,
        env=project_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def test_first_command_works_as_written_and_the_project_updates(tmp_path: Path) -> None:
    """From a clone, the README's first command serves; the project it made can update."""
    command = code_lines(ROOT / "README.md", "uvx copier copy")[0]
    clone = tmp_path / "twinstack"
    copy_working_tree(clone)
    commit_all(clone, "a clone of the template")
    port = free_port()

    with background(command, clone, {"PORT": str(port)}) as process:
        status, _ = wait_for(f"http://127.0.0.1:{port}/health/ready", process)
        created = urllib.request.urlopen(
            urllib.request.Request(
                f"http://127.0.0.1:{port}/tasks",
                data=json.dumps({"command": "echo readme"}).encode(),
                headers={"Content-Type": "application/json"},
            ),
            timeout=5,
        )

    assert (status, created.status) == (200, 201)
    project = tmp_path / "my-service"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert Path(answers["_src_path"]).is_absolute(), answers["_src_path"]
    commit_all(project, "the user's first commit")
    run(project, ["uvx", "copier", "update", "--trust", "--defaults"])
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_free_text_answers_land_escaped_everywhere(tmp_path: Path, framework: str) -> None:
    data = {**default_cell().data, "framework": framework, **HOSTILE}
    project = render(tmp_path / "project", data)

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package = project / "src" / "my_service"
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
    readme = (project / "README.md").read_text()

    assert pyproject["description"] == HOSTILE["description"]
    assert pyproject["authors"] == [
        {"name": HOSTILE["author_name"], "email": HOSTILE["author_email"]}
    ]
    assert {key: answers[key] for key in HOSTILE} == HOSTILE
    assert docstring == f"My Service: {HOSTILE['description']}"
    markdown = re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", HOSTILE["description"])
    assert f"\n{markdown}\n" in readme
    make(project, "lint")
    python = install(project)
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    make(project, "migrate", env=env)
    with serving(python, project, env, tmp_path / "log") as server:
        info = server.request("GET", "/openapi.json").json()["info"]
    assert (info["description"], info["version"]) == (HOSTILE["description"], "0.1.0")


def test_pip_fallback_works_with_the_pip_python_ships(tmp_path: Path) -> None:
    """The README's no-uv install, on a venv's bundled pip, then the project's own tests."""
    project = render(tmp_path / "project", default_cell().data)
    [command] = code_lines(project / "README.md", "python3 -m venv")
    bundled = subprocess.run(
        ["python3", "-c", "import ensurepip; print(ensurepip.version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    run(project, ["bash", "-c", command])
    tested = run(project, [".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"])

    print(f"\npip fallback from the bundled pip {bundled}: {tested.stdout.splitlines()[-1]}")
    assert " passed" in tested.stdout


@pytest.mark.parametrize(
    ("framework", "database", "client"),
    [("fastapi", "postgresql", "psql"), ("flask", "mysql", "mysql")],
)
def test_database_section_creates_what_env_example_names(
    tmp_path: Path, framework: str, database: str, client: str
) -> None:
    """Run the README's SQL as the server's superuser; then `.env.example` just works."""
    require_server(database)
    name = f"readme_check_{os.getpid()}"
    data = {**default_cell().data, "framework": framework, "database": database}
    project = render(tmp_path / "project", {**data, "project_name": name.replace("_", " ")})
    [command] = code_lines(project / "README.md", client)
    statements = re.findall(r'(?:-c|-e) "([^"]+)"', command)
    shutil.copy(project / ".env.example", project / ".env")
    try:
        for text in statements:
            for statement in filter(None, (part.strip() for part in text.split(";"))):
                execute(database, statement)
        make(project, "migrate")
        with serving(install(project), project, {}, tmp_path / "server.log") as server:
            ready = server.request("GET", "/health/ready")
    finally:
        execute(database, f"DROP DATABASE IF EXISTS {name}")
        drop_user = (
            f"DROP ROLE IF EXISTS {name}"
            if database == "postgresql"
            else (f"DROP USER IF EXISTS '{name}'@'%'")
        )
        execute(database, drop_user)

    assert statements
    assert (ready.status, ready.json()["database"]) == (200, "ok")


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_make_dev_migrates_first_and_revision_needs_a_message(
    tmp_path: Path, framework: str
) -> None:
    project = render(tmp_path / "project", {**default_cell().data, "framework": framework})
    install(project)
    port = free_port()

    with background("make dev", project, {"PORT": str(port)}) as process:
        status, body = wait_for(f"http://127.0.0.1:{port}/tasks", process)
    revision = make(project, "revision", check=False)

    assert (status, json.loads(body)["total"]) == (200, 0)
    assert revision.returncode != 0
    assert 'make revision needs a message: make revision m="add a column"' in revision.stderr
    assert not list((project / "migrations" / "versions").glob("*_.py"))


@pytest.mark.parametrize(("framework", "database"), [("fastapi", "postgresql"), ("flask", "mysql")])
def test_a_refused_database_is_one_line_that_says_what_to_do(
    tmp_path: Path, framework: str, database: str
) -> None:
    """Before the README's set-up: `make migrate` names the problem and the fix, no traceback."""
    require_server(database)
    name = f"nobody_{os.getpid()}"
    data = {**default_cell().data, "framework": framework, "database": database}
    project = render(tmp_path / "project", {**data, "project_name": name.replace("_", " ")})
    shutil.copy(project / ".env.example", project / ".env")
    install(project)

    refused = make(project, "migrate", check=False)

    message = [line for line in refused.stderr.splitlines() if not line.startswith("make:")]
    assert refused.returncode != 0
    assert len(message) == 1, refused.stderr
    assert message[0].startswith(f"cannot use the database {database}://{name}:***@localhost")
    assert "(README: Database), or set DATABASE_URL in .env" in message[0]
    assert "Traceback" not in refused.stdout + refused.stderr
