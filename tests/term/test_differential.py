"""Differential tests: ptui's emulator against tmux, cell for cell.

Every case is a byte stream: recordings of real programs (``corpus/*.bin``,
replayed whole and cut at each checkpoint, see ``corpus/README.md``) and
synthetic sequences defined below. Each is fed to ``tui.term.emulator.Emulator``
and to a tmux pane of the same size; the text must match row for row, colours
and attributes cell for cell, and the cursor must be in the same place.

Known, intended divergences are listed in ``INTENDED_DIFFERENCES`` with the
reason; the harness normalises exactly that difference and checks the rest.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tui.term.emulator import Emulator

from .difftest import (
    Capture,
    Cell,
    compare,
    parse_sgr_screen,
    screen_text,
    tmux_available,
    tmux_capture,
)

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(not tmux_available(), reason="tmux is not installed (.ci/run installs it)"),
]

CORPUS = Path(__file__).parent / "corpus"
ESC = "\x1b"
CSI = "\x1b["


@dataclass(frozen=True)
class Case:
    """One byte stream and the screen size to replay it at."""

    id: str
    data: bytes
    cols: int = 80
    rows: int = 24


# ---------------------------------------------------------------------------
# Synthetic cases


def _fill(rows: int = 24, cols: int = 80) -> str:
    """Fill the screen with distinct printable rows (``CUP`` each, no scrolling)."""
    out = []
    for y in range(rows):
        letter = chr(ord("A") + y % 26)
        out.append(f"{CSI}{y + 1}H" + "".join(f"{letter}{x % 10}"[x % 2] for x in range(cols)))
    return "".join(out)


def _synthetic() -> list[Case]:
    """The synthetic sequences, each a focused scenario."""
    s: dict[str, str | tuple[str, int, int]] = {}

    # Cursor movement and clamping.
    s["cup_clamp"] = (
        f"{CSI}0;0HA{CSI}999;999HB{CSI}12;40HC{CSI}99AD{CSI}99BE{CSI}99CF{CSI}99DG"
        f"{CSI}5;5H{CSI}3Ce{CSI}2Bf{CSI}Ag{CSI}Dh{CSI}20Gi{CSI}7dj{CSI}2Ek{CSI}Fl"
        f"{CSI}10;10f{CSI}2`m{CSI}Hp"
    )
    s["hpr_vpr"] = f"{CSI}3;1Hm{CSI}3an{CSI}2eo"
    # ctlseqs: a parameter is its decimal value, leading zeros and all; it was cut
    # to nine characters before the zeros were dropped (row 4 became the home row).
    # ctlseqs lists these finals only bare; with a private marker or an intermediate
    # they are other sequences, ignored when unknown (they ran as CUP, CUF, ECH, ED 2).
    s["dispatch_on_the_whole_sequence"] = (
        f"{_fill()}{CSI}5;5H{CSI}?3;4Ha{CSI}>3Cb{CSI}?2Xc{CSI}2$Cd{CSI}2$Je{CSI}?3Kf"
        f"{CSI}>2Jg{CSI}=1Ah"
    )
    # (tmux drops a sequence whose parameters pass 64 bytes, which xterm does not:
    # longer runs of zeros are held to xterm in tests/term/test_emulator.py.)
    s["params_leading_zeros"] = (
        f"{_fill()}{CSI}00000000004;00000000001HX{CSI}0000000000005CY"
        f"{CSI}000000000000012;000000000000040HZ{CSI}0000000000003BW"
    )
    # Williams' parser model, which xterm and tmux follow: a C0 control inside a
    # sequence runs in place and the sequence goes on; ESC restarts it, CAN and SUB
    # abort it; ESC that is not ST abandons an OSC; a DCS ends only at ST.
    s["controls_inside_sequences"] = (
        f"{_fill()}{CSI}3;1HA{CSI}2\x08CX{CSI}4;1HABCD{CSI}2\rCX"
        f"{CSI}5;1Hx{CSI}2{CSI}3Cy{CSI}6;1Hx{CSI}2\x18Cy{CSI}7;1Hx{CSI}2\x1aCy"
        f"{CSI}8;1H{ESC}(\r0qq{ESC}(B{CSI}9;1H{ESC}]2;abc{CSI}1CX"
        f"{CSI}10;1Ha{ESC}P1;2\x07zz{ESC}\\b{CSI}11;5H{CSI}1\x7f;\x0b2Hz"
        f"{CSI}12;1Hx{CSI}2$3Cy{CSI}13;1Hx{ESC}]0;t\x08i\x07y"
    )
    s["cursor_controls"] = (
        "one\r\ntwo\x08\x08X\ttab\x0bvt\x0cff\r\nbs at col 0:\r\x08\x08Z"
        f"{ESC}Dind{ESC}Enel{ESC}Mri{CSI}H{ESC}M{ESC}Mtop\x07bell\x00nul"
    )
    # Erase in display / line, every mode, with a background colour (BCE).
    for mode in ("", "0", "1", "2", "3"):
        s[f"ed{mode or '_default'}"] = f"{_fill()}{CSI}12;40H{CSI}44m{CSI}{mode}J{CSI}0mX"
    for mode in ("", "0", "1", "2"):
        s[f"el{mode or '_default'}"] = f"{_fill()}{CSI}12;40H{CSI}41m{CSI}{mode}K{CSI}0mX"
    s["el_invalid_mode"] = f"{_fill()}{CSI}5;5H{CSI}5Kok"
    s["ed_invalid_mode"] = f"{_fill()}{CSI}5;5H{CSI}7Jok"
    s["hvp_extra_params"] = f"{_fill()}{CSI}5;5H{CSI}1;2;3;4fok"
    s["el_at_pending_wrap"] = (
        f"{CSI}7m{'x' * 80}{CSI}0m{CSI}K{CSI}3;1H{CSI}7m{'y' * 80}{CSI}0m{CSI}J"
    )
    # Insert / delete / erase characters and lines.
    s["ich"] = f"{_fill()}{CSI}3;10H{CSI}4@{CSI}4;70H{CSI}2@{CSI}5;1H{CSI}@{CSI}6;80H{CSI}5@"
    s["ich_near_end"] = f"{_fill()}{CSI}4;78H{CSI}2@{CSI}5;78H{CSI}9@{CSI}6;5H{CSI}999@x"
    s["dch"] = f"{_fill()}{CSI}3;10H{CSI}4P{CSI}4;78H{CSI}9P{CSI}5;1H{CSI}P{CSI}6;5H{CSI}999P"
    s["ech"] = f"{_fill()}{CSI}3;10H{CSI}4X{CSI}4;78H{CSI}9X{CSI}42m{CSI}5;5H{CSI}3X{CSI}0m"
    s["il_dl"] = (
        f"{_fill()}{CSI}3;10H{CSI}2L{CSI}10;1H{CSI}3M{CSI}24;1H{CSI}L{CSI}1;1H{CSI}M"
        f"{CSI}45m{CSI}15;1H{CSI}2L{CSI}0m{CSI}20H{CSI}99M"
    )
    s["rep"] = f"a{CSI}5bX{CSI}b\r\n{CSI}31mz{CSI}10b{CSI}0m"
    s["rep_wide"] = f"中{CSI}3b|"
    s["rep_overflow"] = f"{CSI}31mz{CSI}100b{CSI}0m"
    # Tabs: default stops, HTS, TBC, CHT, CBT.
    s["tabs"] = (
        "a\tb\tc\r\n"
        f"{CSI}3g{CSI}1;5H{ESC}H{CSI}1;13H{ESC}H{CSI}2;1Hx\ty\tz\tw\r\n"
        f"{CSI}3;1H\t\tq{CSI}Zr{CSI}g{CSI}4;1H\t\t\tend"
        f"{CSI}5;70H\t\t\tlast{CSI}6;1H{CSI}3Z!"
    )
    s["tabs_cht"] = f"{CSI}3;1H{CSI}2Iq{CSI}4;1H{CSI}99I!"
    # Autowrap and the pending-wrap state.
    line80 = "".join(str(i % 10) for i in range(80))
    s["autowrap"] = f"{line80}wrapped\r\n{line80}\rCR-cancels\r\n{line80}\x08B\r\n{line80}"
    s["autowrap_off"] = f"{CSI}?7l{line80}overwrite\r\n{CSI}?7habc"
    s["autowrap_scroll"] = f"{CSI}24;1H{line80}{line80}tail"
    s["pending_wrap_cursor"] = f"{CSI}3;1H{line80}"
    # Origin mode with a scroll region.
    s["origin_mode"] = (
        f"{_fill()}{CSI}5;15r{CSI}?6h{CSI}1;1Horigin{CSI}99;99HZ{CSI}3;3H{CSI}6n"
        f"{CSI}?6l{CSI}1;1Hhome{CSI}r"
    )
    # Alternate screen and cursor save/restore.
    s["altscreen_roundtrip"] = (
        f"main {CSI}32mgreen{CSI}0m{CSI}5;10Hcursor"
        f"{CSI}?1049h{CSI}44malt screen text{CSI}10;10Hmore"
        f"{CSI}?1049lback"
    )
    s["altscreen_left_open"] = f"main{CSI}3;3H{CSI}?1049h{CSI}2J{CSI}H{CSI}1malt{CSI}0m"
    s["altscreen_47"] = f"main{CSI}?47halt47{CSI}?47lx"
    s["decsc_decrc"] = (
        f"{CSI}5;5H{CSI}1;31m{ESC}7{CSI}0m{CSI}20;20Hplain{ESC}8restored"
        f"{CSI}10;10H{CSI}s{CSI}1;1H{CSI}u{CSI}4mcsi-u{CSI}0m{ESC}8again"
    )
    # SGR: 16 colours, 256, truecolour in both forms, attributes.
    s["sgr_16"] = "".join(
        f"{CSI}{fg}m{CSI}{bg}mX"
        for fg in [*range(30, 38), *range(90, 98), 39]
        for bg in [*range(40, 48), *range(100, 108), 49]
    )
    s["sgr_256"] = "".join(
        f"{CSI}38;5;{n}m{CSI}48;5;{255 - n}m{n % 10}" + ("\r\n" if n % 32 == 31 else "")
        for n in range(256)
    )
    s["sgr_256_vs_16"] = f"{CSI}31mA{CSI}38;5;1mB{CSI}91mC{CSI}38;5;9mD{CSI}48;5;4mE{CSI}44mF"
    s["sgr_truecolour"] = (
        f"{CSI}38;2;255;128;0mA{CSI}48;2;0;0;139mB{CSI}0m"
        f"{CSI}38:2::10:20:30mC{CSI}48:2::40:50:60mD{CSI}0m"
        f"{CSI}38:2:70:80:90mE{CSI}38:5:200mF{CSI}48:5:17mG{CSI}0m"
        f"{CSI}38;2;1;2;3;1mH{CSI}0m"
    )
    s["sgr_attrs"] = (
        f"{CSI}1mbold{CSI}0m {CSI}2mdim{CSI}0m {CSI}3mitalic{CSI}0m "
        f"{CSI}4munder{CSI}0m {CSI}5mblink{CSI}0m {CSI}7mreverse{CSI}0m "
        f"{CSI}9mstrike{CSI}0m {CSI}1;2;3;4;5;7;9mall{CSI}22mnb{CSI}23mni{CSI}24mnu"
        f"{CSI}25mnk{CSI}27mnr{CSI}29mns{CSI}m plain\r\n"
        f"{CSI}1;2mbd{CSI}22mx {CSI}7;31;42mrev-col{CSI}27mnorev{CSI}39;49mdef"
        f"{CSI}1;31mboldred{CSI}0m{CSI}mempty{CSI};31mdefault-param"
    )
    s["sgr_underline_styles"] = f"{CSI}4:3mcurly{CSI}4:0mnone{CSI}21mdouble{CSI}24mx"
    s["sgr_modify_other_keys"] = f"{CSI}>4;1mnot bold{CSI}>4mplain"
    s["sgr_private_question"] = f"{CSI}?1mnot bold"
    # Wide characters: at the last column, half-overwritten, erased, inserted.
    s["wide_last_column"] = ("a" * 79) + "中文" + f"{CSI}3;80H字"
    s["wide_overwrite"] = (
        "中文字符\r\n中文字符\r\n中文字符"
        f"{CSI}1;2Hx{CSI}2;3Hy{CSI}3;3H{CSI}K{CSI}4;1H中文{CSI}4;2H{CSI}2@"
        f"{CSI}5;1H中文{CSI}5;2H{CSI}P{CSI}6;1H中中{CSI}D中"
    )
    s["unicode_clusters"] = (
        "⚠️ Warning\r\n👨‍👩‍👧 family\r\n🇫🇷🇯🇵 flags\r\ne\u0301 a\u0308 n\u0303o\r\n"
        "\u0301start\r\n中\u0301wide"
    )
    s["zero_width_space"] = "zw\u200bsp"
    # Insert mode.
    s["insert_mode"] = f"{_fill()}{CSI}3;5H{CSI}4hINS{CSI}4l{CSI}4;78H{CSI}4habc{CSI}4l"
    s["insert_mode_wrap"] = f"{_fill()}{CSI}4;78H{CSI}4habcdef{CSI}4l"
    # DEC special graphics.
    s["dec_graphics"] = (
        f"{ESC}(0lqwqk\r\nx`ax\r\ntqnqu\r\nmqvqj{ESC}(B ascii\r\n"
        f"{ESC})0\x0elqk\x0fabc\x0ex\x0f{ESC}(0fg~{ESC}(B"
    )
    s["dec_graphics_table"] = f"{ESC}(0{''.join(chr(c) for c in range(0x5F, 0x7F))}{ESC}(B"
    # Scroll regions: LF / RI at the edges, SU / SD, IL / DL inside and outside.
    s["scroll_region"] = (
        f"{_fill()}{CSI}5;10r{CSI}10;1H\n\nlf{CSI}5;1H{ESC}M{ESC}Mri"
        f"{CSI}2S{CSI}T{CSI}46m{CSI}S{CSI}0m{CSI}7;1H{CSI}2L{CSI}8;1H{CSI}M"
        f"{CSI}r"
    )
    s["il_dl_outside_region"] = f"{_fill()}{CSI}5;10r{CSI}20;1H{CSI}2L{CSI}2M{CSI}r"
    s["il_dl_cursor_column"] = f"{_fill()}{CSI}5;10H{CSI}2Lil{CSI}8;7H{CSI}Mdl"
    s["scroll_su_sd_full"] = f"{_fill()}{CSI}3S{CSI}2T{CSI}H{CSI}99T"
    s["scrolling_output"] = "".join(f"line {i}\r\n" for i in range(60)) + "end"
    # Spinners redraw a line with CR + erase line; a background colour set by a
    # frame paints the erase; a frame too wide for the row wraps before the CR.
    s["spinner_frames"] = (
        "".join(f"{CSI}3{i % 8}m|{CSI}0m step {i}\r{CSI}2K" for i in range(12))
        + (
            f"{CSI}32mdone{CSI}0m\r\r\nnext{CSI}41m\r{CSI}Kred{CSI}0m\r\n"
            f"{'w' * 100}\r{CSI}2Kwrapped\r\n{CSI}1mbold\r{CSI}0Kplain\r\n"
        )
        + "".join(f"{CSI}36m-{CSI}0m {i}%\r{CSI}K" for i in range(5))
        + "kept\r\n"
    )
    s["unknown_sequences"] = (
        f"a{ESC}]0;title\x07b{ESC}]8;;http://x\x1b\\link{ESC}]8;;\x1b\\c"
        f"{ESC}P1$r0m{ESC}\\d{ESC}_apc{ESC}\\e{CSI}?2026hf{CSI}?2026l"
        f"{CSI}>1u{CSI}<u{CSI}2 qg{CSI}!ph"
    )
    s["decaln"] = f"{ESC}#8{CSI}5;5Hx"
    # Small screens make edge cases cheap to read.
    s["small_wrap_wide"] = ("ab中" * 6, 9, 4)
    s["small_scroll"] = ("".join(f"{i}\r\n" for i in range(10)) + f"{CSI}2;3r{CSI}3;1H\nx", 10, 4)

    cases = []
    for name, value in s.items():
        text, cols, rows = value if isinstance(value, tuple) else (value, 80, 24)
        cases.append(Case(name, text.encode(), cols, rows))
    return cases


def _corpus() -> list[Case]:
    """Each recording whole, and cut at each checkpoint (see corpus/README.md)."""
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    cases = []
    for name, entry in sorted(manifest.items()):
        data = (CORPUS / f"{name}.bin").read_bytes()
        cols, rows = entry["cols"], entry["rows"]
        for i, offset in enumerate(entry["checkpoints"]):
            if offset < len(data):
                cases.append(Case(f"{name}@{i}", data[:offset], cols, rows))
        cases.append(Case(name, data, cols, rows))
    return cases


CASES = _corpus() + _synthetic()

# ---------------------------------------------------------------------------
# Intended differences


@dataclass
class Screens:
    """Both sides of one case, as the test compares them."""

    ours_text: list[str]
    tmux_text: list[str]
    ours_cells: list[list[Cell]]
    tmux_cells: list[list[Cell]]
    ours_cursor: tuple[int, int]
    tmux_cursor: tuple[int, int]


GLOBAL_DIFFERENCES: dict[str, str] = {
    "pending wrap cursor": "after a character lands in the last column tmux reports "
    "cursor_x = width (its cursor sits past the edge); xterm and ptui keep the cursor "
    "on the last column with a wrap-pending flag, as DSR reports. tmux's x is clamped.",
    "palette colours": "ptui keeps one palette index 0-255, so 38;5;N for N < 16 renders "
    "as 30-37/90-97 (the same xterm palette entry); tmux keeps the encoding. Compared "
    "as equal.",
    "DEC graphics text": "tmux stores ESC(0 line drawing as the ASCII letter plus a "
    "charset flag, so capture-pane -p prints 'q' for '─'; the harness takes tmux's text "
    "from the -e capture, which marks those cells (SO/SI), and maps them like xterm.",
    "erased background": "capture-pane stops at the last cell ever written on a line, so "
    "cells erased with a background colour (BCE) past it are not reported; there, "
    "ours may be a blank with any background (difftest.compare).",
}
"""Differences applied to every case (by ``_screens`` and ``difftest``)."""


def _set_tmux_row(s: Screens, y: int, ansi: str) -> None:
    """Replace tmux's row ``y`` with ``ansi`` (text with SGR codes): what xterm shows."""
    s.tmux_cells[y] = parse_sgr_screen(ansi, len(s.tmux_cells[y]))[0]
    s.tmux_text[y] = screen_text([s.tmux_cells[y]])[0]


def _rows(cursor: tuple[int, int] | None = None, **rows: str) -> Callable[[Screens], None]:
    """A normaliser setting tmux's rows (``r3="..."``, SGR allowed) and cursor to xterm's."""

    def normalise(s: Screens) -> None:
        for key, text in rows.items():
            _set_tmux_row(s, int(key[1:]), text)
        if cursor is not None:
            s.tmux_cursor = cursor

    return normalise


def _plain_last_cell(y: int) -> Callable[[Screens], None]:
    """tmux keeps the reverse-video last cell that xterm's EL at pending wrap erased."""

    def normalise(s: Screens) -> None:
        s.tmux_cells[y][-1] = Cell()

    return normalise


def _fill_row(y: int, cols: int = 80) -> str:
    """Row ``y`` of ``_fill()``."""
    letter = chr(ord("A") + y % 26)
    return "".join(f"{letter}{x % 10}"[x % 2] for x in range(cols))


def _drop_zwsp(s: Screens) -> None:
    s.tmux_text = [t.replace("\u200b", "") for t in s.tmux_text]
    s.tmux_cells = [
        [replace(c, char=c.char.replace("\u200b", "")) for c in row] for row in s.tmux_cells
    ]


INTENDED_DIFFERENCES: dict[str, str] = {
    "hpr_vpr": "tmux 3.3a does not implement HPR (CSI a) or VPR (CSI e); xterm does.",
    "tabs_cht": "tmux 3.3a does not implement CHT (CSI I); xterm does.",
    "ich_near_end": "tmux 3.3a: ICH near the right edge goes wrong (a count >= the columns "
    "left does nothing, 2 at column 78 leaves a stray cell); xterm blanks to the edge.",
    "insert_mode_wrap": "tmux 3.3a inserts before wrapping, at the pending-wrap column, so "
    "the first character on the next line overwrites instead of inserting; xterm inserts.",
    "rep_wide": "tmux 3.3a's REP repeats only ASCII characters; xterm repeats any graphic "
    "character, wide ones too.",
    "rep_overflow": "tmux 3.3a's REP stops at the right edge; xterm prints the repeats like "
    "ordinary characters, so they wrap.",
    "wide_overwrite": "tmux 3.3a leaves the left half of a wide character in place when its "
    "right half is overwritten or split by ICH/DCH; xterm erases the whole character.",
    "zero_width_space": "tmux keeps U+200B as a zero-width mark on the previous cell; ptui "
    "drops it. Invisible either way.",
    "il_dl_outside_region": "tmux 3.3a applies IL/DL outside the scroll region to the whole "
    "screen; xterm (and the VT510 manual) ignore them there.",
    "il_dl_cursor_column": "xterm moves the cursor to the left margin on IL/DL; tmux 3.3a "
    "leaves the column alone.",
    "el_at_pending_wrap": "with wrap pending xterm's cursor is on the last column, so EL/ED "
    "erase it; tmux's cursor is past the edge and the last cell survives.",
    "top@0": "top's reverse header fills the last column, then EL at pending wrap (see "
    "el_at_pending_wrap): xterm erases that cell, tmux keeps it.",
    "top": "as top@0: EL at pending wrap after the reverse header.",
    "autowrap": "BS with a wrap pending: xterm's cursor is on the last column and BS "
    "moves it to the one before (esctest2 BSTests.test_BS_CursorStartsInDoWrapPosition); "
    "tmux's is past the edge, so BS only cancels the wrap and the next character lands on "
    "the last column.",
}
"""Case id -> why ptui (following xterm) intentionally differs from tmux there."""

_NORMALISERS: dict[str, Callable[[Screens], None]] = {
    "hpr_vpr": _rows((6, 4), r2="m   n", r4="     o"),
    "tabs_cht": _rows((79, 3), r2=" " * 16 + "q", r3=" " * 79 + "!"),
    "ich_near_end": _rows(
        r3=_fill_row(3)[:77] + "  " + _fill_row(3)[77],
        r4=_fill_row(4)[:77],
        r5="F1F3x",
    ),
    "insert_mode_wrap": _rows(r3=_fill_row(3)[:77] + "abc", r4="def" + _fill_row(4)[:77]),
    "rep_wide": _rows((9, 0), r0="中中中中|"),
    "rep_overflow": _rows((21, 1), r1=f"{CSI}31m{'z' * 21}"),
    "wide_overwrite": _rows(r0=" x文字符", r3="    文", r4=" 文"),
    "zero_width_space": _drop_zwsp,
    "il_dl_outside_region": _rows(r22=_fill_row(22), r23=_fill_row(23)),
    "il_dl_cursor_column": _rows((2, 7), r4="il", r7="dl" + _fill_row(6)[2:]),
    "el_at_pending_wrap": _rows(r0=f"{CSI}7m{'x' * 79}", r2=f"{CSI}7m{'y' * 79}"),
    "top@0": _plain_last_cell(6),
    "top": _plain_last_cell(5),
    "autowrap": _rows(r3="".join(str(i % 10) for i in range(78)) + "B9"),
}
"""Case id -> edit of the tmux side to what xterm shows, for exactly that difference."""


def _normalise_palette(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Map ``256:N`` for N < 16 to ``16:N`` (see GLOBAL_DIFFERENCES)."""

    def colour(c: str) -> str:
        if c.startswith("256:") and int(c[4:]) < 16:
            return "16:" + c[4:]
        return c

    return [[replace(c, fg=colour(c.fg), bg=colour(c.bg)) for c in row] for row in rows]


# Emulator bugs found by these tests: (check, case id) -> what is wrong. They are
# strict xfails, so a fix makes the test fail until the entry is removed.
EMULATOR_BUGS: dict[tuple[str, str], str] = {
    # Fixed: CSI 5 K (unknown EL mode) erased the line; DEC graphics 0x68 drew
    # U+2591 instead of U+2424; CSI ? 1 m was applied as SGR bold.
}


# ---------------------------------------------------------------------------
# Running both sides


def _screens(case: Case, cache: dict[str, Capture]) -> Screens:
    if case.id not in cache:
        cache[case.id] = tmux_capture(case.data, case.cols, case.rows)
    capture = cache[case.id]
    emu = Emulator(cols=case.cols, rows=case.rows)
    emu.feed(case.data)
    ours_cells = parse_sgr_screen(emu.render_ansi(), case.cols)
    tmux_cells = parse_sgr_screen(capture.ansi, case.cols)
    screens = Screens(
        ours_text=emu.render_text().splitlines(),
        # tmux's plain capture prints DEC graphics as the ASCII letters it stores;
        # the SGR capture marks them, so take the text from the cells there.
        tmux_text=(
            screen_text(tmux_cells) if "\x0e" in capture.ansi else capture.text.splitlines()
        ),
        ours_cells=_normalise_palette(ours_cells),
        tmux_cells=_normalise_palette(tmux_cells),
        ours_cursor=emu.cursor,
        # Pending wrap: see GLOBAL_DIFFERENCES.
        tmux_cursor=(min(capture.cursor[0], case.cols - 1), capture.cursor[1]),
    )
    normalise = _NORMALISERS.get(case.id)
    if normalise is not None:
        normalise(screens)
    return screens


def _params(check: str) -> list[object]:
    """Every case as a parameter, marked xfail where EMULATOR_BUGS lists it."""
    params: list[object] = []
    for case in CASES:
        reason = EMULATOR_BUGS.get((check, case.id))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


@pytest.mark.parametrize("case", _params("text"))
def test_text_matches_tmux(case: Case, captures: dict[str, Capture]) -> None:
    """The plain text matches ``capture-pane -p`` row for row."""
    s = _screens(case, captures)
    diffs = [
        f"row {y}: ours {a!r}\n        tmux {b!r}"
        for y, (a, b) in enumerate(zip(s.ours_text, s.tmux_text, strict=False))
        if a != b
    ]
    assert len(s.ours_text) == len(s.tmux_text) == case.rows
    assert not diffs, f"{len(diffs)} rows differ:\n" + "\n".join(diffs[:6])


@pytest.mark.parametrize("case", _params("cells"))
def test_cells_match_tmux(case: Case, captures: dict[str, Capture]) -> None:
    """Characters, colours and attributes match ``capture-pane -p -e`` cell for cell."""
    s = _screens(case, captures)
    diffs = compare(s.ours_cells, s.tmux_cells)
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("case", _params("cursor"))
def test_cursor_matches_tmux(case: Case, captures: dict[str, Capture]) -> None:
    """The cursor ends where tmux's does."""
    s = _screens(case, captures)
    assert s.ours_cursor == s.tmux_cursor


def _chunks(data: bytes, seed: int) -> Iterator[bytes]:
    """Split ``data`` at random points, as PTY reads do (inside escapes and UTF-8)."""
    rng = random.Random(seed)
    i = 0
    while i < len(data):
        n = rng.randint(1, 9)
        yield data[i : i + n]
        i += n


@pytest.mark.parametrize("case", _params("chunked"))
def test_chunked_feed_same_screen(case: Case) -> None:
    """Feeding in small random chunks gives the same screen as one feed."""
    whole = Emulator(cols=case.cols, rows=case.rows)
    whole.feed(case.data)
    chunked = Emulator(cols=case.cols, rows=case.rows)
    for chunk in _chunks(case.data, seed=len(case.data)):
        chunked.feed(chunk)
    diffs = compare(
        parse_sgr_screen(chunked.render_ansi(), case.cols),
        parse_sgr_screen(whole.render_ansi(), case.cols),
    )
    assert not diffs, "chunked vs whole:\n" + "\n".join(diffs)
    assert chunked.cursor == whole.cursor


def test_intended_differences_are_consistent() -> None:
    """Every intended difference names a real case and comes with its normaliser."""
    ids = {c.id for c in CASES}
    assert set(INTENDED_DIFFERENCES) == set(_NORMALISERS)
    assert set(INTENDED_DIFFERENCES) <= ids
    assert {case for _, case in EMULATOR_BUGS} <= ids
