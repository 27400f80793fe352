"""The seam between the stacks, from both sides.

A generated project names only its own stack: its framework, its server and the toolkit
its framework is built on. In the template, a shared file expresses a stack difference in
one of two declared ways (ARCHITECTURE.md): `is_async` for the data layer, or a
`{% block %}` a framework folder fills; no shared file tests the `framework` answer itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.matrix import ROOT, Cell, axes, default_cell, questions
from tests.render import Renders, rendered_files

FRAMEWORKS = axes()["framework"]
# copier.yml labels each choice "<Framework> (<sync or async>, <Server>)".
LABEL = re.compile(r"(?P<framework>[\w.-]+) \(a?sync, (?P<server>[\w.-]+)\)")
# The toolkit under each framework: the one name its choice label does not give.
TOOLKIT = {"fastapi": "starlette", "flask": "werkzeug"}
# Reading the `framework` answer itself, rather than a value derived from it in copier.yml.
TESTS_FRAMEWORK = re.compile(r"\bframework\s*(==|!=|\bin\b)|\bif\s+(not\s+)?framework\b")


def names_of(framework: str) -> set[str]:
    """The words that name a stack, lowercase: framework, server, toolkit."""
    choices = questions()["framework"]["choices"]
    label = next(label for label, value in choices.items() if value == framework)
    match = LABEL.fullmatch(label)
    assert match, f"copier.yml's label {label!r} no longer says framework and server"
    return {match["framework"].lower(), match["server"].lower(), TOOLKIT[framework]}


def project_texts(project: Path) -> dict[str, str]:
    return {
        path.relative_to(project).as_posix(): path.read_text(errors="replace")
        for path in rendered_files(project)
    }


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_project_names_only_its_own_stack(renders: Renders, framework: str) -> None:
    answers = {**default_cell().data, "framework": framework}
    project = renders.get(Cell(tuple(answers.items())))
    others = set().union(*(names_of(other) for other in FRAMEWORKS if other != framework))
    pattern = re.compile("|".join(sorted(others)), re.IGNORECASE)
    texts = project_texts(project)

    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in texts.items()
        for number, line in enumerate(text.splitlines(), 1)
        if pattern.search(line)
    ]

    assert found == []
    # Not vacuous: the project does use each of its own names.
    everything = "\n".join(texts.values()).lower()
    assert {name for name in names_of(framework) if name not in everything} == set()


def test_each_stack_has_its_own_names() -> None:
    """Each stack has three names, none of them the other's."""
    first, second = (names_of(framework) for framework in FRAMEWORKS[:2])
    assert first.isdisjoint(second)
    assert len(first) == len(second) == 3


def test_shared_files_never_test_the_framework_answer() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "includes").rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TESTS_FRAMEWORK.search(line)
    ]
    assert offenders == []


def test_derived_values_are_computed_once_in_copier_yml() -> None:
    """`is_async` comes from copier.yml; no template file works it out again."""
    assert questions()["is_async"]["when"] is False
    redefined = [
        str(path.relative_to(ROOT))
        for folder in ("includes", *(f"template-{name}" for name in FRAMEWORKS))
        for path in sorted((ROOT / folder).rglob("*.jinja"))
        if path.is_file() and re.search(r"set\s+is_async\b", path.read_text())
    ]
    assert redefined == []
