"""Helpers shared by the migration hooks: read the project's last committed state.

`copier update` refuses to start on a dirty tree, so HEAD holds exactly what the
project looked like before the update: the user's files and the previous answers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def committed(path: str, project: Path) -> str | None:
    """The text of `path` at HEAD, or None if HEAD has no such file."""
    result = subprocess.run(
        ["git", "show", f"HEAD:{path}"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def scalar_answers(answers_text: str) -> dict[str, str]:
    """The top-level `key: value` scalars of an answers file (enough for _commit and choices)."""
    answers: dict[str, str] = {}
    for line in answers_text.splitlines():
        key, separator, value = line.partition(":")
        if separator and key and not key.startswith((" ", "#")):
            answers[key] = value.strip().strip("'\"")
    return answers
