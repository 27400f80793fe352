"""Write the lock every generated project ships: one per framework and database, in locks/.

A project's lock depends only on its framework and database (the other answers change no
dependency), so the template carries six locks and `copier copy` stays offline. Each is
made by rendering that cell, running `uv lock` in it, and storing the result with the
project's name turned back into `{{ project_slug }}` (uv finds a lock valid whatever the
position of the project's own entry, so the name may change freely).

    uv run python -m tools.relock            # after changing a generated dependency
    uv run python -m tools.relock --upgrade  # move every pin to its newest allowed version

Without --upgrade, the current pins are kept wherever pyproject.toml still allows them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.matrix import ROOT, axes, default_cell
from tests.render import project_env, render

LOCKS = ROOT / "locks"
SLUG = "lock-template-project"
NAME_LINE = f'name = "{SLUG}"'
TEMPLATE_NAME_LINE = 'name = "{{ project_slug }}"'


def lock_path(framework: str, database: str) -> Path:
    return LOCKS / f"{framework}-{database}.uv.lock.jinja"


def relock(framework: str, database: str, *, upgrade: bool, scratch: Path) -> Path:
    """Render one framework/database cell, lock it with uv, store the lock as a template."""
    target = lock_path(framework, database)
    if not target.exists():
        target.write_text("")  # the render includes it; an empty lock makes uv start afresh
    data = {**default_cell().data, "framework": framework, "database": database}
    project = render(scratch / f"{framework}-{database}", {**data, "project_slug": SLUG})
    lock = project / "uv.lock"
    if not lock.read_text().strip():
        lock.unlink()
    command = ["uv", "lock", "--quiet", *(["--upgrade"] if upgrade else [])]
    subprocess.run(command, cwd=project, env=project_env(), check=True)
    text = lock.read_text()
    if text.count(NAME_LINE) != 1:
        raise SystemExit(f"{target.name}: expected the project's entry once in uv.lock")
    target.write_text(text.replace(NAME_LINE, TEMPLATE_NAME_LINE))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="newest allowed versions")
    args = parser.parse_args(argv)
    LOCKS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for framework in axes()["framework"]:
            for database in axes()["database"]:
                path = relock(framework, database, upgrade=args.upgrade, scratch=Path(scratch))
                print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
