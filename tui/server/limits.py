"""Usage limits: when an agent's limit resets, from the words its screen shows.

Agents say it in their own ways, all read here:

- Codex: "try again at 3:28 PM", "try again in 3 days 6 hours 57 minutes",
  "Try again Aug 18", "try again at Aug 8th, 2026 12:30 PM";
- Claude Code: "resets 3pm (Europe/Berlin)", "reset at 3pm (UTC)";
- anything ISO: "2026-12-07 15:00", "2026-12-07T15:00Z".

`reset_time` turns that text into a moment, in the named time zone when one is
given and valid, else the server's local time; a clock time already past today
means tomorrow. With `auto_continue` the server types the agent's continue text
once that moment has passed (`tui.server.session`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

GRACE: Final = dt.timedelta(seconds=30)
"""How long after the reset time ptui waits before typing `continue`: clocks differ."""

_MONTHS: Final = {
    name: i + 1
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_UNITS: Final = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(
    r"(\d+)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b", re.IGNORECASE
)
_IN = re.compile(r"\bin\s+\d", re.IGNORECASE)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|UTC)?")
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\b\.?|\b(\d{1,2}):(\d{2})\b", re.I)
_DATE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?"
    r"(?:,?\s+(\d{4}))?",
    re.IGNORECASE,
)
_ZONE = re.compile(r"\(([A-Za-z_]+(?:/[A-Za-z_+-]+)*)\)|\b(UTC|GMT)\b")


def _zone(text: str, default: dt.tzinfo) -> dt.tzinfo:
    match = _ZONE.search(text)
    if match is None:
        return default
    name = match.group(1) or "UTC"
    if name.upper() in ("UTC", "GMT"):
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def continue_time(text: str, now: dt.datetime) -> dt.datetime | None:
    """When to type `continue` after a limit shown as `text`: its reset time plus
    `GRACE` for a clock time (shown to the minute, and clocks differ), plus a tenth
    of the wait (at most GRACE) for a duration ("in 2 hours")."""
    when = reset_time(text, now)
    if when is None:
        return None
    if _IN.search(text):
        return when + min(GRACE, max(dt.timedelta(seconds=1), (when - now) / 10))
    return when + GRACE


def reset_time(text: str, now: dt.datetime) -> dt.datetime | None:
    """When a limit shown as `text` resets (None when the text says no time).

    `now` must be timezone-aware; the answer is too.
    """
    text = text.strip()
    if not text:
        return None
    if _IN.search(text):
        seconds = sum(int(n) * _UNITS[unit[0].lower()] for n, unit in _DURATION.findall(text))
        if seconds:
            return now + dt.timedelta(seconds=seconds)
    zone = _zone(text, now.tzinfo or dt.UTC)
    local_now = now.astimezone(zone)
    if iso := _ISO.search(text):
        year, month, day, hour, minute, second, utc = iso.groups()
        tz = dt.UTC if utc else zone
        try:
            return dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz
            )
        except ValueError:
            return None
    date = _DATE.search(text)
    clock = _CLOCK.search(text)
    if date is None and clock is None:
        return None
    hour = minute = 0
    if clock is not None:
        if clock.group(1) is not None:
            hour, minute = int(clock.group(1)) % 12, int(clock.group(2) or 0)
            if clock.group(3).lower() == "p":
                hour += 12
        else:
            hour, minute = int(clock.group(4)), int(clock.group(5))
        if hour > 23 or minute > 59:
            return None
    if date is not None:
        month = _MONTHS[date.group(1).lower()[:3]]
        day = int(date.group(2))
        year = int(date.group(3)) if date.group(3) else local_now.year
        try:
            when = dt.datetime(year, month, day, hour, minute, tzinfo=zone)
        except ValueError:
            return None
        if date.group(3) is None and when < local_now - dt.timedelta(days=1):
            when = when.replace(year=year + 1)  # "Jan 2" seen on Dec 30
        return when
    when = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if when <= local_now:
        when += dt.timedelta(days=1)  # a clock time already past means tomorrow
    return when
