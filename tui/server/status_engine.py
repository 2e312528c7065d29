"""The status engine: what an agent is doing, from layered signals, with its reason.

Signals arrive as method calls with the time they happened; the engine keeps no
timers and reads no clock, so the server (`tui.server.status.StatusTracker`,
on the event loop) and `ptui bench status` (replaying a recording in virtual
time) run the very same decisions. `due()` says when the engine wants to be
asked again; `evaluate(now)` decides.

Layers, lowest confidence first; the highest layer with something to say wins:

| layer       | says                                                              |
|-------------|-------------------------------------------------------------------|
| process     | starting (just launched), exited (final, beats everything)        |
| activity    | busy while output flows (not the echo of typing), idle when quiet |
| bell        | evidence only: BEL asks for attention, which the notifications     |
|             | carry; whether the agent waits or is done, the layers above say   |
| osc         | OSC 9/777 asking for permission; OSC 9;4 progress; OSC 133 marks   |
| title       | braille spinner: busy; "Action Required": waiting; a spinner gone |
| screen      | the agent's shipped rules, per visible row                        |
| user-rules  | the user's busy_patterns / waiting_patterns                       |
| hook        | the agent's own lifecycle hooks (`tui.server.agent_hooks`)        |

A hook's claim lasts only while what it cannot see stays put: hooks miss
interrupts and approval results, so the claim stops counting (it stays as
evidence) as soon as the user types, or the layers below it decide otherwise than
they did when the hook fired (a question on the screen, a spinner that stops).

Transitions are debounced: a status must hold `DEBOUNCE` seconds before it is
shown, so a spinner's odd frame does not flap the sidebar. Waiting and limited
chosen by a rule, and exited, are shown at once: they are specific, and they are
what the user must not wait for.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Final

from tui.protocol.states import Activity

ACTIVE_WINDOW: Final = 1.5
"""Seconds after the last output during which an agent counts as busy."""
ECHO_WINDOW: Final = 0.3
"""Output this soon after user input is its echo, not work."""
LOOK_DELAY: Final = 0.1
"""After output, the screen's changed rows are read this much later (output in
between is read by the same look)."""
DEBOUNCE: Final = 0.15
"""A new status must hold this long before it is shown."""
STARTING_MAX: Final = 20.0
"""An agent whose screen stays blank is starting for at most this many seconds;
after that its output activity decides (some programs draw nothing at all)."""
TRANSITIONS: Final = 20
"""Transitions kept for `--explain`."""

LAYERS: Final = ("process", "activity", "bell", "osc", "title", "screen", "user-rules", "hook")
"""Every layer, lowest confidence first."""
_RANK: Final = {name: i for i, name in enumerate(LAYERS)}
_AT_ONCE: Final = frozenset({Activity.WAITING, Activity.LIMITED})
SCREEN_ORDER: Final = (Activity.WAITING, Activity.BUSY, Activity.LIMITED, Activity.IDLE)
"""What a screen rule can say, strongest first: a question on screen wins over
work shown (a spinner), which wins over a limit notice (work resumed since), which
wins over an empty prompt."""


@dataclass(frozen=True)
class Signal:
    """Something a layer saw, and the status it stands for (None: evidence only)."""

    at: float
    layer: str
    rule: str
    detail: str
    status: Activity | None

    @property
    def reason(self) -> str:
        """One line: which layer and rule, and what they saw."""
        # Screen rows come with box borders and padding: one space between words.
        detail = " ".join(self.detail.replace("│", " ").split())
        if len(detail) > 70:
            detail = detail[:69] + "…"
        said = f"{self.layer} {self.rule}"
        return f"{said}: {detail}" if detail else said


@dataclass(frozen=True)
class Transition:
    at: float
    status: Activity
    signal: Signal


@dataclass(frozen=True)
class ScreenHit:
    """A screen rule that holds now (from `tui.server.status_rules.RowMatcher`)."""

    layer: str
    """screen or user-rules."""
    rule: str
    status: Activity
    row: str
    resets: str = ""


class StatusEngine:
    """One running agent's status; every method takes the time its signal happened
    (any monotonic clock, in seconds)."""

    def __init__(self, now: float) -> None:
        self._started = now
        self._claims: dict[str, Signal] = {}
        self._last_output = -1e18
        self._last_input = -1e18
        self._up = False  # past starting: it drew something (or took too long)
        self._drawn = False  # its screen has shown something
        self._output_since_look = False
        self._look_due: float | None = None
        self._spinner_seen = False
        self._exited: Signal | None = None
        self._hook_basis: Activity | None = None  # what the lower layers said when it fired
        detail = "launched, nothing usable drawn yet"
        self._start = Signal(now, "process", "started", detail, Activity.STARTING)
        self._claims["process"] = self._start
        self.status = Activity.STARTING
        self.chosen: Signal = self._claims["process"]
        self.limited_until = ""
        self.transitions: collections.deque[Transition] = collections.deque(maxlen=TRANSITIONS)
        self.transitions.append(Transition(now, Activity.STARTING, self.chosen))
        self._candidate: tuple[Activity, float] | None = None
        self._evaluated = now  # the latest evaluate() so far

    # ------------------------------------------------------------- signals
    def output(self, now: float) -> None:
        """The agent wrote something (call once per chunk parsed)."""
        if now - self._last_input <= ECHO_WINDOW:
            self._look(now)
            return
        self._last_output = now
        self._claims.pop("bell", None)  # it moved on after ringing
        self._look(now)

    def input(self, now: float) -> None:
        """The user typed into the agent."""
        self._last_input = now
        self._claims.pop("bell", None)
        osc = self._claims.get("osc")
        if osc is not None and osc.rule in ("osc9", "osc777"):
            del self._claims["osc"]  # answered the notification
        # Typing may interrupt or answer the agent, which its hooks never report.
        self._drop_hook("the user typed")

    def bell(self, now: float) -> None:
        self._claims["bell"] = Signal(now, "bell", "bel", "the agent rang the bell", None)

    def title(self, now: float, title: str, rule: str, status: Activity | None) -> bool:
        """The window title changed; `rule`/`status` from the title rules (status None:
        no rule matched). False when it says what the title said before (a
        spinner's next frame): nothing to decide again."""
        if status == Activity.BUSY:
            self._spinner_seen = True
        if status is None and self._spinner_seen:
            # A title that spun and stopped: the work is over (a question, if any,
            # is on the screen, a higher layer).
            status, rule = Activity.IDLE, "spinner-stopped"
        before = self._claims.get("title")
        signal = Signal(now, "title", rule or "title", title, status)
        self._claims["title"] = signal
        return before is None or (before.status, before.rule) != (status, signal.rule)

    def notification(self, now: float, title: str, body: str, status: Activity | None) -> None:
        """OSC 9 or OSC 777 notify; `status` WAITING when it asks for the user."""
        text = f"{title}: {body}" if title else body
        self._claims["osc"] = Signal(now, "osc", "osc777" if title else "osc9", text, status)

    def progress(self, now: float, value: str) -> None:
        """OSC 9;4 (state;percent): 1-4 set a progress bar, 0 removes it."""
        state = value.partition(";")[0]
        status = Activity.BUSY if state in ("1", "3") else None
        self._claims["osc"] = Signal(now, "osc", "osc9;4", f"progress {value}", status)

    def prompt_mark(self, now: float, mark: str) -> None:
        """OSC 133: A/B a prompt is shown (idle), C a command runs (busy), D it ended."""
        status = {
            "A": Activity.IDLE,
            "B": Activity.IDLE,
            "C": Activity.BUSY,
            "D": Activity.IDLE,
        }.get(mark[:1])
        if status is not None:
            self._claims["osc"] = Signal(now, "osc", f"osc133;{mark[:1]}", "prompt mark", status)

    def screen(self, now: float, hits: list[ScreenHit], drawn: bool = True) -> None:
        """A look at the screen's changed rows is done: the rules that hold now;
        `drawn`: the screen is not blank."""
        if drawn and not self._drawn:
            self._drawn = True
            # Evidence from now on, no longer a claim: the agent has drawn.
            self._claims["process"] = Signal(now, "process", "running", "it has drawn", None)
        for layer in ("screen", "user-rules"):
            mine = [h for h in hits if h.layer == layer]
            if not mine:
                self._claims.pop(layer, None)
                continue
            best = min(mine, key=lambda h: SCREEN_ORDER.index(h.status))
            self._claims[layer] = Signal(now, layer, best.rule, best.row, best.status)
            if best.status == Activity.LIMITED:
                self.limited_until = best.resets or self.limited_until

    def hook(self, now: float, event: str, status: Activity | None, detail: str = "") -> None:
        """The agent's own lifecycle hook fired (`status` None: evidence or identity
        only). Its claim holds until the user types or the layers below change."""
        self._claims["hook"] = Signal(now, "hook", event, detail, status)
        self._hook_basis = self._lower(now).status if status is not None else None

    def exited(self, now: float, code: int | None) -> None:
        text = "the process ended" if code is None else f"the process exited with code {code}"
        self._exited = Signal(now, "process", "exited", text, Activity.EXITED)

    @property
    def drawn(self) -> bool:
        """Whether the agent's screen has shown something."""
        return self._drawn

    # ------------------------------------------------------------ deciding
    def look_due(self) -> float | None:
        """When the screen should be read next (None: nothing new to read)."""
        return self._look_due if self._output_since_look else None

    def looked(self) -> None:
        """The changed rows were taken for a look (its result comes to `screen`)."""
        self._output_since_look = False
        self._look_due = None

    def due(self) -> float | None:
        """When `evaluate` should run next without a new signal (quiet window end,
        debounce end), or None."""
        times: list[float] = []
        if self._exited is None:
            quiet = self._last_output + ACTIVE_WINDOW
            if quiet > self._started:
                times.append(quiet)
            elif not self._up:
                times.append(self._started + ACTIVE_WINDOW)
            if not self._drawn:
                times.append(self._started + STARTING_MAX)
        if self._candidate is not None:
            times.append(self._candidate[1] + DEBOUNCE)
        # Only what lies ahead: a deadline already evaluated is spent.
        ahead = [t for t in times if t > self._evaluated]
        return min(ahead) if ahead else None

    def decide(self, now: float) -> Signal:
        """The signal that decides the status now, before debouncing."""
        if self._exited is not None:
            return self._exited
        lower = self._lower(now)
        hook = self._claims.get("hook")
        if hook is None or hook.status is None:
            return lower
        if lower.status != self._hook_basis:
            self._drop_hook(f"then {lower.layer} {lower.rule}: {lower.status}")
            return lower
        return hook

    def _lower(self, now: float) -> Signal:
        """The decision of every layer below the hooks (the activity layer is
        brought up to `now` on the way)."""
        active = now - self._last_output < ACTIVE_WINDOW
        # Starting lasts until the agent drew something: a blank screen is not an
        # idle agent (it may load for seconds). It never goes back to starting.
        drawn = self._drawn or now - self._started >= STARTING_MAX
        if drawn or self.status != Activity.STARTING:
            self._up = True
        if active and self._up:
            last = self._last_output
            self._claims["activity"] = Signal(
                last, "activity", "output", "output flows", Activity.BUSY
            )
        elif self._up:
            since = max(self._last_output, self._started)
            quiet = f"no output for {now - since:.1f}s"
            self._claims["activity"] = Signal(now, "activity", "quiet", quiet, Activity.IDLE)
        claims = [c for c in self._claims.values() if c.status is not None and c.layer != "hook"]
        return max(claims, key=_rank) if claims else self._start

    def evaluate(self, now: float) -> bool:
        """Decide; True when the shown status changed."""
        self._evaluated = max(self._evaluated, now)
        signal = self.decide(now)
        status = signal.status
        assert status is not None
        if status == self.status:
            self._candidate = None
            self.chosen = signal  # the same status, for the freshest reason
            return False
        specific = _rank(signal) >= _RANK["osc"]
        at_once = (
            status == Activity.EXITED
            or (status in _AT_ONCE and specific)
            or (self.status == Activity.STARTING and specific)
        )
        if not at_once:
            if self._candidate is None or self._candidate[0] != status:
                self._candidate = (status, now)
                return False
            if now - self._candidate[1] < DEBOUNCE:
                return False
        self._candidate = None
        self.status = status
        self.chosen = signal
        if status != Activity.LIMITED:
            self.limited_until = ""
        self.transitions.append(Transition(now, status, signal))
        return True

    def evidence(self) -> list[Signal]:
        """Every layer's current signal, highest confidence first."""
        found = sorted(self._claims.values(), key=_rank, reverse=True)
        if self._exited is not None:
            found.insert(0, self._exited)
        return found

    @property
    def reason(self) -> str:
        return self.chosen.reason

    # -------------------------------------------------------------- helpers
    def _drop_hook(self, why: str) -> None:
        """The hook's claim no longer counts; it stays as evidence saying why."""
        hook = self._claims.get("hook")
        if hook is None or hook.status is None:
            return
        detail = f"{hook.detail} ({hook.status}, no longer counts: {why})".lstrip()
        self._claims["hook"] = Signal(hook.at, "hook", hook.rule, detail, None)
        self._hook_basis = None

    def _look(self, now: float) -> None:
        if not self._output_since_look:
            self._output_since_look = True
            self._look_due = now + LOOK_DELAY


def _rank(signal: Signal) -> float:
    """A signal's confidence: its layer's, except that a screen rule's idle (a prompt
    on screen) ranks just above the bell. An empty prompt often stays drawn while
    the agent works, so it must not outrank a spinning title or a progress mark."""
    if signal.status == Activity.IDLE and signal.layer in ("screen", "user-rules"):
        return _RANK["bell"] + 0.5
    return _RANK[signal.layer]
