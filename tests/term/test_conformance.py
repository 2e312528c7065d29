"""Terminal conformance: byte streams with the screen, replies and state xterm gives.

Each ``Case`` is a byte stream fed to ``tui.term.emulator.Emulator`` and what must
follow: every screen row's text, and where it matters the cursor, cell colours and
attributes, the replies sent back to the program (``take_replies``), the title,
events and modes. The cases are grouped:

- ``controls``: controls inside a sequence, after Paul Williams' state model ("A
  parser for DEC's ANSI-compatible video terminals", vt100.net/emu/dec_ansi_parser):
  a C0 control inside an escape or control sequence is executed and the sequence
  goes on, DEL is ignored, ESC starts a new sequence, CAN and SUB abort it; an OSC
  ends at BEL or ST, a DCS/APC/PM/SOS string only at ST.
- ``params``: how parameters are read (leading zeros, the 65535 clamp, xterm's 30
  parameters, private markers and colons where they are not allowed).
- ``dispatch``: a sequence is dispatched on its private marker, intermediates and
  final byte together; unknown combinations are ignored.
- ``sequences``: each control, escape, CSI, OSC and DCS the parser dispatches.

Every case carries its source in ``cite``: a section of xterm's ctlseqs ("XTerm
Control Sequences", patch #410), an esctest test (George Nachman's esctest, as kept
in Thomas Dickey's esctest2), DEC STD 070, or Williams' state model; sequences that
xterm does not implement cite the document that defines them. ``note`` says where a
reference terminal differs and what settled the expectation. Both appear in every
failure message.

The expectations are xterm's. Cases flagged ``tmux=True`` are also checked against
a live tmux 3.3a capture (``difftest.tmux_capture``), where tmux agrees with xterm:
tmux's screen must be the expected one, and ptui's cells must match tmux's cell for
cell. Elsewhere the case says how tmux differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tui import __version__
from tui.term.emulator import Emulator, TermEvent

from .difftest import (
    Capture,
    compare,
    parse_sgr_screen,
    screen_text,
    tmux_available,
    tmux_capture,
)

ESC = "\x1b"
CSI = "\x1b["
OSC = "\x1b]"
DCS = "\x1bP"
ST = "\x1b\\"
BEL = "\x07"

WILLIAMS = "Williams dec_ansi_parser"
W_EXECUTE = (
    f"{WILLIAMS}: in escape, escape_intermediate and the csi_* states C0 (00-17, 19, "
    "1C-1F) is executed and the state is kept"
)
W_DEL = f"{WILLIAMS}: 7F is ignored in the escape and csi_* states"
W_ESC = f"{WILLIAMS}: anywhere, 1B enters escape (clear), abandoning the sequence"
W_CANCEL = (
    f"{WILLIAMS}: anywhere, 18 (CAN) and 1A (SUB) execute and go to ground; "
    "DEC STD 070 3.5.4.4 Termination Conditions (the sequence is cancelled)"
)
W_OSC = (
    f"{WILLIAMS}: osc_string ignores C0 (00-06, 08-17, 19, 1C-1F); ctlseqs: Operating "
    "System Commands (an OSC ends at BEL or ST)"
)
W_STRING = (
    f"{WILLIAMS}: dcs_passthrough and sos_pm_apc_string end at ST (9C / ESC \\) only; "
    "ctlseqs: DCS, APC, PM and SOS end with ST, BEL is accepted for OSC only"
)
W_IGNORE = f"{WILLIAMS}: csi_ignore executes C0 and ends at the final byte (40-7E)"
SISO = (
    "ctlseqs: Control Bytes, Characters, and Sequences (ECMA-48 section 9: shift-in "
    "and shift-out are allowed within a 7-bit control sequence)"
)
DISPATCH = (
    f"{WILLIAMS}: csi_dispatch picks the function from private marker, intermediates "
    "and final together; ctlseqs lists this final only without them"
)

SUB_NOTE = (
    "xterm 410 (charproc.c CASE_SUB) also draws an error character for SUB: U+2426 at "
    "its default terminal id (VT420), a checkerboard for a VT1xx id; the target here is "
    "Williams' and tmux's: nothing is shown"
)
OSC_TITLE_NOTE = (
    "the title stays unset as in xterm 410, which drops an unterminated string "
    "(charproc.c); tmux 3.3a runs the OSC on any exit from the string state "
    "(input_exit_osc): there only the title differs"
)
STRING_BEL_NOTE = "xterm 410 rings the bell for a BEL inside a DCS, APC, PM or SOS and goes on"
TMUX_NO_DECSED = "tmux 3.3a ignores DECSED and DECSEL (CSI ? Ps J, CSI ? Ps K)"
TMUX_NO_DECSTR = "tmux 3.3a does not implement DECSTR (CSI ! p): its modes stay"
TMUX_PARAMS_NOTE = (
    "tmux 3.3a drops the whole sequence when it has 24 or more parameters or they pass "
    "63 bytes (input.c param_list[24], param_buf[64]): its X is plain"
)


@dataclass(frozen=True)
class Case:
    """A byte stream, what xterm shows after it, and where that is written down."""

    id: str
    group: str
    data: str
    cite: str
    screen: tuple[str, ...] | None = None
    """Expected rows from the top, trailing spaces stripped; rows not given are blank."""
    cursor: tuple[int, int] | None = None
    """Expected (x, y), 0-based; None: not checked."""
    cells: tuple[tuple[int, int, str], ...] = ()
    """(x, y, ``difftest.Cell.describe()``) for cells whose colours and attributes matter."""
    replies: bytes | None = None
    """Everything ``take_replies`` must return; None: not checked."""
    title: str | None = None
    icon: str | None = None
    events: tuple[TermEvent, ...] | None = None
    modes: tuple[tuple[str, object], ...] = ()
    """(``TermModes`` field, value) pairs."""
    links: tuple[tuple[str, str | None], ...] | None = None
    """Row 0 as (text, hyperlink) runs."""
    cols: int = 20
    rows: int = 4
    tmux: bool = False
    """tmux 3.3a shows exactly ``screen`` (and ``cursor``): also checked against it."""
    note: str = ""

    def why(self) -> str:
        """The case's id, source and note, for failure messages."""
        text = f"[{self.group}/{self.id}] {self.cite}"
        return f"{text}\n  note: {self.note}" if self.note else text


# ---------------------------------------------------------------------------
# 1. Controls inside a sequence


def _controls() -> list[Case]:
    g = "controls"
    return [
        Case("bs_in_csi_param", g, f"A{CSI}2\bCX", W_EXECUTE,
             screen=("A X",), cursor=(3, 0), tmux=True),
        Case("cr_in_csi_param", g, f"ABCD{CSI}2\rCX", W_EXECUTE,
             screen=("ABXD",), cursor=(3, 0), tmux=True),
        Case("lf_in_csi_entry", g, f"AB{CSI}\n2CX", W_EXECUTE,
             screen=("AB", "    X"), cursor=(5, 1), tmux=True),
        Case("ht_in_csi_entry", g, f"X{CSI}\t2DY", W_EXECUTE,
             screen=("X     Y",), cursor=(7, 0), tmux=True),
        Case("vt_ff_in_csi_entry", g, f"{CSI}\x0b\x0c1CX", W_EXECUTE,
             screen=("", "", " X"), cursor=(2, 2), tmux=True),
        Case("bel_in_csi_param", g, f"{CSI}2\x07CX", W_EXECUTE,
             screen=("  X",), cursor=(3, 0), events=(TermEvent("bell"),), tmux=True),
        Case("so_si_in_csi_param", g, f"{ESC})0{CSI}1\x0eCq\x0fq", f"{SISO}; {W_EXECUTE}",
             screen=(" ─q",), cursor=(3, 0), tmux=True),
        Case("nul_in_csi_param", g, f"{CSI}2\x00CX", W_EXECUTE,
             screen=("  X",), cursor=(3, 0), tmux=True),
        Case("del_in_csi_param", g, f"{CSI}2\x7fCX", W_DEL,
             screen=("  X",), cursor=(3, 0), tmux=True),
        Case("del_in_esc_intermediate", g, f"{ESC}(\x7f0q", W_DEL,
             screen=("─",), cursor=(1, 0), tmux=True),
        Case("bs_in_esc_hash", g, f"AB{ESC}#\b8", f"{W_EXECUTE}; ctlseqs: ESC # 8 (DECALN)",
             screen=("E" * 20,) * 4, tmux=True),
        Case("cr_in_scs", g, f"AB{ESC}(\r0q",
             f"{W_EXECUTE}; ctlseqs: ESC ( C Designate G0 Character Set, C = 0",
             screen=("─B",), cursor=(1, 0), tmux=True),
        Case("bs_in_csi_intermediate", g, f"AB{CSI}4 \bq",
             f"{W_EXECUTE}; ctlseqs: CSI Ps SP q (DECSCUSR)",
             screen=("AB",), cursor=(1, 0), modes=(("cursor_shape", 4),), tmux=True),
        Case("bs_in_csi_ignore", g, f"AB{CSI}2?3\bCX", W_IGNORE,
             screen=("AX",), cursor=(2, 0), tmux=True),
        Case("esc_restarts_csi", g, f"{CSI}5{CSI}2CX", W_ESC,
             screen=("  X",), cursor=(3, 0), tmux=True),
        Case("esc_restarts_esc", g, f"AB{ESC}#{CSI}1CX", W_ESC,
             screen=("AB X",), cursor=(4, 0), tmux=True),
        Case("can_aborts_csi", g, f"AB{CSI}2\x18CX", W_CANCEL,
             screen=("ABCX",), cursor=(4, 0), tmux=True),
        Case("sub_aborts_csi", g, f"AB{CSI}2\x1aCX", W_CANCEL,
             screen=("ABCX",), cursor=(4, 0), tmux=True, note=SUB_NOTE),
        Case("can_aborts_esc", g, f"{ESC}(\x180q", W_CANCEL,
             screen=("0q",), cursor=(2, 0), tmux=True),
        Case("esc_abandons_osc", g, f"{OSC}2;abc{CSI}1CX", W_ESC,
             screen=(" X",), cursor=(2, 0), title="", tmux=True, note=OSC_TITLE_NOTE),
        Case("can_aborts_osc", g, f"{OSC}2;abc\x18def", W_CANCEL,
             screen=("def",), cursor=(3, 0), title="", tmux=True, note=OSC_TITLE_NOTE),
        Case("sub_aborts_osc", g, f"{OSC}2;abc\x1adef", W_CANCEL,
             screen=("def",), cursor=(3, 0), title="", tmux=True,
             note=f"{SUB_NOTE}. {OSC_TITLE_NOTE}"),
        Case("bel_ends_osc", g, f"{OSC}2;abc\x07def", "ctlseqs: OSC Ps ; Pt BEL",
             screen=("def",), cursor=(3, 0), title="abc", tmux=True),
        Case("c0_ignored_in_osc", g, f"AB{OSC}2;x\b\n\r\ty\x07C", W_OSC,
             screen=("ABC",), cursor=(3, 0), tmux=True,
             note="the title is not checked: xterm 410 keeps the controls in the string "
             "(shown as '?'), tmux drops them"),
        Case("dcs_bel_does_not_end", g, f"A{DCS}zz\x07leak{ST}B", W_STRING,
             screen=("AB",), cursor=(2, 0), tmux=True, note=STRING_BEL_NOTE),
        Case("apc_bel_does_not_end", g, f"A{ESC}_Ga=T\x07leak{ST}B", W_STRING,
             screen=("AB",), cursor=(2, 0), tmux=True, note=STRING_BEL_NOTE),
        Case("pm_bel_does_not_end", g, f"A{ESC}^pm\x07leak{ST}B", W_STRING,
             screen=("AB",), cursor=(2, 0), tmux=True, note=STRING_BEL_NOTE),
        Case("sos_bel_does_not_end", g, f"A{ESC}Xsos\x07leak{ST}B", W_STRING,
             screen=("AB",), cursor=(2, 0), tmux=True, note=STRING_BEL_NOTE),
        Case("can_aborts_dcs", g, f"A{DCS}zz\x18BC", W_CANCEL,
             screen=("ABC",), cursor=(3, 0),
             note="tmux 3.3a differs: its DCS handler state has no CAN/SUB/ESC exit "
             "and keeps the bytes as DCS data"),
        Case("esc_abandons_dcs", g, f"A{DCS}zz{CSI}1CX", W_ESC,
             screen=("A X",), cursor=(3, 0),
             note="tmux 3.3a differs: after ESC in a DCS it stays in the string "
             "unless a backslash follows (input_state_dcs_escape)"),
        Case("can_aborts_apc", g, f"A{ESC}_G\x18BC", W_CANCEL,
             screen=("ABC",), cursor=(3, 0), tmux=True),
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# 2. Parameters

DIGITS = "ctlseqs: Definitions (Ps: a numeric parameter composed of one or more digits)"
CLAMP = "xterm clamps a parameter at 65535 (ptyx.h MAX_I_PARAM, charproc.c CASE_ESC_DIGIT)"
NPARAM = "xterm keeps 30 parameters (ptyx.h NPARAM)"
DECRQM_DEC = "ctlseqs: CSI ? Ps $ p Request DEC private mode (DECRQM)"
SINGLE = "ctlseqs: Single-character functions"
COLON = (
    f"{WILLIAMS}: 3A (colon) goes to csi_ignore; ctlseqs documents colon "
    "sub-parameters for SGR 38/48 only (CSI Pm m)"
)


def _params() -> list[Case]:
    g = "params"
    return [
        Case("leading_zeros_cup", g, f"{CSI}00000000004;00000000001HX",
             f"{DIGITS}; ctlseqs: CSI Ps ; Ps H (CUP)",
             screen=("", "", "", "X"), cursor=(1, 3), rows=5, tmux=True),
        Case("leading_zeros_cuf", g, f"{CSI}0000000000005CX",
             f"{DIGITS}; ctlseqs: CSI Ps C (CUF)",
             screen=("     X",), cursor=(6, 0), tmux=True),
        Case("leading_zeros_long", g, f"{CSI}{'0' * 80}3CX",
             f"{DIGITS}; ctlseqs: CSI Ps C (CUF)",
             screen=("   X",), cursor=(4, 0),
             note="tmux 3.3a differs: it drops a sequence whose parameters pass 64 bytes"),
        Case("clamp_65535", g, f"{CSI}?99999$p", f"{CLAMP}; {DECRQM_DEC}",
             replies=b"\x1b[?65535;0$y"),
        Case("clamp_does_not_wrap", g, f"{CSI}?4294967297$p", f"{CLAMP}; {DECRQM_DEC}",
             replies=b"\x1b[?65535;0$y"),
        Case("zeros_dropped_before_clamp", g, f"{CSI}?{'0' * 20}1$p",
             f"{DIGITS}; {CLAMP}; {DECRQM_DEC}",
             replies=b"\x1b[?1;2$y"),
        Case("thirty_params_kept", g, f"{CSI}{'22;' * 29}4mX",
             f"{NPARAM}; ctlseqs: CSI Pm m (SGR)",
             screen=("X",), cells=((0, 0, "'X' underline"),), note=TMUX_PARAMS_NOTE),
        Case("params_past_thirty_ignored", g, f"{CSI}31;{'22;' * 28}65535;4mX",
             f"{NPARAM}; ctlseqs: CSI Pm m (SGR)",
             screen=("X",), cells=((0, 0, "'X' fg=16:1"),),
             note=f"{TMUX_PARAMS_NOTE}. xterm appends the digits of a 31st parameter "
             "to the 30th (65535 here, clamped): either way the 4 is not applied"),
        Case("private_marker_not_first", g, f"AB{CSI}2?CX",
             f"{WILLIAMS}: csi_param, 3C-3F go to csi_ignore",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("private_marker_after_semicolon", g, f"AB{CSI}1;>5HX",
             f"{WILLIAMS}: csi_param, 3C-3F go to csi_ignore",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("colon_sgr_underline_style", g, f"{CSI}4:3mX",
             "ctlseqs: CSI Pm m (SGR), sub-parameters; 4:3 curly underline is the "
             "kitty/VTE extension",
             screen=("X",), cells=((0, 0, "'X' curly-underline"),), tmux=True,
             note="xterm 410 accepts sub-parameters only after 38/48 and ignores 4:3 "
             "(charproc.c CASE_SGR); ptui and tmux draw the curly underline"),
        Case("colon_sgr_direct_colour", g, f"{CSI}38:2::1:2:3mX",
             "ctlseqs: CSI Pm m (SGR), Ps = 3 8 : 2 : Pi : Pr : Pg : Pb",
             screen=("X",), cells=((0, 0, "'X' fg=rgb:010203"),), tmux=True),
        Case("colon_sgr_indexed_colour", g, f"{CSI}48:5:200mX",
             "ctlseqs: CSI Pm m (SGR), Ps = 4 8 : 5 : Ps",
             screen=("X",), cells=((0, 0, "'X' bg=256:200"),), tmux=True),
        Case("colon_in_cuf_ignored", g, f"AB{CSI}2:3CX",
             COLON,
             screen=("ABX",), cursor=(3, 0), tmux=True,
             note="xterm 395e-410 runs CUF with its default (one column): since "
             "395e the 'unexpected subparam usage' branch resets the parameters but "
             "no longer skips the final (charproc.c, continue became break); up to "
             "395d, and by its comment, the sequence is ignored"),
        Case("colon_in_cup_ignored", g, f"AB{CSI}3;2:1HX",
             COLON,
             screen=("ABX",), cursor=(3, 0), tmux=True,
             note="xterm 395e-410 homes the cursor (CUP with its defaults), as for "
             "colon_in_cuf_ignored"),
        Case("param_after_intermediate", g, f"AB{CSI}2$3CX",
             f"{WILLIAMS}: csi_intermediate, 30-3F go to csi_ignore",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("empty_param_is_default", g, f"{CSI};5HX",
             "esctest: CUPTests.test_CUP_ColumnOnly",
             screen=("    X",), cursor=(5, 0), tmux=True),
        Case("zero_param_is_default", g, f"{CSI}5G{CSI}0GX",
             "esctest: CHATests.test_CHA_ZeroParam",
             screen=("X",), cursor=(1, 0), tmux=True),
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# 3. Dispatch on the whole sequence


def _dispatch() -> list[Case]:
    g = "dispatch"
    return [
        Case("private_cup", g, f"AB{CSI}?3;4HX", f"{DISPATCH} (CSI Ps ; Ps H, CUP)",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("private_gt_cup", g, f"AB{CSI}>1;1HX", f"{DISPATCH} (CSI Ps ; Ps H, CUP)",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("private_gt_cuf", g, f"AB{CSI}>3CX", f"{DISPATCH} (CSI Ps C, CUF)",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("private_eq_cuu", g, f"{CSI}3;1H{CSI}=1AX", f"{DISPATCH} (CSI Ps A, CUU)",
             screen=("", "", "X"), cursor=(1, 2), tmux=True),
        Case("private_ech", g, f"ABCD{CSI}1G{CSI}?2X", f"{DISPATCH} (CSI Ps X, ECH)",
             screen=("ABCD",), cursor=(0, 0), tmux=True),
        Case("private_dch", g, f"ABCD{CSI}1G{CSI}?3P", f"{DISPATCH} (CSI Ps P, DCH)",
             screen=("ABCD",), cursor=(0, 0), tmux=True),
        Case("private_ich", g, f"ABCD{CSI}1G{CSI}?2@", f"{DISPATCH} (CSI Ps @, ICH)",
             screen=("ABCD",), cursor=(0, 0), tmux=True),
        Case("private_gt_ed", g, f"ABCD{CSI}>2J",
             f"{DISPATCH} (CSI Ps J, ED; only CSI ? Ps J is DECSED)",
             screen=("ABCD",), cursor=(4, 0), tmux=True),
        Case("private_su", g, f"A{CSI}?1S",
             f"{DISPATCH} (CSI Ps S, SU; CSI ? Pi ; Pa ; Pv S is XTSMGRAPHICS)",
             screen=("A",), cursor=(1, 0), tmux=True),
        Case("intermediate_cuf", g, f"AB{CSI}2$CX", f"{DISPATCH} (CSI Ps C, CUF)",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("intermediate_ed", g, f"ABCD{CSI}2$J", f"{DISPATCH} (CSI Ps J, ED)",
             screen=("ABCD",), cursor=(4, 0), tmux=True),
        Case("intermediate_space_cuf", g, f"AB{CSI}1 CX", f"{DISPATCH} (CSI Ps C, CUF)",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("intermediate_star_cuf", g, f"AB{CSI}2*CX", f"{DISPATCH} (CSI Ps C, CUF)",
             screen=("ABX",), cursor=(3, 0), tmux=True),
        Case("private_gt_sgr", g, f"{CSI}>4;1mX",
             f"{DISPATCH} (CSI Pm m, SGR; CSI > Pp ; Pv m is XTMODKEYS)",
             screen=("X",), cells=((0, 0, "'X'"),), tmux=True),
        Case("private_q_sgr", g, f"{CSI}?1mX",
             f"{DISPATCH} (CSI Pm m, SGR; CSI ? Pp m is XTQMODKEYS)",
             screen=("X",), cells=((0, 0, "'X'"),), tmux=True),
        Case("unknown_csi_finals", g, f"A{CSI}5y{CSI}5~{CSI}5o{CSI}?5oB",
             f"{WILLIAMS}: csi_dispatch of an unknown function does nothing",
             screen=("AB",), cursor=(2, 0), tmux=True),
        Case("unknown_escapes", g, f"A{ESC}Q{ESC}j{ESC}&XB",
             f"{WILLIAMS}: esc_dispatch (escape and escape_intermediate, 30-7E) of an "
             "unknown function does nothing",
             screen=("AB",), cursor=(2, 0), tmux=True),
    ]  # fmt: skip


# ---------------------------------------------------------------------------
# 4. Every other sequence the parser dispatches


def _fill(rows: int = 4) -> str:
    """Rows "1111", "2222" ... written with CUP, no scrolling."""
    return "".join(f"{CSI}{y + 1}H{str(y + 1) * 4}" for y in range(rows))


def _c0_and_escapes() -> list[Case]:
    g = "sequences"
    return [
        Case("bs", g, "abc\b\bX", f"{SINGLE}, BS Backspace; esctest: BSTests.test_BS_Basic",
             screen=("aXc",), cursor=(2, 0), tmux=True),
        Case("bs_stops_at_left_edge", g, "\b\bX", "esctest: BSTests.test_BS_StopsAtOrigin",
             screen=("X",), cursor=(1, 0), tmux=True),
        Case("ht", g, "a\tb", f"{SINGLE}, TAB Horizontal Tab (stops every 8 columns)",
             screen=("a       b",), cursor=(9, 0), tmux=True),
        Case("ht_stops_at_last_column", g, "\t\t\tx",
             f"{SINGLE}, TAB; esctest: DECSETTests.test_DECSET_DECAWM_"
             "TabDoesNotWrapAround",
             screen=(" " * 19 + "x",), cursor=(19, 0), tmux=True),
        Case("lf", g, "ab\nc", f"{SINGLE}, LF Line Feed; esctest: LFTests.test_LF_Basic",
             screen=("ab", "  c"), cursor=(3, 1), tmux=True),
        Case("lf_scrolls", g, "1\r\n2\r\n3", "esctest: LFTests.test_LF_Scrolls",
             screen=("2", "3"), cursor=(1, 1), rows=2, tmux=True),
        Case("vt", g, "ab\x0bc", f"{SINGLE}, VT (the same as LF); esctest: VTTests.test_VT_Basic",
             screen=("ab", "  c"), cursor=(3, 1), tmux=True),
        Case("ff", g, "ab\x0cc", f"{SINGLE}, FF (the same as LF); esctest: FFTests.test_FF_Basic",
             screen=("ab", "  c"), cursor=(3, 1), tmux=True),
        Case("cr", g, "abc\rX", f"{SINGLE}, CR Carriage Return; esctest: CRTests.test_CR_Basic",
             screen=("Xbc",), cursor=(1, 0), tmux=True),
        Case("bel", g, "a\x07b", f"{SINGLE}, BEL Bell",
             screen=("ab",), cursor=(2, 0), events=(TermEvent("bell"),), tmux=True),
        Case("nul_ignored", g, "a\x00b", f"{WILLIAMS}: ground executes 00 (NUL does nothing)",
             screen=("ab",), cursor=(2, 0), tmux=True),
        Case("del_ignored", g, "a\x7fb",
             "ctlseqs lists no function for DEL; xterm 410 ignores 7F in the ground "
             "state (VTPrsTbl.c ansi_table, CASE_IGNORE)",
             screen=("ab",), cursor=(2, 0), tmux=True),
        Case("c1_from_utf8_not_a_control", g, "A\u009b2CX",
             "ctlseqs: Control Bytes, Characters, and Sequences: a C1 control obtained "
             "from decoding UTF-8 cannot be used (U+009B is not CSI)",
             screen=("A2CX",), cursor=(4, 0), tmux=True),
        Case("st_alone", g, f"A{ST}B",
             "ctlseqs: C1 (8-Bit) Control Characters, ESC \\ String Terminator (ST): "
             "outside a string it does nothing",
             screen=("AB",), cursor=(2, 0), tmux=True),
        Case("so_si", g, f"{ESC})0a\x0eq\x0fq",
             f"{SINGLE}, SO (invokes G1 as GL), SI (invokes G0 as GL)",
             screen=("a─q",), cursor=(3, 0), tmux=True),
        Case("lf_resets_pending_wrap", g, "abcde\nX",
             "ctlseqs: LF; xterm resets the wrap flag on a cursor move (cursor.c "
             "CursorDown, ResetWrap)",
             screen=("abcde", "    X"), cursor=(4, 1), cols=5,
             note="tmux 3.3a keeps its cursor past the edge and carries that column "
             "down, so X wraps onto the row below"),
        Case("decsc_decrc", g, f"{CSI}2;3H{CSI}31m{ESC}7{CSI}0m{CSI}4;1H{ESC}8X",
             "ctlseqs: ESC 7 Save Cursor (DECSC), ESC 8 Restore Cursor (DECRC); esctest: "
             "SaveRestoreCursorTests.test_SaveRestoreCursor_Basic",
             screen=("", "  X"), cursor=(3, 1), cells=((2, 1, "'X' fg=16:1"),), tmux=True),
        Case("decrc_without_decsc_homes", g, f"{CSI}3;3H{ESC}8X",
             "esctest: SaveRestoreCursorTests.test_SaveRestoreCursor_MoveToHomeWhenNotSaved",
             screen=("X",), cursor=(1, 0), tmux=True),
        Case("decsc_saves_pending_wrap", g, f"abcde{ESC}7{CSI}3;1H{ESC}8X",
             "esctest: SaveRestoreCursorTests.test_SaveRestoreCursor_Wrap",
             screen=("abcde", "X"), cursor=(1, 1), cols=5,
             note="tmux 3.3a does not save the pending wrap: X overwrites the e"),
        Case("ind", g, f"a{ESC}Db", "esctest: INDTests.test_IND_Basic",
             screen=("a", " b"), cursor=(2, 1), tmux=True),
        Case("ind_scrolls", g, f"1{CSI}2;1H2{ESC}D3", "esctest: INDTests.test_IND_Scrolls",
             screen=("2", " 3"), cursor=(2, 1), rows=2, tmux=True),
        Case("nel", g, f"ab{ESC}Ec", "esctest: NELTests.test_NEL_Basic",
             screen=("ab", "c"), cursor=(1, 1), tmux=True),
        Case("ri", g, f"{CSI}2;3H{ESC}Mx", "esctest: RITests.test_RI_Basic",
             screen=("  x",), cursor=(3, 0), tmux=True),
        Case("ri_scrolls", g, f"a{ESC}Mb", "esctest: RITests.test_RI_Scrolls",
             screen=(" b", "a"), cursor=(2, 0), rows=2, tmux=True),
        Case("hts", g, f"{CSI}3g{CSI}5G{ESC}H\ra\tb", "esctest: HTSTests.test_HTS_Basic",
             screen=("a   b",), cursor=(5, 0), tmux=True),
        Case("ris", g, f"abc{CSI}31m{CSI}2;2H{ESC}cX",
             "ctlseqs: ESC c Full Reset (RIS); esctest: RISTests.test_RIS_ClearsScreen, "
             "RISTests.test_RIS_CursorToOrigin",
             screen=("X",), cursor=(1, 0), cells=((0, 0, "'X'"),), tmux=True),
        Case("deckpam", g, f"{ESC}=", "ctlseqs: ESC = Application Keypad (DECKPAM)",
             screen=(), modes=(("app_keypad", True),)),
        Case("deckpnm", g, f"{ESC}={ESC}>", "ctlseqs: ESC > Normal Keypad (DECKPNM)",
             screen=(), modes=(("app_keypad", False),)),
        Case("scs_g0_dec_graphics", g, f"{ESC}(0lqk{ESC}(Bq",
             "ctlseqs: ESC ( C Designate G0 Character Set, C = 0 (DEC Special Character "
             "and Line Drawing Set), C = B (USASCII)",
             screen=("┌─┐q",), cursor=(4, 0), tmux=True),
        Case("scs_g1_dec_graphics", g, f"{ESC})0\x0elqk\x0fq",
             "ctlseqs: ESC ) C Designate G1 Character Set; SO, SI",
             screen=("┌─┐q",), cursor=(4, 0), tmux=True),
        Case("scs_g2_g3_consumed", g, f"{ESC}*0{ESC}+0q",
             "ctlseqs: ESC * C Designate G2, ESC + C Designate G3 (G0 stays USASCII)",
             screen=("q",), cursor=(1, 0), tmux=True),
        Case("decaln", g, f"{ESC}#8", "ctlseqs: ESC # 8 DEC Screen Alignment Test "
             "(DECALN); esctest: DECALNTests.test_DECALN_FillsScreen",
             screen=("E" * 20,) * 4, tmux=True),
    ]  # fmt: skip


def _cursor_csi() -> list[Case]:
    g = "sequences"
    return [
        Case("cuu", g, f"{CSI}4;3H{CSI}2AX", "esctest: CUUTests.test_CUU_ExplicitParam",
             screen=("", "  X"), cursor=(3, 1), tmux=True),
        Case("cuu_default", g, f"{CSI}4;3H{CSI}AX", "esctest: CUUTests.test_CUU_DefaultParam",
             screen=("", "", "  X"), cursor=(3, 2), tmux=True),
        Case("cud", g, f"{CSI}1;3H{CSI}2BX", "esctest: CUDTests.test_CUD_ExplicitParam",
             screen=("", "", "  X"), cursor=(3, 2), tmux=True),
        Case("cud_stops_at_bottom", g, f"{CSI}9BX", "esctest: CUDTests.test_CUD_StopsAtBottomLine",
             screen=("", "", "", "X"), cursor=(1, 3), tmux=True),
        Case("cuf", g, f"{CSI}3CX", "esctest: CUFTests.test_CUF_ExplicitParam",
             screen=("   X",), cursor=(4, 0), tmux=True),
        Case("cuf_default", g, f"{CSI}CX", "esctest: CUFTests.test_CUF_DefaultParam",
             screen=(" X",), cursor=(2, 0), tmux=True),
        Case("cuf_stops_at_right", g, f"{CSI}99CX", "esctest: CUFTests.test_CUF_StopsAtRightSide",
             screen=(" " * 19 + "X",), cursor=(19, 0), tmux=True),
        Case("cub", g, f"abcd{CSI}3DX", "esctest: CUBTests.test_CUB_ExplicitParam",
             screen=("aXcd",), cursor=(2, 0), tmux=True),
        Case("cub_stops_at_left", g, f"ab{CSI}9DX", "esctest: CUBTests.test_CUB_StopsAtLeftEdge",
             screen=("Xb",), cursor=(1, 0), tmux=True),
        Case("cnl", g, f"{CSI}1;5H{CSI}2EX", "esctest: CNLTests.test_CNL_ExplicitParam",
             screen=("", "", "X"), cursor=(1, 2), tmux=True),
        Case("cpl", g, f"{CSI}4;5H{CSI}2FX", "esctest: CPLTests.test_CPL_ExplicitParam",
             screen=("", "X"), cursor=(1, 1), tmux=True),
        Case("cha", g, f"abc{CSI}6GX", "esctest: CHATests.test_CHA_ExplicitParam",
             screen=("abc  X",), cursor=(6, 0), tmux=True),
        Case("hpa", g, f"abc{CSI}6`X", "esctest: HPATests.test_HPA_DoesNotChangeRow; "
             "ctlseqs: CSI Pm ` Character Position Absolute (HPA)",
             screen=("abc  X",), cursor=(6, 0), tmux=True),
        Case("hpr", g, f"abc{CSI}2aX", "esctest: HPRTests.test_HPR_DoesNotChangeRow; "
             "ctlseqs: CSI Pm a Character Position Relative (HPR)",
             screen=("abc  X",), cursor=(6, 0),
             note="tmux 3.3a does not implement HPR"),
        Case("vpa", g, f"abc{CSI}3dX", "esctest: VPATests.test_VPA_DoesNotChangeColumn; "
             "ctlseqs: CSI Pm d Line Position Absolute (VPA)",
             screen=("abc", "", "   X"), cursor=(4, 2), tmux=True),
        Case("vpr", g, f"abc{CSI}2eX", "esctest: VPRTests.test_VPR_DoesNotChangeColumn; "
             "ctlseqs: CSI Pm e Line Position Relative (VPR)",
             screen=("abc", "", "   X"), cursor=(4, 2),
             note="tmux 3.3a does not implement VPR"),
        Case("cup", g, f"{CSI}3;5HX", "esctest: CUPTests.test_CUP_DefaultParams, "
             "CUPTests.test_CUP_RowOnly; ctlseqs: CSI Ps ; Ps H (CUP)",
             screen=("", "", "    X"), cursor=(5, 2), tmux=True),
        Case("cup_out_of_bounds", g, f"{CSI}99;99HX",
             "esctest: CUPTests.test_CUP_OutOfBoundsParams",
             screen=("", "", "", " " * 19 + "X"), cursor=(19, 3), tmux=True),
        Case("hvp", g, f"{CSI}2;3fX", "esctest: HVPTests.test_HVP_DefaultParams; "
             "ctlseqs: CSI Ps ; Ps f (HVP)",
             screen=("", "  X"), cursor=(3, 1), tmux=True),
        Case("cht", g, f"{CSI}2Ix", "esctest: CHTTests.test_CHT_ExplicitParameter",
             screen=(" " * 16 + "x",), cursor=(17, 0),
             note="tmux 3.3a does not implement CHT (CSI I)"),
        Case("cht_default", g, f"{CSI}Ix", "esctest: CHTTests.test_CHT_OneTabStopByDefault",
             screen=(" " * 8 + "x",), cursor=(9, 0),
             note="tmux 3.3a does not implement CHT (CSI I)"),
        Case("cbt", g, f"{CSI}18G{CSI}2Zx", "esctest: CBTTests.test_CBT_ExplicitParameter",
             screen=(" " * 8 + "x",), cursor=(9, 0), tmux=True),
        Case("cbt_stops_at_left", g, f"{CSI}5G{CSI}9Zx",
             "esctest: CBTTests.test_CBT_StopsAtLeftEdge",
             screen=("x",), cursor=(1, 0), tmux=True),
        Case("tbc_0", g, f"{CSI}9G{CSI}g\ra\tb", "esctest: TBCTests.test_TBC_0",
             screen=("a" + " " * 15 + "b",), cursor=(17, 0), tmux=True),
        Case("tbc_3", g, f"{CSI}3ga\tb", "esctest: TBCTests.test_TBC_3",
             screen=("a" + " " * 18 + "b",), cursor=(19, 0), tmux=True),
        Case("scosc_scorc", g, f"{CSI}2;3H{CSI}s{CSI}4;1H{CSI}uX",
             "ctlseqs: CSI s Save cursor (SCOSC), CSI u Restore cursor (SCORC); "
             "esctest: SCORCTests.test_SaveRestoreCursor_Basic (SaveRestoreCursorTests with "
             "CSI s and CSI u)",
             screen=("", "  X"), cursor=(3, 1), tmux=True),
    ]  # fmt: skip


def _edit_csi() -> list[Case]:
    g = "sequences"
    fill = _fill()
    return [
        Case("ich", g, f"abcd{CSI}2G{CSI}2@", "esctest: ICHTests.test_ICH_ExplicitParam",
             screen=("a  bcd",), cursor=(1, 0), tmux=True),
        Case("dch", g, f"abcdef{CSI}2G{CSI}2P", "esctest: DCHTests.test_DCH_ExplicitParam",
             screen=("adef",), cursor=(1, 0), tmux=True),
        Case("ech", g, f"abcdef{CSI}2G{CSI}2X", "esctest: ECHTests.test_ECH_ExplicitParam",
             screen=("a  def",), cursor=(1, 0), tmux=True),
        Case("il", g, f"{fill}{CSI}2;3H{CSI}2L", "esctest: ILTests.test_IL_ExplicitParam",
             screen=("1111", "", "", "2222"), cursor=(0, 1),
             note="tmux 3.3a leaves the cursor's column alone (test_differential: "
             "il_dl_cursor_column)"),
        Case("dl", g, f"{fill}{CSI}2;3H{CSI}2M", "esctest: DLTests.test_DL_ExplicitParam",
             screen=("1111", "4444"), cursor=(0, 1),
             note="tmux 3.3a leaves the cursor's column alone (test_differential: "
             "il_dl_cursor_column)"),
        Case("su", g, f"{fill}{CSI}2S", "esctest: SUTests.test_SU_ExplicitParam",
             screen=("3333", "4444"), tmux=True),
        Case("sd", g, f"{fill}{CSI}2T", "esctest: SDTests.test_SD_ExplicitParam",
             screen=("", "", "1111", "2222"), tmux=True),
        Case("rep", g, f"a{CSI}3b", "esctest: REPTests.test_REP_ExplicitParam",
             screen=("aaaa",), cursor=(4, 0), tmux=True),
        Case("rep_wide", g, f"中{CSI}2b|", "ctlseqs: CSI Ps b Repeat the preceding graphic "
             "character Ps times (REP)",
             screen=("中中中|",), cursor=(7, 0),
             note="tmux 3.3a repeats only ASCII characters"),
        Case("decstbm_homes_cursor", g, f"{CSI}3;3H{CSI}2;3rX",
             "esctest: DECSTBMTests.test_DECSTBM_MovsCursorToOrigin",
             screen=("X",), cursor=(1, 0), tmux=True),
        Case("decstbm_scrolls_region", g, f"{fill}{CSI}2;3r{CSI}3;1H\nX",
             "esctest: DECSTBMTests.test_DECSTBM_ScrollsOnNewline",
             screen=("1111", "3333", "X", "4444"), cursor=(1, 2), tmux=True),
        Case("ed_0", g, f"{fill}{CSI}2;3H{CSI}J", "esctest: EDTests.test_ED_0",
             screen=("1111", "22"), cursor=(2, 1), tmux=True),
        Case("ed_1", g, f"{fill}{CSI}2;3H{CSI}1J", "esctest: EDTests.test_ED_1",
             screen=("", "   2", "3333", "4444"), cursor=(2, 1), tmux=True),
        Case("ed_2", g, f"{fill}{CSI}2;3H{CSI}2J", "esctest: EDTests.test_ED_2",
             screen=(), cursor=(2, 1), tmux=True),
        Case("ed_3", g, f"{fill}{CSI}3J", "esctest: EDTests.test_ED_3 (the screen stays)",
             screen=("1111", "2222", "3333", "4444"),
             events=(TermEvent("scrollback-cleared"),), tmux=True),
        Case("el_0", g, f"abcdef{CSI}3G{CSI}K", "esctest: ELTests.test_EL_0",
             screen=("ab",), cursor=(2, 0), tmux=True),
        Case("el_1", g, f"abcdef{CSI}3G{CSI}1K", "esctest: ELTests.test_EL_1",
             screen=("   def",), cursor=(2, 0), tmux=True),
        Case("el_2", g, f"abcdef{CSI}3G{CSI}2K", "esctest: ELTests.test_EL_2",
             screen=(), cursor=(2, 0), tmux=True),
        Case("el_resets_pending_wrap", g, f"abcde{CSI}KX",
             "ctlseqs: CSI Ps K (EL); xterm resets the wrap flag in ClearRight (util.c)",
             screen=("abcdX",), cursor=(4, 0), cols=5,
             note="tmux 3.3a keeps its cursor past the edge, so its EL erases nothing "
             "and X wraps (test_differential: el_at_pending_wrap)"),
        Case("decsed", g, f"{fill}{CSI}2;3H{CSI}?J",
             "esctest: DECSEDTests.test_DECSED_Default (nothing is protected: erases as ED)",
             screen=("1111", "22"), cursor=(2, 1), note=TMUX_NO_DECSED),
        Case("decsed_2", g, f"{fill}{CSI}2;3H{CSI}?2J", "esctest: DECSEDTests.test_DECSED_2",
             screen=(), cursor=(2, 1), note=TMUX_NO_DECSED),
        Case("decsel", g, f"abcdef{CSI}3G{CSI}?1K",
             "esctest: DECSELTests.test_DECSEL_1 (nothing is protected: erases as EL)",
             screen=("   def",), cursor=(2, 0), note=TMUX_NO_DECSED),
    ]  # fmt: skip


def _modes_and_sgr() -> list[Case]:
    g = "sequences"
    return [
        Case("irm", g, f"abc{CSI}1G{CSI}4hX{CSI}4lY", "esctest: SMTests.test_SM_IRM, "
             "RMTests.test_RM_IRM; ctlseqs: CSI Pm h, Ps = 4 Insert Mode (IRM)",
             screen=("XYbc",), cursor=(2, 0), tmux=True),
        Case("lnm", g, f"{CSI}20ha\nb{CSI}20l\nc", "esctest: SMTests.test_SM_LNM; "
             "ctlseqs: CSI Pm h, Ps = 2 0 Automatic Newline (LNM)",
             screen=("a", "b", " c"), cursor=(2, 2),
             note="tmux 3.3a does not implement LNM: its LF keeps the column"),
        Case("decawm_off", g, f"{CSI}?7labcdefg", "esctest: DECSETTests.test_DECSET_DECAWM; "
             "ctlseqs: CSI ? Pm l, Ps = 7 No Auto-Wrap Mode (DECAWM)",
             screen=("abcdg",), cursor=(4, 0), cols=5, tmux=True),
        Case("decawm_on", g, "abcdefg", "esctest: DECSETTests.test_DECSET_DECAWM",
             screen=("abcde", "fg"), cursor=(2, 1), cols=5, tmux=True),
        Case("decom", g, f"{CSI}2;3r{CSI}?6h{CSI}1;2HX",
             "esctest: CUPTests.test_CUP_RespectsOriginMode; ctlseqs: CSI ? Pm h, "
             "Ps = 6 Origin Mode (DECOM)",
             screen=("", " X"), cursor=(2, 1), tmux=True),
        Case("dectcem", g, f"{CSI}?25l", "ctlseqs: CSI ? Pm l, Ps = 2 5 Hide cursor (DECTCEM)",
             screen=(), modes=(("cursor_visible", False),)),
        Case("decckm", g, f"{CSI}?1h", "ctlseqs: CSI ? Pm h, Ps = 1 Application Cursor "
             "Keys (DECCKM)",
             screen=(), modes=(("app_cursor", True),)),
        Case("alt_screen_1049", g, f"main{CSI}?1049halt",
             "esctest: DECSETTests.test_DECSET_OPT_ALTBUF_CURSOR; ctlseqs: CSI ? Pm h, "
             "Ps = 1 0 4 9 Save cursor and switch to the Alternate Screen Buffer",
             screen=("    alt",), cursor=(7, 0), modes=(("alt_screen", True),), tmux=True),
        Case("alt_screen_1049_back", g, f"main{CSI}?1049halt{CSI}?1049lX",
             "esctest: DECSETTests.test_DECSET_OPT_ALTBUF_CURSOR",
             screen=("mainX",), cursor=(5, 0), modes=(("alt_screen", False),), tmux=True),
        Case("bracketed_paste", g, f"{CSI}?2004h", "ctlseqs: CSI ? Pm h, Ps = 2 0 0 4 Set "
             "bracketed paste mode",
             screen=(), modes=(("bracketed_paste", True),)),
        Case("mouse_sgr", g, f"{CSI}?1000h{CSI}?1006h", "ctlseqs: CSI ? Pm h, Ps = 1 0 0 0 "
             "Send Mouse X & Y on button press and release, Ps = 1 0 0 6 Enable SGR Mouse "
             "Mode",
             screen=(), modes=(("mouse_tracking", 1000), ("mouse_sgr", True))),
        Case("focus_events", g, f"{CSI}?1004h", "ctlseqs: CSI ? Pm h, Ps = 1 0 0 4 Send "
             "FocusIn/FocusOut events",
             screen=(), modes=(("focus_events", True),)),
        Case("sgr_colours", g, f"{CSI}31;42mX{CSI}0mY{CSI}1mZ",
             "ctlseqs: CSI Pm m Character Attributes (SGR); esctest: SGRTests.test_SGR_Bold",
             screen=("XYZ",),
             cells=((0, 0, "'X' fg=16:1 bg=16:2"), (1, 0, "'Y'"), (2, 0, "'Z' bold")),
             tmux=True),
        Case("sgr_bright_and_256", g, f"{CSI}91mA{CSI}38;5;200mB{CSI}48;5;17mC",
             "ctlseqs: CSI Pm m (SGR), Ps = 9 1, Ps = 3 8 ; 5 ; Ps, Ps = 4 8 ; 5 ; Ps",
             screen=("ABC",),
             cells=((0, 0, "'A' fg=16:9"), (1, 0, "'B' fg=256:200"),
                     (2, 0, "'C' fg=256:200 bg=256:17")),
             tmux=True),
        Case("sgr_direct_colour", g, f"{CSI}38;2;1;2;3;48;2;4;5;6mX",
             "ctlseqs: CSI Pm m (SGR), Ps = 3 8 ; 2 ; Pr ; Pg ; Pb",
             screen=("X",), cells=((0, 0, "'X' fg=rgb:010203 bg=rgb:040506"),), tmux=True),
        Case("sgr_attributes", g, f"{CSI}3;4;7;9mA{CSI}23;24;27;29mB",
             "ctlseqs: CSI Pm m (SGR), Ps = 3, 4, 7, 9 and 2 3, 2 4, 2 7, 2 9",
             screen=("AB",),
             cells=((0, 0, "'A' italic+reverse+strike+underline"), (1, 0, "'B'")),
             tmux=True),
    ]  # fmt: skip


DA_NOTE = (
    "the attributes are ptui's (a VT220 with ANSI colour); xterm's depend on its "
    "decTerminalID, the form is the one ctlseqs gives"
)


def _reports() -> list[Case]:
    g = "sequences"
    xtversion = f"\x1bP>|ptui({__version__})\x1b\\".encode()
    return [
        Case("dsr_status", g, f"{CSI}5n", "ctlseqs: CSI Ps n Device Status Report (DSR), "
             "Ps = 5 Status Report, result CSI 0 n",
             replies=b"\x1b[0n"),
        Case("cpr", g, f"{CSI}3;7H{CSI}6n", "ctlseqs: CSI Ps n (DSR), Ps = 6 Report Cursor "
             "Position (CPR), result CSI r ; c R",
             replies=b"\x1b[3;7R"),
        Case("cpr_at_pending_wrap", g, f"abcde{CSI}6n",
             "ctlseqs: CSI 6 n (CPR); xterm's cursor stays on the last column while the "
             "wrap is pending",
             screen=("abcde",), replies=b"\x1b[1;5R", cols=5),
        Case("cpr_origin_mode", g, f"{CSI}2;3r{CSI}?6h{CSI}2;2H{CSI}6n",
             "ctlseqs: CSI Ps n, Ps = 6 (CPR; relative to the region in origin mode)",
             replies=b"\x1b[2;2R"),
        Case("da1", g, f"{CSI}c", "esctest: DATests.test_DA_NoParameter; ctlseqs: CSI Ps c "
             "Send Device Attributes (Primary DA), CSI ? 6 2 ; Ps c (VT220), 2 2 ANSI color",
             replies=b"\x1b[?62;22c", note=DA_NOTE),
        Case("da1_0", g, f"{CSI}0c", "esctest: DATests.test_DA_0",
             replies=b"\x1b[?62;22c", note=DA_NOTE),
        Case("da2", g, f"{CSI}>c", "esctest: DA2Tests.test_DA2_NoParameter; ctlseqs: "
             "CSI > Ps c Send Device Attributes (Secondary DA), Pp = 1 VT220",
             replies=b"\x1b[>1;10;0c", note=DA_NOTE),
        Case("da2_0", g, f"{CSI}>0c", "esctest: DA2Tests.test_DA2_0",
             replies=b"\x1b[>1;10;0c", note=DA_NOTE),
        Case("decrqm_dec_set", g, f"{CSI}?2004h{CSI}?2004$p",
             f"{DECRQM_DEC}, Ps = 1 (set)", replies=b"\x1b[?2004;1$y"),
        Case("decrqm_dec_reset", g, f"{CSI}?7l{CSI}?7$p",
             "esctest: DECRQMTests.test_DECRQM_DEC_DECAWM", replies=b"\x1b[?7;2$y"),
        Case("decrqm_dec_unknown", g, f"{CSI}?31337$p",
             f"{DECRQM_DEC}, Ps = 0 (not recognized)", replies=b"\x1b[?31337;0$y"),
        Case("decrqm_alt_screen", g, f"{CSI}?1049h{CSI}?1049$p", DECRQM_DEC,
             replies=b"\x1b[?1049;1$y"),
        Case("decrqm_ansi_irm", g, f"{CSI}4h{CSI}4$p",
             "esctest: DECRQMTests.test_DECRQM_ANSI_IRM; ctlseqs: CSI Ps $ p Request ANSI "
             "mode (DECRQM)", replies=b"\x1b[4;1$y"),
        Case("decrqm_ansi_lnm", g, f"{CSI}20$p", "esctest: DECRQMTests.test_DECRQM_ANSI_LNM",
             replies=b"\x1b[20;2$y"),
        Case("decstr", g, f"abc{CSI}4h{CSI}31m{CSI}!p{CSI}1GX",
             "esctest: DECSTRTests.test_DECSTR_IRM; ctlseqs: CSI ! p Soft terminal reset "
             "(DECSTR)",
             screen=("Xbc",), cursor=(1, 0), cells=((0, 0, "'X'"),), note=TMUX_NO_DECSTR),
        Case("decstr_cursor_stays", g, f"{CSI}3;5H{CSI}!pX",
             "esctest: DECSTRTests.test_DECSTR_CursorStaysPut",
             screen=("", "", "    X"), cursor=(5, 2), tmux=True),
        Case("decstr_margins_and_origin", g, f"{CSI}2;3r{CSI}?6h{CSI}!p{CSI}1;1HX",
             "esctest: DECSTRTests.test_DECSTR_STBM, DECSTRTests.test_DECSTR_DECOM",
             screen=("X",), cursor=(1, 0), note=TMUX_NO_DECSTR),
        Case("decstr_decawm", g, f"{CSI}?7l{CSI}!pabcdefg",
             "esctest: DECSTRTests.test_DECSTR_DECAWM",
             screen=("abcde", "fg"), cursor=(2, 1), cols=5, note=TMUX_NO_DECSTR),
        Case("decscusr", g, f"{CSI}5 q", "ctlseqs: CSI Ps SP q Set cursor style (DECSCUSR), "
             "Ps = 5 blinking bar",
             screen=(), modes=(("cursor_shape", 5),)),
        Case("xtversion", g, f"{CSI}>q", "ctlseqs: CSI > Ps q, Ps = 0 Report xterm name and "
             "version (XTVERSION), DCS > | text ST",
             replies=xtversion),
        Case("window_size_chars", g, f"{CSI}18t", "ctlseqs: CSI Ps ; Ps ; Ps t, Ps = 1 8 "
             "Report the size of the text area in characters, CSI 8 ; height ; width t",
             replies=b"\x1b[8;4;20t"),
        Case("kitty_push_query", g, f"{CSI}>1u{CSI}?u",
             "kitty keyboard protocol (progressive enhancement): CSI > flags u pushes, "
             "CSI ? u queries; not in ctlseqs (xterm ignores CSI > u and CSI ? u)",
             replies=b"\x1b[?1u", modes=(("kitty_flags", 1),)),
        Case("kitty_pop", g, f"{CSI}>1u{CSI}>3u{CSI}<u",
             "kitty keyboard protocol: CSI < number u pops",
             modes=(("kitty_flags", 1),)),
        Case("kitty_set", g, f"{CSI}=5;1u{CSI}=2;2u{CSI}=1;3u",
             "kitty keyboard protocol: CSI = flags ; mode u (1 set, 2 or, 3 and-not)",
             modes=(("kitty_flags", 6),)),
        Case("xtgettcap_refused", g, f"{DCS}+q536d756c78{ST}",
             "ctlseqs: DCS + q Pt ST Request Termcap/Terminfo String (XTGETTCAP), "
             "DCS 0 + r ST for invalid requests",
             screen=(), replies=b"\x1bP0+r\x1b\\",
             note="ptui answers every name as invalid; for a name it does not know "
             "(Smulx here) xterm 410's code also echoes it, DCS 0 + r 536d756c78 ST "
             "(misc.c do_dcs), where ctlseqs documents DCS 0 + r ST"),
    ]  # fmt: skip


def _osc() -> list[Case]:
    g = "sequences"
    return [
        Case("osc_0", g, f"{OSC}0;both{BEL}", "ctlseqs: OSC Ps ; Pt BEL, Ps = 0 Change Icon "
             "Name and Window Title to Pt",
             screen=(), title="both", icon="both"),
        Case("osc_1", g, f"{OSC}1;icon{ST}", "ctlseqs: OSC Ps ; Pt ST, Ps = 1 Change Icon "
             "Name to Pt",
             screen=(), title="", icon="icon"),
        Case("osc_2", g, f"{OSC}2;title{ST}", "ctlseqs: OSC Ps ; Pt ST, Ps = 2 Change Window "
             "Title to Pt",
             screen=(), title="title", events=(TermEvent("title", "title"),)),
        Case("osc_7", g, f"{OSC}7;file://host/tmp{BEL}",
             "OSC 7 current directory (VTE, iTerm2); not in ctlseqs (xterm ignores it)",
             screen=(), events=(TermEvent("cwd", "file://host/tmp"),)),
        Case("osc_8", g, f"{OSC}8;;http://x{ST}L{OSC}8;;{ST}M",
             "OSC 8 hyperlinks (egmontkob, 'Hyperlinks in Terminal Emulators'); not in "
             "ctlseqs (xterm ignores it)",
             screen=("LM",), links=(("L", "http://x"), ("M", None)), tmux=True),
        Case("osc_52", g, f"{OSC}52;c;aGVsbG8={BEL}",
             "ctlseqs: OSC Ps ; Pt, Ps = 5 2 Manipulate Selection Data; esctest: "
             "ManipulateSelectionDataTests",
             screen=(), events=(TermEvent("clipboard", ("c", "hello")),),
             note="xterm 410 sets the selection only when allowed: its default "
             "disallowedWindowOps lists SetSelection (main.h)"),
        Case("osc_9", g, f"{OSC}9;done{BEL}",
             "OSC 9 notification (iTerm2); not in ctlseqs (xterm ignores it)",
             screen=(), events=(TermEvent("notification", ("", "done")),)),
        Case("osc_9_4", g, f"{OSC}9;4;1;50{BEL}",
             "OSC 9 ; 4 progress (ConEmu, Windows Terminal); not in ctlseqs",
             screen=(), events=(TermEvent("progress", "1;50"),)),
        Case("osc_777", g, f"{OSC}777;notify;Title;Body{BEL}",
             "OSC 777 ; notify (rxvt-unicode, VTE); not in ctlseqs (xterm ignores it)",
             screen=(), events=(TermEvent("notification", ("Title", "Body")),)),
        Case("osc_10_query_st", g, f"{OSC}10;?{ST}",
             "ctlseqs: OSC Ps ; Pt, Ps = 1 0 VT100 text foreground color; a '?' replies "
             "with the sequence that sets it",
             screen=(), replies=b"\x1b]10;rgb:d0d0/d0d0/d0d0\x1b\\"),
        Case("osc_11_query_st", g, f"{OSC}11;?{ST}",
             "ctlseqs: OSC Ps ; Pt, Ps = 1 1 VT100 text background color",
             screen=(), replies=b"\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\"),
        Case("osc_11_query_bel", g, f"{OSC}11;?{BEL}",
             "ctlseqs: Operating System Commands: 'when returning information, uses the "
             "same terminator used in a query'",
             screen=(), replies=b"\x1b]11;rgb:1c1c/1c1c/1c1c\x07",
             note="tmux 3.3a answers with the query's terminator too "
             "(input_osc_colour_reply)"),
        Case("osc_12_query", g, f"{OSC}12;?{ST}",
             "ctlseqs: OSC Ps ; Pt, Ps = 1 2 text cursor color",
             screen=(), replies=b"\x1b]12;rgb:d0d0/d0d0/d0d0\x1b\\",
             note="the colour is ptui's: its cursor takes the text foreground"),
    ]  # fmt: skip


def _sequences() -> list[Case]:
    return _c0_and_escapes() + _cursor_csi() + _edit_csi() + _modes_and_sgr() + _reports() + _osc()


CASES: list[Case] = _controls() + _params() + _dispatch() + _sequences()
TMUX_CASES: list[Case] = [case for case in CASES if case.tmux]


# ---------------------------------------------------------------------------
# Checks


def _screen(emulator: Emulator) -> list[str]:
    return emulator.render_text().split("\n")[:-1]


def _expected_rows(case: Case) -> list[str]:
    assert case.screen is not None
    return [*case.screen, *[""] * (case.rows - len(case.screen))]


def _cell_errors(case: Case, ansi: str) -> list[str]:
    cells = parse_sgr_screen(ansi, case.cols)
    errors = []
    for x, y, want in case.cells:
        got = cells[y][x].describe()
        if got != want:
            errors.append(f"cell ({x}, {y}): {got} != expected {want}")
    return errors


def _errors(case: Case, emulator: Emulator) -> list[str]:
    """Every way the emulator's state differs from the case's expectations."""
    errors: list[str] = []
    if case.screen is not None:
        got = _screen(emulator)
        want = _expected_rows(case)
        if got != want:
            errors.append(f"screen {got!r}\n     expected {want!r}")
    if case.cursor is not None and emulator.cursor != case.cursor:
        errors.append(f"cursor {emulator.cursor} != expected {case.cursor}")
    errors += _cell_errors(case, emulator.render_ansi())
    if case.replies is not None:
        replies = emulator.take_replies()
        if replies != case.replies:
            errors.append(f"replies {replies!r} != expected {case.replies!r}")
    if case.title is not None and emulator.title != case.title:
        errors.append(f"title {emulator.title!r} != expected {case.title!r}")
    if case.icon is not None and emulator.screen.icon_name != case.icon:
        errors.append(f"icon name {emulator.screen.icon_name!r} != expected {case.icon!r}")
    if case.events is not None:
        events = tuple(emulator.take_events())
        if events != case.events:
            errors.append(f"events {events!r} != expected {case.events!r}")
    modes = emulator.modes
    for name, value in case.modes:
        if getattr(modes, name) != value:
            errors.append(f"mode {name} = {getattr(modes, name)!r} != expected {value!r}")
    if case.links is not None:
        runs = tuple((text, style.link) for text, style in emulator.line(0).runs)
        if runs != case.links:
            errors.append(f"row 0 links {runs!r} != expected {case.links!r}")
    return errors


def _run(case: Case, chunks: Iterator[bytes]) -> Emulator:
    emulator = Emulator(cols=case.cols, rows=case.rows)
    for chunk in chunks:
        emulator.feed(chunk)
    return emulator


def _params_of(cases: list[Case]) -> list[object]:
    return [pytest.param(case, id=f"{case.group}/{case.id}") for case in cases]


@pytest.mark.parametrize("case", _params_of(CASES))
def test_conformance(case: Case) -> None:
    """The stream fed whole gives the screen, replies and state xterm gives."""
    emulator = _run(case, iter([case.data.encode()]))
    errors = _errors(case, emulator)
    assert not errors, case.why() + "\n  " + "\n  ".join(errors)


@pytest.mark.parametrize("case", _params_of(CASES))
def test_conformance_byte_by_byte(case: Case) -> None:
    """The same, fed one byte per read: no sequence depends on arriving whole."""
    data = case.data.encode()
    emulator = _run(case, (data[i : i + 1] for i in range(len(data))))
    errors = _errors(case, emulator)
    assert not errors, case.why() + "\n  " + "\n  ".join(errors)


def test_cases_are_well_formed() -> None:
    """Ids are unique, every case cites a source and checks something."""
    ids = [f"{case.group}/{case.id}" for case in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case.group in ("controls", "params", "dispatch", "sequences"), case.id
        assert case.cite.strip(), case.id
        checks = (case.screen, case.cursor, case.replies, case.title, case.icon,
                  case.events, case.links)  # fmt: skip
        assert any(c is not None for c in checks) or case.cells or case.modes, case.id
        if case.tmux:
            assert case.screen is not None, f"{case.id}: a tmux case needs a screen"
        for x, y, _ in case.cells:
            assert 0 <= x < case.cols and 0 <= y < case.rows, case.id


# ---------------------------------------------------------------------------
# tmux 3.3a, where it agrees with xterm


def _capture(case: Case, cache: dict[str, Capture]) -> Capture:
    if case.id not in cache:
        cache[case.id] = tmux_capture(case.data.encode(), case.cols, case.rows)
    return cache[case.id]


def _tmux_text(capture: Capture, cols: int) -> list[str]:
    # DEC graphics come back as ASCII letters in the plain capture; the SGR capture
    # marks them with SO/SI, and the harness maps them (see difftest).
    if "\x0e" in capture.ansi:
        return screen_text(parse_sgr_screen(capture.ansi, cols))
    return capture.text.splitlines()


needs_tmux = pytest.mark.skipif(
    not tmux_available(), reason="tmux is not installed (.ci/run installs it)"
)


@pytest.mark.tmux
@needs_tmux
@pytest.mark.parametrize("case", _params_of(TMUX_CASES))
def test_tmux_shows_the_expected_screen(case: Case, captures: dict[str, Capture]) -> None:
    """tmux 3.3a, fed the same bytes, shows the case's screen, cursor and cells."""
    capture = _capture(case, captures)
    errors = []
    got = _tmux_text(capture, case.cols)
    want = _expected_rows(case)
    if got != want:
        errors.append(f"tmux screen {got!r}\n     expected {want!r}")
    # tmux reports a pending wrap as x == width (difftest GLOBAL_DIFFERENCES).
    cursor = (min(capture.cursor[0], case.cols - 1), capture.cursor[1])
    if case.cursor is not None and cursor != case.cursor:
        errors.append(f"tmux cursor {cursor} != expected {case.cursor}")
    errors += _cell_errors(case, capture.ansi)
    assert not errors, case.why() + "\n  " + "\n  ".join(errors)


@pytest.mark.tmux
@needs_tmux
@pytest.mark.parametrize("case", _params_of(TMUX_CASES))
def test_cells_match_tmux(case: Case, captures: dict[str, Capture]) -> None:
    """ptui's cells (characters, colours, attributes) match tmux's, cell for cell."""
    capture = _capture(case, captures)
    emulator = _run(case, iter([case.data.encode()]))
    diffs = compare(
        parse_sgr_screen(emulator.render_ansi(), case.cols),
        parse_sgr_screen(capture.ansi, case.cols),
    )
    assert not diffs, case.why() + "\n  " + "\n  ".join(diffs)
