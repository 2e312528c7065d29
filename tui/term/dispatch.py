"""Dispatch: what each control, escape sequence, CSI, OSC and DCS does to the screen.

The parser (`tui.term.stream`) hands over complete, clean sequences; dispatch is
keyed on the whole sequence — private marker, intermediates and final byte — and
a combination not listed here is ignored, as xterm ignores what it does not know.
Parameters are read as xterm reads them (`parse_params`). Each handler calls the
screen's method for the control function (`tui.term.screen`).

`Dispatch` is a base of `TermStream`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from tui.term.grid import MAX_COUNT
from tui.term.modes import KEYPAD_APP, KNOWN_ANSI, KNOWN_PRIVATE, PRIVATE
from tui.term.screen import TermScreen

_MAX_PARAMS = 30
"""xterm keeps 30 parameters (NPARAM); the rest are ignored."""
_MAX_PARAM_VALUE = 65535
"""xterm's clamp for one parameter (ctlseqs: "values above 65535 are clamped")."""

_PARAM_CACHE: dict[str, tuple[int, ...]] = {}

BARE_ONLY = frozenset("ABCDEFG`aedHfIZ@PXLMbg")
"""CSI finals that mean what they mean only bare. A private marker or an intermediate
makes another sequence (`CSI ? 3;4 H`, `CSI 2 $ C`; `CSI Ps SP A` is SR), which xterm
ignores when it does not know it; dispatch on the final byte alone ran them as CUP,
CUF ... (ctlseqs lists each of these without one)."""

_ENDS_IN_SEQUENCE = re.compile(r"\x1b\[[0-9;:]*[mK]\Z")
"""A run that ends in SGR or erase-line: no character was printed last."""


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


def arg_or(params: str, default: int) -> int:
    """First numeric parameter, or `default`."""
    values = parse_params(params) if params else ()
    return values[0] if values else default


class Dispatch:
    """The handlers: one per control function, calling the screen's."""

    screen: TermScreen
    _last_run: str | None

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
        elif code == "133":
            # Semantic prompt marks (FinalTerm): A prompt, B input, C output, D done.
            screen.events.append(("prompt-mark", rest[:1]))
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
