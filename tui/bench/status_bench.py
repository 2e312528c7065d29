"""`ptui bench status`: the status engine against a labelled corpus of agent streams.

Each recording is asciicast v2 (`tests/status/corpus/<agent>/<name>.cast`) with
a label file beside it (`<name>.labels.toml`): moments a person marked, each with
the status the screen showed then (`at`), and the time of the output that first
put it there (`since`, the decisive byte).

A recording is replayed through the real pieces, in virtual time: ptui's emulator,
the agent's shipped rules (picked by the version in the recording's header), and
the status engine. The engine asks for its looks and deadlines as it does in the
server (`look_due`, `due`), so its latency here is the one users get, minus
thread hand-offs. Figures:

- accuracy: the share of moments whose status at `at` is the label's;
- latency: from `since` to the first time the engine showed the label's status,
  for moments it got right (a status already shown before `since` counts as 0).

Real recordings and synthetic ones (built from an agent's published texts, for
screens that cannot be reached offline) are reported apart.
"""

from __future__ import annotations

import json
import statistics
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.errors import PtuiError
from tui.protocol.states import Activity
from tui.server import status as st
from tui.server import status_rules as sr
from tui.server.status_engine import StatusEngine
from tui.term.emulator import Emulator

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "tests" / "status" / "corpus"
"""The corpus in a source checkout of ptui."""


@dataclass(frozen=True)
class Moment:
    at: float
    since: float
    status: Activity
    what: str
    resets: str = ""
    """limited: the reset time the screen shows, which the engine must report."""


@dataclass
class Outcome:
    """One moment replayed: what the engine said, and how late."""

    recording: str
    moment: Moment
    got: Activity
    reason: str
    latency: float | None
    limited_until: str = ""

    @property
    def right(self) -> bool:
        if self.got != self.moment.status:
            return False
        return not self.moment.resets or self.moment.resets in self.limited_until


@dataclass
class Recording:
    path: Path
    agent: str
    version: str
    synthetic: bool
    width: int
    height: int
    events: list[tuple[float, str, str]]
    moments: list[Moment] = field(default_factory=list)


def load_recording(path: Path) -> Recording:
    """A .cast file and its labels (PtuiError names the file and line when bad)."""
    lines = path.read_text("utf-8").splitlines()
    try:
        header = json.loads(lines[0])
    except (IndexError, json.JSONDecodeError) as exc:
        raise PtuiError(f"{path}:1: not an asciicast header: {exc}") from None
    if not isinstance(header, dict) or header.get("version") != 2:
        raise PtuiError(f"{path}:1: not asciicast version 2")
    found = header.get("ptui")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    events: list[tuple[float, str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            t, code, data = json.loads(line)
            events.append((float(t), str(code), str(data)))
        except (ValueError, TypeError) as exc:
            raise PtuiError(f"{path}:{number}: not an event: {exc}") from None
    labels_path = path.with_name(path.name.removesuffix(".cast") + ".labels.toml")
    try:
        labels = tomllib.loads(labels_path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PtuiError(f"{labels_path}: {exc}") from None
    moments = []
    for i, raw in enumerate(labels.get("moment", [])):
        try:
            moments.append(
                Moment(
                    float(raw["at"]),
                    float(raw.get("since", raw["at"])),
                    Activity(raw["status"]),
                    str(raw.get("what", "")),
                    str(raw.get("resets", "")),
                )
            )
        except (KeyError, ValueError) as exc:
            raise PtuiError(f"{labels_path}: moment[{i}]: {exc}") from None
    return Recording(
        path=path,
        agent=str(meta.get("agent") or labels.get("agent") or path.parent.name),
        version=str(meta.get("agent_version") or ""),
        synthetic=bool(meta.get("synthetic", labels.get("synthetic", False))),
        width=int(header.get("width", 80)),
        height=int(header.get("height", 24)),
        events=events,
        moments=sorted(moments, key=lambda m: m.at),
    )


def recordings(corpus: Path) -> Iterator[Recording]:
    if not corpus.is_dir():
        raise PtuiError(f"no corpus at {corpus} (pass --corpus DIR)")
    casts = sorted(corpus.rglob("*.cast"))
    if not casts:
        raise PtuiError(f"no .cast recordings under {corpus}")
    for path in casts:
        yield load_recording(path)


def replay(recording: Recording) -> list[Outcome]:
    """Run one recording through emulator, rules and engine in virtual time."""
    emulator = Emulator(cols=recording.width, rows=recording.height)
    rules = st.RuleSet(recording.agent, [recording.agent], version=recording.version)
    matcher = sr.RowMatcher(rules.books, emulator.rows)
    engine = StatusEngine(0.0)
    shown: list[tuple[float, Activity]] = [(0.0, engine.status)]
    outcomes: list[Outcome] = []
    events = list(recording.events)
    moments = list(recording.moments)
    i = 0
    exited = False

    def evaluate(t: float) -> None:
        if engine.evaluate(t):
            shown.append((t, engine.status))

    def look(t: float) -> None:
        taken = st.changed_rows(emulator)
        if taken is None:
            return  # mid synchronized frame: looked at again after the next output
        engine.looked()
        scrolled, changed = taken
        hits, drawn, _ = st.look(matcher, scrolled, changed, emulator.rows, emulator.cursor[1])
        engine.screen(t, hits, drawn)

    while moments:
        candidates = [moments[0].at]
        if i < len(events):
            candidates.append(events[i][0])
        if (due := engine.look_due()) is not None:
            candidates.append(due)
        if (due := engine.due()) is not None:
            candidates.append(due)
        t = min(candidates)
        if i < len(events) and events[i][0] == t:
            _, code, data = events[i]
            i += 1
            if code == "o" and not exited:
                emulator.parse(data.encode("utf-8", "surrogateescape"))
                emulator.take_replies()
                for event in emulator.take_events():
                    st.apply_event(engine, rules, event, t)
                engine.output(t)
            elif code == "i":
                engine.input(t)
            elif code == "r":
                cols, _, rows = data.partition("x")
                emulator.resize(int(cols), int(rows))
            elif code == "m" and data.startswith("exit"):
                code_text = data.partition(":")[2]
                engine.exited(t, int(code_text) if code_text.lstrip("-").isdigit() else None)
                exited = True
            evaluate(t)
            continue
        due = engine.look_due()
        if due is not None and due <= t:
            look(t)
        evaluate(t)
        if moments[0].at <= t:
            moment = moments.pop(0)
            outcomes.append(
                Outcome(
                    recording.path.name,
                    moment,
                    engine.status,
                    engine.reason,
                    _latency(shown, moment) if engine.status == moment.status else None,
                    engine.limited_until,
                )
            )
    return outcomes


def _latency(shown: list[tuple[float, Activity]], moment: Moment) -> float:
    """Seconds from the decisive byte to the engine showing the moment's status."""
    current = None
    for t, status in shown:
        if t > moment.since:
            break
        current = status
    if current == moment.status:
        return 0.0
    later = [t for t, status in shown if t > moment.since and status == moment.status]
    return later[0] - moment.since if later else 0.0


def _summary(outcomes: list[Outcome]) -> dict[str, Any]:
    if not outcomes:
        return {"moments": 0, "accuracy": None}
    right = [o for o in outcomes if o.right]
    return {"moments": len(outcomes), "right": len(right), "accuracy": len(right) / len(outcomes)}


def _latencies(outcomes: list[Outcome]) -> dict[str, float | None]:
    values = sorted(o.latency * 1000 for o in outcomes if o.latency is not None)
    if not values:
        return {"median": None, "p95": None, "max": None}
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(p95, 1),
        "max": round(values[-1], 1),
    }


def run(corpus: Path = DEFAULT_CORPUS) -> dict[str, Any]:
    """Replay every recording; the figures `ptui bench status` prints."""
    by_kind: dict[str, list[Outcome]] = {"real": [], "synthetic": []}
    agents: dict[str, dict[str, list[Outcome]]] = {}
    for recording in recordings(corpus):
        outcomes = replay(recording)
        kind = "synthetic" if recording.synthetic else "real"
        by_kind[kind] += outcomes
        agents.setdefault(recording.agent, {"real": [], "synthetic": []})[kind] += outcomes
    every = by_kind["real"] + by_kind["synthetic"]
    return {
        "corpus": str(corpus),
        "accuracy": _summary(by_kind["real"])["accuracy"],
        "real": {**_summary(by_kind["real"]), "latency_ms": _latencies(by_kind["real"])},
        "synthetic": {
            **_summary(by_kind["synthetic"]),
            "latency_ms": _latencies(by_kind["synthetic"]),
        },
        "agents": {
            agent: {kind: _summary(outs) for kind, outs in kinds.items() if outs}
            for agent, kinds in sorted(agents.items())
        },
        "latency_ms": _latencies(every),
        "wrong": [
            {
                "recording": o.recording,
                "at": o.moment.at,
                "want": o.moment.status,
                "got": o.got if o.got != o.moment.status else f"{o.got} until {o.limited_until!r}",
                "what": o.moment.what,
                "reason": o.reason,
            }
            for o in every
            if not o.right
        ],
    }


def report(figures: dict[str, Any]) -> str:
    """The human table."""

    def pct(summary: dict[str, Any]) -> str:
        if not summary.get("moments"):
            return "-"
        return f"{summary['accuracy']:.3f} ({summary['right']}/{summary['moments']})"

    out = [f"status engine on {figures['corpus']}"]
    out.append(f"{'agent':<12}{'real':>18}{'synthetic':>18}")
    for agent, kinds in figures["agents"].items():
        real, synthetic = kinds.get("real", {}), kinds.get("synthetic", {})
        out.append(f"{agent:<12}{pct(real):>18}{pct(synthetic):>18}")
    out.append(f"{'overall':<12}{pct(figures['real']):>18}{pct(figures['synthetic']):>18}")
    lat = figures["latency_ms"]
    if lat["median"] is not None:
        out.append(
            f"latency from the decisive byte: median {lat['median']:.0f} ms, "
            f"p95 {lat['p95']:.0f} ms, max {lat['max']:.0f} ms"
        )
    for wrong in figures["wrong"]:
        out.append(
            f"  wrong: {wrong['recording']} at {wrong['at']:.2f}s: want {wrong['want']}, "
            f"got {wrong['got']} ({wrong['reason']}) — {wrong['what']}"
        )
    return "\n".join(out)
