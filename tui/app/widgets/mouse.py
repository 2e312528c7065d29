"""Mouse reports for a program that turned mouse tracking on (xterm ctlseqs, "Mouse Tracking").

Only what the program asked for is sent: X10 (`?9`) reports presses without
modifiers, 1000 presses, releases and the wheel, 1002 adds motion while a button
is held, 1003 any motion. SGR form (`?1006`) when asked, else the legacy
`CSI M` bytes, which cannot name a cell past column or row 223.
"""

from __future__ import annotations

from tui.protocol.events import ScreenModes

LEFT, MIDDLE, RIGHT = 0, 1, 2
WHEEL_UP, WHEEL_DOWN = 64, 65
_RELEASE = 3
_MOTION = 32
_SHIFT, _META, _CTRL = 4, 8, 16

PRESS, RELEASE, MOTION = "press", "release", "motion"


def wants(modes: ScreenModes, kind: str, held: bool = False) -> bool:
    """Whether the program's mouse mode reports this kind of event."""
    tracking = int(modes.get("mouse_tracking") or 0)
    if not tracking:
        return False
    if kind == MOTION:
        return tracking == 1003 or (tracking == 1002 and held)
    if kind == RELEASE:
        return tracking != 9
    return True


def encode_mouse(
    modes: ScreenModes,
    button: int,
    x: int,
    y: int,
    kind: str = PRESS,
    *,
    shift: bool = False,
    meta: bool = False,
    ctrl: bool = False,
) -> bytes | None:
    """The bytes reporting a mouse event at cell (x, y), 0-based; None if not wanted."""
    tracking = int(modes.get("mouse_tracking") or 0)
    if not wants(modes, kind, held=True) or x < 0 or y < 0:
        return None
    code = button
    if tracking != 9:
        code |= (_SHIFT if shift else 0) | (_META if meta else 0) | (_CTRL if ctrl else 0)
    if kind == MOTION:
        code |= _MOTION
    if modes.get("mouse_sgr"):
        final = "m" if kind == RELEASE else "M"
        return f"\x1b[<{code};{x + 1};{y + 1}{final}".encode()
    if kind == RELEASE:
        code = (code & ~0b11) | _RELEASE  # legacy releases do not say which button
    if x + 1 > 223 or y + 1 > 223:
        return None
    return b"\x1b[M" + bytes([32 + code, 32 + x + 1, 32 + y + 1])
