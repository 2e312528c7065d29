"""The main screen: sessions on the left, the focused one's header, tabs and terminal.

Keys: in the sidebar single letters act on the highlighted session. In the
terminal every key goes to the program except the leader key (ctrl+] unless
`ui.leader` says otherwise) and alt+1..9 / alt+[ / alt+] to switch sessions.
After the leader, the next key runs the same action as in the sidebar (leader n
is "new session"); leader leader sends the leader key itself to the program.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingsMap, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.app._textual_internals import FrameHoldingScreen
from tui.app.bindings import ALWAYS_LEADER, PRIORITY_BINDINGS, SESSION_BINDINGS
from tui.app.context import AppContext, app_context
from tui.app.widgets.footer import KeyFooter
from tui.app.widgets.session_header import SessionHeader
from tui.app.widgets.session_list import SessionList
from tui.app.widgets.tab_bar import TabBar
from tui.app.widgets.terminal_view import TerminalView
from tui.errors import PtuiError
from tui.protocol import LIVE, Activity, SessionInfo
from tui.protocol.messages import (
    SessionResume,
    SessionRun,
    SessionShell,
    SessionStatus,
    SessionStop,
    StatusReport,
)
from tui.term.keys import encode_key

_NEEDS_SESSION = {
    "diff",
    "run_script",
    "shell_tab",
    "archive",
    "merge",
    "stop",
    "resume",
    "next_tab",
    "copy_mode",
}  # fmt: skip


class MainScreen(FrameHoldingScreen, Screen[None]):
    """Sidebar, header, tabs and the live terminal of the highlighted session."""

    AUTO_FOCUS = "#sessions"  # not the first focusable widget: no focus to move at start
    # main.tcss is in PtuiApp.CSS_PATH: read with the app's, it is parsed once, at
    # start-up; a screen's CSS_PATH is read when the screen is pushed, and parses
    # every rule again (~8 ms before the first frame).
    BINDINGS: ClassVar[list[BindingType]] = [*PRIORITY_BINDINGS, *SESSION_BINDINGS]

    leader_pending: reactive[bool] = reactive(False)
    """The leader key was pressed: the next key is a ptui command."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.tab_choice: dict[str, str] = {}
        self._leader_maps: list[tuple[Any, BindingsMap]] = []
        self._no_session_shown = True

    @property
    def context(self) -> AppContext:
        return app_context(self)

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Static("Sessions", id="sidebar-title")
                # The filter's Input is mounted on first use (`/`): mounting and
                # styling one costs ~10 ms of start-up.
                yield SessionList(id="sessions")
            with Vertical(id="main"):
                yield SessionHeader(id="header")
                yield TabBar(id="tabs")
                context = self.context
                yield TerminalView(
                    connection=lambda: context.client_or_none,
                    sinks=context.screen_sinks,
                    id="terminal",
                )
                yield Static(id="empty")
        yield Static(id="leader-hint")
        yield KeyFooter()

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    @property
    def terminal(self) -> TerminalView:
        return self.query_one(TerminalView)

    def on_mount(self) -> None:
        self.apply_keymap()
        self.session_list.focus()
        self.update_sessions()

    def apply_keymap(self) -> None:
        """Work out which keys the terminal leaves alone, after the user's remaps."""
        keymap = self.context.keymap

        def mapped(bindings: list[BindingType]) -> BindingsMap:
            bindings_map = BindingsMap(bindings)
            bindings_map.apply_keymap(keymap)
            return bindings_map

        screen_map = mapped(self.BINDINGS)
        # Textual asks the terminal about the keys as written in BINDINGS and applies
        # the keymap afterwards, so both spellings must stay unclaimed.
        reserved = {key for key, b in screen_map if b.priority}
        reserved |= {key for key, b in BindingsMap(self.BINDINGS) if b.priority}
        terminal = self.terminal
        terminal.reserved_keys = frozenset({*reserved, ALWAYS_LEADER})
        terminal.own_keys = frozenset(key for key, _ in mapped(TerminalView.BINDINGS))
        self._leader_maps = [
            (self, screen_map),
            (self.session_list, mapped(SessionList.BINDINGS)),
            (self.app, mapped(type(self.app).BINDINGS)),
        ]

    # ----------------------------------------------------------- sessions
    def update_sessions(self) -> None:
        """Show the app's current session list."""
        sessions = list(self.context.sessions.values())
        self.session_list.set_sessions(sessions, prefer=self._first_choice(sessions))
        live = self.session_list.visible_ids() or list(self.session_list.rows)
        self.query_one("#sidebar-title", Static).update(f"Sessions ({len(live)})")
        self._show_current()

    def _first_choice(self, sessions: list[SessionInfo]) -> str | None:
        """Where to start: a session of this repository, one waiting for you first."""
        here = [s for s in sessions if not s["archived"]]
        if self.context.repo is not None:
            here = [s for s in here if s["repo"] == str(self.context.repo)] or here
        waiting = [s for s in here if s["status"] == Activity.WAITING]
        chosen = (waiting or here)[:1]
        return chosen[0]["id"] if chosen else None

    def update_session(self, session_id: str) -> None:
        row = self.session_list.rows.get(session_id)
        info = self.context.sessions.get(session_id)
        if row is not None and info is not None:
            row.update_info(info)
        if session_id == self.current:
            self._show_current()

    def update_summaries(self) -> None:
        self.session_list.set_summaries(self.context.summaries)
        if self.current is not None:
            self.query_one(SessionHeader).show(
                self.context.sessions.get(self.current), self.context.summaries.get(self.current)
            )

    def mark_unseen(self, session_id: str) -> None:
        if session_id != self.current:
            self.session_list.set_unseen(session_id, True)

    def on_session_list_selected(self, message: SessionList.Selected) -> None:
        if message.session_id != self.current:
            self._select(message.session_id)

    def _select(self, session_id: str | None) -> None:
        self.current = session_id
        if session_id is not None:
            self.session_list.set_unseen(session_id, False)
        self._show_current()

    def show_session(self, session_id: str) -> None:
        """Highlight and show a session (clearing a filter that hides it)."""
        row = self.session_list.rows.get(session_id)
        if row is None:
            return
        if not row.display:
            filter_input = self._filter_input()
            if filter_input is not None:
                filter_input.value = ""
                filter_input.display = False
            self.session_list.filter_text = ""
        self.session_list.highlight(session_id)

    def on_session_list_opened(self, message: SessionList.Opened) -> None:
        self.terminal.focus()

    def on_tab_bar_activated(self, message: TabBar.Activated) -> None:
        if self.current is not None:
            self.show_tab(message.tab)

    def show_tab(self, tab: str) -> None:
        if self.current is not None:
            self.tab_choice[self.current] = tab
            self._show_current()

    def current_info(self) -> SessionInfo | None:
        return self.context.sessions.get(self.current) if self.current else None

    def _show_current(self) -> None:
        info = self.current_info()
        if (info is None) != self._no_session_shown:
            # Actions that need a session (check_action) turn on or off: the footer
            # and palette must ask again.
            self._no_session_shown = info is None
            self.refresh_bindings()
        has_sessions = bool(self.session_list.rows)
        for widget_id in ("#header", "#tabs", "#terminal"):
            self.query_one(widget_id).display = has_sessions
        empty = self.query_one("#empty", Static)
        empty.display = not has_sessions
        if not has_sessions:
            empty.update(self.empty_text())
            self.terminal.show(None)
            return
        self.query_one(SessionHeader).show(info, self.context.summaries.get(self.current or ""))
        if info is None:
            self.terminal.show(None)
            return
        tabs = info["tabs"] or ["agent"]
        tab = self.tab_choice.get(str(info["id"]), "agent")
        if tab not in tabs:
            tab = "agent"
        self.query_one(TabBar).set_tabs(tabs, tab)
        self.terminal.show(str(info["id"]), tab)
        if tab == "agent":
            # The status says whether the agent runs; keys to a stopped one are refused.
            self.terminal.alive = info["status"] in LIVE

    def empty_text(self) -> str:
        app = self.context
        if not app.connected:
            return "Connecting to the ptui server…"
        leader = app.key_display("leader")
        if app.host is not None:
            return (
                f"No sessions on {app.host} yet.\n\n"
                "Press n to start one in a repository on that machine."
            )
        if app.repo is None:
            return (
                "This directory is not inside a git repository.\n\n"
                "ptui runs each coding agent in its own git worktree and branch, "
                "so it needs a repository:\n\n"
                "  • cd into one and run ptui again, or\n"
                "  • run  ptui demo  for a tour with a sample repository and a demo agent.\n\n"
                "Press ctrl+q to quit."
            )
        return (
            f"No sessions yet in {app.repo}.\n\n"
            "Press n to start one: describe a task, pick an agent, and ptui makes a "
            "branch and a worktree for it and starts the agent there.\n\n"
            f"Inside a session every key goes to the agent; {leader} then a key runs a "
            "ptui command (? lists them)."
        )

    # ------------------------------------------------------------- leader
    def action_leader(self) -> None:
        if self.leader_pending:
            # leader leader: the program gets the leader key itself.
            self.leader_pending = False
            data = encode_key(self.context.keymap["leader"].split(",")[0], None,
                              self.terminal.key_modes())  # fmt: skip
            if data is not None:
                self.terminal.send_bytes(data)
            return
        self.leader_pending = True

    def watch_leader_pending(self, pending: bool) -> None:
        hint = self.query_one("#leader-hint", Static)
        hint.display = pending
        if pending:
            leader = self.context.key_display("leader")
            hint.update(
                f" {leader} … n new · d diff · r run · s shell · [ copy · j/k switch · "
                f"? help · {leader} send {leader} · esc sidebar"
            )

    async def on_key(self, event: events.Key) -> None:
        if event.key == ALWAYS_LEADER:  # reached here: the leader was moved elsewhere
            event.stop()
            event.prevent_default()
            if not self.leader_pending:
                self.leader_pending = True
                return
            self.leader_pending = False  # twice: the program gets ctrl+] itself
            data = encode_key(ALWAYS_LEADER, None, self.terminal.key_modes())
            if data is not None:
                self.terminal.send_bytes(data)
            return
        if not self.leader_pending:
            return
        event.stop()
        event.prevent_default()
        self.leader_pending = False
        for node, bindings in self._leader_maps:
            for binding in bindings.key_to_bindings.get(event.key, []):
                await node.run_action(binding.action)
                return
        self.notify(f"{event.key} is not a ptui key (? lists them)", timeout=3)

    # ------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _NEEDS_SESSION and self.current_info() is None:
            return None  # shown, but greyed out
        return True

    def action_select_index(self, number: int) -> None:
        self.leader_pending = False  # a priority key ends a pending leader
        visible = self.session_list.visible_ids()
        if 1 <= number <= len(visible):
            self._switch_to(visible[number - 1])

    def action_select_step(self, step: int) -> None:
        self.leader_pending = False
        self._switch_to(self.session_list.step_from(step))

    def _switch_to(self, session_id: str | None) -> None:
        """Show a session now, then move the sidebar's highlight to it.

        Showing first sends the attach request before the sidebar repaints, so
        the server's answer arrives while that frame is drawn (`ptui bench ui`).
        """
        if session_id is None:
            return
        if session_id != self.current:
            self._select(session_id)
        self.session_list.highlight(session_id)

    def _filter_input(self) -> Input | None:
        """The filter's Input, once `/` has made it."""
        try:
            return self.query_one("#filter", Input)
        except NoMatches:
            return None

    def action_focus_sidebar(self) -> None:
        filter_input = self._filter_input()
        if filter_input is not None and (
            filter_input.has_focus or (filter_input.display and self.session_list.has_focus)
        ):
            filter_input.value = ""
            filter_input.display = False
        self.session_list.focus()

    async def action_filter(self) -> None:
        filter_input = self._filter_input()
        if filter_input is None:
            filter_input = Input(placeholder="filter sessions", id="filter")
            await self.query_one("#sidebar").mount(filter_input, before=self.session_list)
        filter_input.display = True
        filter_input.focus()

    def on_input_changed(self, message: Input.Changed) -> None:
        if message.input.id == "filter":
            self.session_list.filter_text = message.value

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if message.input.id == "filter":
            self.session_list.focus()

    def action_help(self) -> None:
        from tui.app.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_copy_mode(self) -> None:
        self.terminal.start_copy_mode()

    def action_next_tab(self) -> None:
        info = self.current_info()
        if info is None:
            return
        tabs = info["tabs"] or ["agent"]
        current = self.tab_choice.get(str(info["id"]), "agent")
        index = tabs.index(current) if current in tabs else 0
        self.show_tab(tabs[(index + 1) % len(tabs)])

    def action_new_session(self) -> None:
        from tui.app.screens.new_session import NewSessionScreen

        repo = self.context.repo
        info = self.current_info()
        if repo is None and info is None and self.context.host is None:
            self.notify("Not in a git repository: run ptui inside one (or try `ptui demo`).",
                        severity="warning")  # fmt: skip
            return
        target = str(repo) if repo is not None else str(info["repo"] if info else "")
        self.app.push_screen(NewSessionScreen(target, self.terminal.size), self._created)

    def _created(self, created: list[SessionInfo] | None) -> None:
        if not created:
            return
        # Redrawn here and now, not on the store's Changed message: the new rows must
        # exist to be highlighted, and a later redraw from this (older) answer would
        # undo the terminal's attach (`alive`: the agent had not started yet).
        self.context.sessions.put(*created, post=False)
        for info in created:
            for warning in info.get("warnings") or []:
                self.notify(f"{info['id']}: {warning}", severity="warning", timeout=8)
        self.update_sessions()
        self.session_list.highlight(str(created[0]["id"]))
        self.terminal.focus()

    # The other screens are imported when first pushed: importing them all with this
    # one costs start-up time (the diff screen alone brings in pygments).
    def action_diff(self) -> None:
        from tui.app.screens.diff import DiffScreen

        if (info := self.current_info()) is not None:
            self.app.push_screen(DiffScreen(info))

    def action_merge(self) -> None:
        from tui.app.screens.merge import MergeScreen

        if (info := self.current_info()) is not None:
            self.app.push_screen(MergeScreen(info))

    def action_archive(self) -> None:
        from tui.app.screens.archive import ArchiveScreen

        if (info := self.current_info()) is not None:
            self.app.push_screen(ArchiveScreen(info), self._archived)

    def _archived(self, archived: bool | None) -> None:
        if archived:
            self.notify("Archived. Restore it from the archived list (A).")

    def action_archived(self) -> None:
        from tui.app.screens.archived import ArchivedScreen

        self.app.push_screen(ArchivedScreen())

    def action_run_script(self) -> None:
        from tui.app.screens.scripts import ScriptPicker

        if (info := self.current_info()) is not None:
            sid = str(info["id"])
            self.app.push_screen(ScriptPicker(info), lambda name: self._run_script(sid, name))

    def _run_script(self, session_id: str, script: str | None) -> None:
        if script:
            self.open_tab(SessionRun(id=session_id, script=script))

    def action_shell_tab(self) -> None:
        if (info := self.current_info()) is not None:
            self.open_tab(SessionShell(id=info["id"]))

    @work(group="calls")
    async def open_tab(self, request: SessionRun | SessionShell) -> None:
        """Run or open something in a new tab of the session, then show that tab."""
        session_id = request.id
        try:
            result = await self.context.client.request(request)
        except PtuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self.context.sessions.add_tab(session_id, result["tab"])
        self.tab_choice[session_id] = result["tab"]
        if session_id == self.current:
            self._show_current()
            self.terminal.focus()

    def action_stop(self) -> None:
        if (info := self.current_info()) is not None:
            self.session_call(SessionStop(id=info["id"]), "Stopped {id}")

    def action_resume(self) -> None:
        if (info := self.current_info()) is not None:
            cols, rows = self.terminal.size
            resume = SessionResume(id=info["id"], cols=max(cols, 20), rows=max(rows, 5))
            self.session_call(resume, "Resumed {id}")

    def action_why(self) -> None:
        if (info := self.current_info()) is not None:
            self.explain_status(info["id"])

    @work(group="calls")
    async def explain_status(self, session_id: str) -> None:
        """A toast with why the session has its status (`ptui status --explain`)."""
        try:
            report = await self.context.client.request(SessionStatus(id=session_id))
        except PtuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(explain_lines(report), title=f"{session_id}: {report['status']}", timeout=12)

    @work(group="calls")
    async def session_call(self, request: SessionStop | SessionResume, done: str) -> None:
        """Stop or resume a session; a one-line toast says how it went."""
        try:
            session = await self.context.client.request(request)
        except PtuiError as exc:
            self.notify(str(exc), severity="error")
            return
        self.context.sessions.put(session)  # shown through SessionStore.Changed
        self.notify(done.format(id=request.id), timeout=3)
        # Resume says when it cannot continue the session's own conversation.
        for warning in session.get("warnings") or []:
            self.notify(f"{session['id']}: {warning}", severity="warning", timeout=8)


def explain_lines(report: StatusReport) -> str:
    """The `w` toast: the reason, every layer's signal, the last transitions."""
    lines = [report["reason"] or "no reason known"]
    if report["limited_until"]:
        lines.append(f"resets {report['limited_until']}")
    for signal in report["evidence"][:5]:
        detail = " ".join(signal["detail"].split())[:60]
        lines.append(f"  {signal['layer']} {signal['rule']}: {detail}")
    changes = report["transitions"][-3:]
    if changes:
        lines.append(
            "history: "
            + " → ".join(
                f"{time.strftime('%H:%M:%S', time.localtime(c['at']))} {c['status']}"
                for c in changes
            )
        )
    return "\n".join(lines)
