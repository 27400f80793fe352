"""The option matrix, read from copier.yml so that a new choice is covered untouched."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = ROOT / "copier.yml"


@cache
def questions() -> dict[str, dict[str, Any]]:
    """Every question of copier.yml (keys without a leading underscore)."""
    loaded: dict[str, Any] = yaml.safe_load(COPIER_YML.read_text())
    return {key: value for key, value in loaded.items() if not key.startswith("_")}


def choice_values(question: dict[str, Any]) -> list[str]:
    """The values a question accepts, whether its choices are a list or a label mapping."""
    choices = question["choices"]
    values = choices.values() if isinstance(choices, dict) else choices
    return [str(value) for value in values]


def axes() -> dict[str, list[str]]:
    """Each asked question with a fixed set of choices is an axis of the matrix."""
    return {
        name: choice_values(question)
        for name, question in questions().items()
        if "choices" in question and question.get("when", True) is not False
    }


@dataclass(frozen=True)
class Cell:
    """One combination of answers."""

    answers: tuple[tuple[str, str], ...]

    @property
    def data(self) -> dict[str, str]:
        return dict(self.answers)

    @property
    def id(self) -> str:
        """Readable test id, e.g. framework=fastapi-database=sqlite-ci=github."""
        return "-".join(f"{key}={value}" for key, value in self.answers)

    def __getitem__(self, key: str) -> str:
        return self.data[key]


def cells() -> list[Cell]:
    """Every combination of every axis."""
    names = list(axes())
    return [
        Cell(tuple(zip(names, values, strict=True)))
        for values in itertools.product(*axes().values())
    ]


def default_cell() -> Cell:
    """The combination `copier copy --defaults` produces."""
    return Cell(tuple((name, str(questions()[name]["default"])) for name in axes()))


def group_id(cell: Cell) -> str:
    """Cells that differ only in `ci` render the same project apart from the CI files."""
    return "-".join(f"{key}={value}" for key, value in cell.answers if key != "ci")


def group_of(cell: Cell) -> list[Cell]:
    """The cells of `cell`'s group, in matrix order; the first one stands for the group."""
    return [other for other in cells() if group_id(other) == group_id(cell)]
