"""Rooms, members, roles and DMs through real HTTP, including every permission refusal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.apiclient import Account, error_code, register
from tests.support.live_server import LiveServer


@pytest.fixture
def trio(api_server: LiveServer) -> tuple[Account, Account, Account]:
    """Three fresh users: owner, admin-to-be, member-to-be."""
    return (
        register(api_server.url),
        register(api_server.url),
        register(api_server.url),
    )


def make_room(owner: Account, kind: str = "private", **extra: Any) -> dict[str, Any]:
    r = owner.post("/api/rooms", json={"kind": kind, "name": f"{kind} room", **extra})
    assert r.status_code == 201, r.text
    room: dict[str, Any] = r.json()
    return room


def invite(actor: Account, room_id: str, who: Account) -> Any:
    return actor.post(f"/api/rooms/{room_id}/members", json={"username": who.username})


def roles(actor: Account, room_id: str) -> dict[str, str]:
    r = actor.get(f"/api/rooms/{room_id}/members")
    assert r.status_code == 200, r.text
    return {m["user"]["username"]: m["role"] for m in r.json()}


def test_create_public_room_join_and_leave(
    trio: tuple[Account, Account, Account],
) -> None:
    owner, bob, _ = trio
    room = make_room(owner, "public", topic="  hello  ")
    assert room["role"] == "owner" and room["kind"] == "public" and room["topic"] == "hello"
    assert room["last_seq"] == 1 and room["unread_count"] == 0 and room["dm_user"] is None
    listed = {r["id"]: r for r in bob.get("/api/rooms/public").json()}
    assert listed[room["id"]]["member_count"] == 1
    assert listed[room["id"]]["joinable"] and not listed[room["id"]]["is_member"]
    # Not a member yet: a public room is visible but not readable (403, not 404).
    r = bob.get(f"/api/rooms/{room['id']}")
    assert r.status_code == 403 and error_code(r) == "not_member"
    r = bob.get(f"/api/rooms/{room['id']}/messages")
    assert r.status_code == 403 and error_code(r) == "not_member"
    joined = bob.post(f"/api/rooms/{room['id']}/join")
    assert joined.status_code == 200 and joined.json()["role"] == "member"
    assert joined.json()["last_seq"] == 2
    r = bob.post(f"/api/rooms/{room['id']}/join")
    assert r.status_code == 409 and error_code(r) == "already_member"
    assert room["id"] in {r["id"] for r in bob.get("/api/rooms").json()}
    assert roles(owner, room["id"]) == {owner.username: "owner", bob.username: "member"}
    assert bob.post(f"/api/rooms/{room['id']}/leave").status_code == 204
    assert room["id"] not in {r["id"] for r in bob.get("/api/rooms").json()}
    r = bob.post(f"/api/rooms/{room['id']}/leave")
    assert r.status_code == 403 and error_code(r) == "not_member"


def test_private_room_is_invisible_to_non_members(
    trio: tuple[Account, Account, Account],
) -> None:
    owner, bob, carol = trio
    room = make_room(owner, "private")
    assert room["id"] not in {r["id"] for r in bob.get("/api/rooms/public").json()}
    for path in ("", "/members", "/messages", "/leave"):
        method = "POST" if path == "/leave" else "GET"
        r = bob.request(method, f"/api/rooms/{room['id']}{path}")
        assert r.status_code == 404, path
        assert error_code(r) == "room_not_found"
    r = bob.post(f"/api/rooms/{room['id']}/join")
    assert r.status_code == 403 and error_code(r) == "invite_required"
    r = bob.post(f"/api/rooms/{room['id']}/members", json={"username": carol.username})
    assert r.status_code == 404
    # Invited: now a member who can read.
    added = invite(owner, room["id"], bob)
    assert added.status_code == 201 and added.json()["role"] == "member"
    assert added.json()["user"]["id"] == bob.id
    assert bob.get(f"/api/rooms/{room['id']}").json()["role"] == "member"
    assert bob.get(f"/api/rooms/{room['id']}/messages").status_code == 200
    # Removed: invisible again (the removed member reads nothing more, by any path).
    assert owner.delete(f"/api/rooms/{room['id']}/members/{bob.id}").status_code == 204
    assert bob.get(f"/api/rooms/{room['id']}/messages").status_code == 404
    assert bob.get(f"/api/rooms/{room['id']}").status_code == 404
    assert room["id"] not in {r["id"] for r in bob.get("/api/rooms").json()}
    assert bob.get("/api/rooms/r_nosuchroom/messages").status_code == 404


def test_roles_and_every_refusal(trio: tuple[Account, Account, Account]) -> None:
    owner, admin, member = trio
    room = make_room(owner, "private")["id"]
    assert invite(owner, room, admin).status_code == 201
    assert invite(owner, room, member).status_code == 201
    r = invite(owner, room, member)
    assert r.status_code == 409 and error_code(r) == "already_member"
    # Only owners change roles, never their own.
    r = member.patch(f"/api/rooms/{room}/members/{admin.id}", json={"role": "admin"})
    assert r.status_code == 403 and error_code(r) == "requires_owner"
    promoted = owner.patch(f"/api/rooms/{room}/members/{admin.id}", json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    r = admin.patch(f"/api/rooms/{room}/members/{member.id}", json={"role": "admin"})
    assert r.status_code == 403 and error_code(r) == "requires_owner"
    r = owner.patch(f"/api/rooms/{room}/members/{owner.id}", json={"role": "member"})
    assert r.status_code == 403 and error_code(r) == "target_is_self"
    r = owner.patch(f"/api/rooms/{room}/members/u_nosuchuser", json={"role": "admin"})
    assert r.status_code == 404 and error_code(r) == "member_not_found"
    r = owner.patch(f"/api/rooms/{room}/members/{admin.id}", json={"role": "god"})
    assert r.status_code == 422
    # Members neither invite nor remove.
    outsider = register(owner.base_url)
    r = invite(member, room, outsider)
    assert r.status_code == 403 and error_code(r) == "requires_admin"
    r = member.delete(f"/api/rooms/{room}/members/{admin.id}")
    assert r.status_code == 403 and error_code(r) == "requires_admin"
    # Admins invite and remove plain members only.
    assert invite(admin, room, outsider).status_code == 201
    assert admin.delete(f"/api/rooms/{room}/members/{outsider.id}").status_code == 204
    r = admin.delete(f"/api/rooms/{room}/members/{owner.id}")
    assert r.status_code == 403 and error_code(r) == "target_outranks"
    r = admin.delete(f"/api/rooms/{room}/members/{outsider.id}")
    assert r.status_code == 404 and error_code(r) == "member_not_found"
    # Nobody removes themselves (that is leave); the last owner cannot leave while others stay.
    r = owner.delete(f"/api/rooms/{room}/members/{owner.id}")
    assert r.status_code == 403 and error_code(r) == "target_is_self"
    r = owner.post(f"/api/rooms/{room}/leave")
    assert r.status_code == 403 and error_code(r) == "last_owner"
    # Hand over, then leave; the new owner removes the old admin.
    assert (
        owner.patch(f"/api/rooms/{room}/members/{admin.id}", json={"role": "owner"}).status_code
        == 200
    )
    assert owner.post(f"/api/rooms/{room}/leave").status_code == 204
    assert roles(admin, room) == {admin.username: "owner", member.username: "member"}
    assert admin.delete(f"/api/rooms/{room}/members/{member.id}").status_code == 204
    assert roles(admin, room) == {admin.username: "owner"}


def test_direct_messages_are_unique_per_pair(trio: tuple[Account, Account, Account]) -> None:
    alice, bob, carol = trio
    first = alice.post(f"/api/dm/{bob.username}")
    assert first.status_code == 201, first.text
    dm = first.json()
    assert dm["kind"] == "dm" and dm["role"] == "member"
    assert dm["dm_user"]["id"] == bob.id and dm["name"] == bob.user["display_name"]
    again = alice.post(f"/api/dm/{bob.username}")
    assert again.status_code == 200 and again.json()["id"] == dm["id"]
    other_way = bob.post(f"/api/dm/{alice.username.upper()}")
    assert other_way.status_code == 200 and other_way.json()["id"] == dm["id"]
    assert other_way.json()["dm_user"]["id"] == alice.id
    assert {r["id"] for r in bob.get("/api/rooms").json()} >= {dm["id"]}
    # Nobody else sees it; nobody joins, invites, leaves or removes.
    assert carol.get(f"/api/rooms/{dm['id']}").status_code == 404
    assert carol.post(f"/api/rooms/{dm['id']}/join").status_code == 404
    r = invite(alice, dm["id"], carol)
    assert r.status_code == 403 and error_code(r) == "dm_membership_fixed"
    r = alice.post(f"/api/rooms/{dm['id']}/leave")
    assert r.status_code == 403 and error_code(r) == "dm_membership_fixed"
    r = alice.delete(f"/api/rooms/{dm['id']}/members/{bob.id}")
    assert r.status_code == 403 and error_code(r) == "dm_membership_fixed"
    r = alice.post(f"/api/dm/{alice.username}")
    assert r.status_code == 422 and error_code(r) == "dm_self"
    assert alice.post("/api/dm/nosuchuser123").status_code == 404


def test_user_search_and_profile(api_server: LiveServer) -> None:
    alice = register(api_server.url, "Searchable1")
    register(api_server.url, "searchable2")
    register(api_server.url, "other3")
    found = alice.get("/api/users", params={"q": "SEARCH", "limit": 10}).json()
    assert [u["username"] for u in found] == ["Searchable1", "searchable2"]
    assert len(alice.get("/api/users", params={"q": "search", "limit": 1}).json()) == 1
    assert alice.get("/api/users", params={"q": ""}).status_code == 422
    assert alice.get("/api/users", params={"q": "s", "limit": 500}).status_code == 422
    r = alice.patch("/api/users/me", json={"display_name": "  Alice Liddell "})
    assert r.status_code == 200 and r.json()["display_name"] == "Alice Liddell"
    assert alice.get("/api/users/me").json()["display_name"] == "Alice Liddell"
    r = alice.patch("/api/users/me", json={"display_name": "evil\u202etxt"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "display_name"
