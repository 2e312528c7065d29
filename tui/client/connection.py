"""The one client library for the session host, used by the CLI and the app.

Two front ends over the same frames (`tui.protocol`):

- `Client`: blocking, for the CLI and benchmarks. `call()` sends a request and
  reads until its answer, keeping events that arrive meanwhile; `notify()` sends
  without waiting (keystrokes); `next_event()` waits for a pushed event; `fileno()`
  lets a caller `select` on it next to a terminal.
- `AsyncClient` (in `tui.client.async_client`, so the CLI never imports asyncio:
  ~55 ms of every `ptui ls`): asyncio, for the Textual app.
- `EarlyConnection`: a local `Client` that connects, says hello and subscribes
  to events on a thread, so the server answers while the app is still importing
  Textual; `AsyncClient.adopt` then takes its socket over, bytes and all.

Transport: the local Unix socket (the server is started on demand), or with
`host` set, `ssh <host> ptui proxy` — OpenSSH carries the same frames; nothing
listens on a network port. `PTUI_SSH` (default `ssh`) is the ssh command line,
split like a shell would (`ssh -F ~/.ssh/other_config -p 2222`), and
`PTUI_REMOTE_PTUI` the ptui command on the far side (default `ptui`).
"""

from __future__ import annotations

import base64
import contextlib
import os
import select
import shlex
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from tui import paths, protocol
from tui.client import spawn
from tui.errors import PtuiError
from tui.protocol.messages import Hello, HelloRequest, Request, SessionInput, Subscribe, Subscribed
from tui.protocol.shapes import ShapeError

R = TypeVar("R")

SSH_ENV = "PTUI_SSH"
REMOTE_ENV = "PTUI_REMOTE_PTUI"
READ_SIZE = 1 << 18


class ConnectionLost(PtuiError):
    """The connection to the server closed."""


class ServerNotRunning(PtuiError):
    """No server is running (and none was to be started)."""


class OtherStateServer(PtuiError):
    """The local server keeps its sessions in another state file (another HOME)."""


def check_same_state(server: Hello) -> None:
    """Refuse a local server whose `hello` names another state file than ours.

    The socket is per user (like tmux's), the state per HOME / XDG_STATE_HOME: a
    ptui run with another HOME would otherwise join the first one's server and
    its sessions would be saved in that HOME's state.
    """
    theirs = server["state"]
    ours = paths.state_file()
    if os.path.realpath(theirs) != os.path.realpath(ours):
        raise OtherStateServer(
            f"{paths.socket_path()}: that ptui server keeps its sessions in {theirs}, "
            f"this ptui in {ours} (another HOME or XDG_STATE_HOME); stop it with "
            "`ptui server --stop` or give this ptui its own XDG_RUNTIME_DIR"
        )


def ssh_command(host: str, ssh_config: str | None = None) -> list[str]:
    """The argv that runs `ptui proxy` on `host` through OpenSSH."""
    if not host or host.startswith("-"):
        raise PtuiError(f"bad host {host!r}: expected [user@]host")
    ssh = shlex.split(os.environ.get(SSH_ENV, "") or "ssh")
    if ssh_config:
        ssh += ["-F", ssh_config]
    remote = os.environ.get(REMOTE_ENV, "") or "ptui"
    # -T: no PTY on the far side (frames are binary); -e none: no escape character;
    # "--" so a host can never be read as an ssh option.
    return [*ssh, "-T", "-e", "none", "-o", "BatchMode=yes", "--", host, f"{remote} proxy"]


def connect_socket(start: bool = True) -> socket.socket:
    """A connected socket to the local server, starting the server if needed."""
    path = paths.socket_path()
    for attempt in range(3):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return sock
        except OSError as exc:
            sock.close()
            if not spawn.is_missing_socket(exc):
                raise PtuiError(f"{path}: cannot connect to the ptui server: {exc}") from None
            if not start:
                raise ServerNotRunning("the ptui server is not running") from None
        if attempt < 2:
            spawn.start_server()
    raise PtuiError(f"{path}: the ptui server started but does not accept connections")


def local_server_serving() -> bool:
    """Whether the local server's socket is in place.

    A stopping server removes its socket before it stops its sessions and keeps
    its lock (`spawn.running_pid`) until it has exited: a held lock without a
    socket is a server on its way out, not one that still runs.
    """
    return paths.socket_path().exists()


def lost_reason(message: dict[str, object]) -> str | None:
    """The server's reason for dropping this connection, if `message` is one.

    A client that stopped reading is sent `{"id": null, "error": {"code":
    "stalled", "message": "ptui: disconnected: ..."}}` before the close.
    """
    error = message.get("error")
    if message.get("id") is not None or not isinstance(error, dict):
        return None
    return str(error.get("message")) if error.get("code") == protocol.STALLED else None


def checked(request: Request[R], raw: object) -> R:
    """The answer to `request`, checked against its type (ProtocolError if it does not fit)."""
    try:
        return request.result(raw)
    except ShapeError as exc:
        raise protocol.ProtocolError(
            protocol.BAD_FRAME, f"the server's answer to {request.METHOD}: {exc}"
        ) from None


def input_request(session: str, data: bytes, tab: str = "agent") -> SessionInput:
    """Keystrokes as a request: UTF-8 text when they are, base64 otherwise."""
    try:
        return SessionInput(id=session, tab=tab, text=data.decode("utf-8"))
    except UnicodeDecodeError:
        return SessionInput(id=session, tab=tab, b64=base64.b64encode(data).decode())


class _Pipe:
    """Reading and writing one connection: a socket, or an ssh child's pipes."""

    def __init__(
        self, rfd: int, wfd: int, closer: Callable[[], None], sock: socket.socket | None = None
    ) -> None:
        self.rfd = rfd
        self.wfd = wfd
        self._closer = closer
        self.sock = sock
        """The local socket (None through ssh): what `Client.detach` hands over."""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.wfd, view)
            except BlockingIOError:
                select.select([], [self.wfd], [])
                continue
            except (BrokenPipeError, ConnectionResetError):
                raise ConnectionLost("the connection to the ptui server closed") from None
            view = view[written:]

    def close(self) -> None:
        self._closer()


def _open_pipe(host: str | None, start: bool, ssh_config: str | None) -> _Pipe:
    if host is None:
        sock = connect_socket(start)
        return _Pipe(sock.fileno(), sock.fileno(), sock.close, sock)
    argv = ssh_command(host, ssh_config)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    except OSError as exc:
        raise PtuiError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def close() -> None:
        with contextlib.suppress(OSError):
            stdin.close()
        stdout.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    return _Pipe(stdout.fileno(), stdin.fileno(), close)


class Client:
    """A blocking connection to the ptui server (local, or remote through ssh)."""

    def __init__(
        self,
        host: str | None = None,
        *,
        start: bool = True,
        name: str = "cli",
        ssh_config: str | None = None,
        check_state: bool = True,
    ) -> None:
        self.host = host
        self._pipe = _open_pipe(host, start, ssh_config)
        self._decoder = protocol.FrameDecoder()
        self._events: deque[dict[str, object]] = deque()
        self._responses: dict[int, dict[str, object]] = {}
        self._next_id = 1
        self.closed = False
        try:
            self.server: Hello = self.request(HelloRequest(version=protocol.VERSION, client=name))
            if host is None and check_state:
                check_same_state(self.server)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._pipe.close()

    def fileno(self) -> int:
        """The fd to `select` on for incoming frames (then call `poll_events`)."""
        return self._pipe.rfd

    def detach(
        self,
    ) -> tuple[socket.socket, protocol.FrameDecoder, list[dict[str, object]], int]:
        """Give up the local connection: its socket, the decoder holding any partly
        read frame, the events read but not taken, and the next request id.

        This client is closed afterwards without closing the socket.
        """
        sock = self._pipe.sock
        if sock is None or self.closed:
            raise PtuiError("only an open local connection can be handed over")
        self.closed = True
        events = list(self._events)
        self._events.clear()
        return sock, self._decoder, events, self._next_id

    # --------------------------------------------------------------- sending
    def _send(self, method: str, params: dict[str, object], request_id: int | None) -> None:
        message: dict[str, object] = {"method": method, "params": params}
        if request_id is not None:
            message["id"] = request_id
        self._pipe.write(protocol.encode(message))

    def request(self, request: Request[R], timeout: float | None = None) -> R:
        """Send `request` and wait for its answer, checked against its type.

        A server error raises RemoteError; an answer that does not fit its type is
        a ProtocolError (bad-frame) naming the field.
        """
        raw = self._call(request.METHOD, request.params(), timeout)
        return checked(request, raw)

    def call(self, method: str, timeout: float | None = None, **params: object) -> object:
        """Send any method with any params and return the raw, unchecked answer.

        For tests of the wire and for debugging only: the app and the CLI send
        typed requests (`request`), and a test holds them to it.
        """
        return self._call(method, params, timeout)

    def _call(self, method: str, params: dict[str, object], timeout: float | None) -> object:
        request_id = self._next_id
        self._next_id += 1
        self._send(method, params, request_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while request_id not in self._responses:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise PtuiError(f"the ptui server did not answer {method} in {timeout:g}s")
            self._read(left)
        response = self._responses.pop(request_id)
        error = response.get("error")
        if error is not None:
            raise protocol.RemoteError.from_frame(error)
        return response.get("result")

    def notify(self, request: Request[object]) -> None:
        """Send a request without waiting (errors come back as `error` events)."""
        self._send(request.METHOD, request.params(), None)

    def send_input(self, session: str, data: bytes, tab: str = "agent") -> None:
        """Keystrokes for a session's tab, without waiting for an answer."""
        self.notify(input_request(session, data, tab))

    # -------------------------------------------------------------- receiving
    def _read(self, timeout: float | None) -> bool:
        """Read what is there (waiting up to `timeout`); False on timeout."""
        if timeout is not None:
            ready, _, _ = select.select([self._pipe.rfd], [], [], max(timeout, 0))
            if not ready:
                return False
        try:
            data = os.read(self._pipe.rfd, READ_SIZE)
        except ConnectionResetError:
            data = b""
        if not data:
            self.close()
            raise ConnectionLost("the connection to the ptui server closed")
        for message in self._decoder.feed(data):
            if "event" in message:
                self._events.append(message)
            elif isinstance(request_id := message.get("id"), int):
                self._responses[request_id] = message
            elif (lost := lost_reason(message)) is not None:
                self.close()
                raise ConnectionLost(lost)
            elif "error" in message:
                raise protocol.RemoteError.from_frame(message["error"])
        return True

    @property
    def has_events(self) -> bool:
        """Events already read and waiting (select on `fileno()` would not show them)."""
        return bool(self._events)

    def poll_events(self) -> list[dict[str, object]]:
        """Events already received, reading whatever is available without waiting."""
        while self._read(0):
            pass
        events = list(self._events)
        self._events.clear()
        return events

    def next_event(self, timeout: float | None = None) -> dict[str, object] | None:
        """The next pushed event, waiting up to `timeout` seconds (None: forever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._events:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            self._read(left)
        return self._events.popleft()


class EarlyConnection:
    """Connect to the local server, say hello and subscribe to events, on a thread.

    The app starts one before importing Textual (about 200 ms), so the server's
    answer, the session list, is there when the first screen is composed.
    """

    def __init__(self, name: str = "app") -> None:
        self._name = name
        self.client: Client | None = None
        self.subscribed: Subscribed = {"sessions": []}
        """The `events.subscribe` answer."""
        self.error: PtuiError | OSError | None = None
        self._done = threading.Event()
        threading.Thread(target=self._connect, name="ptui-connect", daemon=True).start()

    def _connect(self) -> None:
        try:
            client = Client(None, name=self._name)
            try:
                self.subscribed = client.request(Subscribe())
            except BaseException:
                client.close()
                raise
            self.client = client
        except (PtuiError, OSError) as exc:
            self.error = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        """Whether the attempt has ended (connected, or failed with `error`)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)
