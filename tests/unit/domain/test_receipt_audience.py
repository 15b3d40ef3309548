"""Receipt frames go to the markers' owners and the authors of the messages they newly cover."""

from __future__ import annotations

from dataclasses import replace

from chatterbox.domain.receipt_audience import Delivery, RecentAuthors, receipt_deliveries
from chatterbox.domain.receipts import Marker, ReceiptState

ROOM = "r_room"


def mk(user: str, prev: int, seq: int, state: ReceiptState = "delivered") -> Marker:
    return Marker(user, ROOM, state, f"m_{seq}", seq, 0, prev)


def authors(*messages: tuple[int, str]) -> RecentAuthors:
    known = RecentAuthors()
    for seq, author in messages:
        known.message(ROOM, seq, author)
    return known


def test_nothing_is_known_before_the_first_message_seen() -> None:
    known = authors((10, "alice"), (11, "bob"), (12, "alice"))
    assert known.authors_after("r_other", 0) is None
    assert known.authors_after(ROOM, 8) is None  # seq 9 may have been anyone's
    assert known.authors_after(ROOM, 9) == {"alice", "bob"}
    assert known.authors_after(ROOM, 10) == {"alice", "bob"}
    assert known.authors_after(ROOM, 11) == {"alice"}
    assert known.authors_after(ROOM, 12) == set()
    assert len(known) == 1


def test_a_gap_moves_what_is_known() -> None:
    known = authors((10, "alice"), (11, "bob"))
    known.gap(ROOM, 20)  # seqs 12..19 went by unseen
    assert known.authors_after(ROOM, 15) is None
    assert known.authors_after(ROOM, 19) == set()
    known.message(ROOM, 20, "carol")
    assert known.authors_after(ROOM, 19) == {"carol"}
    known.gap(ROOM, 5)  # an older gap changes nothing
    assert known.authors_after(ROOM, 19) == {"carol"}
    known.gap("r_unknown", 3)  # nor does one of a room not followed
    assert known.authors_after("r_unknown", 3) is None


def test_forget() -> None:
    known = authors((10, "alice"))
    known.forget(ROOM)
    known.forget(ROOM)
    assert known.authors_after(ROOM, 10) is None and len(known) == 0


def test_authors_get_the_batch_and_other_owners_their_own_markers() -> None:
    known = authors((10, "alice"), (11, "bob"), (12, "alice"), (13, "erin"))
    carol = mk("carol", 10, 12)  # covers 11 (bob) and 12 (alice); erin's 13 is later
    dave = mk("dave", 11, 12)
    dave_seen = mk("dave", 9, 12, "seen")
    alice = mk("alice", 12, 13)  # alice's own marker on erin's message
    plan = receipt_deliveries(known, ROOM, [carol, dave, dave_seen, alice])
    assert plan == [
        Delivery(frozenset({"alice", "bob", "erin"}), [carol, dave, dave_seen, alice]),
        Delivery(frozenset({"carol"}), [carol]),
        Delivery(frozenset({"dave"}), [dave, dave_seen]),
    ]


def test_the_connection_that_moved_an_owners_markers_is_skipped() -> None:
    known = authors((10, "alice"))
    carol = replace(mk("carol", 10, 10, "seen"), origin="h:c1")
    dave = replace(mk("dave", 10, 10), origin="h:c2")
    dave_seen = replace(mk("dave", 10, 10, "seen"), origin="h:c3")  # another tab of dave's
    assert receipt_deliveries(known, ROOM, [carol, dave, dave_seen]) == [
        Delivery(frozenset({"carol"}), [carol], skip="h:c1"),
        Delivery(frozenset({"dave"}), [dave, dave_seen], skip=None),
    ]


def test_a_move_covering_nobodys_message_reaches_only_its_owner() -> None:
    known = authors((10, "alice"))
    assert receipt_deliveries(known, ROOM, [mk("bob", 10, 10, "seen")]) == [
        Delivery(frozenset({"bob"}), [mk("bob", 10, 10, "seen")])
    ]


def test_an_unknown_range_sends_everything_to_everyone() -> None:
    known = authors((10, "alice"), (11, "bob"))
    batch = [replace(mk("carol", 10, 11), origin="h:c1"), mk("dave", 3, 11)]
    assert receipt_deliveries(known, ROOM, batch) == [Delivery(frozenset(), batch)]
    one = [mk("carol", 10, 11)]
    assert receipt_deliveries(RecentAuthors(), ROOM, one) == [Delivery(frozenset(), one)]


def test_a_history_page_seeds_a_room_not_followed_yet() -> None:
    known = RecentAuthors()
    known.seed(ROOM, 4, 9, [(5, "alice"), (7, "bob"), (9, "alice")])
    assert known.authors_after(ROOM, 3) is None
    assert known.authors_after(ROOM, 4) == {"alice", "bob"}
    assert known.authors_after(ROOM, 7) == {"alice"}
    known.message(ROOM, 10, "carol")
    assert known.authors_after(ROOM, 9) == {"carol"}


def test_a_history_page_extends_what_is_known_when_the_ranges_meet() -> None:
    known = authors((12, "carol"))  # followed from seq 12 on
    known.seed(ROOM, 0, 11, [(3, "alice"), (8, "bob")])  # the whole room up to 11
    assert known.authors_after(ROOM, 0) == {"alice", "bob", "carol"}
    assert known.authors_after(ROOM, 3) == {"bob", "carol"}


def test_a_history_page_that_ends_before_what_is_followed_leaves_the_gap_unknown() -> None:
    known = authors((20, "carol"))  # followed from 20 on: 12..19 unseen
    known.seed(ROOM, 0, 11, [(3, "alice")])
    assert known.authors_after(ROOM, 0) is None
    assert known.authors_after(ROOM, 19) == {"carol"}
    known.gap(ROOM, 30)
    known.seed(ROOM, 0, 5, [(4, "bob")])  # older again: changes what is known of nobody
    assert known.authors_after(ROOM, 19) is None and known.authors_after(ROOM, 29) == set()
