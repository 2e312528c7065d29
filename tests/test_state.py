"""Session records on disk: atomic under kill -9, no lost update between processes."""

from __future__ import annotations

import random
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tui.state import SCHEMA, SessionRecord, StateError, StateStore

ROOT = Path(__file__).resolve().parent.parent


def record(n: int, **kw: object) -> SessionRecord:
    return SessionRecord(id=f"s{n}", name=f"task-{n}", **kw)  # type: ignore[arg-type]


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "state.toml"


def one_line_error(store: StateStore) -> str:
    with pytest.raises(StateError) as info:
        store.load()
    message = str(info.value)
    assert "\n" not in message
    assert re.match(rf"{re.escape(str(store.path))}:\d+: ", message), message
    return message


def test_missing_file_is_empty(state_path: Path) -> None:
    assert StateStore(state_path).load() == []


def test_round_trip_keeps_every_field(state_path: Path) -> None:
    store = StateStore(state_path)
    full = SessionRecord(
        id="a1",
        name="fix-login",
        task="Fix the login form\nand its tests",
        agent="claude",
        repo=Path("/src/app"),
        branch="ptui/fix-login",
        base="main",
        base_commit="0" * 40,
        worktree=Path("/src/app.ptui-worktrees/fix-login"),
        status="waiting",
        port=41010,
        archived=True,
        archive_ref="refs/ptui/archive/a1",
        exit_code=0,
        tabs=["server", "tests"],
        last_screen=Path("/state/a1.screen"),
    )
    store.save([full, record(2)])
    assert store.load() == [full, record(2, created=store.load()[1].created)]


def test_none_is_left_out_of_the_file(state_path: Path) -> None:
    store = StateStore(state_path)
    store.save([record(1)])
    text = state_path.read_text()
    assert f"schema = {SCHEMA}" in text
    assert "exit_code" not in text and "last_screen" not in text
    assert re.search(r'created = "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', text)
    assert stat.S_IMODE(state_path.stat().st_mode) == 0o600


def test_old_files_and_unknown_fields_are_tolerated(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text(
        'schema = 1\n\n[[sessions]]\nid = "x"\nname = "old"\nfuture_field = [1, 2]\n'
        '[sessions.future_table]\nk = "v"\n'
    )
    store = StateStore(state_path)
    (loaded,) = store.load()
    assert (loaded.id, loaded.status, loaded.tabs, loaded.exit_code) == ("x", "stopped", [], None)
    assert loaded.extra == {"future_field": [1, 2], "future_table": {"k": "v"}}
    store.save([loaded])  # written back, not dropped
    assert store.load()[0].extra == loaded.extra


def test_update_in_place_or_by_returning_a_list(state_path: Path) -> None:
    store = StateStore(state_path)
    store.update(lambda records: records.append(record(1)))
    assert [r.id for r in store.update(lambda records: [*records, record(2)])] == ["s1", "s2"]

    def finish(records: list[SessionRecord]) -> None:
        records[0].status = "exited"
        records[0].exit_code = 3

    store.update(finish)
    assert (store.load()[0].status, store.load()[0].exit_code) == ("exited", 3)


def test_leftover_temp_files_are_removed_at_start(state_path: Path) -> None:
    StateStore(state_path).save([record(1)])
    leftover = state_path.with_name(".state.toml.999.deadbeef.tmp")
    leftover.write_text("half a wri")
    StateStore(state_path)
    assert not leftover.exists()
    assert sorted(p.name for p in state_path.parent.iterdir()) == ["state.toml", "state.toml.lock"]


def test_newer_schema_is_refused_and_kept(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    text = f"# from the future\nschema = {SCHEMA + 2}\n"
    state_path.write_text(text)
    store = StateStore(state_path)
    message = one_line_error(store)
    assert message == (
        f"{state_path}:2: state.toml was written by a newer ptui "
        f"(schema {SCHEMA + 2} > {SCHEMA}); upgrade ptui"
    )
    with pytest.raises(StateError):
        store.update(lambda records: records.append(record(1)))
    assert state_path.read_text() == text  # never overwritten


def test_corrupt_file_is_moved_aside_not_lost(state_path: Path) -> None:
    store = StateStore(state_path)
    store.save([record(1)])
    garbage = state_path.read_text() + "[[sessions]\nid = \n"
    state_path.write_text(garbage)
    message = one_line_error(store)
    assert "corrupt state file (invalid TOML" in message
    (aside,) = state_path.parent.glob("state.toml.corrupt-*")
    assert str(aside) in message
    assert aside.read_text() == garbage
    assert store.load() == []  # ptui carries on with the corrupt copy kept


@pytest.mark.parametrize(
    ("session", "line", "fragment"),
    [
        ('id = "a"\nname = "b"\nport = "41000"\n', 6, "session 1: port: expected int, got str"),
        ('id = "a"\nname = "b"\narchived = 1\n', 6, "archived: expected bool, got int"),
        ('id = "a"\nname = "b"\ntabs = [1]\n', 6, "tabs: expected list[str], got list"),
        ('id = "a"\n', 3, "session 1: name: missing"),
    ],
)
def test_bad_field_is_reported_with_its_line(
    state_path: Path, session: str, line: int, fragment: str
) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text(f"schema = 1\n\n[[sessions]]\n{session}")
    message = one_line_error(StateStore(state_path))
    assert message.startswith(f"{state_path}:{line}: corrupt state file"), message
    assert fragment in message


def test_file_without_schema_is_corrupt(state_path: Path) -> None:
    state_path.parent.mkdir(parents=True)
    state_path.write_text("")
    assert "no schema number" in one_line_error(StateStore(state_path))


# ---------------------------------------------------------------- crash and concurrency
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.state import SessionRecord, StateStore

    store = StateStore(Path(sys.argv[1]))
    i = 0
    while True:
        i += 1
        # Sizes vary so a torn write could not look like a complete file.
        store.save([SessionRecord(id=f"s{j}", name="n" * (j % 50), task="t" * 300)
                    for j in range(i % 40 + 1)])
        if i == 1:
            print("ready", flush=True)
    """
)


def test_kill_9_during_writes_always_leaves_a_loadable_file(state_path: Path) -> None:
    rng = random.Random(1234)
    for _ in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(state_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        store = StateStore(state_path)  # also cleans the temp file a kill left
        records = store.load()
        assert 1 <= len(records) <= 40
        assert not list(state_path.parent.glob(".*.tmp"))


UPDATER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.state import SessionRecord, StateStore

    path, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = StateStore(path)
    sys.stdin.readline()  # start together
    for k in range(count):
        store.update(lambda records: records.append(SessionRecord(id=f"{tag}{k}", name=tag)))
    """
)


def test_concurrent_updates_from_two_processes_lose_nothing(state_path: Path) -> None:
    count = 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPDATER, str(state_path), tag, str(count)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.close()
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0]
    ids = [r.id for r in StateStore(state_path).load()]
    assert sorted(ids) == sorted(f"{tag}{k}" for tag in "ab" for k in range(count))


def test_lock_is_held_across_a_read_modify_write(state_path: Path) -> None:
    # A second process cannot update while this one is inside update().
    store = StateStore(state_path)
    store.save([record(1)])
    code = (
        "import sys; from pathlib import Path; from tui.state import *\n"
        "store = StateStore(Path(sys.argv[1]))\n"
        "store.update(lambda r: r.append(SessionRecord(id='other', name='o')))\n"
    )
    others: list[subprocess.Popen[bytes]] = []

    def slow(records: list[SessionRecord]) -> None:
        other = subprocess.Popen([sys.executable, "-c", code, str(state_path)], cwd=ROOT)
        others.append(other)
        time.sleep(0.5)  # long enough for the other process to reach its flock
        assert other.poll() is None  # still blocked on the lock
        records.append(record(2))

    store.update(slow)
    assert others[0].wait(timeout=30) == 0
    assert [r.id for r in store.load()] == ["s1", "s2", "other"]
