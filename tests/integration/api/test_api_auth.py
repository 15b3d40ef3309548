"""Accounts and sessions through real HTTP: register, login, refresh rotation, logout, sessions,
password change, throttling, CSRF, and the one error shape."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.apiclient import PASSWORD, error_code, register, unique_name
from tests.support.live_server import LiveServer

NEW_PASSWORD = "a different passphrase 99"


def login(server: LiveServer, username: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        server.url + "/api/auth/login",
        json={"username": username, "password": password},
        timeout=10,
    )


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.get(
        server.url + "/api/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_register_sets_cookie_and_joins_general(api_server: LiveServer) -> None:
    name = unique_name("Reg")
    r = httpx.post(
        api_server.url + "/api/auth/register",
        json={"username": name, "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"user", "session_id", "token", "refresh_token", "expires_at"}
    assert body["user"]["username"] == name and body["user"]["display_name"] == name
    assert body["session_id"].startswith("s_") and len(body["token"]) >= 43
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"chatterbox_session={body['token']};")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # cookie_secure is off for plain-http test servers
    rooms = httpx.get(
        api_server.url + "/api/rooms",
        headers={"Authorization": f"Bearer {body['token']}"},
        timeout=10,
    ).json()
    assert [room["id"] for room in rooms] == ["r_general"]
    assert rooms[0]["kind"] == "public" and rooms[0]["role"] == "member"


def test_usernames_are_unique_without_regard_to_case(api_server: LiveServer) -> None:
    name = unique_name("Case")
    register(api_server.url, name)
    r = httpx.post(
        api_server.url + "/api/auth/register",
        json={"username": name.upper(), "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 409
    assert error_code(r) == "username_taken" and r.json()["error"]["field"] == "username"
    assert login(api_server, name.lower()).status_code == 200  # login is case-insensitive too


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": "password123"}, "password"),  # common: zxcvbn refuses it
        ({"password": "short"}, "password"),  # below 8 characters (schema)
        ({"username": "admin"}, "username"),  # reserved
        ({"username": "no spaces"}, "username"),
        ({"display_name": "   "}, "display_name"),
    ],
)
def test_register_refuses_bad_input_with_the_field(
    api_server: LiveServer, body: dict[str, str], field: str
) -> None:
    r = httpx.post(
        api_server.url + "/api/auth/register",
        json={"username": unique_name("weak"), "password": PASSWORD, **body},
        timeout=10,
    )
    assert r.status_code == 422, r.text
    error_code(r)
    assert r.json()["error"]["field"] == field


def test_server_owned_fields_cannot_be_set(api_server: LiveServer) -> None:
    r = httpx.post(
        api_server.url + "/api/auth/register",
        json={"username": unique_name(), "password": PASSWORD, "id": "u_chosen0000"},
        timeout=10,
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "id"
    alice = register(api_server.url)
    for method, path, body in [
        ("PATCH", "/api/users/me", {"display_name": "A", "username": "root"}),
        ("POST", "/api/rooms", {"kind": "public", "name": "x", "created_by": alice.id}),
        ("POST", "/api/rooms", {"kind": "public", "name": "x", "id": "r_mine"}),
        ("POST", "/api/rooms", {"kind": "dm", "name": "x"}),
        ("POST", "/api/rooms/r_general/members", {"username": "x" * 5, "role": "owner"}),
    ]:
        r = alice.request(method, path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert error_code(r) == "validation_error"


def test_failed_logins_are_generic(api_server: LiveServer) -> None:
    alice = register(api_server.url)
    wrong = login(api_server, alice.username, "not the password")
    unknown = login(api_server, unique_name("ghost"), "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == {
        "code": "invalid_credentials",
        "message": "invalid username or password",
        "field": None,
    }
    ok = login(api_server, alice.username)
    assert ok.status_code == 200
    assert ok.json()["session_id"] != alice.session_id  # a new session at each login
    assert ok.json()["token"] != alice.token


def test_cookie_authentication_and_csrf(api_server: LiveServer) -> None:
    alice = register(api_server.url)
    origin = {"Origin": api_server.url}
    with httpx.Client(base_url=api_server.url, timeout=10) as browser:
        r = browser.post("/api/auth/login", json={"username": alice.username, "password": PASSWORD})
        assert r.status_code == 200
        assert browser.get("/api/users/me").json()["id"] == alice.id  # cookie only
        room = {"kind": "public", "name": "csrf"}
        r = browser.post("/api/rooms", json=room)  # no Origin: refused with a cookie
        assert r.status_code == 403 and error_code(r) == "origin_not_allowed"
        r = browser.post("/api/rooms", json=room, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and error_code(r) == "origin_not_allowed"
        assert browser.post("/api/rooms", json=room, headers=origin).status_code == 201
        # An Authorization header is used alone: a bad one fails even with a good cookie.
        r = browser.get("/api/users/me", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = browser.get("/api/users/me", headers={"Authorization": "Basic eDp5"})
        assert r.status_code == 401
    # Login CSRF: a foreign page cannot log the browser into an account.
    r = httpx.post(
        api_server.url + "/api/auth/login",
        json={"username": alice.username, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    assert r.status_code == 403
    # A bearer client needs no Origin.
    assert alice.post("/api/rooms", json={"kind": "public", "name": "bearer"}).status_code == 201
    # Credentials in the query string are ignored.
    r = httpx.get(f"{api_server.url}/api/users/me?token={alice.token}", timeout=10)
    assert r.status_code == 401


def refresh(server: LiveServer, refresh_token: str) -> httpx.Response:
    return httpx.post(
        server.url + "/api/auth/refresh", json={"refresh_token": refresh_token}, timeout=10
    )


def test_refresh_rotates_and_reuse_revokes_the_family(api_server: LiveServer) -> None:
    alice = register(api_server.url)
    other = login(api_server, alice.username).json()  # another family: must survive
    first = refresh(api_server, alice.refresh_token)
    assert first.status_code == 200, first.text
    one = first.json()
    assert one["session_id"] != alice.session_id and one["refresh_token"] != alice.refresh_token
    assert "chatterbox_session=" in first.headers["set-cookie"]
    assert me(api_server, alice.token).status_code == 401  # the rotated session ended
    assert me(api_server, one["token"]).status_code == 200
    two = refresh(api_server, one["refresh_token"]).json()
    assert me(api_server, two["token"]).status_code == 200
    # Someone replays the first refresh token: the whole family dies.
    reused = refresh(api_server, alice.refresh_token)
    assert reused.status_code == 401 and error_code(reused) == "refresh_token_reused"
    assert me(api_server, two["token"]).status_code == 401
    r = refresh(api_server, two["refresh_token"])
    assert r.status_code == 401 and error_code(r) == "invalid_refresh_token"
    assert me(api_server, other["token"]).status_code == 200
    r = refresh(api_server, "not-a-token")
    assert r.status_code == 401 and error_code(r) == "invalid_refresh_token"


def test_logout_ends_the_session_and_clears_the_cookie(api_server: LiveServer) -> None:
    alice = register(api_server.url)
    r = alice.post("/api/auth/logout")
    assert r.status_code == 204
    assert 'chatterbox_session=""' in r.headers["set-cookie"]
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert me(api_server, alice.token).status_code == 401
    assert alice.post("/api/auth/logout").status_code == 401
    assert refresh(api_server, alice.refresh_token).status_code == 401


def test_list_and_end_sessions(api_server: LiveServer) -> None:
    alice = register(api_server.url)
    second = login(api_server, alice.username).json()
    third = login(api_server, alice.username).json()
    sessions = alice.get("/api/auth/sessions").json()
    assert {s["id"] for s in sessions} == {
        alice.session_id,
        second["session_id"],
        third["session_id"],
    }
    assert [s["id"] for s in sessions if s["current"]] == [alice.session_id]
    assert all(s["ip"] == "127.0.0.1" for s in sessions)
    assert alice.delete(f"/api/auth/sessions/{second['session_id']}").status_code == 204
    assert me(api_server, second["token"]).status_code == 401
    assert me(api_server, third["token"]).status_code == 200
    r = alice.delete(f"/api/auth/sessions/{second['session_id']}")
    assert r.status_code == 404 and error_code(r) == "session_not_found"
    bob = register(api_server.url)
    assert bob.delete(f"/api/auth/sessions/{third['session_id']}").status_code == 404
    assert me(api_server, third["token"]).status_code == 200
    assert len(alice.get("/api/auth/sessions").json()) == 2


def test_password_change_ends_other_sessions(api_server: LiveServer) -> None:
    alice = register(api_server.url)
    other = login(api_server, alice.username).json()
    r = alice.post(
        "/api/auth/password",
        json={"current_password": "wrong password", "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 403 and error_code(r) == "wrong_password"
    r = alice.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": "password1"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "new_password"
    r = alice.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert r.status_code == 200 and r.json() == {"sessions_ended": 1}
    assert me(api_server, other["token"]).status_code == 401
    assert me(api_server, alice.token).status_code == 200
    assert login(api_server, alice.username).status_code == 401
    assert login(api_server, alice.username, NEW_PASSWORD).status_code == 200


def test_unauthenticated_requests_get_401(api_server: LiveServer) -> None:
    for method, path in [
        ("GET", "/api/users/me"),
        ("GET", "/api/rooms"),
        ("GET", "/api/rooms/r_general/messages"),
        ("POST", "/api/dm/someone"),
        ("GET", "/api/auth/sessions"),
    ]:
        r = httpx.request(method, api_server.url + path, timeout=10)
        assert r.status_code == 401, path
        assert error_code(r) == "unauthenticated"


def test_login_throttling_per_account_and_per_address(live_server: LiveServer) -> None:
    victim = register(live_server.url)
    for _ in range(5):
        assert login(live_server, victim.username, "guess guess").status_code == 401
    locked = login(live_server, victim.username)  # even the right password
    assert locked.status_code == 429 and error_code(locked) == "rate_limited"
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
    # Other accounts still work from this address...
    bystander = register(live_server.url)
    assert login(live_server, bystander.username).status_code == 200
    # ...until the address has failed 20 times (5 so far), whichever names it tried.
    for n in range(15):
        assert login(live_server, f"nobody{n}", "guess guess").status_code == 401
    r = login(live_server, bystander.username)
    assert r.status_code == 429 and "retry-after" in r.headers
