"""The status corpus is well-formed: every recording parses and every label fits it.

Pure data checks (tests/status/corpus/README.md describes the format); no status engine
is imported, and the agents themselves are never needed.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent / "corpus"
CASTS = sorted(CORPUS.glob("*/*.cast"))
LABELS = sorted(CORPUS.glob("*/*.labels.toml"))
STATUSES = {"starting", "busy", "waiting", "idle", "limited", "exited"}
EVENT_CODES = {"o", "i", "r", "m"}
MIN_GAP = 1.0  # seconds between two moments of one recording


def read_cast(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:] if line.strip()]


def labels_for(cast: Path) -> Path:
    return cast.with_name(cast.name.removesuffix(".cast") + ".labels.toml")


def read_labels(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("cast", CASTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_cast_is_asciicast_v2(cast: Path) -> None:
    header, events = read_cast(cast)
    assert header["version"] == 2
    assert isinstance(header["width"], int) and isinstance(header["height"], int)
    ptui = header["ptui"]
    assert ptui["agent"] == cast.parent.name
    assert ptui["agent_version"] and isinstance(ptui["agent_version"], str)
    assert isinstance(ptui["synthetic"], bool)
    assert ptui["how"], "say how the recording was made"
    assert events, "a recording has events"
    previous = 0.0
    for stamp, code, data in events:
        assert isinstance(stamp, int | float) and stamp >= previous, f"time goes back at {stamp}"
        previous = stamp
        assert code in EVENT_CODES
        assert isinstance(data, str)
        if code == "r":
            assert re.fullmatch(r"\d+x\d+", data), data
        if code == "m" and data.startswith("exit:"):
            assert re.fullmatch(r"exit:-?\d+", data), data


@pytest.mark.parametrize("cast", CASTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_labels_fit_their_recording(cast: Path) -> None:
    assert labels_for(cast).exists(), f"{cast.name} has no labels file"
    header, events = read_cast(cast)
    labels = read_labels(labels_for(cast))
    assert labels["agent"] == header["ptui"]["agent"]
    assert labels["synthetic"] is header["ptui"]["synthetic"]
    last = events[-1][0]
    moments = labels["moment"]
    assert moments
    for moment in moments:
        assert moment["status"] in STATUSES, moment
        assert 0 <= moment["since"] <= moment["at"] <= last, moment
        assert moment["what"].strip(), moment
        if "resets" in moment:
            assert moment["status"] == "limited", "only a limit has a reset time"
    times = [moment["at"] for moment in moments]
    assert times == sorted(times), "moments in time order"
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= MIN_GAP for gap in gaps), f"moments closer than {MIN_GAP}s: {times}"


def test_every_labels_file_has_a_recording() -> None:
    casts = {labels_for(cast) for cast in CASTS}
    assert set(LABELS) <= casts, sorted(set(LABELS) - casts)


def test_enough_real_moments_across_agents() -> None:
    real = Counter()
    for path in LABELS:
        labels = read_labels(path)
        if not labels["synthetic"]:
            real[labels["agent"]] += len(labels["moment"])
    assert len(real) >= 4, real
    assert sum(real.values()) >= 30, real
