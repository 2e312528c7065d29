"""The live terminal of one session tab, drawn with Textual's Line API.

The view attaches the tab it shows (`session.attach`) and detaches it when it
shows another, so hidden sessions cost nothing. Screen events are applied to a
`ScreenMirror` as they arrive (`feed`), which marks only the rows that changed
for repainting (the screen draws them at most once a frame). Each row's strip
is cached, and a scroll moves the cached strips instead of rebuilding them. The
cursor is laid over its row per the program's DECSCUSR shape.

Every key goes to the program, encoded for its modes (`tui.term.keys`), except
the screen's priority bindings (leader, alt+1..9, alt+[ ]) and this view's own
history keys. Keys that cannot be encoded (a split escape sequence over ssh) are
dropped, never typed. The program's mode sequences never reach the outer
terminal: Textual owns it.

Like Toad's `Terminal`, the view knows nothing of the app: it is given a way to
the server (`connection`, for attaching, input and history) and the table it
registers its `feed` in for the tab it shows (`sinks`), which whoever reads the
server's events uses to route screen updates.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style as RichStyle
from textual import events, work
from textual.binding import Binding, BindingType
from textual.dom import NoScreen
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from tui.app._textual_internals import can_hold_frames
from tui.app.widgets import mouse
from tui.app.widgets.echo_writer import EchoWriter
from tui.app.widgets.frozen_view import COPY, LEAVE, FrozenView
from tui.app.widgets.terminal_render import (
    StripRenderer,
    cursor_shape,
    draw_cursor,
    overlay,
)
from tui.client.async_client import AsyncClient
from tui.client.connection import input_request
from tui.client.mirror import ScreenMirror
from tui.errors import PtuiError
from tui.protocol import decode_runs
from tui.protocol.events import ScreenUpdate
from tui.protocol.messages import (
    SessionAttach,
    SessionDetach,
    SessionPaste,
    SessionResize,
    SessionScrollback,
)
from tui.term.keys import KeyModes, encode_key

if TYPE_CHECKING:
    from textual.screen import Screen


ScreenSinks = MutableMapping[tuple[str, str], Callable[[ScreenUpdate], None]]
"""(session, tab) -> the callback applying that tab's `screen` events."""

HISTORY_PAGE = 1000
"""History lines fetched per `session.scrollback` call."""
WHEEL_LINES = 3
_RESIZE_DELAY = 0.05
_RECENT_TABS = 16  # last screens kept (a few KB each) so switching back is instant
# How long a switch holds the app's frames for the new tab's screen: long enough
# for the host's answer (~2 ms), short enough that a slow one is not noticed.
_HOLD_FRAMES = 0.1
# An update of at most this many rows this soon after input is an echo: written
# at once (see `_write_rows_now`). Output that streams on is left to the frames.
_ECHO_ROWS = 2
_ECHO_WINDOW = 0.05
_BLOCK = RichStyle(reverse=True)


class TerminalView(ScrollView, can_focus=True):
    """One session tab's screen; keys typed here go to its program."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "shift+pageup",
            "history_up",
            "History",
            id="history_up",
            tooltip="Scroll back into the session's history (the program's own key in "
            "full-screen or mouse programs)",
            show=False,
        ),
        Binding(
            "shift+pagedown",
            "history_down",
            "History down",
            id="history_down",
            tooltip="Scroll towards the live screen",
            show=False,
        ),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "terminal-view--selection",
        "terminal-view--indicator",
        "terminal-view--copy-cursor",
    }
    DEFAULT_CSS = """
    TerminalView {
        overflow: hidden hidden;
        scrollbar-size: 0 0;
        background: $background;
        color: $foreground;
    }
    TerminalView > .terminal-view--selection { background: $accent 40%; }
    TerminalView > .terminal-view--indicator { background: $warning; color: $background; }
    TerminalView > .terminal-view--copy-cursor { background: $accent; color: $background; }
    """

    def __init__(
        self,
        *,
        connection: Callable[[], AsyncClient | None],
        sinks: ScreenSinks,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._connection = connection
        """The server connection now, or None while there is none."""
        self._sinks = sinks
        """Where `feed` is registered for the shown tab, for screen events to reach it."""
        self.session: str | None = None
        self.tab = "agent"
        self.mirror = ScreenMirror()
        self.alive = True
        """Whether the tab's program runs; keys are not sent to a finished one."""
        self.frozen: FrozenView | None = None
        """History or copy mode: the still picture shown instead of the live screen."""
        self.reserved_keys: frozenset[str] = frozenset()
        """Keys the screen binds with priority (leader, alt+N): never claimed here."""
        self.own_keys: frozenset[str] = frozenset({"shift+pageup", "shift+pagedown"})
        """Keys of this view's bindings after the user's keymap (set by the screen)."""
        self._renderer = StripRenderer()
        self._strips: list[Strip | None] = []
        self._dirty: set[int] = set()
        self._dirty_all = False
        self._resize_timer: Timer | None = None
        self._hold: contextlib.AbstractContextManager[None] | None = None
        self._hold_timer: Timer | None = None
        self._last_input = -1.0  # time.monotonic() of the last input sent to the program
        self._echo: EchoWriter | None = None
        self._home: Screen[Any] | None = None  # the screen it is mounted on
        self._gutter_width = 0
        self._key_modes: tuple[object, KeyModes] = (None, KeyModes())
        self._buttons_held = 0
        self._refused_notice = False
        self._loading_history = False
        self._pending_scroll = 0
        self._recent: dict[tuple[str, str], ScreenMirror] = {}

    # --------------------------------------------------------- attaching
    def show(self, session: str | None, tab: str = "agent") -> None:
        """Show `session`'s `tab` (None: nothing), attaching it and detaching the old one."""
        if (session, tab) == (self.session, self.tab):
            return
        switching = self.session is not None  # not the first picture after start-up
        self.leave()
        self.session, self.tab = session, tab
        # The last picture of a tab is the fallback: a switch holds frames until the
        # attach brings the full screen, and shows this only if that is slow.
        cached = self._recent.pop((session, tab), None) if session is not None else None
        self.mirror = cached or ScreenMirror(self.size.width or 80, self.size.height or 24)
        self.alive = True
        self.frozen = None
        self._refused_notice = False
        self._reset_cache()
        if session is not None:
            self._sinks[(session, tab)] = self.feed
            if switching:
                self._hold_frames()
            self._attach_tab(session, tab)
        self.refresh()

    def _hold_frames(self) -> None:
        """Draw nothing until the shown tab's full screen arrives (or `_HOLD_FRAMES`).

        A switch then lands as one frame with the sidebar, header and terminal
        together, instead of a frame of the old picture that delays the new one.
        """
        if self._hold is not None or not can_hold_frames():
            return  # without held frames being drawn later, a batch would lose them
        self._hold = self.app.batch_update()
        self._hold.__enter__()
        self._hold_timer = self.set_timer(_HOLD_FRAMES, self._release_frames)

    def _release_frames(self) -> None:
        hold, self._hold = self._hold, None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        if hold is not None:
            hold.__exit__(None, None, None)
            with contextlib.suppress(NoScreen):  # unmounting: nothing left to draw
                self.screen.check_idle()  # draw what changed meanwhile, now

    def reattach(self) -> None:
        """Attach the shown tab again (a new connection knows nothing of the old one)."""
        session, tab = self.session, self.tab
        self.session = None
        if session is not None:
            self.show(session, tab)

    def leave(self) -> None:
        """Stop receiving the current tab's screen (switching away, quitting)."""
        if self.session is None:
            return
        self._sinks.pop((self.session, self.tab), None)
        self._recent[(self.session, self.tab)] = self.mirror
        if len(self._recent) > _RECENT_TABS:
            del self._recent[next(iter(self._recent))]
        client = self._connection()
        if client is not None:
            client.notify(SessionDetach(id=self.session, tab=self.tab))
        self.session = None

    @work(exclusive=True, group="attach")
    async def _attach_tab(self, session: str, tab: str) -> None:
        client = self._connection()
        if client is None:
            return
        cols, rows = self._cells()
        try:
            result = await client.request(SessionAttach(id=session, tab=tab, cols=cols, rows=rows))
        except PtuiError as exc:
            if (session, tab) == (self.session, self.tab):
                self._release_frames()
                self.notify(str(exc), title="Cannot show the session", severity="error")
            return
        if (session, tab) == (self.session, self.tab):
            self.alive = result["alive"]

    def _cells(self) -> tuple[int, int]:
        width, height = self.size
        return (width if width > 1 else 80), (height if height > 1 else 24)

    # ---------------------------------------------------------- updates
    def feed(self, data: ScreenUpdate) -> None:
        """Apply one screen event (called by the app as it arrives) and ask for a repaint."""
        mirror = self.mirror
        old_rows, old_cols, old_cursor = mirror.rows, mirror.cols, mirror.cursor
        old_modes = mirror.modes
        mirror.apply(data)
        if data.get("full") or mirror.rows != old_rows or mirror.cols != old_cols:
            self._reset_cache()
        else:
            shift = min(int(data.get("scrolled", 0)), len(self._strips))
            if shift > 0:
                # The rows moved up: keep their strips, only the new rows are built.
                del self._strips[:shift]
                self._strips.extend([None] * shift)
                self._dirty_all = True
            for y, _runs in data.get("lines", ()):
                if 0 <= y < len(self._strips):
                    self._strips[y] = None
                    self._dirty.add(y)
        if mirror.cursor != old_cursor or mirror.modes is not old_modes:
            self._dirty.update((old_cursor[1], mirror.cursor[1]))
        if "exit_code" in data:
            self.alive = False
        echo = (
            not self._dirty_all
            and 0 < len(self._dirty) <= _ECHO_ROWS
            and time.monotonic() - self._last_input < _ECHO_WINDOW
        )
        if echo and self.session is not None:
            self._write_rows_now(sorted(self._dirty))
        # Repaint right here rather than through a message to this widget: marking
        # rows dirty is cheap, the screen still draws at most once per frame, and
        # a keystroke's echo skips a trip through the message queue. (The server
        # already sends at most 60 updates a second per tab.)
        self._repaint()
        if data.get("full"):
            self._release_frames()

    def _write_rows_now(self, rows: list[int]) -> bool:
        """Write a keystroke's echo at once (`EchoWriter`); True if written."""
        if self._echo is None or self.frozen is not None:
            return False
        return self._echo.write(rows)

    def _repaint(self) -> None:
        if self.session is None or self.frozen:
            return
        if self._dirty_all:
            self.refresh()
        else:
            for y in self._dirty:
                self.refresh_line(y)
        self._dirty.clear()
        self._dirty_all = False

    def _reset_cache(self) -> None:
        self._strips = [None] * self.mirror.rows
        self._dirty.clear()
        self._dirty_all = True

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._gutter_width = self.gutter.width
        if self._echo is not None:
            self._echo.forget_styles()
        if self._renderer.set_base(self.rich_style):
            self._reset_cache()
            self.refresh()

    def on_mount(self) -> None:
        self._renderer.set_base(self.rich_style)
        self._home = screen = self.screen  # a view never moves: no walk up the DOM per key
        self._echo = EchoWriter(screen, self)
        screen.screen_layout_refresh_signal.subscribe(self, self._echo.forget_layout)

    def on_unmount(self) -> None:
        self._release_frames()
        if self._home is not None:
            self._home.screen_layout_refresh_signal.unsubscribe(self)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, event.size.height)
        if self._echo is not None:
            self._echo.forget_layout()
        self._reset_cache()
        if self.frozen is not None:
            self.frozen.resize(event.size.height)
        if self._resize_timer is not None:
            self._resize_timer.stop()
        self._resize_timer = self.set_timer(_RESIZE_DELAY, self._send_size)

    def _send_size(self) -> None:
        client = self._connection()
        if self.session is not None and client is not None:
            cols, rows = self._cells()
            client.notify(SessionResize(id=self.session, cols=cols, rows=rows))

    # -------------------------------------------------------- rendering
    def render_line(self, y: int) -> Strip:
        # Not `self.size`: it walks up to the screen and asks the compositor, and
        # this runs for every row drawn and every echo.
        width = self.outer_size.width - self._gutter_width
        if self.frozen is not None:
            return self._frozen_line(y, width)
        if y >= len(self._strips):
            return self._renderer.blank(width)
        strip = self._strips[y]
        if strip is None or strip.cell_length != width:
            strip = self._strips[y] = self._renderer.strip(self.mirror.lines[y], width)
        x, cursor_y = self.mirror.cursor
        if y == cursor_y and self.has_focus and self.mirror.modes.get("cursor_visible", True):
            shape = cursor_shape(int(self.mirror.modes.get("cursor_shape") or 0))
            strip = draw_cursor(strip, self.mirror.lines[y], x, shape)
        return strip

    def _frozen_line(self, y: int, width: int) -> Strip:
        frozen = self.frozen
        assert frozen is not None
        line = frozen.line_at(y)
        strip = self._renderer.blank(width) if line is None else self._renderer.strip(line, width)
        row = frozen.top + y
        if frozen.copying:
            columns = frozen.selected_columns(row, width)
            if columns is not None:
                style = self.get_component_rich_style("terminal-view--selection")
                strip = overlay(strip, columns[0], columns[1], style)
            if row == frozen.cursor.row:
                style = self.get_component_rich_style("terminal-view--copy-cursor")
                col = frozen.cursor.col
                strip = overlay(strip, col, col + 1, style)
        if y == 0:
            label = " copy " if frozen.copying else ""
            if frozen.scrolled_back:
                label += f" -{frozen.scrolled_back} "
            if self._loading_history:
                label += " … "
            if label and width > len(label):
                style = self.get_component_rich_style("terminal-view--indicator")
                tag = Strip.blank(len(label), style)
                tag = Strip([seg._replace(text=label) for seg in tag], len(label))
                strip = Strip.join([strip.crop(0, width - len(label)), tag])
        return strip

    # ------------------------------------------------------------ input
    def key_modes(self) -> KeyModes:
        modes = self.mirror.modes
        if self._key_modes[0] is not modes:  # the mirror replaces the dict on a change
            self._key_modes = (
                modes,
                KeyModes(
                    app_cursor=bool(modes.get("app_cursor")),
                    app_keypad=bool(modes.get("app_keypad")),
                    kitty_flags=int(modes.get("kitty_flags") or 0),
                    bracketed_paste=bool(modes.get("bracketed_paste")),
                ),
            )
        return self._key_modes[1]

    def check_consume_key(self, key: str, character: str | None) -> bool:
        # Claiming a key hides the screen's bindings for it (and their footer
        # entries) while the terminal has focus: it claims all but the reserved ones.
        return key not in self.reserved_keys and key not in self.own_keys

    async def on_key(self, event: events.Key) -> None:
        if self.frozen is not None and self.frozen.copying:
            event.stop()
            event.prevent_default()
            self._copy_key(event.key, event.character)
            return
        if self._handled_elsewhere(event.key):
            return
        self._consume_key(event)

    def _handled_elsewhere(self, key: str) -> bool:
        """The screen's leader handling or this view's own bindings take `key`."""
        screen = self._home if self._home is not None else self.screen
        return (
            getattr(screen, "leader_pending", False)
            or key in self.own_keys
            or key in self.reserved_keys  # unbound after a remap (the fixed leader)
        )

    def take_key(self, event: events.Key) -> bool:
        """Send a key to the program now, from the app, ahead of Textual's routing.

        The app calls this before routing a key to this (focused) view. Where that
        routing could only end in `on_key` sending it, sending it here skips the
        priority-binding walk and a hop through this view's message queue: about
        half a millisecond of every keystroke's echo. False (route it as usual)
        for priority keys, this view's own keys, the leader's next key, copy mode,
        and while anything waits in this view's queue, so input keeps its order.
        """
        if (
            self.message_queue_size
            or event.key in self.reserved_keys
            or (self.frozen is not None and self.frozen.copying)
            or self._handled_elsewhere(event.key)
        ):
            return False
        self._consume_key(event)
        return True

    def _consume_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self._send_key(event.key, event.character)

    def send_bytes(self, data: bytes) -> None:
        """Send input to the tab's program (snapping back to the live screen)."""
        client = self._connection()
        if self.session is None or client is None:
            return
        if not self.alive:
            if not self._refused_notice:
                self._refused_notice = True
                self.notify("This tab's program is not running. Resume the session first.")
            return
        self._unfreeze()
        self._last_input = time.monotonic()
        client.notify(input_request(self.session, data, self.tab))

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        client = self._connection()
        if self.session is None or client is None or not event.text or not self.alive:
            return
        self._unfreeze()
        # The server wraps it in bracketed-paste markers when the program asked for them.
        client.notify(SessionPaste(id=self.session, tab=self.tab, text=event.text))

    def on_focus(self) -> None:
        self.refresh_line(self.mirror.cursor[1])
        # Another client (ptui attach) may have resized the session: typing here takes it back.
        if self.session is not None and self._cells() != (self.mirror.cols, self.mirror.rows):
            self._send_size()

    def on_blur(self) -> None:
        self.refresh_line(self.mirror.cursor[1])

    # ------------------------------------------------------------ mouse
    def _mouse(self, event: events.MouseEvent, button: int, kind: str) -> bool:
        """Forward a mouse event if the program tracks the mouse; True if it did."""
        modes = self.mirror.modes
        if self.frozen is not None or not mouse.wants(modes, kind, bool(self._buttons_held)):
            return False
        data = mouse.encode_mouse(
            modes, button, event.x, event.y, kind, shift=event.shift, meta=event.meta,
            ctrl=event.ctrl,
        )  # fmt: skip
        if data is not None:
            self.send_bytes(data)
        return True

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        if not self._mouse(event, mouse.WHEEL_UP, mouse.PRESS):
            self.scroll_history(-WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        if not self._mouse(event, mouse.WHEEL_DOWN, mouse.PRESS):
            self.scroll_history(WHEEL_LINES)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._buttons_held += 1
        self._mouse(event, min(event.button - 1, 2) if event.button else 0, mouse.PRESS)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._buttons_held = max(0, self._buttons_held - 1)
        self._mouse(event, min(event.button - 1, 2) if event.button else 0, mouse.RELEASE)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.mirror.modes.get("mouse_tracking") in (1002, 1003):
            button = min(event.button - 1, 2) if event.button else 3
            self._mouse(event, button, mouse.MOTION)

    # ---------------------------------------------------------- history
    def _forwards_history_keys(self) -> bool:
        """Full-screen and mouse programs get shift+pgup/pgdn themselves."""
        modes = self.mirror.modes
        return bool(modes.get("alt_screen") or modes.get("mouse_tracking"))

    def action_history_up(self) -> None:
        if self._forwards_history_keys() and self.frozen is None:
            self._send_key("shift+pageup")
        else:
            self.scroll_history(-max(1, self.size.height - 1))

    def action_history_down(self) -> None:
        if self._forwards_history_keys() and self.frozen is None:
            self._send_key("shift+pagedown")
        else:
            self.scroll_history(max(1, self.size.height - 1))

    def _send_key(self, key: str, character: str | None = None) -> None:
        data = encode_key(key, character, self.key_modes())
        if data is not None:
            self.send_bytes(data)

    def freeze(self) -> FrozenView:
        """Show a still picture of the screen (history and copy mode start here)."""
        if self.frozen is None:
            rows = self.mirror.rows
            self.frozen = FrozenView(self.mirror.lines[:rows], self.mirror.cursor, self.size.height)
            self.refresh()
        return self.frozen

    def _unfreeze(self) -> None:
        if self.frozen is not None:
            self.frozen = None
            self.refresh()

    def scroll_history(self, delta: int) -> None:
        """Scroll by `delta` lines (negative: back); reaching the bottom returns to live."""
        if self.session is None:
            return
        if self.frozen is None:
            if delta >= 0:
                return
            self.freeze()
        frozen = self.frozen
        assert frozen is not None
        wanted = frozen.bottom + delta
        frozen.scroll(delta)
        # What could not be scrolled yet waits for the history page being loaded.
        self._pending_scroll = min(0, wanted - frozen.bottom)
        if delta > 0 and frozen.at_bottom and not frozen.copying:
            self._unfreeze()
            return
        if frozen.needs_history:
            self.load_history()
        self.refresh()

    @work(exclusive=True, group="history")
    async def load_history(self) -> None:
        """Fetch the page of history above what the frozen view holds."""
        frozen, client = self.frozen, self._connection()
        if frozen is None or client is None or self.session is None or frozen.history_start == 0:
            return
        session, tab = self.session, self.tab
        self._loading_history = True
        self.refresh_line(0)
        try:
            stop = frozen.history_start
            if stop is None:
                probe = await client.request(
                    SessionScrollback(id=session, tab=tab, start=2**53, count=0)
                )
                stop = probe["total"]
            start = max(0, stop - HISTORY_PAGE)
            page = await client.request(
                SessionScrollback(id=session, tab=tab, start=start, count=stop - start)
            )
        except PtuiError as exc:
            self.notify(str(exc), title="Cannot read the history", severity="error")
            return
        finally:
            self._loading_history = False
        if self.frozen is not frozen:
            return
        frozen.prepend([decode_runs(runs) for runs in page["lines"]], start)
        if self._pending_scroll:
            frozen.scroll(self._pending_scroll)
            self._pending_scroll = 0
        self.refresh()

    # -------------------------------------------------------- copy mode
    def start_copy_mode(self) -> None:
        """Keyboard selection: move with arrows/hjkl, v to select, y to copy."""
        if self.session is None:
            return
        frozen = self.freeze()
        frozen.copying = True
        frozen.anchor = None
        frozen.cursor.row = max(0, min(len(frozen.lines) - 1, frozen.top + self.mirror.cursor[1]))
        frozen.cursor.col = self.mirror.cursor[0]
        self.focus()
        self.refresh()

    def _copy_key(self, key: str, character: str | None) -> None:
        frozen = self.frozen
        assert frozen is not None
        outcome = frozen.copy_key(key, character, page=max(1, self.size.height - 1))
        if outcome == COPY:
            text = frozen.selected_text()
            self.app.copy_to_clipboard(text)  # OSC 52: works over ssh too
            self.notify(f"Copied {len(text)} characters", timeout=2)
        if outcome in (COPY, LEAVE):
            self._unfreeze()
            return
        if frozen.needs_history:
            self.load_history()
        self.refresh()
