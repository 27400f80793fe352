"""Copier migration (every update): refuse answers that an update cannot apply.

Switching `framework` would replace the whole web layer: Copier would delete every file
of the old stack, edited or not. So, before the update touches anything:
- the committed answers must match the project itself: an answers file whose
  `framework` was edited by hand would make Copier diff the project against the wrong
  stack, so the stack is read from the project's dependencies and compared;
- a `--data` answer must be one of the question's choices (one clear line here, instead
  of Copier's traceback later) and must not change `framework`.
After the update, a framework change answered at the prompt is undone: the project's
folder was clean when the update started (Copier insists), so restoring it to HEAD gives
back exactly the user's project. Only that folder: in a monorepo, work beside it stays.

Usage: check_update.py ANSWERS_FILE before|after TEMPLATE_DIR DATA_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from choices import choice_error, load_choices
from project_git import committed, committed_stack, restore_head, scalar_answers

FIXED = ("framework",)


def refusal(name: str, old: str, new: str) -> str:
    return (
        f"copier update cannot change {name} from {old!r} to {new!r}: it would replace the"
        f" web layer and drop your edits to it. Your project is unchanged.\n"
        f"To switch, generate a new project (copier copy --data {name}={new} TEMPLATE DIR)"
        f" and move your code across."
    )


def mismatch(answers_file: str, recorded: str, actual: str) -> str:
    return (
        f"{answers_file} says framework: {recorded}, but this project is built on {actual}"
        f" (see pyproject.toml). Nothing was changed. Put back `framework: {actual}` in"
        f" {answers_file}, commit, and run the update again."
    )


def before(answers_file: str, project: Path, template: Path, data: dict[str, object]) -> str:
    """The reason to stop before anything is touched, or an empty string."""
    previous = scalar_answers(committed(answers_file, project) or "")
    actual = committed_stack(project)
    if actual and previous.get("framework") and previous["framework"] != actual:
        return mismatch(answers_file, previous["framework"], actual)
    choices = load_choices(template)
    for name, value in data.items():
        if name in choices and (error := choice_error(name, value, choices[name])):
            return error
    for name in FIXED:
        old, new = previous.get(name), data.get(name)
        if old and isinstance(new, str) and new and old != new:
            return refusal(name, old, new)
    return ""


def after(answers_file: str, project: Path) -> str:
    """The reason the update was undone, or an empty string."""
    previous = scalar_answers(committed(answers_file, project) or "")
    answers = project / answers_file
    wanted = scalar_answers(answers.read_text()) if answers.is_file() else {}
    for name in FIXED:
        old, new = previous.get(name), wanted.get(name)
        if old and new and old != new:
            restore_head(project)
            return refusal(name, old, new)
    return ""


def main(answers_file: str, stage: str, template: str = "", data: str = "{}") -> int:
    project = Path.cwd()
    if stage == "before":
        reason = before(answers_file, project, Path(template), json.loads(data or "{}"))
    else:
        reason = after(answers_file, project)
    if reason:
        print(reason, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
