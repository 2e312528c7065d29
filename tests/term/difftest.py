"""Differential-test harness: replay bytes into tmux and read back its screen.

tmux is the reference terminal. ``tmux_capture`` feeds a byte stream to a pane of
a private tmux server and returns what ``capture-pane`` reports;
``parse_sgr_screen`` turns ``capture-pane -p -e`` style text (tmux's or ptui's
``render_ansi``) into a grid of cells so the two can be compared cell for cell
with ``compare``.

What we found about tmux 3.3a (and why the harness does what it does):

- Colours are stored as sent, not normalised: ``31`` comes back as ``31``,
  ``38;5;1`` as ``38;5;1`` and ``38;2;r;g;b`` as truecolour. The parser keeps the
  three kinds distinct (``16:1``, ``256:1``, ``rgb:...``).
- ``capture-pane -p -e`` trims trailing spaces even when they carry a background
  colour; ``-N`` keeps them, so the harness captures with ``-e -N`` and both sides
  are normalised by dropping trailing cells that are invisible (a space with
  default background and no reverse/underline/strike/overline).
- Even with ``-N``, a row is reported only up to the last cell ever written to it:
  a line erased with a background colour (ED, EL 2, IL, SU with BCE) comes back
  empty. Past the reported end, ``compare`` accepts any blank cell.
- The SGR state of ``capture-pane -e`` carries over from one row to the next (it
  emits changes only), and DEC graphics cells are bracketed by SO/SI.
- After a character is printed in the last column (wrap pending) tmux reports
  ``cursor_x`` equal to the width, one past the last column.
- ``set -g window-size manual`` made tmux 3.3a crash on the next ``new-session``;
  it is not needed, a detached session gets exactly its ``-x``/``-y`` size.
- Underline styles come back in colon form (``4:3``); they are kept distinct from
  plain underline.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from wcwidth import wcwidth

__all__ = [
    "DEFAULT",
    "Capture",
    "Cell",
    "TmuxServer",
    "compare",
    "parse_sgr_screen",
    "screen_text",
    "shutdown_tmux",
    "tmux_available",
    "tmux_capture",
    "tmux_capture_resized",
]

DEFAULT = "default"
"""The colour value of a cell that uses the terminal's default colour."""

# Attribute names for the single-number SGR codes that switch an attribute on.
_ATTR_ON: dict[int, str] = {
    1: "bold",
    2: "dim",
    3: "italic",
    4: "underline",
    5: "blink",
    6: "blink",  # rapid blink: tmux (and most terminals) treat it as blink
    7: "reverse",
    8: "hidden",
    9: "strike",
    21: "double-underline",
    53: "overline",
}
_UNDERLINES = frozenset(
    {"underline", "double-underline", "curly-underline", "dotted-underline", "dashed-underline"}
)
# The colon sub-parameter of ``4:N`` picks the underline style; 0 turns it off.
_UNDERLINE_STYLE: dict[int, str] = {
    1: "underline",
    2: "double-underline",
    3: "curly-underline",
    4: "dotted-underline",
    5: "dashed-underline",
}
# SGR codes that switch attributes off.
_ATTR_OFF: dict[int, frozenset[str]] = {
    22: frozenset({"bold", "dim"}),
    23: frozenset({"italic"}),
    24: _UNDERLINES,
    25: frozenset({"blink"}),
    27: frozenset({"reverse"}),
    28: frozenset({"hidden"}),
    29: frozenset({"strike"}),
    55: frozenset({"overline"}),
}
# DEC Special Graphics (``ESC ( 0``) as xterm draws it, for 0x5f-0x7e. tmux keeps
# the ASCII letter plus a charset flag, which ``capture-pane -e`` brackets with
# SO/SI (and ``-p`` loses); the parser maps those letters through this table.
_DEC_GRAPHICS = dict(
    zip(
        "_`abcdefghijklmnopqrstuvwxyz{|}~",
        "\u00a0◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·",
        strict=True,
    )
)

# Attributes that make a blank cell visible, so it is not trailing padding.
_VISIBLE_WHEN_BLANK = frozenset({"reverse", "strike", "overline"}) | _UNDERLINES

_ESCAPE = re.compile(
    r"""
    \x1b\[ (?P<csi_params>[0-9:;<=>?]*) [ -/]* (?P<csi_final>[@-~])  # CSI
    | \x1b\] [^\x07\x1b]* (?:\x07|\x1b\\)?                          # OSC
    | \x1b [PX^_] .*? (?:\x1b\\|$)                                  # DCS/SOS/PM/APC
    | \x1b [ -/]* [0-~]                                             # other ESC
    | \x1b
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Cell:
    """One screen cell as seen in a capture.

    ``char`` is the base character plus any zero-width code points that followed
    it (combining marks, VS16, ZWJ); the right half of a wide character is a cell
    whose ``char`` is ``""``. Colours are ``"default"``, ``"16:N"`` (SGR 30-37,
    90-97 and their backgrounds), ``"256:N"`` (``38;5;N``) or ``"rgb:rrggbb"``.
    """

    char: str = " "
    fg: str = DEFAULT
    bg: str = DEFAULT
    attrs: frozenset[str] = field(default_factory=frozenset)
    reported: bool = field(default=True, compare=False)
    """False for padding past the end of a captured row: tmux did not report it."""

    def is_invisible_blank(self) -> bool:
        """True if the cell looks exactly like never-written screen."""
        return self.char == " " and self.bg == DEFAULT and not (self.attrs & _VISIBLE_WHEN_BLANK)

    def is_blank(self) -> bool:
        """A space with no attribute that shows on a blank (any background)."""
        return self.char == " " and not (self.attrs & _VISIBLE_WHEN_BLANK)

    def describe(self) -> str:
        """A short human-readable form, for assertion messages."""
        parts = [repr(self.char)]
        if self.fg != DEFAULT:
            parts.append(f"fg={self.fg}")
        if self.bg != DEFAULT:
            parts.append(f"bg={self.bg}")
        if self.attrs:
            parts.append("+".join(sorted(self.attrs)))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Capture:
    """What tmux shows after a byte stream: plain text, SGR text and the cursor."""

    text: str
    """``capture-pane -p``: every row, trailing spaces stripped, each ending in newline."""
    ansi: str
    """``capture-pane -p -e -N``: rows with SGR codes, trailing cells kept."""
    cursor: tuple[int, int]
    """``(cursor_x, cursor_y)``, 0-based."""


# ---------------------------------------------------------------------------
# Parsing capture-pane -e output


@dataclass(slots=True)
class _Pen:
    """The SGR state while a row is parsed."""

    fg: str = DEFAULT
    bg: str = DEFAULT
    attrs: set[str] = field(default_factory=set)

    def reset(self) -> None:
        self.fg = DEFAULT
        self.bg = DEFAULT
        self.attrs.clear()


def _int(text: str, default: int = 0) -> int:
    """Parse one SGR parameter; empty means the default, as terminals do."""
    return int(text) if text.isdigit() else default


def _extended_colour(args: list[str]) -> tuple[str | None, int]:
    """Decode the colour after 38/48/58 from ``args``; return (colour, args used).

    ``args`` holds the remaining numbers, either the colon sub-parameters of one
    parameter (``38:2::r:g:b``, ``38:2:r:g:b``) or the following semicolon
    parameters (``38;2;r;g;b``). ``None`` means the sequence was malformed.
    """
    if not args:
        return None, 0
    kind = _int(args[0], -1)
    if kind == 5 and len(args) >= 2:
        return f"256:{_int(args[1]) & 0xFF}", 2
    if kind == 2 and len(args) >= 4:
        return "rgb:" + "".join(f"{_int(v) & 0xFF:02x}" for v in args[1:4]), 4
    return None, len(args)


def _apply_sgr(params: str, pen: _Pen) -> None:
    """Update ``pen`` for one ``CSI params m``."""
    items = params.split(";") if params else [""]
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if ":" in item:
            sub = item.split(":")
            code = _int(sub[0])
            if code in (38, 48, 58):
                rest = sub[1:]
                # ``38:2:CS:r:g:b`` has a colour-space id before r;g;b;
                # ``38:2:r:g:b`` (as sent by some programs) does not.
                if rest and rest[0] == "2" and len(rest) >= 5:
                    rest = [rest[0], *rest[2:5]]
                colour, _ = _extended_colour(rest)
                if colour is not None:
                    _set_colour(pen, code, colour)
            elif code == 4:
                style = _int(sub[1]) if len(sub) > 1 else 1
                pen.attrs -= _UNDERLINES
                if style in _UNDERLINE_STYLE:
                    pen.attrs.add(_UNDERLINE_STYLE[style])
            continue
        code = _int(item)
        if code == 0:
            pen.reset()
        elif code in (38, 48, 58):
            # 38;2;r;g;b takes four more parameters, 38;5;n two.
            more = 4 if items[i : i + 1] == ["2"] else 2
            colour, used = _extended_colour(items[i : i + more])
            i += used
            if colour is not None:
                _set_colour(pen, code, colour)
        elif code in _ATTR_ON:
            if code in (4, 21):
                pen.attrs -= _UNDERLINES
            pen.attrs.add(_ATTR_ON[code])
        elif code in _ATTR_OFF:
            pen.attrs -= _ATTR_OFF[code]
        elif 30 <= code <= 37:
            pen.fg = f"16:{code - 30}"
        elif 90 <= code <= 97:
            pen.fg = f"16:{code - 90 + 8}"
        elif code == 39:
            pen.fg = DEFAULT
        elif 40 <= code <= 47:
            pen.bg = f"16:{code - 40}"
        elif 100 <= code <= 107:
            pen.bg = f"16:{code - 100 + 8}"
        elif code == 49:
            pen.bg = DEFAULT
        # 59 (default underline colour) and unknown codes change nothing we compare.


def _set_colour(pen: _Pen, code: int, colour: str) -> None:
    """Set fg (38) or bg (48); the underline colour (58) is not compared."""
    if code == 38:
        pen.fg = colour
    elif code == 48:
        pen.bg = colour


def _parse_row(line: str, cols: int, pen: _Pen, graphics: bool) -> tuple[list[Cell], bool]:
    """Turn one captured row into exactly ``cols`` cells.

    ``pen`` and ``graphics`` (between SO and SI: DEC Special Graphics) are the
    state left by the previous row; ``pen`` is updated in place and the new
    ``graphics`` state is returned with the cells.
    """
    cells: list[Cell] = []
    pos = 0
    for match in itertools.chain(_ESCAPE.finditer(line), [None]):
        end = match.start() if match else len(line)
        for ch in line[pos:end]:
            if ch in "\x0e\x0f":
                graphics = ch == "\x0e"
                continue
            if graphics:
                ch = _DEC_GRAPHICS.get(ch, ch)
            width = wcwidth(ch)
            if width < 0:
                continue  # a stray control character occupies no cell
            if width == 0:
                if cells:
                    # Combining marks, VS16 and ZWJ join the cell they follow; with
                    # a wide character that is the left half, not the "" filler.
                    idx = len(cells) - 2 if cells[-1].char == "" and len(cells) > 1 else -1
                    base = cells[idx]
                    cells[idx] = replace(base, char=base.char + ch)
                continue
            style = (pen.fg, pen.bg, frozenset(pen.attrs))
            cells.append(Cell(ch, *style))
            if width == 2:
                cells.append(Cell("", *style))
        if match is None:
            break
        pos = match.end()
        if match.group("csi_final") == "m" and not (match.group("csi_params") or "").startswith(
            ("<", "=", ">", "?")
        ):
            _apply_sgr(match.group("csi_params") or "", pen)
    del cells[cols:]
    cells.extend(Cell(reported=False) for _ in range(cols - len(cells)))
    return cells, graphics


def parse_sgr_screen(ansi: str, cols: int) -> list[list[Cell]]:
    """Parse ``capture-pane -p -e`` style text into rows of ``cols`` cells.

    Each line is one screen row. The SGR state (and SO/SI) carries over from one
    row to the next: tmux's capture only emits changes, across row ends too
    (``render_ansi`` resets at each row end, which reads the same either way).
    Wide characters take two cells (``wcwidth``); zero-width code points join the
    preceding cell. Rows are padded with blank cells to ``cols`` and cut there.
    """
    text = ansi[:-1] if ansi.endswith("\n") else ansi
    pen = _Pen()
    graphics = False
    rows = []
    for line in text.split("\n"):
        row, graphics = _parse_row(line, cols, pen, graphics)
        rows.append(row)
    return rows


def screen_text(cells: list[list[Cell]]) -> list[str]:
    """The rows of a parsed screen as plain text, trailing spaces stripped."""
    return ["".join(cell.char for cell in row).rstrip(" ") for row in cells]


def _visible_length(row: list[Cell]) -> int:
    """Number of cells up to and including the last visible one."""
    n = len(row)
    while n and row[n - 1].is_invisible_blank():
        n -= 1
    return n


def compare(ours: list[list[Cell]], theirs: list[list[Cell]], limit: int = 8) -> list[str]:
    """Describe the first ``limit`` cells that differ, one line each.

    Trailing invisible blanks are not differences (one side may trim them, the
    other keep them), and past the end of a captured row (``reported`` false)
    any blank matches: tmux's capture stops at the last cell written, so it
    cannot show a background erased onto the rest of the row. Rows missing on
    one side count as blank rows. The last line
    says how many differences were left out, if any.
    """
    out: list[str] = []
    total = 0
    blank: list[Cell] = []
    for y in range(max(len(ours), len(theirs))):
        row_a = ours[y] if y < len(ours) else blank
        row_b = theirs[y] if y < len(theirs) else blank
        width = max(_visible_length(row_a), _visible_length(row_b))
        for x in range(width):
            a = row_a[x] if x < len(row_a) else Cell(reported=False)
            b = row_b[x] if x < len(row_b) else Cell(reported=False)
            # Past the end of a captured row tmux reports nothing, though the cell
            # may hold a background from an erase (BCE): any blank matches there.
            unreported = (not a.reported and b.is_blank()) or (not b.reported and a.is_blank())
            if a != b and not unreported:
                total += 1
                if len(out) < limit:
                    out.append(f"row {y} col {x}: ours {a.describe()} vs tmux {b.describe()}")
    if total > len(out):
        out.append(f"... and {total - len(out)} more differing cells")
    return out


# ---------------------------------------------------------------------------
# Driving tmux


def tmux_available() -> bool:
    """True if a tmux binary is on PATH."""
    return shutil.which("tmux") is not None


class TmuxServer:
    """A private tmux server (own socket, no config) that replays byte streams.

    One server serves every capture; each capture gets its own detached session
    of the exact size, whose pane runs ``stty raw -echo; cat FILE`` so the tty
    does not rewrite the bytes (no onlcr, no echo of tmux's answers to queries).
    """

    def __init__(self) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            raise RuntimeError("tmux is not installed")
        self._tmux = tmux
        # tmux refuses socket directories with group/other bits; mkdtemp is 0700.
        self._dir = Path(tempfile.mkdtemp(prefix=f"ptui-difftest-{os.getpid()}-"))
        self._socket = self._dir / "tmux.sock"
        self._env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        self._counter = itertools.count()
        self._started = False

    def _run(self, *args: str, timeout: float = 10.0) -> str:
        """Run one tmux command against this server and return its stdout."""
        result = subprocess.run(
            [self._tmux, "-S", str(self._socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            env=self._env,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)!r} failed: {result.stderr.strip()}")
        return result.stdout

    def _start(self) -> None:
        # A placeholder session keeps the server alive between captures, and
        # server-wide options are set once.
        self._run("new-session", "-d", "-s", "keepalive", "-x", "80", "-y", "24", "sleep 100000")
        self._run("set-option", "-g", "status", "off")
        # Not ``window-size manual``: with it, tmux 3.3a crashed on the next
        # new-session. Detached sessions take their -x/-y size anyway.
        self._run("set-option", "-g", "remain-on-exit", "off")
        self._started = True

    def capture(self, data: bytes, cols: int = 80, rows: int = 24) -> Capture:
        """Replay ``data`` into a fresh ``cols`` x ``rows`` pane and capture it."""
        if not self._started:
            self._start()
        n = next(self._counter)
        name = f"case{n}"
        channel = f"ptui-difftest-done-{n}"
        marker = f"ptui-difftest-{n}"
        path = self._dir / f"{name}.bin"
        # The title marker comes last: once tmux shows it as the pane title, it has
        # parsed every byte before it (titles never touch the grid).
        path.write_bytes(data + f"\x1b]2;{marker}\x07".encode())
        tmux_cmd = f"{shlex.quote(self._tmux)} -S {shlex.quote(str(self._socket))}"
        command = (
            f"stty raw -echo; cat {shlex.quote(str(path))}; "
            f"{tmux_cmd} wait-for -S {channel}; exec sleep 100000"
        )
        self._run("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows), command)
        try:
            self._run("wait-for", channel, timeout=30)
            target = f"={name}:"
            deadline = time.monotonic() + 5
            while True:
                info = self._run(
                    "display-message",
                    "-p",
                    "-t",
                    target,
                    "#{pane_title}\t#{cursor_x}\t#{cursor_y}\t#{pane_width}\t#{pane_height}",
                )
                title, cx, cy, width, height = info.rstrip("\n").split("\t")
                if title == marker or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            if (int(width), int(height)) != (cols, rows):
                raise RuntimeError(f"tmux pane is {width}x{height}, wanted {cols}x{rows}")
            text = self._run("capture-pane", "-p", "-t", target)
            ansi = self._run("capture-pane", "-p", "-e", "-N", "-t", target)
        finally:
            self._run("kill-session", "-t", f"={name}")
            path.unlink(missing_ok=True)
        return Capture(text=text, ansi=ansi, cursor=(int(cx), int(cy)))

    def capture_resized(
        self, data: bytes, cols: int, rows: int, sizes: list[tuple[int, int]]
    ) -> Capture:
        """Replay ``data`` at ``cols`` x ``rows``, resize through ``sizes``, capture.

        The capture holds the scrollback too (``capture-pane -S -``): reflow moves
        lines between it and the screen.
        """
        if not self._started:
            self._start()
        n = next(self._counter)
        name = f"resize{n}"
        channel = f"ptui-difftest-done-{n}"
        path = self._dir / f"{name}.bin"
        path.write_bytes(data)
        tmux_cmd = f"{shlex.quote(self._tmux)} -S {shlex.quote(str(self._socket))}"
        command = (
            f"stty raw -echo; cat {shlex.quote(str(path))}; "
            f"{tmux_cmd} wait-for -S {channel}; exec sleep 100000"
        )
        self._run("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows), command)
        target = f"={name}:"
        try:
            self._run("wait-for", channel, timeout=30)
            for width, height in sizes:
                self._run("resize-window", "-t", target, "-x", str(width), "-y", str(height))
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    size = self._run("display-message", "-p", "-t", target,
                                     "#{pane_width} #{pane_height}")  # fmt: skip
                    if size.split() == [str(width), str(height)]:
                        break
                    time.sleep(0.01)
            info = self._run("display-message", "-p", "-t", target, "#{cursor_x}\t#{cursor_y}")
            cx, cy = info.rstrip("\n").split("\t")
            text = self._run("capture-pane", "-p", "-S", "-", "-t", target)
            ansi = self._run("capture-pane", "-p", "-e", "-N", "-S", "-", "-t", target)
        finally:
            self._run("kill-session", "-t", f"={name}")
            path.unlink(missing_ok=True)
        return Capture(text=text, ansi=ansi, cursor=(int(cx), int(cy)))

    def close(self) -> None:
        """Kill the server and remove its socket directory."""
        if self._started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run("kill-server", timeout=5)
            self._started = False
        shutil.rmtree(self._dir, ignore_errors=True)


_server: TmuxServer | None = None


def tmux_capture(data: bytes, cols: int = 80, rows: int = 24) -> Capture:
    """Replay ``data`` into tmux at ``cols`` x ``rows`` and capture the pane.

    Uses one shared private server, started on first use; ``shutdown_tmux``
    (called by the test module's session fixture, and at exit) kills it.
    """
    global _server
    if _server is None:
        _server = TmuxServer()
        atexit.register(shutdown_tmux)
    return _server.capture(data, cols, rows)


def tmux_capture_resized(
    data: bytes, cols: int, rows: int, sizes: list[tuple[int, int]]
) -> Capture:
    """Like ``tmux_capture``, then resize the pane through ``sizes``; scrollback included."""
    global _server
    if _server is None:
        _server = TmuxServer()
        atexit.register(shutdown_tmux)
    return _server.capture_resized(data, cols, rows, sizes)


def shutdown_tmux() -> None:
    """Kill the shared tmux server, if one was started."""
    global _server
    if _server is not None:
        _server.close()
        _server = None
