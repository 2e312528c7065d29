"""The operations that move a session's work, as journaled steps: archive, restore,
merge, commit, rm — and `new`'s steps — each written so that running it again from
its journal entry finishes it (roll forward) or undoes it (roll back).

Each function takes the manager and a session whose lock the caller holds, and
whose lifecycle state the caller has checked (`lifecycle.require`): every check
that can refuse runs before the first step, so a refusal changes nothing. The
same function serves a fresh run and the recovery of an interrupted one: steps
already recorded in the journal entry are skipped. See docs/lifecycle.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tui import paths
from tui.config import load_config
from tui.errors import PtuiError
from tui.git import archive as git_archive
from tui.git import merge as git_merge
from tui.git import worktree as git_worktree
from tui.git.model import GitError, SessionRef
from tui.git.status import session_status
from tui.protocol import messages
from tui.protocol.states import Activity
from tui.server.journal import Run
from tui.server.ports import allocate_port
from tui.state import JournalEntry, LifecycleState, SessionRecord

if TYPE_CHECKING:
    from tui.server.manager import SessionManager
    from tui.server.session import Session

log = logging.getLogger("ptui.server")


def ref_fields(ref: SessionRef) -> dict[str, str]:
    """A SessionRef as journal params (JSON)."""
    return {
        "repo": str(ref.repo),
        "name": ref.name,
        "branch": ref.branch,
        "base": ref.base,
        "base_commit": ref.base_commit,
        "worktree": str(ref.worktree),
    }


def new_record(
    mgr: SessionManager,
    ref: SessionRef,
    *,
    task: str,
    agent: str,
    port: int,
    lifecycle: LifecycleState = LifecycleState.READY,
) -> SessionRecord:
    """The record of a session that lives at `ref`, stopped, under a free id."""
    return SessionRecord(
        id=mgr.new_id(ref.name),
        name=ref.name,
        task=task,
        agent=agent,
        repo=ref.repo,
        branch=ref.branch,
        base=ref.base,
        base_commit=ref.base_commit,
        worktree=ref.worktree,
        status=Activity.STOPPED,
        port=port,
        lifecycle=lifecycle,
    )


# ---------------------------------------------------------------------- new
async def run_new(mgr: SessionManager, session: Session, run: Run, description: str) -> None:
    """Branch, worktree, then the record: the session exists, stopped and ready.

    A failure before the worktree exists takes everything back and forgets the
    session; the caller then reports the error.
    """
    ref = session.ref
    try:
        if not run.done("branch"):
            await asyncio.to_thread(git_worktree.make_branch, ref, description)
            run.record_step("branch")
        if not run.done("worktree"):
            await asyncio.to_thread(git_worktree.make_worktree, ref)
            run.record_step("worktree")
    except (GitError, OSError):
        await _undo_new(mgr, session, run)
        raise
    session.record.lifecycle = LifecycleState.READY
    run.finish(session.record)


async def recover_new(mgr: SessionManager, session: Session, run: Run) -> None:
    """Forward once the worktree exists (the session appears, stopped); else back."""
    if await asyncio.to_thread(git_worktree.worktree_exists, session.ref):
        await run_new(mgr, session, run, "")
        # Neither setup nor the agent ran: a setup (if the repository has one) runs
        # first on the next resume, as after a setup cut off by a crash.
        mgr.begin("setup", session)
        mgr.notes.append(f"session {session.id!r}: creation was interrupted; kept, stopped")
    else:
        await _undo_new(mgr, session, run)


async def _undo_new(mgr: SessionManager, session: Session, run: Run) -> None:
    await asyncio.to_thread(git_worktree.undo_new, session.ref)
    run.abort(delete=session.id)
    mgr.sessions.pop(session.id, None)


# ------------------------------------------------------------------ archive
def new_archive(mgr: SessionManager, session: Session) -> Run:
    tar = f"{session.record.name}.{time.time_ns()}.tar"
    return mgr.begin("archive", session, {"tar": tar})


async def run_archive(mgr: SessionManager, session: Session, run: Run) -> messages.Archived:
    """Stop every process, snapshot, remove only what the snapshot holds, record."""
    if not run.done("stop"):
        await mgr.stop_processes(session)
        run.record_step("stop")
    await _snapshot_and_remove(mgr, session, run)
    record = session.record
    record.lifecycle = LifecycleState.ARCHIVED
    record.archive_ref = git_archive.archive_ref_name(record.name)
    record.port = 0
    session.close_dead_tabs()
    run.finish(record)
    return {
        **session.info(),
        "files_saved": _count(run.params.get("files_saved")),
        "ignored_saved": _count(run.params.get("ignored_saved")),
    }


def _count(value: object) -> int:
    """A number of files a step journaled (0 when an older entry has none)."""
    return value if isinstance(value, int) else 0


async def _snapshot_and_remove(
    mgr: SessionManager, session: Session, run: Run, *, worktree: bool = True
) -> None:
    """The `snapshot` and `remove` steps of archive and rm (`worktree=False`: nothing
    to save, the steps are only recorded)."""
    ref, archive_dir = session.ref, paths.archive_dir()
    try:
        if not run.done("snapshot"):
            saved: dict[str, int] = {}
            if worktree:
                result = await asyncio.to_thread(
                    git_archive.snapshot_session, ref, archive_dir, tar_name=str(run.params["tar"])
                )
                saved = {"files_saved": result.files_saved, "ignored_saved": result.ignored_saved}
            run.record_step("snapshot", saved)
        if not run.done("remove"):
            if worktree:
                await asyncio.to_thread(
                    git_archive.remove_worktree, ref, archive_dir, run.progress("remove")
                )
            run.record_step("remove")
    except git_archive.WorktreeChanged:
        await _abandon_archive(mgr, session, run)
        raise
    except GitError:
        if run.done("snapshot"):
            raise  # the removal failed for another reason: the entry stays, doctor shows it
        await _abandon_archive(mgr, session, run)
        raise


async def _abandon_archive(mgr: SessionManager, session: Session, run: Run) -> None:
    """The worktree is whole (never touched, or put back): the snapshot goes, ready again."""
    tar = run.params.get("tar")  # journaled before the tar was written
    await asyncio.to_thread(
        git_archive.discard_snapshot,
        session.ref,
        paths.archive_dir(),
        tar_name=tar if isinstance(tar, str) else None,
    )
    session.record.lifecycle = LifecycleState.READY
    run.abort(session.record)


# ------------------------------------------------------------------ restore
async def run_restore(mgr: SessionManager, session: Session, run: Run) -> None:
    """Files into a staging folder then into place, drop the archive, record (forward)."""
    ref, archive_dir = session.ref, paths.archive_dir()
    if not run.done("files"):
        try:
            await asyncio.to_thread(
                git_archive.restore_files, ref, archive_dir, run.progress("files")
            )
        except GitError:
            session.record.lifecycle = LifecycleState.ARCHIVED
            run.abort(session.record)
            raise
        run.record_step("files")
    if not run.done("drop"):
        await asyncio.to_thread(git_archive.drop_archive, ref, archive_dir)
        run.record_step("drop")
    record = session.record
    config = load_config(None)
    record.port = allocate_port(config.server.port_base, mgr.ports_taken())
    record.lifecycle = LifecycleState.READY
    record.archive_ref = ""
    record.status = Activity.STOPPED
    run.finish(record)


# -------------------------------------------------------------------- merge
async def run_merge(
    mgr: SessionManager,
    session: Session,
    run: Run,
    strategy: git_merge.MergeStrategy,
    message: str | None,
) -> messages.Merged:
    """Plan (objects only), commit the session's work, update the base checkout, move base."""
    ref = session.ref
    if not run.done("plan"):
        work_message = f"ptui: work of session {session.record.name}\n\n{session.record.task}\n"
        try:
            plan = await asyncio.to_thread(
                git_merge.plan_merge, ref, strategy, message, work_message=work_message
            )
        except GitError:
            session.record.lifecycle = LifecycleState.READY
            run.abort(session.record)
            raise
        run.record_step("plan", {"plan": plan.to_dict()})
    plan = _merge_plan(run)
    try:
        if not run.done("commit"):
            await asyncio.to_thread(git_merge.commit_work, plan, ref)
            run.record_step("commit")
        if not run.done("checkout"):
            await asyncio.to_thread(git_merge.apply_checkout, plan, run.progress("checkout"))
            run.record_step("checkout")
        if not run.done("base"):
            await asyncio.to_thread(git_merge.move_base, plan)
            run.record_step("base")
    except GitError:
        await _undo_merge(session, run, plan)
        raise
    session.record.lifecycle = LifecycleState.READY
    run.finish(session.record)
    return {
        "id": session.id,
        "strategy": plan.strategy.value,
        "base": plan.base,
        "old_commit": plan.old_base,
        "new_commit": plan.new_base,
        "files": plan.files,
        "committed": plan.work_commit,
    }


async def recover_merge(mgr: SessionManager, session: Session, run: Run) -> None:
    """Forward once the base branch has moved; back (files put back) before."""
    if not run.done("plan"):
        session.record.lifecycle = LifecycleState.READY
        run.abort(session.record)
        return
    plan = _merge_plan(run)
    moved = await asyncio.to_thread(_base_at, session.ref, plan.base, plan.new_base)
    if run.done("base") or moved:
        try:
            await asyncio.to_thread(git_merge.apply_checkout, plan, None)
        except GitError as exc:  # the user changed a file meanwhile: theirs stays
            log.warning("session %s: finishing the merge's checkout: %s", session.id, exc)
        session.record.lifecycle = LifecycleState.READY
        run.finish(session.record)
        mgr.notes.append(f"session {session.id!r}: an interrupted merge was completed")
        return
    await _undo_merge(session, run, plan)
    mgr.notes.append(f"session {session.id!r}: an interrupted merge was undone")


def _merge_plan(run: Run) -> git_merge.MergePlan:
    """The plan the `plan` step journaled."""
    data = run.params["plan"]
    if not isinstance(data, Mapping):
        raise GitError(f"journal entry {run.entry.id}: the merge plan is not an object")
    return git_merge.MergePlan.from_dict(data)


def _base_at(ref: SessionRef, base: str, commit: str) -> bool:
    repo = git_merge.open_main_repo(ref)
    branch = repo.lookup_branch(base)
    return branch is not None and str(branch.target) == commit


async def _undo_merge(session: Session, run: Run, plan: git_merge.MergePlan) -> None:
    await asyncio.to_thread(git_merge.undo_checkout, plan)
    await asyncio.to_thread(git_merge.undo_work, plan, session.ref)
    session.record.lifecycle = LifecycleState.READY
    run.abort(session.record)


# ------------------------------------------------------------------- commit
async def run_commit(mgr: SessionManager, session: Session, run: Run, message: str) -> str:
    """Commit everything on the session branch, then the index (forward)."""
    ref = session.ref
    if not run.done("commit"):
        try:
            commit = await asyncio.to_thread(git_merge.commit_all, ref, message)
        except GitError:
            run.abort(session.record)
            raise
        run.record_step("commit", {"commit": commit})
    commit = str(run.params["commit"])
    await asyncio.to_thread(git_merge.finish_commit, ref, commit)
    run.finish(session.record)
    return commit


async def recover_commit(mgr: SessionManager, session: Session, run: Run) -> None:
    if not run.done("commit"):
        tip = await asyncio.to_thread(_committed_after, session.ref, str(run.params["old_head"]))
        if tip is None:
            run.abort(session.record)
            return
        run.record_step("commit", {"commit": tip})  # into run.params too
    await run_commit(mgr, session, run, "")


def _committed_after(ref: SessionRef, old_head: str) -> str | None:
    """The commit an interrupted commit_all made on top of `old_head`, if it got that far."""
    repo = git_merge.open_main_repo(ref)
    try:
        tip = git_merge.branch_tip(repo, ref)
    except GitError:
        return None
    if str(tip.id) != old_head and [str(p) for p in tip.parent_ids] == [old_head]:
        return str(tip.id)
    return None


def branch_head(ref: SessionRef) -> str:
    return str(git_merge.branch_tip(git_merge.open_main_repo(ref), ref).id)


# ----------------------------------------------------------------------- rm
def work_at_risk(session: Session) -> list[str]:
    """What deleting the session would lose (blocking: run in a thread)."""
    ref = session.ref
    record = session.record
    if record.archived:
        return git_archive.work_at_risk(ref, paths.archive_dir())
    risk: list[str] = []
    if record.worktree.is_dir():
        try:
            state = session_status(ref)
        except GitError:
            state = None
        if state is not None and not state.clean:
            risk.append(
                f"uncommitted work in {record.worktree} ({state.dirty} changed, "
                f"{state.staged} staged, {state.untracked} untracked)"
            )
    try:
        merged = git_merge.session_is_merged(ref)
    except GitError:
        merged = False
    if not merged and git_archive.archive_status(ref, paths.archive_dir()).has_ref is False:
        branch_risk = git_archive.work_at_risk(ref, paths.archive_dir())
        risk.extend(branch_risk or [f"{record.branch} is not merged into {record.base}"])
    return risk


async def run_remove(mgr: SessionManager, session: Session, run: Run) -> messages.Removed:
    """Stop, snapshot and remove the worktree (if any), delete branch and archive, forget."""
    ref, archive_dir = session.ref, paths.archive_dir()
    if not run.done("stop"):
        await mgr.stop_processes(session)
        run.record_step("stop")
    status = await asyncio.to_thread(git_archive.archive_status, ref, archive_dir)
    live = (status.worktree_exists or status.quarantine) and not session.record.archived
    await _snapshot_and_remove(mgr, session, run, worktree=live)
    if not run.done("delete"):
        await asyncio.to_thread(_delete, ref, archive_dir, bool(run.params.get("force")))
        run.record_step("delete")
    session.drop_screen()
    run.finish(delete=session.id)
    mgr.sessions.pop(session.id, None)
    lost = run.params.get("lost")
    return {
        "id": session.id,
        "removed": True,
        "lost": [str(what) for what in lost] if isinstance(lost, list) else [],
    }


def _delete(ref: SessionRef, archive_dir: Path, force: bool) -> None:
    status = git_archive.archive_status(ref, archive_dir)
    repo = git_merge.open_main_repo(ref)
    if not status.has_ref and repo.lookup_branch(ref.branch) is None:
        return  # nothing left in git (damaged, or deleted on a previous run)
    git_archive.delete_session(ref, archive_dir, force=force)


# ----------------------------------------------------------------- recovery
async def _setup_waits(mgr: SessionManager, session: Session, run: Run) -> None:
    """A setup cut off by a crash runs again when the agent is next started (resume)."""


_RECOVER: dict[str, Callable[[SessionManager, Session, Run], Awaitable[object]]] = {
    "new": recover_new,
    "setup": _setup_waits,
    "archive": run_archive,
    "restore": run_restore,
    "merge": recover_merge,
    "commit": recover_commit,
    "rm": run_remove,
}
"""How each operation is finished or undone from its journal entry."""


async def recover(mgr: SessionManager, session: Session, entry: JournalEntry) -> None:
    """Finish or undo one interrupted operation (the session's lock is held)."""
    finish = _RECOVER.get(entry.op)
    if finish is None:
        raise PtuiError(f"session {session.id!r}: unknown operation {entry.op!r} in the journal")
    log.info("session %s: recovering %s (done: %s)", session.id, entry.op, ", ".join(entry.done))
    try:
        await finish(mgr, session, Run(mgr.store, mgr.faults, entry))
    except git_archive.WorktreeChanged as exc:  # archive, rm: left whole, ready again
        mgr.notes.append(str(exc))
