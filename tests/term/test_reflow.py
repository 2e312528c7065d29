"""Reflow on resize, against tmux: soft-wrapped lines rejoin and rewrap at the new width.

Each case prints a byte stream at one size, resizes through a list of sizes and
compares the whole scrollback plus screen with tmux 3.3a's (``capture-pane -S -``),
text row for row, colours and attributes cell for cell, and the cursor. tmux and
xterm both rewrap the main screen and its history; the alternate screen is not
reflowed (a full-screen program redraws on SIGWINCH).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tui.term.emulator import Emulator
from tui.term.lines import line_to_ansi

from .difftest import (
    Capture,
    compare,
    parse_sgr_screen,
    tmux_available,
    tmux_capture_resized,
)

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(not tmux_available(), reason="tmux is not installed (.ci/run installs it)"),
]

CSI = "\x1b["
ALPHABET = "".join(chr(ord("a") + i % 26) for i in range(400))


@dataclass(frozen=True)
class Case:
    id: str
    data: str
    cols: int
    rows: int
    sizes: tuple[tuple[int, int], ...]


def _lines(n: int, prefix: str = "l") -> str:
    return "\r\n".join(f"{prefix}{i}" for i in range(n))


CASES = [
    # The issue's own case: 110 characters at 120 columns, 120 -> 60 -> 120.
    Case("shrink_then_grow", f"first\r\n{ALPHABET[:110]}\r\nafter", 120, 10, ((60, 10), (120, 10))),
    Case("shrink", f"x\r\n{ALPHABET[:150]}\r\n{ALPHABET[:30]}\r\ny", 80, 8, ((33, 8),)),
    Case("grow", f"{ALPHABET[:100]}\r\n{ALPHABET[:45]}\r\nend", 40, 8, ((100, 8),)),
    Case(
        "cursor_inside_a_wrapped_line",
        f"top\r\n{ALPHABET[:70]}{CSI}1A{CSI}5G",
        50,
        6,
        ((20, 6), (90, 6)),
    ),
    Case(
        "through_the_scrollback",
        f"{ALPHABET[:90]}\r\n{_lines(14)}\r\n{ALPHABET[:75]}\r\nz",
        80,
        8,
        ((30, 8), (80, 8), (45, 8)),
    ),
    Case(
        "wide_characters",
        "中文字符" * 12 + "\r\nab中文" * 3 + "\r\nend",
        40,
        8,
        ((13, 8), (40, 8), (9, 8)),
    ),
    Case(
        "colours",
        f"{CSI}31mred {ALPHABET[:60]}{CSI}44m blue bg{CSI}0m plain{CSI}1m bold"
        f"{CSI}0m\r\n{CSI}32m{ALPHABET[:20]}{CSI}0m\r\nx",
        50,
        6,
        ((17, 6), (70, 6), (50, 6)),
    ),
    Case(
        "shrink_rows_and_columns",
        f"{_lines(6)}\r\n{ALPHABET[:60]}\r\nq",
        60,
        12,
        ((30, 6), (60, 12)),
    ),
    Case("cursor_past_the_text", "abcdef\r\nxyz\x1b[2;8H", 10, 3, ((4, 3), (10, 3))),
    Case("wide_character_at_the_new_edge", "ab中\r\nabc中", 6, 3, ((3, 3), (6, 3), (4, 3))),
    Case(
        "alternate_screen_is_not_reflowed",
        f"main {ALPHABET[:70]}\r\nm2{CSI}?1049h{CSI}H{ALPHABET[:70]}",
        80,
        6,
        ((40, 6),),
    ),
]


def _ptui(case: Case) -> tuple[str, str, tuple[int, int]]:
    """Text and SGR text of scrollback + screen after the resizes, and the cursor.

    In the alternate screen, the screen alone: tmux shows no history there.
    """
    emu = Emulator(cols=case.cols, rows=case.rows)
    emu.feed(case.data.encode())
    for size in case.sizes:
        emu.resize(*size)
    history = [] if emu.modes.alt_screen else emu.history_lines(0, emu.history_size)
    text = "".join(line.text.rstrip() + "\n" for line in history) + emu.render_text()
    ansi = "".join(line_to_ansi(line) + "\n" for line in history) + emu.render_ansi()
    return text, ansi, emu.cursor


def _tmux(case: Case) -> Capture:
    return tmux_capture_resized(case.data.encode(), case.cols, case.rows, list(case.sizes))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_reflow_matches_tmux(case: Case, captures: dict[str, Capture]) -> None:
    if case.id not in captures:
        captures[case.id] = _tmux(case)
    capture = captures[case.id]
    text, ansi, cursor = _ptui(case)
    ours = text.rstrip("\n").split("\n")
    theirs = capture.text.rstrip("\n").split("\n")
    assert ours == theirs
    width = case.sizes[-1][0]
    diffs = compare(parse_sgr_screen(ansi, width), parse_sgr_screen(capture.ansi, width))
    assert not diffs, "\n".join(diffs)
    # tmux leaves the cursor past a narrowed edge (in the alternate screen); the
    # cell it means is the last column.
    assert cursor == (min(capture.cursor[0], width - 1), capture.cursor[1])


def test_a_long_line_survives_shrink_and_grow() -> None:
    emu = Emulator(cols=120, rows=10)
    emu.feed(f"{ALPHABET[:110]}\r\n".encode())
    emu.resize(60, 10)
    # Two rows now; the screen keeps its blank rows, so the first went to history.
    assert emu.history_lines(0, 1)[0].text.rstrip() == ALPHABET[:60]
    assert emu.render_text().split("\n")[0] == ALPHABET[60:110]
    emu.resize(120, 10)
    assert emu.history_size == 0
    assert emu.render_text().split("\n")[0] == ALPHABET[:110]
    assert emu.cursor == (0, 1)


def test_the_main_screen_is_reflowed_behind_the_alternate_one() -> None:
    emu = Emulator(cols=80, rows=6)
    emu.feed(f"main {ALPHABET[:70]}\r\nm2{CSI}?1049h{CSI}Halt".encode())
    emu.resize(40, 6)
    emu.resize(30, 6)
    assert emu.render_text().split("\n")[0] == "alt"
    emu.feed(f"{CSI}?1049l!".encode())
    whole = f"main {ALPHABET[:70]}"
    history = [line.text.rstrip() for line in emu.history_lines(0, emu.history_size)]
    screen = emu.render_text().split("\n")
    assert history + screen[:2] == [whole[:30], whole[30:60], whole[60:], "m2!"]
    # DECRC restored the cursor saved on entering, moved along with its row.
    assert emu.cursor == (3, screen.index("m2!"))
