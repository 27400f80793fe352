"""The template repository's own shape: shared content lives once, in includes/."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.matrix import ROOT, axes

FRAMEWORK_DIRS = [ROOT / f"template-{name}" for name in axes()["framework"]]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def regular_files(folder: Path) -> dict[str, Path]:
    return {
        path.relative_to(folder).as_posix(): path
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    }


def test_every_framework_has_a_folder() -> None:
    assert FRAMEWORK_DIRS
    for folder in FRAMEWORK_DIRS:
        assert folder.is_dir(), f"copier.yml offers {folder.name} but the folder is missing"


def test_no_twin_files_between_framework_folders() -> None:
    """A file both stacks need is one file in includes/, linked or included, never copied."""
    if len(FRAMEWORK_DIRS) < 2:
        pytest.skip("only one framework folder so far")
    first, second = (regular_files(folder) for folder in FRAMEWORK_DIRS[:2])

    twins = [
        name for name in first.keys() & second.keys() if digest(first[name]) == digest(second[name])
    ]

    assert twins == []


def test_links_point_into_includes_and_resolve() -> None:
    for folder in FRAMEWORK_DIRS:
        for path in folder.rglob("*"):
            if not path.is_symlink():
                continue
            target = Path(os.path.realpath(path))
            assert target.is_file(), f"{path} is a broken link"
            assert target.is_relative_to(ROOT / "includes"), f"{path} links outside includes/"
            assert not os.path.isabs(os.readlink(path)), f"{path} must link relatively"


def test_every_include_is_used() -> None:
    """A partial nobody links, extends or includes is dead weight."""
    used: set[Path] = set()
    texts: list[str] = []
    for folder in FRAMEWORK_DIRS:
        for path in folder.rglob("*"):
            if path.is_symlink():
                used.add(Path(os.path.realpath(path)))
            elif path.is_file():
                texts.append(path.read_text())
    for path in (ROOT / "includes").rglob("*"):
        texts.append(path.read_text() if path.is_file() else "")
    corpus = "\n".join(texts)

    unused = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "includes").rglob("*")
        if path.is_file() and path not in used and path.relative_to(ROOT).as_posix() not in corpus
    ]
    assert unused == []
