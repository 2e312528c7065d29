"""`ptui bench ui`: reading the probe's timestamp log, and the figures table."""

from __future__ import annotations

from tui.bench.ui_bench import _echo_time, _switch_time, _table

EVENTS = [
    [1.000, "start"],
    [1.100, "frame", None],
    [2.000, "key", "alt+2"],
    [2.004, "show", "b"],
    [2.010, "feed", "a", False],  # the old session's last update: not the switch
    [2.012, "frame", "a"],
    [2.015, "feed", "b", True],
    [2.020, "frame", "b"],
    [3.000, "key", "x"],
    [3.001, "feed", "b", False],
    [3.003, "frame", "b"],
]


def test_switch_runs_from_the_key_to_the_frame_drawing_the_new_screen() -> None:
    took, session, parts = _switch_time(EVENTS, 1) or (0.0, "", [])
    assert session == "b"
    assert round(took, 6) == 0.020
    assert [round(p, 6) for p in parts] == [0.004, 0.011, 0.005]
    assert _switch_time(EVENTS[:7], 1) is None  # no frame yet: not complete


def test_echo_runs_from_the_key_to_the_frame_after_the_update() -> None:
    assert round(_echo_time(EVENTS, 8, "b") or 0, 6) == 0.003
    assert _echo_time(EVENTS[:10], 8, "b") is None


def test_table_marks_targets() -> None:
    text = _table(
        {
            "first_frame_ms": 420.0,
            "switch_median_ms": 30.0,
            "echo_median_ms": 2.0,
            "host_echo_median_ms": 1.0,
            "echo_ratio": 2.0,
            "flood_fps": 59.0,
            "first_any_frame_ms": 400.0,
            "minimal_textual_first_frame_ms": 250.0,
            "first_frame_runs_ms": [420, 431],
            "minimal_textual_runs_ms": [250, 262],
            "switch_parts_median_ms": {"key_to_show": 1.0},
        }
    )
    assert "a minimal Textual app's, same run: 250 ms" in text
    assert "each start, ptui/minimal, ms: 420/250, 431/262" in text
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    assert lines["time to first frame (ms)"].endswith("<= 500  ok")
    assert lines["session switch, median (ms)"].endswith("<= 17  MISSED")
    assert lines["frames/s, another session flooding"].endswith(">= 30  ok")
