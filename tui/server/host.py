"""The session host's event loop: accept clients, check who they are, dispatch requests.

One asyncio loop serves every client and every PTY. Connections are asyncio
`Protocol`s (callbacks, no per-message task), so a keystroke goes from the socket
to the PTY inside one callback. Requests that do git work or stop processes run
as tasks whose blocking parts sit in worker threads. A client whose frame cannot
be used gets an error frame and is disconnected; nobody else notices. What a
client is sent is bounded: a client that falls behind has its events merged in
an outbox (`tui.server.outbox`), and one that stops reading is disconnected.
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
from pathlib import Path
from typing import Any

from tui import __version__, paths, protocol
from tui.errors import PtuiError
from tui.git.model import GitError
from tui.protocol import Method
from tui.server import review
from tui.server.manager import NotFound, SessionManager
from tui.server.outbox import MAX_CLIPBOARD, Outbox
from tui.server.session import AGENT_TAB
from tui.server.tab import decode_input
from tui.server.trust import describe
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

Handler = Callable[["Connection", dict[str, Any]], Awaitable[Any] | Any]


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

    def fail(self, request_id: Any, code: str, message: str, *, linger: float = 2.0) -> None:
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
    def handle(self, message: dict[str, Any]) -> None:
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
        handler = HANDLERS.get(method)
        if handler is None:
            self.fail(request_id, protocol.UNKNOWN_METHOD, f"unknown method {method[:80]!r}")
            return
        try:
            result = handler(self, params)
        except Exception as exc:  # every failure becomes one line for the client
            self.reply_error(request_id, method, exc)
            return
        if asyncio.iscoroutine(result):
            task = asyncio.get_running_loop().create_task(result)
            self.host.tasks.add(task)
            task.add_done_callback(lambda t: self.finish(t, request_id, method))
        else:
            self.reply(request_id, result)

    def hello(self, request_id: Any, method: str, params: dict[str, Any]) -> None:
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

    def finish(self, task: asyncio.Task[Any], request_id: Any, method: str) -> None:
        self.host.tasks.discard(task)
        if task.cancelled():
            self.reply_error(request_id, method, PtuiError("cancelled: the server is stopping"))
        elif (exc := task.exception()) is not None:
            self.reply_error(request_id, method, exc)
        else:
            self.reply(request_id, task.result())

    def reply(self, request_id: Any, result: Any) -> None:
        if request_id is None:
            return  # a notification: no answer wanted
        post = None
        if isinstance(result, _After):
            result, post = result.result, result.then
        try:
            frame = protocol.encode({"id": request_id, "result": result})
        except (TypeError, ValueError) as exc:  # a bug here must not leave the client waiting
            self.reply_error(request_id, "reply", RuntimeError(f"unencodable result: {exc}"))
            return
        self.send_reply(frame)
        if post is not None:
            post()

    def reply_error(self, request_id: Any, method: str, exc: BaseException) -> None:
        if isinstance(exc, NotFound | KeyError):
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


class _After:
    """A result plus something to do once it has been sent (attach: then the screen)."""

    def __init__(self, result: Any, then: Callable[[], None]) -> None:
        self.result = result
        self.then = then


# ------------------------------------------------------------------ handlers
def _id(params: dict[str, Any]) -> str:
    value = params.get("id")
    if not isinstance(value, str) or not value:
        raise NotFound("a session id is required (see ptui ls)")
    return value


def _tab_name(params: dict[str, Any]) -> str:
    value = params.get("tab") or AGENT_TAB
    if not isinstance(value, str):
        raise ValueError("tab must be a string")
    return value


def h_status(conn: Connection, params: dict[str, Any]) -> Any:
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


def h_stop_server(conn: Connection, params: dict[str, Any]) -> Any:
    return _After({"stopping": True}, conn.host.request_stop)


def h_subscribe(conn: Connection, params: dict[str, Any]) -> Any:
    conn.subscribed = True
    return {"sessions": conn.host.manager.list_info(include_archived=True)}


def h_list(conn: Connection, params: dict[str, Any]) -> Any:
    return conn.host.manager.list_info(include_archived=bool(params.get("all")))


def h_info(conn: Connection, params: dict[str, Any]) -> Any:
    return conn.host.manager.find(_id(params)).info()


def h_screen(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    tab = session.tab(_tab_name(params))
    emulator = tab.emulator
    if params.get("ansi"):
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


def h_scrollback(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    start, count = params.get("start", 0), params.get("count", 100)
    if not isinstance(start, int) or not isinstance(count, int):
        raise ValueError("start and count must be integers")
    return session.tab(_tab_name(params)).scrollback(start, min(count, 10_000))


def h_input(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    name = _tab_name(params)
    tab = session.tab(name)
    if not tab.alive:
        raise PtuiError(f"session {session.id!r} tab {name!r} is not running (resume it first)")
    session.input(name, decode_input(params))
    return True


def h_paste(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    name = _tab_name(params)
    text = params.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    modes = session.tab(name).emulator.modes
    session.input(name, encode_paste(text, KeyModes(bracketed_paste=modes.bracketed_paste)))
    return True


def h_resize(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    cols, rows = params.get("cols"), params.get("rows")
    if not (isinstance(cols, int) and isinstance(rows, int) and cols > 0 and rows > 0):
        raise ValueError("cols and rows must be positive integers")
    session.resize(cols, rows)
    return True


def h_attach(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    name = _tab_name(params)
    tab = session.tab(name)
    cols, rows = params.get("cols"), params.get("rows")
    if isinstance(cols, int) and isinstance(rows, int) and cols > 0 and rows > 0:
        session.resize(cols, rows)
    key = (session.id, name)

    def start() -> None:
        if key in conn.viewing:
            tab.remove_viewer(conn)
        conn.viewing.add(key)
        tab.add_viewer(conn)

    return _After({"id": session.id, "tab": name, "alive": tab.alive}, start)


def h_detach(conn: Connection, params: dict[str, Any]) -> Any:
    session = conn.host.manager.find(_id(params))
    name = _tab_name(params)
    conn.viewing.discard((session.id, name))
    if name in session.tabs:
        session.tabs[name].remove_viewer(conn)
    return True


def h_create(conn: Connection, params: dict[str, Any]) -> Any:
    return conn.host.manager.create(params)


def _simple(method: str) -> Handler:
    def handler(conn: Connection, params: dict[str, Any]) -> Any:
        return getattr(conn.host.manager, method)(_id(params))

    return handler


def h_remove(conn: Connection, params: dict[str, Any]) -> Any:
    return conn.host.manager.remove(_id(params), force=params.get("force") is True)


def h_resume(conn: Connection, params: dict[str, Any]) -> Any:
    return conn.host.manager.resume(_id(params), params)


def h_commit(conn: Connection, params: dict[str, Any]) -> Any:
    message = params.get("message")
    if not isinstance(message, str):
        raise ValueError("message must be a string")
    return conn.host.manager.commit(_id(params), message)


def h_merge(conn: Connection, params: dict[str, Any]) -> Any:
    strategy = params.get("strategy") or "merge"
    message = params.get("message")
    if not isinstance(strategy, str) or not (message is None or isinstance(message, str)):
        raise ValueError("strategy and message must be strings")
    return conn.host.manager.merge(_id(params), strategy, message)


def h_run(conn: Connection, params: dict[str, Any]) -> Any:
    script = params.get("script")
    if not isinstance(script, str) or not script:
        raise ValueError("script must be a name from [scripts]")
    return conn.host.manager.run_script(_id(params), script)


def h_shell(conn: Connection, params: dict[str, Any]) -> Any:
    return conn.host.manager.open_shell(_id(params))


async def h_doctor(conn: Connection, params: dict[str, Any]) -> Any:
    from tui.server import doctor

    manager = conn.host.manager
    repos = [Path(str(r)) for r in params.get("repos") or [] if isinstance(r, str) and r]
    if manager.recovery is not None and not manager.recovery.done():
        await asyncio.shield(manager.recovery)  # what start-up recovery fixes is no problem
    problems = await doctor.examine(manager, repos)
    if params.get("fix") is True and problems:
        await doctor.repair(manager, problems, repos)
        remaining = await doctor.examine(manager, repos)
    else:
        remaining = problems
    return {
        "problems": [p.to_dict() for p in problems],
        "remaining": [p.to_dict() for p in remaining],
        "notes": list(manager.notes),
    }


async def h_trust_show(conn: Connection, params: dict[str, Any]) -> Any:
    repo = Path(str(params.get("repo") or ".")).expanduser()
    base = params.get("base") or None
    store = conn.host.manager.trust
    return await asyncio.to_thread(describe, repo, base if isinstance(base, str) else None, store)


async def h_trust_add(conn: Connection, params: dict[str, Any]) -> Any:
    shown = await h_trust_show(conn, params)
    digest = params.get("digest")
    if not shown["digest"]:
        raise PtuiError(f"{shown['repo']} has no .ptui.toml on {shown['base']}: nothing to trust")
    if digest != shown["digest"]:
        raise PtuiError(
            f"{shown['repo']}/.ptui.toml on {shown['base']} changed since it was shown; "
            "review it again"
        )
    conn.host.manager.trust.trust(Path(shown["repo"]), shown["digest"])
    shown["trusted"] = True
    return shown


def h_client_colors(conn: Connection, params: dict[str, Any]) -> Any:
    """The client's theme colours answer every program's colour queries (last client wins)."""
    from tui.term.emulator import check_hex_color

    foreground = check_hex_color(params.get("foreground"), "foreground")
    background = check_hex_color(params.get("background"), "background")
    conn.host.manager.set_colors(foreground, background)
    return True


HANDLERS: dict[str, Handler] = {
    Method.SERVER_STATUS: h_status,
    Method.SERVER_STOP: h_stop_server,
    Method.EVENTS_SUBSCRIBE: h_subscribe,
    Method.SESSION_LIST: h_list,
    Method.SESSION_INFO: h_info,
    Method.SESSION_CREATE: h_create,
    Method.SESSION_STOP: _simple("stop"),
    Method.SESSION_RESUME: h_resume,
    Method.SESSION_ARCHIVE: _simple("archive"),
    Method.SESSION_RESTORE: _simple("restore"),
    Method.SESSION_REMOVE: h_remove,
    Method.SESSION_COMMIT: h_commit,
    Method.SESSION_MERGE: h_merge,
    Method.SESSION_RUN: h_run,
    Method.SESSION_SHELL: h_shell,
    Method.SESSION_SCREEN: h_screen,
    Method.SESSION_SCROLLBACK: h_scrollback,
    Method.SESSION_INPUT: h_input,
    Method.SESSION_PASTE: h_paste,
    Method.SESSION_RESIZE: h_resize,
    Method.SESSION_ATTACH: h_attach,
    Method.SESSION_DETACH: h_detach,
    Method.SERVER_DOCTOR: h_doctor,
    Method.TRUST_SHOW: h_trust_show,
    Method.TRUST_ADD: h_trust_add,
    Method.CLIENT_COLORS: h_client_colors,
}


def _review(method: review.ReviewMethod) -> Handler:
    def handler(conn: Connection, params: dict[str, Any]) -> Any:
        return method(conn.host.review, params)

    return handler


HANDLERS.update({name: _review(method) for name, method in review.METHODS.items()})


class Host:
    """The server: its socket, its clients, its sessions."""

    def __init__(self, sock: socket.socket, socket_path: Path) -> None:
        self.sock = sock
        self.socket_path = socket_path
        self.connections: set[Connection] = set()
        self.partials = protocol.PartialBudget()
        """Unfinished frames of every connection together (`protocol.MAX_PARTIAL_TOTAL`)."""
        self.tasks: set[asyncio.Task[Any]] = set()
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
