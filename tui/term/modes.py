"""Terminal modes: every mode the screen keeps, as one set of integers.

ANSI modes (SM/RM, `CSI Pm h`) are their own numbers; DEC private modes
(DECSET/DECRST, `CSI ? Pm h`) are shifted left by `PRIVATE`, so both fit one set
without colliding (the numbering pyte uses, kept so the values stay stable).
"""

from __future__ import annotations

PRIVATE = 5

# ANSI modes.
IRM = 4  # insert mode
LNM = 20  # line feed also returns the carriage

# DEC private modes.
DECCKM = 1 << PRIVATE  # application cursor keys
DECSCNM = 5 << PRIVATE  # reverse video
DECOM = 6 << PRIVATE  # origin mode: positions relative to the scroll region
DECAWM = 7 << PRIVATE  # autowrap
CURSOR_BLINK = 12 << PRIVATE
DECTCEM = 25 << PRIVATE  # cursor visible
ALT_47 = 47 << PRIVATE
KEYPAD_APP = 66 << PRIVATE  # DECNKM; ESC = / ESC > set it too
MOUSE_X10 = 9 << PRIVATE
MOUSE_NORMAL = 1000 << PRIVATE
MOUSE_BUTTON = 1002 << PRIVATE
MOUSE_ANY = 1003 << PRIVATE
FOCUS_EVENTS = 1004 << PRIVATE
MOUSE_UTF8 = 1005 << PRIVATE
MOUSE_SGR = 1006 << PRIVATE
MOUSE_URXVT = 1015 << PRIVATE
ALT_1047 = 1047 << PRIVATE
SAVE_1048 = 1048 << PRIVATE
ALT_1049 = 1049 << PRIVATE
BRACKETED_PASTE = 2004 << PRIVATE
SYNC_OUTPUT = 2026 << PRIVATE

# The modes DECRQM reports as known (set or reset) rather than unrecognised.
KNOWN_PRIVATE = {1, 5, 6, 7, 9, 12, 25, 47, 66, 1000, 1002, 1003, 1004, 1005, 1006, 1015,
                 1047, 1048, 1049, 2004, 2026}  # fmt: skip
KNOWN_ANSI = {4, 20}
