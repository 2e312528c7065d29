"""Themes from TOML files: the bundled `themes/` and the user's `<config dir>/themes`.

A theme file holds Textual `Theme` fields (`name`, `dark`, `primary`, ...) and a
`[variables]` table for ptui's own colours (`session-busy`, `diff-added`, ...).
Every colour is checked here, so a bad file becomes one warning line naming the
file and is skipped; it can never break the app when it is picked later.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tui import paths
from tui.errors import PtuiError

PTUI_VARIABLES: dict[str, str] = {
    "session-busy": "#5fafff",
    "session-waiting": "#ffd75f",
    "session-idle": "#8a8a8a",
    "session-exited": "#ff5f5f",
    "session-stopped": "#6c6c6c",
    "diff-added": "#1f3d1f",
    "diff-removed": "#4a1f1f",
}
"""ptui's theme variables with the dark theme's values: the fallback for any theme
that leaves one out (Textual's own themes, a user theme with only a few colours)."""

DEFAULT_THEME = "ptui-dark"

_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_OTHER_FIELDS = {"name": str, "dark": bool, "luminosity_spread": float, "text_alpha": float}


class ThemeError(PtuiError):
    """A theme file is unusable; the message is one line naming the file."""


def _colour(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key} must be a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path}: {key} = {value!r} is not a colour") from None
    return value


def load_theme_file(path: Path) -> Theme:
    """Read one theme file; a ThemeError says what is wrong with it."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: cannot read theme: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: invalid TOML: {' '.join(str(exc).split())}") from None
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _COLOUR_FIELDS:
            fields[key] = _colour(path, key, value)
        elif key in _OTHER_FIELDS:
            kind = _OTHER_FIELDS[key]
            ok = isinstance(value, kind) or (kind is float and isinstance(value, int))
            if not ok or isinstance(value, bool) != (kind is bool):
                raise ThemeError(f"{path}: {key} must be a {kind.__name__}, got {value!r}")
            fields[key] = value
        elif key == "variables":
            if not isinstance(value, dict):
                raise ThemeError(f"{path}: [variables] must be a table")
            fields[key] = {k: _colour(path, f"variables.{k}", v) for k, v in value.items()}
        else:
            raise ThemeError(f"{path}: unknown key {key!r}")
    if not isinstance(fields.get("name"), str) or not fields["name"]:
        raise ThemeError(f"{path}: a theme needs a name")
    if "primary" not in fields:
        raise ThemeError(f"{path}: a theme needs a primary colour")
    fields["variables"] = {**PTUI_VARIABLES, **fields.get("variables", {})}
    return Theme(**fields)


def theme_files(directory: Path) -> list[Path]:
    """The `*.toml` files of a themes directory, sorted; none if it does not exist."""
    try:
        return sorted(p for p in directory.glob("*.toml") if p.is_file())
    except OSError:
        return []


def load_themes() -> tuple[list[Theme], list[str]]:
    """Bundled then user themes (a user theme replaces a bundled one of the same name),
    plus one warning line per file that could not be used."""
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    try:
        bundled = theme_files(paths.bundled_themes_dir())
    except PtuiError as exc:
        bundled, warnings = [], [str(exc)]
    for path in [*bundled, *theme_files(paths.user_themes_dir())]:
        try:
            theme = load_theme_file(path)
        except ThemeError as exc:
            warnings.append(str(exc))
            continue
        themes[theme.name] = theme
    return list(themes.values()), warnings
