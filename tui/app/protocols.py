"""What screens may rely on from the app, without importing `tui.app.app`.

Screens pushed by the main screen (diff, archive, merge, scripts, ...) read the
server connection and the settings from `self.app`. Typing it through this
protocol keeps them independent of the app module (no import cycle):

    app = typing.cast(PtuiAppProtocol, self.app)
    files = await app.client.request(SessionDiffFiles(id=session["id"]))
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from tui.client.async_client import AsyncClient
from tui.protocol import messages


class PtuiAppProtocol(Protocol):
    """The attributes of `PtuiApp` that screens use (read-only)."""

    @property
    def client(self) -> AsyncClient:
        """The connection to the session host (connected before any screen is pushed)."""
        ...

    def repo_settings(self, repo: str, base: str | None = None) -> asyncio.Task[messages.Settings]:
        """What a new session in `repo` would get, as the server says (asked once)."""
        ...

    @property
    def repo(self) -> Path | None:
        """The git repository ptui was started in (its work tree root), or None."""
        ...
