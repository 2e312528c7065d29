"""The lifecycle as a user meets it: states in `ls`, refusals that change nothing,
`rm --force`, setup that survives a crash, loud corrupt state, `ptui doctor`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.server.conftest import Runner, git, processes_with_env, ptui_json, wait_for
from tui import paths
from tui.client import spawn
from tui.protocol.states import LIVE


def session(run: Runner, sid: str) -> dict[str, object]:
    found = [s for s in ptui_json(run, "ls", "--all") if s["id"] == sid]
    assert found, f"no session {sid} in ls"
    return found[0]


def kill_server() -> None:
    pid = spawn.running_pid()
    assert pid
    os.kill(pid, signal.SIGKILL)
    assert spawn.wait_stopped(pid, timeout=10)


def add_setup(config: Path, script: str) -> None:
    config.write_text(config.read_text() + f"\n[scripts]\nsetup = {json.dumps(script)}\n")


def test_ls_shows_the_lifecycle_and_a_refused_verb_changes_nothing(ptui: Runner) -> None:
    ptui("new", "one", "--name", "one", "--agent", "cat")
    assert session(ptui, "one")["lifecycle"] == "ready"
    ptui("archive", "one")
    assert session(ptui, "one")["lifecycle"] == "archived"
    for verb in ("resume", "archive", "stop"):
        refused = ptui(verb, "one", check=False)
        assert refused.returncode == 1
        assert "cannot" in refused.stderr and "archived" in refused.stderr, refused.stderr
        assert refused.stderr.count("\n") == 1
    merge = ptui("merge", "one", check=False)
    assert merge.returncode == 1 and "archived" in merge.stderr
    assert session(ptui, "one")["lifecycle"] == "archived"
    ptui("restore", "one")
    assert session(ptui, "one")["lifecycle"] == "ready"


def test_a_refused_rm_leaves_the_agent_running(ptui: Runner, repo: Path) -> None:
    [info] = ptui_json(ptui, "new", "work", "--name", "work", "--agent", "counter")
    worktree = Path(str(info["worktree"]))
    (worktree / "new.txt").write_text("unmerged work\n")
    wait_for(lambda: processes_with_env("PTUI_SESSION=work"), what="agent running")
    refused = ptui("rm", "work", check=False)
    assert refused.returncode == 1
    assert "--force" in refused.stderr and "uncommitted" in refused.stderr, refused.stderr
    # Nothing changed: the agent still runs, the file and the branch are there.
    assert processes_with_env("PTUI_SESSION=work")
    assert session(ptui, "work")["status"] in LIVE
    assert (worktree / "new.txt").read_text() == "unmerged work\n"
    # A prefix is never enough for rm.
    prefix = ptui("rm", "wor", "--force", check=False)
    assert prefix.returncode == 1 and "whole id" in prefix.stderr
    assert session(ptui, "work")
    forced = ptui("rm", "work", "--force")
    assert "deleted:" in forced.stdout and "uncommitted" in forced.stdout
    assert not worktree.exists()
    assert "ptui/work" not in git(repo, "branch", "--list")
    assert not [s for s in ptui_json(ptui, "ls", "--all") if s["id"] == "work"]


def test_rm_of_an_archived_session_with_unmerged_work_needs_force(ptui: Runner) -> None:
    [info] = ptui_json(ptui, "new", "arch", "--name", "arch", "--agent", "cat")
    (Path(str(info["worktree"])) / "kept.txt").write_text("x\n")
    ptui("archive", "arch")
    refused = ptui("rm", "arch", check=False)
    assert refused.returncode == 1 and "kept.txt" in refused.stderr, refused.stderr
    assert session(ptui, "arch")["lifecycle"] == "archived"
    ptui("restore", "arch")
    assert (Path(str(info["worktree"])) / "kept.txt").read_text() == "x\n"


def test_merged_clean_session_is_removed_without_force(ptui: Runner, repo: Path) -> None:
    ptui("new", "done", "--name", "done", "--agent", "cat")
    ptui("rm", "done")
    assert not [s for s in ptui_json(ptui, "ls", "--all") if s["id"] == "done"]


def test_setup_resume_refused_archive_cancels_the_agent(
    ptui: Runner, repo: Path, config: Path
) -> None:
    add_setup(config, "echo ran >> setup-runs.txt; sleep 30")
    [info] = ptui_json(ptui, "new", "slow", "--name", "slow", "--agent", "counter")
    assert session(ptui, "slow")["lifecycle"] == "setting-up"
    refused = ptui("resume", "slow", check=False)
    assert refused.returncode == 1 and "setup" in refused.stderr
    ptui("archive", "slow")
    time.sleep(0.5)
    assert session(ptui, "slow")["lifecycle"] == "archived"
    # The agent never started in the removed directory.
    assert not processes_with_env("PTUI_SESSION=slow")
    assert not Path(str(info["worktree"])).exists()


def test_setup_killed_with_the_server_runs_again_and_says_so(
    ptui: Runner, repo: Path, config: Path
) -> None:
    add_setup(config, "echo ran >> setup-runs.txt; sleep 30")
    [info] = ptui_json(ptui, "new", "crash", "--name", "crash", "--agent", "counter")
    runs = Path(str(info["worktree"])) / "setup-runs.txt"
    wait_for(runs.exists, what="setup started")
    kill_server()
    assert session(ptui, "crash")["lifecycle"] == "setting-up"
    # The second run may finish: the same script without the sleep.
    config.write_text(config.read_text().split("\n[scripts]")[0])
    add_setup(config, "echo ran >> setup-runs.txt")
    resumed = ptui("resume", "crash")
    assert "setup script did not finish" in resumed.stderr, resumed.stderr
    wait_for(lambda: runs.read_text().count("ran") == 2, what="setup ran again")
    wait_for(lambda: session(ptui, "crash")["lifecycle"] == "ready", what="ready")
    assert "did not finish" in ptui("show", "crash", "--tab", "setup").stdout
    wait_for(lambda: "tick" in ptui("show", "crash").stdout, what="agent started")


def test_corrupt_state_is_loud_and_doctor_rebuilds_it_from_git(ptui: Runner, repo: Path) -> None:
    ptui("new", "keep me", "--name", "keepme", "--agent", "cat")
    ptui("new", "archived one", "--name", "shelved", "--agent", "cat")
    ptui("archive", "shelved")
    ptui("server", "--stop", "--force")
    state = paths.state_file()
    bytes_before = os.urandom(4096)
    state.write_bytes(bytes_before)
    for name in ("state.db-wal", "state.db-shm"):
        (state.parent / name).unlink(missing_ok=True)
    for argv in (["ls"], ["new", "x", "--agent", "cat"], ["archive", "keepme"]):
        result = ptui(*argv, check=False)
        assert result.returncode == 1, argv
        assert str(state) in result.stderr and "ptui doctor" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1
    assert state.read_bytes() == bytes_before  # never overwritten or moved silently
    doctor = ptui("doctor", check=False)
    assert doctor.returncode == 1 and "state" in doctor.stdout
    fixed = ptui("doctor", "--fix", check=False)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    kept = [p for p in state.parent.iterdir() if p.name.startswith("state.db.corrupt-")]
    assert kept and kept[0].read_bytes() == bytes_before
    listed = {s["id"]: s for s in ptui_json(ptui, "ls", "--all")}
    assert listed["keepme"]["lifecycle"] == "ready"
    assert listed["keepme"]["task"] == "keep me"
    assert listed["shelved"]["lifecycle"] == "archived"
    ptui("restore", "shelved")
    assert ptui("doctor").returncode == 0


def test_bad_field_in_state_is_named(ptui: Runner) -> None:
    ptui("new", "one", "--name", "one", "--agent", "cat")
    ptui("server", "--stop", "--force")
    with sqlite3.connect(paths.state_file()) as db:
        (data,) = db.execute("SELECT data FROM sessions WHERE id = 'one'").fetchone()
        record = json.loads(data)
        record["id"] = "../../../x"
        db.execute("UPDATE sessions SET data = ? WHERE id = 'one'", (json.dumps(record),))
    result = ptui("ls", check=False)
    assert result.returncode == 1 and "ptui doctor" in result.stderr
    assert "id" in result.stderr


def test_doctor_adopts_an_unrecorded_worktree(ptui: Runner, repo: Path) -> None:
    [info] = ptui_json(ptui, "new", "lost record", "--name", "orphan", "--agent", "cat")
    (Path(str(info["worktree"])) / "work.txt").write_text("precious\n")
    ptui("server", "--stop", "--force")
    with sqlite3.connect(paths.state_file()) as db:
        db.execute("DELETE FROM sessions WHERE id = 'orphan'")
    assert ptui("doctor", check=False).returncode == 1
    report = json.loads(ptui("doctor", "--json", check=False).stdout)
    assert [p["kind"] for p in report["problems"]] == ["orphan-worktree"]
    ptui("doctor", "--fix")
    listed = session(ptui, "orphan")
    assert listed["lifecycle"] == "ready" and listed["task"] == "lost record"
    assert (Path(str(info["worktree"])) / "work.txt").read_text() == "precious\n"
    assert ptui("doctor").returncode == 0


def test_old_state_toml_is_imported_and_kept(ptui: Runner, repo: Path) -> None:
    ptui("new", "legacy", "--name", "legacy", "--agent", "cat")
    ptui("server", "--stop", "--force")
    with sqlite3.connect(paths.state_file()) as db:
        (data,) = db.execute("SELECT data FROM sessions").fetchone()
    record = json.loads(data)
    record.pop("lifecycle", None)
    record["archived"] = False
    import tomli_w

    legacy = paths.state_file().with_name("state.toml")
    legacy.write_text(tomli_w.dumps({"schema": 1, "sessions": [record]}))
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (legacy.parent / name).unlink(missing_ok=True)
    text = legacy.read_text()
    assert session(ptui, "legacy")["lifecycle"] == "ready"
    assert legacy.read_text() == text


def test_doctor_reports_a_stale_git_lock_and_leaves_it(ptui: Runner, repo: Path) -> None:
    ptui("new", "locked", "--name", "locked", "--agent", "cat")
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    report = json.loads(ptui("doctor", "--json", check=False).stdout)
    assert [p["kind"] for p in report["remaining"]] == ["stale-lock"]
    ptui("doctor", "--fix", check=False)
    assert lock.exists()  # a git commit waiting in an editor holds one too
    lock.unlink()
    assert ptui("doctor").returncode == 0


def test_rm_force_deletes_a_session_whose_worktree_was_deleted_by_hand(
    ptui: Runner, repo: Path
) -> None:
    [info] = ptui_json(ptui, "new", "gone", "--name", "gone", "--agent", "cat")
    worktree = Path(str(info["worktree"]))
    (worktree / "w.txt").write_text("x\n")
    ptui("commit", "gone", "-m", "work on the branch")
    ptui("stop", "gone")
    subprocess.run(["rm", "-rf", str(worktree)], check=True)
    report = json.loads(ptui("doctor", "--json", check=False).stdout)
    assert [p["kind"] for p in report["problems"]] == ["missing-worktree"]
    ptui("doctor", "--fix", check=False)
    assert session(ptui, "gone")["lifecycle"] == "damaged"
    refused = ptui("rm", "gone", check=False)
    assert refused.returncode == 1 and "not merged" in refused.stderr, refused.stderr
    ptui("rm", "gone", "--force")
    assert "ptui/gone" not in git(repo, "branch", "--list")
    assert ptui("doctor").returncode == 0


def test_doctor_turns_a_stray_tar_into_a_session_restore_opens(ptui: Runner, repo: Path) -> None:
    import tarfile

    ptui("new", "keep", "--name", "keep", "--agent", "cat")
    source = repo.parent / "stray"
    (source / "cfg").mkdir(parents=True)
    (source / "cfg" / ".env").write_text("TOKEN=1\n")
    archives = paths.archive_dir()
    archives.mkdir(parents=True, exist_ok=True)
    stray = archives / "old-session.123.tar"
    with tarfile.open(stray, "w") as tar:
        tar.add(source / "cfg", arcname="cfg")
    report = json.loads(ptui("doctor", "--json", check=False).stdout)
    assert [p["kind"] for p in report["problems"]] == ["orphan-tar"]
    fixed = json.loads(ptui("doctor", "--fix", "--json").stdout)
    assert fixed["remaining"] == [] and "ptui restore" in fixed["problems"][0]["fixed"]
    assert not stray.exists()
    assert (paths.data_dir() / "recovered" / stray.name).exists()  # kept, not deleted
    [recovered] = [s for s in ptui_json(ptui, "ls", "--all") if s["id"].startswith("recovered-")]
    assert recovered["lifecycle"] == "archived"
    ptui("restore", str(recovered["id"]))
    restored = Path(str(recovered["worktree"])) / "recovered" / stray.name / "cfg" / ".env"
    assert restored.read_text() == "TOKEN=1\n"
    assert ptui("doctor").returncode == 0


def test_every_journaled_operation_has_a_recovery() -> None:
    from tui.server.journal import OPERATIONS
    from tui.server.operations import _RECOVER

    assert set(_RECOVER) == set(OPERATIONS)
