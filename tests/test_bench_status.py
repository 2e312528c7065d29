"""`ptui bench status`: a recording replayed in virtual time through emulator,
rules and engine gives the labelled statuses, and says when it does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tui.bench import status_bench

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def write_cast(folder: Path, name: str, events: list[list[object]], labels: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    header = {
        "version": 2,
        "width": 60,
        "height": 10,
        "ptui": {"agent": "claude", "agent_version": "2.0.0", "synthetic": False},
    }
    lines = [json.dumps(header)] + [json.dumps(e, ensure_ascii=False) for e in events]
    (folder / f"{name}.cast").write_text("\n".join(lines) + "\n")
    (folder / f"{name}.labels.toml").write_text(labels)


def claude_session() -> list[list[object]]:
    """Claude Code working (title spinner), then a permission question, then exit."""
    events: list[list[object]] = [[0.2, "o", "\x1b[2J\x1b[H╭──╮\r\n│ > │\r\n╰──╯"]]
    t = 1.0
    for i in range(20):  # two seconds of spinner in the title
        events.append([round(t, 2), "o", f"\x1b]0;{SPINNER[i % 10]} Fixing tests\x07"])
        t += 0.1
    events.append([3.0, "o", "\x1b]0;✳ Claude Code\x07\x1b[5;1HDo you want to proceed?"])
    events.append([3.1, "o", "\r\n❯ 1. Yes"])
    events.append([5.0, "i", "1"])
    events.append([6.0, "m", "exit:0"])
    return events


LABELS = """
agent = "claude"
[[moment]]
since = 1.0
at = 2.0
status = "busy"
what = "title spinner"
[[moment]]
since = 3.0
at = 4.0
status = "waiting"
what = "permission question"
[[moment]]
since = 6.0
at = 6.5
status = "exited"
what = "gone"
"""


def test_a_recording_replays_to_its_labels(tmp_path: Path) -> None:
    write_cast(tmp_path / "claude", "work", claude_session(), LABELS)
    figures = status_bench.run(tmp_path)
    assert figures["real"]["moments"] == 3
    assert figures["accuracy"] == 1.0, figures["wrong"]
    assert figures["agents"]["claude"]["real"]["accuracy"] == 1.0
    # The question is decided by the first look after its bytes: LOOK_DELAY.
    assert figures["latency_ms"]["max"] is not None and figures["latency_ms"]["max"] <= 300


def test_a_wrong_label_is_reported_with_the_engines_reason(tmp_path: Path) -> None:
    wrong = LABELS.replace('status = "waiting"', 'status = "idle"')
    write_cast(tmp_path / "claude", "work", claude_session(), wrong)
    figures = status_bench.run(tmp_path)
    [miss] = figures["wrong"]
    assert miss["want"] == "idle" and miss["got"] == "waiting"
    assert "claude.do-you-want" in miss["reason"] or "numbered-yes" in miss["reason"]
    text = status_bench.report(figures)
    assert "wrong: work.cast at 4.00s: want idle, got waiting" in text


def test_the_cli_prints_json_and_fails_on_a_wrong_real_moment(tmp_path: Path) -> None:
    write_cast(tmp_path / "claude", "work", claude_session(), LABELS)
    ok = subprocess.run(
        [sys.executable, "-m", "tui", "bench", "status", "--corpus", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["accuracy"] == 1.0
    (tmp_path / "claude" / "work.labels.toml").write_text(LABELS.replace("busy", "idle"))
    bad = subprocess.run(
        [sys.executable, "-m", "tui", "bench", "status", "--corpus", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "want idle, got busy" in bad.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "tui", "bench", "status", "--corpus", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert (
        missing.stderr.strip()
        == f"ptui: error: no corpus at {tmp_path / 'nope'} (pass --corpus DIR)"
    )
