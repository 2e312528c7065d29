"""Operations that move work, as named steps in a durable journal; fault injection.

Every operation that moves a session's work is a fixed sequence of steps
(`OPERATIONS`). `Run` drives one: the intent entry is written before the first
step (with the session's transitional lifecycle state, in one transaction), each
step is recorded when it completes, and the last one removes the entry together
with the final record. A step already recorded is skipped, so running the same
operation again from its entry — after a crash, on server start — carries on
where it stopped; every step is written to be safe to run twice.

`PTUI_FAULT=OP:STEP[:N]` in the server's environment makes it SIGKILL itself at
a named point: without N, after step STEP of operation OP has done its work and
before it is recorded; with N, at the N-th unit of work inside that step (each
file removed, restored or checked out). The names come from `OPERATIONS`, so a
new step is covered by the fault walk without a change there.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from tui.errors import PtuiError
from tui.state import JournalEntry, LifecycleState, SessionRecord, StateStore

__all__ = ["FAULT_ENV", "OPERATIONS", "Faults", "Operation", "Run"]

log = logging.getLogger("ptui.server")

FAULT_ENV: Final = "PTUI_FAULT"


@dataclass(frozen=True)
class Operation:
    """One kind of operation: its steps in order and the state it shows meanwhile."""

    name: str
    steps: tuple[str, ...]
    lifecycle: LifecycleState
    """The session's lifecycle state while the operation is in progress."""


OPERATIONS: Final[dict[str, Operation]] = {
    op.name: op
    for op in (
        Operation("new", ("branch", "worktree", "record"), LifecycleState.CREATING),
        Operation("setup", ("run", "done"), LifecycleState.SETTING_UP),
        Operation("archive", ("stop", "snapshot", "remove", "record"), LifecycleState.ARCHIVING),
        Operation("restore", ("files", "drop", "record"), LifecycleState.RESTORING),
        Operation(
            "merge", ("plan", "commit", "checkout", "base", "record"), LifecycleState.MERGING
        ),
        Operation("commit", ("commit", "index"), LifecycleState.READY),
        Operation(
            "rm", ("stop", "snapshot", "remove", "delete", "forget"), LifecycleState.REMOVING
        ),
    )
}
"""Every journaled operation by name."""


class Faults:
    """The kill points asked for in `PTUI_FAULT` (none in normal use)."""

    def __init__(self, spec: str = "") -> None:
        self.op = self.step = ""
        self.unit: int | None = None
        self._count = 0
        self._lock = threading.Lock()
        if not spec:
            return
        parts = spec.split(":")
        if len(parts) not in (2, 3) or parts[0] not in OPERATIONS:
            raise PtuiError(f"{FAULT_ENV}={spec!r}: expected OP:STEP[:N] with OP one of "
                            f"{', '.join(OPERATIONS)}")  # fmt: skip
        if parts[1] not in OPERATIONS[parts[0]].steps:
            steps = ", ".join(OPERATIONS[parts[0]].steps)
            raise PtuiError(f"{FAULT_ENV}={spec!r}: {parts[0]} has the steps {steps}")
        if len(parts) == 3 and not (parts[2].isdigit() and int(parts[2]) > 0):
            raise PtuiError(f"{FAULT_ENV}={spec!r}: N must be a positive number")
        self.op, self.step = parts[0], parts[1]
        self.unit = int(parts[2]) if len(parts) == 3 else None

    @classmethod
    def from_env(cls) -> Faults:
        return cls(os.environ.get(FAULT_ENV, ""))

    def step_done(self, op: str, step: str) -> None:
        """The point after a step's work, before it is recorded."""
        if self.unit is None and (op, step) == (self.op, self.step):
            self._die(f"{op}:{step}")

    def unit_done(self, op: str, step: str) -> None:
        """A point inside a long step; called from worker threads too."""
        if self.unit is None or (op, step) != (self.op, self.step):
            return
        with self._lock:
            self._count += 1
            hit = self._count == self.unit
        if hit:
            self._die(f"{op}:{step}:{self.unit}")

    def progress(self, op: str, step: str) -> Callable[[], None]:
        """A callback for a long step's units of work."""
        return lambda: self.unit_done(op, step)

    @staticmethod
    def _die(point: str) -> None:
        log.warning("%s: killing the server at %s", FAULT_ENV, point)
        for handler in logging.getLogger("ptui").handlers + logging.getLogger().handlers:
            handler.flush()
        os.kill(os.getpid(), signal.SIGKILL)


class Run:
    """One operation in progress on one session, backed by its journal entry."""

    def __init__(self, store: StateStore, faults: Faults, entry: JournalEntry) -> None:
        self.store = store
        self.faults = faults
        self.entry = entry
        self.op = OPERATIONS[entry.op]

    @classmethod
    def begin(
        cls,
        store: StateStore,
        faults: Faults,
        op: str,
        record: SessionRecord,
        params: Mapping[str, object] | None = None,
    ) -> Run:
        """Write the intent (and the record in its transitional state) in one transaction."""
        operation = OPERATIONS[op]
        params = dict(params or {})
        params.setdefault("from", str(record.lifecycle))
        record.lifecycle = operation.lifecycle
        entry = store.begin(op, record.id, params, record=record)
        return cls(store, faults, entry)

    @property
    def params(self) -> Mapping[str, object]:
        """What the steps so far recorded (JSON read back from the journal: a reader
        checks what it gets, the entry may come from an older ptui)."""
        return self.entry.params

    def done(self, step: str) -> bool:
        self._check(step)
        return step in self.entry.done

    def record_step(
        self,
        step: str,
        data: Mapping[str, object] | None = None,
        record: SessionRecord | None = None,
    ) -> None:
        """The step's work is done: the fault point, then make it durable (`data` is
        added to the params)."""
        self._check(step)
        self.faults.step_done(self.op.name, step)
        self.store.step(self.entry, step, dict(data or {}), record=record)

    def progress(self, step: str) -> Callable[[], None]:
        self._check(step)
        return self.faults.progress(self.op.name, step)

    def finish(self, record: SessionRecord | None = None, *, delete: str | None = None) -> None:
        """The last step: the entry goes and the final record is written, together."""
        last = self.op.steps[-1]
        self.faults.step_done(self.op.name, last)
        self.store.finish(self.entry, record=record, delete=delete)

    def abort(self, record: SessionRecord | None = None, *, delete: str | None = None) -> None:
        """Undone, or refused before its first step: the entry goes with the record."""
        self.store.finish(self.entry, record=record, delete=delete)

    def _check(self, step: str) -> None:
        if step not in self.op.steps:  # a typo would silently skip the fault walk
            raise ValueError(f"operation {self.op.name} has no step {step!r}")
