"""encode_key / encode_paste against the sequences xterm and kitty document.

xterm: ctlseqs, "PC-Style Function Keys" and "VT220-Style Function Keys"
(https://invisible-island.net/xterm/ctlseqs/ctlseqs.html); modifier parameter
2 Shift, 3 Alt, 4 Shift+Alt, 5 Control, 6 Shift+Control, 7 Alt+Control,
8 Shift+Alt+Control, 9 Meta. kitty: https://sw.kovidgoyal.net/kitty/keyboard-protocol/
"""

from __future__ import annotations

import pytest
from textual import events
from textual._xterm_parser import XTermParser  # tests may load textual; tui.term may not

from tui.term.keys import (
    KITTY_DISAMBIGUATE,
    KITTY_REPORT_ALL_KEYS,
    KITTY_REPORT_ALTERNATES,
    KITTY_REPORT_TEXT,
    KeyModes,
    encode_key,
    encode_paste,
)

LEGACY = KeyModes()
APP_CURSOR = KeyModes(app_cursor=True)
KITTY = KeyModes(kitty_flags=KITTY_DISAMBIGUATE)
KITTY_ALL = KeyModes(kitty_flags=KITTY_DISAMBIGUATE | KITTY_REPORT_ALL_KEYS)

# (Textual key, event character, expected bytes) in xterm's default mode.
LEGACY_CASES = [
    # Printable text: the event's character wins (layouts, IMEs, shifted symbols).
    ("a", "a", b"a"),
    ("A", "A", b"A"),
    ("shift+a", None, b"A"),
    ("exclamation_mark", "!", b"!"),
    ("slash", None, b"/"),
    ("euro_sign", "€", "€".encode()),
    ("ü", "ü", "ü".encode()),
    ("space", " ", b" "),
    ("shift+space", " ", b" "),
    # C0 keys: ctlseqs "C0 (7-bit) control characters"; backspace is DEL (xterm backarrowKey).
    ("enter", "\r", b"\r"),
    ("shift+enter", None, b"\r"),
    ("ctrl+enter", None, b"\r"),
    ("return", None, b"\r"),
    ("tab", "\t", b"\t"),
    ("shift+tab", None, b"\x1b[Z"),  # CBT
    ("backspace", None, b"\x7f"),
    ("ctrl+backspace", None, b"\x08"),
    ("backspace", "\x08", b"\x08"),  # a BS Textual received (ctrl+h) goes on as BS
    ("escape", "\x1b", b"\x1b"),
    ("shift+escape", None, b"\x1b"),
    # ctrl+<char>: Xlib XLookupString control mapping.
    ("ctrl+a", "\x01", b"\x01"),
    ("ctrl+c", None, b"\x03"),
    ("ctrl+z", None, b"\x1a"),
    ("ctrl+shift+a", None, b"\x01"),
    ("ctrl+@", None, b"\x00"),
    ("ctrl-at", None, b"\x00"),
    ("ctrl+space", None, b"\x00"),
    ("ctrl+left_square_bracket", None, b"\x1b"),
    ("ctrl+backslash", None, b"\x1c"),
    ("ctrl+right_square_bracket", None, b"\x1d"),
    ("ctrl+circumflex_accent", None, b"\x1e"),
    ("ctrl+underscore", None, b"\x1f"),
    ("ctrl+slash", None, b"\x1f"),
    ("ctrl+2", None, b"\x00"),
    ("ctrl+3", None, b"\x1b"),
    ("ctrl+7", None, b"\x1f"),
    ("ctrl+8", None, b"\x7f"),
    ("ctrl+1", None, b"1"),  # no control code: the key's own character
    ("ctrl+minus", None, b"-"),
    # Alt: ESC prefix (xterm metaSendsEscape / altSendsEscape).
    ("alt+x", "x", b"\x1bx"),
    ("alt+shift+x", "X", b"\x1bX"),
    ("alt+ctrl+a", None, b"\x1b\x01"),
    ("alt+enter", None, b"\x1b\r"),
    ("alt+backspace", None, b"\x1b\x7f"),
    ("alt+escape", None, b"\x1b\x1b"),
    ("alt+tab", None, b"\x1b\t"),
    ("meta+x", None, b"\x1bx"),
    # Cursor keys: CSI A..D, H, F; modified CSI 1 ; m X.
    ("up", None, b"\x1b[A"),
    ("down", None, b"\x1b[B"),
    ("right", None, b"\x1b[C"),
    ("left", None, b"\x1b[D"),
    ("home", None, b"\x1b[H"),
    ("end", None, b"\x1b[F"),
    ("shift+up", None, b"\x1b[1;2A"),
    ("alt+down", None, b"\x1b[1;3B"),
    ("ctrl+left", None, b"\x1b[1;5D"),
    ("ctrl+shift+right", None, b"\x1b[1;6C"),
    ("alt+ctrl+shift+home", None, b"\x1b[1;8H"),
    ("meta+up", None, b"\x1b[1;9A"),
    ("shift+end", None, b"\x1b[1;2F"),
    # VT220-style: CSI n ~; modified CSI n ; m ~.
    ("insert", None, b"\x1b[2~"),
    ("delete", None, b"\x1b[3~"),
    ("pageup", None, b"\x1b[5~"),
    ("pagedown", None, b"\x1b[6~"),
    ("shift+delete", None, b"\x1b[3;2~"),
    ("ctrl+pageup", None, b"\x1b[5;5~"),
    ("ctrl+shift+insert", None, b"\x1b[2;6~"),
    ("f5", None, b"\x1b[15~"),
    ("f6", None, b"\x1b[17~"),
    ("f10", None, b"\x1b[21~"),
    ("f11", None, b"\x1b[23~"),
    ("f12", None, b"\x1b[24~"),
    ("ctrl+f5", None, b"\x1b[15;5~"),
    # F1–F4: SS3 P..S; modified CSI 1 ; m P..S.
    ("f1", None, b"\x1bOP"),
    ("f2", None, b"\x1bOQ"),
    ("f3", None, b"\x1bOR"),
    ("f4", None, b"\x1bOS"),
    ("shift+f1", None, b"\x1b[1;2P"),
    ("ctrl+f4", None, b"\x1b[1;5S"),
    # F13–F24 are xterm's shifted F1–F12 (terminfo xterm-256color kf13=\E[1;2P).
    ("f13", None, b"\x1b[1;2P"),
    ("f16", None, b"\x1b[1;2S"),
    ("f17", None, b"\x1b[15;2~"),
    ("f24", None, b"\x1b[24;2~"),
    ("ctrl+f13", None, b"\x1b[1;6P"),
]


@pytest.mark.parametrize(("key", "character", "expected"), LEGACY_CASES)
def test_legacy_xterm_encoding(key: str, character: str | None, expected: bytes) -> None:
    assert encode_key(key, character, LEGACY) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        # DECCKM: SS3 only for unmodified cursor keys (ctlseqs "PC-Style Function Keys").
        ("up", b"\x1bOA"),
        ("down", b"\x1bOB"),
        ("right", b"\x1bOC"),
        ("left", b"\x1bOD"),
        ("home", b"\x1bOH"),
        ("end", b"\x1bOF"),
        ("ctrl+up", b"\x1b[1;5A"),
        ("shift+home", b"\x1b[1;2H"),
        ("pageup", b"\x1b[5~"),  # not a cursor key
        ("f1", b"\x1bOP"),
    ],
)
def test_application_cursor_mode(key: str, expected: bytes) -> None:
    assert encode_key(key, None, APP_CURSOR) == expected


def test_application_keypad_changes_nothing_textual_can_report() -> None:
    # Textual turns keypad keys into plain characters, so DECKPAM has nothing to change.
    keypad = KeyModes(app_keypad=True)
    for key, character in (("enter", "\r"), ("1", "1"), ("plus", "+"), ("up", None)):
        assert encode_key(key, character, keypad) == encode_key(key, character, LEGACY)


# kitty flag 1 (disambiguate): escape and ctrl/alt text combos become CSI code;mods u;
# unmodified Enter/Tab/Backspace and plain or shifted text stay legacy.
KITTY_CASES = [
    ("escape", None, b"\x1b[27u"),
    ("shift+escape", None, b"\x1b[27;2u"),
    ("alt+escape", None, b"\x1b[27;3u"),
    ("enter", "\r", b"\r"),
    ("shift+enter", None, b"\x1b[13;2u"),  # Codex's Shift+Enter newline
    ("ctrl+enter", None, b"\x1b[13;5u"),
    ("alt+enter", None, b"\x1b[13;3u"),
    ("tab", "\t", b"\t"),
    ("shift+tab", None, b"\x1b[9;2u"),
    ("backspace", None, b"\x7f"),
    ("ctrl+backspace", None, b"\x1b[127;5u"),
    ("a", "a", b"a"),
    ("A", "A", b"A"),
    ("shift+a", None, b"A"),
    ("space", " ", b" "),
    ("ctrl+a", None, b"\x1b[97;5u"),
    ("ctrl+c", None, b"\x1b[99;5u"),
    ("ctrl+shift+a", None, b"\x1b[97;6u"),
    ("alt+a", "a", b"\x1b[97;3u"),
    ("alt+shift+a", "A", b"\x1b[97;4u"),
    ("alt+A", "A", b"\x1b[97;4u"),
    ("ctrl+alt+a", None, b"\x1b[97;7u"),
    ("super+a", None, b"\x1b[97;9u"),
    ("hyper+a", None, b"\x1b[97;17u"),
    ("meta+a", None, b"\x1b[97;33u"),
    ("ctrl+space", None, b"\x1b[32;5u"),
    ("ctrl+@", None, b"\x1b[32;5u"),  # Textual's name for the NUL ctrl+space sends
    ("ctrl+1", None, b"\x1b[49;5u"),
    ("ctrl+slash", None, b"\x1b[47;5u"),
    # Functional keys keep their legacy forms, modifiers as kitty bits + 1.
    ("up", None, b"\x1b[A"),
    ("ctrl+up", None, b"\x1b[1;5A"),
    ("super+left", None, b"\x1b[1;9D"),
    ("delete", None, b"\x1b[3~"),
    ("shift+delete", None, b"\x1b[3;2~"),
    ("f1", None, b"\x1bOP"),
    ("shift+f1", None, b"\x1b[1;2P"),
    ("shift+f3", None, b"\x1b[13;2~"),  # CSI 1;2R would read as a cursor position report
    ("f5", None, b"\x1b[15~"),
    ("f13", None, b"\x1b[57376u"),
    ("ctrl+f24", None, b"\x1b[57387;5u"),
]


@pytest.mark.parametrize(("key", "character", "expected"), KITTY_CASES)
def test_kitty_disambiguate(key: str, character: str | None, expected: bytes) -> None:
    assert encode_key(key, character, KITTY) == expected


def test_kitty_respects_application_cursor_for_unmodified_arrows() -> None:
    modes = KeyModes(app_cursor=True, kitty_flags=KITTY_DISAMBIGUATE)
    assert encode_key("up", None, modes) == b"\x1bOA"
    assert encode_key("shift+up", None, modes) == b"\x1b[1;2A"


@pytest.mark.parametrize(
    ("key", "character", "flags", "expected"),
    [
        # Flag 8: every key is an escape code, Enter/Tab/Backspace and text included.
        ("a", "a", 0, b"\x1b[97u"),
        ("A", "A", 0, b"\x1b[97;2u"),
        ("enter", "\r", 0, b"\x1b[13u"),
        ("tab", "\t", 0, b"\x1b[9u"),
        ("backspace", None, 0, b"\x1b[127u"),
        ("up", None, 0, b"\x1b[A"),
        ("escape", None, 0, b"\x1b[27u"),
        # Flag 4: the shifted key rides along as an alternate.
        ("A", "A", KITTY_REPORT_ALTERNATES, b"\x1b[97:65;2u"),
        ("ctrl+shift+a", None, KITTY_REPORT_ALTERNATES, b"\x1b[97:65;6u"),
        ("a", "a", KITTY_REPORT_ALTERNATES, b"\x1b[97u"),
        # Flag 16: the text as codepoints (modifier field then required).
        ("a", "a", KITTY_REPORT_TEXT, b"\x1b[97;1;97u"),
        ("A", "A", KITTY_REPORT_TEXT, b"\x1b[97;2;65u"),
        ("ctrl+a", None, KITTY_REPORT_TEXT, b"\x1b[97;5u"),  # no text for a combo
    ],
)
def test_kitty_report_all_keys(
    key: str, character: str | None, flags: int, expected: bytes
) -> None:
    modes = KeyModes(kitty_flags=KITTY_ALL.kitty_flags | flags)
    assert encode_key(key, character, modes) == expected


def test_kitty_alternates_with_disambiguate_only() -> None:
    modes = KeyModes(kitty_flags=KITTY_DISAMBIGUATE | KITTY_REPORT_ALTERNATES)
    assert encode_key("ctrl+shift+a", None, modes) == b"\x1b[97:65;6u"
    assert encode_key("A", "A", modes) == b"A"  # still plain text


@pytest.mark.parametrize(
    ("key", "character"),
    [
        ("<ignore>", "\x1b[E"),  # Textual's ignored sequences: never typed as text
        ("caps_lock", None),
        ("print_screen", None),
        ("f25", None),
        ("ctrl+up+down", None),
        ("wibble+a", "a"),
        ("super+a", "a"),  # no xterm encoding; the window manager's key
        ("hyper+up", None),
        ("", None),
        ("ctrl+", None),
        ("left_pointing_double_angle_quotation_mark", None),
        ("alt+left_pointing_double_angle_quotation_mark", "«"),
    ],
)
def test_unknown_keys_are_dropped(key: str, character: str | None) -> None:
    assert encode_key(key, character, LEGACY) is None


def test_unnamed_printable_character_is_still_text() -> None:
    # Textual derives names from unicodedata; hyphenated ones do not round-trip.
    assert encode_key("left_pointing_double_angle_quotation_mark", "«") == "«".encode()
    assert encode_key("shift+left_pointing_double_angle_quotation_mark", "«") == "«".encode()


@pytest.mark.parametrize(
    ("text", "bracketed", "expected"),
    [
        ("echo hi", False, b"echo hi"),
        ("a\nb\r\nc", False, b"a\rb\rc"),
        ("a\nb", True, b"\x1b[200~a\rb\x1b[201~"),
        ("", True, b"\x1b[200~\x1b[201~"),
        # A paste cannot close the bracket early and run the rest as typed input.
        ("x\x1b[201~rm -rf ~\n", True, b"\x1b[200~xrm -rf ~\r\x1b[201~"),
        ("\x1b[20\x1b[201~1~boom", True, b"\x1b[200~boom\x1b[201~"),
        ("\x1b[200~nested", True, b"\x1b[200~nested\x1b[201~"),
        ("héllo ✓", False, "héllo ✓".encode()),
    ],
)
def test_encode_paste(text: str, bracketed: bool, expected: bytes) -> None:
    assert encode_paste(text, KeyModes(bracketed_paste=bracketed)) == expected


def test_unencodable_text_does_not_raise() -> None:
    assert encode_paste("\ud800", KeyModes()) == b"?"
    assert encode_key("x", "\ud800") == b"x"  # a lone surrogate is not printable text


# What the outer terminal sent, as Textual 8.2.8 parses it, must reach the program
# unchanged when the program is in the same mode: a check that the key names and
# characters encode_key expects are the ones Textual actually produces.
ROUND_TRIP_LEGACY = [
    "a", "A", "/", "\r", "\t", "\x7f", "\x08", "\x01", "\x00", "\x1b[Z",
    "\x1b[A", "\x1b[H", "\x1b[F", "\x1b[1;5A", "\x1b[1;3A", "\x1b[1;2D",
    "\x1b[2~", "\x1b[3;2~", "\x1b[5;5~", "\x1b[15~", "\x1b[24;2~",
    "\x1bOP", "\x1b[1;2P", "\x1b[1;5P",
]  # fmt: skip
ROUND_TRIP_KITTY = [
    "\x1b[27u", "\x1b[13;2u", "\x1b[9;2u", "\x1b[127;5u", "\x1b[97;5u",
    "\x1b[97;6u", "\x1b[97;3u", "\x1b[97;4u", "\x1b[32;5u", "\x1b[57376u",
    "\x1b[13;2~", "\x1b[1;5A", "\x1b[3;5~",
]  # fmt: skip


@pytest.mark.parametrize(
    ("sequence", "modes"),
    [(seq, LEGACY) for seq in ROUND_TRIP_LEGACY] + [(seq, KITTY) for seq in ROUND_TRIP_KITTY],
)
def test_round_trip_through_textuals_parser(sequence: str, modes: KeyModes) -> None:
    keys = [event for event in XTermParser().feed(sequence) if isinstance(event, events.Key)]
    assert len(keys) == 1, keys
    assert encode_key(keys[0].key, keys[0].character, modes) == sequence.encode()
