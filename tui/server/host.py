"""The session host's event loop: accept clients, check who they are, dispatch requests.

One asyncio loop serves every client and every PTY. Connections are asyncio
`Protocol`s (callbacks, no per-message task), so a keystroke goes from the socket
to the PTY inside one callback. Requests that do git work or stop processes run
as tasks whose blocking parts sit in worker threads. A client whose frame cannot
be used gets an error frame and is disconnected; nobody else notices. A request's
params are decoded once, by its `tui.protocol.messages` type, before its handler
runs (`handles`); handlers take and answer the typed messages. What a client is
sent is bounded: a client that falls behind has its events merged in an outbox
(`tui.server.outbox`), and one that stops reading is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Never, Protocol, TypeAlias, TypeVar

from tui import __version__, paths, protocol
from tui.errors import PtuiError
from tui.git.model import GitError
from tui.protocol import Method, SessionInfo, messages
from tui.server import agent_hooks, recording, review
from tui.server.manager import NotFound, SessionManager
from tui.server.outbox import MAX_CLIPBOARD, Outbox
from tui.server.tab import decode_input
from tui.server.trust import describe, repo_settings
from tui.term.keys import KeyModes, encode_paste
from tui.term.lines import line_to_ansi

log = logging.getLogger("ptui.server")

_WRITE_HIGH_WATER = 1 << 20  # bytes in a client's transport before it is behind
STALL_LIMIT = 5.0
"""Seconds a client that is behind may take nothing before it is disconnected."""
QUEUE_LIMIT = 32 << 20
"""Bytes owed to one client (transport and outbox) past which it is disconnected at once."""
_STALL_CHECK = 1.0  # seconds between looks at a client that is behind
_STALLED_LINGER = 10.0  # seconds a dropped client has to read its reason before the close
_PEERCRED = struct.Struct("3i")  # struct ucred {pid, uid, gid}


class Connection(asyncio.Protocol):
    """One client: frames in; responses and events out, bounded (see `tui.server.outbox`).

    While the client keeps up, frames go straight to its transport. Once the
    transport holds `_WRITE_HIGH_WATER` bytes the client is *behind* (`paused`):
    screen updates are skipped, events wait in the outbox, merged, and responses
    wait there in order. When all of it is written, every attached tab gets a full
    screen. A client that takes nothing for `STALL_LIMIT` seconds while behind,
    or that is owed more than `QUEUE_LIMIT` bytes, is told why and disconnected.
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.decoder = protocol.FrameDecoder(budget=host.partials, strict=True)
        self.outbox = Outbox()
        self.greeted = False
        self.subscribed = False
        self.paused = False
        """Behind: screen updates are skipped (the `Viewer` side), events wait."""
        self.closed = False
        self.viewing: set[tuple[str, str]] = set()
        self.peer_pid = 0
        self._transport_paused = False
        self._written = 0  # bytes handed to the transport, ever
        self._taken = 0  # of those, what the client had taken at the last look
        self._taken_at = 0.0
        self._watch: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)
        sock = transport.get_extra_info("socket")
        try:
            pid, uid, _gid = _PEERCRED.unpack(
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
            )
        except (OSError, AttributeError):
            pid, uid = 0, -1
        self.peer_pid = pid
        if uid != os.getuid():
            # The socket directory should have stopped them; this is the second lock.
            log.warning("refused a connection from uid %s (pid %s)", uid, pid)
            self.fail(None, protocol.DENIED, "permission denied: another user's ptui server")
            return
        self.host.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._retire()

    def _retire(self) -> None:
        """Serve this client no more: no screens, no budget held, nothing queued."""
        self.host.connections.discard(self)
        for session_id, tab_name in list(self.viewing):
            session = self.host.manager.sessions.get(session_id)
            if session is not None and tab_name in session.tabs:
                session.tabs[tab_name].remove_viewer(self)
        self.viewing.clear()
        self.decoder.close()
        self.outbox.clear()
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def pause_writing(self) -> None:
        self._transport_paused = True
        self.paused = True
        if self._watch is None and not self.closed:
            self._taken, self._taken_at = self._taken_now(), time.monotonic()
            self._watch = asyncio.get_running_loop().call_later(_STALL_CHECK, self._check_stall)

    def resume_writing(self) -> None:
        self._transport_paused = False
        while self.outbox and not self._transport_paused and not self.closed:
            self._write(self.outbox.pop())
        if self.outbox or self._transport_paused or self.closed:
            return
        # Caught up: what it missed of each attached tab comes as one full screen.
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self.paused = False
        for session_id, tab_name in list(self.viewing):
            session = self.host.manager.sessions.get(session_id)
            if session is not None and tab_name in session.tabs:
                self.send(session.tabs[tab_name].full_frame())

    def _write(self, frame: bytes) -> None:
        assert self.transport is not None
        self._written += len(frame)
        self.transport.write(frame)

    def _taken_now(self) -> int:
        """Bytes the client (its socket) has taken from us so far."""
        assert self.transport is not None
        return self._written - self.transport.get_write_buffer_size()

    def _owed(self) -> int:
        assert self.transport is not None
        return self.transport.get_write_buffer_size() + self.outbox.size

    def _check_stall(self) -> None:
        self._watch = None
        if self.closed or not self.paused:
            return
        now, taken = time.monotonic(), self._taken_now()
        if taken > self._taken:
            self._taken, self._taken_at = taken, now
        stalled = now - self._taken_at
        if stalled >= STALL_LIMIT:
            mb = self._owed() / 1e6
            self.drop(f"this client stopped reading for {stalled:.0f}s ({mb:.1f} MB queued)")
            return
        self._watch = asyncio.get_running_loop().call_later(_STALL_CHECK, self._check_stall)

    def send(self, frame: bytes) -> None:
        """A screen update for a tab this client attached (`tui.server.tab.Viewer`).

        Skipped while the client is behind; it gets a full screen when it catches up.
        """
        if not (self.closed or self.paused or self.transport is None):
            self._write(frame)

    def send_reply(self, frame: bytes) -> None:
        """A response or error event: never dropped; waits in order while the client is behind."""
        if self.closed or self.transport is None:
            return
        if not self.paused:
            self._write(frame)
            return
        self.outbox.put(frame)
        self._check_owed()

    def publish(self, event: protocol.Event, data: Mapping[str, object], frame: bytes) -> None:
        """A published event (`frame` encodes it); merged with its kind while behind."""
        if self.closed or self.transport is None:
            return
        if not self.paused:
            self._write(frame)
            return
        self.outbox.put_event(event, data, frame)
        self._check_owed()

    def _check_owed(self) -> None:
        owed = self._owed()
        if owed > QUEUE_LIMIT:
            self.drop(f"this client is owed {owed / 1e6:.1f} MB and is not reading it")

    def drop(self, why: str) -> None:
        """Disconnect a client that does not keep up, telling it why (if it reads again)."""
        message = f"ptui: disconnected: {why}"
        log.warning("client pid %s: %s", self.peer_pid, message)
        self.outbox.clear()  # nothing it was owed is worth more than the reason
        self.fail(None, protocol.STALLED, message, linger=_STALLED_LINGER)

    def fail(self, request_id: object, code: str, message: str, *, linger: float = 2.0) -> None:
        """Send an error frame after what the client is owed, and close this connection."""
        if self.closed:
            return
        self.closed = True
        transport = self.transport
        if transport is None:
            return
        while self.outbox:
            self._write(self.outbox.pop())
        self._write(protocol.error_frame(request_id, code, message))
        self._retire()
        # Half-close and let the peer read the error: closing with its unread
        # request still queued would make the kernel reset the connection and
        # drop the error frame. Whatever it sends meanwhile is ignored; after
        # `linger` seconds whatever it has not read is thrown away.
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(linger, transport.abort)
        else:
            transport.close()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            messages = self.decoder.feed(data)
        except protocol.ProtocolError as exc:
            self.fail(None, exc.code, str(exc))
            return
        for message in messages:
            if self.closed:
                return
            self.handle(message)

    def eof_received(self) -> bool | None:
        if self.decoder.pending:
            self.fail(None, protocol.BAD_FRAME, f"truncated frame ({self.decoder.pending} bytes)")
        return None

    # -------------------------------------------------------------- dispatch
    def handle(self, message: Mapping[str, object]) -> None:
        request_id = message.get("id")
        method = message.get("method")
        params = message.get("params", {})
        if (
            not protocol.request_id_ok(request_id)
            or not isinstance(method, str)
            or not isinstance(params, dict)
        ):
            self.fail(
                request_id if protocol.request_id_ok(request_id) else None,
                protocol.BAD_REQUEST,
                "not a request: needs method (string), params (object), "
                "id (non-negative integer, or none for a notification)",
            )
            return
        if not self.greeted:
            self.hello(request_id, method, params)
            return
        try:
            route = HANDLERS[Method(method)]
        except (ValueError, KeyError):  # hello too: it is the connection's own, and only once
            self.fail(request_id, protocol.UNKNOWN_METHOD, f"unknown method {method[:80]!r}")
            return
        try:
            result = route(self, params)
        except Exception as exc:  # every failure becomes one line for the client
            self.reply_error(request_id, method, exc)
            return
        if asyncio.iscoroutine(result):
            task = asyncio.get_running_loop().create_task(result)
            self.host.tasks.add(task)
            task.add_done_callback(lambda t: self.finish(t, request_id, method))
        else:
            self.reply(request_id, result)

    def hello(self, request_id: object, method: str, params: Mapping[str, object]) -> None:
        version = params.get("version")
        if method != Method.HELLO:
            self.fail(request_id, protocol.BAD_REQUEST, "the first request must be hello")
        elif type(version) is not int or version != protocol.VERSION:  # true is not 1
            self.fail(
                request_id,
                protocol.VERSION_MISMATCH,
                f"protocol version {repr(version)[:40]} not supported (server speaks "
                f"{protocol.VERSION}); run the same ptui version on both ends",
            )
        else:
            self.greeted = True
            self.reply(request_id, {
                "version": protocol.VERSION, "ptui": __version__, "pid": os.getpid(),
                # Local clients check it is theirs: the socket is per user, not per HOME.
                "state": str(self.host.manager.store.path),
                # What this server answers: a client asks for a newer method only if
                # it is listed, instead of probing on a throw-away connection.
                "methods": sorted([Method.HELLO, *HANDLERS]),
            })  # fmt: skip

    def finish(self, task: asyncio.Task[object], request_id: object, method: str) -> None:
        self.host.tasks.discard(task)
        if task.cancelled():
            self.reply_error(request_id, method, PtuiError("cancelled: the server is stopping"))
        elif (exc := task.exception()) is not None:
            self.reply_error(request_id, method, exc)
        else:
            self.reply(request_id, task.result())

    def reply(self, request_id: object, result: object) -> None:
        if request_id is None:
            return  # a notification: no answer wanted
        post: Callable[[], None] | None = None
        if isinstance(result, _After):
            post = result.then
            result = result.result
        try:
            frame = protocol.encode({"id": request_id, "result": result})
        except (TypeError, ValueError) as exc:  # a bug here must not leave the client waiting
            self.reply_error(request_id, "reply", RuntimeError(f"unencodable result: {exc}"))
            return
        self.send_reply(frame)
        if post is not None:
            post()

    def reply_error(self, request_id: object, method: str, exc: BaseException) -> None:
        # No session named is answered as a wrong one is: not-found, with the same
        # hint (a ShapeError otherwise, and the ValueErrors below say "bad parameters").
        if isinstance(exc, NotFound | KeyError | messages.NoSessionGiven):
            code, text = protocol.NOT_FOUND, str(exc.args[0] if exc.args else exc)
        elif isinstance(exc, PtuiError | GitError):
            code, text = protocol.FAILED, str(exc)
        elif isinstance(exc, ValueError | TypeError):
            code, text = protocol.FAILED, f"bad parameters for {method}: {exc}"
        else:
            log.error("%s failed", method, exc_info=exc)
            code, text = protocol.INTERNAL, f"internal error in {method}: {exc!r} (see server log)"
        text = " ".join(text.split())
        if request_id is None:
            self.send_reply(
                protocol.encode(
                    {"event": protocol.Event.ERROR, "data": {"code": code, "message": text}}
                )
            )
        else:
            self.send_reply(protocol.error_frame(request_id, code, text))


R = TypeVar("R")
Q = TypeVar("Q")
_Q_co = TypeVar("_Q_co", covariant=True)
_R_co = TypeVar("_R_co", covariant=True)


class _After(Generic[R]):
    """A result plus something to do once it has been sent (attach: then the screen)."""

    def __init__(self, result: R, then: Callable[[], None]) -> None:
        self.result = result
        self.then = then


Answer: TypeAlias = R | Awaitable[R] | _After[R]
"""What a handler gives for an answer `R`: it, a coroutine making it, or it and a
follow-up."""
Handler: TypeAlias = Callable[[Connection, Q], Answer[R]]
"""A handler of request type `Q` (decoded) answered with `R`."""


class RequestType(Protocol[_Q_co, _R_co]):
    """A request class of `tui.protocol.messages` as the handler table sees it: what
    its `decode` makes and what its `result` reads (`SessionStop`: a SessionStop,
    answered with a SessionInfo). Matching a class against this ties a handler to
    both its request type and its answer type, so mypy checks each handler builds
    the answer its clients decode."""

    @property
    def METHOD(self) -> Method: ...

    def decode(self, params: Mapping[str, object], /) -> _Q_co: ...

    # Never: each class's own `result` takes only its own instances, and fits.
    def result(self, request: Never, raw: object, /) -> _R_co: ...


@dataclass(frozen=True)
class _Route(Generic[Q]):
    """One method's decoder and handler: the request is decoded once, here."""

    decode: Callable[[Mapping[str, object]], Q]
    handler: Callable[[Connection, Q], object]

    def __call__(self, conn: Connection, params: Mapping[str, object]) -> object:
        return self.handler(conn, self.decode(params))


HANDLERS: dict[Method, _Route[Any]] = {}
"""Method -> its route; every method but hello, which is the connection's own. (A
route pairs one request type's decoder with its handler, so `Any` hides nothing.)"""


def handles(request_type: RequestType[Q, R]) -> Callable[[Handler[Q, R]], Handler[Q, R]]:
    """Register the decorated function as the handler of `request_type`'s method."""

    def register(handler: Handler[Q, R]) -> Handler[Q, R]:
        method = request_type.METHOD
        # The params are checked by the protocol's own request type, nothing else.
        protocol_type: object = messages.REQUESTS[method]
        if protocol_type is not request_type or method in HANDLERS:
            raise TypeError(f"{handler.__name__}: a second handler, or the wrong request type")
        HANDLERS[method] = _Route(request_type.decode, handler)
        return handler

    return register


# ------------------------------------------------------------------ handlers
@handles(messages.ServerStatusRequest)
def h_status(conn: Connection, request: messages.ServerStatusRequest) -> messages.ServerStatus:
    host = conn.host
    sessions = host.manager.sessions.values()
    return {
        "pid": os.getpid(),
        "ptui": __version__,
        "uptime": round(time.monotonic() - host.started, 3),
        "sessions": len(sessions),
        "live_sessions": sum(1 for s in sessions if s.running),
        "clients": len(host.connections),
        "socket": str(host.socket_path),
        "log": str(paths.log_dir() / "server.log"),
        "state": str(host.manager.store.path),
        "state_error": str(host.manager.broken or ""),
    }


@handles(messages.ServerStop)
def h_stop_server(conn: Connection, request: messages.ServerStop) -> _After[messages.Stopping]:
    return _After({"stopping": True}, conn.host.request_stop)


@handles(messages.Subscribe)
def h_subscribe(conn: Connection, request: messages.Subscribe) -> messages.Subscribed:
    conn.subscribed = True
    return {"sessions": conn.host.manager.list_info(include_archived=True)}


@handles(messages.SessionList)
def h_list(conn: Connection, request: messages.SessionList) -> list[SessionInfo]:
    return conn.host.manager.list_info(include_archived=request.all)


@handles(messages.SessionInfoRequest)
def h_info(conn: Connection, request: messages.SessionInfoRequest) -> SessionInfo:
    return conn.host.manager.find(request.id).info()


@handles(messages.SessionStatus)
def h_session_status(conn: Connection, request: messages.SessionStatus) -> messages.StatusReport:
    return conn.host.manager.find(request.id).status_report()


@handles(messages.SessionHook)
def h_hook(conn: Connection, request: messages.SessionHook) -> bool:
    return agent_hooks.receive(conn.host.manager, request)


@handles(messages.SessionScreen)
def h_screen(conn: Connection, request: messages.SessionScreen) -> messages.Screen:
    session = conn.host.manager.find(request.id)
    tab = session.tab(request.tab)
    emulator = tab.emulator
    if request.ansi:
        text = "".join(line_to_ansi(line) + "\n" for line in emulator.visible_lines())
    else:
        text = emulator.render_text()
    return {
        "id": session.id,
        "tab": tab.name,
        "text": text,
        "cols": emulator.cols,
        "rows": emulator.rows,
        "cursor": list(emulator.cursor),
        "title": emulator.title,
        "status": session.status,
        "alive": tab.alive,
    }


@handles(messages.SessionScrollback)
def h_scrollback(conn: Connection, request: messages.SessionScrollback) -> messages.Scrollback:
    session = conn.host.manager.find(request.id)
    return session.tab(request.tab).scrollback(request.start, min(request.count, 10_000))


@handles(messages.SessionInput)
def h_input(conn: Connection, request: messages.SessionInput) -> bool:
    session = conn.host.manager.find(request.id)
    if not session.tab(request.tab).alive:
        raise PtuiError(
            f"session {session.id!r} tab {request.tab!r} is not running (resume it first)"
        )
    session.input(request.tab, decode_input(request))
    return True


@handles(messages.SessionPaste)
def h_paste(conn: Connection, request: messages.SessionPaste) -> bool:
    session = conn.host.manager.find(request.id)
    modes = session.tab(request.tab).emulator.modes
    keys = KeyModes(bracketed_paste=modes.bracketed_paste)
    session.input(request.tab, encode_paste(request.text, keys))
    return True


@handles(messages.SessionResize)
def h_resize(conn: Connection, request: messages.SessionResize) -> bool:
    session = conn.host.manager.find(request.id)
    if request.cols <= 0 or request.rows <= 0:
        raise ValueError("cols and rows must be positive integers")
    session.resize(request.cols, request.rows)
    return True


@handles(messages.SessionAttach)
def h_attach(conn: Connection, request: messages.SessionAttach) -> _After[messages.Attached]:
    session = conn.host.manager.find(request.id)
    name = request.tab
    tab = session.tab(name)
    cols, rows = request.cols, request.rows
    if cols is not None and rows is not None and cols > 0 and rows > 0:
        session.resize(cols, rows)
    key = (session.id, name)

    def start() -> None:
        if key in conn.viewing:
            tab.remove_viewer(conn)
        conn.viewing.add(key)
        tab.add_viewer(conn)

    return _After({"id": session.id, "tab": name, "alive": tab.alive}, start)


@handles(messages.SessionDetach)
def h_detach(conn: Connection, request: messages.SessionDetach) -> bool:
    session = conn.host.manager.find(request.id)
    name = request.tab
    conn.viewing.discard((session.id, name))
    if name in session.tabs:
        session.tabs[name].remove_viewer(conn)
    return True


@handles(messages.SessionRecord)
async def h_record(conn: Connection, request: messages.SessionRecord) -> messages.Recording:
    session = conn.host.manager.find(request.id)
    tab = session.tab(request.tab)
    return await recording.record(
        tab, session=session.id, agent=session.record.agent, path=request.path, stop=request.stop
    )


@handles(messages.SessionCreate)
async def h_create(conn: Connection, request: messages.SessionCreate) -> list[SessionInfo]:
    return await conn.host.manager.create(request)


@handles(messages.SessionStop)
async def h_stop(conn: Connection, request: messages.SessionStop) -> SessionInfo:
    return await conn.host.manager.stop(request.id)


@handles(messages.SessionResume)
async def h_resume(conn: Connection, request: messages.SessionResume) -> SessionInfo:
    return await conn.host.manager.resume(request.id, request.cols, request.rows)


@handles(messages.SessionArchive)
async def h_archive(conn: Connection, request: messages.SessionArchive) -> messages.Archived:
    return await conn.host.manager.archive(request.id)


@handles(messages.SessionRestore)
async def h_restore(conn: Connection, request: messages.SessionRestore) -> SessionInfo:
    return await conn.host.manager.restore(request.id)


@handles(messages.SessionRemove)
async def h_remove(conn: Connection, request: messages.SessionRemove) -> messages.Removed:
    return await conn.host.manager.remove(request.id, force=request.force)


@handles(messages.SessionCommit)
async def h_commit(conn: Connection, request: messages.SessionCommit) -> messages.Committed:
    return await conn.host.manager.commit(request.id, request.message)


@handles(messages.SessionMerge)
async def h_merge(conn: Connection, request: messages.SessionMerge) -> messages.Merged:
    return await conn.host.manager.merge(request.id, request.strategy, request.message)


@handles(messages.SessionRun)
async def h_run(conn: Connection, request: messages.SessionRun) -> messages.TabOpened:
    if not request.script:
        raise ValueError("script must be a name from [scripts]")
    return await conn.host.manager.run_script(request.id, request.script)


@handles(messages.SessionShell)
async def h_shell(conn: Connection, request: messages.SessionShell) -> messages.TabOpened:
    return await conn.host.manager.open_shell(request.id)


@handles(messages.Doctor)
async def h_doctor(conn: Connection, request: messages.Doctor) -> messages.DoctorReport:
    from tui.server import doctor

    manager = conn.host.manager
    repos = [Path(r) for r in request.repos or () if r]
    if manager.recovery is not None and not manager.recovery.done():
        await asyncio.shield(manager.recovery)  # what start-up recovery fixes is no problem
    problems = await doctor.examine(manager, repos)
    if request.fix and problems:
        await doctor.repair(manager, problems, repos)
        remaining = await doctor.examine(manager, repos)
    else:
        remaining = problems
    return {
        "problems": [p.to_dict() for p in problems],
        "remaining": [p.to_dict() for p in remaining],
        "notes": list(manager.notes),
    }


async def _trust_shown(conn: Connection, repo: str, base: str | None) -> messages.TrustShown:
    store = conn.host.manager.trust
    return await asyncio.to_thread(describe, Path(repo).expanduser(), base, store)


@handles(messages.RepoSettings)
async def h_repo_settings(conn: Connection, request: messages.RepoSettings) -> messages.Settings:
    repo = Path(request.repo).expanduser() if request.repo else None
    store = conn.host.manager.trust
    return await asyncio.to_thread(repo_settings, repo, request.base, store)


@handles(messages.TrustShow)
async def h_trust_show(conn: Connection, request: messages.TrustShow) -> messages.TrustShown:
    return await _trust_shown(conn, request.repo, request.base)


@handles(messages.TrustAdd)
async def h_trust_add(conn: Connection, request: messages.TrustAdd) -> messages.TrustShown:
    shown = await _trust_shown(conn, request.repo, request.base)
    if not shown["digest"]:
        raise PtuiError(f"{shown['repo']} has no .ptui.toml on {shown['base']}: nothing to trust")
    if request.digest != shown["digest"]:
        raise PtuiError(
            f"{shown['repo']}/.ptui.toml on {shown['base']} changed since it was shown; "
            "review it again"
        )
    conn.host.manager.trust.trust(Path(shown["repo"]), shown["digest"])
    shown["trusted"] = True
    return shown


@handles(messages.ClientColors)
def h_client_colors(conn: Connection, request: messages.ClientColors) -> bool:
    """The client's theme colours answer every program's colour queries (last client wins)."""
    from tui.term.emulator import check_hex_color

    # Checked as colours by the request already; this lower-cases them.
    foreground = check_hex_color(request.foreground, "foreground")
    background = check_hex_color(request.background, "background")
    conn.host.manager.set_colors(foreground, background)
    return True


def _review(
    request_type: RequestType[Q, R], method: Callable[[review.Review, Q], Awaitable[R]]
) -> None:
    """A review method (`tui.server.review`) as the handler of `request_type`."""

    def handler(conn: Connection, request: Q) -> Awaitable[R]:
        return method(conn.host.review, request)

    handles(request_type)(handler)


_review(messages.SessionDiff, review.Review.diff)
_review(messages.SessionDiffFiles, review.Review.diff_files)
_review(messages.SessionDiffFile, review.Review.diff_file)
_review(messages.SessionArchivePlan, review.Review.archive_plan)
_review(messages.SessionMergePreview, review.Review.merge_preview)
_review(messages.SessionSummary, review.Review.summary)
_review(messages.SessionSendTestFailure, review.Review.send_test_failure)
_review(messages.RepoBranches, review.Review.branches)


class Host:
    """The server: its socket, its clients, its sessions."""

    def __init__(self, sock: socket.socket, socket_path: Path) -> None:
        self.sock = sock
        self.socket_path = socket_path
        self.connections: set[Connection] = set()
        self.partials = protocol.PartialBudget()
        """Unfinished frames of every connection together (`protocol.MAX_PARTIAL_TOTAL`)."""
        self.tasks: set[asyncio.Task[object]] = set()
        self.started = time.monotonic()
        self.manager: SessionManager
        self.review: review.Review
        self._stop = asyncio.Event()

    def broadcast(self, event: protocol.Event, data: Mapping[str, object]) -> None:
        """Publish an event to every subscribed client (the emulator's own kinds,
        modify-other-keys ..., never get this far: `SessionManager.term_event`)."""
        targets = [conn for conn in self.connections if conn.subscribed]
        if not targets:
            return
        if event == protocol.Event.BELL:
            data = {**data, "count": 1}
        frame = protocol.encode({"event": event, "data": data})
        if event == protocol.Event.CLIPBOARD and len(frame) > MAX_CLIPBOARD:
            log.info("a clipboard copy of %d bytes was not sent to clients", len(frame))
            return
        for conn in targets:
            conn.publish(event, data, frame)

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self, on_ready: Callable[[], None]) -> None:
        """Serve until stopped (server.stop, SIGTERM, SIGINT); then stop every session."""
        loop = asyncio.get_running_loop()
        self.manager = SessionManager(self.broadcast)
        self.review = review.Review(self.manager)
        self.manager.load()
        loop.add_signal_handler(signal.SIGCHLD, self.manager.child_exited)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: None)
        server = await loop.create_unix_server(lambda: Connection(self), sock=self.sock)
        log.info("serving on %s (pid %d)", self.socket_path, os.getpid())
        on_ready()
        await self._stop.wait()
        log.info("stopping")
        server.close()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        await self.manager.shutdown()
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.close()
        for task in list(self.tasks):
            task.cancel()
        log.info("stopped")
