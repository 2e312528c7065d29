"""A fuzzer with an oracle for the escape-sequence parser: bytes inside a sequence.

The parser follows the VT500 / DEC ANSI parser state model (Paul Williams'
diagram) as xterm does. These tests do not say what a screen should look like;
they say that two inputs must give the same screen, which holds whatever the
sequences themselves do:

- **A control inside an escape sequence or a CSI** (C0 other than ESC, CAN and
  SUB) is executed in place and the sequence goes on; DEL there is ignored, and
  DEL in ground prints nothing. So `ESC [ 2 <BS> C` must leave the screen that
  `<BS> ESC [ 2 C` leaves: the expected input is the scene with the control
  moved to just before the sequence's ESC. The offset is drawn from all those
  after the ESC and before the final byte, between ESC and `[` / `(` / `#` too.
- **A control inside an OSC or a DCS / APC / PM / SOS string** (after its
  introducer, before its terminator) is ignored: the expected input is the
  scene without it. BEL ends an OSC, so it is not inserted into one; it ends
  no other string, so it is inserted there. Between the ESC and the introducer
  (`ESC <BS> ] ...`) the parser is still in the escape state, where a control is
  executed: that offset is checked like an escape sequence's. DEL inside an OSC
  payload is checked against the text, colours and cursor only, not against the
  title and hyperlink: Williams' diagram passes 0x7f on as part of the string
  (osc_put), so whether a payload keeps it is not for this test to say. For
  every C0 control the title and the hyperlink of each cell must be unchanged.
- **ESC inside an escape sequence or CSI** abandons it and starts a new one:
  `prefix + ESC + rest` must give the screen of `ESC + rest` sent in place of
  the whole sequence (`rest` may make another sequence: `ESC [ 2 ESC P` starts
  a DCS that swallows what follows until a string terminator; both sides do
  the same). **CAN or SUB** there abort the sequence and print nothing for it:
  `prefix + CAN + rest` must give the screen of `rest` alone, fed as plain
  input. Here `rest` legitimately prints (`ESC [ 2 CAN ;5H` shows `;5H`), and
  the cleanest split of responsibilities is: the equality with the expected
  screen carries the weight, and the leak check only forbids characters that
  occur in the abandoned prefix and nowhere in `rest`. The insertion offset is
  not confined to just before the final byte, as that would leave most of the
  parameter / intermediate states untested.

Each scene is a small screen (20x6 to 40x10) pre-filled with Greek letters,
which are never sequence bytes, interleaved with a few dozen well-formed
sequences of the kinds the parser dispatches (cursor motion, erase, insert /
delete, scrolling, margins, SGR, modes, DECSC / DECRC, IND / NEL / RI, tabs,
charsets, DECALN, OSC titles and hyperlinks, DCS / APC / PM / SOS strings). One
of them, of a kind chosen so that every kind meets every control, gets the
byte. For every case:

- the input fed whole must give the expected screen: `render_text()`,
  `render_ansi()` (colours, attributes), the cursor, the line models (which
  carry hyperlinks) and the scrollback; the title as said above;
- no exception escapes `feed` and `emu.stream.errors == 0` (handler exceptions
  the parser swallowed);
- no sequence byte shows as text, on screen or in the scrollback: with a Greek
  alphabet any other character is a leak (`E` is allowed once DECALN ran; DEC
  line-drawing characters are leaks too, as only ASCII turns into them);
- the same input split at random chunk boundaries (anywhere: inside UTF-8,
  inside sequences; sometimes at every byte around the sequence) must give the
  same screen as fed whole.

A fourth test checks the scenes alone (no byte inserted): clean and
chunking-proof, so a failure of the others is about the inserted byte, not
about the scene. Two short hand-written tests anchor the fuzzer to known
truths (`A ESC [ 2 BS C X` shows `A X` on xterm).

Every case is a pure function of its oracle and seed: a failure names both and
shows the bytes fed, the expected bytes and the first differing row. Reproduce
one with `replay(oracle, seed)` from this module (it returns the message, or
None when the case passes), e.g.

    .venv/bin/python -c "from tests.term.test_parser_fuzz import replay; \\
        print(replay('control-in-sequence', 1234))"

The default run covers a fixed set of seeds, a few thousand cases in a few
seconds. The long run draws seeds from a random base (the failure names them)
for N seconds of wall time in each of the four fuzz tests:

    .venv/bin/python -m pytest tests/term/test_parser_fuzz.py --fuzz-seconds 300
"""

from __future__ import annotations

import itertools
import random
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest

from tui.term.emulator import Emulator
from tui.term.lines import Line

# ------------------------------------------------------------------ alphabet

GREEK = "αβγδεζηθικλμνξοπρστυφχψω"
"""The text of every scene: narrow, and never a byte of a sequence."""

NAMES = [
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
    "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
    "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
]  # fmt: skip

ESC, BEL, CAN, SUB, DEL = 0x1B, 0x07, 0x18, 0x1A, 0x7F
CONTROLS: tuple[int, ...] = (*range(0x00, 0x18), 0x19, *range(0x1C, 0x20), DEL)
"""C0 without ESC, CAN and SUB, plus DEL: executed (DEL: ignored) inside a sequence."""
ABORTS: tuple[int, ...] = (ESC, CAN, SUB)


def control_name(byte: int) -> str:
    name = "DEL" if byte == DEL else NAMES[byte]
    return f"{name} (0x{byte:02x})"


def _dec_graphics() -> dict[str, str]:
    """What printable ASCII turns into after `ESC ( 0` (asked of the emulator)."""
    source = "".join(map(chr, range(0x21, 0x7F)))
    emulator = Emulator(cols=len(source) + 1, rows=2)
    emulator.feed(b"\x1b(0" + source.encode())
    shown = emulator.render_text().split("\n")[0]
    return dict(zip(source, shown, strict=False))


DEC_GRAPHICS = _dec_graphics()
BASE_ALLOWED = frozenset(GREEK + " ")


def allowance(text: str) -> frozenset[str]:
    """Characters `text` may show as when printed (DEC graphics included)."""
    return frozenset(text) | {DEC_GRAPHICS[c] for c in text if c in DEC_GRAPHICS}


# ---------------------------------------------------------------- sequences


@dataclass(frozen=True)
class Seq:
    """One well-formed sequence of a scene.

    `family` is "esc" (ESC intermediates final), "csi" or "string" (OSC, DCS,
    APC, PM, SOS). For a string, `payload_end` is where its terminator starts.
    """

    kind: str
    family: str
    data: bytes
    payload_end: int = 0

    @property
    def is_osc(self) -> bool:
        return self.data[1:2] == b"]"


def _count(rng: random.Random) -> str:
    return rng.choice(["", "", "0", "1", "1", "2", "3", str(rng.randint(1, 12))])


def _csi(body: str) -> Seq:
    return Seq("", "csi", b"\x1b[" + body.encode())


def _sgr(rng: random.Random) -> str:
    simple = ["0", "1", "2", "3", "4", "5", "7", "8", "9", "21", "22", "23", "24", "25", "27",
              "28", "29", "39", "49", "53", "55"]  # fmt: skip
    parts: list[str] = []
    for _ in range(rng.randint(0, 4)):
        pick = rng.randrange(7)
        if pick == 0:
            parts.append(rng.choice(simple))
        elif pick == 1:
            parts.append(str(rng.choice([30, 40, 90, 100]) + rng.randint(0, 7)))
        elif pick in (2, 3):
            parts.append(f"{rng.choice([38, 48, 58])};5;{rng.randint(0, 255)}")
        elif pick in (4, 5):
            rgb = ";".join(str(rng.randint(0, 255)) for _ in range(3))
            parts.append(f"{rng.choice([38, 48, 58])};2;{rgb}")
        else:
            parts.append("")
    return ";".join(parts)


def _string(kind: str, intro: str, payload: str, rng: random.Random, osc: bool) -> Seq:
    terminator = rng.choice(["\x07", "\x1b\\"]) if osc else "\x1b\\"
    head = ("\x1b" + intro + payload).encode()
    return Seq(kind, "string", head + terminator.encode(), payload_end=len(head))


def _printable(rng: random.Random, low: int, high: int) -> str:
    alphabet = "".join(map(chr, range(0x20, 0x7F)))
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


Maker = Callable[[random.Random, int, int], Seq]


def _motion(final: str) -> Maker:
    return lambda rng, cols, rows: _csi(_count(rng) + final)


def _cup(final: str) -> Maker:
    def make(rng: random.Random, cols: int, rows: int) -> Seq:
        row, col = str(rng.randint(1, rows + 2)), str(rng.randint(1, cols + 2))
        return _csi(rng.choice([f"{row};{col}", f"{row};{col}", row, f";{col}", ""]) + final)

    return make


def _decstbm(rng: random.Random, cols: int, rows: int) -> Seq:
    if rng.random() < 0.3:
        return _csi("r")
    top = rng.randint(1, rows - 1)
    return _csi(f"{top};{rng.randint(top + 1, rows)}r")


def _mode(rng: random.Random, cols: int, rows: int) -> Seq:
    mode = rng.choice(["4", "?7", "?6", "?6;7", "?7;6"])
    return _csi(mode + rng.choice("hl"))


def _title(code: str) -> Maker:
    return lambda rng, cols, rows: _string("", "]", f"{code};{_printable(rng, 0, 16)}", rng, True)


def _osc8_open(rng: random.Random, cols: int, rows: int) -> Seq:
    params = rng.choice(["", "id=a", "id=x1"])
    path = "".join(rng.choice("abcdef/-_") for _ in range(rng.randint(1, 8)))
    return _string("", "]", f"8;{params};https://example.com/{path}", rng, True)


def _osc8_close(rng: random.Random, cols: int, rows: int) -> Seq:
    return _string("", "]", "8;;", rng, True)


def _dcs(rng: random.Random, cols: int, rows: int) -> Seq:
    lead = rng.choice(["$qm", "$qr", "+q544e", "1;2|", "q", ""])
    return _string("", "P", lead + _printable(rng, 0, 12), rng, False)


def _plain_string(intro: str) -> Maker:
    return lambda rng, cols, rows: _string("", intro, _printable(rng, 0, 16), rng, False)


def _fixed(family: str, data: bytes) -> Maker:
    return lambda rng, cols, rows: Seq("", family, data)


KINDS: dict[str, Maker] = {
    # escape sequences
    "DECSC": _fixed("esc", b"\x1b7"),
    "DECRC": _fixed("esc", b"\x1b8"),
    "IND": _fixed("esc", b"\x1bD"),
    "NEL": _fixed("esc", b"\x1bE"),
    "RI": _fixed("esc", b"\x1bM"),
    "HTS": _fixed("esc", b"\x1bH"),
    "SCS G0 DEC graphics": _fixed("esc", b"\x1b(0"),
    "SCS G0 ASCII": _fixed("esc", b"\x1b(B"),
    "DECALN": _fixed("esc", b"\x1b#8"),
    # CSI
    "CUP": _cup("H"),
    "HVP": _cup("f"),
    "CUU": _motion("A"),
    "CUD": _motion("B"),
    "CUF": _motion("C"),
    "CUB": _motion("D"),
    "CNL": _motion("E"),
    "CPL": _motion("F"),
    "CHA": _motion("G"),
    "HPA": _motion("`"),
    "VPA": _motion("d"),
    "HPR": _motion("a"),
    "VPR": _motion("e"),
    "ED": lambda rng, cols, rows: _csi(rng.choice(["", "0", "1", "2", "3"]) + "J"),
    "EL": lambda rng, cols, rows: _csi(rng.choice(["", "0", "1", "2"]) + "K"),
    "ICH": _motion("@"),
    "DCH": _motion("P"),
    "ECH": _motion("X"),
    "IL": _motion("L"),
    "DL": _motion("M"),
    "SU": _motion("S"),
    "SD": _motion("T"),
    "REP": lambda rng, cols, rows: _csi(rng.choice([_count(rng), str(rng.randint(1, 60))]) + "b"),
    "DECSTBM": _decstbm,
    "SGR": lambda rng, cols, rows: _csi(_sgr(rng) + "m"),
    "SM/RM": _mode,
    "TBC": lambda rng, cols, rows: _csi(rng.choice(["", "0", "3"]) + "g"),
    "CHT": _motion("I"),
    "CBT": _motion("Z"),
    # strings
    "OSC 0 title": _title("0"),
    "OSC 2 title": _title("2"),
    "OSC 8 open": _osc8_open,
    "OSC 8 close": _osc8_close,
    "DCS": _dcs,
    "APC": _plain_string("_"),
    "PM": _plain_string("^"),
    "SOS": _plain_string("X"),
}


def make_seq(kind: str, rng: random.Random, cols: int, rows: int) -> Seq:
    seq = KINDS[kind](rng, cols, rows)
    return Seq(kind, seq.family, seq.data, seq.payload_end)


KIND_NAMES = list(KINDS)
SEQUENCE_KINDS = [k for k in KIND_NAMES if KINDS[k](random.Random(0), 20, 6).family != "string"]
STRING_KINDS = [k for k in KIND_NAMES if k not in SEQUENCE_KINDS]


# ------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class Scene:
    """A small screen's worth of input: items, one of them the target sequence."""

    cols: int
    rows: int
    items: tuple[bytes, ...]
    target: int
    seq: Seq

    def replaced(self, data: bytes) -> bytes:
        """The scene's bytes with the target sequence replaced by `data`."""
        items = list(self.items)
        items[self.target] = data
        return b"".join(items)

    def offset(self) -> int:
        """Where the target sequence starts in the scene's bytes."""
        return sum(len(item) for item in self.items[: self.target])

    @property
    def allowed(self) -> frozenset[str]:
        """What may show as text: the Greek alphabet, and `E` once DECALN ran."""
        if b"\x1b#8" in self.items:
            return BASE_ALLOWED | {"E"}
        return BASE_ALLOWED


def _greek(rng: random.Random, low: int, high: int) -> bytes:
    return "".join(rng.choice(GREEK) for _ in range(rng.randint(low, high))).encode()


def make_scene(rng: random.Random, target_kind: str) -> Scene:
    """Greek text pre-filling the screen, then text, ground controls and sequences."""
    cols, rows = rng.randint(20, 40), rng.randint(6, 10)
    items: list[bytes] = []
    for _ in range(rows - 1):
        items += [_greek(rng, cols // 3, cols), b"\r\n"]
    for _ in range(rng.randint(12, 36)):
        pick = rng.random()
        if pick < 0.35:
            items.append(_greek(rng, 1, 10))
        elif pick < 0.45:
            items.append(rng.choice([b"\r\n", b"\r\n", b"\n", b"\r", b"\x08", b"\t"]))
        else:
            items.append(make_seq(rng.choice(KIND_NAMES), rng, cols, rows).data)
    seq = make_seq(target_kind, rng, cols, rows)
    target = rng.randint(rows * 2 - 2, len(items))  # not inside the pre-fill
    items.insert(target, seq.data)
    items.append(_greek(rng, 0, 6))
    return Scene(cols, rows, tuple(items), target, seq)


# -------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One input, the input that must give the same screen, and how to judge."""

    oracle: str
    seed: int
    scene: Scene
    fed: bytes
    expected: bytes
    control: str
    what: str
    rule: str
    fed_seq: bytes  # the target sequence as fed, with the inserted byte
    expected_seq: bytes  # what the expected input has in its place
    allowed: frozenset[str]
    check_meta: bool = True  # compare the title and the hyperlinks too


def _case(
    oracle: str,
    seed: int,
    scene: Scene,
    control: str,
    what: str,
    rule: str,
    fed_seq: bytes,
    expected_seq: bytes,
    allowed: frozenset[str],
    check_meta: bool = True,
) -> Case:
    return Case(
        oracle=oracle,
        seed=seed,
        scene=scene,
        fed=scene.replaced(fed_seq),
        expected=scene.replaced(expected_seq),
        control=control,
        what=what,
        rule=rule,
        fed_seq=fed_seq,
        expected_seq=expected_seq,
        allowed=allowed,
        check_meta=check_meta,
    )


def _describe(scene: Scene, byte: int, position: int) -> str:
    seq = scene.seq
    return (
        f"{control_name(byte)} inserted at offset {position} of {seq.kind} {seq.data!r} "
        f"on a {scene.cols}x{scene.rows} screen"
    )


def control_in_sequence(seed: int) -> Case:
    """Oracle 1, escape sequences and CSI: executed in place = moved before."""
    byte = CONTROLS[seed % len(CONTROLS)]
    kind = SEQUENCE_KINDS[(seed // len(CONTROLS)) % len(SEQUENCE_KINDS)]
    rng = random.Random(seed)
    scene = make_scene(rng, kind)
    data = scene.seq.data
    position = rng.randint(1, len(data) - 1)
    return _case(
        "control-in-sequence",
        seed,
        scene,
        control_name(byte),
        _describe(scene, byte, position),
        "executed in place (DEL: ignored): the screen of the control sent just before",
        fed_seq=data[:position] + bytes([byte]) + data[position:],
        expected_seq=bytes([byte]) + data,
        allowed=scene.allowed,
    )


def control_in_string(seed: int) -> Case:
    """Oracle 1, OSC and DCS / APC / PM / SOS: ignored = left out."""
    byte = CONTROLS[seed % len(CONTROLS)]
    kind = STRING_KINDS[(seed // len(CONTROLS)) % len(STRING_KINDS)]
    rng = random.Random(seed)
    scene = make_scene(rng, kind)
    seq = scene.seq
    data = seq.data
    if byte == BEL and seq.is_osc:
        position = 1  # BEL would end the OSC: only before the `]` (still the escape state)
    elif rng.random() < 0.2:
        position = 1
    else:
        position = rng.randint(2, seq.payload_end)  # mostly in the string proper
    if position == 1:
        expected = bytes([byte]) + data
        rule = "between ESC and the introducer a control is executed: as if sent just before"
    else:
        expected = data
        rule = "ignored inside the string: the screen without it"
    return _case(
        "control-in-string",
        seed,
        scene,
        control_name(byte),
        _describe(scene, byte, position),
        rule,
        fed_seq=data[:position] + bytes([byte]) + data[position:],
        expected_seq=expected,
        allowed=scene.allowed,
        check_meta=position == 1 or not (byte == DEL and seq.is_osc),
    )


def abort_in_sequence(seed: int) -> Case:
    """Oracle 2: ESC restarts (`ESC + rest` in place); CAN / SUB abort (`rest` in place)."""
    byte = ABORTS[seed % len(ABORTS)]
    kind = SEQUENCE_KINDS[(seed // len(ABORTS)) % len(SEQUENCE_KINDS)]
    rng = random.Random(seed)
    scene = make_scene(rng, kind)
    data = scene.seq.data
    position = rng.randint(1, len(data) - 1)
    prefix, rest = data[:position], data[position:]
    if byte == ESC:
        expected = b"\x1b" + rest
        rule = "ESC abandons the sequence: the screen of ESC + the rest sent in its place"
    else:
        expected = rest
        rule = f"{NAMES[byte]} aborts the sequence: the screen of the rest sent in its place"
    return _case(
        "abort-in-sequence",
        seed,
        scene,
        control_name(byte),
        _describe(scene, byte, position),
        rule,
        fed_seq=prefix + bytes([byte]) + rest,
        expected_seq=expected,
        # `rest` may print; the abandoned prefix's other bytes may not.
        allowed=scene.allowed | allowance(rest.decode()),
    )


def clean_scene(seed: int) -> Case:
    """No insertion: the scene itself is clean and chunking-proof."""
    kind = KIND_NAMES[seed % len(KIND_NAMES)]
    scene = make_scene(random.Random(seed), kind)
    data = scene.seq.data
    return _case(
        "clean-scene",
        seed,
        scene,
        "-",
        f"a scene around {kind} {data!r} on a {scene.cols}x{scene.rows} screen",
        "well-formed input: nothing leaks, nothing raises, chunking changes nothing",
        fed_seq=data,
        expected_seq=data,
        allowed=scene.allowed,
    )


ORACLES: dict[str, Callable[[int], Case]] = {
    "control-in-sequence": control_in_sequence,
    "control-in-string": control_in_string,
    "abort-in-sequence": abort_in_sequence,
    "clean-scene": clean_scene,
}


# ---------------------------------------------------------------- judgement


@dataclass(frozen=True)
class Snapshot:
    """What a screen shows, through the public API."""

    text: tuple[str, ...]
    ansi: tuple[str, ...]
    cursor: tuple[int, int]
    lines: tuple[Line, ...]
    history: tuple[Line, ...]
    title: str
    errors: int


class FeedError(Exception):
    """`feed` raised."""


def feed(cols: int, rows: int, chunks: Iterable[bytes]) -> Snapshot:
    emulator = Emulator(cols=cols, rows=rows)
    for chunk in chunks:
        try:
            emulator.feed(chunk)
        except Exception as exc:
            last = traceback.format_exception_only(exc)[-1].strip()
            raise FeedError(f"feed({chunk!r}) raised {last}") from exc
    return Snapshot(
        text=tuple(emulator.render_text().split("\n")[:-1]),
        ansi=tuple(emulator.render_ansi().split("\n")[:-1]),
        cursor=emulator.cursor,
        lines=tuple(emulator.visible_lines()),
        history=tuple(emulator.history_lines(0, emulator.history_size)),
        title=emulator.title,
        errors=emulator.stream.errors,
    )


def first_difference(expected: Snapshot, actual: Snapshot, meta: bool) -> str | None:
    """The first aspect and row where two snapshots differ, or None."""
    for name in ("text", "ansi"):
        rows_e, rows_a = getattr(expected, name), getattr(actual, name)
        for y, (row_e, row_a) in enumerate(zip(rows_e, rows_a, strict=True)):
            if row_e != row_a:
                label = "render_text" if name == "text" else "render_ansi"
                return f"{label} row {y}: expected {row_e!r}, got {row_a!r}"
    if expected.cursor != actual.cursor:
        return f"cursor: expected {expected.cursor}, got {actual.cursor}"
    if len(expected.history) != len(actual.history):
        return f"scrollback: expected {len(expected.history)} lines, got {len(actual.history)}"
    for i, (line_e, line_a) in enumerate(zip(expected.history, actual.history, strict=True)):
        if line_e.text != line_a.text or (meta and line_e != line_a):
            return f"scrollback line {i}: expected {line_e!r}, got {line_a!r}"
    if meta:
        for y, (line_e, line_a) in enumerate(zip(expected.lines, actual.lines, strict=True)):
            if line_e != line_a:
                return f"line model (hyperlinks) row {y}: expected {line_e!r}, got {line_a!r}"
        if expected.title != actual.title:
            return f"title: expected {expected.title!r}, got {actual.title!r}"
    return None


def find_leak(snapshot: Snapshot, allowed: frozenset[str]) -> str | None:
    """The first row showing a character the scene cannot print, or None."""
    for where, rows in (
        ("screen", snapshot.text),
        ("scrollback", [h.text for h in snapshot.history]),
    ):
        for y, row in enumerate(rows):
            leaked = sorted(set(row) - allowed)
            if leaked:
                return f"{where} row {y} shows {''.join(leaked)!r}: {row!r}"
    return None


def cut_points(rng: random.Random, size: int, region: tuple[int, int]) -> list[int]:
    """Chunk boundaries: a few anywhere, sometimes every byte around the sequence."""
    cuts = {rng.randint(1, size - 1) for _ in range(rng.randint(1, 6))} if size > 1 else set()
    start, end = region
    cuts.add(rng.randint(start, end))
    if rng.random() < 0.25:
        cuts.update(range(max(1, start - 2), min(size, end + 3)))
    return sorted(c for c in cuts if 0 < c < size)


@dataclass(frozen=True)
class Failure:
    oracle: str
    seed: int
    category: str
    kind: str
    control: str
    message: str


def judge(case: Case) -> Failure | None:
    """Run one case; a Failure naming the seed, the bytes and the first difference."""
    scene = case.scene

    def fail(category: str, detail: str) -> Failure:
        at = scene.offset()
        message = (
            f"[{case.oracle}] seed {case.seed}: {case.what}\n"
            f"  rule: {case.rule}\n"
            f"  {category}: {detail}\n"
            f"  at byte {at} the input has {case.fed_seq!r}, "
            f"the expected input {case.expected_seq!r}\n"
            # The input is valid UTF-8: the text repr reads better than the bytes repr
            # of the Greek, and `.encode()` gives the exact bytes back.
            f"  fed:      {case.fed.decode()!r}.encode()\n"
            f"  expected: {case.expected.decode()!r}.encode()\n"
            f"  reproduce: replay({case.oracle!r}, {case.seed}) in tests/term/test_parser_fuzz.py"
        )
        return Failure(case.oracle, case.seed, category, scene.seq.kind, case.control, message)

    try:
        expected = feed(scene.cols, scene.rows, [case.expected])
    except FeedError as exc:
        return fail("the expected input raised", str(exc))
    try:
        actual = feed(scene.cols, scene.rows, [case.fed])
    except FeedError as exc:
        return fail("feed raised", str(exc))
    if actual.errors:
        return fail("handler errors", f"emu.stream.errors == {actual.errors}")
    diff = first_difference(expected, actual, case.check_meta)
    if diff:
        return fail("screen differs", diff)
    leak = find_leak(actual, case.allowed)
    if leak:
        return fail("sequence bytes leak as text", leak)
    rng = random.Random(f"cuts {case.oracle} {case.seed}")
    start = scene.offset()
    cuts = cut_points(rng, len(case.fed), (start, start + len(case.fed_seq)))
    chunks = [case.fed[a:b] for a, b in itertools.pairwise([0, *cuts, len(case.fed)])]
    try:
        split = feed(scene.cols, scene.rows, chunks)
    except FeedError as exc:
        return fail("feed raised (split)", str(exc))
    diff = first_difference(actual, split, True)
    if diff or split.errors:
        detail = diff or f"emu.stream.errors == {split.errors}"
        return fail("split feed differs from whole feed", f"cuts at {cuts}: {detail}")
    return None


def replay(oracle: str, seed: int) -> str | None:
    """Re-run one case by its oracle and seed: the failure message, or None if it passes."""
    failure = judge(ORACLES[oracle](seed))
    return failure.message if failure else None


# ------------------------------------------------------------------ driving


@dataclass(frozen=True)
class Budget:
    cases: int
    seconds: float | None
    base: int


@pytest.fixture
def budget(request: pytest.FixtureRequest) -> Callable[[int], Budget]:
    seconds = request.config.getoption("--fuzz-seconds")

    def make(default_cases: int) -> Budget:
        if seconds is None:
            return Budget(default_cases, None, 0)
        return Budget(0, float(seconds), random.SystemRandom().randrange(1 << 40))

    return make


def run(oracle: str, budget: Budget) -> tuple[int, list[Failure], set[tuple[str, str]]]:
    """Run cases until the budget is spent: (cases run, failures, kinds x controls seen)."""
    make = ORACLES[oracle]
    failures: list[Failure] = []
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + budget.seconds if budget.seconds is not None else None
    count = 0
    for seed in itertools.count(budget.base):
        if deadline is None and count >= budget.cases:
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        case = make(seed)
        seen.add((case.scene.seq.kind, case.control))
        failure = judge(case)
        if failure:
            failures.append(failure)
        count += 1
    return count, failures, seen


def report(oracle: str, count: int, failures: list[Failure], shown: int = 4) -> str:
    categories = Counter(f.category for f in failures)
    kinds = Counter(f.kind for f in failures)
    controls = Counter(f.control for f in failures)
    lines = [
        f"{oracle}: {len(failures)} of {count} cases failed",
        "  by check:   " + ", ".join(f"{k} {n}" for k, n in categories.most_common()),
        "  by kind:    " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()),
        "  by control: " + ", ".join(f"{k} {n}" for k, n in controls.most_common()),
        "",
    ]
    # The first failure of each check, then of other kinds, so one bug does not hide another.
    examples: dict[str, Failure] = {}
    for failure in failures:
        examples.setdefault(failure.category, failure)
    for failure in failures:
        if len(examples) >= shown:
            break
        if all(failure.kind != other.kind for other in examples.values()):
            examples[failure.kind] = failure
    for failure in list(examples.values())[:shown]:
        lines += [failure.message, ""]
    return "\n".join(lines)


def fuzz(oracle: str, budget: Budget, kinds: list[str], controls: Iterable[str]) -> None:
    count, failures, seen = run(oracle, budget)
    if budget.seconds is None:
        # The fixed run meets every kind with every control (a guard on the generator).
        missing = {(k, c) for k in kinds for c in controls} - seen
        assert not missing, f"{oracle}: combinations never generated: {sorted(missing)[:10]}"
    assert not failures, report(oracle, count, failures)


CONTROL_NAMES = [control_name(b) for b in CONTROLS]

# Default case counts: every kind meets every control at least twice. A case that
# passes costs three feeds (~1.3 ms on a laptop): ~4,400 cases in about 6 s.
DEFAULT_CASES = {
    "control-in-sequence": 2 * len(CONTROLS) * len(SEQUENCE_KINDS),
    "control-in-string": 4 * len(CONTROLS) * len(STRING_KINDS),
    "abort-in-sequence": 8 * len(ABORTS) * len(SEQUENCE_KINDS),
    "clean-scene": 6 * len(KIND_NAMES),
}


def test_control_inside_escape_or_csi_is_executed(budget: Callable[[int], Budget]) -> None:
    oracle = "control-in-sequence"
    fuzz(oracle, budget(DEFAULT_CASES[oracle]), SEQUENCE_KINDS, CONTROL_NAMES)


def test_control_inside_a_string_is_ignored(budget: Callable[[int], Budget]) -> None:
    oracle = "control-in-string"
    fuzz(oracle, budget(DEFAULT_CASES[oracle]), STRING_KINDS, CONTROL_NAMES)


def test_esc_can_sub_inside_escape_or_csi_abandon_it(budget: Callable[[int], Budget]) -> None:
    oracle = "abort-in-sequence"
    fuzz(oracle, budget(DEFAULT_CASES[oracle]), SEQUENCE_KINDS, [control_name(b) for b in ABORTS])


def test_scenes_are_clean_and_chunking_proof(budget: Callable[[int], Budget]) -> None:
    oracle = "clean-scene"
    fuzz(oracle, budget(DEFAULT_CASES[oracle]), KIND_NAMES, ["-"])


# ------------------------------------------------------------------- anchors


def _screen(data: bytes, cols: int = 10, rows: int = 2) -> tuple[list[str], tuple[int, int], str]:
    emulator = Emulator(cols=cols, rows=rows)
    emulator.feed(data)
    assert emulator.stream.errors == 0
    return emulator.render_text().split("\n")[:-1], emulator.cursor, emulator.title


def test_anchor_backspace_inside_csi() -> None:
    """xterm: `A`, then CSI 2 C with BS executed inside it (column 1 -> 0 -> 2), then `X`."""
    assert _screen(b"A\x1b[2\x08CX") == (["A X", ""], (3, 0), "")


@pytest.mark.parametrize(
    ("data", "rows", "title"),
    [
        (b"A\x1b[2\x18CX", ["ACX", ""], ""),  # CAN aborts: `C` prints
        (b"A\x1b[2\x1aCX", ["ACX", ""], ""),  # SUB too
        (b"A\x1b[2\x1b[CX", ["A X", ""], ""),  # ESC restarts: CSI C moves one
        (b"A\x1b]0;t\x08i\x07X", ["AX", ""], "ti"),  # BS ignored inside an OSC
        (b"A\x1bP1$q\x07m\x1b\\X", ["AX", ""], ""),  # BEL does not end a DCS
        (b"A\x1b(\n0q", ["A", " ─"], ""),  # LF executed, then G0 = DEC graphics
    ],
)
def test_anchor_known_screens(data: bytes, rows: list[str], title: str) -> None:
    shown, _, shown_title = _screen(data)
    assert (shown, shown_title) == (rows, title), f"{data!r}"
