"""The app with timing hooks, for `ptui bench ui`: `python -m tui.bench.ui_probe LOG`.

Runs exactly what `ptui` runs (`tui.cli.main([])`, in a real terminal: tmux) after
wrapping four methods from the outside, so the app itself carries no benchmark
code. Each hook appends one JSON line `[time, kind, ...]` to LOG; times are
`time.monotonic()`, one clock for every process on the machine, so the bench
can compare them with its own.

- `key`: the app starts handling a key (after the driver parsed it);
- `show`: the terminal view switches to a session;
- `feed`: a screen update for the shown session arrives (`full` on attach);
- `frame`: the app wrote a frame to the terminal, with the session whose
  terminal lines were drawn in it (None if the terminal drew nothing); also
  when the terminal view wrote a keystroke's echo ahead of the frame.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any


def install(log_path: str) -> None:
    """Wrap the app's key handling, terminal view and frame output to log to `log_path`."""
    from tui.cli.app import set_frame_rate

    # Before the wrapping imports Textual: it reads TEXTUAL_FPS once, at import, and
    # `ptui` itself sets it later (run_app) than this.
    set_frame_rate()
    from textual import events
    from textual.app import App

    from tui.app._textual_internals import watch_frames
    from tui.app.app import PtuiApp
    from tui.app.widgets.terminal_view import TerminalView

    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def log(*fields: object) -> None:
        os.write(fd, (json.dumps([time.monotonic(), *fields]) + "\n").encode())

    drawn: dict[str, str | None] = {"session": None}

    # The first method that sees a key: the app's own `on_event` (ahead of Textual's).
    on_event: Callable[..., Any] = PtuiApp.on_event

    async def logged_on_event(self: App[Any], event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            log("key", event.key)
        await on_event(self, event)

    def logged_frame(_app: App[Any]) -> None:
        log("frame", drawn["session"])
        drawn["session"] = None

    render_line: Callable[..., Any] = TerminalView.render_line

    def logged_render_line(self: TerminalView, y: int) -> Any:
        drawn["session"] = self.session
        return render_line(self, y)

    feed: Callable[..., None] = TerminalView.feed

    def logged_feed(self: TerminalView, data: Mapping[str, object]) -> None:
        log("feed", data.get("session"), bool(data.get("full")))
        feed(self, data)

    show: Callable[..., None] = TerminalView.show

    def logged_show(self: TerminalView, session: str | None, tab: str = "agent") -> None:
        if session != self.session:
            log("show", session)
        show(self, session, tab)

    write_now: Callable[..., bool] = TerminalView._write_rows_now

    def logged_write_now(self: TerminalView, rows: list[int]) -> bool:
        written = write_now(self, rows)
        if written:
            log("frame", self.session)
        return written

    setattr(TerminalView, "_write_rows_now", logged_write_now)  # noqa: B010
    setattr(PtuiApp, "on_event", logged_on_event)  # noqa: B010 - wrapping from outside
    watch_frames(logged_frame)  # Textual's frame output: private, so wrapped over there
    setattr(TerminalView, "render_line", logged_render_line)  # noqa: B010
    setattr(TerminalView, "feed", logged_feed)  # noqa: B010
    setattr(TerminalView, "show", logged_show)  # noqa: B010
    log("start")


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m tui.bench.ui_probe LOG", file=sys.stderr)
        return 2
    install(sys.argv[1])
    from tui.cli import main as ptui_main

    return ptui_main([])


if __name__ == "__main__":
    sys.exit(main())
