"""Cookiecutter hook: hand the answers to Copier, which renders the real project.

Cookiecutter renders this file with Jinja first (the JSON below) and runs it inside the
folder it made from `{{cookiecutter.project_slug}}/`. The folder is emptied and
`copier copy` fills it, so questions, defaults and validation stay in copier.yml, and
the project can later be updated with `copier update`. Copier's own error message,
for instance a refused answer, is what the user sees.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CONTEXT: dict[str, Any] = json.loads(r"""{{ cookiecutter | jsonify }}""")
REMOTE_PREFIXES = ("gh:", "gl:", "git@", "git+", "https://", "http://", "ssh://", "file://")


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


def main() -> int:
    project = Path.cwd()
    for child in project.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    answers = {key: value for key, value in CONTEXT.items() if not key.startswith("_")}
    checkout = CONTEXT.get("_checkout")
    with tempfile.TemporaryDirectory() as scratch:
        data_file = Path(scratch) / "answers.json"
        data_file.write_text(json.dumps(answers))
        command = [*copier_command(), "copy", "--quiet", "--defaults", "--trust"]
        command += ["--data-file", str(data_file), *(["--vcs-ref", checkout] if checkout else [])]
        result = subprocess.run(
            [*command, template_source(), str(project)], capture_output=True, text=True
        )
    print(result.stdout, end="")
    if result.returncode != 0:
        print(copier_message(result.stderr), file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
