"""Session lifecycle: create, stop, resume, archive, restore, delete, commit, merge, run.

`SessionManager` owns every `Session` and the state file. Each change is saved
through `tui.state` before it is reported; git work and process shutdown run in
worker threads so the event loop keeps serving keystrokes meanwhile. Events for
clients (sessions-changed, status-changed, bell ...) go out through `broadcast`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui import paths
from tui.config import AgentProfile, Config, load_config
from tui.errors import PtuiError
from tui.git import archive as git_archive
from tui.git import merge as git_merge
from tui.git.status import session_status
from tui.git.worktree import create_session
from tui.server import status as st
from tui.server.ports import allocate_port
from tui.server.session import AGENT_TAB, Session, session_env
from tui.server.tab import ParseScheduler, Tab
from tui.server.trust import TrustError, TrustStore, check_script, load_trusted_config
from tui.state import SessionRecord, StateError, StateStore
from tui.term.emulator import TermEvent
from tui.term.reaper import ENV_TOKEN, process_table

log = logging.getLogger("ptui.server")

SCREEN_SAVE_DELAY = 2.0
"""Seconds after a screen change before its snapshot is written (coalesces bursts)."""


class NotFound(PtuiError):
    """No session (or tab, or script) by that name."""


class SessionManager:
    """Every session of this user, live or stopped, and the operations on them."""

    def __init__(self, broadcast: Callable[[str, dict[str, Any]], None]) -> None:
        self.broadcast = broadcast
        self.sessions: dict[str, Session] = {}
        self.scheduler = ParseScheduler()
        self.store = StateStore(paths.state_file())
        self.trust = TrustStore()
        self._screen_timers: dict[str, asyncio.TimerHandle] = {}
        self._create_lock = asyncio.Lock()

    # ------------------------------------------------------------ persistence
    def load(self) -> None:
        """Bring back every saved session as stopped (or exited) with its last screen."""
        try:
            records = self.store.load()
        except StateError as exc:
            # A corrupt file has been moved aside (kept, never deleted): start empty.
            # A newer ptui's file raises again here, and the server refuses to start.
            log.error("%s", exc)
            records = self.store.load()
        for record in records:
            was_live = record.status in st.LIVE
            if was_live:
                record.status = st.STOPPED
            self._kill_leftovers(record)
            session = Session(record, self.scheduler, self)
            self.sessions[record.id] = session
        self.save()

    def _kill_leftovers(self, record: SessionRecord) -> None:
        """Processes of a session from a server that died without stopping them."""
        record.extra.pop("pid", None)
        token = record.extra.pop("pty_token", None)
        if not isinstance(token, str) or not token:
            return
        # Only processes carrying the session's random token in their environment:
        # a recorded pid alone may have been reused by anything since.
        marker = f"{ENV_TOKEN}={token}".encode()
        me = os.getpid()
        for pid in process_table():
            if pid == me:
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as env:
                    found = marker in env.read().split(b"\0")
            except OSError:
                continue
            if found:
                log.info("session %s: killing leftover process %d", record.id, pid)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def save(self) -> None:
        """Write every record (atomic, locked)."""
        self.store.save([s.record for s in self.sessions.values()])

    async def save_async(self) -> None:
        records = [s.record for s in self.sessions.values()]
        await asyncio.to_thread(self.store.save, records)

    def changed(self) -> None:
        self.broadcast("sessions-changed", {"sessions": self.list_info(include_archived=True)})

    # ----------------------------------------------------------- lookups
    def find(self, key: str) -> Session:
        """The session with id `key`, or the only one whose id starts with `key`."""
        if not isinstance(key, str) or not key:
            raise NotFound("a session id is required (see ptui ls)")
        if key in self.sessions:
            return self.sessions[key]
        matches = [sid for sid in self.sessions if sid.startswith(key)]
        if len(matches) == 1:
            return self.sessions[matches[0]]
        if matches:
            raise NotFound(f"session id {key!r} is ambiguous: {', '.join(sorted(matches))}")
        raise NotFound(f"no session {key!r} (see ptui ls)")

    def list_info(self, include_archived: bool = False) -> list[dict[str, Any]]:
        sessions = sorted(self.sessions.values(), key=lambda s: (s.record.created, s.id))
        return [s.info() for s in sessions if include_archived or not s.record.archived]

    # ---------------------------------------------------- SessionEvents
    def status_changed(self, session: Session) -> None:
        session.record.status = session.status
        self.broadcast("status-changed", {"session": session.id, "status": session.status})

    def tab_exited(self, session: Session, tab: Tab) -> None:
        if tab.name == AGENT_TAB:
            session.record.status = st.EXITED
            session.record.exit_code = tab.exit_code
            session.record.extra.pop("pid", None)
            session.record.extra.pop("pty_token", None)
            if session.tracker is not None:
                session.tracker.close()
                session.tracker = None
            session.save_screen()
            self.broadcast(
                "status-changed",
                {"session": session.id, "status": st.EXITED, "exit_code": tab.exit_code},
            )
            self.save()
        # The PtyProcess still owns the fd and maybe stray children: finish it off.
        proc = tab.proc
        if proc is not None:
            asyncio.get_running_loop().run_in_executor(None, proc.stop, 0.5)
        self.changed()

    def term_event(self, session: Session, tab: Tab, event: TermEvent) -> None:
        value = event.value
        if isinstance(value, tuple):
            value = list(value)
        self.broadcast(event.kind, {"session": session.id, "tab": tab.name, "value": value})

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
    async def create(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Make `count` sessions on one task; returns their info (and warnings)."""
        task = _str(params, "task", "")
        repo = Path(_str(params, "repo", os.getcwd())).expanduser()
        base = _opt_str(params, "base")
        name = _opt_str(params, "name")
        count = params.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 50:
            raise PtuiError("count must be a number from 1 to 50")
        cols, rows = _size(params)
        config = await asyncio.to_thread(load_trusted_config, repo, base)
        agent_name = _opt_str(params, "agent") or config.default_agent
        profile = config.agent(agent_name)
        self._check_agent_trust(config, profile, repo)
        results: list[dict[str, Any]] = []
        async with self._create_lock:
            for index in range(count):
                session_name = name if name is None or count == 1 else f"{name}-{index + 1}"
                ref = await asyncio.to_thread(
                    create_session,
                    repo,
                    task,
                    base=base,
                    name=session_name,
                    prefix=config.git.branch_prefix,
                    worktrees_dir=config.git.worktrees_path(repo.resolve())
                    if config.git.worktrees_dir
                    else None,
                )
                taken = [s.record.port for s in self.sessions.values() if not s.record.archived]
                port = allocate_port(config.server.port_base, taken)
                record = SessionRecord(
                    id=self._new_id(ref.name),
                    name=ref.name,
                    task=task,
                    agent=agent_name,
                    repo=ref.repo,
                    branch=ref.branch,
                    base=ref.base,
                    base_commit=ref.base_commit,
                    worktree=ref.worktree,
                    status=st.BUSY,
                    port=port,
                )
                session = Session(
                    record, self.scheduler, self, scrollback=config.terminal.scrollback
                )
                session.size = (cols, rows)
                self.sessions[record.id] = session
                try:
                    warnings = self._start(session, config, profile, task)
                except PtuiError as exc:
                    # The worktree is made and kept; fix the command, then resume.
                    warnings = [self._agent_not_started(session, exc)]
                await self.save_async()
                info = session.info()
                if warnings:
                    info["warnings"] = warnings
                results.append(info)
        self.changed()
        return results

    def _check_agent_trust(self, config: Config, profile: AgentProfile, repo: Path) -> None:
        """An agent command defined by an untrusted `.ptui.toml` must not run."""
        if self.trust.is_trusted(repo.resolve(), config.repo_digest):
            return
        mine = load_config(None).agents.get(profile.name)
        if mine is None or (mine.command, mine.resume, dict(mine.env), mine.prompt) != (
            profile.command,
            profile.resume,
            dict(profile.env),
            profile.prompt,
        ):
            raise TrustError(
                f"agent {profile.name!r} is defined by {repo / paths.REPO_CONFIG_NAME}, which "
                f"you have not trusted; review it and run `ptui trust` in {repo}"
            )

    def _new_id(self, name: str) -> str:
        candidate, number = name, 1
        while candidate in self.sessions:
            number += 1
            candidate = f"{name}-{number}"
        return candidate

    def _start(
        self, session: Session, config: Config, profile: AgentProfile, task: str
    ) -> list[str]:
        """Run the setup script (if any, trusted), then the agent with the task."""
        warnings: list[str] = []
        env = session_env(session.record)
        setup: str | None = None
        if "setup" in config.scripts:
            try:
                setup = check_script(config, session.record.repo, "setup", self.trust)
            except TrustError as exc:
                warnings.append(f"setup script not run: {exc}")

        def start_agent() -> None:
            argv = profile.argv_for(task)
            tab = session.spawn(
                AGENT_TAB, argv, session_env(session.record, profile.env), profile=profile
            )
            if task and profile.types_prompt:
                session.pending_prompt = task
            self._remember_pid(session, tab)

        if setup is None:
            start_agent()
            return warnings
        tab = session.spawn("setup", ["/bin/sh", "-c", setup], env)
        waiter = _TabExit(tab)
        session.tabs["setup"] = tab
        session.record.status = st.BUSY

        async def after_setup() -> None:
            await waiter.wait()
            if session.id in self.sessions and not session.record.archived:
                try:
                    start_agent()
                except PtuiError as exc:
                    # As when there is no setup: exited, and say why where it shows.
                    log.warning("session %s: %s", session.id, exc)
                    self._agent_not_started(session, exc, tab)
                    self.broadcast(
                        "notification",
                        {"session": session.id, "tab": tab.name,
                         "value": ["agent not started", str(exc)]},
                    )  # fmt: skip
                    await self.save_async()
                self.changed()

        asyncio.get_running_loop().create_task(after_setup())
        return warnings

    def _agent_not_started(self, session: Session, exc: PtuiError, *tabs: Tab) -> str:
        """Mark the session exited and say why in its agent tab (what the app shows
        first: it would be blank) and in `tabs`; returns the message."""
        message = f"agent not started: {exc}"
        session.record.status = st.EXITED
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
            token = proc._family.token  # see report: a public accessor
            session.record.extra["pty_token"] = token
        session.record.status = st.BUSY
        session.record.exit_code = None

    # ----------------------------------------------------------- lifecycle
    async def stop(self, key: str) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            await self._stop(session)
        self.changed()
        return session.info()

    async def _stop(self, session: Session) -> None:
        was_running = session.running
        await session.stop_tabs()
        session.pending_prompt = ""
        if was_running or session.record.status in st.LIVE:
            session.record.status = st.STOPPED
        session.record.extra.pop("pid", None)
        session.record.extra.pop("pty_token", None)
        session.save_screen()
        await self.save_async()

    async def resume(self, key: str, params: dict[str, Any]) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            if session.record.archived:
                raise PtuiError(f"session {session.id!r} is archived; `ptui restore` it first")
            if session.running:
                raise PtuiError(f"session {session.id!r} is already running")
            if session.worktree_missing:
                raise PtuiError(
                    f"session {session.id!r}: worktree {session.record.worktree} is missing; "
                    "it is not recreated (rm the session, or put the checkout back)"
                )
            if "cols" in params or "rows" in params:
                session.size = _size(params)
            config = await asyncio.to_thread(
                load_trusted_config, session.record.repo, session.record.base
            )
            profile = config.agent(session.record.agent)
            self._check_agent_trust(config, profile, session.record.repo)
            session.tab(AGENT_TAB)  # make sure the last screen is loaded first
            tab = session.spawn(
                AGENT_TAB,
                profile.resume_argv(),
                session_env(session.record, profile.env),
                profile=profile,
            )
            self._remember_pid(session, tab)
            await self.save_async()
        self.changed()
        return session.info()

    async def archive(self, key: str) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            if session.record.archived:
                raise PtuiError(f"session {session.id!r} is already archived")
            await self._stop(session)
            result = await asyncio.to_thread(
                git_archive.archive_session, session.ref, paths.archive_dir()
            )
            session.record.archived = True
            session.record.archive_ref = result.ref_name
            session.record.port = 0
            session.close_dead_tabs()
            await self.save_async()
        self.changed()
        info = session.info()
        info["files_saved"] = result.files_saved
        info["ignored_saved"] = result.ignored_saved
        return info

    async def restore(self, key: str) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            if not session.record.archived:
                raise PtuiError(f"session {session.id!r} is not archived")
            await asyncio.to_thread(git_archive.restore_session, session.ref, paths.archive_dir())
            config = load_config(None)
            taken = [s.record.port for s in self.sessions.values() if not s.record.archived]
            session.record.port = allocate_port(config.server.port_base, taken)
            session.record.archived = False
            session.record.archive_ref = ""
            session.record.status = st.STOPPED
            await self.save_async()
        self.changed()
        return session.info()

    async def remove(self, key: str) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            await self._stop(session)
            ref = session.ref
            if not session.record.archived and session.record.worktree.exists():
                merged = await asyncio.to_thread(git_merge.session_is_merged, ref)
                clean = (await asyncio.to_thread(session_status, ref)).clean
                if not (merged and clean):
                    raise PtuiError(
                        f"session {session.id!r} has work that is not merged into "
                        f"{ref.base}; merge it or archive it first"
                    )
                await asyncio.to_thread(git_archive.archive_session, ref, paths.archive_dir())
            await asyncio.to_thread(git_archive.delete_session, ref, paths.archive_dir())
            session.drop_screen()
            del self.sessions[session.id]
            await self.save_async()
        self.changed()
        return {"id": session.id, "removed": True}

    async def commit(self, key: str, message: str) -> dict[str, Any]:
        session = self.find(key)
        commit = await asyncio.to_thread(git_merge.commit_all, session.ref, message)
        return {"id": session.id, "commit": commit}

    async def merge(self, key: str, strategy: str, message: str | None) -> dict[str, Any]:
        session = self.find(key)
        try:
            chosen = git_merge.MergeStrategy(strategy)
        except ValueError:
            raise PtuiError(f"unknown merge strategy {strategy!r} (ff, merge, squash)") from None
        committed = ""
        async with session.lock:
            ref = session.ref
            state = await asyncio.to_thread(session_status, ref)
            if not state.clean:
                text = f"ptui: work of session {session.record.name}\n\n{session.record.task}\n"
                committed = await asyncio.to_thread(git_merge.commit_all, ref, text)
            result = await asyncio.to_thread(git_merge.merge_session, ref, chosen, message)
        self.changed()
        return {
            "id": session.id,
            "strategy": result.strategy.value,
            "base": result.base,
            "old_commit": result.old_commit,
            "new_commit": result.new_commit,
            "files": result.files,
            "committed": committed,
        }

    async def run_script(self, key: str, script: str) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            self._require_worktree(session)
            config = await asyncio.to_thread(
                load_trusted_config, session.record.repo, session.record.base
            )
            command = check_script(config, session.record.repo, script, self.trust)
            existing = session.tabs.get(script)
            if existing is not None and existing.alive:
                raise PtuiError(f"script {script!r} is already running in session {session.id!r}")
            session.spawn(script, ["/bin/sh", "-c", command], session_env(session.record))
        self.changed()
        return {"id": session.id, "tab": script}

    async def open_shell(self, key: str) -> dict[str, Any]:
        session = self.find(key)
        async with session.lock:
            self._require_worktree(session)
            name = "shell"
            number = 1
            while name in session.tabs and session.tabs[name].alive:
                number += 1
                name = f"shell-{number}"
            shell = os.environ.get("SHELL") or "/bin/sh"
            session.spawn(name, [shell], session_env(session.record))
        self.changed()
        return {"id": session.id, "tab": name}

    def _require_worktree(self, session: Session) -> None:
        if session.record.archived:
            raise PtuiError(f"session {session.id!r} is archived; `ptui restore` it first")
        if session.worktree_missing:
            raise PtuiError(
                f"session {session.id!r}: worktree {session.record.worktree} is missing"
            )

    async def shutdown(self) -> None:
        """Stop every session (server stop): screens saved, no process left behind."""
        for handle in self._screen_timers.values():
            handle.cancel()
        self._screen_timers.clear()
        live = [s for s in self.sessions.values() if any(t.alive for t in s.tabs.values())]
        await asyncio.gather(*(self._stop(s) for s in live))
        for session in self.sessions.values():
            if session.tabs.get(AGENT_TAB) is not None:
                session.save_screen()
        self.save()


class _TabExit:
    """Await a tab's program ending (wraps its exit callback)."""

    def __init__(self, tab: Tab) -> None:
        self._event = asyncio.Event()
        previous = tab._on_exit

        def on_exit(t: Tab) -> None:
            previous(t)
            self._event.set()

        tab._on_exit = on_exit

    async def wait(self) -> None:
        await self._event.wait()


def _str(params: dict[str, Any], key: str, default: str) -> str:
    value = params.get(key, default)
    if not isinstance(value, str):
        raise PtuiError(f"{key} must be a string")
    return value


def _opt_str(params: dict[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PtuiError(f"{key} must be a string")
    return value


def _size(params: dict[str, Any]) -> tuple[int, int]:
    cols, rows = params.get("cols", 120), params.get("rows", 36)
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v < 10_000 for v in (cols, rows)
    ):
        raise PtuiError("cols and rows must be positive numbers")
    return int(cols), int(rows)
