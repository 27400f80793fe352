"""Stop a server under load and account for every request: the figures of a graceful stop."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

_BODY = json.dumps({"command": "drain " + "x" * 200, "priority": "high"}).encode()
_REFUSED = "refused"  # nothing listens any more: the server never took the request
_RESET = "reset"  # closed with no response at all (possibly still in the accept queue)
_TRUNCATED = "truncated"  # a response began and was cut off: the one unforgivable outcome


@dataclass
class DrainReport:
    in_flight: list[str]  # outcome of each request half-sent before the stop began
    flood: Counter[str] = field(default_factory=Counter)  # outcome -> count
    flood_after_stop: int = 0  # flood requests answered 201 after the stop began
    stop_seconds: float = 0.0

    @property
    def acknowledged(self) -> int:
        return self.in_flight.count("201") + self.flood["201"]

    def summary(self) -> str:
        flood = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.flood.items()))
        return (
            f"stop took {self.stop_seconds:.1f} s; in flight {len(self.in_flight)}: "
            f"{dict(Counter(self.in_flight))}; flood: {flood}; "
            f"{self.flood_after_stop} flood requests answered 201 after SIGTERM"
        )


def _read(sock: socket.socket) -> str:
    """The status of the response on `sock`, or how it failed."""
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
    except (http.client.RemoteDisconnected, ConnectionError):
        return _RESET
    try:
        response.read()
    except (http.client.IncompleteRead, ConnectionError):
        return _TRUNCATED
    return str(response.status)


def _head(host: str, port: int) -> bytes:
    return (
        f"POST /tasks HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(_BODY)}\r\nConnection: close\r\n\r\n"
    ).encode()


def _post(host: str, port: int) -> str:
    try:
        sock = socket.create_connection((host, port), timeout=60)
    except ConnectionRefusedError:
        return _REFUSED
    except ConnectionError:  # the listening socket closed with this one in its queue
        return _RESET
    with sock:
        try:
            sock.sendall(_head(host, port) + _BODY)
        except ConnectionError:
            return _RESET
        return _read(sock)


def drain_under_load(
    host: str, port: int, stop: Callable[[], object], *, in_flight: int = 6, flooders: int = 8
) -> DrainReport:
    """Flood POST /tasks, half-send `in_flight` more, call `stop`, finish those; the outcomes.

    Each connection carries one request (Connection: close), so that no outcome depends on
    a keep-alive connection the server closes between two requests.
    """
    stop_began = threading.Event()
    counting = threading.Lock()
    report = DrainReport(in_flight=[])

    def flood() -> None:
        while True:
            outcome = _post(host, port)
            with counting:
                report.flood[outcome] += 1
                if outcome == "201" and stop_began.is_set():
                    report.flood_after_stop += 1
            if outcome in (_REFUSED, _RESET):
                return

    with ThreadPoolExecutor(max_workers=flooders + 1) as pool:
        floods = [pool.submit(flood) for _ in range(flooders)]
        time.sleep(1.0)
        half = len(_BODY) // 2
        pending = [socket.create_connection((host, port), timeout=60) for _ in range(in_flight)]
        for sock in pending:
            sock.sendall(_head(host, port) + _BODY[:half])
        time.sleep(0.5)  # every one of them accepted and being read by now

        started = time.monotonic()
        stop_began.set()
        stopping = pool.submit(stop)
        time.sleep(1.5)  # SIGTERM delivered: the server is draining
        for sock in pending:
            with sock:
                try:
                    sock.sendall(_BODY[half:])
                except ConnectionError:
                    report.in_flight.append(_RESET)
                    continue
                report.in_flight.append(_read(sock))
        stopping.result()
        report.stop_seconds = time.monotonic() - started
        for future in floods:
            future.result()
    return report
