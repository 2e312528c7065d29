"""Whatever the read boundaries, the emulator ends in the same state.

The emulator takes fast paths for what arrives together (a line printed as one
run, many lines scrolled in one go, runs kept lazily until viewed) and careful
paths for what arrives a byte at a time. These tests feed the same bytes whole,
byte by byte and in random chunks, and require the same screen, styles, cursor,
scrollback and line-model updates. A seeded generator draws from the pieces the
fast paths care about: SGR, CR LF, wide and clustered characters, VS16, erase
(and CR + erase line, which collapses a spinner's frames),
scroll regions, insert mode, the alternate screen.
"""

from __future__ import annotations

import random

import pytest

from tui.term.emulator import Emulator
from tui.term.lines import Line

TOKENS = [
    "ab", "x", "yy", " ", "中", "⚠️", "⚠", "\ufe0f", "e\u0301", "🚀", "✅", "👍🏽", "🇩🇪",
    "\x1b[31m", "\x1b[0m", "\x1b[1;32m", "\x1b[38;5;200m", "\x1b[1;41m", "\x1b[48;5;3m",
    "\r\n", "\r\n", "\r\n", "\n", "\r", "\x08", "\t", "\r\r\n",
    "\r\x1b[2K", "\r\x1b[K", "\r\x1b[0K", "\r\x1b[1K", "\r\x1b[2K\x1b[36m⠋\x1b[0m W",
    "\x1b[2K", "\x1b[K", "\x1b[A", "\x1b[5G", "\x1b[H", "\x1b[2J",
    "\x1b[?1049h", "\x1b[?1049l", "\x1b[2;3r", "\x1b[r",
    "\x1b[3@", "\x1b[2P", "\x1b[L", "\x1b[M", "\x1b[S", "\x1b[T",
    "\x1b[4h", "\x1b[4l", "\x1b(0", "\x1b(B",
]  # fmt: skip
SIZES = [(10, 5), (20, 8), (6, 3), (7, 2), (1, 3)]
# Long lines wrapping (or not: ?7l) across narrow screens, with wide characters.
LINE_PIECES = ["ab", "中文", "x", "🚀", "yyyy", "漢", "⚠️", "e\u0301", "  ", "\x1b[31m",
               "\x1b[0m", "\x1b[?7l", "\x1b[?7h", "\x1b[41m", "\x1b[49m", "\r\x1b[2K",
               "\r\x1b[K"]  # fmt: skip


def _state(emulator: Emulator) -> tuple[str, tuple[int, int], list[Line], list[Line]]:
    return (
        emulator.render_ansi(),
        emulator.cursor,
        emulator.visible_lines(),
        emulator.history_lines(0, 10_000),
    )


def _feed_in_chunks(data: bytes, cols: int, rows: int, cuts: list[int]) -> Emulator:
    emulator = Emulator(cols=cols, rows=rows)
    start = 0
    for cut in [*cuts, len(data)]:
        emulator.feed(data[start:cut])
        start = cut
    return emulator


@pytest.mark.parametrize("seed", range(8))
def test_whole_and_split_feeds_agree(seed: int) -> None:
    rng = random.Random(seed)
    for trial in range(400):
        data = "".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 60))).encode()
        cols, rows = rng.choice(SIZES)
        whole = Emulator(cols=cols, rows=rows)
        whole.feed(data)
        byte_by_byte = _feed_in_chunks(data, cols, rows, list(range(1, len(data))))
        cuts = (
            sorted(rng.sample(range(1, len(data)), min(len(data) - 1, 4))) if len(data) > 1 else []
        )
        random_cuts = _feed_in_chunks(data, cols, rows, cuts)
        expected = _state(whole)
        assert _state(byte_by_byte) == expected, (seed, trial, data)
        assert _state(random_cuts) == expected, (seed, trial, data, cuts)
        assert whole.stream.errors == byte_by_byte.stream.errors == 0


@pytest.mark.parametrize("seed", range(4))
def test_wrapping_lines_agree_whatever_the_reads(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for trial in range(300):
        lines = [
            "".join(rng.choice(LINE_PIECES) for _ in range(rng.randrange(0, 30)))
            for _ in range(rng.randrange(1, 12))
        ]
        data = ("\r\n".join(lines) + "\r\n").encode()
        cols, rows = rng.choice([(5, 3), (7, 4), (10, 5), (3, 2), (1, 2)])
        whole = Emulator(cols=cols, rows=rows)
        whole.feed(data)
        byte_by_byte = _feed_in_chunks(data, cols, rows, list(range(1, len(data))))
        assert _state(byte_by_byte) == _state(whole), (seed, trial, data, cols, rows)
        whole.screen.materialize_all()
        byte_by_byte.screen.materialize_all()
        assert whole.screen.wrapped == byte_by_byte.screen.wrapped, (seed, trial, data)


def test_bulk_lines_match_line_by_line_with_scrollback() -> None:
    # Many complete lines in one read take the bulk path; one line per read does not.
    rng = random.Random(99)
    lines = []
    for _ in range(500):
        pieces = rng.choices(
            ["ab", "\x1b[31m", "中", "\x1b[0m", "  ", "⚠️", "x" * 30, "\r\x1b[2K", "\x1b[41m"], k=5
        )
        lines.append("".join(pieces))
    data = ("\r\n".join(lines) + "\r\n").encode()
    whole = Emulator(cols=40, rows=10, scrollback=200)
    whole.feed(data)
    by_line = Emulator(cols=40, rows=10, scrollback=200)
    for line in lines:
        by_line.feed(line.encode())
        by_line.feed(b"\r\n")
    assert whole.history_size == 200
    assert _state(whole) == _state(by_line)
