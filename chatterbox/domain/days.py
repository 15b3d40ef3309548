"""Grouping messages by calendar day in the client's IANA time zone.

The protocol's ``DayGroup`` is one local date (``YYYY-MM-DD``) and its messages, oldest first.
Dates are computed with :mod:`zoneinfo` (from the ``tzdata`` package when the system has no zone
database), so DST changes, +14 zones and skipped days (Samoa, 2011-12-30) come out right.

Decisions:

- :func:`resolve_zone` accepts only names the zone database lists (``zoneinfo.available_timezones``,
  cached), at most 64 characters, minus the host-specific ``localtime``/``posixrules`` and the
  placeholder ``Factory``; anything else — including paths such as ``../../etc/passwd`` — raises :class:`UnknownTimeZone` (a ``ValueError``) naming the input.
- Input is in message order (``seq``). ``created_at`` comes from the committing server process, so
  two processes' clocks may disagree by a few ms and a later message can carry an earlier
  timestamp. :func:`group_by_day` never reorders messages and never lets a date go backwards: an
  item whose local date is earlier than the current group's joins the current group. Dates in the
  result are therefore strictly increasing and unique, as clients expect.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final, Generic, TypeVar
from zoneinfo import ZoneInfo, available_timezones

__all__ = [
    "DEFAULT_ZONE",
    "DayGroup",
    "UnknownTimeZone",
    "group_by_day",
    "local_date",
    "resolve_zone",
]

T = TypeVar("T")

DEFAULT_ZONE: Final = "UTC"
"""The zone used when a client declares none."""

_MAX_ZONE_LEN: Final = 64


class UnknownTimeZone(ValueError):
    """The time zone name is not a known IANA zone."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown time zone {name[:_MAX_ZONE_LEN]!r}: use an IANA name such as 'Europe/Paris'"
        )
        self.name = name
        """The rejected name."""


@dataclass(slots=True)
class DayGroup(Generic[T]):
    """The items of one local date, oldest first."""

    date: str
    """The local date, ``YYYY-MM-DD``."""
    items: list[T] = field(default_factory=list)
    """The items, in input order."""


_NOT_ZONES: Final = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def resolve_zone(name: str) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` for an IANA ``name``; raises :class:`UnknownTimeZone`."""
    if not name or len(name) > _MAX_ZONE_LEN or name not in _known_zones():
        raise UnknownTimeZone(name)
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise UnknownTimeZone(name) from exc


def local_date(created_at_ms: int, zone: ZoneInfo) -> str:
    """The ``YYYY-MM-DD`` date in ``zone`` of an instant given in ms since the epoch."""
    seconds, millis = divmod(created_at_ms, 1000)
    instant = datetime.fromtimestamp(seconds, tz=UTC) + timedelta(milliseconds=millis)
    return instant.astimezone(zone).date().isoformat()


def group_by_day(items: Iterable[tuple[int, T]], zone: ZoneInfo | str) -> list[DayGroup[T]]:
    """Group ``(created_at_ms, item)`` pairs, oldest first, into local days of ``zone``."""
    tz = resolve_zone(zone) if isinstance(zone, str) else zone
    groups: list[DayGroup[T]] = []
    for created_at_ms, item in items:
        date = local_date(created_at_ms, tz)
        if groups and date <= groups[-1].date:
            groups[-1].items.append(item)
        else:
            groups.append(DayGroup(date, [item]))
    return groups
