"""Cookiecutter hook: hand the answers to Copier, which renders the real project.

Cookiecutter renders this file with Jinja first (the JSON below) and runs it inside the
folder it made from `{{cookiecutter.project_slug}}/` (pre_gen_project.py made sure that
folder was empty). The one file cookiecutter put there is removed, by name, and
`copier copy` fills the folder, so questions, defaults and validation stay in
copier.yml, and the project can later be updated with `copier update`. A refused answer
ends in Copier's one line naming the question, and the command to run again with the
other answers kept; success ends in Copier's own closing message.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2
import yaml

CONTEXT: dict[str, Any] = json.loads(r"""{{ cookiecutter | jsonify }}""")
REMOTE_PREFIXES = ("gh:", "gl:", "git@", "git+", "https://", "http://", "ssh://", "file://")
# What cookiecutter rendered from `{{cookiecutter.project_slug}}/`: removed before Copier runs.
ENTRY_FILES = ("README.md",)


def template_source() -> str:
    """What Copier should record as `_src_path`: the URL, or the template's absolute path."""
    template, repo_dir = str(CONTEXT["_template"]), str(CONTEXT["_repo_dir"])
    if template.startswith(REMOTE_PREFIXES):
        return template
    # A local template path is relative to where cookiecutter was started.
    bases = [Path(os.environ.get("PWD", ".")), Path(CONTEXT["_output_dir"])]
    for candidate in [Path(repo_dir), *(base / repo_dir for base in bases)]:
        if candidate.is_absolute() and (candidate / "copier.yml").is_file():
            return str(candidate.resolve())
    sys.exit(f"cannot find the template {template!r}: pass an absolute path or a URL")


def copier_command() -> list[str]:
    if importlib.util.find_spec("copier") is not None:
        return [sys.executable, "-m", "copier"]
    for command in (["copier"], ["uvx", "copier"]):
        if shutil.which(command[0]):
            return command
    sys.exit("this template runs Copier: install it (pip install copier, or install uv)")


def copier_message(stderr: str) -> str:
    """Copier's error without the traceback Copier prints for a refused answer."""
    if "Traceback (most recent call last)" not in stderr:
        return stderr.rstrip()
    last = stderr.strip().splitlines()[-1]
    return last.split(": ", 1)[1] if last.startswith("ValueError: ") else last


def answers() -> dict[str, str]:
    return {key: str(value) for key, value in CONTEXT.items() if not key.startswith("_")}


def run_again(template: str) -> str:
    """The command that asks nothing and keeps every answer, to edit the refused one."""
    pairs = [f"{key}={value}" for key, value in answers().items()]
    return shlex.join(["cookiecutter", "--no-input", template, *pairs])


def closing_message(template: str, project: Path) -> str:
    """copier.yml's message after a copy, as `copier copy` prints it."""
    source = Path(template) if Path(template).is_absolute() else Path(str(CONTEXT["_repo_dir"]))
    config = yaml.safe_load((source / "copier.yml").read_text())
    where = os.path.relpath(project, str(CONTEXT["_output_dir"]))
    context = {**answers(), "_copier_conf": {"dst_path": where}}
    return str(jinja2.Template(str(config.get("_message_after_copy", ""))).render(context))


def main() -> int:
    project = Path.cwd()
    for name in ENTRY_FILES:
        (project / name).unlink(missing_ok=True)
    checkout = CONTEXT.get("_checkout")
    source = template_source()
    with tempfile.TemporaryDirectory() as scratch:
        data_file = Path(scratch) / "answers.json"
        data_file.write_text(json.dumps(answers()))
        command = [*copier_command(), "copy", "--quiet", "--defaults", "--trust"]
        command += ["--data-file", str(data_file), *(["--vcs-ref", checkout] if checkout else [])]
        result = subprocess.run([*command, source, str(project)], capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        print(f"To run again with your answers: {run_again(str(CONTEXT['_template']))}")
        print(copier_message(result.stderr), file=sys.stderr)
        return result.returncode
    print(closing_message(source, project), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
