"""The connection state machine: ``connecting → open → closing → closed``, nothing else.

A connection is ``connecting`` from the accepted upgrade until ``hello`` has been handed to the
socket, ``open`` while commands and events flow, ``closing`` once either side started to close it
(no event is delivered any more) and ``closed`` when the hub has forgotten it. An illegal
transition raises :class:`IllegalTransition` naming what was expected and what was found.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

__all__ = ["ALLOWED", "ConnState", "IllegalTransition", "StateMachine"]


class ConnState(Enum):
    """Where a connection is in its life."""

    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


ALLOWED: Final[dict[ConnState, frozenset[ConnState]]] = {
    ConnState.CONNECTING: frozenset({ConnState.OPEN, ConnState.CLOSING}),
    ConnState.OPEN: frozenset({ConnState.CLOSING}),
    ConnState.CLOSING: frozenset({ConnState.CLOSED}),
    ConnState.CLOSED: frozenset(),
}
"""For each state, the states it may move to."""


class IllegalTransition(RuntimeError):
    """A transition the state machine does not allow."""

    def __init__(
        self, actual: ConnState, target: ConnState, expected: frozenset[ConnState]
    ) -> None:
        names = ", ".join(sorted(s.value for s in expected)) or "nothing"
        super().__init__(
            f"cannot move to {target.value!r}: expected the connection to be in a state that "
            f"allows it ({_sources(target)}), but it is {actual.value!r} (which allows {names})"
        )
        self.actual = actual
        """The state the connection was in."""
        self.target = target
        """The state that was asked for."""


def _sources(target: ConnState) -> str:
    return " or ".join(sorted(s.value for s, nxt in ALLOWED.items() if target in nxt)) or "none"


class StateMachine:
    """Holds one connection's state and enforces :data:`ALLOWED`."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = ConnState.CONNECTING
        """The current state."""

    def to(self, target: ConnState) -> None:
        """Move to ``target``; raises :class:`IllegalTransition` if not allowed from here."""
        allowed = ALLOWED[self.state]
        if target not in allowed:
            raise IllegalTransition(self.state, target, allowed)
        self.state = target

    def begin_close(self) -> bool:
        """Move to ``closing`` unless already closing/closed; returns whether this call did it."""
        if self.state in (ConnState.CLOSING, ConnState.CLOSED):
            return False
        self.to(ConnState.CLOSING)
        return True
