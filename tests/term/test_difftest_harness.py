"""Unit tests of the differential-test harness (difftest.py) on hand-made input."""

from __future__ import annotations

import pytest

from .difftest import (
    DEFAULT,
    Cell,
    compare,
    parse_sgr_screen,
    screen_text,
    shutdown_tmux,
    tmux_available,
    tmux_capture,
)

ESC = "\x1b"


def row(ansi: str, cols: int = 10) -> list[Cell]:
    """Parse a one-row capture."""
    return parse_sgr_screen(ansi + "\n", cols)[0]


def test_plain_text_is_padded_to_width() -> None:
    cells = row("ab", cols=4)
    assert [c.char for c in cells] == ["a", "b", " ", " "]
    assert all(c.fg == DEFAULT and c.bg == DEFAULT and not c.attrs for c in cells)
    assert [c.reported for c in cells] == [True, True, False, False]


def test_rows_are_cut_at_width() -> None:
    assert [c.char for c in row("abcdef", cols=3)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("sgr", "fg", "bg"),
    [
        ("31", "16:1", DEFAULT),
        ("97", "16:15", DEFAULT),
        ("44", DEFAULT, "16:4"),
        ("103", DEFAULT, "16:11"),
        ("38;5;1", "256:1", DEFAULT),
        ("48;5;200", DEFAULT, "256:200"),
        ("38:5:17", "256:17", DEFAULT),
        ("38;2;10;20;30", "rgb:0a141e", DEFAULT),
        ("38:2::10:20:30", "rgb:0a141e", DEFAULT),
        ("38:2:10:20:30", "rgb:0a141e", DEFAULT),
        ("48:2::255:0:128", DEFAULT, "rgb:ff0080"),
        ("31;44", "16:1", "16:4"),
        ("38;5;1;48;2;1;2;3", "256:1", "rgb:010203"),
    ],
)
def test_colours_keep_their_encoding(sgr: str, fg: str, bg: str) -> None:
    cell = row(f"{ESC}[{sgr}mX")[0]
    assert (cell.fg, cell.bg) == (fg, bg)


def test_attributes_on_and_off() -> None:
    cells = row(f"{ESC}[1;2;3;4;5;7;9mA{ESC}[22mB{ESC}[23;24;25mC{ESC}[27;29mD{ESC}[mE")
    assert cells[0].attrs == {"bold", "dim", "italic", "underline", "blink", "reverse", "strike"}
    assert cells[1].attrs == {"italic", "underline", "blink", "reverse", "strike"}
    assert cells[2].attrs == {"reverse", "strike"}
    assert cells[3].attrs == set()
    assert cells[4] == Cell("E")


def test_underline_styles_are_distinct() -> None:
    cells = row(f"{ESC}[4:3mA{ESC}[4:0mB{ESC}[21mC{ESC}[4mD")
    assert cells[0].attrs == {"curly-underline"}
    assert cells[1].attrs == set()
    assert cells[2].attrs == {"double-underline"}
    assert cells[3].attrs == {"underline"}


def test_sgr_reset_and_empty_params() -> None:
    cells = row(f"{ESC}[31;1mA{ESC}[0mB{ESC}[31m{ESC}[mC{ESC}[;32mD")
    assert cells[0] == Cell("A", "16:1", DEFAULT, frozenset({"bold"}))
    assert (cells[1], cells[2]) == (Cell("B"), Cell("C"))
    assert cells[3].fg == "16:2"


def test_non_sgr_sequences_are_skipped() -> None:
    cells = row(f"a{ESC}]0;title\x07b{ESC}[?1mc{ESC}[2Kd{ESC}(Be")
    assert [c.char for c in cells[:5]] == list("abcde")
    assert not cells[2].attrs


def test_wide_characters_take_two_cells() -> None:
    cells = row(f"中{ESC}[31m文x", cols=6)
    assert [c.char for c in cells] == ["中", "", "文", "", "x", " "]
    assert cells[3].fg == "16:1"


def test_zero_width_joins_previous_cell() -> None:
    cells = row("e\u0301中\u0301⚠\ufe0f")
    assert cells[0].char == "e\u0301"
    assert cells[1].char == "中\u0301" and cells[2].char == ""
    assert cells[3].char == "⚠\ufe0f"


def test_state_carries_across_rows_like_tmux() -> None:
    # tmux's capture-pane -e emits changes only, also across row ends.
    rows = parse_sgr_screen(f"{ESC}[44ma\nb{ESC}[0m\nc\n", 3)
    assert rows[0][0].bg == rows[1][0].bg == "16:4"
    assert rows[2][0].bg == DEFAULT


def test_so_si_map_dec_graphics() -> None:
    rows = parse_sgr_screen("\x0elqk\x0fq\n\x0ex\n", 4)
    assert screen_text(rows) == ["┌─┐q", "│"]


def test_compare_reports_differences() -> None:
    ours = parse_sgr_screen("ab\ncd\n", 4)
    theirs = parse_sgr_screen(f"a{ESC}[31mb{ESC}[0m\ncx\n", 4)
    assert compare(ours, theirs) == [
        "row 0 col 1: ours 'b' vs tmux 'b' fg=16:1",
        "row 1 col 1: ours 'd' vs tmux 'x'",
    ]


def test_compare_limits_its_output() -> None:
    diffs = compare(parse_sgr_screen("abcdef\n", 6), parse_sgr_screen("uvwxyz\n", 6), limit=2)
    assert len(diffs) == 3 and diffs[-1] == "... and 4 more differing cells"


def test_compare_ignores_trailing_blanks_and_unreported_erase() -> None:
    ours = parse_sgr_screen(f"ab{ESC}[44m  \n", 6)  # erased with a background
    theirs = parse_sgr_screen("ab\n", 6)  # tmux reports nothing past 'b'
    assert compare(ours, theirs) == []
    # A reported default-background cell does not match a coloured one.
    theirs_reported = parse_sgr_screen("ab  \n", 6)
    assert compare(ours, theirs_reported)[0].startswith("row 0 col 2")


def test_compare_sees_visible_blanks() -> None:
    ours = parse_sgr_screen(f"a{ESC}[7m \n", 3)
    theirs = parse_sgr_screen("a\n", 3)
    assert compare(ours, theirs) == ["row 0 col 1: ours ' ' reverse vs tmux ' '"]


@pytest.mark.tmux
@pytest.mark.skipif(not tmux_available(), reason="tmux is not installed (.ci/run installs it)")
def test_tmux_capture_round_trip() -> None:
    try:
        cap = tmux_capture(b"ab\x1b[31mc\x1b[0m\r\n\xe4\xb8\xad\nx", cols=20, rows=3)
        # Raw bytes reach the pane: LF is not turned into CRLF.
        assert cap.text == "abc\n中\n  x\n"
        assert cap.cursor == (3, 2)
        cells = parse_sgr_screen(cap.ansi, 20)
        assert cells[0][2] == Cell("c", "16:1")
        big = tmux_capture(b"y" * 30, cols=30, rows=2)
        assert big.text == "y" * 30 + "\n\n"
        assert big.cursor == (30, 0)  # tmux: one past the edge while wrap is pending
    finally:
        shutdown_tmux()
