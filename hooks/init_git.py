"""Copier task: give a freshly copied project its own git repository.

`copier update` works only inside a git repository, so a new project gets one. The
task is idempotent and never fails the copy: no git, or a destination that is already
inside a work tree (a monorepo), leaves things as they are.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def inside_work_tree(path: Path) -> bool:
    result = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "true"


def main() -> None:
    project = Path.cwd()
    if shutil.which("git") is None or inside_work_tree(project):
        return
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main"], cwd=project, check=False)


if __name__ == "__main__":
    main()
