"""The command palette (ctrl+p): every ptui action and every session, searchable.

Actions are the main screen's own bindings, so the palette, the footer, the help
screen and the leader key always agree; choosing a session shows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.app.bindings import SESSION_BINDINGS
from tui.app.context import app_context
from tui.app.screens.main import MainScreen

Command = tuple[str, Callable[[], Awaitable[Any] | None], str]


class PtuiCommands(Provider):
    """ptui's actions and sessions for Textual's command palette."""

    def _commands(self) -> list[Command]:
        context = app_context(self.app)
        main = getattr(self.app, "main_screen", None)
        if not isinstance(main, MainScreen):  # not mounted yet
            return []
        commands: list[Command] = []
        for binding in SESSION_BINDINGS:
            assert isinstance(binding, Binding)
            if binding.action.startswith("app."):
                continue
            key = context.key_display(binding.id or "", binding.key)
            label = f"{binding.description} ({key})"
            commands.append((label, partial(main.run_action, binding.action), binding.tooltip))
        for sid, info in context.sessions.items():
            if info["archived"]:
                continue
            task = " ".join(str(info.get("task", "")).split())
            help_text = f"{info.get('status', '')} · {info.get('branch', '')} · {task}"
            commands.append(
                (f"Session: {info.get('name', sid)}", partial(main.show_session, sid), help_text)
            )
        return commands

    async def discover(self) -> Hits:
        for label, command, help_text in self._commands():
            yield DiscoveryHit(label, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, command, help_text in self._commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), command, help=help_text)
