"""Fidelity of ptui's terminal emulator, feature by feature.

Each table row is a byte string a program might write and what a real terminal
(xterm, as tmux and the agents' authors test against) shows afterwards: screen
text, cursor, styles, modes, events and replies. The FACTS.md crashers and
pyte gaps have their own section at the end.
"""

from __future__ import annotations

import time

import pytest

from tui.term.emulator import Emulator, TermEvent, check_hex_color, xterm_rgb
from tui.term.style import (
    BOLD,
    DEFAULT_STYLE,
    ITALIC,
    UNDERLINE_CURLY,
    UNDERLINE_DOUBLE,
    Style,
    rgb,
)


def emu(data: bytes | str = b"", cols: int = 10, rows: int = 4, **kwargs: object) -> Emulator:
    """An emulator that has been fed `data`."""
    emulator = Emulator(cols=cols, rows=rows, **kwargs)  # type: ignore[arg-type]
    emulator.feed(data.encode() if isinstance(data, str) else data)
    return emulator


def screen(emulator: Emulator) -> list[str]:
    """Visible rows, trailing blanks trimmed."""
    return emulator.render_text().split("\n")[:-1]


# --------------------------------------------------------------- screen text
TEXT_CASES = [
    # name, input, cols x rows, expected rows, expected cursor
    ("plain", "hello", (10, 2), ["hello", ""], (5, 0)),
    ("crlf", "ab\r\ncd", (10, 2), ["ab", "cd"], (2, 1)),
    ("bare lf keeps column", "ab\ncd", (10, 2), ["ab", "  cd"], (4, 1)),
    ("autowrap is deferred", "abcde", (5, 2), ["abcde", ""], (4, 0)),
    ("autowrap on the next char", "abcdef", (5, 2), ["abcde", "f"], (1, 1)),
    ("cr cancels pending wrap", "abcde\rX", (5, 2), ["Xbcde", ""], (1, 0)),
    ("no autowrap", "\x1b[?7labcdefg", (5, 2), ["abcdg", ""], (4, 0)),
    ("scrolls at the bottom", "1\r\n2\r\n3", (5, 2), ["2", "3"], (1, 1)),
    ("backspace", "abc\b\bX", (5, 1), ["aXc"], (2, 0)),
    ("tab", "a\tb", (20, 1), ["a       b"], (9, 0)),
    ("tab to last column", "\t\t\tx", (20, 1), ["                   x"], (19, 0)),
    ("cht", "\x1b[2Ix", (20, 1), ["                x"], (17, 0)),
    ("cbt", "\x1b[15G\x1b[Zx", (20, 1), ["        x"], (9, 0)),
    ("tbc 3 clears all", "\x1b[3ga\tb", (20, 1), ["a" + " " * 18 + "b"], (19, 0)),
    ("tbc 0 clears one", "\x1b[9G\x1b[g\ra\tb", (20, 1), ["a" + " " * 15 + "b"], (17, 0)),
    ("hts sets a stop", "\x1b[3G\x1bH\ra\tb", (20, 1), ["a b"], (3, 0)),
    ("cup", "\x1b[2;3Hx", (5, 3), ["", "  x", ""], (3, 1)),
    ("cup clamps", "\x1b[99;99Hx", (5, 3), ["", "", "    x"], (4, 2)),
    ("cup default", "abc\x1b[Hx", (5, 1), ["xbc"], (1, 0)),
    ("hvp", "\x1b[2;2fx", (5, 2), ["", " x"], (2, 1)),
    ("cuu cud cuf cub", "\x1b[3;3H\x1b[A\x1b[2C\x1b[B\x1b[3Dx", (6, 4), ["", "", " x", ""], (2, 2)),
    ("cnl cpl", "\x1b[2;4H\x1b[Ex\x1b[2Fy", (6, 4), ["y", "", "x", ""], (1, 0)),
    ("cha vpa", "\x1b[4G\x1b[2dx", (6, 3), ["", "   x", ""], (4, 1)),
    ("decsc decrc", "ab\x1b7\x1b[3;1Hcd\x1b8X", (5, 3), ["abX", "", "cd"], (3, 0)),
    ("scosc scorc", "ab\x1b[s\x1b[3;1Hcd\x1b[uX", (5, 3), ["abX", "", "cd"], (3, 0)),
    ("ind ri nel", "a\x1bDb\x1bMc\x1bEd", (5, 3), ["a c", "db", ""], (1, 1)),
    ("ri scrolls at the top", "a\x1bMb", (5, 2), [" b", "a"], (2, 0)),
    ("decaln", "\x1b#8", (3, 2), ["EEE", "EEE"], (0, 0)),
    ("ris", "abc\x1b[?25l\x1bc", (5, 1), [""], (0, 0)),
    ("dec graphics", "\x1b(0lqk\x1b(Bq", (5, 1), ["┌─┐q"], (4, 0)),
    ("so/si select g1", "\x1b)0a\x0eq\x0fq", (5, 1), ["a─q"], (3, 0)),
    # erase
    ("el 0", "abcdef\x1b[3G\x1b[K", (10, 1), ["ab"], (2, 0)),
    ("el 1", "abcdef\x1b[3G\x1b[1K", (10, 1), ["   def"], (2, 0)),
    ("el 2", "abcdef\x1b[3G\x1b[2K", (10, 1), [""], (2, 0)),
    ("ed 0", "ab\r\ncd\r\nef\x1b[2;2H\x1b[J", (5, 3), ["ab", "c", ""], (1, 1)),
    ("ed 1", "ab\r\ncd\r\nef\x1b[2;1H\x1b[1J", (5, 3), ["", " d", "ef"], (0, 1)),
    ("ed 2", "ab\r\ncd\x1b[2J", (5, 2), ["", ""], (2, 1)),
    ("ech", "abcdef\x1b[2G\x1b[2X", (10, 1), ["a  def"], (1, 0)),
    ("ech clamps at the edge", "abcdef\x1b[5G\x1b[99X", (10, 1), ["abcd"], (4, 0)),
    # insert / delete
    ("ich", "abcdef\x1b[2G\x1b[2@", (8, 1), ["a  bcdef"], (1, 0)),
    ("ich pushes off the edge", "abcdef\x1b[2G\x1b[3@", (6, 1), ["a   bc"], (1, 0)),
    ("dch", "abcdef\x1b[2G\x1b[2P", (8, 1), ["adef"], (1, 0)),
    ("dch huge", "abcdef\x1b[2G\x1b[999999P", (8, 1), ["a"], (1, 0)),
    ("il", "1\r\n2\r\n3\x1b[2;1H\x1b[L", (3, 3), ["1", "", "2"], (0, 1)),
    ("dl", "1\r\n2\r\n3\x1b[1;1H\x1b[2M", (3, 3), ["3", "", ""], (0, 0)),
    ("irm inserts", "abc\x1b[1G\x1b[4hX\x1b[4l", (5, 1), ["Xabc"], (1, 0)),
    # REP
    ("rep", "ab\x1b[3b", (10, 1), ["abbbb"], (5, 0)),
    ("rep wraps", "a\x1b[6b", (4, 2), ["aaaa", "aaa"], (3, 1)),
    # 10,000 repeats at most: 10,001 a's leave one on the last line.
    ("rep clamped", "a\x1b[999999999b", (4, 2), ["aaaa", "a"], (1, 1)),
    ("rep wide", "中\x1b[2b", (10, 1), ["中中中"], (6, 0)),
    ("rep with nothing printed", "\x1b[5bx", (10, 1), ["x"], (1, 0)),
    # DECSTBM with SU / SD
    ("su in region", "1\r\n2\r\n3\r\n4\x1b[2;3r\x1b[S", (3, 4), ["1", "3", "", "4"], (0, 0)),
    ("sd in region", "1\r\n2\r\n3\r\n4\x1b[2;3r\x1b[T", (3, 4), ["1", "", "2", "4"], (0, 0)),
    ("su 2 in region", "1\r\n2\r\n3\r\n4\x1b[2;4r\x1b[2S", (3, 4), ["1", "4", "", ""], (0, 0)),
    ("su whole screen", "1\r\n2\r\n3\x1b[2S", (3, 3), ["3", "", ""], (1, 2)),
    ("sd whole screen", "1\r\n2\r\n3\x1b[T", (3, 3), ["", "1", "2"], (1, 2)),
    ("su count clamped", "1\r\n2\x1b[99999999S", (3, 2), ["", ""], (1, 1)),
    ("lf scrolls the region", "\x1b[1;2r1\r\n2\r\n3\x1b[3;1H4", (3, 3), ["2", "3", "4"], (1, 2)),
    (
        "il in region",
        "1\r\n2\r\n3\r\n4\x1b[1;3r\x1b[2;1H\x1b[L",
        (3, 4),
        ["1", "", "2", "4"],
        (0, 1),
    ),
    (
        "dl in region",
        "1\r\n2\r\n3\r\n4\x1b[1;3r\x1b[1;1H\x1b[M",
        (3, 4),
        ["2", "3", "", "4"],
        (0, 0),
    ),
    ("invalid region ignored", "\x1b[3;2r\x1b[2;2Hx", (3, 3), ["", " x", ""], (2, 1)),
    ("origin mode", "\x1b[2;3r\x1b[?6h\x1b[1;1Hx", (3, 4), ["", "x", "", ""], (1, 1)),
    # wide characters, emoji and clusters
    ("cjk", "中文", (10, 1), ["中文"], (4, 0)),
    ("cjk wraps whole", "abcd中", (5, 2), ["abcd", "中"], (2, 1)),
    ("overwrite right half", "中\x1b[2Gx", (5, 1), [" x"], (2, 0)),
    ("overwrite left half", "中\x1b[1Gx", (5, 1), ["x"], (1, 0)),
    ("vs16 widens", "⚠️ Warning", (20, 1), ["⚠️ Warning"], (10, 0)),
    ("vs16 at the edge stays narrow", "abcd⚠️", (5, 1), ["abcd⚠️"], (4, 0)),
    ("zwj family is one cell", "👩‍👩‍👧x", (10, 1), ["👩‍👩‍👧x"], (3, 0)),
    ("flag is one cell", "🇩🇪x", (10, 1), ["🇩🇪x"], (3, 0)),
    ("combining mark", "e\u0301x", (5, 1), ["e\u0301x"], (2, 0)),
    ("zwsp is dropped", "a\u200bb", (5, 1), ["ab"], (2, 0)),
]


@pytest.mark.parametrize(
    ("data", "size", "rows", "cursor"),
    [case[1:] for case in TEXT_CASES],
    ids=[case[0] for case in TEXT_CASES],
)
def test_screen_text(
    data: str, size: tuple[int, int], rows: list[str], cursor: tuple[int, int]
) -> None:
    emulator = emu(data, *size)
    assert screen(emulator) == rows
    assert emulator.cursor == cursor
    assert [line.text.rstrip() for line in emulator.visible_lines()] == rows


# -------------------------------------------------------------------- styles
STYLE_CASES = [
    ("16 colours", "\x1b[31;42mx", Style(fg=1, bg=2)),
    ("bright", "\x1b[91;102mx", Style(fg=9, bg=10)),
    ("256", "\x1b[38;5;208;48;5;17mx", Style(fg=208, bg=17)),
    ("truecolour semicolons", "\x1b[38;2;1;2;3mx", Style(fg=rgb(1, 2, 3))),
    ("truecolour colons", "\x1b[38:2::1:2:3mx", Style(fg=rgb(1, 2, 3))),
    ("truecolour colons, no colour space", "\x1b[48:2:1:2:3mx", Style(bg=rgb(1, 2, 3))),
    ("curly underline", "\x1b[4:3mx", Style(underline=UNDERLINE_CURLY)),
    ("double underline", "\x1b[21mx", Style(underline=UNDERLINE_DOUBLE)),
    ("underline colour", "\x1b[4;58:2::9:8:7mx", Style(underline=1, underline_color=rgb(9, 8, 7))),
    ("attributes", "\x1b[1;3mx", Style(flags=BOLD | ITALIC)),
    ("reset", "\x1b[1;31m\x1b[mx", DEFAULT_STYLE),
    ("modifyOtherKeys is not SGR", "\x1b[>4;1mx", DEFAULT_STYLE),
    ("modifyOtherKeys keeps the style", "\x1b[1m\x1b[>4;2mx", Style(flags=BOLD)),
    ("osc 8 link", "\x1b]8;;https://ex.com\x07x", Style(link="https://ex.com")),
    ("osc 8 with params", "\x1b]8;id=1;https://ex.com\x1b\\x", Style(link="https://ex.com")),
    ("osc 8 end", "\x1b]8;;https://ex.com\x07\x1b]8;;\x07x", DEFAULT_STYLE),
    ("decstr resets sgr", "\x1b[1;31m\x1b[!px", DEFAULT_STYLE),
]


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in STYLE_CASES], ids=[c[0] for c in STYLE_CASES]
)
def test_styles(data: str, expected: Style) -> None:
    emulator = emu(data)
    assert screen(emulator)[0] == "x"
    assert emulator.visible_lines()[0].runs == (("x", expected),)


def test_runs_split_by_style() -> None:
    emulator = emu("ab\x1b[1mcd\x1b[0mef")
    assert emulator.visible_lines()[0].runs == (
        ("ab", DEFAULT_STYLE),
        ("cd", Style(flags=BOLD)),
        ("ef", DEFAULT_STYLE),
    )


def test_erase_uses_background_colour_only() -> None:
    emulator = emu("\x1b[1;31;44m\x1b[2J", cols=3, rows=1)
    assert emulator.visible_lines()[0].runs == (("   ", Style(bg=4)),)


def test_wide_char_placeholder_is_not_in_text() -> None:
    line = emu("中x").visible_lines()[0]
    assert line.text == "中x"


# --------------------------------------------------------------------- modes
MODE_CASES = [
    ("app cursor", "\x1b[?1h", {"app_cursor": True}),
    ("app cursor off", "\x1b[?1h\x1b[?1l", {"app_cursor": False}),
    ("app keypad esc =", "\x1b=", {"app_keypad": True}),
    ("app keypad esc >", "\x1b=\x1b>", {"app_keypad": False}),
    ("app keypad decnkm", "\x1b[?66h", {"app_keypad": True}),
    ("bracketed paste", "\x1b[?2004h", {"bracketed_paste": True}),
    ("bracketed paste off", "\x1b[?2004h\x1b[?2004l", {"bracketed_paste": False}),
    ("mouse x10", "\x1b[?9h", {"mouse_tracking": 9}),
    ("mouse 1000", "\x1b[?1000h", {"mouse_tracking": 1000}),
    ("mouse 1002", "\x1b[?1002h", {"mouse_tracking": 1002}),
    ("mouse 1003", "\x1b[?1003h", {"mouse_tracking": 1003}),
    ("last mouse mode wins", "\x1b[?1003h\x1b[?1000h", {"mouse_tracking": 1000}),
    ("mouse off", "\x1b[?1002h\x1b[?1002l", {"mouse_tracking": 0}),
    ("mouse sgr", "\x1b[?1000;1006h", {"mouse_tracking": 1000, "mouse_sgr": True}),
    ("focus", "\x1b[?1004h", {"focus_events": True}),
    ("cursor hidden", "\x1b[?25l", {"cursor_visible": False}),
    ("cursor shown", "\x1b[?25l\x1b[?25h", {"cursor_visible": True}),
    ("decscusr bar", "\x1b[6 q", {"cursor_shape": 6}),
    ("decscusr underline", "\x1b[4 q", {"cursor_shape": 4}),
    ("decscusr default", "\x1b[5 q\x1b[ q", {"cursor_shape": 0}),
    ("decscusr clamped", "\x1b[99 q", {"cursor_shape": 6}),
    ("alt screen", "\x1b[?1049h", {"alt_screen": True}),
    ("kitty push", "\x1b[>5u", {"kitty_flags": 5}),
    ("ris resets modes", "\x1b[?1h\x1b[?2004h\x1b[?1003h\x1b[>1u\x1bc",
     {"app_cursor": False, "bracketed_paste": False, "mouse_tracking": 0, "kitty_flags": 0}),
    ("decstr resets cursor keys", "\x1b[?1h\x1b[!p", {"app_cursor": False}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in MODE_CASES], ids=[c[0] for c in MODE_CASES]
)
def test_modes(data: str, expected: dict[str, object]) -> None:
    emulator = emu(data)
    modes = emulator.modes
    assert {name: getattr(modes, name) for name in expected} == expected
    assert screen(emulator) == ["", "", "", ""], "a mode sequence must not print"


def test_default_modes() -> None:
    modes = Emulator().modes
    assert (modes.app_cursor, modes.app_keypad, modes.bracketed_paste) == (False, False, False)
    assert (modes.mouse_tracking, modes.mouse_sgr, modes.focus_events) == (0, False, False)
    assert (modes.kitty_flags, modes.cursor_visible, modes.alt_screen) == (0, True, False)


# ------------------------------------------------------------------- replies
REPLY_CASES = [
    ("da1", "\x1b[c", b"\x1b[?62;22c"),
    ("da1 with 0", "\x1b[0c", b"\x1b[?62;22c"),
    ("da2", "\x1b[>c", b"\x1b[>1;10;0c"),
    ("da3 unanswered", "\x1b[=c", b""),
    ("dsr status", "\x1b[5n", b"\x1b[0n"),
    ("cpr", "\x1b[3;7H\x1b[6n", b"\x1b[3;7R"),
    # DECXCPR carries the page too (ctlseqs "CSI ? 6 n"): always page 1 here.
    ("cpr private", "\x1b[2;2H\x1b[?6n", b"\x1b[?2;2;1R"),
    ("cpr in origin mode", "\x1b[3;4r\x1b[?6h\x1b[2;2H\x1b[6n", b"\x1b[2;2R"),
    ("decrqm set", "\x1b[?2004h\x1b[?2004$p", b"\x1b[?2004;1$y"),
    ("decrqm reset", "\x1b[?2004$p", b"\x1b[?2004;2$y"),
    ("decrqm sync", "\x1b[?2026$p", b"\x1b[?2026;2$y"),
    ("decrqm cursor visible", "\x1b[?25$p", b"\x1b[?25;1$y"),
    ("decrqm alt screen", "\x1b[?1049h\x1b[?1049$p", b"\x1b[?1049;1$y"),
    ("decrqm unknown", "\x1b[?31337$p", b"\x1b[?31337;0$y"),
    ("decrqm ansi irm", "\x1b[4$p", b"\x1b[4;2$y"),
    ("kitty query", "\x1b[?u", b"\x1b[?0u"),
    ("kitty query after push", "\x1b[>1u\x1b[?u", b"\x1b[?1u"),
    # The reply ends as the query did (ctlseqs: "the same terminator used in a query").
    ("osc 11 bel", "\x1b]11;?\x07", b"\x1b]11;rgb:1c1c/1c1c/1c1c\x07"),
    ("osc 10 st", "\x1b]10;?\x1b\\", b"\x1b]10;rgb:d0d0/d0d0/d0d0\x1b\\"),
    ("window size", "\x1b[18t", b"\x1b[8;4;10t"),
    ("xtgettcap refused", "\x1bP+q544e\x1b\\", b"\x1bP0+r\x1b\\"),
    ("several in order", "\x1b[c\x1b[5n", b"\x1b[?62;22c\x1b[0n"),
]


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in REPLY_CASES], ids=[c[0] for c in REPLY_CASES]
)
def test_replies(data: str, expected: bytes) -> None:
    emulator = emu(data)
    assert emulator.take_replies() == expected
    assert emulator.take_replies() == b"", "replies are handed out once"
    assert screen(emulator) == ["", "", "", ""]


def test_colour_queries_answer_with_the_colours_set() -> None:
    # A light theme: an agent asking for the background must hear a light one.
    emulator = emu()
    emulator.set_colors("#1C1C1C", "#f5f5f5")
    emulator.feed(b"\x1b]11;?\x07")
    assert emulator.take_replies() == b"\x1b]11;rgb:f5f5/f5f5/f5f5\x07"
    emulator.feed(b"\x1b]10;?\x1b\\")
    assert emulator.take_replies() == b"\x1b]10;rgb:1c1c/1c1c/1c1c\x1b\\"


@pytest.mark.parametrize(
    "bad",
    ["f5f5f5", "#fff", "#f5f5f5f5", "#gggggg", "rgb:f5/f5/f5", " #f5f5f5", "#f5f5f5\n", 7, None],
)
def test_colours_must_be_hex(bad: object) -> None:
    emulator = emu()
    with pytest.raises(ValueError, match="#rrggbb"):
        check_hex_color(bad)
    with pytest.raises(ValueError, match="#rrggbb"):
        emulator.set_colors("#000000", bad)  # type: ignore[arg-type]
    emulator.feed(b"\x1b]11;?\x07")
    assert emulator.take_replies() == b"\x1b]11;rgb:1c1c/1c1c/1c1c\x07", "left as it was"


def test_xterm_rgb_doubles_each_byte() -> None:
    assert xterm_rgb("#0a80Ff") == "rgb:0a0a/8080/ffff"


def test_xtversion_names_ptui() -> None:
    reply = emu("\x1b[>q").take_replies()
    assert reply.startswith(b"\x1bP>|ptui(") and reply.endswith(b")\x1b\\")


def test_kitty_keyboard_push_pop_set() -> None:
    emulator = emu()

    def query() -> bytes:
        emulator.feed(b"\x1b[?u")
        return emulator.take_replies()

    emulator.feed(b"\x1b[>1u\x1b[>3u")
    assert query() == b"\x1b[?3u"
    emulator.feed(b"\x1b[<u")
    assert query() == b"\x1b[?1u"
    emulator.feed(b"\x1b[<u")
    assert query() == b"\x1b[?0u"
    emulator.feed(b"\x1b[<9u")  # popping an empty stack is harmless
    assert query() == b"\x1b[?0u"
    emulator.feed(b"\x1b[>1u\x1b[>2u\x1b[>4u\x1b[<2u")
    assert query() == b"\x1b[?1u"
    emulator.feed(b"\x1b[=5;1u")  # set
    assert query() == b"\x1b[?5u"
    emulator.feed(b"\x1b[=2;2u")  # or
    assert query() == b"\x1b[?7u"
    emulator.feed(b"\x1b[=1;3u")  # and not
    assert query() == b"\x1b[?6u"
    assert emulator.modes.kitty_flags == 6
    emulator.feed(b"\x1b[>255u")  # only the five defined bits
    assert emulator.modes.kitty_flags == 31
    # A flood of pushes stays bounded and popping everything returns to 0.
    emulator.feed(b"\x1b[>1u" * 1000 + b"\x1b[<1000u")
    assert emulator.modes.kitty_flags == 0
    assert len(emulator.screen.kitty_flags) <= 16
    assert emulator.take_events() == [], "kitty flags are internal, not events"


# -------------------------------------------------------------------- events
EVENT_CASES = [
    ("bell", "\x07", [TermEvent("bell")]),
    ("osc 0 title", "\x1b]0;hello\x07", [TermEvent("title", "hello")]),
    ("osc 2 title st", "\x1b]2;héllo\x1b\\", [TermEvent("title", "héllo")]),
    ("osc 7 cwd", "\x1b]7;file://host/tmp/x\x07", [TermEvent("cwd", "file://host/tmp/x")]),
    ("osc 52 copy", "\x1b]52;c;aGVsbG8=\x07", [TermEvent("clipboard", ("c", "hello"))]),
    ("osc 52 default target", "\x1b]52;;aGk=\x07", [TermEvent("clipboard", ("c", "hi"))]),
    ("osc 52 read refused", "\x1b]52;c;?\x07", []),
    ("osc 9 notification", "\x1b]9;done\x07", [TermEvent("notification", ("", "done"))]),
    ("osc 9;4 progress", "\x1b]9;4;1;50\x07", [TermEvent("progress", "1;50")]),
    ("osc 777", "\x1b]777;notify;Title;Body\x07", [TermEvent("notification", ("Title", "Body"))]),
    ("ed 3", "\x1b[3J", [TermEvent("scrollback-cleared")]),
    ("in order", "\x1b]2;a\x07\x07\x1b]2;b\x07",
     [TermEvent("title", "a"), TermEvent("bell"), TermEvent("title", "b")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in EVENT_CASES], ids=[c[0] for c in EVENT_CASES]
)
def test_events(data: str, expected: list[TermEvent]) -> None:
    emulator = emu(data)
    assert emulator.take_events() == expected
    assert emulator.take_events() == []
    assert screen(emulator) == ["", "", "", ""], "OSC payloads must not print"


def test_title_property() -> None:
    assert emu("\x1b]0;one\x07\x1b]2;two\x07").title == "two"


# ------------------------------------------------------- swallowed sequences
SWALLOWED = [
    ("dcs sixel", "\x1bPq#0;2;0;0;0#0~~@@vv\x1b\\"),
    # A DCS ends only at ST: a BEL is payload, and the rest must not leak (ctlseqs,
    # "Device-Control functions"; Williams' dcs_passthrough).
    ("dcs bel in payload", "\x1bP$qm\x07tail\x1b\\"),
    ("apc kitty graphics", "\x1b_Gf=100,a=T;AAAA\x1b\\"),
    ("pm", "\x1b^private\x1b\\"),
    ("sos", "\x1bXstart of string\x1b\\"),
    ("unknown osc", "\x1b]1337;File=abc\x07"),
    ("decstr", "\x1b[!p"),
    ("unknown csi", "\x1b[?999;1$z"),
    ("xtmodkeys", "\x1b[>4;1m"),
    ("nul and del", "\x00\x7f"),
    ("c1 controls", "\u0085\u009b"),
]


@pytest.mark.parametrize("data", [c[1] for c in SWALLOWED], ids=[c[0] for c in SWALLOWED])
def test_sequences_are_not_printed(data: str) -> None:
    emulator = emu("a" + data + "b")
    assert screen(emulator)[0] == "ab"
    assert emulator.visible_lines()[0].runs == (("ab", DEFAULT_STYLE),)


@pytest.mark.parametrize("data", [c[1] for c in SWALLOWED], ids=[c[0] for c in SWALLOWED])
def test_sequences_split_at_every_offset(data: str) -> None:
    raw = ("a" + data + "b").encode()
    for cut in range(len(raw) + 1):
        emulator = emu(raw[:cut])
        emulator.feed(raw[cut:])
        assert screen(emulator)[0] == "ab", f"split at {cut}"


def test_utf8_split_at_every_offset() -> None:
    raw = "é中👩‍👩‍👧⚠️x".encode()
    whole = screen(emu(raw, cols=20))
    for cut in range(len(raw) + 1):
        emulator = emu(raw[:cut], cols=20)
        emulator.feed(raw[cut:])
        assert screen(emulator) == whole, f"split at {cut}"


def test_invalid_utf8_is_replaced() -> None:
    assert screen(emu(b"a\xffb\xc3"))[0] == "a\ufffdb"


# -------------------------------------------------------- alternate screen
@pytest.mark.parametrize("mode", [1049, 1047, 47])
def test_alternate_screen_keeps_main_buffer(mode: int) -> None:
    emulator = emu(f"shell$ ls\r\nfile\x1b[?{mode}h\x1b[2J\x1b[Hvim screen", cols=12, rows=3)
    assert emulator.modes.alt_screen
    assert screen(emulator)[0] == "vim screen"
    assert "shell$ ls" not in emulator.render_text()
    emulator.feed(f"\x1b[?{mode}l".encode())
    assert not emulator.modes.alt_screen
    assert screen(emulator) == ["shell$ ls", "file", ""]


def test_1049_saves_and_restores_the_cursor() -> None:
    emulator = emu("ab\r\ncd\x1b[?1049h\x1b[3;5Hx", cols=8, rows=3)
    assert emulator.cursor == (5, 2)
    emulator.feed(b"\x1b[?1049l")
    assert emulator.cursor == (2, 1)
    emulator.feed(b"!")
    assert screen(emulator) == ["ab", "cd!", ""]


def test_1049_clears_the_alternate_screen_on_entry() -> None:
    emulator = emu("\x1b[?1049hold\x1b[?1049l\x1b[?1049h", cols=8, rows=2)
    assert screen(emulator) == ["", ""]


def test_1047_clears_on_exit_47_does_not() -> None:
    emulator = emu("\x1b[?47hkept\x1b[?47l\x1b[?47h", cols=8, rows=2)
    assert screen(emulator)[0] == "kept"
    emulator = emu("\x1b[?1047hgone\x1b[?1047l\x1b[?1047h", cols=8, rows=2)
    assert screen(emulator)[0] == ""


def test_alternate_screen_does_not_feed_scrollback() -> None:
    emulator = emu("\x1b[?1049h" + "line\r\n" * 20, cols=8, rows=3)
    assert emulator.history_size == 0
    emulator.feed(b"\x1b[?1049l")
    assert emulator.history_size == 0


def test_buffer_switch_reports_every_line() -> None:
    emulator = emu("main", cols=8, rows=3)
    changes = emulator.feed(b"\x1b[?1049h")
    assert changes is not None and set(changes.lines) == {0, 1, 2}
    changes = emulator.feed(b"\x1b[?1049l")
    assert changes is not None and set(changes.lines) == {0, 1, 2}
    assert changes.lines[0].text == "main"


# -------------------------------------------------------------- scrollback
def test_scrollback_keeps_lines_oldest_first() -> None:
    emulator = emu("".join(f"\x1b[1mL{i}\x1b[m\r\n" for i in range(10)), cols=8, rows=3)
    assert emulator.history_size == 8
    history = emulator.history_lines(0, 100)
    assert [line.text for line in history] == [f"L{i}" for i in range(8)]
    assert history[0].runs == (("L0", Style(flags=BOLD)),)
    assert screen(emulator) == ["L8", "L9", ""]
    assert [line.text for line in emulator.history_lines(6, 8)] == ["L6", "L7"]


def test_scrollback_limit() -> None:
    emulator = emu("".join(f"{i}\r\n" for i in range(100)), cols=5, rows=2, scrollback=10)
    assert emulator.history_size == 10
    assert [line.text for line in emulator.history_lines(0, 10)] == [str(i) for i in range(89, 99)]


def test_scrollback_default_is_10000() -> None:
    emulator = Emulator(cols=4, rows=2)
    emulator.feed(b"x\r\n" * 12_000)
    assert emulator.history_size == 10_000


def test_scrollback_zero_keeps_nothing() -> None:
    assert emu("a\r\nb\r\nc\r\n", cols=4, rows=2, scrollback=0).history_size == 0


def test_scroll_region_does_not_feed_scrollback() -> None:
    emulator = emu("\x1b[2;3r\x1b[3;1H" + "x\r\n" * 10, cols=4, rows=3)
    assert emulator.history_size == 0


def test_wide_and_combining_survive_scrollback() -> None:
    emulator = emu("中e\u0301👩‍👧\x1b[31mr\x1b[m\r\n\r\n", cols=10, rows=1)
    (line,) = emulator.history_lines(0, 1)
    assert line.text == "中e\u0301👩‍👧r"
    assert line.runs[-1] == ("r", Style(fg=1))


def test_ed3_clears_scrollback() -> None:
    emulator = emu("1\r\n2\r\n3\r\n", cols=4, rows=2)
    assert emulator.history_size == 2
    emulator.feed(b"\x1b[3J")
    assert emulator.history_size == 0
    assert screen(emulator) == ["3", ""]


# ------------------------------------------------------------------- resize
def test_resize_rewraps_content_and_clamps_cursor() -> None:
    # Reflow (tests/term/test_reflow.py holds it to tmux): the line longer than the
    # new width wraps, and joins again when the screen grows back.
    emulator = emu("abcdef\r\nxyz\x1b[2;8H", cols=10, rows=3)
    emulator.resize(4, 3)
    # One more row than fits: the top one goes to the scrollback (the blank row
    # below the cursor stays, as in tmux); the cursor past "xyz" stays on its row.
    assert [line.text for line in emulator.history_lines(0, 9)] == ["abcd"]
    assert screen(emulator) == ["ef", "xyz", ""]
    assert emulator.cursor == (3, 1)
    emulator.resize(10, 3)
    assert screen(emulator) == ["abcdef", "xyz", ""]
    assert emulator.history_size == 0
    assert emulator.cursor == (3, 1)


def test_resize_shorter_pushes_top_into_scrollback_and_back() -> None:
    emulator = emu("1\r\n2\r\n3\r\n4", cols=4, rows=4)
    emulator.resize(4, 2)
    assert screen(emulator) == ["3", "4"]
    assert emulator.cursor == (1, 1)
    assert [line.text for line in emulator.history_lines(0, 9)] == ["1", "2"]
    emulator.resize(4, 4)
    assert screen(emulator) == ["1", "2", "3", "4"]
    assert emulator.cursor == (1, 3)
    assert emulator.history_size == 0


def test_resize_shorter_drops_blank_lines_below_cursor_first() -> None:
    emulator = emu("1\r\n2", cols=4, rows=5)
    emulator.resize(4, 2)
    assert screen(emulator) == ["1", "2"]
    assert emulator.history_size == 0


def test_resize_moves_a_wide_char_that_no_longer_fits() -> None:
    emulator = emu("ab中", cols=6, rows=2)
    emulator.resize(3, 2)
    assert [line.text for line in emulator.history_lines(0, 9)] == ["ab"]
    assert screen(emulator) == ["中", ""]
    assert emulator.cursor == (2, 0)


def test_resize_reports_full_change_and_clamps_size() -> None:
    emulator = emu("x", cols=10, rows=3)
    emulator.resize(20, 5)
    changes = emulator.take_changes()
    assert changes is not None and changes.full and set(changes.lines) == set(range(5))
    emulator.resize(0, 0)
    assert (emulator.cols, emulator.rows) == (1, 1)
    emulator.resize(10**9, 10**9)
    assert (emulator.cols, emulator.rows) == (2000, 1000)
    assert emulator.feed(b"still fine") is not None


def test_resize_in_alt_screen_rewraps_the_main_buffer() -> None:
    emulator = emu("main text\x1b[?1049halt", cols=12, rows=3)
    emulator.resize(6, 3)
    emulator.feed(b"\x1b[?1049l")
    assert [line.text for line in emulator.history_lines(0, 9)] == ["main t"]
    assert screen(emulator) == ["ext", "", ""]


def test_resize_shorter_in_alt_screen_keeps_shell_text_visible() -> None:
    # The shell printed one line and started vim; the user makes the pane shorter.
    emulator = emu("$ vim\r\n\x1b[?1049hvim", cols=12, rows=10)
    emulator.resize(12, 5)
    emulator.feed(b"\x1b[?1049l")
    assert screen(emulator) == ["$ vim", "", "", "", ""]
    assert emulator.cursor == (0, 1)
    assert emulator.history_size == 0


def test_emoji_skin_tone_modifier_is_one_wide_cell() -> None:
    emulator = emu("👍🏽x", cols=10, rows=1)
    assert screen(emulator) == ["👍🏽x"]
    assert emulator.cursor == (3, 0)


def test_resize_resets_scroll_region() -> None:
    emulator = emu("\x1b[1;2r", cols=4, rows=4)
    emulator.resize(4, 3)
    emulator.feed(b"\x1b[3;1H1\r\n2")
    assert screen(emulator) == ["", "1", "2"]


# -------------------------------------------------------- synchronized output
def test_sync_output_holds_the_frame_until_reset() -> None:
    emulator = emu("before", sync_timeout=5.0)
    emulator.take_changes()
    assert emulator.feed(b"\x1b[?2026h\x1b[Hhalf") is None
    assert emulator.holding_frame
    assert emulator.feed(b" done") is None
    changes = emulator.feed(b"\x1b[?2026l")
    assert changes is not None and changes.lines[0].text == "half done"
    assert not emulator.holding_frame


def test_sync_output_times_out() -> None:
    emulator = emu(sync_timeout=0.05)
    emulator.take_changes()
    assert emulator.feed(b"\x1b[?2026hstuck") is None
    time.sleep(0.08)
    assert not emulator.holding_frame
    changes = emulator.take_changes()
    assert changes is not None and changes.lines[0].text == "stuck"


def test_sync_output_says_how_long_the_hold_lasts() -> None:
    emulator = emu(sync_timeout=0.3)
    assert emulator.hold_remaining == 0
    emulator.feed(b"\x1b[?2026hx")
    time.sleep(0.1)
    assert 0.05 < emulator.hold_remaining <= 0.2, "counted from the frame's start"
    emulator.feed(b"\x1b[?2026l")
    assert emulator.hold_remaining == 0


def test_sync_output_force() -> None:
    emulator = emu("\x1b[?2026hx", sync_timeout=5.0)
    changes = emulator.take_changes(force=True)
    assert changes is not None and changes.lines[0].text == "x"


def test_sync_output_restarts_the_timer_per_frame() -> None:
    emulator = emu(sync_timeout=0.2)
    emulator.feed(b"\x1b[?2026ha\x1b[?2026l")
    time.sleep(0.25)
    assert emulator.feed(b"\x1b[?2026hb") is None, "a new frame gets a fresh time-out"


# ----------------------------------------------------------------- changes
def test_changes_report_only_changed_lines() -> None:
    emulator = emu("a\r\nb\r\nc", cols=5, rows=3)
    emulator.take_changes()
    changes = emulator.feed(b"\x1b[2;1HB")
    assert changes is not None and set(changes.lines) == {1} and changes.scrolled == 0
    assert changes.cursor == (1, 1)
    assert emulator.feed(b"") is None
    assert emulator.feed(b"\x1b[H") is None or emulator.take_changes() is None


def test_changes_report_scrolling() -> None:
    emulator = emu("a\r\nb\r\nc", cols=5, rows=3)
    emulator.take_changes()
    changes = emulator.feed(b"\r\nd\r\ne")
    assert changes is not None and changes.scrolled == 2
    assert {y: line.text for y, line in changes.lines.items()} == {1: "d", 2: "e"}


# ---------------------------------------------- FACTS.md crashers and gaps
@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"abc\x1b[5Kd", ["abcd"]),  # pyte: UnboundLocalError; xterm ignores EL 5
        (b"abc\x1b[7Jd", ["abcd"]),  # pyte: UnboundLocalError; xterm ignores ED 7
        (b"\x1b[1;2;3;4fx", [" x"]),  # pyte: TypeError
        ("中\x1b[D中".encode(), [" 中"]),  # pyte: IndexError in display
        ("⚠️ Warning".encode(), ["⚠️ Warning"]),  # pyte: cut to "⚠"
        (b"\x1b[38:2::1:2:3mA\x1b[4:3mB", ["AB"]),  # pyte: printed as text
        (b"\x1bPqpayload\x1b\\A\x1b_Gpayload\x1b\\B", ["AB"]),
        (b"A\x1b[!pB", ["AB"]),
    ],
)
def test_facts_crashers(data: bytes, rows: list[str]) -> None:
    emulator = emu(data, cols=20, rows=1)
    assert screen(emulator) == rows
    assert emulator.stream.errors == 0
    assert len(emulator.screen.display) == 1  # pyte's `display` raised here


def test_erase_with_unknown_parameter_keeps_scrollback() -> None:
    emulator = emu("1\r\n2\r\n3\r\n", cols=4, rows=2)
    emulator.feed(b"\x1b[7J\x1b[4J")
    assert emulator.history_size == 2
    assert emulator.take_events() == []


def test_modify_other_keys_is_not_bold_underline() -> None:
    emulator = emu("\x1b[>4;1mx")
    assert emulator.visible_lines()[0].runs == (("x", DEFAULT_STYLE),)
    assert TermEvent("modify-other-keys", ">4;1") in emulator.take_events()


def test_combining_marks_are_capped_per_cell() -> None:
    emulator = emu("e" + "\u0301" * 100_000 + "x", cols=5, rows=1)
    text = emulator.visible_lines()[0].text
    assert text.startswith("e\u0301\u0301") and text.endswith("x") and len(text) <= 64
    assert screen(emulator)[0].endswith("x")
    assert emulator.cursor == (2, 0)


def test_main_buffer_not_painted_over_by_1049() -> None:
    emulator = emu("prompt$ \x1b[?1049h\x1b[Hfull screen app\x1b[?1049l", cols=20, rows=2)
    assert screen(emulator) == ["prompt$", ""]
    assert emulator.cursor == (8, 0)


@pytest.mark.parametrize("cluster", ["🇩🇪", "🇩"])
def test_wide_cluster_wrapping_from_last_column_updates_line_model(cluster: str) -> None:
    # Found by the seeded fuzzer: ESC#8, then (in a second read) CHT to the last column
    # and a regional indicator.
    emulator = emu("abcdeZ", cols=6, rows=2)
    emulator.take_changes()
    emulator.visible_lines()
    changes = emulator.feed(f"\x1b[1;6H{cluster}".encode())
    assert screen(emulator) == ["abcde", cluster]
    assert changes is not None and changes.lines[0].text == "abcde"
    assert [line.text for line in emulator.visible_lines()] == ["abcde", cluster]


@pytest.mark.parametrize("cluster", ["中", "中\u0301", "👩\u200d👧", "⚠️"])
def test_wide_char_wrapping_from_last_column_updates_line_model(cluster: str) -> None:
    emulator = emu("abcdeZ", cols=6, rows=2)
    emulator.take_changes()
    changes = emulator.feed(f"\x1b[1;6H{cluster}".encode())
    assert changes is not None
    assert [line.text for line in emulator.visible_lines()] == screen(emulator)


def test_display_never_raises_after_wide_char_overwrites() -> None:
    emulator = emu("中\x1b[D中\x1b[2D中文\x1b[3G中", cols=6, rows=1)
    assert len(emulator.screen.display) == 1
    assert emulator.render_text().count("\n") == 1


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize(
    ("data", "cursor"),
    [
        # ctlseqs, "Control Bytes, Characters, and Sequences": a parameter is a decimal
        # number; xterm reads every digit, so any number of leading zeros is that number.
        (f"\x1b[{'0' * 40}3;{'0' * 1000}7H", (6, 2)),
        (f"\x1b[{'0' * 5000}5C", (5, 0)),
        # Values above 65535 are clamped (xterm's MaxParam); the screen then clamps the
        # cursor. A million digits cost no big-integer parse.
        ("\x1b[99999999999999999999;3H", (2, 3)),
        (f"\x1b[2;{'9' * 1_000_000}H", (9, 1)),
        ("\x1b[000;000Hx", (1, 0)),  # zero, however written, is the default
    ],
    ids=["zeros-cup", "zeros-cuf", "clamp", "million-digits", "all-zeros"],
)
def test_parameters_are_read_as_xterm_reads_them(data: str, cursor: tuple[int, int]) -> None:
    # tmux drops a sequence whose parameters pass 64 bytes, so these are held to
    # xterm here, not in the differential tests.
    started = time.perf_counter()
    assert emu(data).cursor == cursor
    assert time.perf_counter() - started < 1.0


# Williams' DEC ANSI parser (vt100.net/emu/dec_ansi_parser), which xterm and tmux
# follow: a C0 control inside an ESC or CSI sequence runs in place and the sequence
# goes on; ESC restarts, CAN and SUB abort; an OSC ignores controls, BEL ends it; a
# DCS/APC/PM/SOS ends only at ST; an ESC that is not ST abandons a string.
INSIDE_CASES = [
    ("csi-bs", "A\x1b[2\x08CX", "A X", ""),
    ("csi-cr", "ABCD\x1b[2\rCX", "ABXD", ""),
    ("csi-del", "A\x1b[2\x7fCX", "A  X", ""),
    ("csi-esc-restarts", "x\x1b[2\x1b[3Cy", "x   y", ""),
    ("csi-can-aborts", "x\x1b[2\x18Cy", "xCy", ""),
    ("csi-sub-aborts", "x\x1b[2\x1aCy", "xCy", ""),
    ("esc-hash-bs", "ab\x1b#\x088", "EEEEEEEEEE", ""),
    ("esc-paren-cr", "ab\x1b(\r0q", "─b", ""),
    ("osc-abandoned-by-esc", "\x1b]2;abc\x1b[1CX", " X", ""),
    ("osc-can-aborts", "\x1b]2;ab\x18cd\x07", "cd", ""),
    ("osc-ignores-controls", "x\x1b]2;t\x08i\x07y", "xy", "ti"),
    ("osc-ignores-del", "x\x1b]2;t\x7fi\x07y", "xy", "ti"),  # found by the fuzzer
    ("dcs-bel-is-payload", "a\x1bP1;2\x07zz\x1b\\b", "ab", ""),
    ("apc-abandoned-by-esc", "a\x1b_zz\x1b[2Cb", "a  b", ""),
    ("param-after-intermediate", "x\x1b[2$3Cy", "xy", ""),
    ("late-private-marker", "x\x1b[2?Cy", "xy", ""),
    ("colon-outside-sgr", "x\x1b[2:3Cy", "xy", ""),
]


@pytest.mark.parametrize(
    ("data", "row", "title"),
    [c[1:] for c in INSIDE_CASES],
    ids=[c[0] for c in INSIDE_CASES],
)
def test_sequences_follow_the_vt500_state_model(data: str, row: str, title: str) -> None:
    raw = data.encode()
    for cut in range(len(raw) + 1):
        emulator = emu(raw[:cut])
        emulator.feed(raw[cut:])
        assert screen(emulator)[0] == row, f"split at {cut}"
        assert emulator.title == title
        assert emulator.stream.errors == 0


def test_thirty_parameters_are_kept() -> None:
    # xterm keeps NPARAM = 30 parameters and ignores the rest: the 31st, a mode
    # that would turn autowrap off, does nothing.
    emulator = emu("\x1b[?" + "1;" * 30 + "7l" + "x" * 12)
    assert screen(emulator)[:2] == ["xxxxxxxxxx", "xx"]
    emulator = emu("\x1b[?" + "1;" * 29 + "7l" + "x" * 12)
    assert screen(emulator)[:2] == ["xxxxxxxxxx", ""]


def test_tab_stops_follow_a_widened_screen() -> None:
    # xterm: a screen that grows gets the default stops, every 8 columns, past its
    # old width; HT then stops at each, not at the last column.
    emulator = emu(cols=20, rows=2)
    emulator.resize(40, 2)
    emulator.feed(b"\x1b[1;17H\tA\tB")
    assert screen(emulator)[0] == " " * 24 + "A" + " " * 7 + "B"
    emulator.resize(12, 2)
    emulator.resize(30, 2)
    emulator.feed(b"\x1b[2;1H\t\ta\tb")
    assert screen(emulator)[1] == " " * 16 + "a" + " " * 7 + "b"


def test_decaln_resets_margins_origin_wrap_and_sgr() -> None:
    # ctlseqs "ESC # 8" and DEC STD 070: DECALN also sets the margins to the whole
    # screen, resets origin mode and SGR, and homes the cursor.
    emulator = emu("\x1b[2;3r\x1b[?6h\x1b[31m" + "x" * 10 + "\x1b#8", cols=10, rows=4)
    assert emulator.cursor == (0, 0)
    emulator.feed(b"\x1b[4;1HZ\x1b[6n")
    assert screen(emulator) == ["E" * 10, "E" * 10, "E" * 10, "Z" + "E" * 9]
    assert emulator.take_replies() == b"\x1b[4;2R"  # origin mode is off
    assert emulator.visible_lines()[3].runs[0][1] == DEFAULT_STYLE  # SGR was reset


def test_tab_at_a_pending_wrap_keeps_it() -> None:
    # xterm: TabToNextStop (tabs.c) moves the column and leaves do_wrap, so HT on the
    # last column with a wrap pending leaves both.
    emulator = emu("x" * 10 + "\tY", cols=10, rows=3)
    assert screen(emulator)[:2] == ["x" * 10, "Y"]


def test_vpr_ignores_the_margins() -> None:
    # ctlseqs "CSI Pm e" (VPR): like CUD but, in xterm, not held at the bottom margin.
    emulator = emu("\x1b[1;2r\x1b[1;1H\x1b[3eV\x1b[1;1H\x1b[3BD", cols=10, rows=5)
    assert screen(emulator)[:4] == ["", "D", "", "V"]


@pytest.mark.parametrize(
    ("data", "row"),
    [
        ("a\x1b[3bX", "aaaaX"),
        ("a\x1b[1;5H\x1b[3bX", "a   X"),  # a CUP between: nothing to repeat
        ("a\x1b[31m\x1b[3bX", "aX"),  # an SGR between, too
        ("a\x07\x1b[3bX", "aX"),  # and a control
        ("a\x1b[3b\x1b[2bX", "aaaaX"),  # REP itself is a sequence
    ],
)
def test_rep_repeats_only_the_character_just_printed(data: str, row: str) -> None:
    # ctlseqs "CSI Ps b" (REP): the preceding graphic character; xterm forgets it
    # once any control or sequence runs.
    raw = data.encode()
    for cut in range(len(raw) + 1):
        emulator = emu(raw[:cut], cols=20)
        emulator.feed(raw[cut:])
        assert screen(emulator)[0] == row, f"split at {cut}"


@pytest.mark.parametrize(
    ("data", "row"),
    [
        ("\x1b*0\x1bNqq", "─q"),  # SS2: one character from G2
        ("\x1b+0\x1bOqq", "─q"),  # SS3: one character from G3
        ("\x1b(0\x1bN\x1b*Bqq", "q─"),  # SS2 takes G2 as it is when the character comes
        ("\x1b+0\x1bolqk\x0fx", "┌─┐x"),  # LS3 until SI
        ("\x1b*0\x1bn\x1b7\x0f\x1b8q", "─"),  # DECSC/DECRC keep G2 and the shift
    ],
)
def test_g2_g3_and_their_shifts(data: str, row: str) -> None:
    # ctlseqs: "ESC * C" / "ESC + C" designate G2 / G3; "ESC N" / "ESC O" are SS2 /
    # SS3 (the next character only), "ESC n" / "ESC o" are LS2 / LS3.
    assert screen(emu(data, cols=20))[0] == row


def test_bs_at_a_pending_wrap_moves_off_the_last_column() -> None:
    # esctest2 BSTests.test_BS_CursorStartsInDoWrapPosition: "ab" ending on the
    # last column, then BS and X, leaves "Xb" (tmux only cancels the wrap).
    emulator = emu("\x1b[1;9Hab\x08X", cols=10, rows=2)
    assert screen(emulator)[0] == " " * 8 + "Xb"
