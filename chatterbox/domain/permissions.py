"""Who may do what in a room: the one place that decides.

Every path that touches a room — REST and WebSocket history, live fan-out, ``resume``, receipts,
typing, presence, membership changes — asks :func:`decide` (or :func:`require`) with the actor's
*current* role, so a rule is written once and a removed member loses everything at once.

Inputs: the room kind (``public``/``private``/``dm``), the actor's role (``owner``/``admin``/
``member``, or ``None`` for a non-member — including a removed one), and per action: ``is_author``
(``edit``/``delete``), the :class:`Target` member (``remove_member``/``change_role``, optionally
``invite``), ``invited`` (``join``), and the owner/member counts (an owner's ``leave``). Missing
required context raises ``ValueError``: the module fails closed rather than guessing.

Rules (and why):

- **Membership first.** Every action except ``join`` requires membership, in every kind of room.
  In particular a non-member may not ``read`` even a *public* room: one rule ("read requires
  membership") serves history, fan-out, resume and receipts alike, and a public room is one click
  away anyway. (Listing public rooms is not a room action.)
- **join**: a non-member may join a public room; a private room only with a pending invitation;
  never a DM. A member joining again gets ``already_member``.
- **read, post, send_typing, send_receipt, see_members, see_presence**: any member.
- **edit**: the author only — nobody edits someone else's words, not even an owner.
- **delete**: the author; in public/private rooms also an owner or admin (moderation). In a DM only
  the author.
- **invite**: owners and admins of public/private rooms.
- **remove_member**: an owner removes anyone but themselves (other owners included: co-owners are
  peers); an admin removes plain members only; to remove yourself, ``leave``.
- **change_role**: owners only, of another member (an owner cannot change their own role, so a room
  is never left ownerless by a self-demotion; hand ownership over first, then leave).
- **leave**: any member of a public/private room, except the last owner while other members remain
  (``last_owner``: promote someone to owner first). The last owner who is also the last member may
  leave; the room is then empty and the caller may archive it.
- **DMs**: exactly two members whose roles carry no powers (owner/admin act as member); no
  invite/join/leave/remove/role change (``dm_membership_fixed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

__all__ = [
    "ROLES",
    "ROOM_KINDS",
    "Action",
    "Decision",
    "PermissionDenied",
    "Reason",
    "Role",
    "RoomKind",
    "Target",
    "can_read",
    "decide",
    "require",
]

RoomKind = Literal["public", "private", "dm"]
"""The ``RoomKind`` schema enum."""
Role = Literal["owner", "admin", "member"]
"""The ``Role`` schema enum."""

ROOM_KINDS: Final[tuple[RoomKind, ...]] = ("public", "private", "dm")
"""Every room kind."""
ROLES: Final[tuple[Role, ...]] = ("owner", "admin", "member")
"""Every role."""

Reason = Literal[
    "ok",
    "not_member",
    "not_author",
    "requires_admin",
    "requires_owner",
    "invite_required",
    "already_member",
    "dm_membership_fixed",
    "last_owner",
    "target_not_member",
    "target_is_self",
    "target_outranks",
]
"""Stable, machine-readable reasons for a decision."""


class Action(StrEnum):
    """Everything a user can attempt in a room."""

    READ = "read"
    POST = "post"
    EDIT = "edit"
    DELETE = "delete"
    INVITE = "invite"
    REMOVE_MEMBER = "remove_member"
    CHANGE_ROLE = "change_role"
    SEE_MEMBERS = "see_members"
    SEE_PRESENCE = "see_presence"
    SEND_TYPING = "send_typing"
    SEND_RECEIPT = "send_receipt"
    JOIN = "join"
    LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class Target:
    """The member an action is aimed at (``remove_member``, ``change_role``, ``invite``)."""

    role: Role | None
    """The target's current role; ``None`` if not a member."""
    is_self: bool = False
    """Whether the target is the actor."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`."""

    allowed: bool
    """Whether the action may proceed."""
    reason: Reason
    """``ok`` when allowed, else why not."""


class PermissionDenied(Exception):
    """Raised by :func:`require` when an action is not allowed."""

    def __init__(self, action: Action, reason: Reason) -> None:
        super().__init__(f"{action.value}: {reason}")
        self.action = action
        """The refused action."""
        self.reason = reason
        """Why it was refused."""


_MEMBER_ONLY: Final = frozenset(
    {
        Action.READ,
        Action.POST,
        Action.SEE_MEMBERS,
        Action.SEE_PRESENCE,
        Action.SEND_TYPING,
        Action.SEND_RECEIPT,
    }
)
_MEMBERSHIP_CHANGES: Final = frozenset(
    {Action.INVITE, Action.JOIN, Action.LEAVE, Action.REMOVE_MEMBER, Action.CHANGE_ROLE}
)
_MODERATORS: Final[frozenset[Role]] = frozenset({"owner", "admin"})


_YES: Final = Decision(True, "ok")
_NO: dict[Reason, Decision] = {}


def _yes() -> Decision:
    return _YES  # decisions are frozen: one instance per outcome serves every caller


def _no(reason: Reason) -> Decision:
    decision = _NO.get(reason)
    if decision is None:
        decision = _NO[reason] = Decision(False, reason)
    return decision


def _need_target(action: Action, target: Target | None) -> Target:
    if target is None:
        raise ValueError(f"{action.value} needs a target")
    return target


def _join(room_kind: RoomKind, role: Role | None, invited: bool) -> Decision:
    if room_kind == "dm":
        return _no("dm_membership_fixed")
    if role is not None:
        return _no("already_member")
    if room_kind == "private" and not invited:
        return _no("invite_required")
    return _yes()


def _leave(role: Role, owner_count: int | None, member_count: int | None) -> Decision:
    if role != "owner":
        return _yes()
    if owner_count is None or member_count is None:
        raise ValueError("an owner's leave needs owner_count and member_count")
    if owner_count <= 1 and member_count > 1:
        return _no("last_owner")
    return _yes()


def _remove(role: Role, target: Target) -> Decision:
    if role not in _MODERATORS:
        return _no("requires_admin")
    if target.role is None:
        return _no("target_not_member")
    if target.is_self:
        return _no("target_is_self")
    if role == "admin" and target.role != "member":
        return _no("target_outranks")
    return _yes()


def _change_role(role: Role, target: Target) -> Decision:
    if role != "owner":
        return _no("requires_owner")
    if target.role is None:
        return _no("target_not_member")
    if target.is_self:
        return _no("target_is_self")
    return _yes()


def decide(
    action: Action,
    *,
    room_kind: RoomKind,
    role: Role | None,
    is_author: bool | None = None,
    target: Target | None = None,
    invited: bool = False,
    owner_count: int | None = None,
    member_count: int | None = None,
) -> Decision:
    """Decide whether an actor with ``role`` in a ``room_kind`` room may perform ``action``.

    ``is_author`` is required for ``edit``/``delete``; ``target`` for ``remove_member``/
    ``change_role``; ``owner_count``/``member_count`` (current totals, the actor included) when an
    owner leaves. ``invited`` is whether a non-member holds an invitation (``join``).
    """
    if action is Action.JOIN:
        return _join(room_kind, role, invited)
    if role is None:
        return _no("not_member")
    if action in _MEMBER_ONLY:
        return _yes()
    if action is Action.EDIT or action is Action.DELETE:
        if is_author is None:
            raise ValueError(f"{action.value} needs is_author")
        if is_author:
            return _yes()
        if action is Action.DELETE and room_kind != "dm" and role in _MODERATORS:
            return _yes()
        return _no("not_author")
    if room_kind == "dm" and action in _MEMBERSHIP_CHANGES:
        return _no("dm_membership_fixed")
    if action is Action.LEAVE:
        return _leave(role, owner_count, member_count)
    if action is Action.INVITE:
        if role not in _MODERATORS:
            return _no("requires_admin")
        if target is not None and target.role is not None:
            return _no("already_member")
        return _yes()
    if action is Action.REMOVE_MEMBER:
        return _remove(role, _need_target(action, target))
    if action is Action.CHANGE_ROLE:
        return _change_role(role, _need_target(action, target))
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover


def require(
    action: Action,
    *,
    room_kind: RoomKind,
    role: Role | None,
    is_author: bool | None = None,
    target: Target | None = None,
    invited: bool = False,
    owner_count: int | None = None,
    member_count: int | None = None,
) -> None:
    """Like :func:`decide`, but raise :class:`PermissionDenied` unless allowed."""
    decision = decide(
        action,
        room_kind=room_kind,
        role=role,
        is_author=is_author,
        target=target,
        invited=invited,
        owner_count=owner_count,
        member_count=member_count,
    )
    if not decision.allowed:
        raise PermissionDenied(action, decision.reason)


def can_read(room_kind: RoomKind, role: Role | None) -> bool:
    """Whether the actor may read the room (history, fan-out, resume, receipts): the read rule."""
    return decide(Action.READ, room_kind=room_kind, role=role).allowed
