"""The emulator against hostile and random input: it never raises, stays consistent,
and its cost stays linear.

Three kinds of evidence:

- a seeded generator (reproducible: every failure names its seed and input) that
  feeds well over 100,000 inputs — random bytes, valid / invalid / truncated
  escape sequences with huge parameters, cut UTF-8, combining-mark floods —
  each split at a random chunk boundary and followed by every output call;
- Hypothesis strategies of structured sequences, including the line-model
  property clients rely on: applying each feed's `Changes` to a mirror (shift
  by `scrolled`, then replace `lines`) always equals `visible_lines()`;
- cost checks measured relative to feeding the same number of plain bytes in
  the same run, so they do not depend on the machine's speed.
"""

from __future__ import annotations

import itertools
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.term.emulator import Changes, Emulator
from tui.term.lines import Line

# ------------------------------------------------------------------ helpers


class Mirror:
    """What a client keeps: the visible lines, updated only from `Changes`."""

    def __init__(self, rows: int) -> None:
        self.lines: list[Line | None] = [None] * rows

    def apply(self, changes: Changes | None, rows: int) -> None:
        if changes is None:
            return
        if changes.full or len(self.lines) != rows:
            self.lines = [None] * rows
        if changes.scrolled:
            shift = min(changes.scrolled, rows)
            self.lines = self.lines[shift:] + [None] * shift
        for y, line in changes.lines.items():
            self.lines[y] = line


def check_structure(emulator: Emulator) -> None:
    """Invariants every client relies on, through the public API only."""
    cols, rows = emulator.cols, emulator.rows
    x, y = emulator.cursor
    assert 0 <= x < cols and 0 <= y < rows, f"cursor {x, y} outside {cols}x{rows}"
    lines = emulator.visible_lines()
    text_rows = emulator.render_text().split("\n")
    assert len(lines) == rows and len(text_rows) == rows + 1 and text_rows[-1] == ""
    for row, (line, text) in enumerate(zip(lines, text_rows, strict=False)):
        assert line.text.rstrip() == text, f"row {row}: line model and render_text differ"
        assert "\x00" not in text and "\x1b" not in text, f"row {row}: {text!r}"
        assert len(text) <= cols * 33, f"row {row} holds more than a capped cluster per cell"


def exercise(emulator: Emulator) -> Changes | None:
    """Every output call a client makes (none may raise); returns the pending changes."""
    emulator.render_text()
    emulator.render_ansi()
    emulator.visible_lines()
    changes = emulator.take_changes()
    emulator.take_replies()
    emulator.take_events()
    _ = emulator.modes, emulator.title, emulator.history_size, emulator.holding_frame
    emulator.history_lines(0, 5)
    return changes


# ------------------------------------------------------- seeded generator
FINALS = "@ABCDEFGHIJKLMPSTXZ`abcdefghijklmnopqrstuvwxyz{|}~"
MODES = ["1", "5", "6", "7", "9", "12", "25", "47", "66", "1000", "1002", "1003", "1004",
         "1005", "1006", "1015", "1047", "1048", "1049", "2004", "2026", "4", "20"]  # fmt: skip
TEXT = ["a", "Z", " ", "中", "ｱ", "é", "\u0301", "\u20dd", "\u200d", "\ufe0f", "\ufe0e",
        "\u200b", "🇩", "🇪", "👩", "😀", "🏽", "⚠", "\u0e49", "\U000e0001", "\ufffd"]  # fmt: skip


def _number_pool() -> list[str]:
    """Parameter values, weighted: small, medium, empty, huge, colon lists, real modes."""
    rng = random.Random(0)
    pool: list[str] = []
    pool += [str(rng.randint(0, 9)) for _ in range(350)]
    pool += [str(rng.randint(0, 400)) for _ in range(200)]
    pool += ["", "0"] * 50
    pool += [str(v) for v in (2**15, 2**16, 2**31 - 1, 2**31, 2**32, 2**63, 10**40)] * 15
    pool += [
        ":".join(str(rng.randint(0, 300)) for _ in range(rng.randint(2, 7))) for _ in range(100)
    ]
    pool += MODES * 3
    pool += [str(rng.randint(0, 100_000)) for _ in range(100)]
    return pool


NUMBERS = _number_pool()


class Generator:
    """Reproducible random terminal input."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def number(self) -> str:
        return self.rng.choice(NUMBERS)

    def csi(self) -> str:
        rng = self.rng
        lead = rng.choice(["", "", "", "", "?", "?", ">", "<", "=", "!"])
        count = rng.choice([0, 1, 1, 2, 2, 3, 5, 7, 12, 30]) if rng.random() < 0.97 else 300
        params = ";".join(rng.choices(NUMBERS, k=count))
        inter = rng.choice(["", "", "", "", "", " ", "$", "!", '"', "'", "*", "#"])
        final = rng.choice(FINALS)
        body = "\x1b[" + lead + params + inter + final
        if rng.random() < 0.1:
            body = body[: rng.randint(2, len(body))]  # truncated
        if rng.random() < 0.05:
            body = body.replace("\x1b[", "\x9b")  # 8-bit CSI (a C1 control in UTF-8)
        return body

    def osc(self) -> str:
        rng = self.rng
        code = rng.choice(["0", "1", "2", "4", "7", "8", "9", "10", "11", "12", "52", "104",
                           "133", "777", "1337", "", "x", "99999999999"])  # fmt: skip
        body = rng.choice([
            "?", "title", ";https://example.com", "id=1;https://x", ";", "c;aGVsbG8=",
            "c;!!!notbase64", "c;?", "notify;T;M", "notify", "4;1;50", "file://h/tmp",
            "é中😀", "x" * rng.randint(0, 3000), "\x00\x01\x7f",
        ])  # fmt: skip
        end = rng.choice(["\x07", "\x1b\\", "\x07", "", "\x1b", "\x9c"])
        return "\x1b]" + code + ";" + body + end

    def string(self) -> str:
        rng = self.rng
        kind = rng.choice("P_^X")
        alphabet = "abcq#;+~-$|\x1b\x07\x00中"
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        return "\x1b" + kind + body + rng.choice(["\x1b\\", "\x07", "", "\x1b"])

    def escape(self) -> str:
        return "\x1b" + self.rng.choice(
            ["7", "8", "D", "E", "M", "H", "c", "=", ">", "(0", "(B", ")0", "*A", "+B", "#8",
             "#3", "%G", "Z", " F", "N", "O", "\\", "\x1b", "[", "]", "P", "", "\x7f", "é"]
        )  # fmt: skip

    def control(self) -> str:
        return self.rng.choice(
            ["\r", "\n", "\r\n", "\t", "\b", "\x07", "\x0b", "\x0c", "\x0e", "\x0f", "\x00",
             "\x7f", "\x1b", "\x18", "\x1a", "\x85", "\x90", "\x9d"]
        )  # fmt: skip

    def text(self) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return "".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(1, 40)))
        return "".join(rng.choice(TEXT) for _ in range(rng.randint(1, 16)))

    def combining_flood(self) -> str:
        rng = self.rng
        mark = rng.choice(["\u0301", "\u0300\u0302", "\u200d", "\ufe0f", "\U000e0020"])
        return rng.choice(["e", "中", "", "😀"]) + mark * rng.randint(10, 600)

    def structured(self) -> bytes:
        rng = self.rng
        pieces = []
        for _ in range(rng.randint(1, 24)):
            r = rng.random()
            if r < 0.35:
                pieces.append(self.csi())
            elif r < 0.45:
                pieces.append(self.osc())
            elif r < 0.5:
                pieces.append(self.string())
            elif r < 0.6:
                pieces.append(self.escape())
            elif r < 0.72:
                pieces.append(self.control())
            elif r < 0.98:
                pieces.append(self.text())
            else:
                pieces.append(self.combining_flood())
        return "".join(pieces).encode("utf-8", "surrogatepass")

    def random_bytes(self) -> bytes:
        rng = self.rng
        n = rng.randint(1, 80)
        if rng.random() < 0.5:
            # Escape-heavy: ESC and the bytes that follow it most often.
            alphabet = b"\x1b\x1b[];?:0123456789mHJKPqu\x07\\\x9b\xc3\xe4\xf0\x80\xbf"
            return bytes(rng.choice(alphabet) for _ in range(n))
        return rng.randbytes(n)

    def utf8_fragment(self) -> bytes:
        rng = self.rng
        encoded = "".join(rng.choice(TEXT) for _ in range(rng.randint(1, 8))).encode()
        start = rng.randint(0, len(encoded))
        return encoded[start : rng.randint(start, len(encoded))]

    def input(self) -> bytes:
        r = self.rng.random()
        if r < 0.25:
            return self.random_bytes()
        if r < 0.35:
            return self.utf8_fragment()
        return self.structured()


@dataclass
class SeededReport:
    """What one seeded run saw; every list holds (seed, input number, data, cut, detail)."""

    inputs: int = 0
    crashes: list[tuple[int, int, bytes, int, str]] = field(default_factory=list)
    mirror_mismatches: list[tuple[int, int, bytes, int, str]] = field(default_factory=list)
    structure_errors: list[tuple[int, int, bytes, int, str]] = field(default_factory=list)
    swallowed: list[tuple[int, int, bytes, int, str]] = field(default_factory=list)


def run_seeded(seed: int, count: int, report: SeededReport) -> None:
    """Feed `count` generated inputs, recording (not raising) what went wrong."""
    gen = Generator(seed)
    rng = gen.rng
    emulator = Emulator(cols=rng.randint(1, 40), rows=rng.randint(1, 10), scrollback=50)
    mirror = Mirror(emulator.rows)
    for n in range(count):
        if n % 200 == 0:
            emulator = Emulator(cols=rng.randint(1, 40), rows=rng.randint(1, 10), scrollback=50,
                                sync_timeout=rng.choice([0.0, 0.15]))  # fmt: skip
            mirror = Mirror(emulator.rows)
            mirror.apply(emulator.take_changes(force=True), emulator.rows)
        data = gen.input()
        cut = rng.randint(0, len(data))
        errors = emulator.stream.errors
        report.inputs += 1
        case = (seed, n, data, cut)
        try:
            mirror.apply(emulator.feed(data[:cut]), emulator.rows)
            mirror.apply(emulator.feed(data[cut:]), emulator.rows)
            if rng.random() < 0.01:
                emulator.resize(rng.randint(0, 50), rng.randint(0, 12))
                mirror.apply(emulator.take_changes(force=True), emulator.rows)
            mirror.apply(exercise(emulator), emulator.rows)
            if not emulator.holding_frame and mirror.lines != emulator.visible_lines():
                report.mirror_mismatches.append((*case, "mirror differs from visible_lines()"))
                mirror = Mirror(emulator.rows)
                mirror.lines = list(emulator.visible_lines())
            if n % 20 == 0:
                try:
                    check_structure(emulator)
                except AssertionError as exc:
                    report.structure_errors.append((*case, str(exc).splitlines()[0]))
                    emulator = Emulator(cols=emulator.cols, rows=emulator.rows)
                    mirror = Mirror(emulator.rows)
                    mirror.apply(emulator.take_changes(force=True), emulator.rows)
        except Exception:
            report.crashes.append((*case, traceback.format_exc(limit=-3)))
            emulator = Emulator(cols=emulator.cols, rows=emulator.rows)
            mirror = Mirror(emulator.rows)
            mirror.apply(emulator.take_changes(force=True), emulator.rows)
        if emulator.stream.errors != errors:
            report.swallowed.append((*case, "handler exception swallowed"))


SEEDS = range(4)
INPUTS_PER_SEED = 25_000  # 4 x 25,000 = 100,000 inputs


@pytest.fixture(scope="module")
def seeded() -> SeededReport:
    report = SeededReport()
    for seed in SEEDS:
        run_seeded(seed, INPUTS_PER_SEED, report)
    return report


def _show(cases: list[tuple[int, int, bytes, int, str]]) -> str:
    return "\n".join(
        f"seed {seed} input {n} cut {cut}: {data[:300]!r}\n    {detail}"
        for seed, n, data, cut, detail in cases[:5]
    )


def test_seeded_inputs_never_raise(seeded: SeededReport) -> None:
    assert seeded.inputs >= 100_000
    assert seeded.crashes == [], _show(seeded.crashes)


def test_seeded_inputs_keep_the_mirror_consistent(seeded: SeededReport) -> None:
    assert seeded.mirror_mismatches == [], _show(seeded.mirror_mismatches)


def test_seeded_inputs_swallow_no_handler_errors(seeded: SeededReport) -> None:
    # Errors are swallowed by design (the rest of the chunk survives), but each one
    # is a handler bug to fix.
    assert seeded.swallowed == [], _show(seeded.swallowed)


def test_seeded_inputs_keep_line_model_equal_to_screen(seeded: SeededReport) -> None:
    assert seeded.structure_errors == [], _show(seeded.structure_errors)


def test_pure_random_bytes_never_raise() -> None:
    # FACTS.md: pyte raised on 16,471 of 20,000 random inputs.
    rng = random.Random(20_000)
    emulator = Emulator(cols=30, rows=8)
    for n in range(20_000):
        if n % 500 == 0:
            emulator = Emulator(cols=rng.randint(1, 30), rows=rng.randint(1, 8))
        data = rng.randbytes(rng.randint(1, 64))
        emulator.feed(data)
        emulator.render_text()
        emulator.take_changes()
    assert emulator.stream.errors == 0


STRUCTURED_CORPUS = (
    "plain \x1b[1;31mred\x1b[0m \x1b[38:2::1:2:3mtc\x1b[4:3mcurly\x1b[m\r\n"
    "\x1b]0;title\x07\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\\x1bPqsixel\x1b\\\x1b_Gapc\x1b\\"
    "中文⚠️ 👩‍👩‍👧 🇩🇪 e\u0301\x1b[2;5r\x1b[S\x1b[T\x1b[3b\x1b[2@\x1b[P\x1b[X\x1b[L\x1b[M"
    "\x1b[?1049h\x1b[?2026hsync\x1b[?2026l\x1b[?1049l\x1b[?u\x1b[>1u\x1b[<u\x1b[c\x1b[6n"
    "\x1b[?2004$p\x1b]11;?\x07\x1b]52;c;aGk=\x07\x1b[5 q\x1b7\x1b8\x1b(0lqk\x1b(B\t|\x1bc"
).encode()


def test_chunk_boundaries_at_every_offset() -> None:
    whole = Emulator(cols=20, rows=6)
    whole.feed(STRUCTURED_CORPUS)
    expected = (whole.render_text(), whole.cursor, whole.take_replies())
    for cut in range(len(STRUCTURED_CORPUS) + 1):
        emulator = Emulator(cols=20, rows=6)
        emulator.feed(STRUCTURED_CORPUS[:cut])
        emulator.feed(STRUCTURED_CORPUS[cut:])
        got = (emulator.render_text(), emulator.cursor, emulator.take_replies())
        assert got == expected, f"split at {cut}"


def test_one_byte_at_a_time() -> None:
    whole = Emulator(cols=20, rows=6)
    whole.feed(STRUCTURED_CORPUS)
    emulator = Emulator(cols=20, rows=6)
    for i in range(len(STRUCTURED_CORPUS)):
        emulator.feed(STRUCTURED_CORPUS[i : i + 1])
    assert emulator.render_text() == whole.render_text()
    assert [line.runs for line in emulator.visible_lines()] == [
        line.runs for line in whole.visible_lines()
    ]


# ------------------------------------------------------------- Hypothesis
numbers = st.one_of(
    st.integers(0, 10).map(str),
    st.integers(0, 2**70).map(str),
    st.just(""),
    st.sampled_from(MODES),
    st.lists(st.integers(0, 300).map(str), min_size=2, max_size=6).map(":".join),
)
csi = st.builds(
    lambda lead, params, inter, final: f"\x1b[{lead}{';'.join(params)}{inter}{final}",
    st.sampled_from(["", "?", ">", "<", "=", "!"]),
    st.lists(numbers, max_size=6),
    st.sampled_from(["", " ", "$", "!", '"']),
    st.sampled_from(FINALS),
)
osc = st.builds(
    lambda code, body, end: f"\x1b]{code};{body}{end}",
    st.sampled_from(["0", "2", "7", "8", "9", "10", "11", "52", "777", "1337"]),
    st.one_of(st.sampled_from(["?", ";https://x", "c;aGk=", "notify;a;b", "4;1;2"]), st.text()),
    st.sampled_from(["\x07", "\x1b\\", ""]),
)
dcs = st.builds(
    lambda kind, body, end: f"\x1b{kind}{body}{end}",
    st.sampled_from("P_^X"),
    st.text(alphabet="abq#;+$\x1b", max_size=30),
    st.sampled_from(["\x1b\\", "\x07", ""]),
)
text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1),
    st.text(alphabet=st.sampled_from(TEXT), min_size=1, max_size=10),
    st.text(max_size=10),
)
controls = st.sampled_from(["\r", "\n", "\r\n", "\t", "\b", "\x07", "\x0e", "\x0f", "\x1b"])
escapes = st.sampled_from(["\x1b7", "\x1b8", "\x1bD", "\x1bM", "\x1bE", "\x1bc", "\x1b(0",
                           "\x1b(B", "\x1b#8", "\x1b=", "\x1b>"])  # fmt: skip
pieces = st.one_of(csi, osc, dcs, text, text, controls, escapes)
streams = st.lists(pieces, min_size=1, max_size=30).map(
    lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
)
splits = st.lists(st.integers(0, 400), max_size=6)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=streams,
    cuts=splits,
    cols=st.integers(1, 30),
    rows=st.integers(1, 8),
)
def test_structured_streams_never_raise_and_mirror_holds(
    data: bytes, cuts: list[int], cols: int, rows: int
) -> None:
    emulator = Emulator(cols=cols, rows=rows, scrollback=20, sync_timeout=0.0)
    mirror = Mirror(rows)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    for start, stop in itertools.pairwise(bounds):
        mirror.apply(emulator.feed(data[start:stop]), rows)
        assert mirror.lines == emulator.visible_lines()
    check_structure(emulator)
    assert emulator.stream.errors == 0
    emulator.render_ansi()


@settings(max_examples=500, deadline=None)
@given(
    chunks=st.lists(streams, min_size=1, max_size=8),
    size=st.tuples(st.integers(1, 20), st.integers(1, 6)),
    resize_at=st.integers(0, 10),
    new_size=st.tuples(st.integers(1, 20), st.integers(1, 6)),
)
def test_mirror_consistency_with_scrolling_regions_and_resize(
    chunks: list[bytes],
    size: tuple[int, int],
    resize_at: int,
    new_size: tuple[int, int],
) -> None:
    """Applying each feed's Changes to a mirror always equals visible_lines()."""
    emulator = Emulator(cols=size[0], rows=size[1], scrollback=10, sync_timeout=0.0)
    mirror = Mirror(emulator.rows)
    for i, chunk in enumerate(chunks):
        if i == resize_at:
            emulator.resize(*new_size)
            mirror.apply(emulator.take_changes(), emulator.rows)
        mirror.apply(emulator.feed(chunk), emulator.rows)
        assert mirror.lines == emulator.visible_lines(), f"after chunk {i}"


scroll_heavy = st.lists(
    st.sampled_from(
        [
            "line\r\n",
            "x",
            "\r\n",
            "\n",
            "\x1bD",
            "\x1bM",
            "\x1b[S",
            "\x1b[3S",
            "\x1b[T",
            "\x1b[2;3r",
            "\x1b[r",
            "\x1b[L",
            "\x1b[M",
            "\x1b[H",
            "\x1b[99H",
            "\x1b[2J",
            "\x1b[?1049h",
            "\x1b[?1049l",
            "\x1b[K",
            "中",
            "\x1b[99S",
            "\x1bc",
            "\x1b[1;31m",
        ]
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=800, deadline=None)
@given(ops=scroll_heavy, rows=st.integers(1, 5), step=st.integers(1, 6))
def test_mirror_consistency_when_scrolling(ops: list[str], rows: int, step: int) -> None:
    emulator = Emulator(cols=6, rows=rows, scrollback=10, sync_timeout=0.0)
    mirror = Mirror(rows)
    for i in range(0, len(ops), step):
        mirror.apply(emulator.feed("".join(ops[i : i + step]).encode()), rows)
        assert mirror.lines == emulator.visible_lines()


def test_mirror_holds_across_a_held_sync_frame() -> None:
    emulator = Emulator(cols=6, rows=3, sync_timeout=5.0)
    mirror = Mirror(3)
    mirror.apply(emulator.feed(b"a\r\nb\r\nc"), 3)
    for chunk in (b"\x1b[?2026h\r\nd", b"\r\ne\r\nf", b"\x1b[2;1HX", b"\x1b[?2026l"):
        mirror.apply(emulator.feed(chunk), 3)
    assert mirror.lines == emulator.visible_lines()
    assert [line.text for line in emulator.visible_lines()] == ["d", "X", "f"]


# ---------------------------------------------------------------- cost
def _best_of(runs: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _feed(data: bytes, chunk: int, cols: int = 80, rows: int = 24) -> Emulator:
    emulator = Emulator(cols=cols, rows=rows)
    for i in range(0, len(data), chunk):
        emulator.feed(data[i : i + chunk])
    return emulator


def test_combining_flood_is_linear() -> None:
    # FACTS.md: pyte took 750 ms for 8k marks and over 20 s for 100k (quadratic).
    flood = ("e" + "\u0301" * 100_000 + "x").encode()
    plain = b"e" * len(flood)
    for chunk in (len(flood), 4096):
        t_flood = _best_of(2, lambda c=chunk: _feed(flood, c))
        t_plain = _best_of(2, lambda c=chunk: _feed(plain, c))
        # Code points cost more than ASCII; quadratic would be hundreds of times more.
        assert t_flood < 25 * t_plain + 0.02, (chunk, t_flood, t_plain)
    emulator = _feed(flood, 4096)
    assert emulator.render_text().startswith("e\u0301")
    assert emulator.cursor == (2, 0)


@pytest.mark.parametrize("marks", [8_000, 100_000])
def test_combining_flood_scales_linearly(marks: int) -> None:
    small = ("e" + "\u0301" * (marks // 4)).encode()
    large = ("e" + "\u0301" * marks).encode()
    t_small = _best_of(3, lambda: _feed(small, 4096))
    t_large = _best_of(3, lambda: _feed(large, 4096))
    assert t_large < 10 * t_small + 0.01, (t_small, t_large)  # linear: ~4x; quadratic: ~16x


@pytest.mark.parametrize(
    ("opener", "closer"),
    [
        (b"\x1b]52;c;", b"\x07"),
        (b"\x1b]2;", b"\x1b\\"),
        (b"\x1bPq", b"\x1b\\"),
        (b"\x1b_G", b"\x07\x1b\\"),  # an APC ends only at ST: the BEL is payload
    ],
    ids=["osc52", "osc2", "dcs", "apc"],
)
def test_ten_megabyte_string_in_one_chunk(opener: bytes, closer: bytes) -> None:
    payload = opener + b"A" * (10 << 20) + closer + b"after"
    plain = b"p" * (10 << 20)
    t_string = _best_of(1, lambda: _feed(payload, len(payload)))
    t_plain = _best_of(1, lambda: _feed(plain, len(plain)))
    assert t_string < 2 * t_plain + 0.05, (t_string, t_plain)
    emulator = _feed(payload, len(payload))
    assert emulator.render_text().split("\n")[0] == "after"
    assert len(emulator.stream._pending) < 5000


@pytest.mark.parametrize(
    ("opener", "closer"),
    [(b"\x1b]52;c;", b"\x07"), (b"\x1bPq", b"\x1b\\")],
    ids=["osc52", "dcs"],
)
def test_long_string_split_over_many_reads_is_linear(opener: bytes, closer: bytes) -> None:
    size, chunk = 1 << 20, 2048
    plain = b"p" * size
    payload = opener + b"A" * size + closer + b"after"
    t_plain = _best_of(2, lambda: _feed(plain, chunk))
    budget = 6 * t_plain + 0.1
    emulator = Emulator(cols=80, rows=24)
    start = time.perf_counter()
    for i in range(0, len(payload), chunk):
        emulator.feed(payload[i : i + chunk])
        # Stop early: the point is made once the budget is blown.
        assert time.perf_counter() - start < budget, f"over {budget:.2f}s at byte {i}"
    assert emulator.render_text().split("\n")[0] == "after"


def test_huge_parameters_are_clamped_quickly() -> None:
    hostile = (
        b"\x1b[999999999999999999999999b"  # REP
        b"\x1b[99999999@\x1b[99999999P\x1b[99999999L\x1b[99999999M\x1b[99999999X"
        b"\x1b[99999999S\x1b[99999999T\x1b[99999999I\x1b[99999999Z"
        b"\x1b[" + b";".join([b"1"] * 100_000) + b"m"
        b"\x1b[" + b"9" * 100_000 + b"H"
    )
    emulator = Emulator(cols=200, rows=50)
    emulator.feed(b"x")
    t_hostile = _best_of(1, lambda: emulator.feed(hostile))
    t_plain = _best_of(1, lambda: _feed(b"p" * len(hostile), len(hostile), 200, 50))
    assert t_hostile < 20 * t_plain + 0.1, (t_hostile, t_plain)
    assert emulator.stream.errors == 0


def test_unterminated_csi_is_bounded() -> None:
    # An endless parameter list must not be kept forever.
    emulator = Emulator(cols=20, rows=2)
    emulator.feed(b"\x1b[")
    for _ in range(200):
        emulator.feed(b"1;" * 500)
    assert len(emulator.stream._pending) <= 8192
    emulator.feed(b"mdone")
    assert "done" in emulator.render_text()
