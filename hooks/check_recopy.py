"""Copier task (copy and recopy): guard a recopy over a project, and say what it replaced.

`copier recopy` is a copy over the existing project: no migrations run, so the update
guard never sees it. When the folder already holds a committed project (its answers
file is at HEAD), this task:
- refuses a framework switch, and undoes exactly the files the recopy wrote (rendered
  again to list them), restoring them from HEAD; other files, and any uncommitted work
  the recopy did not touch, stay as they are;
- otherwise lists the files that now differ from the last commit: a recopy replaces
  the user's edits to template files with the template's version (Copier asked first,
  or was told `--overwrite`), and git still has them.
A plain copy into a new folder has no answers at HEAD, and this does nothing.

Usage: check_recopy.py ANSWERS_FILE TEMPLATE_DIR TEMPLATE_COMMIT
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from project_git import committed, committed_stack, git, scalar_answers


def rendered_files(answers: Path, template: str, commit: str) -> list[str]:
    """The files a copy with these answers writes, relative to the project."""
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch) / "answers.yml"
        data.write_text(
            "".join(f"{line}\n" for line in answers.read_text().splitlines() if line[:1] != "_")
        )
        output = Path(scratch) / "out"
        command = [sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--trust"]
        command += ["--skip-tasks", "--data-file", str(data)]
        command += ["--vcs-ref", commit] if commit and commit != "None" else []
        subprocess.run([*command, template, str(output)], capture_output=True, check=True)
        return sorted(
            path.relative_to(output).as_posix() for path in output.rglob("*") if path.is_file()
        )


def undo(project: Path, files: list[str]) -> None:
    """Give back HEAD's version of each file; remove the ones HEAD does not have."""
    for name in files:
        if committed(name, project) is not None:
            git(project, "restore", "--source=HEAD", "--staged", "--worktree", "--", name)
        else:
            (project / name).unlink(missing_ok=True)


def differing(project: Path) -> list[str]:
    """Files of the project that differ from HEAD, or are new and not ignored."""
    changed = git(project, "diff", "--name-only", "--relative", "-z", "HEAD", "--", ".").stdout
    new = git(project, "ls-files", "--others", "--exclude-standard", "-z", "--", ".").stdout
    return sorted({name for name in (changed + new).split("\0") if name})


def main(answers_file: str, template: str, commit: str) -> int:
    project = Path.cwd()
    previous_text = committed(answers_file, project)
    if previous_text is None:
        return 0
    answers = project / answers_file
    new = scalar_answers(answers.read_text()).get("framework")
    old = committed_stack(project) or scalar_answers(previous_text).get("framework")
    if old and new and old != new:
        undo(project, rendered_files(answers, template, commit))
        print(
            f"copier recopy cannot change framework from {old!r} to {new!r}: the files it"
            f" wrote are back as committed.\nTo switch, generate a new project (copier copy"
            f" --data framework={new} TEMPLATE DIR) and move your code across.",
            file=sys.stderr,
        )
        return 1
    replaced = differing(project)
    if replaced:
        print("Recopy done: these files now differ from your last commit:", file=sys.stderr)
        print("".join(f"  {name}\n" for name in replaced), end="", file=sys.stderr)
        print(
            "`git diff HEAD` shows what the template replaced; `git restore -p FILE` takes"
            " your lines back, `git restore .` undoes the recopy.",
            file=sys.stderr,
        )
    else:
        print("Recopy done: nothing differs from your last commit.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
