"""HTTP/1.1 over a bare socket: send any bytes, read one response, see what the connection does.

No HTTP library sits between the corpus and the server, so malformed framing, lone
surrogates and odd headers reach the server exactly as written.
"""

from __future__ import annotations

import socket
from contextlib import ExitStack
from dataclasses import dataclass

TIMEOUT = 10.0  # seconds; a server that says nothing for this long is hanging
PROBE = b"GET /health/live HTTP/1.1\r\nHost: hostile\r\n\r\n"


class HangError(AssertionError):
    """The server neither answered nor closed the connection in time."""


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes
    interim: list[int]  # the 1xx answers that came first (100 Continue)


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError as error:
            raise HangError("no answer in time") from error
        except ConnectionResetError:
            return False
        self.buffer += chunk
        return bool(chunk)

    def until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if not self._fill():
                return None
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._fill():
                raise AssertionError("connection closed inside a response body")
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def rest(self) -> bytes:
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data


def _read_reply(reader: _Reader, method: bytes) -> RawReply | None:
    interim = []
    while True:
        head = reader.until(b"\r\n\r\n")
        if head is None:
            return None
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        if status >= 200 or status == 101:
            break
        interim.append(status)  # 100 Continue and other interim answers precede the real one
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if method == b"HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while size := int((reader.until(b"\r\n") or b"0").split(b";")[0], 16):
            body += reader.exactly(size)
            reader.exactly(2)
        reader.until(b"\r\n")
    elif "content-length" in headers:
        body = reader.exactly(int(headers["content-length"]))
    else:
        body = reader.rest()
    return RawReply(status, headers, body, interim)


@dataclass
class Exchange:
    """One request's answer, and what the connection did afterwards."""

    reply: RawReply | None  # None: closed without a word
    announced_close: bool  # the answer said Connection: close
    closed: bool  # the server closed the connection after answering
    still_usable: bool  # a second request on it got its 200


def exchange(host: str, port: int, request: bytes) -> Exchange:
    """Send `request`, read its answer, then try the connection with a second request."""
    method = request.split(b" ", 1)[0]
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        reader = _Reader(sock)
        reply = _read_reply(reader, method)
        if reply is None:
            return Exchange(None, announced_close=False, closed=True, still_usable=False)
        announced = "close" in reply.headers.get("connection", "").lower()
        try:
            sock.sendall(PROBE)
            second = _read_reply(reader, b"GET")
        except (BrokenPipeError, ConnectionResetError):
            second = None
        usable = second is not None and second.status == 200
        return Exchange(reply, announced, closed=second is None, still_usable=usable)


def first_reads(host: str, port: int, requests: list[bytes]) -> list[bytes]:
    """Send each request in turn on one connection and take what a single read of its
    answer returns: a response written in one piece arrives whole."""
    reads = []
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        for request in requests:
            sock.sendall(request)
            reads.append(sock.recv(1 << 20))
    return reads


def at_once(host: str, port: int, request: bytes, count: int) -> list[RawReply | None]:
    """Send `request` on `count` connections opened beforehand, back to back, then read
    every answer: the requests reach the server's threads together, not as each connects."""
    method = request.split(b" ", 1)[0]
    with ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.create_connection((host, port), timeout=TIMEOUT))
            for _ in range(count)
        ]
        for sock in sockets:
            sock.sendall(request)
        return [_read_reply(_Reader(sock), method) for sock in sockets]
