"""SGR parsing and rendering: every form agents send, and the two round trips ptui relies on.

`apply_sgr` is the reference; `SgrDelta` (the emulator's cached form) must agree
with it for any style, and `style_to_sgr` must produce a sequence that rebuilds
the same style from scratch (it is what `ptui replay --ansi` and the differential
tests print).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.term.style import (
    BLINK,
    BOLD,
    DEFAULT,
    DEFAULT_STYLE,
    DIM,
    HIDDEN,
    ITALIC,
    OVERLINE,
    PALETTE,
    REVERSE,
    STRIKE,
    UNDERLINE_CURLY,
    UNDERLINE_DASHED,
    UNDERLINE_DOTTED,
    UNDERLINE_DOUBLE,
    UNDERLINE_NONE,
    UNDERLINE_SINGLE,
    SgrDelta,
    Style,
    StyleTable,
    apply_sgr,
    color_to_hex,
    rgb,
    style_to_sgr,
)

S = DEFAULT_STYLE

# (start style, SGR parameters, expected style)
SGR_CASES = [
    # resets
    (Style(fg=1, bg=2, flags=BOLD, underline=1), "", Style()),
    (Style(fg=1, bg=2, flags=BOLD, underline=1), "0", Style()),
    (Style(fg=1, flags=BOLD, link="http://x"), "0", Style(link="http://x")),
    # attributes on and off
    (S, "1", Style(flags=BOLD)),
    (S, "2", Style(flags=DIM)),
    (S, "3", Style(flags=ITALIC)),
    (S, "5", Style(flags=BLINK)),
    (S, "6", Style(flags=BLINK)),
    (S, "7", Style(flags=REVERSE)),
    (S, "8", Style(flags=HIDDEN)),
    (S, "9", Style(flags=STRIKE)),
    (S, "53", Style(flags=OVERLINE)),
    (Style(flags=BOLD | DIM | ITALIC), "22", Style(flags=ITALIC)),
    (Style(flags=ITALIC | BOLD), "23", Style(flags=BOLD)),
    (Style(flags=BLINK), "25", S),
    (Style(flags=REVERSE), "27", S),
    (Style(flags=HIDDEN), "28", S),
    (Style(flags=STRIKE), "29", S),
    (Style(flags=OVERLINE), "55", S),
    # underline styles, semicolon and colon forms
    (S, "4", Style(underline=UNDERLINE_SINGLE)),
    (S, "21", Style(underline=UNDERLINE_DOUBLE)),
    (S, "4:0", Style(underline=UNDERLINE_NONE)),
    (S, "4:1", Style(underline=UNDERLINE_SINGLE)),
    (S, "4:2", Style(underline=UNDERLINE_DOUBLE)),
    (S, "4:3", Style(underline=UNDERLINE_CURLY)),
    (S, "4:4", Style(underline=UNDERLINE_DOTTED)),
    (S, "4:5", Style(underline=UNDERLINE_DASHED)),
    (S, "4:99", Style(underline=UNDERLINE_DASHED)),
    (Style(underline=UNDERLINE_CURLY), "24", S),
    (Style(underline=UNDERLINE_CURLY), "4:0", S),
    # 16 colours
    (S, "31", Style(fg=1)),
    (S, "47", Style(bg=7)),
    (S, "90", Style(fg=8)),
    (S, "97", Style(fg=15)),
    (S, "100", Style(bg=8)),
    (S, "107", Style(bg=15)),
    (Style(fg=3, bg=4), "39", Style(bg=4)),
    (Style(fg=3, bg=4), "49", Style(fg=3)),
    # 256 colours
    (S, "38;5;208", Style(fg=208)),
    (S, "48;5;17", Style(bg=17)),
    (S, "38:5:208", Style(fg=208)),
    (S, "48:5:0", Style(bg=0)),
    (S, "38;5;256", S),  # out of range: ignored
    # truecolour, every spelling
    (S, "38;2;1;2;3", Style(fg=rgb(1, 2, 3))),
    (S, "48;2;255;128;0", Style(bg=rgb(255, 128, 0))),
    (S, "38:2::10:20:30", Style(fg=rgb(10, 20, 30))),
    (S, "38:2:10:20:30", Style(fg=rgb(10, 20, 30))),
    (S, "38:2:0:10:20:30", Style(fg=rgb(10, 20, 30))),
    (S, "48:2::1:2:3", Style(bg=rgb(1, 2, 3))),
    (S, "38;2;999;2;3", Style(fg=rgb(255, 2, 3))),
    # underline colour
    (S, "58;5;3", Style(underline_color=3)),
    (S, "58:2::1:2:3", Style(underline_color=rgb(1, 2, 3))),
    (S, "58;2;1;2;3", Style(underline_color=rgb(1, 2, 3))),
    (Style(underline_color=3), "59", S),
    # several codes, and codes after an extended colour
    (S, "1;4:3;38:2::1:2:3;48;5;4", Style(rgb(1, 2, 3), 4, BOLD, UNDERLINE_CURLY)),
    (S, "38;5;1;1", Style(fg=1, flags=BOLD)),
    (S, "38;2;1;2;3;4", Style(fg=rgb(1, 2, 3), underline=UNDERLINE_SINGLE)),
    (S, "1;;4", Style(underline=UNDERLINE_SINGLE)),  # an empty field is a reset
    # truncated and garbage input changes nothing it should not
    (S, "38;5", S),
    (S, "38;2;1;2", S),
    (S, "38", S),
    (S, "38:9:1", S),
    (S, "12345678901234567890", S),
    (S, "x;y", S),
]


@pytest.mark.parametrize(("start", "params", "expected"), SGR_CASES)
def test_apply_sgr(start: Style, params: str, expected: Style) -> None:
    assert apply_sgr(start, params) == expected


@pytest.mark.parametrize(("start", "params", "expected"), SGR_CASES)
def test_sgr_delta_matches_apply_sgr(start: Style, params: str, expected: Style) -> None:
    assert SgrDelta.compile(params).apply(start) == expected


def test_huge_parameter_lists_are_clamped() -> None:
    # 100k parameters: parsing is capped, and the first ones still apply.
    params = "1;" + ";".join(["31"] * 100_000)
    assert apply_sgr(S, params) == Style(fg=1, flags=BOLD)


def test_colour_to_hex() -> None:
    assert color_to_hex(DEFAULT) is None
    assert color_to_hex(1) == "#cd0000"
    assert color_to_hex(rgb(1, 2, 3)) == "#010203"
    assert color_to_hex(16) == "#000000"
    assert color_to_hex(231) == "#ffffff"
    assert color_to_hex(232) == "#080808"
    assert len(PALETTE) == 256


# ------------------------------------------------------------ property tests
colours = st.one_of(
    st.just(DEFAULT),
    st.integers(0, 255),
    st.builds(rgb, st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
)
styles = st.builds(
    Style,
    fg=colours,
    bg=colours,
    flags=st.integers(0, 255),
    underline=st.integers(0, UNDERLINE_DASHED),
    underline_color=colours,
    link=st.none(),
)
round_trip_styles = styles
SIMPLE_CODES = tuple(
    [
        "",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "7",
        "8",
        "9",
        "21",
        "22",
        "23",
        "24",
        "25",
        "27",
        "28",
        "29",
        "39",
        "49",
        "53",
        "55",
        "59",
        "4:0",
        "4:3",
        "4:5",
        "38",
        "38;5",
        "99",
    ]
)
sgr_codes = st.one_of(
    st.sampled_from(SIMPLE_CODES),
    st.integers(30, 107).map(str),
    st.builds("{};5;{}".format, st.sampled_from(["38", "48", "58"]), st.integers(0, 300)),
    st.builds(
        "{};2;{};{};{}".format,
        st.sampled_from(["38", "48", "58"]),
        st.integers(0, 300),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
    st.builds(
        "{}:2::{}:{}:{}".format,
        st.sampled_from(["38", "48", "58"]),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
    st.builds("{}:5:{}".format, st.sampled_from(["38", "48", "58"]), st.integers(0, 255)),
)
sgr_params = st.lists(sgr_codes, max_size=8).map(";".join)


@settings(max_examples=1500, deadline=None)
@given(round_trip_styles)
def test_style_to_sgr_round_trip(style: Style) -> None:
    sgr = style_to_sgr(style)
    assert sgr.startswith("\x1b[") and sgr.endswith("m")
    assert apply_sgr(DEFAULT_STYLE, sgr[2:-1]) == style
    # It starts with a reset, so it rebuilds the style from any state.
    assert apply_sgr(Style(fg=1, bg=2, flags=255, underline=3, underline_color=4), sgr[2:-1]) == (
        style
    )


@pytest.mark.parametrize("colour", [0, 3, 7, 8, 15])
def test_style_to_sgr_underline_colour_from_the_16_colours(colour: int) -> None:
    style = Style(underline=UNDERLINE_SINGLE, underline_color=colour)
    assert apply_sgr(DEFAULT_STYLE, style_to_sgr(style)[2:-1]) == style


@settings(max_examples=2000, deadline=None)
@given(styles, sgr_params)
def test_sgr_delta_equals_apply_sgr(style: Style, params: str) -> None:
    assert SgrDelta.compile(params).apply(style) == apply_sgr(style, params)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), sgr_params), min_size=1, max_size=20))
def test_style_table_caches_agree_with_apply_sgr(steps: list[tuple[int, str]]) -> None:
    # The table caches (style id, params) -> id; repeated lookups must stay correct.
    table = StyleTable()
    sid, style = "\x00", DEFAULT_STYLE
    for repeat, params in steps:
        for _ in range(repeat + 1):
            sid = table.sgr(sid, params)
            style = apply_sgr(style, params)
            assert table.get(sid) == style


def test_style_table_interns_and_erases() -> None:
    table = StyleTable()
    red_on_blue = table.intern(Style(fg=1, bg=4, flags=BOLD))
    assert table.intern(Style(fg=1, bg=4, flags=BOLD)) == red_on_blue
    assert table.get(red_on_blue) == Style(fg=1, bg=4, flags=BOLD)
    # Erased cells keep only the background (BCE).
    assert table.get(table.erase(red_on_blue)) == Style(bg=4)
    assert table.erase(table.intern(Style(fg=1, flags=BOLD))) == "\x00"
    linked = table.with_link(red_on_blue, "http://x")
    assert table.get(linked).link == "http://x"
    assert table.get(table.with_link(linked, None)) == Style(fg=1, bg=4, flags=BOLD)
