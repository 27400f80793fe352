"""The hostile-input corpus: raw requests and the status each stack must answer.

Data only; tests/test_hostile.py plays every case over a bare socket against both served
stacks on each database. To add a case, append a Case: its bytes go out exactly as
written. `{task}` in a request becomes the id of a task created for the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BODY_SIZE = 131072  # the servers of the run are started with this MAX_BODY_SIZE
TASK = "{task}"
ITEM_METHODS = "GET, HEAD, PATCH, DELETE"  # what /tasks/{id} serves


@dataclass(frozen=True)
class Case:
    """One raw request and the answer every stack owes it."""

    name: str
    request: bytes
    status: int
    # "error": {"detail": str}; "invalid": a 422 {"detail": [...]}; "task", "page": success
    # bodies; "empty": no body; "server": answered by the HTTP server before the app (the
    # README says which), so only the status and the connection are checked.
    shape: str = "error"
    # The Allow header a 405 must carry: exactly the methods the path serves.
    allow: str | None = None


def request(
    method: str,
    target: str,
    body: bytes = b"",
    content_type: str | None = "application/json",
    headers: tuple[str, ...] = (),
) -> bytes:
    """An HTTP/1.1 request with a Content-Length (unless a header says how the body ends)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: hostile"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if body and not any(header.lower().startswith("transfer-encoding") for header in headers):
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def post(body: bytes, content_type: str | None = "application/json") -> bytes:
    return request("POST", "/tasks", body, content_type)


def nested(depth: int) -> bytes:
    return b'{"command": ' + b"[" * depth + b"]" * depth + b"}"


def chunked(framing: bytes) -> bytes:
    head = request("POST", "/tasks", headers=("Transfer-Encoding: chunked",))
    return head + framing


CASES = [
    # Query edge values: bounds hold where the databases' integers end.
    Case("offset-2^63", request("GET", "/tasks?offset=9223372036854775808"), 422, "invalid"),
    Case("offset-2^64", request("GET", "/tasks?offset=18446744073709551616"), 422, "invalid"),
    Case("offset-max", request("GET", "/tasks?offset=9223372036854775807"), 200, "page"),
    Case("limit-huge", request("GET", "/tasks?limit=99999999999999999999999"), 422, "invalid"),
    Case("offset-repeated", request("GET", "/tasks?offset=-1&offset=0"), 200, "page"),
    Case("status-surrogate-bytes", request("GET", "/tasks?status=%ED%A0%80"), 422, "invalid"),
    # Strings no response could echo back: lone surrogates, as escapes or raw CESU-8.
    Case("surrogate-value", post(b'{"command": "\\ud800"}'), 422, "invalid"),
    Case("surrogate-low", post(b'{"command": "a\\udc00b"}'), 422, "invalid"),
    Case("surrogate-key", post(b'{"\\ud800": "ls"}'), 422, "invalid"),
    Case("surrogate-cesu8", post(b'{"command": "\xed\xa0\x80"}'), 422, "invalid"),
    Case("surrogate-pair-ok", post(b'{"command": "\\ud83d\\ude00"}'), 201, "task"),
    Case("escaped-backslash-u", post(b'{"command": "\\\\ud800"}'), 201, "task"),
    # Numbers JSON does not have.
    Case("nan", post(b'{"command": NaN}'), 422, "invalid"),
    Case("infinity", post(b'{"command": "ls", "priority": -Infinity}'), 422, "invalid"),
    Case("overflow-float", post(b'{"command": 1e309}'), 422, "invalid"),
    Case("huge-integer", post(b'{"command": ' + b"9" * 4301 + b"}"), 422, "invalid"),
    Case("long-integer-ok", post(b'{"command": ' + b"9" * 400 + b"}"), 422, "invalid"),
    # A key named twice: refused, not the last value kept (a proxy may have kept the first).
    Case("duplicate-key", post(b'{"command": "ls", "command": "rm -rf /"}'), 422, "invalid"),
    Case(
        "duplicate-in-payload",
        post(b'{"command": "ls", "payload": {"a": 1, "a": 2}}'),
        422,
        "invalid",
    ),
    Case("duplicate-escaped-key", post(b'{"command": "ls", "\\u0063ommand": "x"}'), 422, "invalid"),
    # Depth: refused as malformed past 64 levels, echoed back below.
    Case("depth-63", post(nested(63)), 422, "invalid"),
    Case("depth-65", post(nested(65)), 422, "invalid"),
    Case("depth-1000", post(nested(1000)), 422, "invalid"),
    # Encodings and content types.
    Case("latin1-json", post(b'{"command": "caf\xe9"}'), 422, "invalid"),
    Case("utf8-bom", post(b'\xef\xbb\xbf{"command": "ls"}'), 422, "invalid"),
    Case("utf16-json", post('{"command": "ls"}'.encode("utf-16")), 422, "invalid"),
    Case("not-utf8-text", post(b"\xff\xfe\xfd", "text/plain"), 422, "invalid"),
    Case("not-utf8-octets", post(b"\xff\xfe\xfd", "application/octet-stream"), 422, "invalid"),
    Case("not-utf8-untyped", post(b"\xff\xfe\xfd", None), 422, "invalid"),
    Case("json-untyped", post(b'{"command": "ls"}', None), 422, "invalid"),
    Case("json-empty-type", post(b'{"command": "ls"}', ""), 422, "invalid"),
    Case("json-text-plus-json", post(b'{"command": "ls"}', "text/x+json"), 422, "invalid"),
    Case("json-vendor-type", post(b'{"command": "ls"}', "application/x+json"), 201, "task"),
    # The command's published limits, NUL included (PostgreSQL cannot store it).
    Case("command-nul", post(b'{"command": "ls\\u0000"}'), 422, "invalid"),
    Case("command-cr-only", post(b'{"command": "\\r"}'), 422, "invalid"),
    Case(
        "command-padded-505",
        post(json.dumps({"command": "x" * 500 + "  "}).encode()),
        422,
        "invalid",
    ),
    Case("command-padded-ok", post(json.dumps({"command": " " + "x" * 499}).encode()), 201, "task"),
    # Many errors: a 422 reports a bounded number of them.
    Case(
        "unknown-keys",
        post(json.dumps({f"k{n}": 0 for n in range(150)} | {"command": "ls"}).encode()),
        422,
        "invalid",
    ),
    # Size: 413 from every route, the connection closed with notice.
    Case("too-large", post(b'{"command": "' + b"x" * MAX_BODY_SIZE + b'"}'), 413),
    Case("too-large-on-get", request("GET", "/tasks", b"x" * (MAX_BODY_SIZE + 1)), 413),
    Case(
        "too-large-expect-continue",
        request(
            "POST",
            "/tasks",
            headers=(f"Content-Length: {10 * MAX_BODY_SIZE}", "Expect: 100-continue"),
        ),
        413,
    ),
    Case("unread-body-on-404", request("GET", "/nowhere", b"x" * (MAX_BODY_SIZE - 1)), 404),
    # Methods and paths.
    Case("head-task-list", request("HEAD", "/tasks"), 200, "empty"),
    Case("head-task", request("HEAD", f"/tasks/{TASK}"), 200, "empty"),
    Case("head-openapi", request("HEAD", "/openapi.json"), 200, "empty"),
    Case("double-slash", request("GET", "//tasks"), 404),
    Case("double-slash-inside", request("GET", f"/tasks//{TASK}"), 404),
    Case("trailing-slash", request("GET", "/tasks/"), 404),
    Case("head-health", request("HEAD", "/health/live"), 200, "empty"),
    Case("post-asset", request("POST", "/docs-assets/swagger-ui.css"), 405, allow="GET, HEAD"),
    Case("put-task", request("PUT", f"/tasks/{TASK}", b"{}"), 405, allow=ITEM_METHODS),
    # The methods Schemathesis tries where no operation is (tests/schemathesis.toml).
    Case("options-tasks", request("OPTIONS", "/tasks"), 405, allow="GET, HEAD, POST"),
    Case("trace-tasks", request("TRACE", "/tasks"), 405, allow="GET, HEAD, POST"),
    Case("options-task", request("OPTIONS", f"/tasks/{TASK}"), 405, allow=ITEM_METHODS),
    Case("post-task", request("POST", f"/tasks/{TASK}", b"{}"), 405, allow=ITEM_METHODS),
    Case("delete-health", request("DELETE", "/health/ready"), 405, allow="GET, HEAD"),
    Case("post-openapi", request("POST", "/openapi.json", b"{}"), 405, allow="GET, HEAD"),
    Case("bad-uuid", request("GET", "/tasks/%ED%A0%80"), 422, "invalid"),
    Case(
        "patch-nul-status",
        request("PATCH", f"/tasks/{TASK}", b'{"status": "\\u0000"}'),
        422,
        "invalid",
    ),
    # Framing the app sees (Flask) or the server refuses first (Uvicorn): never a 500 or a hang.
    Case("chunk-size-not-hex", chunked(b"zz\r\nabc\r\n0\r\n\r\n"), 400, "server"),
    # Not here: a chunk size of 20 hex digits. Uvicorn refuses it (400) at once; Gunicorn
    # waits for the chunk's bytes until the body read deadline (10 s, as long as this
    # corpus waits for any answer), then 400: tests/test_faults.py plays it.
    Case("chunk-bad-trailer", chunked(b"2\r\n{}\r\n0\r\nbad trailer\r\n\r\n"), 400, "server"),
    Case("chunked-ok", chunked(b'11\r\n{"command": "ls"}\r\n0\r\n\r\n'), 201, "task"),
]
