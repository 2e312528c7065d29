"""Notifications: once per transition, on the channels `ui.notify` names, never for the
session on screen, and one line (not a storm) when the app opens."""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.pilot import Pilot

from tests.app.app_harness import (
    SIZE,
    app_config,  # noqa: F401  (fixture)
    app_server,  # noqa: F401  (fixture)
    new_session,
    record_notes,
    server_call,
    started,
    until,
    write_config,
)
from tests.server.conftest import PTUI, repo, stop_server, wait_for  # noqa: F401  (fixture)
from tui.app import notify
from tui.app.app import PtuiApp
from tui.config import load_config
from tui.protocol import Activity, SessionInfo

ASKER = {
    # Rings as it asks, as agents do.
    "command": [
        "sh",
        "-c",
        "sleep 0.5; printf '\\a'; echo 'Do you want to proceed? Allow once'; exec cat",
    ],
    "waiting_patterns": ["Allow once"],
}


def configure(channels: list[str] | str) -> None:
    """The app tests' config, `ui.notify = channels`, and the `ask` agent."""
    path = write_config({"ui": {"notify": channels}})
    config = tomllib.loads(path.read_text())
    config["agents"]["ask"] = {"prompt": "none", **ASKER}
    path.write_text(tomli_w.dumps(config))


def record_driver(app: PtuiApp) -> list[str]:
    """Everything written to the outer terminal from now on."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    original = driver.write
    driver.write = lambda data: (written.append(data), original(data))[1]  # type: ignore[method-assign]
    return written


def record_bells(app: PtuiApp) -> list[float]:
    bells: list[float] = []
    app.bell = lambda: bells.append(time.monotonic())  # type: ignore[method-assign]
    return bells


def fake_notify_send(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `notify-send` first on PATH that appends its argv (JSON) to a file."""
    bin_dir, calls = tmp_path / "fakebin", tmp_path / "notify-send.calls"
    bin_dir.mkdir()
    script = bin_dir / "notify-send"
    script.write_text(
        "#!/usr/bin/env python3\nimport json, sys\n"
        f"with open({str(calls)!r}, 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


async def settled(pilot: Pilot[Any], app: PtuiApp) -> None:
    """Wait for the start-up line (or its silence): announcements are one by one after."""
    await until(pilot, lambda: not app.notifier._settling, "the sessions to settle")


def statuses() -> dict[str, str]:
    return {s["id"]: s["status"] for s in server_call("session.list")}


@pytest.mark.usefixtures("app_server")
async def test_a_session_that_starts_waiting_is_announced_once_on_each_channel() -> None:
    configure(["toast", "osc9", "osc777"])
    new_session("zz shown", agent="cat")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        await started(pilot, 1)
        written = record_driver(app)
        await settled(pilot, app)
        asker = new_session("please ask", agent="ask")["id"]
        await until(pilot, lambda: any("waiting" in n for n in notes), "the toast")
        await pilot.pause(1.5)  # nothing more comes of it
        assert app.main_screen.current == "zz-shown"
        assert notes == ["please-ask is waiting for you"]
        out = "".join(written)
        assert out.count("\x1b]9;ptui: please-ask is waiting for you\x07") == 1
        assert out.count("\x1b]777;notify;ptui;please-ask is waiting for you\x07") == 1
        assert out.count("\x1b]9;") == 1 and out.count("\x1b]777;") == 1
        assert app.sessions[asker]["status"] == Activity.WAITING


@pytest.mark.usefixtures("app_server")
async def test_three_sessions_waiting_at_start_are_one_line() -> None:
    configure(["toast", "osc9"])
    ids = [new_session(name, agent="ask")["id"] for name in ("api", "docs", "fix login")]
    ringer = new_session("zz ringer", agent="sh")["id"]
    # They ask (and ring) before the app opens.
    wait_for(lambda: all(statuses()[sid] == Activity.WAITING for sid in ids), what="waiting")
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        bells = record_bells(app)
        await started(pilot, 4)
        written = record_driver(app)
        await settled(pilot, app)
        await pilot.pause(1.0)
        assert notes == ["3 sessions need you: api, docs, fix-login"]
        # Only what the sidebar shows already: no desktop notification at start.
        assert "\x1b]9;" not in "".join(written) and not bells
        # Once settled, a bell is news: one toast, however often it rings.
        for _ in range(3):
            server_call("session.input", id=ringer, text="printf '\\a'\r")
        await until(pilot, lambda: len(notes) == 2, "the bell's toast")
        await pilot.pause(1.0)
        assert notes[1:] == ["zz-ringer rang the bell"]


@pytest.mark.usefixtures("app_server")
async def test_bells_while_the_app_opens_fold_into_the_start_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notify, "SETTLE_SECONDS", 4.0)  # time enough to ring, on a slow box
    configure(["toast", "osc9"])
    new_session("aa shown", agent="cat")
    ringers = [new_session(f"ringer {n}", agent="sh")["id"] for n in (1, 2)]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        await started(pilot, 3)
        written = record_driver(app)
        assert app.notifier._settling
        for sid in ringers:
            server_call("session.input", id=sid, text="printf '\\a'\r")
        await settled(pilot, app)
        await pilot.pause(1.0)
        assert notes == ["2 sessions need you: ringer-1, ringer-2"]
        # They rang after the app opened: news, on every channel, once.
        assert "".join(written).count("\x1b]9;ptui: 2 sessions need you") == 1


@pytest.mark.usefixtures("app_server")
async def test_the_session_on_screen_gets_no_toast() -> None:
    configure(["toast", "osc9", "bell"])
    shown = new_session("shown", agent="sh")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        bells = record_bells(app)
        await started(pilot, 1)
        written = record_driver(app)
        await settled(pilot, app)
        assert app.main_screen.current == shown and app.app_focus
        server_call("session.input", id=shown, text="printf '\\a'; sleep 0.3; echo done\r")
        await until(pilot, lambda: bells, "the bell passed through")
        await pilot.pause(1.5)
        assert notes == [] and "\x1b]9;" not in "".join(written) and len(bells) == 1


@pytest.mark.usefixtures("app_server")
async def test_notify_send_gets_an_argument_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_notify_send(tmp_path, monkeypatch)
    configure(["desktop"])
    new_session("aa shown", agent="cat")
    ringer = new_session("ringer", agent="sh")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        await started(pilot, 2)
        await settled(pilot, app)
        server_call("session.input", id=ringer, text="printf '\\a'\r")
        await until(pilot, calls.exists, "notify-send")
        await pilot.pause(0.5)
        assert [json.loads(line) for line in calls.read_text().splitlines()] == [
            ["--app-name=ptui", "ptui", "ringer rang the bell"]
        ]
        assert notes == []  # the toast channel is off


@pytest.mark.usefixtures("app_server")
async def test_channels_left_out_send_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_notify_send(tmp_path, monkeypatch)
    configure(["toast"])
    new_session("aa shown", agent="cat")
    ringer = new_session("ringer", agent="sh")["id"]
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        bells = record_bells(app)
        await started(pilot, 2)
        written = record_driver(app)
        await settled(pilot, app)
        server_call("session.input", id=ringer, text="printf '\\a'\r")
        await until(pilot, lambda: notes, "the toast")
        await pilot.pause(1.0)
        out = "".join(written)
        assert notes == ["ringer rang the bell"]
        assert "\x1b]9;" not in out and "\x1b]777;" not in out
        assert not bells and not calls.exists()
    # [] is off altogether.
    configure([])
    app = PtuiApp(repo=Path.cwd())
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app)
        bells = record_bells(app)
        await started(pilot, 2)
        written = record_driver(app)
        await settled(pilot, app)
        server_call("session.input", id=ringer, text="printf '\\a'\r")
        await until(pilot, lambda: app.main_screen.session_list.rows[ringer].unseen, "unseen")
        await pilot.pause(1.0)
        assert notes == [] and not bells and not calls.exists()
        assert "\x1b]9;" not in "".join(written)


async def test_the_demo_opens_with_at_most_one_toast(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTUI_DEMO_SPEED", "0")  # the server it starts inherits it
    try:
        made = subprocess.run(
            [PTUI, "demo", "--no-app", "--dir", str(tmp_path / "demo"), "--json"],
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        repo_path = Path(json.loads(made.stdout)["repo"])
        os.chdir(repo_path)
        app = PtuiApp(repo=repo_path)
        async with app.run_test(size=SIZE) as pilot:
            notes = record_notes(app)
            await started(pilot, 3)
            await settled(pilot, app)
            await pilot.pause(1.5)
            assert len(notes) <= 1, notes
            assert len(app._notifications) <= 1
    finally:
        stop_server()


# ------------------------------------------------------------ config and words
def test_notify_takes_a_list_and_the_older_words(tmp_path: Path) -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    for value, channels in (
        ('"toast"', ("toast",)),
        ('"bell"', ("toast", "bell")),
        ('"osc9"', ("toast", "osc9")),
        ('"none"', ()),
        ("[]", ()),
        ('["osc777", "desktop", "osc777"]', ("osc777", "desktop")),
    ):
        config.write_text(f"[ui]\nnotify = {value}\n")
        assert load_config().ui.notify == channels, value


def test_what_each_transition_says() -> None:
    info: SessionInfo = {"limited_until": "14:00"}  # type: ignore[typeddict-item]
    say = notify.transition_text
    assert say(Activity.BUSY, Activity.WAITING, None) == "is waiting for you"
    assert say(Activity.IDLE, Activity.WAITING, None) == "is waiting for you"
    assert say(Activity.BUSY, Activity.IDLE, None) == "has finished"
    assert say(Activity.BUSY, Activity.LIMITED, info) == "reached its usage limit, resets at 14:00"
    assert say(Activity.BUSY, Activity.LIMITED, None) == "reached its usage limit"
    for old, new in ((Activity.STARTING, Activity.IDLE), (Activity.WAITING, Activity.WAITING),
                     (Activity.IDLE, Activity.BUSY), (Activity.BUSY, Activity.EXITED)):  # fmt: skip
        assert say(old, new, None) is None
