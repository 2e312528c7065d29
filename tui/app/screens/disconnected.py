"""Shown when the connection to the server ends: say why and what still runs, offer to
reconnect or quit.

What still runs is checked, not assumed: a local server's lock
(`spawn.running_pid`) says whether it runs, and its pid whether it is the server
the app was connected to or one started since. A stopped server stopped every
agent too, though its sessions (worktrees, branches) are kept and a new server
brings them back stopped. A remote server cannot be checked cheaply, so the
dialog says what it does not know.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.app.context import app_context
from tui.client import spawn
from tui.client.connection import local_server_serving
from tui.errors import PtuiError

STOP_SETTLE = 5.0
"""Seconds to wait for a server that is on its way out (socket gone, lock held) to exit."""


class DisconnectedScreen(ModalScreen[None]):
    """The one-line reason, whether the server still runs, and the two ways out."""

    CSS_PATH = "disconnected.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r,enter", "reconnect", "Reconnect", id="reconnect",
                tooltip="Connect to the ptui server again"),
        Binding("q,escape", "app.quit", "Quit", id="disconnected_quit", tooltip="Quit ptui"),
    ]  # fmt: skip

    def __init__(self, reason: str, host: str | None = None, server_pid: int | None = None) -> None:
        super().__init__()
        self.reason = reason
        self.host = host
        """The `--host` the app talks to, or None for the local server."""
        self.server_pid = server_pid
        """The pid of the local server the app was connected to, if known."""
        self.server_state = ""
        """What the check found: "" (not yet), "running", "stopped", "restarted" (stopped,
        and another server runs), "stopping", "remote" (not checked) or "unknown"."""

    def compose(self) -> ComposeResult:
        with Vertical(id="disconnected-box") as box:
            box.border_title = "ptui"
            yield Static(f"Disconnected: {self.reason}", id="disconnected-reason")
            if self.host is not None:
                # Asking would take an ssh round trip that may hang as the last one did.
                self.server_state = "remote"
                text = "Sessions there keep running unless that server stopped."
            else:
                text = "Checking whether the ptui server still runs…"
            yield Static(text, id="disconnected-server")
            yield Static("r  reconnect    q  quit", id="disconnected-keys")

    def on_mount(self) -> None:
        if self.host is None:
            self.check_server()

    @work(exclusive=True, group="disconnected-check")
    async def check_server(self) -> None:
        """Say whether the local server still runs; each look is a quick flock and stat."""
        deadline = time.monotonic() + STOP_SETTLE
        try:
            while True:
                pid = spawn.running_pid()
                if pid is None:
                    self._show("stopped", self._stopped_text())
                    return
                # pid 0: the lock is held but the pid not yet written (a server starting).
                if pid and local_server_serving():
                    if self.server_pid in (None, pid):
                        self._show("running", f"The ptui server is still running (pid {pid}): "
                                              "your sessions and agents are running.")  # fmt: skip
                    else:  # ours stopped and something started another since
                        self._show("restarted", self._stopped_text(new_pid=pid))
                    return
                if time.monotonic() > deadline:
                    self._show("stopping", f"The ptui server (pid {pid or '?'}) is stopping "
                                           "but has not exited yet.")  # fmt: skip
                    return
                await asyncio.sleep(0.05)
        except PtuiError as exc:
            self._show("unknown", f"Cannot tell whether the ptui server runs: {exc}")

    def _stopped_text(self, new_pid: int | None = None) -> str:
        resume = app_context(self).key_display("resume", "R")
        how = (
            "reconnect starts a server"
            if new_pid is None
            else f"another server runs now (pid {new_pid}): reconnect"
        )
        return (
            "The ptui server has stopped: its agents were stopped. Your sessions are kept "
            f"(worktrees and branches); {how} and `{resume}` resumes each agent."
        )

    def _show(self, state: str, text: str) -> None:
        self.server_state = state
        self.query_one("#disconnected-server", Static).update(text)

    def action_reconnect(self) -> None:
        self.dismiss()
        app_context(self).reconnect()
