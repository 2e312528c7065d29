"""Sessions and their verbs: create, stop, resume, archive, restore, rm, commit, merge, run.

`SessionManager` owns every `Session` and the state database. Operations that move
work are journaled steps (`tui.server.operations`, docs/lifecycle.md): each verb
takes the session's lock, first finishes or undoes whatever the journal says was
interrupted, checks the lifecycle state (`tui.server.lifecycle`) and every other
reason to refuse, and only then changes anything. Git work and process shutdown
run in worker threads so the event loop keeps serving keystrokes meanwhile.
Events for clients (sessions-changed, status-changed, bell ...) go out through
`broadcast`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from functools import partial
from pathlib import Path
from typing import Final, TypeVar

from tui import paths
from tui.config import AgentProfile, Config, TerminalConfig, load_config
from tui.errors import PtuiError
from tui.git import merge as git_merge
from tui.git.worktree import plan_session, session_description
from tui.naming import NAME_MAX
from tui.protocol import Event, SessionInfo, messages
from tui.protocol.states import LIVE, Activity
from tui.server import agent_hooks, agent_sessions
from tui.server import operations as ops
from tui.server.journal import Faults, Run
from tui.server.lifecycle import require
from tui.server.ports import allocate_port
from tui.server.session import AGENT_TAB, DEFAULT_SIZE, Session, TerminalSettings, session_env
from tui.server.tab import ParseScheduler, Tab
from tui.server.trust import (
    RepoConfig,
    TrustStore,
    check_script,
    load_repo_config,
    local_changes,
    untrusted,
)
from tui.state import LifecycleState, SessionRecord, StateError, StateStore
from tui.term.emulator import TermEvent
from tui.term.reaper import processes_with_token, signal_exact

log = logging.getLogger("ptui.server")

SCREEN_SAVE_DELAY = 2.0
"""Seconds after a screen change before its snapshot is written (coalesces bursts)."""


_TERMINAL_EVENTS: Final = frozenset(
    {Event.BELL, Event.TITLE, Event.NOTIFICATION, Event.CLIPBOARD, Event.CWD, Event.PROGRESS}
)
"""What a program in a tab may tell clients (`TermEvent` kinds that are published)."""


class NotFound(PtuiError):
    """No session (or tab, or script) by that name."""


T = TypeVar("T")


class SessionManager:
    """Every session of this user, live or stopped, and the operations on them."""

    def __init__(self, broadcast: Callable[[Event, Mapping[str, object]], None]) -> None:
        self.broadcast = broadcast
        self.sessions: dict[str, Session] = {}
        self.scheduler = ParseScheduler()
        self.store = StateStore(paths.state_file())
        self.trust = TrustStore()
        self.faults = Faults.from_env()
        self.broken: StateError | None = None
        """Why the state database cannot be used; every session verb says so."""
        self.notes: list[str] = []
        """What recovery did on its own, for the log and `ptui doctor`."""
        self.recovery: asyncio.Task[None] | None = None
        self._screen_timers: dict[str, asyncio.TimerHandle] = {}
        self._create_lock = asyncio.Lock()
        self.background: set[asyncio.Task[object]] = set()
        """Work started by an event and awaited by no request (`in_background`)."""
        self.colors: tuple[str, str] | None = None
        """The last client's theme colours (foreground, background), for OSC 10/11."""

    # ------------------------------------------------------------ persistence
    def load(self) -> None:
        """Bring back every saved session as stopped, with its last screen, then
        finish or undo (in the background) every operation the journal says was
        interrupted. Unusable state is kept as `broken`: nothing is overwritten."""
        try:
            records = self.store.load()
            pending = self.store.pending()
        except StateError as exc:
            log.error("%s", exc)
            self.broken = exc
            return
        # [terminal] from the user's file: reading every repository's committed file
        # here would put git work on start-up. A trusted repository's own values
        # come back with the session's next resume, which reads it (as create does).
        terminal = _global_terminal_config()
        for record in records:
            if record.status in LIVE:
                record.status = Activity.STOPPED
            self._kill_leftovers(record)
            self.sessions[record.id] = self.new_session(record, terminal)
        self.save()
        if pending:
            self.recovery = asyncio.get_running_loop().create_task(self._recover_all())

    def terminal_settings(self, config: TerminalConfig) -> TerminalSettings:
        """How a session's emulators are built: `config` (`[terminal]`) and the last
        client's colours."""
        return TerminalSettings.from_config(config, self.colors)

    def new_session(
        self,
        record: SessionRecord,
        terminal: TerminalConfig | None = None,
        *,
        size: tuple[int, int] | None = None,
    ) -> Session:
        """The live session of `record` (load, create and doctor's adoptions alike):
        its emulators built from `terminal` (the user's `[terminal]` when None) and
        the last client's colours. Not added to `sessions`: create journals the
        session first, so it is never listed without a record."""
        if terminal is None:
            terminal = _global_terminal_config()
        session = Session(record, self.scheduler, self, terminal=self.terminal_settings(terminal))
        if size is not None:
            session.size = size
        return session

    def set_colors(self, foreground: str, background: str) -> None:
        """A client's theme colours (`#rrggbb`): colour queries (OSC 10/11) of every
        tab, now and later, are answered with them. The last client to say wins."""
        self.colors = (foreground, background)
        for session in self.sessions.values():
            session.set_colors(foreground, background)

    async def _recover_all(self) -> None:
        started = time.monotonic()
        for session in list(self.sessions.values()):
            try:
                async with session.lock:
                    await self.recover(session)
            except Exception as exc:  # one session's trouble must not stop the others'
                log.error("session %s: recovery failed: %r", session.id, exc)
        for note in self.notes:
            log.info("recovery: %s", note)
        log.info("recovery finished in %.0f ms", (time.monotonic() - started) * 1000)
        self.changed()

    async def recover(self, session: Session) -> None:
        """Finish or undo what the journal says was interrupted (the lock is held)."""
        for entry in await asyncio.to_thread(self.store.pending, session.id):
            if session.id not in self.sessions:
                break
            try:
                await ops.recover(self, session, entry)
            except PtuiError as exc:
                # Left in the journal: `ptui doctor` shows it, the next verb retries.
                log.error("session %s: cannot recover %s: %s", session.id, entry.op, exc)
                raise PtuiError(
                    f"session {session.id!r}: an interrupted {entry.op} cannot be finished: {exc}"
                ) from None

    def _kill_leftovers(self, record: SessionRecord) -> None:
        """Processes of a session from a server that died without stopping them."""
        record.extra.pop("pid", None)
        token = record.extra.pop("pty_token", None)
        if not isinstance(token, str) or not token:
            return
        for info in processes_with_token(token):
            log.info("session %s: killing leftover process %d", record.id, info.pid)
            signal_exact(info, signal.SIGKILL)

    def in_background(self, what: str, work: Coroutine[object, object, object]) -> None:
        """Run `work` as a task that nothing awaits: kept (the loop holds tasks only
        weakly) until it ends, and its failure logged as `what` instead of lost."""
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(partial(self._background_done, what))

    def _background_done(self, what: str, task: asyncio.Task[object]) -> None:
        self.background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("%s failed: %r", what, exc, exc_info=exc)

    def save(self) -> None:
        """Write every record (one transaction)."""
        if self.broken is None:
            self.store.put(*(s.record for s in self.sessions.values()))

    async def save_async(self, session: Session) -> None:
        await asyncio.to_thread(self.store.put, session.record)

    def begin(self, op: str, session: Session, params: Mapping[str, object] | None = None) -> Run:
        """Journal the intent of `op` on `session` (its transitional state with it)."""
        return Run.begin(self.store, self.faults, op, session.record, params)

    def changed(self) -> None:
        if self.broken is not None:
            return
        self.broadcast(Event.SESSIONS_CHANGED, {"sessions": self.list_info(include_archived=True)})

    def ports_taken(self) -> list[int]:
        return [s.record.port for s in self.sessions.values() if not s.record.archived]

    # ----------------------------------------------------------- lookups
    def _usable(self) -> None:
        if self.broken is not None:
            raise self.broken

    def find(self, key: str, *, exact: bool = False) -> Session:
        """The session with id `key`, or (unless `exact`) the only one whose id starts so."""
        self._usable()
        if not isinstance(key, str) or not key:
            raise NotFound("a session id is required (see ptui ls)")
        if key in self.sessions:
            return self.sessions[key]
        matches = [sid for sid in self.sessions if sid.startswith(key)]
        if exact and matches:
            raise NotFound(f"no session {key!r}: give the whole id ({', '.join(sorted(matches))})")
        if len(matches) == 1:
            return self.sessions[matches[0]]
        if matches:
            raise NotFound(f"session id {key!r} is ambiguous: {', '.join(sorted(matches))}")
        raise NotFound(f"no session {key!r} (see ptui ls)")

    def list_info(self, include_archived: bool = False) -> list[SessionInfo]:
        self._usable()
        sessions = sorted(self.sessions.values(), key=lambda s: (s.record.created, s.id))
        return [s.info() for s in sessions if include_archived or not s.record.archived]

    # ---------------------------------------------------- SessionEvents
    def status_changed(self, session: Session) -> None:
        session.record.status = session.status
        tracker = session.tracker
        self.broadcast(
            Event.STATUS_CHANGED,
            {
                "session": session.id,
                "status": session.status,
                "reason": tracker.reason if tracker is not None else "",
                "limited_until": tracker.limited_until if tracker is not None else "",
            },
        )

    def tab_exited(self, session: Session, tab: Tab) -> None:
        if tab.name == AGENT_TAB:
            session.record.status = Activity.EXITED
            session.record.exit_code = tab.exit_code
            session.record.extra.pop("pid", None)
            session.record.extra.pop("pty_token", None)
            if session.tracker is not None:
                # Kept, closed, so `ptui status --explain` still says how it ended.
                session.tracker.exited(tab.exit_code)
            session.save_screen()
            self.broadcast(
                Event.STATUS_CHANGED,
                {"session": session.id, "status": Activity.EXITED, "exit_code": tab.exit_code},
            )
            if session.id in self.sessions:
                self.store.put(session.record)
        # The PtyProcess still owns the fd and maybe stray children: finish it off.
        proc = tab.proc
        if proc is not None:
            self.in_background(
                f"session {session.id}: stopping what tab {tab.name} left",
                asyncio.to_thread(proc.stop, 0.5),
            )
        self.changed()

    def term_event(self, session: Session, tab: Tab, event: TermEvent) -> None:
        # Only what clients are told of: the emulator also reports things for its
        # own use (modify-other-keys, scrollback-cleared ...), which stay here.
        if event.kind not in _TERMINAL_EVENTS:
            return
        value = event.value
        if isinstance(value, tuple):
            value = list(value)
        self.broadcast(Event(event.kind), {"session": session.id, "tab": tab.name, "value": value})

    def screen_changed(self, session: Session) -> None:
        if session.id in self._screen_timers:
            return
        loop = asyncio.get_running_loop()

        def save() -> None:
            self._screen_timers.pop(session.id, None)
            session.save_screen()

        self._screen_timers[session.id] = loop.call_later(SCREEN_SAVE_DELAY, save)

    def child_exited(self) -> None:
        """SIGCHLD: collect exit statuses and orphans (no timer ever polls)."""
        from tui.term.pty import reap_orphans

        for session in list(self.sessions.values()):
            for tab in list(session.tabs.values()):
                tab.poll_exit()
        reap_orphans()

    # -------------------------------------------------------------- create
    async def create(self, request: messages.SessionCreate) -> list[SessionInfo]:
        """Make `count` sessions on one task; returns their info (and warnings)."""
        self._usable()
        task, name, count = request.task, request.name, request.count
        repo = Path(request.repo).expanduser()
        if not 1 <= count <= 50:
            raise PtuiError("count must be a number from 1 to 50")
        size = _checked_size(request.cols, request.rows)
        loaded = await asyncio.to_thread(load_repo_config, repo, request.base, self.trust)
        config, base = loaded.config, loaded.base
        agent_name = request.agent or config.default_agent
        profile = self._agent(loaded, agent_name)
        # Told once per request, not per session: what the repository's file could
        # not do untrusted, and that an uncommitted copy of it does not count.
        told = [n for n in (loaded.notice(), await asyncio.to_thread(local_changes, loaded)) if n]
        results: list[SessionInfo] = []
        async with self._create_lock, _changed_after(self):
            for index in range(count):
                session_name = name if name is None or count == 1 else f"{name}-{index + 1}"
                ref = await asyncio.to_thread(
                    plan_session,
                    repo,
                    task,
                    base=base,
                    name=session_name,
                    prefix=config.git.branch_prefix,
                    worktrees_dir=config.git.worktrees_path(repo.resolve())
                    if config.git.worktrees_dir
                    else None,
                )
                port = allocate_port(config.server.port_base, self.ports_taken())
                record = ops.new_record(self, ref, task=task, agent=agent_name, port=port)
                session = self.new_session(record, config.terminal, size=size)
                description = session_description(
                    task,
                    {"id": record.id, "task": task, "agent": agent_name, "base": ref.base,
                     "base_commit": ref.base_commit, "created": record.created,
                     "worktree": str(ref.worktree)},
                )  # fmt: skip
                async with session.lock:
                    run = self.begin("new", session, {"ref": ops.ref_fields(ref)})
                    self.sessions[record.id] = session
                    await ops.run_new(self, session, run, description)
                    try:
                        warnings = self._start(session, config, profile, task)
                    except PtuiError as exc:
                        # The worktree is made and kept; fix the command, then resume.
                        warnings = [self._agent_not_started(session, exc)]
                    await self.save_async(session)
                info = session.info()
                if index == 0:
                    warnings = told + warnings
                if warnings:
                    info["warnings"] = warnings
                results.append(info)
        return results

    @staticmethod
    def _agent(loaded: RepoConfig, name: str) -> AgentProfile:
        """The profile `name`; one only an untrusted repository file defines is refused
        with how to trust it (its keys were never applied)."""
        config = loaded.config
        if name not in config.agents:
            refusal = untrusted(config, loaded.workdir, f"agent {name!r}", f"agents.{name}")
            if refusal is not None:
                raise refusal
        return config.agent(name)

    def new_id(self, name: str) -> str:
        """`name`, or `name-2`, `name-3` ... when another repository's session has it;
        cut so the id still fits the name rule (ids are validated on load)."""
        candidate, number = name, 1
        while candidate in self.sessions:
            number += 1
            suffix = f"-{number}"
            candidate = name[: NAME_MAX - len(suffix)].rstrip("._-") + suffix
        return candidate

    def _start(
        self,
        session: Session,
        config: Config,
        profile: AgentProfile,
        task: str,
        *,
        argv: list[str] | None = None,
    ) -> list[str]:
        """Run the setup script (if any, trusted, not yet done), then the agent.

        `argv` is the agent's command (default: the profile's, with the task). A
        setup that never finished (the server stopped during it) is journaled and
        runs again here, and the agent's tab says so.
        """
        warnings: list[str] = []
        env = session_env(session.record)
        pending = [e for e in self.store.pending(session.id) if e.op == "setup"]
        setup = config.scripts.get("setup")
        if setup is None and (
            refusal := untrusted(config, session.record.repo, "the setup script", "scripts.setup")
        ):
            warnings.append(f"setup script not run: {refusal}")

        def start_agent() -> None:
            command = argv if argv is not None else profile.argv_for(task)
            chosen = ""
            if argv is None and profile.session_id_args and profile.resume_session:
                # The conversation is named by ptui, before the task (which stays last).
                chosen = agent_sessions.new_session_id()
                at = len(profile.command)
                named = agent_sessions.fill_session(profile.session_id_args, chosen)
                command = [*command[:at], *named, *command[at:]]
            # The agent's own hooks report to `ptui hook`: options before the task
            # at start, appended to a resume (whose argv the user may have changed).
            at_start = len(profile.command) if argv is None else None
            command = agent_hooks.wire(profile.hooks, command, at_start, profile.env)
            started = time.time()
            tab = session.spawn(
                AGENT_TAB, command, session_env(session.record, profile.env), profile=profile
            )
            if task and profile.types_prompt and argv is None:
                session.pending_prompt = task
            self._remember_pid(session, tab)
            self._track_agent_session(session, profile, tab, started, chosen)

        if setup is None or (argv is not None and not pending):
            if pending:  # no (trusted) setup any more: nothing left to finish
                session.record.lifecycle = LifecycleState.READY
                self.store.finish(pending[0], record=session.record)
            start_agent()
            return warnings
        again = ""
        if pending:
            run = Run(self.store, self.faults, pending[0])
            again = (
                "the setup script did not finish last time (the ptui server stopped "
                "during it); running it again before the agent starts"
            )
            warnings.append(again)
        else:
            run = self.begin("setup", session)
        tab = session.spawn("setup", ["/bin/sh", "-c", setup], env)
        if again:
            tab.note(again)
        session.tabs["setup"] = tab
        session.setup_run = run
        session.record.status = Activity.BUSY

        async def after_setup() -> None:
            await tab.wait_ended()
            async with session.lock:
                # Stopped, archived or removed meanwhile: the agent does not start.
                if session.setup_run is not run or session.id not in self.sessions:
                    return
                session.setup_run = None
                run.record_step("run")
                session.record.lifecycle = LifecycleState.READY
                run.finish(session.record)
                try:
                    start_agent()
                except PtuiError as exc:
                    # As when there is no setup: exited, and say why where it shows.
                    log.warning("session %s: %s", session.id, exc)
                    self._agent_not_started(session, exc, tab)
                    self.broadcast(
                        Event.NOTIFICATION,
                        {"session": session.id, "tab": tab.name,
                         "value": ["agent not started", str(exc)]},
                    )  # fmt: skip
                await self.save_async(session)
            self.changed()

        self.in_background(f"session {session.id}: starting the agent after setup", after_setup())
        return warnings

    def _track_agent_session(
        self, session: Session, profile: AgentProfile, tab: Tab, started: float, chosen: str
    ) -> None:
        """Learn, in the background, which conversation of its own the agent started
        at `started` (wall clock) has, so resume continues exactly that one; `chosen`:
        the id ptui passed it, "" when it chose its own (tui.server.agent_sessions)."""
        store = profile.session_store
        if not profile.resume_session:
            return
        if chosen and store not in agent_sessions.CONFIRMING:
            session.record.agent_session = chosen  # nothing to confirm it with: known now
            return
        if not chosen and store not in agent_sessions.SEARCHING:
            return
        env = {**os.environ, **profile.env}
        find = partial(agent_sessions.lookup, store, env, session.record.worktree, started, chosen)

        async def found(session_id: str) -> None:
            # A later run of the agent has its own watch; a removed session keeps nothing.
            current = session.tabs.get(AGENT_TAB) is tab and session.id in self.sessions
            if not current or session.record.agent_session == session_id:
                return
            if session.hooked_session:
                return  # the agent's hooks said which conversation it is in now
            session.record.agent_session = session_id
            await self.save_async(session)
            self.changed()

        self.in_background(
            f"session {session.id}: finding its agent's conversation id",
            agent_sessions.watch(tab.wait_ended(), find, found),
        )

    def _agent_not_started(self, session: Session, exc: PtuiError, *tabs: Tab) -> str:
        """Mark the session exited and say why in its agent tab (what the app shows
        first: it would be blank) and in `tabs`; returns the message."""
        message = f"agent not started: {exc}"
        session.record.status = Activity.EXITED
        for tab in (session.tab(AGENT_TAB), *tabs):
            tab.note(message)
        session.tab(AGENT_TAB).note(
            "fix the agent's command (config.toml, or the PATH the ptui server started "
            "with), then resume the session (R, or ptui resume)"
        )
        return message

    def _remember_pid(self, session: Session, tab: Tab) -> None:
        proc = tab.proc
        if proc is not None:
            session.record.extra["pid"] = proc.pid
            session.record.extra["pty_token"] = proc.token
        session.record.status = Activity.BUSY
        session.record.exit_code = None

    # ----------------------------------------------------------- lifecycle
    async def _operate(
        self,
        key: str,
        verb: str,
        fn: Callable[[SessionManager, Session], Awaitable[T]],
        *,
        exact: bool = False,
    ) -> T:
        """Lock the session, recover it, check the verb fits, then run `fn`."""
        session = self.find(key, exact=exact)
        try:
            async with session.lock:
                await self.recover(session)
                if session.id not in self.sessions:
                    raise NotFound(f"no session {key!r} (see ptui ls)")
                require(session.record, verb)
                return await fn(self, session)
        finally:
            self.changed()

    async def stop(self, key: str) -> SessionInfo:
        async def stop(mgr: SessionManager, session: Session) -> SessionInfo:
            await mgr.stop_processes(session)
            return session.info()

        return await self._operate(key, "stop", stop)

    async def stop_processes(self, session: Session) -> None:
        """Stop every program of the session (a setup never finishes: the agent
        does not start after it); the screen is saved and the record written."""
        session.setup_run = None
        was_running = session.running
        await session.stop_tabs()
        session.pending_prompt = ""
        if was_running or session.record.status in LIVE:
            session.record.status = Activity.STOPPED
        session.record.extra.pop("pid", None)
        session.record.extra.pop("pty_token", None)
        session.save_screen()
        await self.save_async(session)

    async def resume(
        self, key: str, cols: int | None = None, rows: int | None = None
    ) -> SessionInfo:
        """Start the agent again with its resume command; `cols`, `rows`: the client's
        terminal (the last size is kept when neither is given)."""

        async def resume(mgr: SessionManager, session: Session) -> SessionInfo:
            if session.running:
                raise PtuiError(f"session {session.id!r} is already running")
            setup = session.tabs.get("setup")
            if setup is not None and setup.alive:
                raise PtuiError(
                    f"session {session.id!r}: its setup script is running; the agent "
                    "starts when it ends"
                )
            if session.worktree_missing:
                raise PtuiError(
                    f"session {session.id!r}: worktree {session.record.worktree} is missing; "
                    "it is not recreated (rm the session, or put the checkout back)"
                )
            if cols is not None or rows is not None:
                default_cols, default_rows = DEFAULT_SIZE
                session.size = _checked_size(
                    default_cols if cols is None else cols, default_rows if rows is None else rows
                )
            loaded = await asyncio.to_thread(
                load_repo_config, session.record.repo, session.record.base, self.trust
            )
            config = loaded.config
            profile = self._agent(loaded, session.record.agent)
            session.terminal = self.terminal_settings(config.terminal)
            session.tab(AGENT_TAB)  # make sure the last screen is loaded first
            argv, note = _resume_argv(session.record, profile)
            warnings = self._start(session, config, profile, session.record.task, argv=argv)
            if note:
                warnings.insert(0, note)
            await mgr.save_async(session)
            info = session.info()
            if warnings:
                info["warnings"] = warnings
            return info

        return await self._operate(key, "resume", resume)

    async def archive(self, key: str) -> messages.Archived:
        async def archive(mgr: SessionManager, session: Session) -> messages.Archived:
            await mgr._drop_setup(session)
            return await ops.run_archive(mgr, session, ops.new_archive(mgr, session))

        return await self._operate(key, "archive", archive)

    async def _drop_setup(self, session: Session) -> None:
        """Archive or rm during setup: the setup is cancelled, its agent never starts."""
        session.setup_run = None
        for entry in await asyncio.to_thread(self.store.pending, session.id):
            if entry.op == "setup":
                await asyncio.to_thread(self.store.finish, entry)

    async def restore(self, key: str) -> SessionInfo:
        async def restore(mgr: SessionManager, session: Session) -> SessionInfo:
            await ops.run_restore(mgr, session, mgr.begin("restore", session))
            return session.info()

        return await self._operate(key, "restore", restore)

    async def remove(self, key: str, force: bool = False) -> messages.Removed:
        async def remove(mgr: SessionManager, session: Session) -> messages.Removed:
            risk = await asyncio.to_thread(ops.work_at_risk, session)
            if risk and not force:
                raise PtuiError(
                    f"session {session.id!r} has work not merged into {session.record.base} "
                    f"({'; '.join(risk)}); merge it, or `ptui rm --force {session.id}` to "
                    "delete it and that work"
                )
            await mgr._drop_setup(session)
            tar = f"{session.record.name}.{time.time_ns()}.tar"
            run = mgr.begin("rm", session, {"tar": tar, "lost": risk, "force": force})
            return await ops.run_remove(mgr, session, run)

        return await self._operate(key, "rm", remove, exact=True)

    async def commit(self, key: str, message: str) -> messages.Committed:
        async def commit(mgr: SessionManager, session: Session) -> messages.Committed:
            if not message.strip():
                raise PtuiError(f"session {session.id!r}: a commit message is required")
            head = await asyncio.to_thread(ops.branch_head, session.ref)
            run = mgr.begin("commit", session, {"old_head": head})
            return {"id": session.id, "commit": await ops.run_commit(mgr, session, run, message)}

        return await self._operate(key, "commit", commit)

    async def merge(self, key: str, strategy: str, message: str | None) -> messages.Merged:
        try:
            chosen = git_merge.MergeStrategy(strategy)
        except ValueError:
            raise PtuiError(f"unknown merge strategy {strategy!r} (ff, merge, squash)") from None

        async def merge(mgr: SessionManager, session: Session) -> messages.Merged:
            run = mgr.begin("merge", session)
            return await ops.run_merge(mgr, session, run, chosen, message)

        return await self._operate(key, "merge", merge)

    async def run_script(self, key: str, script: str) -> messages.TabOpened:
        async def run(mgr: SessionManager, session: Session) -> messages.TabOpened:
            self._require_worktree(session)
            loaded = await asyncio.to_thread(
                load_repo_config, session.record.repo, session.record.base, self.trust
            )
            command = check_script(loaded.config, session.record.repo, script)
            existing = session.tabs.get(script)
            if existing is not None and existing.alive:
                raise PtuiError(f"script {script!r} is already running in session {session.id!r}")
            session.spawn(script, ["/bin/sh", "-c", command], session_env(session.record))
            return {"id": session.id, "tab": script}

        return await self._operate(key, "run", run)

    async def open_shell(self, key: str) -> messages.TabOpened:
        async def shell(mgr: SessionManager, session: Session) -> messages.TabOpened:
            self._require_worktree(session)
            name = "shell"
            number = 1
            while name in session.tabs and session.tabs[name].alive:
                number += 1
                name = f"shell-{number}"
            sh = os.environ.get("SHELL") or "/bin/sh"
            session.spawn(name, [sh], session_env(session.record))
            return {"id": session.id, "tab": name}

        return await self._operate(key, "shell", shell)

    def _require_worktree(self, session: Session) -> None:
        if session.worktree_missing:
            raise PtuiError(
                f"session {session.id!r}: worktree {session.record.worktree} is missing"
            )

    async def shutdown(self) -> None:
        """Stop every session (server stop): screens saved, no process left behind."""
        for handle in self._screen_timers.values():
            handle.cancel()
        self._screen_timers.clear()
        if self.recovery is not None:
            self.recovery.cancel()
        live = [s for s in self.sessions.values() if any(t.alive for t in s.tabs.values())]
        await asyncio.gather(*(self.stop_processes(s) for s in live))
        for session in self.sessions.values():
            if session.tabs.get(AGENT_TAB) is not None:
                session.save_screen()
        self.save()


@contextlib.asynccontextmanager
async def _changed_after(manager: SessionManager) -> AsyncIterator[None]:
    """Tell the clients once the block ends, however it ends."""
    try:
        yield
    finally:
        manager.changed()


def _global_terminal_config() -> TerminalConfig:
    """`[terminal]` of the global config file; the defaults when it is unusable (the
    server still starts, and its log says why)."""
    try:
        return load_config(None).terminal
    except PtuiError as exc:
        log.error("%s; restored sessions use the default [terminal] settings", exc)
        return TerminalConfig()


def _resume_argv(record: SessionRecord, profile: AgentProfile) -> tuple[list[str], str]:
    """What resumes the session's agent, and what the user should know about it: the
    exact conversation when its id is known, else the profile's `resume`, which
    picks the latest conversation in the worktree (maybe another session's)."""
    fallback = profile.resume_argv()
    known = record.agent_session
    if not profile.resume_session:
        return fallback, ""  # no exact resume (aider's history is the worktree's own)
    if known and agent_sessions.valid_session_id(known):
        return agent_sessions.fill_session(profile.resume_session, known), ""
    shown = shlex.join(fallback)
    if known:
        return fallback, (
            f"the stored conversation id {known!r:.60} is not a plain id and was not "
            f"used: resuming with `{shown}` (the latest conversation in this folder)"
        )
    return fallback, (
        f"no conversation id is known for this session: resuming with `{shown}` "
        "(the latest conversation in this folder)"
    )


def _checked_size(cols: int, rows: int) -> tuple[int, int]:
    """A terminal size as create and resume take it: each 1 to 9999."""
    if not (0 < cols < 10_000 and 0 < rows < 10_000):
        raise PtuiError("cols and rows must be positive numbers")
    return cols, rows
