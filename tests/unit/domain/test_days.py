"""Grouping by local calendar day, DST-safe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatterbox.domain.days import (
    DEFAULT_ZONE,
    DayGroup,
    UnknownTimeZone,
    group_by_day,
    local_date,
    resolve_zone,
)


def ms(text: str) -> int:
    """ms since the epoch of an ISO UTC timestamp like '2025-10-26T00:59:59.999'."""
    dt = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1000 + dt.microsecond // 1000


def dates(zone: str, *stamps: str) -> list[str]:
    tz = resolve_zone(zone)
    return [local_date(ms(s), tz) for s in stamps]


def test_utc_is_default_and_simple() -> None:
    assert DEFAULT_ZONE == "UTC"
    assert dates("UTC", "2026-11-27T23:59:59.999", "2026-11-28T00:00:00.000") == [
        "2026-11-27",
        "2026-11-28",
    ]


def test_paris_around_october_dst_change() -> None:
    # 2025-10-26: 03:00 CEST (UTC+2) becomes 02:00 CET (UTC+1) at 01:00 UTC.
    assert dates(
        "Europe/Paris",
        "2025-10-25T21:59:59.999",  # 23:59:59.999 CEST on the 25th
        "2025-10-25T22:00:00.000",  # 00:00 CEST on the 26th
        "2025-10-26T00:30:00.000",  # 02:30 CEST, first pass
        "2025-10-26T01:30:00.000",  # 02:30 CET, second pass (same wall time, same day)
        "2025-10-26T22:59:59.999",  # 23:59:59.999 CET on the 26th (a 25-hour day)
        "2025-10-26T23:00:00.000",  # 00:00 CET on the 27th
    ) == ["2025-10-25", "2025-10-26", "2025-10-26", "2025-10-26", "2025-10-26", "2025-10-27"]


def test_paris_march_change_23_hour_day() -> None:
    # 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    assert dates(
        "Europe/Paris",
        "2026-03-28T22:59:59.999",
        "2026-03-28T23:00:00.000",
        "2026-03-29T21:59:59.999",
        "2026-03-29T22:00:00.000",
    ) == ["2026-03-28", "2026-03-29", "2026-03-29", "2026-03-30"]


def test_los_angeles_november_change() -> None:
    # 2025-11-02: 02:00 PDT (UTC-7) becomes 01:00 PST (UTC-8) at 09:00 UTC.
    assert dates(
        "America/Los_Angeles",
        "2025-11-02T06:59:59.999",  # 23:59 PDT Nov 1
        "2025-11-02T07:00:00.000",  # 00:00 PDT Nov 2
        "2025-11-03T07:59:59.999",  # 23:59 PST Nov 2
        "2025-11-03T08:00:00.000",  # 00:00 PST Nov 3
    ) == ["2025-11-01", "2025-11-02", "2025-11-02", "2025-11-03"]


def test_kiritimati_plus_14() -> None:
    assert dates(
        "Pacific/Kiritimati",
        "2025-12-31T09:59:59.999",  # 23:59 on Dec 31
        "2025-12-31T10:00:00.000",  # already 2026 there
    ) == ["2025-12-31", "2026-01-01"]


def test_samoa_skipped_a_day() -> None:
    # Pacific/Apia moved from UTC-10 to UTC+14 after 2011-12-29: there was no 2011-12-30.
    groups = group_by_day(
        [(ms("2011-12-30T09:59:59.999"), "a"), (ms("2011-12-30T10:00:00.000"), "b")],
        "Pacific/Apia",
    )
    assert groups == [DayGroup("2011-12-29", ["a"]), DayGroup("2011-12-31", ["b"])]


def test_group_by_day() -> None:
    items = [
        (ms("2025-10-25T21:00:00"), 1),
        (ms("2025-10-25T21:59:59.999"), 2),
        (ms("2025-10-25T22:00:00"), 3),
        (ms("2025-10-26T22:59:59"), 4),
        (ms("2025-10-28T12:00:00"), 5),
    ]
    assert group_by_day(items, "Europe/Paris") == [
        DayGroup("2025-10-25", [1, 2]),
        DayGroup("2025-10-26", [3, 4]),
        DayGroup("2025-10-28", [5]),
    ]
    assert group_by_day(items, resolve_zone("UTC")) == [
        DayGroup("2025-10-25", [1, 2, 3]),
        DayGroup("2025-10-26", [4]),
        DayGroup("2025-10-28", [5]),
    ]
    assert group_by_day([], "UTC") == []


def test_clock_skew_never_makes_a_date_go_backwards() -> None:
    items = [(ms("2026-01-02T00:00:00.003"), "a"), (ms("2026-01-01T23:59:59.998"), "b")]
    assert group_by_day(items, "UTC") == [DayGroup("2026-01-02", ["a", "b"])]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Mars/Olympus_Mons",
        "europe/paris",
        "Europe/Paris ",
        "../../etc/passwd",
        "/etc/localtime",
        "localtime",
        "Factory",
        "posixrules",
        "x" * 300,
        "Europe/Paris\x00",
    ],
)
def test_unknown_zones_rejected(name: str) -> None:
    with pytest.raises(UnknownTimeZone, match="unknown time zone") as exc:
        resolve_zone(name)
    assert isinstance(exc.value, ValueError)
    assert exc.value.name == name
    with pytest.raises(UnknownTimeZone):
        group_by_day([(0, "x")], name)


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]
)
def test_known_zones(name: str) -> None:
    assert resolve_zone(name).key == name


@given(
    st.lists(st.integers(0, 4_102_444_800_000), max_size=50).map(sorted),
    st.sampled_from(["UTC", "Europe/Paris", "America/Los_Angeles", "Pacific/Kiritimati"]),
)
def test_grouping_properties(stamps: list[int], zone: str) -> None:
    groups = group_by_day([(t, i) for i, t in enumerate(stamps)], zone)
    flat = [i for g in groups for i in g.items]
    assert flat == list(range(len(stamps)))  # nothing lost, nothing reordered
    assert all(g.items for g in groups)  # no empty group (minItems: 1)
    ds = [g.date for g in groups]
    assert ds == sorted(set(ds))  # strictly increasing
    tz = resolve_zone(zone)
    for g in groups:
        for i in g.items:
            assert local_date(stamps[i], tz) == g.date
