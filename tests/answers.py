"""Bad answers, one table for every entry point that must refuse them with a clear line.

Each is (question, answer, what the refusal says): the in-process render, the Copier
command line and cookiecutter all play this table.
"""

from __future__ import annotations

from typing import NamedTuple


class BadAnswer(NamedTuple):
    question: str
    answer: str
    message: str
    id: str


BAD_ANSWERS = [
    BadAnswer("project_name", "", "project_name must start with a letter", "name-empty"),
    BadAnswer("project_name", "9 lives", "project_name must start with a letter", "name-digit"),
    BadAnswer("project_slug", "Bad Slug", "project_slug must be lowercase", "slug"),
    BadAnswer("project_slug", "double--dash", "project_slug must be lowercase", "slug-dashes"),
    BadAnswer("package_name", "my-package", "package_name must be a lowercase", "package"),
    BadAnswer("package_name", "import", 'package_name "import" would shadow', "keyword"),
    BadAnswer("package_name", "fastapi", 'package_name "fastapi" would shadow', "library"),
    BadAnswer("author_email", "jane", "author_email must be an ASCII email address", "email"),
    # hatchling refuses a non-ASCII address when it builds the package
    BadAnswer("author_email", "zoë@example.com", "author_email must be an ASCII", "email-utf8"),
    BadAnswer("author_name", "Jane\tDoe", "author_name must be a non-empty single line", "tab"),
    BadAnswer("description", "two\nlines", "description must be a single line", "lines"),
    BadAnswer("database", "oracle", "Invalid choice for 'database'", "database"),
    BadAnswer("framework", "django", "Invalid choice for 'framework'", "framework"),
    BadAnswer("ci", "jenkins", "Invalid choice for 'ci'", "ci"),
]
