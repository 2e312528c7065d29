"""Textual's Footer, rebuilt only when the bindings it shows change.

Textual's `Footer` recomposes all its keys whenever the screen's bindings may
have changed: every focus move, every `refresh_bindings`. Each rebuild mounts a
dozen `FooterKey`s and costs 20-30 ms here, five times during start-up, which
put the first frame behind it. This subclass remembers what it last showed and
skips a rebuild that would show the same thing. It also gives each key its
`compact` value before mounting: `FooterKey.compact` defaults to True, so every
key bound to the footer's `compact` otherwise adds and then removes the
`-compact` class, two style passes for nothing.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.screen import Screen


class KeyFooter(Footer):
    """A `Footer` that recomposes only when the keys it would show differ."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: Hashable = None

    def _bindings_shown(self, screen: Screen[object]) -> Hashable:
        """What the footer would draw for `screen`: every input of `Footer.compose`."""
        app = screen.app
        shown = tuple(
            (binding.key, binding.action, binding.description, binding.group,
             app.get_key_display(binding), enabled, tooltip)
            for (_, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )  # fmt: skip
        palette = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
        extra = None if palette is None else (palette[1].key, palette[2], palette[3])
        return (shown, extra, self.compact, self.show_command_palette)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._bindings_shown(self.screen)
        for widget in super().compose():
            # Only keys whose `compact` is bound to the footer's (not the palette key).
            bound = getattr(widget, "_reactive_connect", None) or {}
            if isinstance(widget, FooterKey) and "compact" in bound:
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not (self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        shown = self._bindings_shown(screen)
        if self._bindings_ready and shown == self._shown:
            return
        super().bindings_changed(screen)
        if screen.app.app_focus:  # a rebuild is queued: later calls compare with it
            self._shown = shown
