"""A stand-in for the ptui app for the review screens' tests, and shared helpers.

`ReviewApp` has an `AppContext` (what the screens use: the client, the repository,
the settings), ptui's themes, and pushes one screen, keeping what it dismisses
with. The server and the repository are real (`review_server`, used by each test
module through `pytestmark`); sessions run test agents (`cat`, `sh`) and changes
are written straight into their worktrees.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from tests.server.conftest import CONFIG, git, stop_server
from tui.app.context import AppContext
from tui.app.themes import load_themes
from tui.client.async_client import AsyncClient
from tui.client.connection import Client
from tui.config import load_config

SIZE = (120, 32)


@pytest.fixture
def review_server(isolated_home: Path, tmp_path: Path) -> Iterator[Path]:
    """A repository with one commit (the cwd), the server tests' config with its test
    agents, and the server stopped afterwards. Tests use it through `pytestmark`."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    (path / "README.md").write_text("hello\n")
    (path / ".gitignore").write_text(".env\n")
    commit_all(path, "init")
    os.chdir(path)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(CONFIG)
    yield path
    stop_server()


def config_file() -> Path:
    """This test's global config file (add `[scripts]` to it)."""
    return Path(os.environ["XDG_CONFIG_HOME"]) / "ptui" / "config.toml"


class RecordingClient(AsyncClient):
    """The real client, noting every method it calls (to check what a screen asks for)."""

    calls: list[str]

    async def _call(self, method: str, params: dict[str, object]) -> object:
        self.calls.append(method)
        return await super()._call(method, params)


def key_for(owner: type[Any], binding_id: str) -> str:
    """The first key of the binding with `binding_id` on a screen or widget class."""
    for binding in owner.BINDINGS:
        if isinstance(binding, Binding) and binding.id == binding_id:
            return binding.key.split(",")[0].strip()
    raise AssertionError(f"{owner.__name__} has no binding {binding_id!r}")


class ReviewApp(App[None]):
    """Runs one screen against the real server; `results` holds what it dismissed with."""

    def __init__(self, make_screen: Callable[[], Screen[Any]], repo: Path) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.repo: Path | None = repo
        self.client: RecordingClient
        self.results: list[Any] = []
        self.context = AppContext(post=self.post_message, user_config=load_config(None), repo=repo)

    async def on_mount(self) -> None:
        themes, _warnings = load_themes()
        for theme in themes:
            self.register_theme(theme)
        self.theme = "ptui-dark"
        RecordingClient.calls = []
        self.client = await RecordingClient.connect(name="test")  # type: ignore[assignment]
        self.context.client_or_none = self.client
        self.push_screen(self.make_screen(), self.results.append)

    async def on_unmount(self) -> None:
        await self.client.close()


def new_session(task: str, agent: str = "cat", **params: Any) -> dict[str, Any]:
    """A session made through the blocking client (before the app starts)."""
    with Client() as client:
        [info] = client.call(
            "session.create", task=task, agent=agent, repo=str(Path.cwd()), **params
        )
    return dict(info)


def commit_all(path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-qm", message)
