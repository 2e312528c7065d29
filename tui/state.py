"""Persisted session records and the operation journal: `state.db`, SQLite.

`StateStore` keeps the session records (`SessionRecord`, plain data: see
tui/session_record.py) and the journal of operations in progress
(docs/lifecycle.md) in one SQLite database:

- WAL mode with `synchronous=FULL`: every committed transaction is on disk, and a
  crash (even kill -9) leaves the database as of the last commit;
- every change is one `BEGIN IMMEDIATE` transaction, so writers in several
  threads and processes serialise and never lose each other's updates; a
  journal step and the record it changes are written together or not at all;
- every field is validated when read, and a database that cannot be read or holds
  an invalid record is reported as one line naming the file and `ptui doctor`:
  it is never moved aside or overwritten behind the user's back;
- a database from a newer ptui is refused, never written;
- the `state.toml` of an older ptui is imported once, when the database is
  created, and left in place (tui/state_legacy.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.errors import DOCTOR_HINT, StateError
from tui.naming import name_problem, show
from tui.paths import LEGACY_STATE_FILE_NAME
from tui.protocol.states import LifecycleState
from tui.session_record import JournalEntry, SessionRecord, utc_now
from tui.state_legacy import LEGACY_SCHEMA, decode_toml

__all__ = [
    "BUSY_TIMEOUT",
    "DOCTOR_HINT",
    "LEGACY_SCHEMA",
    "SCHEMA",
    "JournalEntry",
    "LifecycleState",
    "SessionRecord",
    "StateError",
    "StateStore",
    "utc_now",
]

SCHEMA = 2
"""Version of the database layout this ptui writes (the TOML file was 1)."""

BUSY_TIMEOUT = 10.0
"""Seconds a transaction waits for another writer before giving up."""

_TABLES = ("meta", "sessions", "journal")

# SQLite result codes (the low byte of an extended code) that mean the file is
# not the database ptui wrote: damaged pages, not a database at all, or tables
# whose columns are not ours (our SQL is fixed, so a plain SQL error means that).
_CORRUPT_CODES = frozenset({1, 11, 20, 24, 26})  # ERROR, CORRUPT, MISMATCH, FORMAT, NOTADB


class StateStore:
    """The session records and the operation journal in one SQLite database.

    Each call opens its own connection and closes it before returning. Calls come
    from the server's event loop, from worker threads and from other processes
    (`ptui doctor`, tests); a connection per call needs no lock of ours (SQLite
    serialises the transactions), and always sees the file now at `path`, even
    after `move_aside`. Opening one costs about a millisecond.
    """

    def __init__(self, path: Path) -> None:
        """Remember `path` and create its directory; never reads the database.

        A corrupt database must not stop the server from starting (`ptui doctor`
        talks to it), so problems are reported by `load` and the other calls.
        """
        self.path = path
        self.legacy_path = path.with_name(LEGACY_STATE_FILE_NAME)
        try:
            path.parent.mkdir(parents=True, mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StateError(
                f"{path.parent}: cannot create state directory: {exc.strerror}"
            ) from None
        else:
            os.chmod(path.parent, 0o700)  # mkdir's mode is filtered by the umask
        with contextlib.suppress(OSError):  # tidying only; never a reason not to start
            self._remove_dead_temp_files()

    # ------------------------------------------------------------------ records

    def load(self) -> list[SessionRecord]:
        """Every record in the order first written; creates the database (importing
        `state.toml`) if there is none. Raises StateError for anything invalid."""
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT id, data FROM sessions ORDER BY rowid").fetchall()
        records = []
        for row in rows:
            try:
                records.append(_decode_session(row))
            except ValueError as exc:
                raise StateError(self._problem(str(exc)) + DOCTOR_HINT) from None
        return records

    def put(self, *records: SessionRecord) -> None:
        """Insert or replace `records` (by id) in one transaction; order stays as first put."""
        rows = [_encode_session(r) for r in records]
        with self._transaction() as conn:
            for row in rows:
                _upsert(conn, row)

    def delete(self, session_id: str) -> None:
        """Forget the record `session_id` (nothing happens if there is none)."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def save(self, records: list[SessionRecord]) -> None:
        """Replace every record with `records`, kept in this order, in one transaction."""
        rows = [_encode_session(r) for r in records]
        ids = [row[0] for row in rows]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"{self.path}: save: duplicate session ids {twice}")
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions")
            conn.executemany("INSERT INTO sessions(id, data) VALUES (?, ?)", rows)

    # ------------------------------------------------------------------ journal

    def begin(
        self,
        op: str,
        session: str,
        params: dict[str, Any],
        record: SessionRecord | None = None,
    ) -> JournalEntry:
        """Write the intent of operation `op` on `session`, and `record` with it.

        One transaction: afterwards the entry and the record (typically in its
        transitional lifecycle) are both on disk, or neither is.
        """
        if not isinstance(op, str) or not op:
            raise ValueError("journal op: expected a non-empty string")
        problem = name_problem(session)
        if problem is not None:
            raise ValueError(f"journal session: {problem}")
        params_json = _json_params(op, params)
        row = None
        if record is not None:
            if record.id != session:
                raise ValueError(f"journal {op}: record {record.id!r} is not session {session!r}")
            row = _encode_session(record)
        started = utc_now()
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO journal(op, session, params, done, started) VALUES (?, ?, ?, ?, ?)",
                (op, session, params_json, "[]", started),
            )
            entry_id = cursor.lastrowid
            if row is not None:
                _upsert(conn, row)
        assert entry_id is not None  # set by every INSERT
        return JournalEntry(entry_id, op, session, json.loads(params_json), [], started)

    def step(
        self,
        entry: JournalEntry,
        step: str,
        data: dict[str, Any] | None = None,
        record: SessionRecord | None = None,
    ) -> None:
        """Record that `step` of `entry` is done, merge `data` into its params, write `record`.

        One transaction. Recording a step already done is harmless (recovery may run
        a step twice). `entry` is updated in place to what is now on disk.
        """
        if not isinstance(step, str) or not step:
            raise ValueError(f"journal {entry.op}: step: expected a non-empty string")
        data_json = _json_params(entry.op, data or {})
        row = _encode_session(record) if record is not None else None
        with self._transaction() as conn:
            found = conn.execute(
                "SELECT id, op, session, params, done, started FROM journal WHERE id = ?",
                (entry.id,),
            ).fetchone()
            if found is None:
                raise StateError(self._not_pending(entry))
            current = self._decode_entry(found)
            if step not in current.done:
                current.done.append(step)
            current.params.update(json.loads(data_json))
            conn.execute(
                "UPDATE journal SET params = ?, done = ? WHERE id = ?",
                (json.dumps(current.params), json.dumps(current.done), entry.id),
            )
            if row is not None:
                _upsert(conn, row)
        entry.params, entry.done = current.params, current.done

    def finish(
        self,
        entry: JournalEntry,
        record: SessionRecord | None = None,
        delete: str | None = None,
    ) -> None:
        """End `entry`: remove it, write `record` and/or forget session `delete`, atomically."""
        row = _encode_session(record) if record is not None else None
        if row is not None and row[0] == delete:
            raise ValueError(f"journal {entry.op}: cannot both write and delete {delete!r}")
        with self._transaction() as conn:
            cursor = conn.execute("DELETE FROM journal WHERE id = ?", (entry.id,))
            if cursor.rowcount == 0:
                raise StateError(self._not_pending(entry))
            if row is not None:
                _upsert(conn, row)
            if delete is not None:
                conn.execute("DELETE FROM sessions WHERE id = ?", (delete,))

    def pending(self, session: str | None = None) -> list[JournalEntry]:
        """Operations begun and not finished (of `session`, or all), oldest first."""
        query = "SELECT id, op, session, params, done, started FROM journal"
        args: tuple[str, ...] = ()
        if session is not None:
            query += " WHERE session = ?"
            args = (session,)
        with self._transaction(write=False) as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [self._decode_entry(row) for row in rows]

    # ------------------------------------------------------------------ repair

    def check(self) -> list[str]:
        """Every problem found in the database, one line each; [] when it is sound.

        Looks only: never creates the database, imports or changes a record (for `ptui doctor`).
        """
        if not os.path.lexists(self.path):
            try:
                self._read_legacy()
            except StateError as exc:
                return [str(exc).removesuffix(DOCTOR_HINT)]
            return []
        problems: list[str] = []
        try:
            conn = self._open(self.path)
            try:
                conn.execute("BEGIN")
                for (line,) in conn.execute("PRAGMA integrity_check").fetchall():
                    if line != "ok":
                        problems.append(self._problem(f"integrity check: {' '.join(line.split())}"))
                try:
                    self._check_layout(conn)
                except StateError as exc:
                    return [*problems, str(exc).removesuffix(DOCTOR_HINT)]
                for row in conn.execute("SELECT id, data FROM sessions ORDER BY rowid"):
                    try:
                        _decode_session(row)
                    except ValueError as exc:
                        problems.append(self._problem(str(exc)))
                for row in conn.execute(
                    "SELECT id, op, session, params, done, started FROM journal ORDER BY id"
                ):
                    try:
                        self._decode_entry(row)
                    except StateError as exc:
                        problems.append(str(exc).removesuffix(DOCTOR_HINT))
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.ProgrammingError):
                raise
            problems.append(str(self._sqlite_error(exc)).removesuffix(DOCTOR_HINT))
        return problems

    def move_aside(self) -> Path:
        """Rename the database to `state.db.corrupt-<UTC time>` (kept) and start an empty one.

        For `ptui doctor --fix` only, while nothing else uses the store. The fresh
        database does not import `state.toml` again: its records are older than the
        ones just set aside, and doctor rebuilds the records from git.
        """
        if not os.path.lexists(self.path):
            raise StateError(f"{self.path}: no state database to move aside")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        while os.path.lexists(aside):  # never replace an earlier copy
            aside = aside.with_name(aside.name + "-" + secrets.token_hex(2))
        # The -wal and -shm go first: a stale WAL left beside a fresh database
        # would be replayed into it. Their new names keep the copy openable.
        for suffix in ("-wal", "-shm", ""):
            with contextlib.suppress(FileNotFoundError):
                os.rename(f"{self.path}{suffix}", f"{aside}{suffix}")
        _fsync_dir(self.path.parent)
        with self._reporting():
            self._create(import_legacy=False)
        return aside

    # ------------------------------------------------------------------ internals

    def _problem(self, text: str) -> str:
        return f"{self.path}: {' '.join(text.split())}"

    def _corrupt(self, why: str) -> StateError:
        return StateError(self._problem(f"corrupt state database ({why})") + DOCTOR_HINT)

    def _not_pending(self, entry: JournalEntry) -> str:
        return self._problem(
            f"journal entry {entry.id} ({entry.op} of session {entry.session!r}) is not pending"
        )

    def _sqlite_error(self, exc: sqlite3.Error) -> StateError:
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _CORRUPT_CODES:
            return self._corrupt(str(exc))
        return StateError(self._problem(f"cannot use state database ({exc})"))

    @contextlib.contextmanager
    def _reporting(self) -> Iterator[None]:
        """Turn SQLite's errors about the file into one-line StateErrors."""
        try:
            yield
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a bug in our SQL, not a problem of the file
        except sqlite3.DatabaseError as exc:
            raise self._sqlite_error(exc) from None
        except OSError as exc:
            raise StateError(self._problem(f"cannot use state database ({exc.strerror})")) from None

    @contextlib.contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction on a checked database, committed on success.

        Writers take the write lock at BEGIN (IMMEDIATE), so a read-modify-write
        inside never races another writer.
        """
        with self._reporting():
            if not os.path.lexists(self.path):
                self._create(import_legacy=True)
            conn = self._open(self.path)
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    self._check_layout(conn)
                    yield conn
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        """Connect to an existing database (mode=rw never creates one), each commit synced.

        WAL mode is not set here: it is stored in the file by `_create`, and setting
        it would write to whatever is at `path`, even a damaged file we must keep.
        """
        uri = f"file:{urllib.parse.quote(str(path))}?mode=rw"
        # timeout sets SQLite's busy_timeout; isolation_level=None: we issue BEGIN ourselves.
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")  # per connection; WAL + FULL: durable commits
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_layout(self, conn: sqlite3.Connection) -> None:
        """Raise StateError unless the tables are there and the schema is one we can read."""
        tables = {
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = [table for table in _TABLES if table not in tables]
        if missing:
            raise self._corrupt(f"no table {missing[0]}" if tables else "no tables")
        found = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if found is None:
            raise self._corrupt("no schema number")
        try:
            schema = int(found[0])
        except (TypeError, ValueError):
            raise self._corrupt(f"schema {show(str(found[0]))} is not a number") from None
        if schema > SCHEMA:
            raise StateError(
                self._problem(f"written by a newer ptui (schema {schema} > {SCHEMA}); upgrade ptui")
            )

    def _create(self, import_legacy: bool) -> None:
        """Make the database, with every record of `state.toml` if asked, all at once.

        It is built under a temporary name and linked into place complete, so a
        `state.db` that exists was fully initialised (and the import done): an
        empty or table-less one is damage, never mistaken for a new one.
        """
        records = self._read_legacy() if import_legacy else []  # before anything exists
        self._remove_dead_temp_files()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        # Created here so SQLite opens it with our mode; its -wal and -shm inherit it.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        try:
            conn = self._open(tmp)
            try:
                conn.execute("PRAGMA journal_mode=WAL")  # stored in the file from now on
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
                conn.execute("CREATE TABLE sessions(id TEXT PRIMARY KEY, data TEXT NOT NULL)")
                conn.execute(
                    "CREATE TABLE journal(id INTEGER PRIMARY KEY AUTOINCREMENT,"
                    " op TEXT NOT NULL, session TEXT NOT NULL, params TEXT NOT NULL,"
                    " done TEXT NOT NULL, started TEXT NOT NULL)"
                )
                conn.execute("INSERT INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA),))
                conn.executemany(
                    "INSERT INTO sessions(id, data) VALUES (?, ?)",
                    [_encode_session(r) for r in records],
                )
                conn.execute("COMMIT")
            finally:
                conn.close()  # the last connection checkpoints the WAL into the file
            fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            # link, unlike rename, never replaces a database another process
            # finished first (theirs imported the same file).
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.path)
            _fsync_dir(self.path.parent)
        finally:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{tmp}{suffix}")

    def _remove_dead_temp_files(self) -> None:
        """Delete half-made databases left by processes that died while creating one."""
        pattern = re.compile(rf"\.{re.escape(self.path.name)}\.(\d+)\.[0-9a-f]+\.tmp(-wal|-shm)?")
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp*"):
            match = pattern.fullmatch(leftover.name)
            if match is None or _alive(int(match.group(1))):
                continue
            leftover.unlink(missing_ok=True)

    def _read_legacy(self) -> list[SessionRecord]:
        """The records of an older ptui's `state.toml`; [] when there is none."""
        try:
            data = self.legacy_path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StateError(f"{self.legacy_path}: cannot read: {exc.strerror}") from None
        return decode_toml(self.legacy_path, data)

    def _decode_entry(self, row: tuple[Any, ...]) -> JournalEntry:
        """A journal row as an entry; StateError naming the entry if it is not one."""
        entry_id, op, session, params, done, started = row
        try:
            if not isinstance(op, str) or not op:
                raise ValueError("op: expected a non-empty string")
            if not isinstance(session, str) or not isinstance(started, str):
                raise ValueError("session and started: expected strings")
            params_value = _json_column("params", params)
            done_value = _json_column("done", done)
            if not isinstance(params_value, dict):
                raise ValueError("params: expected a JSON object")
            if not isinstance(done_value, list) or not all(isinstance(s, str) for s in done_value):
                raise ValueError("done: expected a JSON list of step names")
        except ValueError as exc:
            raise StateError(
                self._problem(f"journal entry {entry_id}: {exc}") + DOCTOR_HINT
            ) from None
        return JournalEntry(entry_id, op, session, params_value, done_value, started)


def _json_column(name: str, text: object) -> Any:
    if not isinstance(text, str):
        raise ValueError(f"{name}: expected JSON text, got {type(text).__name__}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not JSON ({exc})") from None


def _decode_session(row: tuple[Any, ...]) -> SessionRecord:
    """A sessions row as a record; ValueError("session 'x': field: problem") if it is not one."""
    row_id, data = row
    label = f"session {show(str(row_id))}"
    try:
        value = _json_column("data", data)
        if not isinstance(value, dict):
            raise ValueError("data: expected a JSON object")
        record = SessionRecord.from_dict(value)
        if record.id != row_id:
            raise ValueError(f"id: the row's data says {show(record.id)}")
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None
    return record


def _encode_session(record: SessionRecord) -> tuple[str, str]:
    """(id, JSON) for the sessions table; ValueError naming the session and field if invalid."""
    try:
        record.validate()
    except ValueError as exc:
        raise ValueError(f"session {show(str(record.id))}: {exc}") from None
    try:
        data = json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"session {show(record.id)}: extra: not JSON data ({exc})") from None
    return record.id, data


def _json_params(op: str, params: object) -> str:
    """`params` as JSON text; TypeError now if it would not come back the same."""
    if not isinstance(params, dict):
        raise TypeError(f"journal {op}: params: expected a dict, got {type(params).__name__}")
    try:
        text = json.dumps(params, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"journal {op}: params: not JSON data ({exc})") from None
    # Tuples and non-string keys serialise but come back as something else.
    if json.loads(text) != params:
        raise TypeError(f"journal {op}: params: would not read back the same from JSON")
    return text


def _upsert(conn: sqlite3.Connection, row: tuple[str, str]) -> None:
    # ON CONFLICT ... UPDATE keeps the row (and its rowid, hence its place in the
    # order); INSERT OR REPLACE would delete it and append it at the end.
    conn.execute(
        "INSERT INTO sessions(id, data) VALUES (?, ?)"
        " ON CONFLICT(id) DO UPDATE SET data = excluded.data",
        row,
    )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # our own temp files are removed by the call that made them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    """Make a rename or link in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
