"""Sizes, times and durations as the window shows them."""

from __future__ import annotations

from datetime import UTC, datetime


def human_size(size: int) -> str:
    """``1234567`` → ``"1.2 MB"``: decimal units, as Finder and Nautilus show them."""
    if size < 1000:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if value < 999.95 or unit == "PB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_time(moment: datetime) -> str:
    """A catalog timestamp (UTC, naive or aware) in local time, to the minute."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def human_duration(seconds: float) -> str:
    """``95`` → ``"2 min"``: rounded the way a "time left" is read, never "0 s"."""
    seconds = max(seconds, 1.0)
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
