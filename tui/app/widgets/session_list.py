"""The sidebar: every live session with its status, branch, changes and port.

Each row shows a status icon (busy, waiting, idle, exited, stopped), the name, a
dot when it produced output you have not seen, a badge when it touches files
another session also changed, then the branch, +/- line counts and the port.
Waiting sessions are highlighted: they need you. Colours come from the theme's
`$session-*` variables.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from tui.protocol import Activity, LifecycleState, SessionInfo
from tui.protocol.messages import Summary

_BOLD = Style(bold=True)

STATUS_ICONS: dict[str, str] = {
    Activity.STARTING: "◌",
    Activity.BUSY: "●",
    Activity.WAITING: "◆",
    Activity.IDLE: "○",
    Activity.LIMITED: "⧗",
    Activity.EXITED: "✕",
    Activity.STOPPED: "■",
    Activity.ARCHIVED: "▪",
}
"""The sidebar's icon per session status (also used by the header and help)."""


def session_matches(info: SessionInfo, query: str) -> bool:
    """Whether a session matches the filter text: every word in name, branch, task or agent."""
    haystack = " ".join((info["name"], info["branch"], info["task"], info["agent"])).lower()
    return all(word in haystack for word in query.lower().split())


class SessionRow(Widget):
    """One session in the sidebar (two lines).

    Its colours are the list's component styles (`SessionList.row_style`); as
    the row's own, Textual would compute all fourteen for every row it mounts
    or restyles, about 1.4 ms each time.
    """

    DEFAULT_CSS = """
    SessionRow { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    SessionRow.-waiting { background: $session-waiting 15%; }
    """

    def __init__(self, info: SessionInfo) -> None:
        super().__init__()
        self.info = info
        self.summary: Summary | None = None
        self.unseen = False
        # Drawn by `render`, not a CSS class: toggling a class re-applies the
        # stylesheet to the row, a few ms on every session switch.
        self.highlighted = False

    @property
    def session_id(self) -> str:
        return str(self.info["id"])

    def update_info(self, info: SessionInfo) -> None:
        self.info = info
        self.set_class(info["status"] == Activity.WAITING, "-waiting")
        self.refresh()

    def on_mount(self) -> None:
        self.set_class(self.info["status"] == Activity.WAITING, "-waiting")

    def render(self) -> Text:
        info, summary = self.info, self.summary
        status = info["status"]
        owner = self.parent
        if not isinstance(owner, SessionList):
            return Text(info["name"])
        background = self.background_colors[1]

        def style(name: str) -> Style:
            return owner.row_style(name, background)

        base: Style | str = ""
        if self.highlighted:
            waiting = status == Activity.WAITING
            base = style("session-row--highlight-waiting" if waiting else "session-row--highlight")
            over = Style(bgcolor=base.bgcolor)

            def style(name: str) -> Style:
                return owner.row_style(name, background) + over

        status_style = style(f"session-row--{status}") if status in STATUS_ICONS else None
        if status == Activity.WAITING and status_style is not None:
            status_style += _BOLD  # waiting sessions need you
        # A bar marks the highlighted row: backgrounds vanish in 16-colour terminals.
        marker = ("▌", style("session-row--marker")) if self.highlighted else (" ",)
        first = Text(no_wrap=True, overflow="ellipsis", style=base)
        first.append(*marker)
        first.append(STATUS_ICONS.get(status, "?") + " ", status_style)
        first.append(info["name"])
        lifecycle = info["lifecycle"]
        if lifecycle not in (LifecycleState.READY, LifecycleState.ARCHIVED):
            # What ptui is doing with the session's work (setting-up, merging ...).
            first.append(f" {lifecycle}", style("session-row--dim"))
        if self.unseen:
            first.append(" •", style("session-row--unseen"))
        overlaps = summary["overlaps"] if summary else []
        if overlaps:
            first.append(f" ⚠{len(overlaps)}", style("session-row--badge"))
        second = Text(no_wrap=True, overflow="ellipsis", style=base)
        second.append(*marker)
        second.append("  ")
        second.append(info["branch"], style("session-row--dim"))
        if summary and (summary["added"] or summary["removed"]):
            second.append(f" +{summary['added']}", style("session-row--added"))
            second.append(f" -{summary['removed']}", style("session-row--removed"))
        if info["port"]:
            second.append(f" :{info['port']}", style("session-row--dim"))
        if status == Activity.LIMITED and info.get("limited_until"):
            second.append(f" resets {info['limited_until']}", style("session-row--limited"))
        # A blank last column keeps text off the scrollbar; a highlight spans it too.
        width = max(self.content_size.width - 1, 0)
        for line in (first, second):
            line.truncate(width, overflow="ellipsis", pad=bool(base))
            if base:
                line.pad_right(1)
        return Text("\n").join([first, second])

    def on_click(self, event: events.Click) -> None:
        parent = self.parent
        if isinstance(parent, SessionList):
            event.stop()
            parent.focus()
            parent.highlight(self.session_id)
            if event.chain >= 2:
                parent.post_message(SessionList.Opened(parent, self.session_id))


class SessionList(VerticalScroll, can_focus=True, can_focus_children=False):
    """Sessions, one row each; the highlighted one is shown in the terminal view."""

    # The rows' colours (see SessionRow): computed once for the list.
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-row--starting",
        "session-row--busy",
        "session-row--limited",
        "session-row--waiting",
        "session-row--idle",
        "session-row--exited",
        "session-row--stopped",
        "session-row--archived",
        "session-row--dim",
        "session-row--added",
        "session-row--removed",
        "session-row--badge",
        "session-row--unseen",
        "session-row--marker",
        "session-row--highlight",
        "session-row--highlight-waiting",
    }
    DEFAULT_CSS = """
    SessionList > .session-row--highlight { background: $primary 20%; }
    SessionList > .session-row--highlight-waiting { background: $session-waiting 30%; }
    SessionList > .session-row--starting { color: $session-idle; }
    SessionList > .session-row--busy { color: $session-busy; }
    SessionList > .session-row--limited { color: $warning; }
    SessionList > .session-row--waiting { color: $session-waiting; }
    SessionList > .session-row--idle { color: $session-idle; }
    SessionList > .session-row--exited { color: $session-exited; }
    SessionList > .session-row--stopped { color: $session-stopped; }
    SessionList > .session-row--archived { color: $session-stopped; }
    SessionList > .session-row--dim { color: $foreground 60%; }
    SessionList > .session-row--added { color: $success; }
    SessionList > .session-row--removed { color: $error; }
    SessionList > .session-row--badge { color: $warning; text-style: bold; }
    SessionList > .session-row--unseen { color: $accent; text-style: bold; }
    SessionList > .session-row--marker { color: $primary; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Next", id="session_down", show=False,
                tooltip="Highlight the next session"),
        Binding("k,up", "cursor_up", "Previous", id="session_up", show=False,
                tooltip="Highlight the previous session"),
        Binding("enter", "open", "Type", id="session_open", show=False,
                tooltip="Type into the highlighted session"),
    ]  # fmt: skip

    class Selected(Message):
        """A different session was highlighted: show it."""

        def __init__(self, session_list: SessionList, session_id: str | None) -> None:
            super().__init__()
            self.session_list = session_list
            self.session_id = session_id

        @property
        def control(self) -> SessionList:
            return self.session_list

    class Opened(Message):
        """The user wants to type into a session (enter, double click)."""

        def __init__(self, session_list: SessionList, session_id: str) -> None:
            super().__init__()
            self.session_list = session_list
            self.session_id = session_id

        @property
        def control(self) -> SessionList:
            return self.session_list

    filter_text: reactive[str] = reactive("")
    """Only sessions matching these words are listed (see `session_matches`)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: dict[str, SessionRow] = {}
        self.highlighted: str | None = None
        self._row_styles: dict[tuple[str, Color], Style] = {}

    # ------------------------------------------------------------ styles
    def row_style(self, name: str, background: Color) -> Style:
        """A row's component style over the row's own `background`, as Textual would
        compute it were the component the row's: colours with alpha blend over it."""
        key = (name, background)
        cached = self._row_styles.get(key)
        if cached is None:
            styles = self.get_component_styles(name)
            style = Style() + styles.text_style
            if styles.has_rule("background"):
                background = background + styles.background
                style += Style(bgcolor=background.rich_color)
            if styles.has_rule("color"):
                style += Style(color=(background + styles.color).rich_color)
            cached = self._row_styles[key] = style
        return cached

    def notify_style_update(self) -> None:
        # Theme or focus changed the component styles: the rows draw with them.
        super().notify_style_update()
        self._row_styles.clear()
        for row in self.rows.values():
            row.refresh()

    # ----------------------------------------------------------- content
    def set_sessions(self, sessions: list[SessionInfo], prefer: str | None = None) -> None:
        """Show these sessions (in order), keeping rows, highlight and unseen marks.

        With nothing highlighted yet, `prefer` (if listed) is highlighted, else the first.
        """
        wanted = [s for s in sessions if not s["archived"]]
        ids = [str(s["id"]) for s in wanted]
        for sid in list(self.rows):
            if sid not in ids:
                self.rows.pop(sid).remove()
        new_rows = []
        for info in wanted:
            row = self.rows.get(str(info["id"]))
            if row is None:
                row = self.rows[str(info["id"])] = SessionRow(info)
                new_rows.append(row)
            else:
                row.update_info(info)
        if new_rows:
            # The server lists sessions in creation order, so new ones go last.
            self.mount_all(new_rows)
        self._apply_filter()
        if self.highlighted not in self.rows or not self.rows[self.highlighted].display:
            visible = self.visible_ids()
            choice = prefer if prefer in visible else (visible[0] if visible else None)
            self.highlight(choice)
        else:
            self._mark_highlight()

    def set_summaries(self, summaries: dict[str, Summary]) -> None:
        for sid, row in self.rows.items():
            summary = summaries.get(sid)
            if summary != row.summary:
                row.summary = summary
                row.refresh()

    def set_unseen(self, session_id: str, unseen: bool) -> None:
        row = self.rows.get(session_id)
        if row is not None and row.unseen != unseen:
            row.unseen = unseen
            row.refresh()

    def visible_ids(self) -> list[str]:
        """Session ids in display order, filtered."""
        return [
            child.session_id
            for child in self.children
            if isinstance(child, SessionRow) and child.display
        ]

    # ------------------------------------------------------------ filter
    def watch_filter_text(self) -> None:
        self._apply_filter()
        if self.highlighted is None or not self.rows[self.highlighted].display:
            visible = self.visible_ids()
            self.highlight(visible[0] if visible else None)

    def _apply_filter(self) -> None:
        for row in self.rows.values():
            row.display = session_matches(row.info, self.filter_text)

    # --------------------------------------------------------- highlight
    def highlight(self, session_id: str | None) -> None:
        """Highlight `session_id` and tell the screen to show it."""
        changed = session_id != self.highlighted
        self.highlighted = session_id
        self._mark_highlight()
        if changed:
            self.post_message(self.Selected(self, session_id))

    def _mark_highlight(self) -> None:
        for sid, row in self.rows.items():
            if row.highlighted != (sid == self.highlighted):
                row.highlighted = sid == self.highlighted
                row.refresh()
        if self.highlighted in self.rows:
            self.rows[self.highlighted].scroll_visible(animate=False)

    def step_from(self, step: int) -> str | None:
        """The session `step` places down from the highlighted one (wrapping), if any."""
        visible = self.visible_ids()
        if not visible:
            return None
        if self.highlighted not in visible:
            return visible[0]
        return visible[(visible.index(self.highlighted) + step) % len(visible)]

    def move(self, step: int) -> None:
        """Highlight the session `step` places down (wrapping)."""
        target = self.step_from(step)
        if target is not None:
            self.highlight(target)

    def action_cursor_down(self) -> None:
        self.move(1)

    def action_cursor_up(self) -> None:
        self.move(-1)

    def action_open(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Opened(self, self.highlighted))
