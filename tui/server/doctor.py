"""`ptui doctor`: every mismatch between the records, the journal, git and the disk.

`examine` lists problems; `repair` fixes each one without deleting anything that
is not saved elsewhere first: an unrecorded worktree, branch or archive becomes a
session again (git holds everything a record needs), a stray tar becomes an
archived session of its own (the tar kept in the recovery folder), an unreadable
state database is moved aside (kept) and the
records are rebuilt from git. What cannot be repaired without the user (a
worktree deleted by hand) is marked `damaged` and stays listed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tui import paths
from tui.config import load_config
from tui.errors import PtuiError
from tui.git import worktree as git_worktree
from tui.git.inventory import RepoInventory, repo_inventory
from tui.git.model import GitError, SessionRef
from tui.protocol import messages
from tui.server.ports import allocate_port
from tui.server.session import Session
from tui.state import LifecycleState, SessionRecord, StateStore
from tui.term.reaper import ENV_TOKEN, process_table

if TYPE_CHECKING:
    from tui.server.manager import SessionManager

log = logging.getLogger("ptui.server")

_TRANSITIONAL = frozenset(
    {
        LifecycleState.CREATING,
        LifecycleState.ARCHIVING,
        LifecycleState.RESTORING,
        LifecycleState.MERGING,
        LifecycleState.REMOVING,
    }
)
"""States only an operation in progress may leave a session in."""


@dataclass
class Problem:
    """One mismatch: what kind, where, and (after --fix) what was done."""

    kind: str
    message: str
    session: str = ""
    repo: str = ""
    path: str = ""
    fixed: str = ""
    """What `repair` did about it ("" when it was not repaired)."""

    def to_dict(self) -> messages.Problem:
        return {
            "kind": self.kind,
            "message": self.message,
            "session": self.session,
            "repo": self.repo,
            "path": self.path,
            "fixed": self.fixed,
        }


async def examine(mgr: SessionManager, repos: list[Path]) -> list[Problem]:
    """Every problem found; `repos` adds repositories to look in besides the records'."""
    if mgr.broken is not None:
        return [Problem("state", str(mgr.broken), path=str(mgr.store.path))]
    problems: list[Problem] = []
    problems += [Problem("state", why, path=str(mgr.store.path)) for why in mgr.store.check()]
    busy = {sid for sid, s in mgr.sessions.items() if s.lock.locked()}
    for entry in await asyncio.to_thread(mgr.store.pending):
        session = mgr.sessions.get(entry.session)
        if entry.op == "setup" and session is not None:
            continue  # a setup to run again on resume: expected, not damage
        if entry.session in busy:
            continue  # running now
        problems.append(
            Problem(
                "half-done",
                f"an interrupted {entry.op} (done: {', '.join(entry.done) or 'nothing'})",
                session=entry.session,
            )
        )
    pending = {e.session for e in await asyncio.to_thread(mgr.store.pending)}
    for session in mgr.sessions.values():
        problems += _record_problems(session, session.id in pending)
    for repo in _repos(mgr, repos):
        try:
            inventory = await asyncio.to_thread(repo_inventory, repo)
        except GitError as exc:
            problems.append(Problem("repository", str(exc), repo=str(repo)))
            continue
        problems += _orphans(mgr, inventory)
        problems += _stale_locks(inventory)
    problems += _stray_files(mgr)
    problems += [
        Problem("process", f"process {pid} of a session that is not running", path=str(pid))
        for pid in _stray_processes(mgr)
    ]
    return problems


def _record_problems(session: Session, pending: bool) -> list[Problem]:
    record = session.record
    where = {"session": record.id, "repo": str(record.repo), "path": str(record.worktree)}
    state = record.lifecycle
    if pending or state is LifecycleState.SETTING_UP:
        return []
    if state in _TRANSITIONAL:
        return [Problem("state-mismatch", f"recorded as {state} with nothing in progress", **where)]
    if state is LifecycleState.DAMAGED:
        return [Problem("damaged", record.damage or "damaged", **where)]
    exists = record.worktree.is_dir()
    if state is LifecycleState.ARCHIVED and exists:
        return [Problem("state-mismatch", "recorded as archived but its worktree exists", **where)]
    if state is LifecycleState.READY and not exists:
        return [Problem("missing-worktree", f"worktree {record.worktree} is gone", **where)]
    return []


def _repos(mgr: SessionManager, extra: list[Path]) -> list[Path]:
    seen: dict[str, Path] = {}
    for path in [*(s.record.repo for s in mgr.sessions.values()), *extra]:
        seen.setdefault(os.path.realpath(path), path)
    return list(seen.values())


def _orphans(mgr: SessionManager, inventory: RepoInventory) -> list[Problem]:
    repo = os.path.realpath(inventory.repo)
    mine = [s.record for s in mgr.sessions.values() if os.path.realpath(s.record.repo) == repo]
    names = {r.name for r in mine}
    branches = {r.branch for r in mine}
    problems: list[Problem] = []
    where = {"repo": str(inventory.repo)}
    for name, wt in inventory.worktrees.items():
        if name in names:
            continue
        if not wt.exists:
            message = f"git still lists worktree ptui-{name} at {wt.path}, which is gone"
            problems.append(
                Problem("stale-worktree", message, session=name, path=str(wt.path), **where)
            )
        else:
            message = f"worktree {wt.path} has no session"
            problems.append(
                Problem("orphan-worktree", message, session=name, path=str(wt.path), **where)
            )
    taken = {wt.branch for wt in inventory.worktrees.values()}
    archived = {a.branch for a in inventory.archives.values()}
    for branch in inventory.described:
        if branch not in branches and branch not in taken and branch not in archived:
            message = f"branch {branch} has no session"
            name = branch.rsplit("/", 1)[-1]
            problems.append(Problem("orphan-branch", message, session=name, **where))
    for name in inventory.archives:
        if name not in names:
            message = f"archive refs/ptui/archive/{name} has no session"
            problems.append(Problem("orphan-archive", message, session=name, **where))
    return problems


STALE_LOCK_AGE = 600.0
"""Seconds after which git's index.lock is reported as probably left by a dead process."""


def _stale_locks(inventory: RepoInventory) -> list[Problem]:
    """git's index.lock files older than STALE_LOCK_AGE in the repository and its worktrees.

    Reported, never removed: a `git commit` waiting in an editor holds one too, and
    nothing tells a live holder from a dead one.
    """
    git_dir = inventory.git_dir
    now = time.time()
    found = []
    for lock in [git_dir / "index.lock", *git_dir.glob("worktrees/*/index.lock")]:
        try:
            age = now - lock.stat().st_mtime
        except OSError:
            continue
        if age > STALE_LOCK_AGE:
            found.append(
                Problem(
                    "stale-lock",
                    f"{lock} is {age / 60:.0f} minutes old; remove it if no git command runs",
                    repo=str(inventory.repo),
                    path=str(lock),
                )
            )
    return found


def _claimed_tars(mgr: SessionManager) -> set[str]:
    claimed: set[str] = set()
    for repo in _repos(mgr, []):
        try:
            claimed.update(a.tar for a in repo_inventory(repo).archives.values() if a.tar)
        except GitError:
            continue
    for entry in mgr.store.pending():
        tar = entry.params.get("tar")
        if isinstance(tar, str):
            claimed.add(tar)
    return claimed


def _stray_files(mgr: SessionManager) -> list[Problem]:
    folder = paths.archive_dir()
    if not folder.is_dir():
        return []
    claimed = _claimed_tars(mgr)
    problems = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        base = path.name.removesuffix(".tmp")
        if base in claimed:
            continue
        problems.append(Problem("orphan-tar", f"{path} belongs to no archive", path=str(path)))
    return problems


def _live_tokens(mgr: SessionManager) -> set[str]:
    tokens = set()
    for session in mgr.sessions.values():
        for tab in session.tabs.values():
            proc = tab.proc
            if proc is not None and tab.alive:
                tokens.add(proc.token)
    return tokens


def _stray_processes(mgr: SessionManager) -> list[int]:
    """Processes started for one of our sessions' worktrees that no running tab owns.

    Both marks are needed: the session token (only ptui sets it) and the worktree
    of one of this server's sessions, so another ptui's processes are never taken.
    """
    live = _live_tokens(mgr)
    ours = {f"PTUI_WORKTREE={s.record.worktree}".encode() for s in mgr.sessions.values()}
    me = os.getpid()
    prefix = f"{ENV_TOKEN}=".encode()
    found = []
    for pid in process_table():
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as env:
                items = env.read().split(b"\0")
        except OSError:
            continue
        tokens = [i[len(prefix) :].decode(errors="replace") for i in items if i.startswith(prefix)]
        if tokens and tokens[0] not in live and ours.intersection(items):
            found.append(pid)
    return found


# ------------------------------------------------------------------ repair
async def repair(mgr: SessionManager, problems: list[Problem], repos: list[Path]) -> None:
    """Fix what can be fixed; each problem's `fixed` says what was done."""
    for problem in problems:
        try:
            problem.fixed = await _repair_one(mgr, problem, repos)
        except (PtuiError, OSError) as exc:
            problem.fixed = ""
            problem.message += f" (not repaired: {exc})"
    mgr.save()
    mgr.changed()


async def _repair_one(mgr: SessionManager, problem: Problem, repos: list[Path]) -> str:
    kind = problem.kind
    if kind == "state":
        return await _rebuild_state(mgr, repos)
    if kind == "half-done":
        session = mgr.sessions.get(problem.session)
        if session is None:
            return ""
        async with session.lock:
            await mgr.recover(session)
        return "finished or undone"
    session = mgr.sessions.get(problem.session)
    if kind in ("state-mismatch", "missing-worktree") and session is not None:
        return await _settle(mgr, session)
    if kind == "stale-worktree":
        await asyncio.to_thread(_prune, Path(problem.repo))
        return "git's record of the deleted worktree pruned"
    if kind in ("orphan-worktree", "orphan-branch", "orphan-archive"):
        return await _adopt(mgr, problem)
    if kind == "orphan-tar":
        return await _recover_tar(mgr, Path(problem.path), repos)
    if kind == "process":
        os.kill(int(problem.path), signal.SIGKILL)
        return "killed"
    return ""


def _recovery_dir() -> Path:
    return paths.data_dir() / "recovered"


async def _recover_tar(mgr: SessionManager, tar: Path, repos: list[Path]) -> str:
    """A stray tar becomes an archived session of its own, which `ptui restore` opens.

    Its files are unpacked under `recovered/<tar name>/` in a new session's worktree
    (branched from the repository's current branch) and archived the usual way;
    the tar itself is kept in the recovery folder.
    """
    from tui.server import operations as ops

    kept = _recovery_dir() / tar.name
    kept.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    where = [*repos, *(s.record.repo for s in mgr.sessions.values())]
    if not where:
        shutil.move(tar, kept)
        return f"moved to {kept} (no repository to restore it into; run doctor in one)"
    stamp = datetime.now(UTC).strftime("%Y%m%dt%H%M%S")
    task = f"files recovered from {tar.name}"
    git = load_config(None).git
    ref = await asyncio.to_thread(
        git_worktree.plan_session,
        where[0],
        task,
        name=f"recovered-{stamp}",
        prefix=git.branch_prefix,
        worktrees_dir=git.worktrees_path(Path(where[0]).resolve()) if git.worktrees_dir else None,
    )
    fields = {"task": task, "base": ref.base, "base_commit": ref.base_commit}
    record = _record_for(mgr, ref, fields, LifecycleState.READY)
    session = mgr.new_session(record)
    async with session.lock:
        run = mgr.begin("new", session, {"ref": ops.ref_fields(ref)})
        mgr.sessions[record.id] = session
        description = git_worktree.session_description(task, fields)
        await ops.run_new(mgr, session, run, description)
        from tui.git.archive import unpack_stray_tar

        folder = ref.worktree / "recovered" / tar.name
        count = await asyncio.to_thread(unpack_stray_tar, tar, folder)
        await ops.run_archive(mgr, session, ops.new_archive(mgr, session))
    shutil.move(tar, kept)
    return (
        f"{count} entries kept as archived session {record.id!r} (`ptui restore "
        f"{record.id}`); the tar moved to {kept}"
    )


def _prune(repo: Path) -> None:
    from tui.git.archive import prune_worktrees

    prune_worktrees(repo)


async def _settle(mgr: SessionManager, session: Session) -> str:
    """Make the record say what the disk holds."""
    from tui.git.archive import archive_status

    record = session.record
    status = await asyncio.to_thread(archive_status, session.ref, paths.archive_dir())
    if status.worktree_exists and status.registered:
        record.lifecycle = LifecycleState.READY
        if not record.port:
            config = load_config(None)
            record.port = allocate_port(config.server.port_base, mgr.ports_taken())
    elif status.has_ref:
        record.lifecycle = LifecycleState.ARCHIVED
        record.port = 0
    else:
        record.lifecycle = LifecycleState.DAMAGED
        record.damage = f"worktree {record.worktree} was deleted outside ptui; `ptui rm --force`"
    await mgr.save_async(session)
    return f"recorded as {record.lifecycle}"


async def _adopt(mgr: SessionManager, problem: Problem) -> str:
    """An unrecorded worktree, branch or archive becomes a session again (stopped)."""
    inventory = await asyncio.to_thread(repo_inventory, Path(problem.repo))
    name = problem.session
    if problem.kind == "orphan-branch":
        branch = next(b for b in inventory.described if b.rsplit("/", 1)[-1] == name)
    elif problem.kind == "orphan-archive":
        branch = inventory.archives[name].branch
    else:
        branch = inventory.worktrees[name].branch
    if not branch:
        raise PtuiError(f"cannot tell which branch {name!r} was on")
    fields = inventory.described.get(branch, {})
    ref = await asyncio.to_thread(inventory.session_ref, name, branch, fields)
    lifecycle = (
        LifecycleState.ARCHIVED if problem.kind == "orphan-archive" else LifecycleState.READY
    )
    if problem.kind == "orphan-branch":
        # The branch's work comes back where a session's is: in its own worktree.
        await asyncio.to_thread(git_worktree.make_worktree, ref)
    record = _record_for(mgr, ref, fields, lifecycle)
    mgr.sessions[record.id] = mgr.new_session(record)
    await mgr.save_async(mgr.sessions[record.id])
    return f"kept as session {record.id!r} ({lifecycle})"


def _record_for(
    mgr: SessionManager, ref: SessionRef, fields: dict[str, str], lifecycle: LifecycleState
) -> SessionRecord:
    port = 0
    if lifecycle is LifecycleState.READY:
        port = allocate_port(load_config(None).server.port_base, mgr.ports_taken())
    from tui.server.operations import new_record

    agent = fields.get("agent", "") or load_config(None).default_agent
    record = new_record(
        mgr, ref, task=fields.get("task", ""), agent=agent, port=port, lifecycle=lifecycle
    )
    if fields.get("created"):
        record.created = fields["created"]
    if lifecycle is LifecycleState.ARCHIVED:
        from tui.git.archive import archive_ref_name

        record.archive_ref = archive_ref_name(ref.name)
    return record


async def _rebuild_state(mgr: SessionManager, repos: list[Path]) -> str:
    """Move the unusable database aside (kept) and rebuild the records from git."""
    aside = await asyncio.to_thread(mgr.store.move_aside)
    mgr.store = StateStore(paths.state_file())
    mgr.broken = None
    mgr.sessions.clear()
    adopted = []
    for repo in repos:
        try:
            inventory = await asyncio.to_thread(repo_inventory, repo)
        except GitError:
            continue
        for problem in _orphans(mgr, inventory):
            if problem.kind.startswith("orphan-") and problem.kind != "orphan-tar":
                with_fix = await _repair_one(mgr, problem, repos)
                adopted.append(with_fix)
    stamp = datetime.now(UTC).strftime("%H:%M:%SZ")
    return f"moved to {aside} (kept) at {stamp}; {len(adopted)} session(s) rebuilt from git" + (
        "" if repos else "; run `ptui doctor --fix` in each repository to find its sessions"
    )
