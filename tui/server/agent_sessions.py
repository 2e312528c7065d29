"""Which conversation of its own an agent is having: found, checked and remembered.

`resume` continues exactly this session's conversation when the agent's own id for
it is known (`SessionRecord.agent_session`). How the id is learnt depends on the
agent, named by its profile's `session_store`:

- an id ptui chooses and passes at start (`session_id_args`, Claude Code and
  Gemini CLI): known at once; with a store that can confirm it (`claude`), kept
  only once the agent has written that conversation, because resuming an id it
  never wrote fails ("No conversation found with session ID", Claude Code 2.1);
- `codex`: the newest rollout file (`$CODEX_HOME/sessions/YYYY/MM/DD/
  rollout-<time>-<id>.jsonl`) whose first line (`session_meta`) names the
  worktree as its cwd and was begun since the agent started;
- `opencode`: the newest top-level row of opencode's SQLite `session` table
  (`$XDG_DATA_HOME/opencode/opencode.db`) with the worktree as its directory,
  created since the agent started.

Every lookup is bounded (only the dated folders since the start, only a file's
first line, one indexed query) and blocking: callers run it through
`asyncio.to_thread`. `watch` is the schedule: soon after the agent starts, a few
times while it runs, and once more when it ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import re
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from tui.config.schema import SESSION_PLACEHOLDER

log = logging.getLogger("ptui.server")

PLACEHOLDER = SESSION_PLACEHOLDER
"""The one placeholder of `session_id_args` and `resume_session`: a whole argv element."""

_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

FIRST_LINE_MAX = 1 << 20
"""Bytes read at most for a rollout's first line: codex 0.171 writes ~27 kB there
(its base instructions); a longer line is treated as unreadable, not read on."""

CLOCK_SLACK = 2.0
"""Seconds a conversation may seem to begin before the agent did (clock rounding)."""

MAX_DAYS = 14
"""Dated rollout folders scanned at most after the start (a conversation begins with
its first message, which may come days after the agent started)."""

CONFIRMING = frozenset({"claude"})
"""Stores that can confirm an id ptui chose (`session_id_args`)."""

SEARCHING = frozenset({"codex", "opencode"})
"""Stores searched for the id the agent chose itself."""

WATCH_DELAYS = (1.0, 3.0, 10.0, 30.0, 90.0)
"""Seconds between lookups while the agent runs (then one more when it ends)."""


def valid_session_id(value: object) -> bool:
    """Whether `value` may become an argument: a uuid-like word that is no option."""
    return isinstance(value, str) and bool(_ID_RE.fullmatch(value)) and not value.startswith("-")


def fill_session(argv: Sequence[str], session_id: str) -> list[str]:
    """`argv` with every element that is exactly `{session}` replaced by the id.

    Raises ValueError when the id could be read as an option or holds anything
    but `[A-Za-z0-9._:-]`: it came from a file another program wrote.
    """
    if not valid_session_id(session_id):
        raise ValueError(f"not a usable conversation id: {session_id!r:.60}")
    return [session_id if arg == PLACEHOLDER else arg for arg in argv]


def new_session_id() -> str:
    """A fresh id for `session_id_args` (Claude Code and Gemini CLI want a UUID)."""
    return str(uuid.uuid4())


def lookup(
    store: str, env: Mapping[str, str], cwd: Path, since: float, chosen: str = ""
) -> str | None:
    """The agent's conversation id for the worktree `cwd`, or None when none is found.

    `env` is the agent's environment (where its files are: HOME, CODEX_HOME ...),
    `since` the wall-clock time it started, `chosen` the id ptui passed at start
    (`session_id_args`), confirmed here when the store can. Blocking: run it in a
    thread. A store it cannot read counts as nothing found.
    """
    try:
        if store == "claude" and chosen:
            return chosen if claude_has(_claude_dir(env), chosen) else None
        if store == "codex":
            return find_codex(_codex_home(env) / "sessions", cwd, since)
        if store == "opencode":
            return find_opencode(_data_home(env) / "opencode" / "opencode.db", cwd, since)
    except OSError as exc:
        log.info("no conversation id from %s's files: %r", store, exc)
        return None
    # No store, or one that can only confirm: the chosen id is taken on trust.
    return chosen or None


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def _codex_home(env: Mapping[str, str]) -> Path:
    return Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else _home(env) / ".codex"


def _claude_dir(env: Mapping[str, str]) -> Path:
    configured = env.get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else _home(env) / ".claude"


def _data_home(env: Mapping[str, str]) -> Path:
    configured = env.get("XDG_DATA_HOME")
    return Path(configured) if configured else _home(env) / ".local" / "share"


# ------------------------------------------------------------------ claude
def claude_has(config_dir: Path, session_id: str) -> bool:
    """Whether Claude Code wrote conversation `session_id`: `projects/<dir>/<id>.jsonl`.

    Checked in every project folder (one per directory it ran in) rather than by
    recomputing its folder name from the cwd, a rule of its own that has changed.
    """
    if not valid_session_id(session_id):
        return False
    projects = config_dir / "projects"
    try:
        folders = list(os.scandir(projects))
    except FileNotFoundError:
        return False
    return any(
        entry.is_dir() and os.path.isfile(os.path.join(entry.path, f"{session_id}.jsonl"))
        for entry in folders
    )


# ------------------------------------------------------------------ codex
def find_codex(sessions: Path, cwd: Path, since: float, now: float | None = None) -> str | None:
    """The id of the newest Codex rollout under `sessions` begun at or after `since`
    (epoch seconds) in `cwd`; None when there is none.

    Only the dated folders from the day before `since` (local time and UTC differ)
    to the day after now are listed, and only files changed since `since` are
    opened, each for its first line.
    """
    now = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    first = dt.date.fromtimestamp(since - 86_400)
    last = min(dt.date.fromtimestamp(now + 86_400), first + dt.timedelta(days=MAX_DAYS + 2))
    wanted = _same_dir_key(cwd)
    best: tuple[float, str] | None = None
    day = first
    while day <= last:
        folder = sessions / f"{day.year:04d}" / f"{day.month:02d}" / f"{day.day:02d}"
        day += dt.timedelta(days=1)
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if not (entry.name.startswith("rollout-") and entry.name.endswith(".jsonl")):
                continue
            try:
                if entry.stat().st_mtime < since - CLOCK_SLACK:
                    continue  # untouched since the start: begun before it
            except OSError:
                continue
            meta = read_rollout_meta(Path(entry.path))
            if meta is None:
                continue
            session_id, meta_cwd, began = meta
            if began < since - CLOCK_SLACK or _same_dir_key(Path(meta_cwd)) != wanted:
                continue
            if best is None or began > best[0]:
                best = (began, session_id)
    return None if best is None else best[1]


def read_rollout_meta(path: Path) -> tuple[str, str, float] | None:
    """(id, cwd, began as epoch seconds) from a rollout's first line, or None when
    that line is not a complete `session_meta` record of a top-level conversation."""
    try:
        with path.open("rb") as f:
            line = f.readline(FIRST_LINE_MAX)
    except OSError:
        return None
    if not line.endswith(b"\n"):
        return None  # still being written, or longer than we read
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or record.get("type") != "session_meta":
        return None
    payload = record.get("payload")
    if not isinstance(payload, dict):
        return None
    session_id, cwd = payload.get("id"), payload.get("cwd")
    if not isinstance(session_id, str) or not isinstance(cwd, str):
        return None
    # A sub-agent's thread (`source: {"subagent": ...}`) shares the cwd but is not
    # the conversation the user resumes.
    if isinstance(payload.get("source"), dict):
        return None
    began = _epoch(payload.get("timestamp")) or _epoch(record.get("timestamp"))
    if began is None:
        return None
    return session_id, cwd, began


def _epoch(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _same_dir_key(path: Path) -> str:
    """One spelling per directory: an agent may record the cwd through a symlink."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return str(path)


# ---------------------------------------------------------------- opencode
def find_opencode(database: Path, cwd: Path, since: float) -> str | None:
    """The id of opencode's newest top-level conversation in `cwd` created at or
    after `since`, from its SQLite database opened read-only; None when none."""
    if not database.is_file():
        return None
    since_ms = int((since - CLOCK_SLACK) * 1000)
    try:
        conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error as exc:
        log.info("cannot open %s: %s", database, exc)
        return None
    try:
        row = conn.execute(
            "SELECT id FROM session WHERE parent_id IS NULL AND directory IN (?, ?)"
            " AND time_created >= ? ORDER BY time_created DESC LIMIT 1",
            (str(cwd), _same_dir_key(cwd), since_ms),
        ).fetchone()
    except sqlite3.Error as exc:  # another opencode's schema, or locked
        log.info("cannot read %s: %s", database, exc)
        return None
    finally:
        conn.close()
    return row[0] if row is not None and isinstance(row[0], str) else None


# ------------------------------------------------------------------- when
async def watch(
    ended: Awaitable[object],
    find: Callable[[], str | None],
    found: Callable[[str], Awaitable[None]],
    *,
    delays: Sequence[float] = WATCH_DELAYS,
) -> None:
    """Look the id up with `find` (blocking; run in a thread) after each of `delays`
    until it is found, and once more when `ended` completes; `found` gets each valid
    id seen. An id that could be read as an option is refused and logged."""

    async def look() -> bool:
        session_id = await asyncio.to_thread(find)
        if session_id is None:
            return False
        if not valid_session_id(session_id):
            log.warning("refusing conversation id %r: not a plain id", session_id[:80])
            return False
        await found(session_id)
        return True

    end = asyncio.ensure_future(ended)
    try:
        for delay in delays:
            done, _ = await asyncio.wait({end}, timeout=delay)
            if done or await look():
                break
        await end
        await look()
    finally:
        end.cancel()
