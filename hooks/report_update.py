"""Copier migration (after every update, last): tell the user what needs their attention.

Copier leaves conflicts in the files and the index and exits 0 without a word; this
prints one short block: the conflicted files (or that there are none), how to find and
resolve them, and whether the lock needs refreshing. Paths are the project's own, so
the report is the same whether the project is a repository or a folder of one.
Read-only, so running it again is harmless.
"""

from __future__ import annotations

import sys
from pathlib import Path

from project_git import changed_since_head, git, unmerged


def rejected(project: Path) -> list[str]:
    """Hunks `copier update --conflict rej` left beside their files, as `*.rej` files."""
    listed = git(project, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    return sorted(name for name in listed.stdout.split("\0") if name.endswith(".rej"))


def report(conflicts: list[str], rejects: list[str], dependencies_changed: bool) -> str:
    lines: list[str] = []
    if conflicts:
        lines.append(f"Update done: {len(conflicts)} file(s) with conflicts, unmerged in git:")
        lines += [f"  {name}" for name in conflicts]
        lines.append(
            "Find them with `git status` (both modified) or `git diff --name-only"
            " --diff-filter=U`; in each, keep what you want between <<<<<<< before updating"
            " and >>>>>>> after updating, then `git add` it."
        )
    if rejects:
        lines.append(f"Update done: {len(rejects)} change(s) could not be applied:")
        lines += [f"  {name}" for name in rejects]
        lines.append("Apply each .rej file's hunks by hand to the file beside it, then delete it.")
    if not lines:
        lines.append("Update done: no conflicts.")
    if dependencies_changed:
        lines.append("pyproject.toml changed: run `uv lock` and commit uv.lock with the update.")
    lines.append("Review everything with `git diff HEAD`, then commit.")
    return "\n".join(lines)


def main() -> int:
    project = Path.cwd()
    text = report(
        unmerged(project), rejected(project), changed_since_head(project, "pyproject.toml")
    )
    print(text, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
