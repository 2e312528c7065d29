"""Key encoding: Textual key names → the bytes an xterm would send to the program.

A key event from the outer terminal arrives as a Textual key name (`ctrl+left`,
`shift+tab`, `alt+x`, `f5`) plus the text it produced. The program on the PTY
expects what *its* terminal (we claim `TERM=xterm-256color`) would send for that
key, shaped by the modes it switched on: application cursor keys (DECCKM),
bracketed paste (`?2004`) and the kitty keyboard protocol's progressive flags.

References, cited per table below:
- xterm "Control Sequences" (ctlseqs), sections "PC-Style Function Keys" and
  "VT220-Style Function Keys": https://invisible-island.net/xterm/ctlseqs/ctlseqs.html
- kitty keyboard protocol: https://sw.kovidgoyal.net/kitty/keyboard-protocol/
- Xlib `XLookupString` control mapping (what xterm sends for ctrl+<char>).

A key this module cannot name is dropped (`None`), never typed as text: over ssh
a split escape sequence reaches Textual as separate keys, and forwarding those as
literal characters would type garbage into the agent.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_MODES",
    "KITTY_DISAMBIGUATE",
    "KITTY_REPORT_ALL_KEYS",
    "KITTY_REPORT_ALTERNATES",
    "KITTY_REPORT_EVENTS",
    "KITTY_REPORT_TEXT",
    "PASTE_END",
    "PASTE_START",
    "KeyModes",
    "encode_key",
    "encode_paste",
    "is_key_name",
    "normalize_key",
]

ESC: Final = "\x1b"
CSI: Final = "\x1b["
SS3: Final = "\x1bO"

PASTE_START: Final = "\x1b[200~"
PASTE_END: Final = "\x1b[201~"

# kitty keyboard protocol progressive-enhancement flags (`CSI > flags u`).
KITTY_DISAMBIGUATE: Final = 0b1
KITTY_REPORT_EVENTS: Final = 0b10  # press/repeat/release; we only ever see presses
KITTY_REPORT_ALTERNATES: Final = 0b100
KITTY_REPORT_ALL_KEYS: Final = 0b1000
KITTY_REPORT_TEXT: Final = 0b10000


@dataclass(frozen=True)
class KeyModes:
    """The program's keyboard-related terminal modes, as tracked by the emulator."""

    app_cursor: bool = False
    """DECCKM (`CSI ?1h`): unmodified cursor keys send SS3 instead of CSI."""
    app_keypad: bool = False
    """DECKPAM (`ESC =`). Textual reports keypad keys as their plain characters,
    so there is no keypad key to encode differently; kept so the mode travels."""
    kitty_flags: int = 0
    """Current kitty keyboard flags (top of the program's `CSI > u` stack)."""
    bracketed_paste: bool = False
    """`CSI ?2004h`: pastes are wrapped in `ESC[200~` … `ESC[201~`."""


DEFAULT_MODES: Final = KeyModes()

# Modifier bits. xterm's parameter and kitty's share shift/alt/ctrl (value = 1 + bits,
# ctlseqs "PC-Style Function Keys": 2 Shift, 3 Alt, 5 Control, ...); kitty adds
# super/hyper/meta, xterm has only Meta, at bit 8.
SHIFT: Final = 1
ALT: Final = 2
CTRL: Final = 4
SUPER: Final = 8
HYPER: Final = 16
META: Final = 32
_XTERM_META: Final = 8

_MODIFIERS: Final = {
    "shift": SHIFT,
    "alt": ALT,
    "ctrl": CTRL,
    "super": SUPER,
    "hyper": HYPER,
    "meta": META,
}

# Cursor keys and Home/End: CSI <final>, or SS3 <final> under DECCKM when
# unmodified; modified: CSI 1 ; <mod> <final> (ctlseqs "PC-Style Function Keys").
_CURSOR: Final = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}

# VT220-style editing and function keys: CSI <n> ~, modified CSI <n> ; <mod> ~
# (ctlseqs "VT220-Style Function Keys"; same numbers in kitty's table).
_TILDE: Final = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}

# F1–F4: SS3 P..S unmodified, CSI 1 ; <mod> P..S modified (ctlseqs "PC-Style
# Function Keys"). kitty reports F3 as CSI 13 ~ because CSI 1;<mod> R collides
# with the cursor position report.
_PF_KEYS: Final = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}

# Keys that produce C0 bytes unmodified, with their kitty key numbers.
_C0_KEYS: Final = {"enter": ("\r", 13), "tab": ("\t", 9), "backspace": ("\x7f", 127)}

# kitty's Private Use Area numbers for F13–F35; F13 = 57376.
_KITTY_F13: Final = 57376

# Textual names for keys whose character is not the name (textual/keys.py:
# KEY_NAME_REPLACEMENTS, KEY_ALIASES, and unicodedata names with hyphens).
_NAMED_CHARS: Final = {
    "space": " ",
    "at": "@",
    "slash": "/",
    "backslash": "\\",
    "minus": "-",
    "plus": "+",
    "underscore": "_",
    "hyphen_minus": "-",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "left_square_brace": "[",  # Textual's alias "ctrl+left_square_brace" for escape
}

_KEY_ALIASES: Final = {"return": "enter", "newline": "ctrl+j", "ctrl-at": "ctrl+@"}


@dataclass(frozen=True)
class _Key:
    """A parsed key: modifier bits plus either a functional name or one character."""

    mods: int
    name: str  # functional key name, or "" for a text key
    char: str  # the base (unshifted) character of a text key


def _char_for_name(name: str) -> str | None:
    """The character a Textual key name stands for (`slash` → `/`), if any."""
    if len(name) == 1:
        return name
    if name in _NAMED_CHARS:
        return _NAMED_CHARS[name]
    try:
        char = unicodedata.lookup(name.replace("_", " ").upper())
    except KeyError:
        return None
    # Names like "delete" or "escape" also name control characters; those are
    # functional keys handled before this lookup, never text.
    return char if char.isprintable() else None


def _parse(key: str) -> _Key | None:
    key = _KEY_ALIASES.get(key, key)
    *modifier_names, name = key.split("+")
    if not name:
        return None
    mods = 0
    for modifier in modifier_names:
        if modifier not in _MODIFIERS:
            return None
        mods |= _MODIFIERS[modifier]
    if name == "escape" or name in _CURSOR or name in _TILDE or name in _PF_KEYS:
        return _Key(mods, name, "")
    if name in _C0_KEYS:
        return _Key(mods, name, "")
    if name.startswith("f") and name[1:].isdecimal() and 13 <= int(name[1:]) <= 24:
        return _Key(mods, name, "")
    char = _char_for_name(name)
    if char is None:
        return None
    if char.isupper():
        # Legacy parsing yields "A" for shift+a; kitty wants the unshifted key.
        return _Key(mods | SHIFT, "", char.lower())
    return _Key(mods, "", char)


def is_key_name(key: str) -> bool:
    """Whether `key` (a Textual key name: `ctrl+right_square_bracket`, `f5`, `j`) names
    a key a terminal can send: modifiers known, the key functional or one ASCII
    character. Unicode names outside ASCII (`banana` is U+1F34C) are not keys."""
    parsed = _parse(key)
    return parsed is not None and (bool(parsed.name) or parsed.char.isascii())


# Textual's friendlier names for a few characters (textual/keys.py: KEY_NAME_REPLACEMENTS);
# _NAMED_CHARS above reads them back.
_KEY_NAME_REPLACEMENTS: Final = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def normalize_key(keys: str) -> str:
    """Textual's spelling of a key list: `ctrl+]` -> `ctrl+right_square_bracket`.

    Textual names punctuation by its Unicode name and would never match `ctrl+]`;
    `is_key_name` and the encoder take names in this spelling.
    """
    out = []
    for item in (k.strip() for k in keys.split(",")):
        if item.endswith("++") or item == "+":  # the plus key itself
            prefix, char = item[:-1], "+"
        else:
            head, plus, char = item.rpartition("+")
            prefix = head + plus
        if len(char) == 1 and not char.isalnum():
            name = unicodedata.name(char, char).lower().replace(" ", "_").replace("-", "_")
            char = _KEY_NAME_REPLACEMENTS.get(name, name)
        out.append(prefix + char)
    return ",".join(out)


def _ctrl_char(char: str) -> str | None:
    """What xterm sends for ctrl+<char>: Xlib's XLookupString control mapping."""
    code = ord(char)
    if 0x40 <= code < 0x7F or char == " ":
        return chr(code & 0x1F)
    if char == "2":
        return "\x00"
    if "3" <= char <= "7":
        return chr(code - ord("3") + 0x1B)
    if char == "8":
        return "\x7f"
    if char == "/":
        return "\x1f"
    return None


def _text(parsed: _Key, character: str | None) -> str:
    """The text a text key types: Textual's character when printable, else the name's."""
    if character and character.isprintable():
        return character
    return parsed.char.upper() if parsed.mods & SHIFT else parsed.char


def _encode_legacy(parsed: _Key, character: str | None, modes: KeyModes) -> str | None:
    """xterm's default encoding (no modifyOtherKeys)."""
    mods = parsed.mods
    if mods & (SUPER | HYPER):
        # No xterm encoding exists; these are the window manager's keys.
        return None
    xbits = mods & (SHIFT | ALT | CTRL) | (_XTERM_META if mods & META else 0)
    name = parsed.name
    if name.startswith("f") and name[1:].isdecimal() and int(name[1:]) >= 13:
        # xterm's F13–F24 are shifted F1–F12 (terminfo xterm-256color kf13=\E[1;2P).
        name = f"f{int(name[1:]) - 12}"
        xbits |= SHIFT
    param = 1 + xbits
    if name in _CURSOR:
        if xbits == 0:
            return (SS3 if modes.app_cursor else CSI) + _CURSOR[name]
        return f"{CSI}1;{param}{_CURSOR[name]}"
    if name in _TILDE:
        return f"{CSI}{_TILDE[name]};{param}~" if xbits else f"{CSI}{_TILDE[name]}~"
    if name in _PF_KEYS:
        return f"{CSI}1;{param}{_PF_KEYS[name]}" if xbits else SS3 + _PF_KEYS[name]

    # Keys sent as characters: alt (and xterm's metaSendsEscape meta) prefix ESC.
    prefix = ESC if mods & (ALT | META) else ""
    if name == "escape":
        return prefix + ESC
    if name == "tab":
        return prefix + (f"{CSI}Z" if mods & SHIFT else "\t")  # ctlseqs: CBT for shift+tab
    if name == "backspace":
        # DEL by default (xterm backarrowKey); ctrl+backspace sends BS, as VTE and
        # xterm do, which shells bind to backward-kill-word. Textual also names a
        # received BS "backspace" (it is ctrl+h too): pass that byte on unchanged.
        return prefix + ("\x08" if mods & CTRL or character == "\x08" else "\x7f")
    if name == "enter":
        return prefix + "\r"
    if mods & CTRL:
        control = _ctrl_char(parsed.char)
        return prefix + (control if control is not None else _text(parsed, character))
    return prefix + _text(parsed, character)


def _kitty_mods(mods: int, *, with_text: bool = False) -> str:
    """The `;<mods>` field, omitted when it would be 1 (no modifiers)."""
    return f";{1 + mods}" if mods or with_text else ""


def _encode_kitty(parsed: _Key, character: str | None, modes: KeyModes) -> str:
    """kitty keyboard protocol with disambiguate (flag 1) and/or report-all-keys (flag 8)."""
    flags = modes.kitty_flags
    report_all = bool(flags & KITTY_REPORT_ALL_KEYS)
    mods = parsed.mods
    name = parsed.name
    param = 1 + mods
    if name in _CURSOR:
        if mods == 0 and not report_all:
            return (SS3 if modes.app_cursor else CSI) + _CURSOR[name]
        return f"{CSI}1;{param}{_CURSOR[name]}" if mods else CSI + _CURSOR[name]
    if name in _TILDE:
        return f"{CSI}{_TILDE[name]}{_kitty_mods(mods)}~"
    if name in _PF_KEYS:
        if mods == 0:
            return SS3 + _PF_KEYS[name]
        if name == "f3":
            return f"{CSI}13;{param}~"
        return f"{CSI}1;{param}{_PF_KEYS[name]}"
    if name.startswith("f") and name[1:].isdecimal():
        return f"{CSI}{_KITTY_F13 + int(name[1:]) - 13}{_kitty_mods(mods)}u"
    if name == "escape":
        return f"{CSI}27{_kitty_mods(mods)}u"
    if name in _C0_KEYS:
        legacy, number = _C0_KEYS[name]
        # "The only exceptions are the Enter, Tab and Backspace keys which still
        # generate the same bytes as in legacy mode" — unmodified, without flag 8.
        if mods == 0 and not report_all:
            return legacy
        return f"{CSI}{number}{_kitty_mods(mods)}u"

    # Text keys. Plain and shifted text stays text unless every key is reported.
    text = _text(parsed, character)
    if not report_all and (mods & ~SHIFT) == 0:
        return text
    # ctrl+@ is Textual's name for the NUL byte, which ctrl+space sends.
    base = " " if parsed.char == "@" and mods & CTRL else parsed.char
    code = str(ord(base))
    if flags & KITTY_REPORT_ALTERNATES and mods & SHIFT and len(text) == 1 and text != base:
        code += f":{ord(text)}"
    # Associated text only rides along with report-all-keys, and only for keys that
    # type something (not ctrl/alt combos).
    associated = ""
    if report_all and flags & KITTY_REPORT_TEXT and (mods & ~SHIFT) == 0:
        associated = ";" + ":".join(str(ord(c)) for c in text)
    return f"{CSI}{code}{_kitty_mods(mods, with_text=bool(associated))}{associated}u"


@functools.lru_cache(maxsize=1024)  # every keystroke: a key's bytes never change
def encode_key(
    key: str, character: str | None = None, modes: KeyModes = DEFAULT_MODES
) -> bytes | None:
    """The bytes the program should receive for a Textual key, or None to drop it.

    `key` is a Textual key name (`ctrl+shift+left`, `alt+x`, `f13`), `character`
    the event's character (used for printable text, so layouts and IMEs work).
    """
    parsed = _parse(key)
    if parsed is None:
        # Textual names any printable character it receives; an unresolvable name
        # with printable text (a unicode name with a hyphen) is still plain text.
        if (
            character is not None
            and len(character) == 1
            and character.isprintable()
            and "+" not in key.replace("shift+", "")
        ):
            return character.encode("utf-8", "replace")
        return None
    if modes.kitty_flags & (KITTY_DISAMBIGUATE | KITTY_REPORT_ALL_KEYS):
        encoded: str | None = _encode_kitty(parsed, character, modes)
    else:
        encoded = _encode_legacy(parsed, character, modes)
    return None if encoded is None else encoded.encode("utf-8", "replace")


def _strip_paste_markers(text: str) -> str:
    # Loop: removing one marker can join the halves of another ("ESC[20ESC[201~1~").
    while PASTE_END in text or PASTE_START in text:
        text = text.replace(PASTE_END, "").replace(PASTE_START, "")
    return text


def encode_paste(text: str, modes: KeyModes = DEFAULT_MODES) -> bytes:
    """The bytes for pasted text: CR line ends, bracketed when the program asked.

    Terminals send Enter as CR, so pasted newlines become CR too. Inside brackets
    any paste markers in the text are removed, so a paste cannot end the bracket
    early and have the rest executed as typed input.
    """
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    if modes.bracketed_paste:
        text = PASTE_START + _strip_paste_markers(text) + PASTE_END
    return text.encode("utf-8", "replace")
