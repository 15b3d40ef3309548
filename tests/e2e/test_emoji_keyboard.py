"""The emoji picker, used with the keyboard only: open, search, arrows, Enter inserts, Escape closes,
focus always back in the composer."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, register
from tests.support.live_server import LiveServer


def test_emoji_picker_from_the_keyboard_only(
    chat: Callable[..., ChatPage], shared_server: LiveServer
) -> None:
    alice = register(shared_server, "alice")
    bob = register(shared_server, "bob")
    room = make_room(shared_server, alice, bob)
    a = chat(shared_server, alice, room["id"])
    b = chat(shared_server, bob, room["id"])
    page = a.page
    kb = page.keyboard
    picker = page.locator("#emoji-picker")
    button = page.locator("#emoji-button")

    a.composer.focus()
    kb.type("Party time ")
    # Tab from the composer reaches the emoji button; Enter opens the picker with focus in its search.
    kb.press("Tab")
    expect(button).to_be_focused()
    kb.press("Enter")
    expect(picker).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    search = picker.get_by_role("searchbox", name="Search emoji")
    expect(search).to_be_focused()

    # Search, then into the grid with ArrowDown, move with the arrows; the active option is marked.
    kb.type("heart")
    options = picker.get_by_role("option")
    expect(options.first).to_be_visible()
    assert options.count() >= 3
    expect(picker.locator(".emoji-picker__group .emoji-picker__label")).to_have_text(
        ["Search results"]
    )
    kb.press("ArrowDown")
    grid = picker.get_by_role("listbox", name="Emoji")
    expect(grid).to_be_focused()
    kb.press("ArrowRight")
    kb.press("ArrowRight")
    kb.press("ArrowLeft")
    kb.press("ArrowRight")
    chosen = options.nth(2)
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(grid).to_have_attribute("aria-activedescendant", chosen.get_attribute("id") or "")
    char = chosen.inner_text()
    name = chosen.get_attribute("aria-label")
    assert name and "heart" in name

    # Enter inserts at the caret, closes the picker, and focus is back in the composer.
    kb.press("Enter")
    expect(picker).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(a.composer).to_be_focused()
    expect(a.composer).to_have_value(f"Party time {char}")

    # Open again, Escape closes without inserting; focus back in the composer.
    kb.press("Tab")
    kb.press("Enter")
    expect(search).to_be_focused()
    kb.type("tada")
    kb.press("Escape")
    expect(picker).to_be_hidden()
    expect(a.composer).to_be_focused()
    expect(a.composer).to_have_value(f"Party time {char}")

    # Enter in the search picks the first result directly; then the message goes out.
    kb.press("Tab")
    kb.press("Enter")
    kb.type("tada")
    kb.press("Enter")
    expect(a.composer).to_be_focused()
    expect(a.composer).to_have_value(f"Party time {char}🎉")
    kb.press("Enter")
    expect(b.message(f"Party time {char}🎉")).to_have_count(1)
    # The emoji are text (the colour emoji font renders them): no images involved.
    assert b.message(f"Party time {char}🎉").locator("img").count() == 0
