"""Register, sign in and sign out in the browser, with errors shown next to the field concerned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.e2e.support import PASSWORD, ChatPage, register, unique
from tests.support.live_server import LiveServer


def test_register_login_logout_with_field_errors(
    chat: Callable[..., ChatPage], shared_server: LiveServer
) -> None:
    taken = register(shared_server, "taken")
    c = chat(shared_server, None, goto=False)
    # Chromium logs every 4xx answer (the signed-out session check, the refused registrations).
    c.allowed_errors += ["401 (Unauthorized)", "409 (Conflict)", "422 (Unprocessable Entity)"]
    page = c.page
    page.goto(shared_server.url + "/")
    expect(page.locator("#auth-screen")).to_be_visible()
    expect(page).to_have_title("Sign in · Chatterbox")
    page.get_by_role("button", name="Create an account").click()
    expect(page.locator("#auth-title")).to_have_text("Create your account")
    expect(page.get_by_label("Display name (optional)")).to_be_visible()

    username = page.get_by_label("Username", exact=True)
    password = page.get_by_label("Password", exact=True)
    submit = page.locator("#auth-submit")

    # Client-side checks: next to the field, the field marked invalid and focused.
    username.fill("x")
    password.fill("short")
    submit.click()
    expect(page.locator("#auth-username-error")).to_contain_text("3 to 32 letters")
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#auth-password-error")).to_have_text("Use at least 8 characters.")
    expect(username).to_be_focused()

    # The server's password policy (zxcvbn): long enough but guessable.
    name = unique("newbie")
    username.fill(name)
    password.fill(f"{name}2024")
    submit.click()
    expect(page.locator("#auth-password-error")).not_to_be_empty()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#auth-username-error")).to_be_empty()
    expect(username).not_to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()
    assert page.locator("#auth-form-error").inner_text() == ""

    # A taken username (the server's 409 names the field).
    username.fill(taken.username.upper())
    password.fill(PASSWORD)
    submit.click()
    expect(page.locator("#auth-username-error")).to_have_text("This username is taken.")
    expect(username).to_be_focused()

    # Success: the chat opens in #general, connected.
    username.fill(name)
    page.get_by_label("Display name (optional)").fill("Newbie Nora")
    submit.click()
    expect(page.locator("#chat-screen")).to_be_visible()
    expect(page.locator("#auth-screen")).to_be_hidden()
    expect(page.locator("#conn-pill")).to_have_attribute("data-state", "open")
    expect(page.locator("#me-name")).to_have_text("Newbie Nora")
    expect(page.locator("#room-title")).to_have_text("# general")
    expect(page).to_have_title("#general · Chatterbox")

    # Log out: back to the sign-in screen, and the session is gone (a reload stays signed out).
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#auth-screen")).to_be_visible()
    expect(page.locator("#chat-screen")).to_be_hidden()
    expect(page.locator("#auth-title")).to_have_text("Sign in to Chatterbox")
    assert not [k for k in c.context.cookies() if k["name"] == "chatterbox_session"]
    page.reload()
    expect(page.locator("#auth-screen")).to_be_visible()

    # Wrong password: next to the password field, not an alert.
    dialogs: list[Any] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    username.fill(name)
    password.fill("not the password at all")
    submit.click()
    expect(page.locator("#auth-password-error")).to_have_text("Wrong username or password.")

    # Sign in again.
    password.fill(PASSWORD)
    submit.click()
    expect(page.locator("#conn-pill")).to_have_attribute("data-state", "open")
    expect(page.locator("#me-name")).to_have_text("Newbie Nora")
    assert dialogs == []
    assert any(f["type"] == "hello" for f in c.frames.received_frames())
