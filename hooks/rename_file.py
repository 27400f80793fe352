"""Copier migration (after update): follow a file the template renamed, keeping user edits.

A 3-way merge cannot follow a rename: Copier writes the new file fresh from the template
and deletes the old one, edits included. This puts the user's edits back by merging
three versions of the file: the user's (HEAD:OLD), the previous template's (rendered
again from the recorded `_commit`), and the new template's (NEW as Copier just wrote it).
Overlapping changes get Copier's own conflict markers, and NEW is recorded as unmerged
in the index, like the conflicts Copier leaves, so `git status` shows it. Paths are the
project's own (it may be a folder of a larger repository). Idempotent: once NEW is
committed or marked unmerged, or if the user never had OLD, it does nothing.

Usage: rename_file.py ANSWERS_FILE OLD NEW
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from project_git import committed, mark_unmerged, scalar_answers, unmerged


def previous_render(answers_text: str, relative: str, work: Path) -> str | None:
    """OLD as the previous template version rendered it, with the previous answers."""
    answers = scalar_answers(answers_text)
    data = work / "answers.yml"
    data.write_text("".join(f"{line}\n" for line in answers_text.splitlines() if line[:1] != "_"))
    command = [sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--trust"]
    command += ["--skip-tasks", "--vcs-ref", answers.get("_commit", "HEAD")]
    command += ["--data-file", str(data), answers["_src_path"], str(work / "old")]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    rendered = work / "old" / relative
    return rendered.read_text() if result.returncode == 0 and rendered.is_file() else None


def merge(ours: str, base: str, theirs: str, work: Path) -> tuple[str, bool]:
    """git merge-file with Copier's labels; the merged text and whether it conflicts."""
    paths = []
    for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
        (work / name).write_text(text)
        paths.append(str(work / name))
    labels = ["-L", "before updating", "-L", "last update", "-L", "after updating"]
    result = subprocess.run(
        ["git", "merge-file", "-p", *labels, *paths], capture_output=True, text=True, check=False
    )
    if result.returncode < 0 or result.returncode > 127:
        raise RuntimeError(result.stderr)
    return result.stdout, result.returncode > 0


def main(answers_file: str, old: str, new: str) -> int:
    project = Path.cwd()
    ours = committed(old, project)
    answers_text = committed(answers_file, project)
    if ours is None or answers_text is None or committed(new, project) is not None:
        return 0
    if new in unmerged(project):
        return 0
    target = project / new
    theirs = target.read_text() if target.is_file() else ours
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        base = previous_render(answers_text, old, work)
        if base is None:
            print(f"warning: cannot render the previous {old}; kept yours", file=sys.stderr)
            base = theirs
        merged, conflicted = merge(ours, base, theirs, work)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(merged)
    (project / old).unlink(missing_ok=True)
    if conflicted:
        mark_unmerged(project, new, {1: base, 2: ours, 3: theirs})
        print(f"{new} (renamed from {old}) has conflicts: both sides changed it.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
