"""Every private Textual name ptui uses, behind one door.

Textual has no public call for what these measured optimisations need:

- `App._batch_count`: how deep the app is inside `batch_update` (Textual draws no
  frame while it is above 0);
- `App._end_batch` and `Screen._compositor_refresh`: where a batch ends and where a
  screen renders its changes, so that a refresh asked for inside a batch is kept for
  the batch's end instead of rendered and thrown away (`FrameHoldingScreen`);
- `App._driver`: writing to the terminal between frames (a keystroke's echo, OSC 9);

and `ptui bench ui` watches `App._display`, where a frame is written (`watch_frames`).

Each name is looked up once, when this module is imported (`SUPPORT`). Where one is
missing (a Textual ptui was not tested with), the optimisation that needs it is off
and the app does the plain thing: a switch draws as Textual draws (a frame of the
old picture, then the new one), an echo waits for the next frame, an OSC 9
notification is only the toast. pyproject pins Textual to the versions tested, and
tests/app/test_textual_internals.py fails as soon as an installed Textual lacks one
of these names. No other module of `tui` names them (that test greps for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.screen import Screen

if TYPE_CHECKING:
    from rich.console import RenderableType


class Support:
    """Which private names the installed Textual has (each attribute: one name).

    A plain class: generating a dataclass's methods cost 0.8 ms of start-up.
    """

    __slots__ = ("batch_count", "compositor_refresh", "display", "driver", "end_batch")

    def __init__(
        self,
        batch_count: bool,
        end_batch: bool,
        compositor_refresh: bool,
        driver: bool,
        display: bool,
    ) -> None:
        self.batch_count = batch_count
        """`App._batch_count` (an int set in `App.__init__`)."""
        self.end_batch = end_batch
        """`App._end_batch()`."""
        self.compositor_refresh = compositor_refresh
        """`Screen._compositor_refresh()`."""
        self.driver = driver
        """`App._driver` (the Driver, or None; set in `App.__init__`)."""
        self.display = display
        """`App._display(screen, renderable)`."""

    @classmethod
    def of(cls, app_class: type[Any], screen_class: type[Any]) -> Support:
        """Look each name up on these classes (Textual's `App` and `Screen`)."""
        return cls(
            batch_count=_set_in_init(app_class, "_batch_count"),
            end_batch=callable(getattr(app_class, "_end_batch", None)),
            compositor_refresh=callable(getattr(screen_class, "_compositor_refresh", None)),
            driver=_set_in_init(app_class, "_driver"),
            display=callable(getattr(app_class, "_display", None)),
        )

    @property
    def frame_holding(self) -> bool:
        """Whether a refresh inside a batch can be held and drawn when the batch ends.

        All three names or none: a refresh held with no batch end to draw it would
        leave the screen stale.
        """
        return self.batch_count and self.end_batch and self.compositor_refresh

    def missing(self) -> list[str]:
        """The names this Textual lacks, as `Class._name`."""
        return [name for field, name in PRIVATE_NAMES.items() if not getattr(self, field)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Support) and all(
            getattr(self, field) == getattr(other, field) for field in PRIVATE_NAMES
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        found = ", ".join(f"{field}={getattr(self, field)}" for field in PRIVATE_NAMES)
        return f"Support({found})"


PRIVATE_NAMES: dict[str, str] = {
    "batch_count": "App._batch_count",
    "end_batch": "App._end_batch",
    "compositor_refresh": "Screen._compositor_refresh",
    "driver": "App._driver",
    "display": "App._display",
}
"""Each `Support` field's private name."""


def _set_in_init(cls: type[Any], name: str) -> bool:
    """Whether an `__init__` in `cls`'s MRO names `name` (how `self.<name>` is made).

    `_batch_count` and `_driver` are instance attributes, invisible on the class;
    building an App at import to look would cost start-up time, and the code of
    `App.__init__` lists every attribute it assigns.
    """
    for klass in cls.__mro__:
        code = getattr(vars(klass).get("__init__"), "__code__", None)
        if code is not None and name in code.co_names:
            return True
    return False


SUPPORT = Support.of(App, Screen)
"""What the installed Textual has; read at each use, so a test can stand in another."""


def batch_depth(app: App[Any]) -> int | None:
    """How many `batch_update`s `app` is inside (no frame is drawn above 0); None
    when this Textual does not say."""
    return app._batch_count if SUPPORT.batch_count else None


def driver_write(app: App[Any], text: str) -> bool:
    """Write `text` to the terminal now, between frames; False when that cannot be
    done (no driver yet or any more, or this Textual keeps it elsewhere)."""
    if not SUPPORT.driver:
        return False
    driver = app._driver
    if driver is None:
        return False
    driver.write(text)
    return True


def can_hold_frames() -> bool:
    """Whether a refresh held back by a batch is drawn when the batch ends.

    Without it a batch that spans a refresh costs a picture: Textual renders it,
    drops it, and does not draw those regions again. So callers hold frames (by
    `batch_update`) only when this is true.
    """
    return SUPPORT.frame_holding


# The two classes below are mixins, listed before Textual's own class in a
# subclass's bases (`class MainScreen(FrameHoldingScreen, Screen[None])`): creating
# a Textual subclass costs about half a millisecond of start-up, a plain class
# nothing. The type checker sees them as what they extend.
if TYPE_CHECKING:
    _ScreenBase = Screen[Any]
    _AppBase = App[Any]
else:
    _ScreenBase = _AppBase = object


class FrameHoldingScreen(_ScreenBase):
    """A screen whose refresh asked for inside a batch is drawn when the batch ends.

    Textual renders a refresh that comes inside a batch (its own start-up, or frames
    held while a switch fetches the new tab's screen) and then `App._display` drops
    the picture: the render is wasted (18-28 ms before the first frame) and the
    regions it used up are not drawn again. This screen keeps the refresh for the
    end of the batch instead; `FrameHoldingApp` draws it then.
    """

    _frame_held = False

    @property
    def frame_held(self) -> bool:
        """A refresh is waiting for the batch to end."""
        return self._frame_held

    def _compositor_refresh(self) -> None:
        app = self.app
        if SUPPORT.frame_holding and app._batch_count and self is app.screen and not app.is_inline:
            self._frame_held = True
            return
        super()._compositor_refresh()

    def draw_held_frame(self) -> None:
        """Draw the refresh held back by a batch (called when the batch ends)."""
        if self._frame_held and not self.app._batch_count:
            self._frame_held = False
            self._compositor_refresh()


class FrameHoldingApp(_AppBase):
    """An app that draws what its top `FrameHoldingScreen` held, when a batch ends."""

    def _end_batch(self) -> None:
        super()._end_batch()
        if SUPPORT.frame_holding and not self._batch_count:
            stack = self.screen_stack
            if stack and isinstance(stack[-1], FrameHoldingScreen):
                stack[-1].draw_held_frame()


def watch_frames(on_frame: Callable[[App[Any]], None]) -> None:
    """Call `on_frame(app)` after every frame an app writes, outside a batch.

    For `ptui bench ui` only: it wraps `App._display` from outside, so the app
    carries no benchmark code. Raises RuntimeError where this Textual lacks the
    names, rather than measure nothing.
    """
    if not (SUPPORT.display and SUPPORT.batch_count):
        raise RuntimeError(
            "this Textual has no App._display or App._batch_count: "
            "the UI benchmark cannot see its frames"
        )
    display = App._display

    def displayed(self: App[Any], screen: Screen[Any], renderable: RenderableType | None) -> None:
        display(self, screen, renderable)
        if renderable is not None and not self._batch_count:
            on_frame(self)

    setattr(App, "_display", displayed)  # noqa: B010 - wrapping from outside
