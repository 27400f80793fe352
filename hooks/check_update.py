"""Copier migration (every update): refuse answer changes that an update cannot make.

Switching `framework` would replace the whole web layer: Copier would delete every file
of the old stack, edited or not. Before the update, a change asked for with `--data`
is refused before anything is touched. After it, a change answered at the prompt is
undone: the tree was clean when the update started (Copier insists), so restoring HEAD
and removing the files the update created gives back exactly the user's project.

Usage: check_update.py ANSWERS_FILE before|after NAME=VALUE_FROM_DATA ...
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from project_git import committed, scalar_answers

FIXED = ("framework",)
RESTORE_HEAD = (["reset", "--quiet", "--hard", "HEAD"], ["clean", "--quiet", "-fd"])


def refusal(name: str, old: str, new: str) -> str:
    return (
        f"copier update cannot change {name} from {old!r} to {new!r}: it would replace the"
        f" web layer and drop your edits to it. Your project is unchanged.\n"
        f"To switch, generate a new project (copier copy --data {name}={new} TEMPLATE DIR)"
        f" and move your code across."
    )


def main(answers_file: str, stage: str, *assignments: str) -> int:
    project = Path.cwd()
    previous = scalar_answers(committed(answers_file, project) or "")
    if stage == "before":
        wanted = dict(assignment.partition("=")[::2] for assignment in assignments)
    else:
        answers = project / answers_file
        wanted = scalar_answers(answers.read_text()) if answers.is_file() else {}
    for name in FIXED:
        old, new = previous.get(name), wanted.get(name)
        if old and new and old != new:
            if stage == "after":
                for command in RESTORE_HEAD:
                    subprocess.run(["git", *command], cwd=project, check=True)
            print(refusal(name, old, new), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
