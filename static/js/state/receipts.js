// Receipt markers per room and the circle shown on own messages (protocol section 10.4). Pure.

export const CIRCLE = Object.freeze({ NONE: 'none', SENT: 'sent', DELIVERED: 'delivered', SEEN: 'seen' });

export class ReceiptBook {
  constructor() {
    /** @type {Map<string, Map<string, {delivered: object|null, seen: object|null}>>} room → user → markers */
    this.rooms = new Map();
  }

  _slot(roomId, userId) {
    let room = this.rooms.get(roomId);
    if (!room) this.rooms.set(roomId, (room = new Map()));
    let slot = room.get(userId);
    if (!slot) room.set(userId, (slot = { delivered: null, seen: null }));
    return slot;
  }

  /** Apply a ReceiptMarker; markers only move forward. Returns true when something changed. */
  apply(marker) {
    const slot = this._slot(marker.room_id, marker.user_id);
    const current = slot[marker.state];
    if (current && current.seq >= marker.seq) return false;
    slot[marker.state] = { seq: marker.seq, message_id: marker.message_id, at: marker.at };
    return true;
  }

  /** The seq covered by a user's marker; "delivered" includes "seen" (seen implies delivered). */
  seqOf(roomId, userId, state) {
    const slot = this.rooms.get(roomId)?.get(userId);
    if (!slot) return 0;
    const seen = slot.seen ? slot.seen.seq : 0;
    if (state === 'seen') return seen;
    return Math.max(slot.delivered ? slot.delivered.seq : 0, seen);
  }

  forget(roomId) {
    this.rooms.delete(roomId);
  }
}

/**
 * The receipt state of an own message `message` ({seq}) given the users it counts for (`others`: every member but
 * me who was in the room when it was written; in a DM, the other person). Returns
 * {circle, seenBy: [user], deliveredTo: [user]}.
 */
export function receiptStatus(book, roomId, message, others) {
  if (!message || message.seq == null) return { circle: CIRCLE.NONE, seenBy: [], deliveredTo: [] };
  const list = others || [];
  const seenBy = list.filter((u) => book.seqOf(roomId, u.id, 'seen') >= message.seq);
  const deliveredTo = list.filter((u) => book.seqOf(roomId, u.id, 'delivered') >= message.seq);
  let circle = CIRCLE.SENT;
  if (list.length > 0 && seenBy.length === list.length) circle = CIRCLE.SEEN;
  else if (list.length > 0 && deliveredTo.length === list.length) circle = CIRCLE.DELIVERED;
  return { circle, seenBy, deliveredTo };
}

/**
 * The users an own message's receipts count for: in a DM the other participant, else the members except me,
 * leaving out those known to have joined after the message (joinSeq > message.seq).
 */
export function receiptAudience({ room, members, meId, message, joinSeq = new Map() }) {
  if (room && room.kind === 'dm') return room.dm_user ? [room.dm_user] : [];
  return (members || []).filter((u) => u.id !== meId && !((joinSeq.get(u.id) ?? 0) > message.seq));
}

/** The accessible label / tooltip of a receipt state. `nameOf(user)` gives a display name. */
export function receiptLabel(status, { isDm = false, nameOf = (u) => u.display_name || u.username } = {}) {
  const names = (users) => users.map(nameOf).join(', ');
  switch (status.circle) {
    case CIRCLE.SEEN:
      return isDm ? 'Seen' : `Seen by everyone: ${names(status.seenBy)}`;
    case CIRCLE.DELIVERED:
      return status.seenBy.length ? `Delivered to everyone; seen by ${names(status.seenBy)}` : 'Delivered';
    case CIRCLE.SENT:
      return status.seenBy.length ? `Sent; seen by ${names(status.seenBy)}` : 'Sent';
    default:
      return '';
  }
}
