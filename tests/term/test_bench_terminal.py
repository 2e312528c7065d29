"""`ptui bench terminal` runs end to end and reports every figure the issue asks for.

Not a timed test: the figures are only checked to be there and sane, so the
benchmark command cannot silently break.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

PTUI = str(Path(sys.executable).with_name("ptui"))


@pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
)
def test_bench_terminal_json_beside_tmux() -> None:
    result = subprocess.run(
        [PTUI, "bench", "terminal", "--vs-tmux", "--json", "--mb", "0.2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for workload in ("agent", "redraw"):
        entry = report[workload]
        assert entry["mb_s"] > 0 and entry["tmux_mb_s"] > 0
        # The ratio is the median of paired runs' ratios (the machine's speed drifts).
        assert len(entry["run_ratios"]) == 5
        assert entry["ratio"] == statistics.median(entry["run_ratios"])
        assert min(entry["run_ratios"]) > 0
    assert 0 < report["scrollback_bytes_per_line"] <= 2048
    assert report["tmux_scrollback_bytes_per_line"] != 0
    assert report["frame_to_lines_ms"] > 0
    assert report["frame_to_strips_ms"] > 0
    assert (
        report["frame_total_ms"]
        >= report["frame_to_strips_ms"] + report["frame_to_lines_ms"] - 0.002
    )


def test_bench_terminal_rejects_a_missing_workload_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [PTUI, "bench", "terminal", "--workload", str(tmp_path / "nope.bin")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("ptui: error:")
    assert len(result.stderr.strip().splitlines()) == 1
