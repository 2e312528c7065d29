"""What screens may rely on from the app, without importing `tui.app.app`.

Screens pushed by the main screen (diff, archive, merge, scripts, ...) read the
server connection and the settings from `self.app`. Typing it through this
protocol keeps them independent of the app module (no import cycle):

    app = typing.cast(PtuiAppProtocol, self.app)
    files = await app.client.call(Method.SESSION_DIFF, id=session["id"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from tui.client.async_client import AsyncClient
from tui.config import Config


class PtuiAppProtocol(Protocol):
    """The attributes of `PtuiApp` that screens use (read-only)."""

    @property
    def client(self) -> AsyncClient:
        """The connection to the session host (connected before any screen is pushed)."""
        ...

    @property
    def config(self) -> Config:
        """Global config merged with the repository's `.ptui.toml`."""
        ...

    @property
    def repo(self) -> Path | None:
        """The git repository ptui was started in (its work tree root), or None."""
        ...
