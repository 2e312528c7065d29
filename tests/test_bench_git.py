"""`ptui bench git` runs end to end on a small scratch repo and reports both sides."""

from __future__ import annotations

import json

import pytest

from tui.bench.git_bench import run
from tui.cli import main
from tui.errors import UsageError


def test_json_figures_for_both_measures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "git", "--files", "30", "--repeat", "2", "--json"]) == 0
    captured = capsys.readouterr()
    figures = json.loads(captured.out)
    assert set(figures) == {"create", "diff_stat"}
    for row in figures.values():
        assert set(row) == {"ptui_ms", "git_ms", "ratio"}
        assert row["ptui_ms"] > 0 and row["git_ms"] > 0
        assert row["ratio"] == pytest.approx(row["ptui_ms"] / row["git_ms"], rel=0.05)
    # Progress goes to stderr, never into the JSON.
    assert "timing" in captured.err
    assert "warning" not in captured.err  # ptui's and git's totals agreed


def test_table_names_the_anchors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(files=10, repeat=1) == 0
    out = capsys.readouterr().out
    assert "create" in out and "diff stat" in out
    assert "git worktree add -b" in out and "git diff --stat" in out
    assert out.count("x  ") == 2  # one ratio per measure


@pytest.mark.parametrize(("files", "repeat"), [(0, 3), (10, 0)])
def test_bad_arguments_are_usage_errors(files: int, repeat: int) -> None:
    with pytest.raises(UsageError):
        run(files=files, repeat=repeat)
