"""Hostile input over raw sockets: each served stack answers every case of the corpus alike.

Both stacks are rendered for each database, installed from their own locks and served by
their production servers (`python -m my_service`) once per run; every case of
tests/hostile_corpus.py is played against both. For each: the documented status, a JSON
body of the documented shape, a connection still usable or closed with notice, and the
same answer from both stacks. The tests of one database share the parity tests' xdist
group, so each stack is rendered and installed once per database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.databases import require_server
from tests.hostile_corpus import CASES, MAX_BODY_SIZE, TASK, Case
from tests.raw_http import Exchange, exchange, first_reads
from tests.render import Renders
from tests.served import Server, Stacks
from tests.test_parity import DATABASES, FRAMEWORKS, group

pytestmark = pytest.mark.slow

TASK_KEYS = {
    *("id", "command", "priority", "status", "created_at", "updated_at", "payload"),
    *("attempts", "run_after", "lease_expires_at", "result", "error"),
}
PAGE_KEYS = {"items", "total", "limit", "offset"}
MAX_REPORTED_ERRORS = 50


@pytest.fixture(scope="session")
def stacks(renders: Renders) -> Iterator[Stacks]:
    with ExitStack() as exits:
        yield Stacks(renders, exits, "hostile", {"MAX_BODY_SIZE": str(MAX_BODY_SIZE)})


def play(server: Server, task: str, case: Case) -> Exchange:
    return exchange(*server.address, case.request.replace(TASK.encode(), task.encode()))


def refuse_constant(token: str) -> Any:
    raise AssertionError(f"{token} is not JSON")


def check_shape(case: Case, body: bytes) -> Any:
    """The body parsed, after checking it is JSON of the case's documented shape."""
    if case.shape in ("empty", "server"):
        assert case.shape == "server" or body == b"", body[:200]
        return None
    # Strict: bytes that are not UTF-8 (an encoded surrogate) or a bare NaN fail here.
    document = json.loads(body.decode("utf-8"), parse_constant=refuse_constant)
    if case.shape == "error":
        assert set(document) == {"detail"}, document
        assert isinstance(document["detail"], str), document
    elif case.shape == "invalid":
        errors = document["detail"]
        assert set(document) == {"detail"}
        assert 0 < len(errors) <= MAX_REPORTED_ERRORS
        for error in errors:
            assert {"type", "loc", "msg"} <= set(error), error
            assert error["loc"][0] in {"body", "query", "path"}, error
    else:
        assert set(document) == (TASK_KEYS if case.shape == "task" else PAGE_KEYS), document
    return document


def comparable(case: Case, document: Any) -> Any:
    # A created task's id and timestamps differ between any two runs, not only two stacks.
    if case.shape == "task":
        return {key: document[key] for key in ("command", "priority", "status")}
    if case.shape == "page":
        return {**document, "items": [item["command"] for item in document["items"]]}
    return document


@pytest.mark.parametrize(
    ("database", "case"),
    [
        pytest.param(database, case, id=f"{database}-{case.name}", marks=group(database))
        for database in DATABASES
        for case in CASES
    ],
)
def test_hostile_request_gets_its_documented_answer(
    stacks: Stacks, database: str, case: Case
) -> None:
    require_server(database)
    answers = {}
    for framework in FRAMEWORKS:
        server, task = stacks.get(framework, database)
        played = play(server, task, case)
        reply = played.reply
        assert reply is not None, f"{framework}: closed without answering"
        assert reply.status == case.status, f"{framework}: {reply.status} {reply.body[:300]!r}"
        if case.shape not in ("empty", "server"):
            assert reply.headers.get("content-type") == "application/json", framework
        if case.allow is not None:
            assert reply.headers.get("allow") == case.allow, framework
        if case.status == 413:  # a client told to go on (100 Continue) sends what is refused
            assert reply.interim == [], f"{framework}: {reply.interim} before the 413"
        document = check_shape(case, reply.body)
        # Usable for the next request, or closed after saying so.
        assert played.still_usable or (played.announced_close and played.closed), (
            f"{framework}: connection left unusable without Connection: close "
            f"(closed={played.closed}, announced={played.announced_close})"
        )
        answers[framework] = comparable(case, document)
    assert answers["fastapi"] == answers["flask"]


@pytest.mark.parametrize(
    "database", [pytest.param(database, marks=group(database)) for database in DATABASES]
)
def test_each_response_is_written_in_one_piece(stacks: Stacks, database: str) -> None:
    """Head and body in one write (one system call, one TCP segment), not two: a single
    read on the client's side takes the whole answer, every time."""
    require_server(database)
    for framework in FRAMEWORKS:
        server, task = stacks.get(framework, database)
        requests = [
            f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            for method, path in [
                ("GET", "/health/live"),
                ("HEAD", "/health/live"),
                ("GET", f"/tasks/{task}"),
                ("GET", "/tasks?limit=oops"),  # a 422
                ("GET", "/nowhere"),  # a 404
            ]
        ] * 5
        for request, read in zip(requests, first_reads(*server.address, requests), strict=True):
            head, blank, body = read.partition(b"\r\n\r\n")
            assert blank, f"{framework}: {request!r} got a piece of its head: {read!r}"
            headers = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:])
            length = 0 if request.startswith(b"HEAD") else int(headers[b"content-length"])
            assert len(body) == length, f"{framework}: {request!r} got {read!r}"


def test_corpus_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
