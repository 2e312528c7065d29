"""A fast escape-sequence parser that drives `TermScreen` through pyte's Screen API.

pyte's Stream walks the input one character at a time through a generator; with
its screen events made no-ops it still tops out at about 13 MB/s. This parser
instead tokenises each decoded chunk with one compiled regular expression whose
alternatives cover every position: a run of printable text, a clean CSI, OSC,
DCS/APC/PM/SOS string or other escape, a C0 control, or a clean sequence cut by
the end of the chunk (kept for the next). Text runs reach `draw` whole.

A sequence that is not clean (a control, ESC, CAN or SUB inside it, a string
abandoned by ESC) is legal, and means what DEC's VT500 state model says it means:
from the first such ESC on, the chunk is rewritten by `vt500.repair` into clean
sequences with the same effect, then tokenised as usual. Dispatch is keyed on the
whole sequence: private marker, intermediates and final byte.

Nothing raised by a handler escapes `feed`: a sequence that cannot be handled is
dropped and the rest of the chunk is parsed. Payloads are capped (OSC/DCS) and
parameters clamped, so the cost stays linear in the input."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable

from tui.term.cells import (
    CELL_TABLE,
    SGR_SPLIT,
    SLOW_MARK,
    VS16,
    VS_MARK,
    WIDE_TAIL,
    apply_vs16,
    char_width,
    expand_run,
    text_width,
)
from tui.term.grid import MAX_COUNT
from tui.term.modes import (
    DECAWM,
    IRM,
    KEYPAD_APP,
    KNOWN_ANSI,
    KNOWN_PRIVATE,
    PRIVATE,
)
from tui.term.screen import TermScreen
from tui.term.vt500 import CLEAN, CLEAN_PARTIAL, repair

# The largest OSC / DCS payload kept (OSC 52 clipboard copies are the big ones).
MAX_STRING = 1 << 20
# An unterminated CSI or escape longer than this is garbage: drop it.
MAX_PENDING_SEQUENCE = 4096
_MAX_PARAMS = 30
"""xterm keeps 30 parameters (NPARAM); the rest are ignored."""
_MAX_PARAM_VALUE = 65535
"""xterm's clamp for one parameter (ctlseqs: "values above 65535 are clamped")."""

# Two capture groups: `split` yields [text, run, sequence, text, run, sequence,
# ..., text] where exactly one of run/sequence is set. A *run* is printable text
# mixed with SGR and CR LF — lines of output, most of what agents print — handled
# in bulk (the text parts are then always empty). CR CR LF counts as CR LF (CR is
# idempotent): a recorded `\r\n` passed through a PTY again arrives doubled, and
# `cat` of a CRLF file is common. (Bounded: `\r+\n` would backtrack quadratically
# over a long string of CRs.) CR + erase line, how spinners and progress bars
# redraw a line, is part of a run too: a line's frames are then collapsed (see
# `_last_frame`). The sequence alternatives cover every other non-text character:
# a clean sequence (vt500.CLEAN), a clean one cut by the end of the chunk, a
# control, or an ESC that begins something else, which `vt500.repair` rewrites.
_SEQUENCE = re.compile(
    r"((?:[^\x00-\x1f\x7f-\x9f]+|\x1b\[[0-9;:]*m|\r\r?\n|\r\x1b\[[02]?K)+)"
    rf"|(\x1b(?:{CLEAN}|{CLEAN_PARTIAL})|[\x00-\x1a\x1c-\x1f\x7f-\x9f]|\x1b)",
    re.DOTALL,
)
_RESETS = ("", "0")
_SGR_STRIP = re.compile(r"\x1b\[[0-9;:]*m")
_SGR_BODIES = re.compile(r"\x1b\[([0-9;:]*)m")
# CR + EL 0 or 2: back to column 0 and blank the row, inside a run.
_CR_EL = re.compile(r"\r\x1b\[[02]?K")
_INTERMEDIATES = " !\"#$%&'()*+,-./"

_OSC_STOP = re.compile(r"[\x07\x18\x1a\x1b]")
_STRING_STOP = re.compile(r"[\x18\x1a\x1b]")

_PARAM_CACHE: dict[str, tuple[int, ...]] = {}

_BARE_ONLY = frozenset("ABCDEFG`aedHfIZ@PXLMbg")
"""CSI finals that mean what they mean only bare. A private marker or an intermediate
makes another sequence (`CSI ? 3;4 H`, `CSI 2 $ C`; `CSI Ps SP A` is SR), which xterm
ignores when it does not know it; dispatch on the final byte alone ran them as CUP,
CUF ... (ctlseqs lists each of these without one)."""
_MARKERS = frozenset("?<=>")
_LATE_MARKER = re.compile(r"[<=>?]")
_ENDS_IN_SEQUENCE = re.compile(r"\x1b\[[0-9;:]*[mK]\Z")
"""Private markers: a CSI whose parameters start with one is a private sequence."""


def parse_params(text: str) -> tuple[int, ...]:
    """`1;2;;4` -> (1, 2, 0, 4); colon sub-parameters keep only the first; each value
    clamped to 65535 after its leading zeros are dropped, as xterm does."""
    cached = _PARAM_CACHE.get(text)
    if cached is not None:
        return cached
    values: list[int] = []
    for part in text.split(";")[:_MAX_PARAMS]:
        if ":" in part:
            part = part.split(":", 1)[0]
        if not part.isdigit():
            part = "".join(c for c in part if c.isdigit())
        # Leading zeros go first: `00000000004` is 4. Then the clamp, on at most six
        # digits, so a parameter a megabyte long costs no big-integer parse.
        digits = part.lstrip("0")
        values.append(min(int(digits[:6]), _MAX_PARAM_VALUE) if digits else 0)
    result = tuple(values)
    if len(_PARAM_CACHE) < 8192:
        _PARAM_CACHE[text] = result
    return result


def _ends_in_reset(run: str) -> bool:
    """Whether the last SGR in `run` (which holds one) resets every attribute."""
    start = run.rfind("\x1b[")
    return run[start + 2 : run.find("m", start)] in _RESETS


def _cell_text(cells: str | list[str]) -> str:
    """The text that draws these cells (wide-character tails dropped)."""
    text = cells if isinstance(cells, str) else "".join(cells)
    return text.replace(WIDE_TAIL, "")


class TermStream:
    """Parses bytes from a program and drives a `TermScreen`."""

    def __init__(self, screen: TermScreen) -> None:
        self.screen = screen
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._skip_string = False  # inside an over-long OSC/DCS: drop until its end
        self._skip_esc = False  # ... and the text so far ended with ESC (of a split ST)
        self._skip_osc = False  # ... and it is an OSC (which BEL ends too)
        self._string_parts: list[str] = []  # an unterminated OSC/DCS, kept in pieces
        self._string_size = 0
        self.errors = 0  # handler exceptions swallowed (for tests and diagnostics)
        self._last_run: str | None = None  # the token before, when it was a run
        self._csi: dict[str, Callable[[str, str, str], None]] = self._csi_table()
        # For a sequence with a private marker or intermediates: the finals that have
        # such forms (DECSET, DA2, DECSCUSR ...), none of the bare-only ones.
        self._csi_marked = {f: h for f, h in self._csi.items() if f not in _BARE_ONLY}

    # ---------------------------------------------------------------- input
    def feed(self, data: bytes) -> None:
        """Parse a chunk of program output. Never raises."""
        self.feed_text(self._decoder.decode(data))

    def feed_text(self, text: str) -> None:
        """Parse already-decoded text. Never raises."""
        if self._string_parts:
            # An OSC/DCS is still open: look for its end in the new text only, so
            # a long payload arriving in many reads costs linear time. Once found,
            # the whole string is parsed again from its ESC (by the rules for how
            # it ended: vt500).
            parts = self._string_parts
            end = _string_end(text, parts[0][1] == "]", parts[-1].endswith("\x1b"))
            if end < 0:
                self._string_size += len(text)
                if self._string_size > MAX_STRING:
                    self._string_parts = []
                    self._skip_string = True  # too big: swallow until its terminator
                    self._skip_osc = parts[0][1] == "]"
                    self._skip_esc = text.endswith("\x1b")
                else:
                    self._string_parts.append(text)
                return
            self._string_parts.append(text)
            text = "".join(self._string_parts)
            self._string_parts = []
        elif self._pending:
            text = self._pending + text
            self._pending = ""
        if self._skip_string:
            end = _string_end(text, self._skip_osc, self._skip_esc)
            if end < 0:
                self._skip_esc = text.endswith("\x1b")
                return
            # An ESC that did not begin ST abandons the string and begins a sequence.
            text = "\x1b" + text if self._skip_esc and end == 0 else text[end:]
            self._skip_string = False
        self._parse(text, repaired=False)

    def _parse(self, text: str, repaired: bool) -> None:
        """Tokenise and run `text`; `repaired` when it went through vt500.repair."""
        screen = self.screen
        draw = screen.draw
        parts = _SEQUENCE.split(text)
        last = len(parts) - 1
        for i in range(0, last, 3):
            try:
                chunk = parts[i]
                if chunk:
                    draw(chunk)
                run = parts[i + 1]
                if run is not None:
                    self._run(run)
                    self._last_run = run
                elif parts[i + 2] != "\x1b" or repaired or i + 2 == last - 1:
                    seq = parts[i + 2]
                    at_end = i + 2 == last - 1
                    self._sequence(seq, at_end)
                    if seq != "\x7f" and not (at_end and (self._pending or self._string_parts)):
                        # A control or sequence ran: REP has nothing to repeat until
                        # the next character (xterm). Not DEL, which is ignored
                        # everywhere; not one kept for the next chunk, not run yet.
                        self._last_run = None
                else:
                    # An ESC that begins no clean sequence: the rest of the chunk
                    # goes through the state machine's rewrite, once.
                    offset = sum(len(p) for p in parts[: i + 2] if p)
                    rest, held = repair(text[offset:])
                    self._parse(rest, repaired=True)
                    if held:
                        self._pending = held
                    return
            except Exception:
                self.errors += 1
        tail = parts[last]
        if tail:
            try:
                draw(tail)
            except Exception:
                self.errors += 1

    def _run(self, run: str) -> None:
        """Printable text, SGR and CR LF: lines of output, handled in bulk when possible."""
        if "\r\n" not in run:
            self._run_line(run)
            return
        if "\r\r" in run:
            run = run.replace("\r\r\n", "\r\n")
        lines = run.split("\r\n")
        tail = lines.pop()
        screen = self.screen
        i = 0
        count = len(lines)
        while i < count:
            if screen.can_push_lines() and self._simple_mode():
                i = self._push_lines(lines, i)
                if i >= count:
                    break
            if lines[i]:
                self._run_line(lines[i])
            screen.crlf()
            i += 1
        if tail:
            self._run_line(tail)

    def _simple_mode(self) -> bool:
        screen = self.screen
        return (
            screen.translate is None
            and not screen.single_shift
            and not screen.join_next
            and IRM not in screen.mode
        )

    def _measure(self, run: str, style: str) -> tuple[int, str, str] | None:
        """Width, final style and last character of a run, without expanding it.

        None when it holds characters that need cluster logic.
        """
        if "\x1b" not in run:
            text = run
            end = style
        elif _ends_in_reset(run):
            # Agents reset after each coloured span: only the last SGR counts.
            text = _SGR_STRIP.sub("", run)
            end = self._reset(style)
        else:
            # A row of colour changes (ratatui's): one split gives text and SGRs.
            pieces = SGR_SPLIT.split(run)
            text = "".join(pieces[::2])
            end = self.screen.style_table.after(style, pieces[1::2])
        width = len(text) if text.isascii() else text_width(text)
        if width is None:
            return None
        return width, end, text[-1] if text else ""

    def _style_after(self, run: str, style: str) -> str:
        """The style after the SGRs in `run` (which holds at least one), from `style`."""
        if _ends_in_reset(run):
            return self._reset(style)
        return self.screen.style_table.after(style, _SGR_BODIES.findall(run))

    def _reset(self, style: str) -> str:
        """`style` after SGR 0 (only a hyperlink survives it)."""
        table = self.screen.style_table
        return table.sgr(style, "0")

    def _last_frame(self, frames: list[str], style: str, room: int) -> tuple[str, str] | None:
        """The style before a line's last frame and its text, when drawing it alone is exact.

        `frames` is a line split at CR + erase line: a spinner or progress bar
        redrawing itself. Drawing the earlier frames only to erase them leaves
        nothing but their SGRs behind, provided none reaches the margin (CR then
        returns to the row it started on) and each erase paints default cells.
        `room` is the columns left for the first frame. None when that does not
        hold, or the last frame is empty (its `last_char` would come from an earlier
        one): the caller draws frame by frame.
        """
        last = frames[-1]
        if not last:
            return None
        erase = self.screen.style_table.erase
        for frame in frames[:-1]:
            # A code point takes at most two cells (a VS16 adds one to one cell).
            if len(frame) * 2 > room:
                return None
            if "\x1b" in frame:
                style = self._style_after(frame, style)
            if erase(style) != "\x00":
                return None
            room = self.screen.columns
        return style, last

    def _push_lines(self, lines: list[str], start: int) -> int:
        """Print complete lines from `start` as lazy rows in one scroll; returns where it stops."""
        screen = self.screen
        cols = screen.columns
        style = screen.style
        rows: list[list[object]] = []
        wraps: list[bool] = []
        last_char = screen.last_char
        erase = screen.style_table.erase
        autowrap = DECAWM in screen.mode
        i = start
        for i in range(start, len(lines)):
            run = lines[i]
            begin = style
            if "\r" in run:
                # A line that redraws itself, on a fresh row: only its last frame shows.
                found = self._last_frame(_CR_EL.split(run), style, cols)
                if found is None:
                    break
                begin, run = found
            measured = self._measure(run, begin) if run else (0, begin, "")
            if measured is None:
                break
            width, end, last = measured
            if erase(end) != "\x00":
                # Its CR LF scrolls in a row filled with a background colour (xterm's
                # BCE): not the fresh rows this path makes. Leave it to the slow path.
                break
            if width <= cols:
                rows.append([width, True, begin, run] if run else [0, True])
                wraps.append(False)
            elif not autowrap or "\x1b" in run or not self._wrap_rows(run, begin, rows, wraps):
                break  # a wrapping line with styles, or no autowrap: the slow path
            style = end
            if last:
                last_char = last
        else:
            i = len(lines)
        if rows:
            screen.push_lines(rows, style, last_char, wraps)
        return i

    def _wrap_rows(
        self, text: str, style: str, rows: list[list[object]], wraps: list[bool]
    ) -> bool:
        """Split a line wider than the screen into the rows autowrap makes (lazy rows).

        A wide character that would straddle the margin moves to the next row and
        leaves the last column blank, as drawing it does. False if the text holds
        clusters other than VS16, or a VS16 would widen a character in the last
        column (it stays narrow there: the careful path handles both).
        """
        cols = self.screen.columns
        if cols < 2:
            return False  # no room for a wide character anywhere: the careful path
        cells: str | list[str] = text if text.isascii() else text.translate(CELL_TABLE)
        if SLOW_MARK in cells:
            return False
        if VS_MARK in cells:
            assert isinstance(cells, str)
            joined = apply_vs16(cells, cells)  # the styles it also returns are not needed
            if joined is None:
                return False
            cells = joined[0]
        new_rows: list[list[object]] = []
        start = 0
        end = len(cells)
        while end - start > cols:
            stop = start + cols
            if cells[stop] == WIDE_TAIL:
                head = cells[stop - 1]
                if head[-1:] == VS16 and char_width(head[0]) == 1:
                    return False
                stop -= 1
            new_rows.append([stop - start, True, style, _cell_text(cells[start:stop])])
            start = stop
        new_rows.append([end - start, True, style, _cell_text(cells[start:])])
        rows.extend(new_rows)
        wraps.extend([True] * (len(new_rows) - 1))
        wraps.append(False)
        return True

    def _run_line(self, run: str) -> None:
        """Printable text mixed with SGR: append it lazily, or expand and place it in bulk."""
        screen = self.screen
        if "\r" in run:
            self._redraw_line(_CR_EL.split(run))
            return
        if not self._simple_mode():
            self._run_carefully(SGR_SPLIT.split(run))
            return
        row = screen.lazy[screen.y]
        if not screen.wrap_pending and (screen.x == 0 or (row is not None and row[0] == screen.x)):
            # The common case: a line printed left to right. Measure it and find its
            # final style without expanding it into cells.
            measured = self._measure(run, screen.style)
            if measured is not None and screen.x + measured[0] <= screen.columns:
                width, end, last = measured
                if screen.append_run(run, width, end, last or screen.last_char):
                    return
        pieces = SGR_SPLIT.split(run)
        expanded = expand_run(screen.style, pieces, screen.style_table)
        if expanded is None:
            self._run_carefully(pieces)
            return
        cells, styles, sid = expanded
        if cells:
            screen.draw_styled(cells, styles)
        screen.style = sid

    def _redraw_line(self, frames: list[str]) -> None:
        """A line split at CR + erase line: draw only its last frame when that is exact."""
        screen = self.screen
        found = None
        if self._simple_mode() and not (screen.wrap_pending and frames[0]):
            found = self._last_frame(frames, screen.style, screen.columns - screen.x)
        if found is not None:
            screen.style, last = found
            screen.carriage_return()
            screen.erase_in_line(2)
            self._run_line(last)
            return
        for j, frame in enumerate(frames):
            if j:
                screen.carriage_return()
                screen.erase_in_line(2)
            if frame:
                self._run_line(frame)

    def _run_carefully(self, pieces: list[str]) -> None:
        """A run under a charset, insert mode or with clusters: piece by piece."""
        screen = self.screen
        for j, piece in enumerate(pieces):
            if j % 2:
                screen.style = screen.style_table.sgr(screen.style, piece)
            elif piece:
                screen.draw(piece)

    def _sequence(self, seq: str, at_end: bool) -> None:
        """One control, escape or string sequence."""
        if len(seq) == 1:
            if seq != "\x1b":
                self._control(seq)
            elif at_end:
                self._pending = seq
            # Otherwise an ESC that begins no sequence, which vt500.repair has
            # already rewritten away: dropped.
        elif seq[1] == "[":
            final = seq[-1]
            if len(seq) < 3 or not "@" <= final <= "~":
                self._keep_partial(seq)
                return
            body = seq[2:-1]
            params = body.rstrip(_INTERMEDIATES)
            inter = body[len(params) :]
            # A private marker after the first byte (Williams: CSI ignore), or a
            # colon outside SGR, the one sequence that defines sub-parameters
            # (ctlseqs): the sequence is ignored.
            if (
                params
                and not params.isdigit()
                and (_LATE_MARKER.search(params, 1) or (":" in params and final != "m"))
            ):
                return
            if inter or params[:1] in _MARKERS:
                handler = self._csi_marked.get(final)
            else:
                handler = self._csi.get(final)
            if handler is not None:
                handler(params, inter, final)
        elif seq[1] == "]":
            if seq[-1] == "\x07":
                self._osc(seq[2:-1], "\x07")
            elif seq.endswith("\x1b\\"):
                self._osc(seq[2:-2], "\x1b\\")
            else:
                self._keep_partial(seq)
        elif seq[1] in "P_^X":
            if seq.endswith("\x1b\\") and len(seq) > 3:
                self._string(seq)
            else:
                self._keep_partial(seq)
        elif "0" <= seq[-1] <= "~":
            self._escape(seq[1:-1], seq[-1])
        else:
            self._keep_partial(seq)

    def _keep_partial(self, partial: str) -> None:
        """Keep an unfinished sequence for the next chunk, within limits."""
        if len(partial) > 1 and partial[1] in "]P_^X":
            if len(partial) <= MAX_STRING:
                self._string_parts = [partial]
                self._string_size = len(partial)
            else:
                self._skip_string = True  # too big: swallow until its terminator
                self._skip_esc = partial.endswith("\x1b")
        elif len(partial) <= MAX_PENDING_SEQUENCE:
            self._pending = partial

    # ------------------------------------------------------------- controls
    def _control(self, ch: str) -> None:
        screen = self.screen
        if ch == "\n" or ch == "\x0b" or ch == "\x0c":
            screen.linefeed()
        elif ch == "\r":
            screen.carriage_return()
        elif ch == "\x08":
            screen.backspace()
        elif ch == "\t":
            screen.tab()
        elif ch == "\x07":
            screen.bell()
        elif ch == "\x0e":
            screen.shift_out()
        elif ch == "\x0f":
            screen.shift_in()
        # Everything else (NUL, C1 in UTF-8 mode, ...) is ignored, as xterm does.

    def _escape(self, inter: str, final: str) -> None:
        screen = self.screen
        if not inter:
            if final == "7":
                screen.save_cursor()
            elif final == "8":
                screen.restore_cursor()
            elif final == "D":
                screen.index()
            elif final == "E":
                screen.next_line()
            elif final == "M":
                screen.reverse_index()
            elif final == "H":
                screen.set_tab_stop()
            elif final == "c":
                screen.reset()
            elif final in "no":
                screen.locking_shift(2 if final == "n" else 3)  # LS2, LS3
            elif final in "NO":
                screen.single_shift_next(2 if final == "N" else 3)  # SS2, SS3
            elif final == "=":
                screen.mode.add(KEYPAD_APP)
            elif final == ">":
                screen.mode.discard(KEYPAD_APP)
            return
        if inter in "()*+" and len(inter) == 1:
            screen.define_charset(final, inter)
        elif inter == "#" and final == "8":
            screen.alignment_display()

    def _string(self, whole: str) -> None:
        # DCS, APC, PM, SOS: swallowed. Answer the one query agents send: XTGETTCAP
        # is not supported, so say so rather than leave the program waiting.
        if whole.startswith("\x1bP+q"):
            self.screen.write_process_input("\x1bP0+r\x1b\\")

    # ------------------------------------------------------------------ CSI
    def _csi_table(self) -> dict[str, Callable[[str, str, str], None]]:
        s = self.screen

        def count(params: str) -> int:
            values = parse_params(params) if params else ()
            return min(values[0], MAX_COUNT) if values and values[0] else 1

        def arg(params: str, default: int = 0) -> int:
            values = parse_params(params) if params else ()
            return values[0] if values else default

        def private(params: str) -> bool:
            return params[:1] in ("?", ">", "<", "=")

        table: dict[str, Callable[[str, str, str], None]] = {
            "A": lambda p, i, f: s.cursor_up(count(p)),
            "B": lambda p, i, f: s.cursor_down(count(p)),
            "C": lambda p, i, f: s.cursor_forward(count(p)),
            "D": lambda p, i, f: s.cursor_back(count(p)),
            "E": lambda p, i, f: s.cursor_down1(count(p)),
            "F": lambda p, i, f: s.cursor_up1(count(p)),
            "G": lambda p, i, f: s.cursor_to_column(count(p)),
            "`": lambda p, i, f: s.cursor_to_column(count(p)),
            "a": lambda p, i, f: s.cursor_forward(count(p)),
            "e": lambda p, i, f: s.cursor_down_absolute(count(p)),
            "d": lambda p, i, f: s.cursor_to_line(count(p)),
            "H": self._cup,
            "f": self._cup,
            "I": lambda p, i, f: s.tab(count(p)),
            "Z": lambda p, i, f: s.back_tab(count(p)),
            "@": lambda p, i, f: None if i else s.insert_characters(count(p)),
            "P": lambda p, i, f: s.delete_characters(count(p)),
            "X": lambda p, i, f: s.erase_characters(count(p)),
            "L": lambda p, i, f: s.insert_lines(count(p)),
            "M": lambda p, i, f: s.delete_lines(count(p)),
            "S": lambda p, i, f: None if private(p) else s.scroll_up(count(p)),
            "T": lambda p, i, f: None if private(p) else s.scroll_down(count(p)),
            "b": lambda p, i, f: self._repeat(count(p)),
            "g": lambda p, i, f: s.clear_tab_stop(arg(p)),
            "r": self._decstbm,
            "h": self._set_mode,
            "l": self._reset_mode,
            "m": self._sgr_special,
            "n": self._dsr,
            "c": self._da,
            "p": self._csi_p,
            "q": self._csi_q,
            "s": lambda p, i, f: None if p else s.save_cursor(),
            "t": self._window_ops,
            "u": self._csi_u,
        }

        # Unknown erase modes are ignored, as xterm and tmux do (pyte crashed on them).
        # `?` is DECSED/DECSEL (selective erase: nothing is protected here, so it
        # erases as ED/EL); another marker or an intermediate (`CSI 2 $ J`) is not ED.
        def erase_display(p: str, i: str, f: str) -> None:
            if i or p[:1] in (">", "<", "="):
                return
            how = arg(p.lstrip("?"))
            if how <= 3:
                s.erase_in_display(how)

        def erase_line(p: str, i: str, f: str) -> None:
            if i or p[:1] in (">", "<", "="):
                return
            how = arg(p.lstrip("?"))
            if how <= 2:
                s.erase_in_line(how)

        table["J"] = erase_display
        table["K"] = erase_line
        return table

    def _repeat(self, count: int) -> None:
        """REP: only right after a printed character (xterm forgets it after any
        control or sequence, ctlseqs "CSI Ps b"); a run ends in one unless it ends
        in CR LF, SGR or erase-line."""
        run = self._last_run
        if run and run[-1] != "\n" and not _ENDS_IN_SEQUENCE.search(run):
            self.screen.repeat_last(count)

    def _cup(self, params: str, inter: str, final: str) -> None:
        values = parse_params(params) if params else ()
        line = values[0] if values else 1
        column = values[1] if len(values) > 1 else 1
        self.screen.cursor_position(min(line, MAX_COUNT), min(column, MAX_COUNT))

    def _decstbm(self, params: str, inter: str, final: str) -> None:
        if params[:1] == "?" or inter:
            return  # DEC private mode restore and DECSLRM-like forms: ignored
        values = parse_params(params) if params else ()
        top = values[0] if values else 0
        bottom = values[1] if len(values) > 1 else 0
        self.screen.set_margins(top or None, bottom or None)

    def _modes(self, params: str) -> tuple[tuple[int, ...], bool]:
        is_private = params[:1] == "?"
        return parse_params(params[1:] if is_private else params), is_private

    def _set_mode(self, params: str, inter: str, final: str) -> None:
        if params[:1] in (">", "="):
            return
        modes, is_private = self._modes(params)
        self.screen.set_mode(*modes, private=is_private)

    def _reset_mode(self, params: str, inter: str, final: str) -> None:
        if params[:1] in (">", "="):
            return
        modes, is_private = self._modes(params)
        self.screen.reset_mode(*modes, private=is_private)

    def _sgr_special(self, params: str, inter: str, final: str) -> None:
        # `CSI > 4;1 m` (modifyOtherKeys) and friends are not SGR; pyte applied them as
        # bold + underline. Record the request, change nothing on screen.
        if params[:1] == ">":
            self.screen.events.append(("modify-other-keys", params))
        elif not inter and params[:1] not in ("?", "<", "="):
            self.screen.sgr(params)  # SGR that did not fit the fast run (e.g. odd bytes)

    def _dsr(self, params: str, inter: str, final: str) -> None:
        is_private = params[:1] == "?"
        values = parse_params(params.lstrip("?")) if params else ()
        if values:
            self.screen.report_device_status(values[0], private=is_private)

    def _da(self, params: str, inter: str, final: str) -> None:
        if params[:1] == "=":
            return  # DA3: not answered, like tmux
        is_secondary = params[:1] == ">"
        values = parse_params(params.lstrip(">")) if params.lstrip(">") else ()
        self.screen.report_device_attributes(values[0] if values else 0, private=is_secondary)

    def _csi_p(self, params: str, inter: str, final: str) -> None:
        screen = self.screen
        if inter == "!":
            screen.soft_reset()
        elif inter == "$":
            # DECRQM: report whether a mode is set (1), reset (2) or unknown (0).
            is_private = params[:1] == "?"
            values = parse_params(params.lstrip("?")) if params.lstrip("?") else ()
            if not values:
                return
            mode = values[0]
            key = mode << PRIVATE if is_private else mode
            known = KNOWN_PRIVATE if is_private else KNOWN_ANSI
            if mode not in known:
                state = 0
            elif is_private and mode in (1049, 1047, 47):
                state = 1 if screen.in_alt else 2
            else:
                state = 1 if key in screen.mode else 2
            prefix = "?" if is_private else ""
            screen.write_process_input(f"\x1b[{prefix}{mode};{state}$y")

    def _csi_q(self, params: str, inter: str, final: str) -> None:
        if inter == " ":
            self.screen.set_cursor_shape(arg_or(params, 0))
        elif params[:1] == ">":
            # XTVERSION: who is the terminal.
            from tui import __version__

            self.screen.write_process_input(f"\x1bP>|ptui({__version__})\x1b\\")

    def _window_ops(self, params: str, inter: str, final: str) -> None:
        values = parse_params(params) if params else ()
        if values and values[0] == 18:
            s = self.screen
            s.write_process_input(f"\x1b[8;{s.lines};{s.columns}t")

    def _csi_u(self, params: str, inter: str, final: str) -> None:
        """Kitty keyboard protocol: query, push, pop, set (and plain `CSI u` restore)."""
        screen = self.screen
        lead = params[:1]
        rest = params[1:]
        values = parse_params(rest) if rest else ()
        if lead == "?":
            screen.report_kitty_flags()
        elif lead == ">":
            screen.push_kitty_flags(values[0] if values else 0)
        elif lead == "<":
            screen.pop_kitty_flags(values[0] if values and values[0] else 1)
        elif lead == "=":
            screen.set_kitty_flags(values[0] if values else 0, values[1] if len(values) > 1 else 1)
        elif not params:
            screen.restore_cursor()  # SCORC

    # ------------------------------------------------------------------ OSC
    def _osc(self, payload: str, end: str) -> None:
        """One OSC; `end` is its terminator, which a reply uses too (ctlseqs)."""
        if "\x7f" in payload:
            payload = payload.replace("\x7f", "")  # DEL is ignored in every state
        screen = self.screen
        code, _, rest = payload.partition(";")
        if code in ("0", "2"):
            screen.set_title(rest[:1024])
            if code == "0":
                screen.set_icon_name(rest[:1024])
        elif code == "1":
            screen.set_icon_name(rest[:1024])
        elif code == "7":
            screen.events.append(("cwd", rest[:4096]))
        elif code == "8":
            # OSC 8 ; params ; URI — an empty URI ends the link.
            _, _, uri = rest.partition(";")
            screen.set_hyperlink(uri[:2048] or None)
        elif code == "52":
            self._clipboard(rest)
        elif code == "9":
            if rest.startswith("4;"):
                screen.events.append(("progress", rest[2:]))
            else:
                screen.events.append(("notification", ("", rest[:1024])))
        elif code == "777":
            kind, _, body = rest.partition(";")
            if kind == "notify":
                title, _, message = body.partition(";")
                screen.events.append(("notification", (title[:256], message[:1024])))
        elif code in ("10", "11", "12") and rest == "?":
            screen.report_colour(code, end)

    def _clipboard(self, rest: str) -> None:
        target, _, data = rest.partition(";")
        if data == "?":
            return  # reading the clipboard is refused: a program must not see it
        try:
            text = base64.b64decode(data, validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return
        self.screen.events.append(("clipboard", (target or "c", text)))


def arg_or(params: str, default: int) -> int:
    """First numeric parameter, or `default`."""
    values = parse_params(params) if params else ()
    return values[0] if values else default


def _string_end(text: str, osc: bool, after_esc: bool = False) -> int:
    """Where the string sequence that `text` continues is decided, or -1 if not yet.

    The index is just past the byte that decides it: BEL (an OSC only) or ST ends
    it; CAN or SUB abort it; an ESC that is not the start of ST abandons it, and
    the index is that ESC's, which begins the next sequence (vt500). `after_esc`:
    the previous chunk ended with ESC, so the first byte here decides (0 when that
    ESC did not begin ST).
    """
    if after_esc and text:
        return 1 if text[0] == "\\" else 0
    found = (_OSC_STOP if osc else _STRING_STOP).search(text)
    if found is None:
        return -1
    i = found.start()
    if text[i] != "\x1b":
        return i + 1
    if i + 1 < len(text):
        return i + 2 if text[i + 1] == "\\" else i
    return -1  # an ESC at the very end: the next chunk says


__all__ = ["TermStream", "parse_params"]
