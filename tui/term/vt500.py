"""The slow path of the parser: DEC's VT500 state model for sequences that are not clean.

`TermStream` tokenises output with one regular expression that knows only clean
sequences: an ESC followed, byte after byte, by what its kind allows. Real terminals
parse with a state machine instead (Paul Williams, "A parser for DEC's
ANSI-compatible video terminals", vt100.net/emu/dec_ansi_parser; xterm and tmux
follow it), and in that model a sequence may hold more:

- a C0 control inside an ESC or CSI sequence is executed where it stands and the
  sequence goes on (`ESC [ 2 BS C` backspaces, then moves right 2); DEL is ignored;
- ESC inside any sequence abandons it and starts a new one;
- CAN and SUB abort any sequence; nothing of it is shown;
- inside an OSC the C0 controls are ignored, not executed, and BEL ends it; a
  DCS, APC, PM or SOS string ends only at ST (ESC \\), BEL included in its payload;
- an ESC that ends a string without a backslash abandons the string and starts a
  new sequence (`ESC ] 2;abc ESC [ 1 C` is a cursor move).

`repair(text)` rewrites a chunk into the clean form with the same effect, which the
fast path then parses: executing a control inside a sequence is the same as
executing it just before the sequence's ESC (the sequence has done nothing yet), so
each such control is moved there; ignored bytes are dropped, and an abandoned or
aborted sequence is removed. Only a chunk that holds an unclean sequence pays for
this, and it stays linear: each byte is looked at a bounded number of times.
"""

from __future__ import annotations

import re

CLEAN = (
    r"\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI
    r"|\][^\x00-\x1f]*(?:\x07|\x1b\\)"  # OSC, ended by BEL or ST
    r"|[P_^X][^\x18\x1a\x1b]*\x1b\\"  # DCS, APC, PM, SOS: ended by ST only
    # An escape sequence: after an intermediate any final; without one, not the
    # bytes that introduce CSI, OSC and the strings.
    r"|[\x20-\x2f]+[\x30-\x7e]|[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e]"
)
"""What may follow an ESC in a clean, complete sequence (the fast path's forms)."""

CLEAN_PARTIAL = (
    r"(?:\[[\x30-\x3f]*[\x20-\x2f]*|\][^\x00-\x1f]*\x1b?|[P_^X][^\x18\x1a\x1b]*\x1b?"
    r"|[\x20-\x2f]*)?\Z"
)
"""A clean sequence cut by the end of the chunk: the fast path keeps it for the next."""

_SCAN = re.compile(rf"\x1b(?:{CLEAN}|{CLEAN_PARTIAL})|(\x1b)")
"""Finds the next ESC; group 1 is set when what follows it is not clean."""

_STRING_STOP = re.compile(r"[\x00-\x1f]")

# States of the machine (Williams' names). The string states differ in whether BEL
# ends them (OSC) or is payload (DCS and the rest).
_ESCAPE, _ESCAPE_INTERMEDIATE, _CSI, _CSI_INTERMEDIATE, _CSI_IGNORE, _OSC, _DCS = range(7)

_ABORT = "\x18\x1a"

IGNORING = "\x1b[ 0"
"""What is held of a CSI being ignored when the chunk ends: a parameter byte after
an intermediate, which puts the next chunk's parse back into the ignoring state."""


def needs_repair(text: str, start: int = 0) -> bool:
    """Whether an ESC from `start` on begins something the fast path cannot parse."""
    pos = start
    while True:
        match = _SCAN.search(text, pos)
        if match is None:
            return False
        if match.group(1) is not None:
            return True
        pos = match.end()


def repair(text: str) -> tuple[str, str]:
    """`text` with every unclean sequence rewritten to the clean form of its effect.

    Returns the text to parse now and the text to hold for the next chunk: a
    sequence that is to be ignored but has not ended yet (its final byte is still to
    come, and must not be printed when it does).
    """
    out: list[str] = []
    copied = 0
    pos = 0
    while True:
        match = _SCAN.search(text, pos)
        if match is None:
            break
        if match.group(1) is None:
            pos = match.end()
            continue
        start = match.start()
        out.append(text[copied:start])
        controls, sequence, pos = _walk(text, start)
        out.append(controls)
        if pos == len(text) and sequence == IGNORING:
            return "".join(out), sequence
        out.append(sequence)
        copied = pos
    out.append(text[copied:])
    return "".join(out), ""


def _walk(text: str, start: int) -> tuple[str, str, int]:
    """Run the state machine over one sequence from the ESC at `start`.

    Returns the controls to execute before it, the clean sequence (empty when it
    was aborted or is to be ignored; a clean prefix when the chunk ends inside
    it) and where parsing resumes.
    """
    controls: list[str] = []
    seq: list[str] = ["\x1b"]
    state = _ESCAPE
    i = start + 1
    end = len(text)
    while i < end:
        c = text[i]
        if state >= _OSC:
            # A string: look for the next control at C speed.
            found = _STRING_STOP.search(text, i)
            stop = end if found is None else found.start()
            seq.append(text[i:stop])
            if found is None:
                return "".join(controls), "".join(seq), end
            i = stop
            c = text[i]
            if c == "\x1b":
                if i + 1 == end:
                    seq.append(c)  # maybe the start of ST: the next chunk says
                    return "".join(controls), "".join(seq), end
                if text[i + 1] == "\\":
                    seq.append("\x1b\\")
                    return "".join(controls), "".join(seq), i + 2
                seq = ["\x1b"]  # not ST: the string is abandoned, a sequence begins
                state = _ESCAPE
            elif c in _ABORT:
                return "".join(controls), "", i + 1
            elif c == "\x07" and state == _OSC:
                seq.append(c)
                return "".join(controls), "".join(seq), i + 1
            # Any other control inside a string is ignored.
            i += 1
            continue
        code = ord(c)
        if c == "\x1b":
            seq = ["\x1b"]
            state = _ESCAPE
        elif c in _ABORT:
            return "".join(controls), "", i + 1
        elif code < 0x20:
            controls.append(c)
        elif code == 0x7F:
            pass
        elif code >= 0x80:
            # Not part of any sequence: the sequence is dropped and the character
            # is parsed again as ordinary input.
            return "".join(controls), "", i
        elif state == _ESCAPE:
            seq.append(c)
            if c == "[":
                state = _CSI
            elif c == "]":
                state = _OSC
            elif c in "P_^X":
                state = _DCS
            elif code < 0x30:
                state = _ESCAPE_INTERMEDIATE
            else:
                return "".join(controls), "".join(seq), i + 1
        elif state == _ESCAPE_INTERMEDIATE:
            seq.append(c)
            if code >= 0x30:
                return "".join(controls), "".join(seq), i + 1
        else:
            if code >= 0x40:
                if state == _CSI_IGNORE:
                    return "".join(controls), "", i + 1
                seq.append(c)
                return "".join(controls), "".join(seq), i + 1
            if code >= 0x30:
                if state == _CSI_INTERMEDIATE:
                    state = _CSI_IGNORE  # a parameter after an intermediate
            elif state == _CSI:
                state = _CSI_INTERMEDIATE
            if state != _CSI_IGNORE:
                seq.append(c)
        i += 1
    if state == _CSI_IGNORE:
        return "".join(controls), IGNORING, end
    return "".join(controls), "".join(seq), end
