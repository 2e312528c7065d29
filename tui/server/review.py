"""Review methods: what the diff screen, the archive and merge dialogs and the sidebar ask.

Every answer is computed through `tui.git` in a worker thread. Diffs come in two
steps so a 1,000-file change lists fast: `session.diff_files` reads git's deltas
and +/- counts (no patch text), `session.diff_file` one file's hunks. The
sidebar's `session.summary` covers every live session at once and is cached for
`SUMMARY_TTL` seconds, so many clients polling it cost one computation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from tui import paths
from tui.errors import PtuiError
from tui.git import archive as git_archive
from tui.git.diff import DiffModel, DiffScope, FileDiff, session_diff
from tui.git.model import SessionRef
from tui.git.overlap import session_overlaps
from tui.git.preview import local_branches, merge_preview, worktree_changes
from tui.git.status import session_status
from tui.protocol import messages
from tui.server.manager import NotFound, SessionManager
from tui.server.session import AGENT_TAB, Session
from tui.term.keys import KeyModes, encode_paste

log = logging.getLogger("ptui.server")

SUMMARY_TTL = 2.0
"""Seconds a `session.summary` answer is reused at least (longer when computing it is slow:
four times as long as it took, so polling never keeps a core busy)."""
MAX_FILE_LINES = 20_000
"""Diff lines `session.diff_file` sends at most for one file (the rest is cut)."""
TEST_TAB = "test"


class Review:
    """The review methods of one server, and the summary cache they share."""

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        self._summary: tuple[float, frozenset[str], dict[str, messages.Summary]] | None = None
        self._summary_ttl = SUMMARY_TTL
        self._summary_task: asyncio.Task[dict[str, messages.Summary]] | None = None

    # ------------------------------------------------------------------ diff
    async def diff(self, request: messages.SessionDiff) -> messages.Diff:
        """`session.diff`: the file list, stat text, and (unless `stat`) the whole patch."""
        session = self.manager.find(request.id)
        scope = _scope(request.scope)

        def build() -> messages.Diff:
            model = session_diff(session.ref, scope)
            listing, stat = _listing(session.id, model), model.stat_text()
            # `patch` is named here, not left to the ** item: mypy requires that of
            # an optional key, as another DiffListing might carry one.
            diff: messages.Diff = {**listing, "stat": stat, "patch": ""}
            if request.stat:
                del diff["patch"]  # the listing and stat only
            else:
                diff["patch"] = "".join(f.patch_text() for f in model.files)
            return diff

        return await asyncio.to_thread(build)

    async def diff_files(self, request: messages.SessionDiffFiles) -> messages.DiffListing:
        """`session.diff_files`: changed files with status and counts, no patches."""
        session = self.manager.find(request.id)
        scope = _scope(request.scope)
        return await asyncio.to_thread(files_listing, session.ref, scope, session.id)

    async def diff_file(self, request: messages.SessionDiffFile) -> messages.DiffFileDetail:
        """`session.diff_file`: one file's hunks with numbered lines."""
        session = self.manager.find(request.id)
        scope = _scope(request.scope)
        path = request.path
        if not path:
            raise ValueError("path must be a file path from session.diff_files")
        if request.max_lines < 1:
            raise ValueError("max_lines must be a positive integer")
        limit = min(request.max_lines, MAX_FILE_LINES)

        def build() -> messages.DiffFileDetail:
            model = session_diff(session.ref, scope)
            for file in model.files:
                if path in (file.path, file.old_path):
                    return _file_detail(file, limit)
            raise NotFound(f"session {session.id!r}: {path} is not changed ({scope.value})")

        return await asyncio.to_thread(build)

    # ------------------------------------------------------- archive, merge
    async def archive_plan(self, request: messages.SessionArchivePlan) -> messages.ArchivePlan:
        """`session.archive_plan`: what `session.archive` would save."""
        session = self.manager.find(request.id)
        if session.record.archived:
            raise PtuiError(f"session {session.id!r} is already archived")
        ref = session.ref

        def build() -> messages.ArchivePlan:
            plan = git_archive.archive_plan(ref, paths.archive_dir())
            untracked = {p for p, kind in worktree_changes(ref).items() if kind == "untracked"}
            return {
                "id": session.id,
                "worktree": str(plan.worktree),
                "ref_name": plan.ref_name,
                "branch": ref.branch,
                "uncommitted": plan.uncommitted,
                "untracked": [p for p in plan.uncommitted if p in untracked],
                "ignored": plan.ignored,
                "empty_dirs": plan.empty_dirs,
            }

        return await asyncio.to_thread(build)

    async def merge_preview(self, request: messages.SessionMergePreview) -> messages.MergePreview:
        """`session.merge_preview`: strategies possible, files, conflicts, uncommitted."""
        session = self.manager.find(request.id)
        if session.record.archived:
            raise PtuiError(f"session {session.id!r} is archived; restore it first")
        preview = await asyncio.to_thread(merge_preview, session.ref)
        return {
            "id": session.id,
            "base": preview.base,
            "branch": preview.branch,
            "ahead": preview.ahead,
            "behind": preview.behind,
            "files": preview.files,
            "conflicts": preview.conflicts,
            "uncommitted": preview.uncommitted,
            "merged": preview.merged,
            "strategies": preview.strategies,
        }

    # --------------------------------------------------------------- summary
    async def summary(self, request: messages.SessionSummary) -> dict[str, messages.Summary]:
        """`session.summary`: per live session, diff size, position, overlaps, test status."""
        live = [s for s in self.manager.sessions.values() if not s.record.archived]
        ids = frozenset(s.id for s in live)
        cached = self._summary
        if cached is None or cached[1] != ids or time.monotonic() - cached[0] > self._summary_ttl:
            task = self._summary_task
            if task is None or task.done():
                refs = {s.id: s.ref for s in live if not s.worktree_missing}
                task = asyncio.get_running_loop().create_task(self._compute(ids, refs))
                self._summary_task = task
            # shield: one client going away must not cancel the others' answer.
            git_part = await asyncio.shield(task)
        else:
            git_part = cached[2]
        result: dict[str, messages.Summary] = {}
        for session in live:
            tab = session.tabs.get(TEST_TAB)
            result[session.id] = {
                **(git_part.get(session.id) or _empty_summary("worktree is missing")),
                "test_running": tab is not None and tab.alive,
                "test_exit": tab.exit_code if tab is not None and not tab.alive else None,
            }
        return result

    async def _compute(
        self, ids: frozenset[str], refs: dict[str, SessionRef]
    ) -> dict[str, messages.Summary]:
        started = time.monotonic()
        result = await asyncio.to_thread(_summarize, refs)
        done = time.monotonic()
        self._summary = (done, ids, result)
        self._summary_ttl = max(SUMMARY_TTL, 4 * (done - started))
        return result

    # ---------------------------------------------------------------- others
    async def branches(self, request: messages.RepoBranches) -> messages.Branches:
        """`repo.branches`: local branches of a repository, the current one first."""
        repo = Path(request.repo).expanduser()
        workdir, current, names = await asyncio.to_thread(local_branches, repo)
        return {"repo": str(workdir), "current": current, "branches": names}

    async def send_test_failure(
        self, request: messages.SessionSendTestFailure
    ) -> messages.TestFailureSent:
        """`session.send_test_failure`: paste the tail of a script tab's output to the agent."""
        session = self.manager.find(request.id)
        name, count = request.tab, request.lines
        if not 1 <= count <= 1000:
            raise ValueError("tab must be a string and lines a number from 1 to 1000")
        source = session.tabs.get(name)
        if source is None:
            raise NotFound(f"session {session.id!r} has no tab {name!r}; run the script first")
        agent = session.tab(AGENT_TAB)
        if not agent.alive:
            raise PtuiError(f"session {session.id!r}: the agent is not running (resume it first)")
        tail = output_tail(session, name, count)
        status = "is still running" if source.alive else f"exited with status {source.exit_code}"
        message = (
            f"The `{name}` script {status}. The last {len(tail)} lines of its output:\n\n"
            + "\n".join(tail)
            + "\n\nPlease fix what fails."
        )
        modes = KeyModes(bracketed_paste=agent.emulator.modes.bracketed_paste)
        session.input(AGENT_TAB, encode_paste(message, modes))
        session.input(AGENT_TAB, b"\r")
        return {"id": session.id, "tab": name, "lines": len(tail), "text": message}


def output_tail(session: Session, tab_name: str, count: int) -> list[str]:
    """The last `count` non-blank-ended lines a tab printed (scrollback, then screen)."""
    emulator = session.tab(tab_name).emulator
    screen = [line.text.rstrip() for line in emulator.visible_lines()]
    history: list[str] = []
    total = emulator.history_size
    if total:
        start = max(0, total - count)
        history = [line.text.rstrip() for line in emulator.history_lines(start, total)]
    lines = history + screen
    while lines and not lines[-1]:
        lines.pop()
    return lines[-count:]


def _scope(value: str) -> DiffScope:
    try:
        return DiffScope(value)
    except ValueError:
        raise ValueError(f"scope must be all, committed or uncommitted, not {value!r}") from None


def _file_entry(file: FileDiff) -> messages.DiffFile:
    return {
        "path": file.path,
        "old_path": file.old_path,
        "status": file.status,
        "added": file.added,
        "removed": file.removed,
        "binary": file.binary,
    }


def files_listing(ref: SessionRef, scope: DiffScope, session_id: str) -> messages.DiffListing:
    """The changed files with status and +/- counts; never a file's hunks or patch text."""
    return _listing(session_id, session_diff(ref, scope))


def _listing(session_id: str, model: DiffModel) -> messages.DiffListing:
    files = [_file_entry(f) for f in model.files]
    return {
        "id": session_id,
        "scope": model.scope.value,
        "merge_base": model.merge_base,
        "files": files,
        "added": sum(f["added"] for f in files),
        "removed": sum(f["removed"] for f in files),
        "summary": model.stat.summary(),
    }


def _file_detail(file: FileDiff, limit: int) -> messages.DiffFileDetail:
    hunks: list[messages.Hunk] = []
    sent = 0
    truncated = False
    if not file.binary:
        for hunk in file.hunks():
            if sent >= limit:
                truncated = True
                break
            lines = hunk.lines[: limit - sent]
            truncated = truncated or len(lines) < len(hunk.lines)
            sent += len(lines)
            hunks.append(
                {
                    "header": hunk.header,
                    "old_start": hunk.old_start,
                    "old_lines": hunk.old_lines,
                    "new_start": hunk.new_start,
                    "new_lines": hunk.new_lines,
                    "lines": [(ln.origin, ln.old_lineno, ln.new_lineno, ln.text) for ln in lines],
                }
            )
    return {**_file_entry(file), "hunks": hunks, "truncated": truncated}


def _empty_summary(error: str) -> messages.Summary:
    return {
        "added": 0,
        "removed": 0,
        "files": 0,
        "ahead": 0,
        "behind": 0,
        "dirty": 0,
        "overlaps": [],
        "error": error,
        # The test fields are filled in per request (`Review.summary`), never cached.
        "test_running": False,
        "test_exit": None,
    }


def _summarize(refs: dict[str, SessionRef]) -> dict[str, messages.Summary]:
    """The git half of the summary (worker thread): one entry per session id."""
    result: dict[str, messages.Summary] = {}
    for sid, ref in refs.items():
        try:
            model = session_diff(ref, DiffScope.ALL)
            state = session_status(ref)
        except PtuiError as exc:
            result[sid] = _empty_summary(str(exc))
            continue
        stat = model.stat
        result[sid] = {
            "added": stat.insertions,
            "removed": stat.deletions,
            "files": stat.files_changed,
            "ahead": state.ahead,
            "behind": state.behind,
            "dirty": state.dirty + state.staged + state.untracked,
            "overlaps": [],
            "test_running": False,
            "test_exit": None,
        }
    by_name = {ref.name: sid for sid, ref in refs.items() if "error" not in result[sid]}
    try:
        overlaps = session_overlaps([refs[sid] for sid in by_name.values()])
    except PtuiError as exc:  # a summary without overlaps beats no summary
        log.warning("session overlaps: %s", exc)
        overlaps = []
    for overlap in overlaps:
        a, b = by_name.get(overlap.a), by_name.get(overlap.b)
        if a is not None and b is not None:
            result[a]["overlaps"].append(b)
            result[b]["overlaps"].append(a)
    for entry in result.values():
        entry["overlaps"].sort()
    return result
