"""`AsyncClient`: the asyncio connection to the session host, for the Textual app.

`await request(SessionStop(id=...))` sends a request and waits for its answer,
typed and checked as the request says; events, decoded (`tui.protocol.events`),
go to a callback (or the `events()` async iterator) from one reader task. `adopt`
takes over an `EarlyConnection`'s socket, bytes and all. It lives apart from
`tui.client.connection` so the blocking CLI client never imports asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from tui import protocol
from tui.client.connection import (
    READ_SIZE,
    Client,
    ConnectionLost,
    check_same_state,
    checked,
    connect_socket,
    lost_reason,
    ssh_command,
)
from tui.protocol.events import ServerEvent, decode_event
from tui.protocol.messages import Hello, HelloRequest, Request

R = TypeVar("R")
EventSink = Callable[[ServerEvent], None]


class AsyncClient:
    """An asyncio connection to the ptui server, for the app."""

    def __init__(self, on_event: EventSink | None = None) -> None:
        self._on_event = on_event
        self._queue: asyncio.Queue[ServerEvent] = asyncio.Queue()
        self._pending: dict[int, asyncio.Future[object]] = {}
        self._next_id = 1
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self.server: Hello = {"version": protocol.VERSION, "ptui": "", "pid": 0, "state": ""}
        """The server's `hello` answer (set by `connect` and `adopt`)."""
        self.lost_reason: str | None = None
        """Why the server dropped this connection, when it said (see `lost_reason()`)."""

    @classmethod
    async def connect(
        cls,
        host: str | None = None,
        *,
        on_event: EventSink | None = None,
        ssh_config: str | None = None,
        name: str = "app",
    ) -> AsyncClient:
        """Connect (starting a local server if needed) and shake hands."""
        client = cls(on_event)
        if host is None:
            sock = await asyncio.to_thread(connect_socket, True)
            sock.setblocking(False)
            client._reader, client._writer = await asyncio.open_unix_connection(sock=sock)
        else:
            argv = ssh_command(host, ssh_config)
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
            )
            assert proc.stdout is not None and proc.stdin is not None
            client._proc = proc
            client._reader, client._writer = proc.stdout, proc.stdin
        client._task = asyncio.get_running_loop().create_task(client._read_loop())
        try:
            client.server = await client.request(
                HelloRequest(version=protocol.VERSION, client=name)
            )
            if host is None:
                check_same_state(client.server)
        except BaseException:
            # Unclosed, a dead ssh's transport outlives the loop and complains when collected.
            await client.close()
            raise
        return client

    @classmethod
    async def adopt(cls, early: Client, *, on_event: EventSink | None = None) -> AsyncClient:
        """Take over a connected local `Client` (see `EarlyConnection`), losing nothing
        it had read: its pending events are delivered first, in order."""
        server = early.server
        sock, decoder, events, next_id = early.detach()
        client = cls(on_event)
        client.server = server
        client._next_id = next_id
        sock.setblocking(False)
        client._reader, client._writer = await asyncio.open_unix_connection(sock=sock)
        for event in events:
            client._dispatch(event)
        client._task = asyncio.get_running_loop().create_task(client._read_loop(decoder))
        return client

    async def _read_loop(self, decoder: protocol.FrameDecoder | None = None) -> None:
        assert self._reader is not None
        if decoder is None:
            decoder = protocol.FrameDecoder()
        error: BaseException = ConnectionLost("the connection to the ptui server closed")
        try:
            while True:
                data = await self._reader.read(READ_SIZE)
                if not data:
                    break
                for message in decoder.feed(data):
                    self._dispatch(message)
        except (OSError, protocol.ProtocolError) as exc:
            error = exc
        finally:
            if self.lost_reason is not None:
                error = ConnectionLost(self.lost_reason)
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
            self._pending.clear()

    def _dispatch(self, message: dict[str, object]) -> None:
        if (lost := lost_reason(message)) is not None:
            self.lost_reason = lost
            return
        if "event" in message:
            try:
                event = decode_event(message)
            except protocol.ProtocolError:
                # Nothing to answer: an event that does not fit is not delivered.
                return
            if self._on_event is not None:
                self._on_event(event)
            else:
                self._queue.put_nowait(event)
            return
        request_id = message.get("id")
        future = self._pending.pop(request_id, None) if isinstance(request_id, int) else None
        if future is None or future.done():
            return
        error = message.get("error")
        if error is not None:
            future.set_exception(protocol.RemoteError.from_frame(error))
        else:
            future.set_result(message.get("result"))

    async def request(self, request: Request[R]) -> R:
        """Send `request` and await its answer, checked against its type.

        RemoteError on a server error; ProtocolError (bad-frame) on an answer that
        does not fit.
        """
        raw = await self._call(request.METHOD, request.params())
        return checked(request, raw)

    async def call(self, method: str, **params: object) -> object:
        """Any method with any params, the raw answer unchecked: for tests of the
        wire only (the app sends typed requests, `request`)."""
        return await self._call(method, params)

    async def _call(self, method: str, params: dict[str, object]) -> object:
        if self._writer is None or self._task is None or self._task.done():
            raise ConnectionLost(self.lost_reason or "the connection to the ptui server closed")
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._writer.write(protocol.encode({"id": request_id, "method": method, "params": params}))
        return await future

    def notify(self, request: Request[object]) -> None:
        """Send without waiting for an answer (keystrokes, resize)."""
        if self._writer is not None:
            message = {"method": request.METHOD, "params": request.params()}
            self._writer.write(protocol.encode(message))

    async def events(self) -> AsyncIterator[ServerEvent]:
        """Pushed events, when no `on_event` callback was given."""
        while True:
            yield await self._queue.get()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()
            await self._proc.wait()
