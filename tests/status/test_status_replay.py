"""The status engine on the committed corpus of real agent recordings: every
labelled moment right, real and synthetic, and quick from the decisive byte.

The labels were committed before the shipped rules were written
(tests/status/corpus/README.md); this holds the rules to them from now on.
"""

from __future__ import annotations

import datetime as dt

from tui.bench import status_bench
from tui.server.limits import reset_time


def test_every_labelled_moment_is_right() -> None:
    figures = status_bench.run(status_bench.DEFAULT_CORPUS)
    assert figures["wrong"] == []
    assert figures["real"]["moments"] >= 30
    assert len([a for a, kinds in figures["agents"].items() if "real" in kinds]) >= 4
    assert figures["real"]["accuracy"] == 1.0
    assert figures["synthetic"]["accuracy"] == 1.0
    assert figures["latency_ms"]["median"] <= 300


def test_the_limits_reset_times_are_read() -> None:
    now = dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC)
    for recording in status_bench.recordings(status_bench.DEFAULT_CORPUS):
        for outcome in status_bench.replay(recording):
            if outcome.moment.status == "limited":
                assert outcome.limited_until, outcome
                assert reset_time(outcome.limited_until, now) is not None, outcome.limited_until
