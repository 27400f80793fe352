"""The choices of copier.yml's questions, for hooks that check answers outside Copier.

copier.yml stays the one place the choices are written; Copier and cookiecutter both
bring PyYAML, so every hook can read them.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def load_choices(template: Path) -> dict[str, list[str]]:
    """Question name -> its allowed values, in copier.yml's order."""
    config = yaml.safe_load((template / "copier.yml").read_text())
    choices: dict[str, list[str]] = {}
    for name, question in config.items():
        if isinstance(question, dict) and isinstance(question.get("choices"), dict):
            choices[name] = [str(value) for value in question["choices"].values()]
    return choices


def choice_error(name: str, value: object, allowed: list[str]) -> str:
    """Copier's own wording for a refused choice, or an empty string if `value` is allowed."""
    if str(value) in allowed:
        return ""
    return f"Invalid choice for '{name}': {str(value)!r} is not in {allowed!r}"
