"""The API contract as a fixed list of requests, played inside one rendered project.

Run by tests/test_parity.py with a project as the working directory and `src` and the
project on PYTHONPATH: `python parity_contract.py <package> <database-url> <output.json>`.
It builds the app with the project's own `tests.support.client_for`, so each stack is
driven through its own test client, and writes what every request answered as JSON.
Written once, played against both stacks: any difference is a parity bug.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MISSING_ID = "00000000-0000-4000-8000-000000000000"
MAX_BODY_SIZE = 1024
# Response headers that are part of the contract (others, like Date, are not).
HEADERS = ("content-type", "location", "allow", "x-request-id")


@dataclass(frozen=True)
class Step:
    """One request; `{name}` in the path is the id of the task created by step `name`."""

    name: str
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str | int] = field(default_factory=dict)


JSON = {"Content-Type": "application/json"}

STEPS = [
    Step("live", "GET", "/health/live", headers={"X-Request-ID": "parity-1"}),
    Step("ready", "GET", "/health/ready"),
    Step("a", "POST", "/tasks", json={"command": "  backup --full  ", "priority": "high"}),
    Step("b", "POST", "/tasks", json={"command": "echo hello"}),
    Step("c", "POST", "/tasks", json={"command": "sleep 1", "priority": "low"}),
    Step("create-missing-command", "POST", "/tasks", json={}),
    Step("create-blank-command", "POST", "/tasks", json={"command": "   "}),
    Step("create-long-command", "POST", "/tasks", json={"command": "x" * 501}),
    Step("create-number-command", "POST", "/tasks", json={"command": 42}),
    Step("create-bad-priority", "POST", "/tasks", json={"command": "ls", "priority": "urgent"}),
    Step("create-extra-field", "POST", "/tasks", json={"command": "ls", "owner": "me"}),
    Step("create-every-error", "POST", "/tasks", json={"command": "", "priority": "x", "y": 1}),
    Step("create-truncated-json", "POST", "/tasks", content=b'{"command": ', headers=JSON),
    Step("create-not-utf8", "POST", "/tasks", content=b"\xff\xfe not utf-8", headers=JSON),
    Step("create-invalid-utf8", "POST", "/tasks", content=b'{"command": "\xe9"}', headers=JSON),
    Step("create-unclosed-array", "POST", "/tasks", content=b"[1, 2", headers=JSON),
    Step("create-null", "POST", "/tasks", content=b"null", headers=JSON),
    Step("create-array", "POST", "/tasks", json=[1]),
    Step("create-string", "POST", "/tasks", json="ls"),
    Step(
        "create-text-body",
        "POST",
        "/tasks",
        content=b"command=ls",
        headers={"Content-Type": "text/plain"},
    ),
    Step("create-empty-body", "POST", "/tasks", content=b"", headers=JSON),
    Step("create-too-large", "POST", "/tasks", json={"command": "x" * (2 * MAX_BODY_SIZE)}),
    Step("get", "GET", "/tasks/{a}"),
    Step("get-missing", "GET", f"/tasks/{MISSING_ID}"),
    Step("get-bad-id", "GET", "/tasks/not-a-uuid"),
    Step("list", "GET", "/tasks"),
    Step("list-page", "GET", "/tasks", params={"limit": 1, "offset": 1}),
    Step("list-filtered", "GET", "/tasks", params={"status": "queued", "priority": "high"}),
    Step("list-limit-zero", "GET", "/tasks", params={"limit": 0}),
    Step("list-limit-too-big", "GET", "/tasks", params={"limit": 101}),
    Step("list-limit-text", "GET", "/tasks", params={"limit": "ten"}),
    Step("list-negative-offset", "GET", "/tasks", params={"offset": -1}),
    Step("list-bad-status", "GET", "/tasks", params={"status": "paused"}),
    Step("list-bad-priority", "GET", "/tasks", params={"priority": "urgent"}),
    Step("list-unknown-filter", "GET", "/tasks", params={"owner": "me"}),
    Step("list-every-error", "GET", "/tasks", params={"limit": "ten", "status": "x"}),
    Step("run", "PATCH", "/tasks/{a}", json={"status": "running"}),
    Step("run-again", "PATCH", "/tasks/{a}", json={"status": "running"}),
    Step("back-to-queued", "PATCH", "/tasks/{a}", json={"status": "queued", "priority": "low"}),
    Step("finish", "PATCH", "/tasks/{a}", json={"status": "done"}),
    Step("restart-done", "PATCH", "/tasks/{a}", json={"status": "running"}),
    Step("fail-at-once", "PATCH", "/tasks/{c}", json={"status": "failed"}),
    Step("reprioritize", "PATCH", "/tasks/{b}", json={"priority": "high"}),
    Step("list-after-changes", "GET", "/tasks", params={"priority": "high"}),
    Step("patch-bad-status", "PATCH", "/tasks/{b}", json={"status": "paused"}),
    Step("patch-bad-priority", "PATCH", "/tasks/{b}", json={"priority": 3}),
    Step("patch-command", "PATCH", "/tasks/{b}", json={"command": "rm -rf /"}),
    Step("patch-bad-id-and-body", "PATCH", "/tasks/not-a-uuid", json={"status": "paused"}),
    Step("patch-missing", "PATCH", f"/tasks/{MISSING_ID}", json={"status": "running"}),
    Step("patch-malformed", "PATCH", "/tasks/{b}", content=b"{", headers=JSON),
    Step("patch-too-large", "PATCH", "/tasks/{b}", json={"priority": "x" * 2048}),
    Step("d", "POST", "/tasks", json={"command": "digest", "payload": {"text": "x"}}),
    Step("cancel", "POST", "/tasks/{d}/cancel"),
    Step("cancel-again", "POST", "/tasks/{d}/cancel"),
    Step("retry-cancelled", "POST", "/tasks/{d}/retry"),
    Step("retry-failed", "POST", "/tasks/{c}/retry"),
    Step("cancel-missing", "POST", f"/tasks/{MISSING_ID}/cancel"),
    Step("retry-bad-id", "POST", "/tasks/not-a-uuid/retry"),
    Step("list-cancelled", "GET", "/tasks", params={"status": "cancelled"}),
    Step("list-min-attempts", "GET", "/tasks", params={"min_attempts": 1}),
    Step("list-min-attempts-huge", "GET", "/tasks", params={"min_attempts": 2**31}),
    Step("create-bad-payload", "POST", "/tasks", json={"command": "digest", "payload": [1]}),
    Step("e", "POST", "/tasks", json={"command": "digest"}, headers={"Idempotency-Key": "k-1"}),
    Step(
        "replay", "POST", "/tasks", json={"command": "digest"}, headers={"Idempotency-Key": "k-1"}
    ),
    Step(
        "reuse-key",
        "POST",
        "/tasks",
        json={"command": "digest --other"},
        headers={"Idempotency-Key": "k-1"},
    ),
    Step(
        "bad-key", "POST", "/tasks", json={"command": "digest"}, headers={"Idempotency-Key": "a b"}
    ),
    Step("delete", "DELETE", "/tasks/{c}"),
    Step("delete-again", "DELETE", "/tasks/{c}"),
    Step("delete-bad-id", "DELETE", "/tasks/not-a-uuid"),
    Step("get-deleted", "GET", "/tasks/{c}"),
    Step("put-collection", "PUT", "/tasks", json={"command": "ls"}),
    Step("delete-collection", "DELETE", "/tasks"),
    Step("options-collection", "OPTIONS", "/tasks"),
    Step("post-item", "POST", "/tasks/{a}", json={"command": "ls"}),
    Step("unknown-route", "GET", "/nowhere"),
    Step("trailing-slash", "GET", "/tasks/"),
    Step("unsafe-request-id", "GET", "/health/live", headers={"X-Request-ID": "bad id\t!"}),
]

# Played against an app whose database cannot be reached.
OUTAGE_STEPS = [
    Step("outage-ready", "GET", "/health/ready"),
    Step("outage-list", "GET", "/tasks"),
    Step("outage-create", "POST", "/tasks", json={"command": "ls"}),
    Step("outage-get", "GET", f"/tasks/{MISSING_ID}"),
    Step("outage-patch", "PATCH", f"/tasks/{MISSING_ID}", json={"status": "running"}),
    Step("outage-delete", "DELETE", f"/tasks/{MISSING_ID}"),
    Step("outage-live", "GET", "/health/live"),
]


def play(client: Any, steps: list[Step]) -> list[dict[str, Any]]:
    """Send each step and record what came back."""
    created: dict[str, str] = {}
    results = []
    for step in steps:
        options: dict[str, Any] = {"headers": step.headers, "params": step.params}
        if step.json is not None:
            options["json"] = step.json
        elif step.content is not None:
            options["content"] = step.content
        response = client.request(step.method, step.path.format(**created), **options)
        body = response.content
        if step.method == "POST" and response.status_code == 201:
            created[step.name] = response.json()["id"]
        headers = {name: response.headers[name] for name in HEADERS if name in response.headers}
        if headers.get("x-request-id") not in (None, step.headers.get("X-Request-ID")):
            generated = re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])
            headers["x-request-id"] = "<generated>" if generated else headers["x-request-id"]
        results.append(
            {
                "step": step.name,
                "status": response.status_code,
                "headers": headers,
                "body": json.loads(body) if body else None,
            }
        )
    return results


def unreachable(database_url: str) -> str:
    """The same kind of database, somewhere it cannot be reached."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        url = url.set(database="/nonexistent-dir/parity.db")
    else:
        url = url.set(host="127.0.0.1", port=1)
    return url.render_as_string(hide_password=False)


def main(package: str, database_url: str, output: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from pydantic import SecretStr

    settings_class = importlib.import_module(f"{package}.config").Settings
    client_for = importlib.import_module("tests.support").client_for
    settings = settings_class(
        _env_file=None,
        environment="test",
        database_url=SecretStr(database_url),
        log_json=False,
        log_level="ERROR",
        max_body_size=MAX_BODY_SIZE,
    )
    alembic = Config("alembic.ini")
    alembic.attributes["settings"] = settings
    alembic.attributes["configure_logger"] = False
    command.upgrade(alembic, "head")
    with client_for(settings) as client:
        results = play(client, STEPS)
        openapi = client.get("/openapi.json").json()
    outage = settings.model_copy(
        update={"database_url": SecretStr(unreachable(database_url)), "database_pool_timeout": 1.0}
    )
    with client_for(outage) as client:
        results += play(client, OUTAGE_STEPS)
    output.write_text(json.dumps({"results": results, "openapi": openapi}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
