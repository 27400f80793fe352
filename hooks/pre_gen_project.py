"""Cookiecutter hook: refuse to generate over a folder that already has files in it.

`cookiecutter -f` (`--overwrite-if-exists`) renders into an existing folder; over a
project, that would overwrite the user's files. Cookiecutter runs this in the project
folder before it writes anything there, so a non-empty folder stops here untouched.
Updating an existing project is `copier update`'s job.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    project = Path.cwd()
    if any(project.iterdir()):
        print(
            f"{project} already has files: cookiecutter would overwrite them, so nothing"
            f" was changed. To bring that project up to date, run `copier update --trust`"
            f" in it; to make a new one, pick an empty or new folder.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
