"""A live session: its persisted record plus its tabs (agent, setup, scripts, shells).

`SessionRecord` (tui.state) is what survives a restart; `Session` adds what only
exists while the server runs: the tabs with their PTYs and emulators, the status
tracker, and a lock so two lifecycle operations on one session never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from tui.config import AgentProfile, TerminalConfig
from tui.git.model import SessionRef
from tui.protocol import messages
from tui.protocol.messages import AGENT_TAB as AGENT_TAB  # the wire names the agent's tab
from tui.protocol.session_info import SessionInfo
from tui.protocol.states import Activity
from tui.server import status as st
from tui.server.journal import Run
from tui.server.limits import continue_time
from tui.server.snapshot import load_snapshot, prefill, snapshot_data, snapshot_path
from tui.server.status_rules import shipped_rules
from tui.server.tab import ParseScheduler, Tab
from tui.state import SessionRecord
from tui.term.emulator import Emulator, TermEvent
from tui.term.pty import PtyProcess

log = logging.getLogger("ptui.server")

_NOT_RUNNING = {
    Activity.STOPPED: "the agent is stopped (`ptui resume` starts it again)",
    Activity.ARCHIVED: "the session is archived",
    Activity.EXITED: "the agent exited",
}

DEFAULT_SIZE = (120, 36)


@dataclass(frozen=True)
class TerminalSettings:
    """What every emulator of a session is built with."""

    scrollback: int = 10_000
    """Lines of history per tab (`terminal.scrollback`)."""
    sync_timeout: float = 0.15
    """Seconds a synchronized-output frame may be held (`terminal.sync_timeout_ms`)."""
    colors: tuple[str, str] | None = None
    """(foreground, background) as `#rrggbb`, answering OSC 10/11: the last client's
    theme; None until a client said (the emulator's dark defaults)."""

    @classmethod
    def from_config(
        cls, config: TerminalConfig, colors: tuple[str, str] | None = None
    ) -> TerminalSettings:
        return cls(config.scrollback, config.sync_timeout_ms / 1000, colors)


class SessionEvents(Protocol):
    """What a session tells its owner."""

    def status_changed(self, session: Session) -> None: ...
    def tab_exited(self, session: Session, tab: Tab) -> None: ...
    def term_event(self, session: Session, tab: Tab, event: TermEvent) -> None: ...
    def screen_changed(self, session: Session) -> None: ...


class Session:
    """One session while the server runs."""

    def __init__(
        self,
        record: SessionRecord,
        scheduler: ParseScheduler,
        events: SessionEvents,
        *,
        terminal: TerminalSettings = TerminalSettings(),
    ) -> None:
        self.record = record
        self.tabs: dict[str, Tab] = {}
        self.tracker: st.StatusTracker | None = None
        self.lock = asyncio.Lock()
        self.size = DEFAULT_SIZE
        self.pending_prompt = ""  # task typed in once the agent settles (prompt = "stdin")
        self.setup_run: Run | None = None
        """The journaled setup whose end starts the agent; None once stopped or cancelled."""
        self._background: set[asyncio.Task[None]] = set()
        self.profile: AgentProfile | None = None
        """The agent's profile while it runs (auto_continue, continue_text)."""
        self.hooked_session = ""
        """The conversation id the agent's own hooks reported in this run; it wins
        over what its files suggest (tui.server.agent_hooks)."""
        self._continue: asyncio.TimerHandle | None = None
        self._scheduler = scheduler
        self._events = events
        self.terminal = terminal

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def ref(self) -> SessionRef:
        """Where the session lives in git."""
        r = self.record
        return SessionRef(
            repo=r.repo,
            name=r.name,
            branch=r.branch,
            base=r.base,
            base_commit=r.base_commit,
            worktree=r.worktree,
        )

    @property
    def worktree_missing(self) -> bool:
        return not self.record.archived and not self.record.worktree.is_dir()

    @property
    def running(self) -> bool:
        tab = self.tabs.get(AGENT_TAB)
        return tab is not None and tab.alive

    @property
    def status(self) -> Activity:
        """What the agent is doing; its last known end when it does not run."""
        if self.record.archived:
            return Activity.ARCHIVED
        if self.running and self.tracker is not None:
            return self.tracker.status
        return Activity.EXITED if self.record.status == Activity.EXITED else Activity.STOPPED

    # ----------------------------------------------------------------- tabs
    def new_emulator(self) -> Emulator:
        cols, rows = self.size
        terminal = self.terminal
        emulator = Emulator(
            cols=cols, rows=rows, scrollback=terminal.scrollback, sync_timeout=terminal.sync_timeout
        )
        if terminal.colors is not None:
            emulator.set_colors(*terminal.colors)
        return emulator

    def set_colors(self, foreground: str, background: str) -> None:
        """Answer colour queries with these (`#rrggbb`), in every tab now and later."""
        self.terminal = replace(self.terminal, colors=(foreground, background))
        for tab in self.tabs.values():
            tab.emulator.set_colors(foreground, background)

    def tab(self, name: str) -> Tab:
        """The tab called `name`; the agent tab always exists (its last screen when stopped)."""
        found = self.tabs.get(name)
        if found is None and name == AGENT_TAB:
            found = self._make_tab(AGENT_TAB, self.new_emulator())
            data = load_snapshot(snapshot_path(self.id))
            if data is not None:
                prefill(found.emulator, data)
            self.tabs[AGENT_TAB] = found
        if found is None:
            known = ", ".join(self.tabs) or AGENT_TAB
            raise KeyError(f"session {self.id!r} has no tab {name!r} (tabs: {known})")
        return found

    def _make_tab(self, name: str, emulator: Emulator) -> Tab:
        return Tab(
            self.id,
            name,
            emulator,
            self._scheduler,
            on_output=self._output if name == AGENT_TAB else lambda: None,
            on_exit=lambda tab: self._events.tab_exited(self, tab),
            on_event=self._agent_event if name == AGENT_TAB else self._tab_event,
            on_screen=(lambda: self._events.screen_changed(self))
            if name == AGENT_TAB
            else (lambda: None),
        )

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        profile: AgentProfile | None = None,
        fresh_screen: bool = True,
    ) -> Tab:
        """Start `argv` in the worktree on tab `name` (replacing a finished program there)."""
        old = self.tabs.get(name)
        if old is not None and old.alive:
            raise RuntimeError(f"tab {name!r} of session {self.id!r} is still running")
        cols, rows = self.size
        emulator = self.new_emulator()
        if old is not None and not fresh_screen:
            emulator = old.emulator
        elif old is not None:
            # What the previous run showed scrolls into the new run's scrollback.
            prefill(emulator, snapshot_data(old.emulator), as_history=True)
        proc = PtyProcess.spawn(argv, cwd=self.record.worktree, env=env, cols=cols, rows=rows)
        tab = self._make_tab(name, emulator)
        if old is not None:
            tab.viewers = old.viewers
        self.tabs[name] = tab
        tab.start(proc)
        if old is not None:
            for viewer in list(tab.viewers):
                viewer.send(tab.full_frame())
        if name == AGENT_TAB:
            if self.tracker is not None:
                self.tracker.close()
            self._cancel_continue()
            self.profile = profile
            self.hooked_session = ""
            self.tracker = st.StatusTracker(
                tab.emulator, lambda _status: self._status_changed(), self._rules(profile, argv)
            )
            book = shipped_rules(profile.name, profile.command) if profile else None
            command = (profile.command if profile else ()) or argv
            program = Path(command[0]).name if command else ""
            if profile is not None and book is not None and book.command == program:
                # Only the agent's own program says which of its releases runs.
                self._read_version(self.tracker, profile, argv, env)
        return tab

    def _rules(
        self, profile: AgentProfile | None, argv: Sequence[str], version: str = ""
    ) -> st.RuleSet:
        if profile is None:
            return st.RuleSet("", argv)
        return st.RuleSet(
            profile.name,
            profile.command or argv,
            waiting=profile.waiting_patterns,
            busy=profile.busy_patterns,
            version=version,
        )

    def _read_version(
        self,
        tracker: st.StatusTracker,
        profile: AgentProfile,
        argv: Sequence[str],
        env: Mapping[str, str],
    ) -> None:
        """Read the agent's `--version` off the loop; its rules follow when known."""
        program = (profile.command or argv)[0]
        merged = {**os.environ, **env}

        async def read() -> None:
            version = await asyncio.to_thread(st.agent_version, program, merged)
            if version and self.tracker is tracker:
                tracker.set_rules(self._rules(profile, argv, version))

        self._background.add(task := asyncio.get_running_loop().create_task(read()))
        task.add_done_callback(self._background.discard)

    def _output(self) -> None:
        if self.tracker is not None:
            self.tracker.output()

    def _tab_event(self, tab: Tab, event: TermEvent) -> None:
        self._events.term_event(self, tab, event)

    def _agent_event(self, tab: Tab, event: TermEvent) -> None:
        if self.tracker is not None and tab is self.tabs.get(AGENT_TAB):
            self.tracker.event(event)
        self._events.term_event(self, tab, event)

    def _status_changed(self) -> None:
        if (
            self.pending_prompt
            and self.tracker is not None
            and self.tracker.status not in (Activity.BUSY, Activity.STARTING)
        ):
            text, self.pending_prompt = self.pending_prompt, ""
            self.tabs[AGENT_TAB].write(text.encode() + b"\r")
            self.tracker.input()
        self._plan_continue()
        self._events.status_changed(self)

    # ------------------------------------------------------- usage limits
    def _plan_continue(self) -> None:
        """With `auto_continue`, once a limit's reset time has passed, type the
        agent's continue text, once per limit."""
        tracker, profile = self.tracker, self.profile
        if tracker is None or tracker.status != Activity.LIMITED:
            self._cancel_continue()
            return
        if profile is None or not profile.auto_continue or self._continue is not None:
            return
        until = tracker.limited_until
        now = dt.datetime.now().astimezone()
        when = continue_time(until, now)
        if when is None:
            log.info(
                "session %s: usage limit without a reset time ptui can read (%r): "
                "not continuing on its own",
                self.id,
                until,
            )
            return
        delay = max(0.0, (when - now).total_seconds())
        log.info(
            "session %s: usage limit until %r: typing %r at %s",
            self.id,
            until,
            profile.continue_text,
            when.isoformat(timespec="seconds"),
        )
        loop = asyncio.get_running_loop()
        self._continue = loop.call_later(delay, self._auto_continue, tracker, until)

    def _auto_continue(self, tracker: st.StatusTracker, until: str) -> None:
        self._continue = None
        if tracker is not self.tracker or not self.running or self.profile is None:
            return
        if tracker.status in (Activity.BUSY, Activity.STARTING):
            return  # it went on by itself
        text = self.profile.continue_text
        log.info(
            "session %s: the usage limit (reset %s) has passed: typed %r", self.id, until, text
        )
        self.tabs[AGENT_TAB].write(text.encode() + b"\r")
        tracker.input()

    def _cancel_continue(self) -> None:
        if self._continue is not None:
            self._continue.cancel()
            self._continue = None

    def input(self, tab_name: str, data: bytes) -> None:
        tab = self.tab(tab_name)
        if tab_name == AGENT_TAB and self.tracker is not None:
            self.tracker.input()
        tab.write(data)

    def resize(self, cols: int, rows: int) -> None:
        """The most recent client's size wins, for every tab of the session."""
        self.size = (max(1, min(cols, 2000)), max(1, min(rows, 1000)))
        for tab in self.tabs.values():
            tab.resize(*self.size)

    async def stop_tabs(self, names: Sequence[str] | None = None) -> None:
        """Stop the programs of `names` (default: every tab) and every process they started."""
        tabs = [t for n, t in self.tabs.items() if (names is None or n in names) and t.alive]
        procs: list[tuple[Tab, PtyProcess]] = []
        for tab in tabs:
            proc = tab.detach_proc()
            if proc is not None:
                procs.append((tab, proc))

        async def stop_one(tab: Tab, proc: PtyProcess) -> None:
            code = await asyncio.to_thread(proc.stop, 1.0)
            # Output printed while stopping is kept by the PtyProcess for read().
            tab.finish(code if code is not None else -1, proc.read())

        await asyncio.gather(*(stop_one(t, p) for t, p in procs))
        if self.tracker is not None and (names is None or AGENT_TAB in names):
            self.tracker.close()  # kept for `ptui status --explain`
            self._cancel_continue()

    def close_dead_tabs(self) -> None:
        """Forget finished script and shell tabs (the agent tab stays)."""
        for name in [n for n, t in self.tabs.items() if n != AGENT_TAB and not t.alive]:
            del self.tabs[name]

    def save_screen(self) -> None:
        """Write the agent tab's screen snapshot (atomically)."""
        from tui.server.snapshot import save_snapshot

        tab = self.tabs.get(AGENT_TAB)
        if tab is None:
            return
        path = snapshot_path(self.id)
        try:
            save_snapshot(path, snapshot_data(tab.emulator))
        except Exception as exc:  # a snapshot is a nicety: never let it break a stop
            log.warning("cannot save screen of %s: %r", self.id, exc)
            return
        self.record.last_screen = path

    def drop_screen(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(snapshot_path(self.id))

    # ----------------------------------------------------------------- info
    def status_report(self) -> messages.StatusReport:
        """`ptui status --explain`: the status, why, and how it got there."""
        status = self.status
        tracker = self.tracker
        if tracker is not None:
            report = tracker.report(self.id, self.record.agent)
            if status != report["status"]:  # stopped, archived: the tracker saw it end
                report["status"] = status
                report["reason"] = _NOT_RUNNING.get(status, report["reason"])
                report["chosen"] = None
            return report
        code = self.record.exit_code
        reason = _NOT_RUNNING.get(status, "")
        if status == Activity.EXITED and code is not None:
            reason = f"the agent exited with code {code}"
        return {
            "id": self.id,
            "status": status,
            "reason": reason,
            "chosen": None,
            "evidence": [],
            "transitions": [],
            "limited_until": "",
            "agent": self.record.agent,
            "agent_version": "",
            "rules": "",
        }

    def info(self) -> SessionInfo:
        """What `ptui ls` and the app's sidebar show."""
        r = self.record
        info: SessionInfo = {
            "id": r.id,
            "name": r.name,
            "task": r.task,
            "agent": r.agent,
            "repo": str(r.repo),
            "branch": r.branch,
            "base": r.base,
            "worktree": str(r.worktree),
            "status": self.status,
            "reason": self.tracker.reason if self.running and self.tracker is not None else "",
            "limited_until": (
                self.tracker.limited_until if self.running and self.tracker is not None else ""
            ),
            "agent_session": r.agent_session,
            "port": r.port,
            "created": r.created,
            "archived": r.archived,
            "lifecycle": r.lifecycle,
            "damage": r.damage,
            "exit_code": r.exit_code,
            "tabs": [AGENT_TAB, *[n for n in self.tabs if n != AGENT_TAB]],
            "worktree_missing": self.worktree_missing,
        }
        return info


def session_env(record: SessionRecord, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The PTUI_* variables every program of a session gets."""
    env = dict(extra or {})
    env.update(
        {
            "PTUI_PORT": str(record.port),
            "PTUI_SESSION": record.id,
            "PTUI_WORKTREE": str(Path(record.worktree)),
            "PTUI_BASE": record.base,
        }
    )
    return env
