"""The permission table: every role × room kind × action, expectations written out by hand.

Cell codes: Y = allowed; otherwise the denial reason:
  NM not_member      NA not_author       RA requires_admin   RO requires_owner
  IR invite_required AM already_member   DM dm_membership_fixed  LO last_owner
  TN target_not_member  TS target_is_self  TO target_outranks
Columns: public (owner admin member none) | private (…) | dm (…). "none" = not a member, which is
also what a *removed* member is.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from chatterbox.domain.permissions import (
    ROLES,
    ROOM_KINDS,
    Action,
    Decision,
    PermissionDenied,
    Role,
    RoomKind,
    Target,
    can_read,
    decide,
    require,
)

CODES = {
    "Y": "ok",
    "NM": "not_member",
    "NA": "not_author",
    "RA": "requires_admin",
    "RO": "requires_owner",
    "IR": "invite_required",
    "AM": "already_member",
    "DM": "dm_membership_fixed",
    "LO": "last_owner",
    "TN": "target_not_member",
    "TS": "target_is_self",
    "TO": "target_outranks",
}

# action        context             | public: O  A  M  - | private: O  A  M  - | dm: O  A  M  -
TABLE = """
read            -                   | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
post            -                   | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
see_members     -                   | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
see_presence    -                   | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
send_typing     -                   | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
send_receipt    -                   | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
edit            own                 | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
edit            others              | NA NA NA NM | NA NA NA NM | NA NA NA NM
delete          own                 | Y  Y  Y  NM | Y  Y  Y  NM | Y  Y  Y  NM
delete          others              | Y  Y  NA NM | Y  Y  NA NM | NA NA NA NM
invite          -                   | Y  Y  RA NM | Y  Y  RA NM | DM DM DM NM
invite          target:member       | AM AM RA NM | AM AM RA NM | DM DM DM NM
remove_member   target:owner        | Y  TO RA NM | Y  TO RA NM | DM DM DM NM
remove_member   target:admin        | Y  TO RA NM | Y  TO RA NM | DM DM DM NM
remove_member   target:member       | Y  Y  RA NM | Y  Y  RA NM | DM DM DM NM
remove_member   target:none         | TN TN RA NM | TN TN RA NM | DM DM DM NM
remove_member   target:self         | TS TS RA NM | TS TS RA NM | DM DM DM NM
change_role     target:owner        | Y  RO RO NM | Y  RO RO NM | DM DM DM NM
change_role     target:admin        | Y  RO RO NM | Y  RO RO NM | DM DM DM NM
change_role     target:member       | Y  RO RO NM | Y  RO RO NM | DM DM DM NM
change_role     target:none         | TN RO RO NM | TN RO RO NM | DM DM DM NM
change_role     target:self         | TS RO RO NM | TS RO RO NM | DM DM DM NM
join            -                   | AM AM AM Y  | AM AM AM IR | DM DM DM DM
join            invited             | AM AM AM Y  | AM AM AM Y  | DM DM DM DM
leave           owners:2,members:3  | Y  Y  Y  NM | Y  Y  Y  NM | DM DM DM NM
leave           owners:1,members:3  | LO Y  Y  NM | LO Y  Y  NM | DM DM DM NM
leave           owners:1,members:1  | Y  Y  Y  NM | Y  Y  Y  NM | DM DM DM NM
"""

ACTORS: tuple[Role | None, ...] = ("owner", "admin", "member", None)


def _kwargs(context: str, role: Role | None) -> dict[str, Any]:
    if context == "-":
        return {}
    if context == "own":
        return {"is_author": True}
    if context == "others":
        return {"is_author": False}
    if context == "invited":
        return {"invited": True}
    if context.startswith("target:"):
        which = context.removeprefix("target:")
        if which == "self":
            return {"target": Target(role=role, is_self=True)}
        return {"target": Target(role=None if which == "none" else which)}  # type: ignore[arg-type]
    if context.startswith("owners:"):
        owners, members = (int(part.split(":")[1]) for part in context.split(","))
        return {"owner_count": owners, "member_count": members}
    raise AssertionError(context)


def _rows() -> list[tuple[Action, str, RoomKind, Role | None, str]]:
    rows = []
    for line in TABLE.strip().splitlines():
        head, *groups = line.split("|")
        action_name, context = head.split()
        assert len(groups) == 3, line
        for kind, group in zip(ROOM_KINDS, groups, strict=True):
            cells = group.split()
            assert len(cells) == 4, line
            for role, cell in zip(ACTORS, cells, strict=True):
                rows.append((Action(action_name), context, kind, role, CODES[cell]))
    return rows


ROWS = _rows()


@pytest.mark.parametrize(
    ("action", "context", "kind", "role", "expected"),
    ROWS,
    ids=[f"{a.value}-{c}-{k}-{r or 'none'}" for a, c, k, r, _ in ROWS],
)
def test_permission_table(
    action: Action, context: str, kind: RoomKind, role: Role | None, expected: str
) -> None:
    decision = decide(action, room_kind=kind, role=role, **_kwargs(context, role))
    assert decision == Decision(expected == "ok", expected)  # type: ignore[arg-type]


def test_table_covers_every_action_role_and_kind() -> None:
    covered = {(a, k, r) for a, _, k, r, _ in ROWS}
    expected = set(itertools.product(Action, ROOM_KINDS, ACTORS))
    assert covered == expected
    assert set(ROLES) == {"owner", "admin", "member"}


# --- the CVE classes, spelled out ---------------------------------------------------------------

READ_PATHS = ("rest_history", "ws_history", "fan_out", "resume", "receipts")


@pytest.mark.parametrize("kind", ROOM_KINDS)
def test_removed_member_loses_everything(kind: RoomKind) -> None:
    """Zulip CVE-2022-31017 class: after removal (role None) no reads, edits, deletes, receipts."""
    before: Role = "member"
    assert decide(Action.READ, room_kind=kind, role=before).allowed
    removed: Role | None = None
    for action in Action:
        if action is Action.JOIN:
            continue
        kwargs: dict[str, Any] = {"is_author": True, "target": Target("member")}
        kwargs |= {"owner_count": 1, "member_count": 2}
        d = decide(action, room_kind=kind, role=removed, **kwargs)
        assert d == Decision(False, "not_member"), action
    # receiving fan-out of edits/deletes is a read: denied
    assert not can_read(kind, removed)


@pytest.mark.parametrize("path", READ_PATHS)
def test_private_history_unreadable_by_non_members_through_any_path(path: str) -> None:
    """Every read path asks the same question, and the answer is no."""
    del path  # one decision serves every path: that is the point
    assert can_read("private", None) is False
    with pytest.raises(PermissionDenied) as exc:
        require(Action.READ, room_kind="private", role=None)
    assert exc.value.reason == "not_member"
    assert not decide(Action.SEND_RECEIPT, room_kind="private", role=None).allowed


def test_invited_non_member_still_cannot_read_before_joining() -> None:
    assert not decide(Action.READ, room_kind="private", role=None, invited=True).allowed


@pytest.mark.parametrize("kind", ROOM_KINDS)
@pytest.mark.parametrize("role", ROLES)
def test_nobody_edits_someone_elses_message(kind: RoomKind, role: Role) -> None:
    d = decide(Action.EDIT, room_kind=kind, role=role, is_author=False)
    assert d == Decision(False, "not_author")


# --- API surface ------------------------------------------------------------------------------


def test_require_raises_with_reason_and_passes_when_allowed() -> None:
    require(Action.POST, room_kind="public", role="member")
    with pytest.raises(PermissionDenied) as exc:
        require(Action.DELETE, room_kind="dm", role="owner", is_author=False)
    assert exc.value.action is Action.DELETE
    assert exc.value.reason == "not_author"
    assert str(exc.value) == "delete: not_author"


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        (Action.EDIT, {}),
        (Action.DELETE, {}),
        (Action.REMOVE_MEMBER, {}),
        (Action.CHANGE_ROLE, {}),
        (Action.LEAVE, {}),
        (Action.LEAVE, {"owner_count": 1}),
    ],
)
def test_missing_context_fails_closed(action: Action, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=action.value if action is not Action.LEAVE else "leave"):
        decide(action, room_kind="public", role="owner", **kwargs)


def test_non_owner_leave_needs_no_counts() -> None:
    assert decide(Action.LEAVE, room_kind="private", role="admin").allowed


def test_action_values_are_the_documented_names() -> None:
    assert {a.value for a in Action} == {
        "read",
        "post",
        "edit",
        "delete",
        "invite",
        "remove_member",
        "change_role",
        "see_members",
        "see_presence",
        "send_typing",
        "send_receipt",
        "join",
        "leave",
    }


@pytest.mark.parametrize("kind", ROOM_KINDS)
def test_non_members_may_only_ever_join(kind: RoomKind) -> None:
    for action, invited in itertools.product(Action, (False, True)):
        kwargs: dict[str, Any] = {"is_author": True, "target": Target("member"), "invited": invited}
        d = decide(action, room_kind=kind, role=None, owner_count=1, member_count=1, **kwargs)
        if d.allowed:
            assert action is Action.JOIN
            assert kind != "dm"
