"""`ptui attach`: a session's terminal, full screen in the current terminal, like tmux.

The outer terminal goes raw and onto its alternate screen. Screen updates are
drawn line by line with cursor positioning (a scroll is drawn as a scroll, then
only the new lines); the modes the program turned on that change what the outer
terminal sends (application cursor keys, bracketed paste, mouse reporting, focus
events, kitty keyboard flags) are mirrored, so keys arrive as the program expects.
Keystrokes go to the session unchanged, except the detach key (ctrl+] unless
`--detach-key` says otherwise). On detach every mode is reset and the terminal's
settings restored.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import termios
import tty

from tui.client.connection import Client
from tui.errors import PtuiError, UsageError
from tui.protocol import decode_runs
from tui.protocol.events import ErrorEvent, ScreenEvent, ScreenModes, ScreenUpdate, decode_event
from tui.protocol.messages import SessionAttach, SessionResize
from tui.term.lines import line_to_ansi

_ENTER = "\x1b[?1049h\x1b[H\x1b[2J"
# Everything a program may have switched on in the outer terminal through us.
_LEAVE = (
    "\x1b[0m\x1b[r\x1b[?25h\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l"
    "\x1b[?1006l\x1b[?1004l\x1b[=0;1u\x1b[ q\x1b[?1049l"
)
_MOUSE = {9: "9", 1000: "1000", 1002: "1002", 1003: "1003"}


def detach_key_bytes(spec: str) -> tuple[bytes, ...]:
    """The byte forms of a detach key `ctrl+X` (legacy control byte, kitty CSI u)."""
    spec = spec.strip().lower()
    if not spec.startswith("ctrl+") or len(spec) != 6:
        raise UsageError(f"detach key {spec!r}: expected ctrl+<key>, e.g. ctrl+] or ctrl+q")
    char = spec[-1]
    code = ord(char.upper()) ^ 0x40 if char.isalpha() or char in "[\\]^_@" else -1
    if not 0 <= code < 0x20:
        raise UsageError(f"detach key {spec!r}: ctrl+{char} has no control character")
    return bytes([code]), f"\x1b[{ord(char)};5u".encode()


class _Screen:
    """Draws screen updates onto the outer terminal."""

    def __init__(self, out_fd: int, cols: int, rows: int) -> None:
        self.out_fd = out_fd
        self.cols, self.rows = cols, rows
        self.modes: ScreenModes = {}

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(self.out_fd, data) :]

    def draw(self, data: ScreenUpdate) -> None:
        out: list[str] = []
        rows = min(int(data.get("rows", self.rows)), self.rows)
        if data.get("full"):
            out.append("\x1b[0m\x1b[H\x1b[2J")
        scrolled = int(data.get("scrolled", 0))
        if scrolled:
            # Let the outer terminal move the rows; only the new ones are drawn.
            out.append(f"\x1b[0m\x1b[1;{rows}r\x1b[{min(scrolled, rows)}S\x1b[r")
        for y, runs in data.get("lines", []):
            if 0 <= y < rows:
                text = line_to_ansi(decode_runs(runs))
                out.append(f"\x1b[{y + 1}H\x1b[0m{text}\x1b[0m\x1b[K")
        if "modes" in data:
            out.append(self._modes(data["modes"]))
        if "title" in data:
            title = "".join(ch for ch in str(data["title"]) if ch.isprintable())
            out.append(f"\x1b]2;{title}\x07")
        x, y = data.get("cursor", (0, 0))
        out.append(f"\x1b[{min(int(y), rows - 1) + 1};{int(x) + 1}H")
        self.write("".join(out))

    def _modes(self, modes: ScreenModes) -> str:
        old, self.modes = self.modes, modes
        out = []

        def flag(key: str, seq: str) -> None:
            if bool(modes.get(key)) != bool(old.get(key)) or not old:
                out.append(f"\x1b[?{seq}{'h' if modes.get(key) else 'l'}")

        flag("cursor_visible", "25")
        flag("app_cursor", "1")
        flag("bracketed_paste", "2004")
        flag("focus_events", "1004")
        flag("mouse_sgr", "1006")
        if modes.get("mouse_tracking") != old.get("mouse_tracking"):
            if old.get("mouse_tracking") in _MOUSE:
                out.append(f"\x1b[?{_MOUSE[old['mouse_tracking']]}l")
            if modes.get("mouse_tracking") in _MOUSE:
                out.append(f"\x1b[?{_MOUSE[modes['mouse_tracking']]}h")
        if modes.get("app_keypad") != old.get("app_keypad"):
            out.append("\x1b=" if modes.get("app_keypad") else "\x1b>")
        if modes.get("kitty_flags", 0) != old.get("kitty_flags", 0):
            out.append(f"\x1b[={int(modes.get('kitty_flags', 0))};1u")
        if modes.get("cursor_shape", 0) != old.get("cursor_shape", 0):
            out.append(f"\x1b[{int(modes.get('cursor_shape', 0))} q")
        return "".join(out)


def attach(client: Client, session: str, tab: str = "agent", detach_key: str = "ctrl+]") -> str:
    """Show the session until the detach key, its exit or a lost connection; says which."""
    keys = detach_key_bytes(detach_key)
    in_fd, out_fd = sys.stdin.fileno(), sys.stdout.fileno()
    if not (os.isatty(in_fd) and os.isatty(out_fd)):
        raise PtuiError("attach needs a terminal (use `ptui show` to print the screen)")
    cols, rows = os.get_terminal_size(out_fd)
    info = client.request(SessionAttach(id=session, tab=tab, cols=cols, rows=rows))
    sid = info["id"]
    screen = _Screen(out_fd, cols, rows)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    old_winch = signal.signal(signal.SIGWINCH, lambda *_: _poke(wake_w))
    saved = termios.tcgetattr(in_fd)
    reason = "detached"
    try:
        tty.setraw(in_fd)
        screen.write(_ENTER)
        while True:
            # Events can already be queued (the first screen arrives with the
            # attach answer); select would not see those, so do not sleep then.
            timeout = 0 if client.has_events else None
            ready, _, _ = select.select([in_fd, client.fileno(), wake_r], [], [], timeout)
            if wake_r in ready:
                os.read(wake_r, 512)
                cols, rows = os.get_terminal_size(out_fd)
                screen.cols, screen.rows = cols, rows
                client.notify(SessionResize(id=sid, cols=cols, rows=rows))
            if in_fd in ready:
                data = os.read(in_fd, 65536)
                cut = min((data.find(k) for k in keys if k in data), default=-1)
                if cut >= 0:
                    if cut:
                        client.send_input(sid, data[:cut], tab)
                    break
                if not data:
                    break
                client.send_input(sid, data, tab)
            if client.fileno() in ready or client.has_events:
                finished = _drain(client, screen, sid, tab)
                if finished:
                    reason = finished
                    break
    except PtuiError as exc:
        reason = f"connection lost: {exc}"
    finally:
        with contextlib.suppress(OSError):
            screen.write(_LEAVE)
        termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, old_winch)
        os.close(wake_r)
        os.close(wake_w)
    return f"[{reason} from {sid}]" if reason == "detached" else f"[{sid}: {reason}]"


def _drain(client: Client, screen: _Screen, sid: str, tab: str) -> str:
    for message in client.poll_events():
        event = decode_event(message)
        if isinstance(event, ScreenEvent) and (event.session, event.tab) == (sid, tab):
            data = event.data
            screen.draw(data)
            if "exit_code" in data and not data.get("full"):
                return f"exited with code {data['exit_code']}"
        elif isinstance(event, ErrorEvent):
            return f"error: {event.message}"
    return ""


def _poke(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, b"!")
