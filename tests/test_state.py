"""Session records and the operation journal on disk: transactional under kill -9,
no lost update between processes, and loud (never silently repaired) when damaged."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tui import paths
from tui.state import SCHEMA, LifecycleState, SessionRecord, StateError, StateStore

ROOT = Path(__file__).resolve().parent.parent


def rec(n: int | str, **kw: object) -> SessionRecord:
    """A valid record for session `s<n>`."""
    name = f"s{n}"
    fields: dict[str, object] = {
        "id": name,
        "name": name,
        "repo": Path("/src/app"),
        "worktree": Path(f"/src/app.worktrees/{name}"),
        "branch": f"ptui/{name}",
    }
    fields.update(kw)
    return SessionRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.db"


def sql(path: Path, *statements: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run statements on the database with a plain connection (closed, so the WAL is
    checkpointed into the file); returns the last one's rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            rows = conn.execute(statement, args if "?" in statement else ()).fetchall()
        return rows
    finally:
        conn.close()


def one_line_error(store: StateStore) -> str:
    with pytest.raises(StateError) as info:
        store.load()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{store.path}: "), message
    return message


# ---------------------------------------------------------------- records


def test_new_store_is_private_and_created_on_first_use(db: Path) -> None:
    store = StateStore(db)
    assert not db.exists()  # opening reads and creates nothing
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert store.load() == []
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert sql(db, "SELECT value FROM meta WHERE key = 'schema'") == [(str(SCHEMA),)]
    assert sql(db, "PRAGMA journal_mode") == [("wal",)]
    assert store.check() == []
    assert sorted(p.name for p in db.parent.iterdir()) == ["state.db"]  # no temp files left


def test_state_file_lives_in_the_state_dir(isolated_home: Path) -> None:
    assert paths.state_file() == isolated_home / ".local/state/ptui/state.db"
    assert paths.legacy_state_file() == paths.state_file().with_name("state.toml")


def test_round_trip_keeps_every_field(db: Path) -> None:
    store = StateStore(db)
    full = SessionRecord(
        id="a1",
        name="fix-login",
        task="Fix the login form\nand its tests «ü»",
        agent="claude",
        repo=Path("/src/app"),
        branch="ptui/fix-login",
        base="main",
        base_commit="0123456789abcdef" * 2 + "01234567",
        worktree=Path("/src/app.ptui-worktrees/fix-login"),
        status="waiting",
        port=41010,
        created="2025-01-31T12:00:00Z",
        lifecycle=LifecycleState.ARCHIVED,
        archive_ref="refs/ptui/archive/fix-login",
        exit_code=-9,
        tabs=["server", "tests"],
        last_screen=Path("/state/a1.screen"),
        extra={"future": {"nested": [1, 2.5, None, True]}},
    )
    damaged = rec(2, lifecycle=LifecycleState.DAMAGED, damage="worktree deleted outside ptui")
    store.save([full, damaged, rec(3)])
    loaded = store.load()
    assert loaded == [full, damaged, rec(3, created=loaded[2].created)]
    assert loaded[0].archived and not loaded[1].archived
    assert isinstance(loaded[0].lifecycle, LifecycleState) and isinstance(loaded[0].repo, Path)


def test_lifecycle_is_stored_as_its_string_and_none_is_left_out(db: Path) -> None:
    StateStore(db).put(rec(1, lifecycle=LifecycleState.SETTING_UP))
    ((text,),) = sql(db, "SELECT data FROM sessions")
    assert isinstance(text, str)
    data = json.loads(text)
    assert data["lifecycle"] == "setting-up"
    assert "archived" not in data and "exit_code" not in data and "last_screen" not in data


def test_unknown_keys_are_kept_and_written_back(db: Path) -> None:
    store = StateStore(db)
    store.put(rec(1))
    sql(
        db,
        "UPDATE sessions SET data = json_set(data, '$.from_the_future', json('[1, {\"k\": 2}]'))",
    )
    (loaded,) = store.load()
    assert loaded.extra == {"from_the_future": [1, {"k": 2}]}
    loaded.status = "busy"
    store.put(loaded)
    ((text,),) = sql(db, "SELECT data FROM sessions")
    assert isinstance(text, str)
    assert json.loads(text)["from_the_future"] == [1, {"k": 2}]
    assert json.loads(text)["status"] == "busy"


@pytest.mark.parametrize(
    ("data", "lifecycle"),
    [
        ({"archived": True}, LifecycleState.ARCHIVED),
        ({"archived": False}, LifecycleState.READY),
        ({}, LifecycleState.READY),
        ({"archived": True, "lifecycle": "merging"}, LifecycleState.MERGING),
    ],
)
def test_old_archived_key_becomes_a_lifecycle(
    data: dict[str, object], lifecycle: LifecycleState
) -> None:
    base = rec(1).to_dict()
    del base["lifecycle"]
    record = SessionRecord.from_dict({**base, **data})
    assert record.lifecycle is lifecycle
    assert "archived" not in record.extra and "archived" not in record.to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "../../../x"}, "id: session name '../../../x' must not contain '..'"),
        ({"name": "Bad Name"}, "name: session name 'Bad Name' must not contain spaces"),
        ({"id": 7}, "id: expected a string, got int"),
        ({"port": "x"}, "port: expected an int from 0 to 65535"),
        ({"port": True}, "port: expected an int from 0 to 65535"),
        ({"port": 65536}, "port: expected an int from 0 to 65535"),
        ({"repo": Path("relative")}, "repo: expected an absolute path, got 'relative'"),
        ({"worktree": Path()}, "worktree: expected an absolute path"),
        ({"last_screen": Path("screen")}, "last_screen: expected an absolute path, got 'screen'"),
        ({"branch": ""}, "branch: expected a non-empty branch name"),
        ({"branch": "a..b"}, "branch: expected a non-empty branch name"),
        ({"branch": "a b"}, "branch: expected a non-empty branch name"),
        ({"archive_ref": "refs/heads/main"}, "archive_ref: expected '' or 'refs/ptui/archive/s1'"),
        ({"archive_ref": "refs/ptui/archive/other"}, "archive_ref: expected"),
        ({"lifecycle": "sleeping"}, "lifecycle: expected one of creating, setting-up, ready"),
        ({"lifecycle": LifecycleState.DAMAGED}, "damage: a damaged session needs a reason"),
        ({"exit_code": "0"}, "exit_code: expected an int or nothing"),
        ({"tabs": ["a", 1]}, "tabs: expected a list of strings"),
        ({"task": None}, "task: expected a string, got NoneType"),
        ({"base_commit": "xyz"}, "base_commit: expected a commit id"),
    ],
)
def test_every_field_is_validated(db: Path, change: dict[str, object], message: str) -> None:
    bad = rec(1, **change)
    with pytest.raises(ValueError) as info:
        bad.validate()
    assert str(info.value).startswith(message)
    # The same check guards reading a stored record and writing one.
    data = {
        **rec(1).to_dict(),
        **{k: str(v) if isinstance(v, Path) else v for k, v in change.items()},
    }
    with pytest.raises(ValueError, match=message.split(":")[0]):
        SessionRecord.from_dict(data)
    store = StateStore(db)
    store.put(rec(2))
    with pytest.raises(ValueError, match=message.split(":")[0]):
        store.put(bad)
    assert store.load() == [rec(2, created=store.load()[0].created)]  # nothing written


def test_put_delete_and_save_keep_a_stable_order(db: Path) -> None:
    store = StateStore(db)
    store.put(rec(1), rec(2))
    store.put(rec(3))
    store.put(rec(1, status="busy"))  # an update keeps its place
    assert [(r.id, r.status) for r in store.load()] == [
        ("s1", "busy"),
        ("s2", "stopped"),
        ("s3", "stopped"),
    ]
    store.delete("s2")
    store.delete("never-there")
    assert [r.id for r in store.load()] == ["s1", "s3"]
    store.save([rec(4), rec(3)])  # replaces everything, in the order given
    assert [r.id for r in store.load()] == ["s4", "s3"]
    with pytest.raises(ValueError, match="duplicate"):
        store.save([rec(5), rec(5)])
    assert [r.id for r in store.load()] == ["s4", "s3"]


def test_threads_sharing_one_store_lose_no_update(db: Path) -> None:
    store = StateStore(db)
    store.load()

    def writer(tag: str) -> None:
        for k in range(15):
            store.put(rec(f"{tag}{k}"))

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.load()) == 60


# ---------------------------------------------------------------- damage is loud


def _random_bytes(db: Path) -> None:
    db.write_bytes(random.Random(7).randbytes(20000))


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def _empty_file(db: Path) -> None:
    db.write_bytes(b"")


def _bad_port(db: Path) -> None:
    sql(db, "UPDATE sessions SET data = json_set(data, '$.port', 'x') WHERE id = 's7'")


def _escaping_id(db: Path) -> None:
    data = json.dumps({**rec(1).to_dict(), "id": "../../../x"})
    sql(db, "INSERT INTO sessions(id, data) VALUES ('../../../x', ?)", args=(data,))


def _not_json(db: Path) -> None:
    sql(db, "UPDATE sessions SET data = '{\"id\": \"s3\",' WHERE id = 's3'")


def _missing_table(db: Path) -> None:
    sql(db, "DROP TABLE journal")


def _bad_journal_row(db: Path) -> None:
    sql(
        db,
        "INSERT INTO journal(op, session, params, done, started)"
        " VALUES ('new', 's1', '[]', '[]', 'x')",
    )


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (_random_bytes, "corrupt state database (file is not a database)"),
        (_truncated, "corrupt state database (database disk image is malformed)"),
        (_empty_file, "corrupt state database (no tables)"),
        (_bad_port, "session 's7': port: expected an int from 0 to 65535"),
        (_escaping_id, "session '../../../x': id: session name '../../../x' must not contain '..'"),
        (_not_json, "session 's3': data: not JSON"),
        (_missing_table, "corrupt state database (no table journal)"),
        (_bad_journal_row, "journal entry 1: params: expected a JSON object"),
    ],
)
def test_damage_is_reported_in_one_line_and_the_file_is_kept(
    db: Path, damage: object, fragment: str
) -> None:
    store = StateStore(db)
    # Enough rows to span several pages, so a truncation cuts through data.
    store.save([rec(n, task="t" * 400) for n in range(30)])
    assert callable(damage)
    damage(db)
    before = db.read_bytes()

    StateStore(db)  # opening never fails: the server must start for `ptui doctor`
    if damage is _bad_journal_row:
        with pytest.raises(StateError) as info:
            store.pending()
        message = str(info.value)
    else:
        message = one_line_error(store)
    if "corrupt state database" in fragment:  # the whole file is unusable: writes fail too
        with pytest.raises(StateError):
            store.put(rec(99))
        with pytest.raises(StateError):
            store.begin("new", "s99", {})
    assert fragment in message
    assert message.endswith("; run `ptui doctor`") and "\n" not in message
    assert str(db) in message
    problems = store.check()
    assert problems and any(fragment in p for p in problems), problems
    assert db.read_bytes() == before  # never moved aside, repaired or overwritten
    assert not list(db.parent.glob("*corrupt*"))


def test_one_bad_row_can_be_replaced_by_doctor(db: Path) -> None:
    store = StateStore(db)
    store.save([rec(1), rec(7), rec(8)])
    _bad_port(db)
    assert "session 's7': port" in one_line_error(store)
    store.put(rec(7, port=41070))  # other rows stay writable, so one record can be fixed
    assert [(r.id, r.port) for r in store.load()] == [("s1", 0), ("s7", 41070), ("s8", 0)]
    assert store.check() == []


def test_newer_schema_is_refused_and_never_written(db: Path) -> None:
    store = StateStore(db)
    store.put(rec(1))
    sql(db, f"UPDATE meta SET value = '{SCHEMA + 1}' WHERE key = 'schema'")
    before = db.read_bytes()
    message = one_line_error(store)
    assert message == (
        f"{db}: written by a newer ptui (schema {SCHEMA + 1} > {SCHEMA}); upgrade ptui"
    )
    with pytest.raises(StateError, match="newer ptui"):
        store.put(rec(2))
    with pytest.raises(StateError, match="newer ptui"):
        store.pending()
    assert db.read_bytes() == before


def test_move_aside_keeps_the_bytes_and_starts_empty(db: Path) -> None:
    legacy = db.with_name("state.toml")
    store = StateStore(db)
    store.put(rec(1))
    legacy.write_text(OLD_TOML)  # arrived after the import: must not come back now
    _random_bytes(db)
    before = db.read_bytes()
    aside = store.move_aside()
    assert aside.name.startswith("state.db.corrupt-") and aside.parent == db.parent
    assert aside.read_bytes() == before
    assert store.load() == [] and store.check() == []
    assert legacy.read_text() == OLD_TOML
    second = store.move_aside()  # a second copy never replaces the first
    assert second != aside and aside.read_bytes() == before


# ---------------------------------------------------------------- importing state.toml

OLD_TOML = textwrap.dedent(
    """\
    schema = 1

    [[sessions]]
    id = "fix-login"
    name = "fix-login"
    task = "Fix the login"
    repo = "/src/app"
    branch = "ptui/fix-login"
    worktree = "/src/app.worktrees/fix-login"
    port = 41000
    archived = false
    exit_code = 3
    tabs = ["server"]
    future_field = 1979-05-27T07:32:00Z

    [[sessions]]
    id = "old-idea"
    name = "old-idea"
    repo = "/src/app"
    branch = "ptui/old-idea"
    worktree = "/src/app.worktrees/old-idea"
    archived = true
    archive_ref = "refs/ptui/archive/old-idea"
    """
)


def test_state_toml_is_imported_once_and_left_in_place(db: Path) -> None:
    legacy = db.with_name("state.toml")
    legacy.parent.mkdir()
    legacy.write_text(OLD_TOML)
    store = StateStore(db)
    first, second = store.load()
    assert (first.id, first.lifecycle, first.port, first.exit_code) == (
        "fix-login",
        LifecycleState.READY,
        41000,
        3,
    )
    assert first.tabs == ["server"] and first.extra == {"future_field": "1979-05-27T07:32:00+00:00"}
    assert (second.id, second.lifecycle, second.archived) == (
        "old-idea",
        LifecycleState.ARCHIVED,
        True,
    )
    assert second.archive_ref == "refs/ptui/archive/old-idea"
    assert legacy.read_text() == OLD_TOML
    # The database's existence marks the import done: later edits are not imported.
    store.delete("old-idea")
    legacy.write_text(OLD_TOML.replace("fix-login", "other"))
    assert [r.id for r in store.load()] == ["fix-login"]


def test_corrupt_state_toml_creates_no_database(db: Path) -> None:
    legacy = db.with_name("state.toml")
    legacy.parent.mkdir()
    broken = OLD_TOML.replace("port = 41000", 'port = "41000"')
    legacy.write_text(broken)
    store = StateStore(db)
    with pytest.raises(StateError) as info:
        store.load()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{legacy}:10: corrupt state file (session 1: port: ")
    assert message.endswith("; run `ptui doctor`")
    with pytest.raises(StateError):
        store.put(rec(1))
    assert not db.exists() and legacy.read_text() == broken
    assert store.check() == [message.removesuffix("; run `ptui doctor`")]
    assert not db.exists()
    # Once fixed, it is imported after all.
    legacy.write_text(OLD_TOML)
    assert [r.id for r in store.load()] == ["fix-login", "old-idea"]


# ---------------------------------------------------------------- the journal


def test_journal_begin_step_finish(db: Path) -> None:
    store = StateStore(db)
    creating = rec(1, lifecycle=LifecycleState.CREATING)
    entry = store.begin("new", "s1", {"base": "main"}, record=creating)
    assert (entry.op, entry.session, entry.params, entry.done) == (
        "new",
        "s1",
        {"base": "main"},
        [],
    )
    assert store.load() == [creating]  # the intent and the record, together
    assert store.pending() == [entry]

    store.step(entry, "branch", {"commit": "abc"})
    store.step(entry, "branch", {"again": True})  # running a step twice records it once
    store.step(entry, "worktree", record=rec(1, lifecycle=LifecycleState.CREATING, port=41000))
    assert entry.done == ["branch", "worktree"]
    assert entry.params == {"base": "main", "commit": "abc", "again": True}
    assert store.pending("s1") == [entry]
    assert store.load()[0].port == 41000

    ready = rec(1, port=41000)
    store.finish(entry, record=ready)
    assert store.pending() == [] and store.load() == [ready]
    with pytest.raises(StateError, match=r"journal entry 1 .* is not pending"):
        store.finish(entry)
    with pytest.raises(StateError, match="is not pending"):
        store.step(entry, "record")


def test_pending_is_oldest_first_and_per_session(db: Path) -> None:
    store = StateStore(db)
    a = store.begin("archive", "s1", {})
    b = store.begin("merge", "s2", {"into": "main"})
    c = store.begin("setup", "s1", {})
    assert [e.id for e in store.pending()] == [a.id, b.id, c.id]
    assert [e.op for e in store.pending("s1")] == ["archive", "setup"]
    assert store.pending("s3") == []
    store.finish(b, delete="s2")
    assert [e.id for e in store.pending()] == [a.id, c.id]


def test_finish_can_forget_the_session(db: Path) -> None:
    store = StateStore(db)
    store.put(rec(1), rec(2))
    entry = store.begin("rm", "s1", {}, record=rec(1, lifecycle=LifecycleState.REMOVING))
    store.finish(entry, delete="s1")
    assert [r.id for r in store.load()] == ["s2"] and store.pending() == []


def test_bad_journal_input_is_refused_before_anything_is_written(db: Path) -> None:
    store = StateStore(db)
    with pytest.raises(TypeError, match="params"):
        store.begin("new", "s1", {"path": Path("/x")})
    with pytest.raises(TypeError, match="params"):
        store.begin("new", "s1", {"pair": (1, 2)})  # would read back as a list
    with pytest.raises(ValueError, match="not session"):
        store.begin("new", "s1", {}, record=rec(2))
    with pytest.raises(ValueError, match="journal session"):
        store.begin("new", "../x", {})
    assert store.pending() == [] and store.load() == []

    entry = store.begin("archive", "s1", {"n": 1}, record=rec(1))
    with pytest.raises(TypeError):
        store.step(entry, "snapshot", {"when": object()})
    with pytest.raises(ValueError, match="port"):
        store.step(entry, "snapshot", record=rec(1, port=-1))
    with pytest.raises(ValueError, match="port"):
        store.finish(entry, record=rec(1, port=-1))
    (stored,) = store.pending()
    assert stored.done == [] and stored.params == {"n": 1} and stored == entry


# ---------------------------------------------------------------- processes

# Each round: begin (record in a transitional state), two steps, finish (record in
# its final state), and a plain put. The invariant the journal gives: a session is
# in a transitional state exactly while its entry is pending.
WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.state import LifecycleState, SessionRecord, StateStore

    path, tag, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])

    def rec(sid, lifecycle, **kw):
        return SessionRecord(id=sid, name=sid, repo=Path("/r"), worktree=Path("/w/" + sid),
                             branch="ptui/" + sid, lifecycle=lifecycle, **kw)

    store = StateStore(path)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    k = 0
    while rounds == 0 or k < rounds:
        sid = f"{tag}{k % 7}"
        entry = store.begin("archive", sid, {"k": k}, record=rec(sid, LifecycleState.ARCHIVING))
        store.step(entry, "stop", {"stopped": k})
        store.step(entry, "snapshot", record=rec(sid, LifecycleState.ARCHIVING, task="t" * 500))
        archived = rec(sid, LifecycleState.ARCHIVED, archive_ref="refs/ptui/archive/" + sid)
        store.finish(entry, record=archived)
        store.put(rec(f"{tag}p{k}", LifecycleState.READY, port=k % 65536))
        k += 1
    """
)


def start_worker(db: Path, tag: str, rounds: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(db), tag, str(rounds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    return proc


def assert_consistent(store: StateStore) -> list[str]:
    records = store.load()
    pending = store.pending()
    assert store.check() == []
    in_flight = {r.id for r in records if r.lifecycle is LifecycleState.ARCHIVING}
    assert in_flight == {e.session for e in pending}
    assert len(pending) == len(in_flight)  # at most one operation per session here
    for entry in pending:  # steps are recorded in order, with their data
        assert entry.done in ([], ["stop"], ["stop", "snapshot"])
        assert ("stopped" in entry.params) == ("stop" in entry.done)
    return [r.id for r in records]


def test_two_processes_writing_at_once_lose_nothing(db: Path) -> None:
    rounds = 25
    # Neither has created the database yet: they also race to create it.
    procs = [start_worker(db, tag, rounds) for tag in ("a", "b")]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0]
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.close()
    store = StateStore(db)
    ids = assert_consistent(store)
    assert store.pending() == []
    expected = {f"{t}{k}" for t in "ab" for k in range(7)}
    expected |= {f"{t}p{k}" for t in "ab" for k in range(rounds)}
    assert sorted(ids) == sorted(expected)
    assert all(r.archived for r in store.load() if "p" not in r.id)


def test_kill_9_at_random_moments_leaves_a_sound_database(db: Path) -> None:
    rng = random.Random(20240607)
    seen_pending = 0
    for _ in range(20):
        proc = start_worker(db, "k", 0)  # writes until killed
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(rng.uniform(0.005, 0.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
        store = StateStore(db)
        assert_consistent(store)
        seen_pending += len(store.pending())
        # Recover as the server would, so each round starts clean.
        records = {r.id: r for r in store.load()}
        for entry in store.pending():
            records[entry.session].lifecycle = LifecycleState.READY
            store.finish(entry, record=records[entry.session])
        assert store.pending() == []
        assert os.stat(db).st_mode & 0o077 == 0
    # The kills landed inside operations, not only between them.
    assert seen_pending > 0
