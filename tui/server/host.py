"""The session host's event loop: accept clients, check who they are, dispatch requests.

One asyncio loop serves every client and every PTY. Connections are asyncio
`Protocol`s (callbacks, no per-message task), so a keystroke goes from the socket
to the PTY inside one callback. Requests that do git work or stop processes run
as tasks whose blocking parts sit in worker threads. A client whose frame cannot
be used gets an error frame and is disconnected; nobody else notices.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tui import __version__, paths
from tui.errors import PtuiError
from tui.git.model import GitError
from tui.server import protocol, review
from tui.server.manager import NotFound, SessionManager
from tui.server.session import AGENT_TAB
from tui.server.tab import decode_input
from tui.server.trust import read_repo_config
from tui.term.emulator import line_to_ansi
from tui.term.keys import KeyModes, encode_paste

log = logging.getLogger("ptui.server")

_WRITE_HIGH_WATER = 1 << 20  # bytes queued for a client before its screen updates pause
_PEERCRED = struct.Struct("3i")  # struct ucred {pid, uid, gid}

Handler = Callable[["Connection", dict[str, Any]], Awaitable[Any] | Any]


class Connection(asyncio.Protocol):
    """One client: frames in, responses and events out."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.transport: asyncio.Transport | None = None
        self.decoder = protocol.FrameDecoder()
        self.greeted = False
        self.subscribed = False
        self.paused = False
        self.closed = False
        self.viewing: set[tuple[str, str]] = set()
        self.peer_pid = 0

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
        self.host.connections.discard(self)
        for session_id, tab_name in list(self.viewing):
            session = self.host.manager.sessions.get(session_id)
            if session is not None and tab_name in session.tabs:
                session.tabs[tab_name].remove_viewer(self)
        self.viewing.clear()

    def pause_writing(self) -> None:
        self.paused = True  # screen updates are dropped; a full screen follows on resume

    def resume_writing(self) -> None:
        self.paused = False
        for session_id, tab_name in list(self.viewing):
            session = self.host.manager.sessions.get(session_id)
            if session is not None and tab_name in session.tabs:
                self.send(session.tabs[tab_name].full_frame())

    def send(self, frame: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(frame)

    def fail(self, request_id: Any, code: str, message: str) -> None:
        """Send an error frame and close this connection."""
        self.send(protocol.error_frame(request_id, code, message))
        self.closed = True
        transport = self.transport
        if transport is None:
            return
        # Half-close and let the peer read the error: closing with its unread
        # request still queued would make the kernel reset the connection and
        # drop the error frame. Whatever it sends meanwhile is ignored.
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(2.0, transport.abort)
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
            not isinstance(method, str)
            or not isinstance(params, dict)
            or not (request_id is None or (isinstance(request_id, int) and request_id >= 0))
        ):
            self.fail(
                request_id if isinstance(request_id, int) else None,
                protocol.BAD_REQUEST,
                "not a request: needs method (string), params (object), id (integer)",
            )
            return
        if not self.greeted:
            self.hello(request_id, method, params)
            return
        handler = HANDLERS.get(method)
        if handler is None:
            self.fail(request_id, protocol.UNKNOWN_METHOD, f"unknown method {method!r}")
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
        if method != "hello":
            self.fail(request_id, protocol.BAD_REQUEST, "the first request must be hello")
        elif version != protocol.VERSION:
            self.fail(
                request_id,
                protocol.VERSION_MISMATCH,
                f"protocol version {version!r} not supported (server speaks "
                f"{protocol.VERSION}); run the same ptui version on both ends",
            )
        else:
            self.greeted = True
            self.reply(request_id, {
                "version": protocol.VERSION, "ptui": __version__, "pid": os.getpid(),
                # Local clients check it is theirs: the socket is per user, not per HOME.
                "state": str(self.host.manager.store.path),
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
        self.send(frame)
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
            self.send(protocol.encode({"event": "error", "data": {"code": code, "message": text}}))
        else:
            self.send(protocol.error_frame(request_id, code, text))


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
    workdir, base_name, text = await asyncio.to_thread(read_repo_config, repo, base)
    result: dict[str, Any] = {"repo": str(workdir), "base": base_name, "text": text or ""}
    if text is None:
        result.update(digest="", trusted=True, scripts={})
        return result
    from tui.config import load_config

    config = await asyncio.to_thread(load_config, workdir, repo_text=text)
    result["digest"] = config.repo_digest
    result["trusted"] = conn.host.manager.trust.is_trusted(workdir, config.repo_digest)
    result["scripts"] = {n: config.scripts[n] for n in sorted(config.repo_scripts)}
    return result


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


HANDLERS: dict[str, Handler] = {
    "server.status": h_status,
    "server.stop": h_stop_server,
    "events.subscribe": h_subscribe,
    "session.list": h_list,
    "session.info": h_info,
    "session.create": h_create,
    "session.stop": _simple("stop"),
    "session.resume": h_resume,
    "session.archive": _simple("archive"),
    "session.restore": _simple("restore"),
    "session.remove": h_remove,
    "session.commit": h_commit,
    "session.merge": h_merge,
    "session.run": h_run,
    "session.shell": h_shell,
    "session.screen": h_screen,
    "session.scrollback": h_scrollback,
    "session.input": h_input,
    "session.paste": h_paste,
    "session.resize": h_resize,
    "session.attach": h_attach,
    "session.detach": h_detach,
    "server.doctor": h_doctor,
    "trust.show": h_trust_show,
    "trust.add": h_trust_add,
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
        self.tasks: set[asyncio.Task[Any]] = set()
        self.started = time.monotonic()
        self.manager: SessionManager
        self.review: review.Review
        self._stop = asyncio.Event()

    def broadcast(self, event: str, data: dict[str, Any]) -> None:
        frame = protocol.encode({"event": event, "data": data})
        for conn in list(self.connections):
            if conn.subscribed:
                conn.send(frame)

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
