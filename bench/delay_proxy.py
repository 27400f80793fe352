"""A TCP proxy that holds every answer of the database back for a set time.

Put between a service and its database, it turns each round trip into one of a remote
database's: the I/O latency sweep raises it from 0 to 20 ms while the servers keep running,
which is where an event loop and a thread pool differ and where the connection pool
becomes the limit. Only the database-to-client direction is delayed, once per chunk it
sends: one query's answer usually arrives as one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DelayProxy:
    """Listens on 127.0.0.1:<port> and forwards to `target`, delaying its answers."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.delay_ms = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delayed: bool
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if delayed and self.delay_ms:
                    await asyncio.sleep(self.delay_ms / 1000)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            self._pump(client_r, server_w, delayed=False),
            self._pump(server_r, client_w, delayed=True),
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # Close every connection still pumping, then the loop itself: a loop left open
        # keeps its sockets, which Python reports as unclosed at exit.
        pumps = asyncio.all_tasks(self._loop)
        for pump in pumps:
            pump.cancel()
        self._loop.run_until_complete(asyncio.gather(*pumps, return_exceptions=True))
        self._loop.close()

    @contextmanager
    def running(self) -> Iterator[DelayProxy]:
        """The proxy, serving in a background thread until the block ends."""
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        self._ready.wait(10)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            thread.join(5)
