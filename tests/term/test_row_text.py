"""`Emulator.row_text` reads a row's text without expanding a lazy row, and says
exactly what the expanded cells say: on the bench's agent and redraw workloads
and on every real agent recording of the status corpus, read after every chunk."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tui.bench.workloads import agent_workload, redraw_workload
from tui.term.emulator import Emulator

CORPUS = Path(__file__).parents[1] / "status" / "corpus"


def cell_text(emulator: Emulator, y: int) -> str:
    chars, _ = emulator.screen.row(y)  # expands the row
    return "".join(chars).replace("\x00", "").rstrip()


def compare(chunks: list[bytes], cols: int, rows: int) -> int:
    """Feed two emulators alike; after each chunk every row's text must agree.
    Returns how many lazy rows were read without being expanded."""
    lazy, eager = Emulator(cols=cols, rows=rows), Emulator(cols=cols, rows=rows)
    kept_lazy = 0
    for chunk in chunks:
        lazy.parse(chunk)
        eager.parse(chunk)
        lazy_rows = sum(row is not None and len(row) > 2 for row in lazy.screen.lazy)
        for y in range(rows):
            assert lazy.row_text(y) == cell_text(eager, y), (y, chunk[-80:])
        after = sum(row is not None and len(row) > 2 for row in lazy.screen.lazy)
        assert after == lazy_rows  # reading left them lazy
        kept_lazy += after
    return kept_lazy


def pieces(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(data):
        n = rng.choice((7, 64, 512, 4096))
        out.append(data[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("name", ["agent", "redraw"])
def test_row_text_agrees_with_the_cells_on_the_bench_workloads(name: str) -> None:
    data = agent_workload(200_000) if name == "agent" else redraw_workload(200_000)
    kept_lazy = compare(pieces(data, 3), cols=200, rows=50)
    if name == "agent":
        assert kept_lazy > 0  # or this proves nothing about lazy rows


@pytest.mark.parametrize("cast", sorted(CORPUS.rglob("*.cast")), ids=lambda p: p.stem)
def test_row_text_agrees_with_the_cells_on_real_agents(cast: Path) -> None:
    lines = cast.read_text().splitlines()
    header = json.loads(lines[0])
    chunks = []
    for line in lines[1:]:
        _, code, data = json.loads(line)
        if code == "o":
            chunks.append(data.encode("utf-8", "surrogateescape"))
    compare(chunks, cols=header["width"], rows=header["height"])
