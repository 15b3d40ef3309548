"""History in the browser: day separators ("Today", "Yesterday", dates) in the browser's time zone, and
older pages loaded when scrolling up with the reading position kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, register, seed_messages
from tests.support.live_server import LiveServer


def _zone_at_noon(now: datetime) -> tuple[str, timezone]:
    """A fixed-offset IANA zone where it is around noon now, so "today" has room on both sides."""
    offset = max(-12, min(14, 12 - now.hour))
    # POSIX-style names: Etc/GMT-5 is UTC+5.
    name = "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    return name, timezone(timedelta(hours=offset))


def _label(day: datetime, today: datetime) -> str:
    if day.year == today.year:
        return f"{day:%A}, {day:%B} {day.day}"
    return f"{day:%B} {day.day}, {day.year}"


def test_day_separators_and_older_pages_keep_the_scroll_position(
    chat: Callable[..., ChatPage], shared_server: LiveServer
) -> None:
    alice = register(shared_server, "alice")
    bob = register(shared_server, "bob")
    room = make_room(shared_server, alice, bob, name="history room")
    now = datetime.now(UTC)
    zone_name, zone = _zone_at_noon(now)
    local_now = now.astimezone(zone)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    older = midnight - timedelta(days=4) + timedelta(hours=9)
    yesterday = midnight - timedelta(days=1) + timedelta(hours=9)
    today = midnight + timedelta(hours=1)
    assert today < local_now - timedelta(minutes=40)

    def ms(t: datetime) -> int:
        return int(t.timestamp() * 1000)

    items = [
        *((alice.id, f"older {i}", ms(older + timedelta(minutes=i))) for i in range(30)),
        *((bob.id, f"yesterday {i}", ms(yesterday + timedelta(minutes=i))) for i in range(30)),
        *(
            (alice.id if i % 2 else bob.id, f"today {i}", ms(today + timedelta(minutes=i)))
            for i in range(25)
        ),
    ]
    seed_messages(shared_server, room["id"], items)

    b = chat(shared_server, bob, room["id"], timezone_id=zone_name)
    page = b.page
    resolved = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert resolved in (zone_name, "UTC")
    expect(b.message("today 24")).to_be_in_viewport()
    # The newest page: 50 messages, i.e. 25 of yesterday and 25 of today.
    expect(b.messages).to_have_count(50)
    separators = page.locator("#message-log .day-sep")
    expect(separators).to_have_text(["Yesterday", "Today"])
    expect(b.message("yesterday 4")).to_have_count(0)
    expect(b.message("yesterday 5")).to_have_count(1)
    assert b.frames.urls and f"tz={quote(resolved, safe='')}" in b.frames.urls[0]

    # Scroll to the top: the older page is merged above and what was on screen stays in place.
    before = page.evaluate(
        """() => {
            const scroller = document.getElementById('timeline');
            scroller.scrollTop = 0;
            // The second message: the first one loses its author line when its predecessors arrive.
            const second = document.querySelectorAll('#message-log article.msg')[1];
            return {key: second.dataset.key, top: second.getBoundingClientRect().top};
        }"""
    )
    expect(b.messages).to_have_count(85)
    expect(separators).to_have_text([_label(older, local_now), "Yesterday", "Today"])
    after = page.evaluate(
        "key => document.querySelector(`#message-log [data-key='${key}']`).getBoundingClientRect().top",
        before["key"],
    )
    assert abs(after - before["top"]) <= 2, (before, after)
    expect(b.message("yesterday 5")).to_be_in_viewport()
    expect(b.message("older 29")).not_to_be_in_viewport()
    expect(page.locator("#timeline-top")).to_have_text("This is the beginning of the conversation.")
    assert b.bodies() == [body for _, body, _ in items]
    histories = [f for f in b.frames.sent_frames() if f["type"] == "history"]
    assert any("before" in f for f in histories), histories
