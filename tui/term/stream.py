"""A fast escape-sequence parser that drives the screen (`tui.term.screen.TermScreen`).

pyte's Stream walks the input one character at a time through a generator; with
its screen events made no-ops it still tops out at about 13 MB/s. This parser
instead tokenises each decoded chunk with one compiled regular expression whose
alternatives cover every position: a run of printable text, a clean CSI, OSC,
DCS/APC/PM/SOS string or other escape, a C0 control, or a clean sequence cut by
the end of the chunk (kept for the next). Text runs reach `draw` whole.

A sequence that is not clean (a control, ESC, CAN or SUB inside it, a string
abandoned by ESC) is legal, and means what DEC's VT500 state model says it means:
from the first such ESC on, the chunk is rewritten by `vt500.repair` into clean
sequences with the same effect, then tokenised as usual.

Runs go to `runs.Runs` (the bulk path onto the grid); complete sequences to
`dispatch.Dispatch`, keyed on the whole sequence: private marker, intermediates
and final byte. This module keeps what spans chunks: a sequence cut by the end of
a read, and an OSC or DCS string arriving in pieces.

Nothing raised by a handler escapes `feed`: a sequence that cannot be handled is
dropped and the rest of the chunk is parsed. Payloads are capped (OSC/DCS) and
parameters clamped, so the cost stays linear in the input."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from tui.term.dispatch import BARE_ONLY, Dispatch, parse_params
from tui.term.runs import Runs
from tui.term.screen import TermScreen
from tui.term.vt500 import CLEAN, CLEAN_PARTIAL, repair

# The largest OSC / DCS payload kept (OSC 52 clipboard copies are the big ones).
MAX_STRING = 1 << 20
# An unterminated CSI or escape longer than this is garbage: drop it.
MAX_PENDING_SEQUENCE = 4096

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
_INTERMEDIATES = " !\"#$%&'()*+,-./"
_OSC_STOP = re.compile(r"[\x07\x18\x1a\x1b]")
_STRING_STOP = re.compile(r"[\x18\x1a\x1b]")
_MARKERS = frozenset("?<=>")
"""Private markers: a CSI whose parameters start with one is a private sequence."""
_LATE_MARKER = re.compile(r"[<=>?]")


class TermStream(Runs, Dispatch):
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
        self._csi_marked = {f: h for f, h in self._csi.items() if f not in BARE_ONLY}

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
    # Everything else (NUL, C1 in UTF-8 mode, ...) is ignored, as xterm does.

    # ------------------------------------------------------------------ CSI

    # ------------------------------------------------------------------ OSC


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
