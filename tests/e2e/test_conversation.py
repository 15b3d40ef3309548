"""Two and three people talking in real browsers against a real server: sending, the composer's keys,
editing and deleting, typing indicators and read receipts.

One server for the module; every test makes its own accounts and its own private room.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, register, seed_messages
from tests.support.live_server import LiveServer

Chat = Callable[..., ChatPage]


def _sent(c: ChatPage, kind: str, **match: object) -> list[dict[str, object]]:
    return [
        f
        for f in c.frames.sent_frames()
        if f["type"] == kind and all(f.get(k) == v for k, v in match.items())
    ]


def _received(c: ChatPage, kind: str, **match: object) -> list[dict[str, object]]:
    return [
        f
        for f in c.frames.received_frames()
        if f["type"] == kind and all(f.get(k) == v for k, v in match.items())
    ]


def _bubble_left(c: ChatPage, text: str) -> float:
    """The left edge of the bubble of the one message whose body contains ``text``.

    Found and measured inside one script run: a message's node is replaced whenever its state changes
    (the ack, then "delivered", then "seen"), and a handle taken a moment earlier may by then be
    detached, which measures as 0.
    """
    left = c.page.evaluate(
        """text => {
            const found = [...document.querySelectorAll("#message-log article.msg")].filter(
                m => (m.querySelector(".msg__body")?.textContent ?? "").includes(text));
            if (found.length !== 1) return null;
            return found[0].querySelector(".msg__bubble").getBoundingClientRect().left;
        }""",
        text,
    )
    assert isinstance(left, (int, float)), f"expected one message containing {text!r}"
    return float(left)


def test_send_and_receive_enter_sends_shift_enter_newline(
    chat: Chat, shared_server: LiveServer
) -> None:
    alice = register(shared_server, "alice", display_name="Alice Martin")
    bob = register(shared_server, "bob")
    room = make_room(shared_server, alice, bob)
    a = chat(shared_server, alice, room["id"])
    b = chat(shared_server, bob, room["id"])
    expect(a.page.locator("#room-title")).to_have_text(room["name"])
    expect(b.page.locator("#sidebar .room-link--active")).to_contain_text(room["name"])

    # Shift+Enter inserts a newline and sends nothing; Enter sends.
    a.composer.click()
    a.page.keyboard.type("first line")
    a.page.keyboard.press("Shift+Enter")
    a.page.keyboard.type("second line")
    expect(a.composer).to_have_value("first line\nsecond line")
    assert not _sent(a, "message.send")
    a.page.keyboard.press("Enter")
    expect(a.composer).to_have_value("")

    mine = a.message("first line")
    expect(mine).to_have_count(1)
    expect(mine).to_have_class("msg msg--own")
    expect(mine.locator(".msg__body")).to_have_text("first line\nsecond line")
    theirs = b.message("first line")
    expect(theirs).to_have_count(1)
    expect(theirs).to_have_class("msg msg--other")
    expect(theirs.locator(".msg__author")).to_have_text("Alice Martin")
    expect(theirs.locator(".avatar")).to_have_text("AM")
    expect(theirs.locator(".msg__body")).to_have_text("first line\nsecond line")
    # Own messages are on the right, others' on the left.
    expect(mine.locator(".receipt")).to_be_attached()
    assert _bubble_left(a, "first line") > _bubble_left(b, "first line") + 200

    # The reply goes the other way; the send button works too; an empty composer sends nothing.
    b.composer.fill("hi Alice 👋 https://example.com/path")
    b.page.get_by_role("button", name="Send").click()
    reply = a.message("hi Alice")
    expect(reply).to_have_count(1)
    link = reply.get_by_role("link", name="https://example.com/path")
    expect(link).to_have_attribute("href", "https://example.com/path")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    b.composer.press("Enter")
    expect(b.messages).to_have_count(2)

    sends = _sent(a, "message.send")
    assert [f["body"] for f in sends] == ["first line\nsecond line"]
    assert len(_sent(b, "message.send")) == 1
    created = _received(b, "message.created")
    assert [f["message"]["body"] for f in created] == [  # type: ignore[index]
        "first line\nsecond line",
        "hi Alice 👋 https://example.com/path",
    ]
    assert (
        a.bodies()
        == b.bodies()
        == ["first line\nsecond line", "hi Alice 👋 https://example.com/path"]
    )


def test_edit_with_up_arrow_and_delete_with_confirmation(
    chat: Chat, shared_server: LiveServer
) -> None:
    alice = register(shared_server, "alice")
    bob = register(shared_server, "bob")
    room = make_room(shared_server, alice, bob)
    a = chat(shared_server, alice, room["id"])
    b = chat(shared_server, bob, room["id"])

    a.send("the original text")
    b.send("a reply by bob")
    expect(a.message("a reply by bob")).to_have_count(1)

    # Up in the empty composer edits the last own message; Escape cancels and changes nothing.
    a.composer.focus()
    a.composer.press("ArrowUp")
    expect(a.page.locator("#composer-edit")).to_be_visible()
    expect(a.composer).to_have_value("the original text")
    a.composer.press("Escape")
    expect(a.page.locator("#composer-edit")).to_be_hidden()
    expect(a.composer).to_have_value("")
    assert not _sent(a, "message.edit")

    # Up again, change it, Enter saves: "(edited)" on both sides.
    a.composer.press("ArrowUp")
    expect(a.composer).to_have_value("the original text")
    a.composer.fill("the edited text")
    a.composer.press("Enter")
    expect(a.page.locator("#composer-edit")).to_be_hidden()
    for c in (a, b):
        edited = c.message("the edited text")
        expect(edited).to_have_count(1)
        expect(edited.locator(".msg__edited")).to_contain_text("(edited)")
        expect(edited.locator(".msg__edited")).to_have_attribute(
            "aria-label", re.compile(r"^Edited \S")
        )
        expect(c.message("the original text")).to_have_count(0)
    assert len(_sent(a, "message.edit")) == 1

    # Delete asks first; Cancel keeps the message.
    target = a.message("the edited text")
    target.hover()
    target.get_by_role("button", name="Delete message").click()
    dialog = a.page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Delete message?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(target).to_have_count(1)
    assert not _sent(a, "message.delete")

    target.hover()
    target.get_by_role("button", name="Delete message").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    for c in (a, b):
        expect(c.message("the edited text")).to_have_count(0)
        deleted = c.page.locator("#message-log article.msg--deleted")
        expect(deleted).to_have_count(1)
        expect(deleted.locator(".msg__body")).to_have_text("This message was deleted")
        expect(deleted.locator(".msg__edited")).to_have_count(0)
        expect(c.message("a reply by bob")).to_have_count(1)
    expect(a.page.locator("#message-log article.msg--deleted .msg__actions")).to_have_count(0)
    assert len(_sent(a, "message.delete")) == 1
    # Up now skips the deleted message: nothing of Alice's is left to edit.
    a.composer.focus()
    a.composer.press("ArrowUp")
    expect(a.page.locator("#composer-edit")).to_be_hidden()


def test_typing_indicator_appears_and_disappears(chat: Chat, shared_server: LiveServer) -> None:
    alice = register(shared_server, "alice")
    bob = register(shared_server, "bob")
    carol = register(shared_server, "carol")
    room = make_room(shared_server, alice, bob, carol)
    a = chat(shared_server, alice, room["id"])
    b = chat(shared_server, bob, room["id"])
    c = chat(shared_server, carol, room["id"])
    line = b.page.locator("#typing-line")
    expect(line).to_have_text("")

    # Alice types: Bob (and Carol) see it; Alice does not see herself.
    a.composer.click()
    a.page.keyboard.type("hello the")
    expect(line).to_have_text(f"{alice.username} is typing…")
    expect(c.page.locator("#typing-line")).to_have_text(f"{alice.username} is typing…")
    expect(a.page.locator("#typing-line")).to_have_text("")

    # Two typists.
    c.composer.click()
    c.page.keyboard.type("me too")
    expect(line).to_have_text(f"{alice.username} and {carol.username} are typing…")

    # Clearing the composer stops at once (well before the 6 s expiry).
    c.composer.fill("")
    expect(line).to_have_text(f"{alice.username} is typing…", timeout=3000)

    # Sending stops too.
    a.page.keyboard.type("re")
    a.page.keyboard.press("Enter")
    expect(line).to_have_text("", timeout=3000)
    expect(b.message("hello there")).to_have_count(1)

    # The typer's tab closes while typing: the server clears the indicator on disconnect.
    a.composer.click()
    a.page.keyboard.type("one more thing")
    expect(line).to_have_text(f"{alice.username} is typing…")
    started = time.monotonic()
    a.close()
    expect(line).to_have_text("", timeout=4000)
    assert time.monotonic() - started < 5.5  # not the 6 s expiry: the disconnect cleared it
    stops = [
        f
        for f in _received(b, "typing", state="stop")
        if f["user"]["id"] == alice.id  # type: ignore[index]
    ]
    assert stops, "the server sent no typing stop for the closed tab"
    assert [f["state"] for f in _sent(c, "typing")] == ["start", "stop"]  # throttled: one start
    # Alice never sent "stop": sending and closing the tab cleared it on the server.
    assert {f["state"] for f in _sent(a, "typing")} == {"start"}


def test_receipts_delivered_then_seen_only_when_scrolled_into_view(
    chat: Chat, shared_server: LiveServer
) -> None:
    alice = register(shared_server, "alice")
    bob = register(shared_server, "bob")
    room = make_room(shared_server, alice, bob)
    start = datetime.now(UTC) - timedelta(minutes=90)
    seed_messages(
        shared_server,
        room["id"],
        [
            (
                alice.id if i % 3 == 0 else bob.id,
                f"earlier message {i}",
                int((start + timedelta(minutes=i)).timestamp() * 1000),
            )
            for i in range(40)
        ],
    )
    a = chat(shared_server, alice, room["id"])
    b = chat(shared_server, bob, room["id"])
    expect(b.message("earlier message 39")).to_be_in_viewport()

    # Bob scrolls up to the start of the conversation: Alice's next message arrives off-screen.
    b.page.locator("#timeline").evaluate("el => { el.scrollTop = 0; }")
    expect(b.message("earlier message 0")).to_be_in_viewport()
    expect(b.page.locator("#timeline-top")).to_have_text(
        "This is the beginning of the conversation."
    )

    a.send("can you see this?")
    mine = a.message("can you see this?")
    client_msg_id = _sent(a, "message.send")[-1]["client_msg_id"]
    incoming = b.message("can you see this?")
    expect(incoming).to_have_count(1)
    expect(incoming).not_to_be_in_viewport()
    expect(b.page.locator("#jump-latest")).to_be_visible()
    expect(b.page.locator("#jump-text")).to_have_text("1 new message")

    # Delivered (empty circle) — Bob's device has it, but it is not on his screen.
    expect(mine.locator(".receipt")).to_have_class("receipt receipt--delivered")
    expect(mine.locator(".receipt")).to_have_attribute("aria-label", "Delivered")
    created = [
        f["message"]
        for f in _received(b, "message.created")
        if f["message"]["client_msg_id"] == client_msg_id  # type: ignore[index]
    ]
    assert len(created) == 1
    new_id = created[0]["id"]  # type: ignore[index]
    delivered = [f for f in _sent(b, "receipt", state="delivered") if f["message_id"] == new_id]
    assert len(delivered) == 1
    # Give a wrong "seen" the time to show up (it would be sent within ~200 ms of the arrival).
    b.page.wait_for_timeout(600)
    assert not [f for f in _sent(b, "receipt", state="seen") if f["message_id"] == new_id]
    expect(mine.locator(".receipt")).to_have_class("receipt receipt--delivered")

    # Bob's page is visible and focused; he scrolls the message into view: filled circle for Alice.
    b.page.bring_to_front()
    assert b.page.evaluate("document.visibilityState === 'visible' && document.hasFocus()")
    b.page.get_by_role("button", name="1 new message").click()
    expect(incoming).to_be_in_viewport()
    expect(mine.locator(".receipt")).to_have_class("receipt receipt--seen")
    expect(mine.locator(".receipt")).to_have_attribute(
        "aria-label", f"Seen by everyone: {bob.name}"
    )
    seen = [f for f in _sent(b, "receipt", state="seen") if f["message_id"] == new_id]
    assert len(seen) == 1
    # Older own messages are covered by the newer marker: every receipt circle of Alice is filled.
    expect(a.page.locator("#message-log .msg--own .receipt--delivered")).to_have_count(0)


def test_a_delivered_receipt_lost_with_the_connection_is_sent_again(
    chat: Chat, shared_server: LiveServer
) -> None:
    """Bob's ``delivered`` receipt and his connection are lost together: once he is back, his
    client sends it again (it used to stay marked in flight, and Alice's message stayed "Sent")."""
    alice = register(shared_server, "alice")
    bob = register(shared_server, "bob")
    room = make_room(shared_server, alice, bob)
    lost: list[str] = []
    receipts: list[dict[str, Any]] = []  # every receipt Bob's page sent, over both connections

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, str) and '"type":"receipt"' in message:
                receipts.append(orjson.loads(message))
            if not lost and isinstance(message, str) and '"state":"delivered"' in message:
                lost.append(message)  # never reaches the server; the connection drops with it
                ws.close(code=4000, reason="network lost")
                server.close()
                return
            server.send(message)

        ws.on_message(from_page)

    a = chat(shared_server, alice, room["id"])
    b = chat(shared_server, bob, goto=False)
    b.page.route_web_socket(re.compile(r"/ws"), route)
    # Bob's window is in the background: his client sends "delivered" but never "seen".
    b.page.add_init_script("document.hasFocus = () => false;")
    b.goto(room["id"])
    assert not b.page.evaluate("document.hasFocus()")

    a.send("did this reach you?")
    mine = a.message("did this reach you?")
    expect(b.message("did this reach you?")).to_have_count(1)
    expect(mine.locator(".receipt")).to_have_class("receipt receipt--delivered", timeout=15_000)
    assert len(lost) == 1
    message_id = orjson.loads(lost[0])["message_id"]
    delivered = [f for f in receipts if f["message_id"] == message_id]
    assert [f["state"] for f in delivered] == ["delivered", "delivered"]  # lost, then sent again
