// Unread counts per room (protocol section 10.4): messages by others after my "seen" marker, deleted ones excluded.
// Starts from hello's unread_count (a snapshot taken at the room's last_seq) and is kept current from live events.
// Replayed events at or below the snapshot's seq are already counted in it, so they are ignored. Pure.

export class UnreadCounter {
  constructor() {
    /** @type {Map<string, {base: number, baseSeq: number, seenSeq: number, seqs: Set<number>}>} */
    this.rooms = new Map();
  }

  /** Reset a room from a snapshot (hello, REST room list). */
  reset(roomId, unreadCount, lastSeq) {
    const prev = this.rooms.get(roomId);
    this.rooms.set(roomId, { base: unreadCount, baseSeq: lastSeq, seenSeq: prev ? prev.seenSeq : 0, seqs: new Set() });
  }

  _room(roomId) {
    let r = this.rooms.get(roomId);
    if (!r) this.rooms.set(roomId, (r = { base: 0, baseSeq: 0, seenSeq: 0, seqs: new Set() }));
    return r;
  }

  /** A message.created event (already deduped by seq). */
  created(roomId, message, meId) {
    const r = this._room(roomId);
    if (!message.author || message.author.id === meId || message.deleted_at) return false;
    if (message.seq <= r.baseSeq || message.seq <= r.seenSeq || r.seqs.has(message.seq)) return false;
    r.seqs.add(message.seq);
    return true;
  }

  /** A message.deleted event: an unread message that is deleted no longer counts. */
  deleted(roomId, message, meId) {
    const r = this._room(roomId);
    if (r.seqs.delete(message.seq)) return true;
    if (message.author && message.author.id !== meId && message.seq <= r.baseSeq && message.seq > r.seenSeq && r.seenSeq > 0 && r.base > 0) {
      r.base--;
      return true;
    }
    return false;
  }

  /** My "seen" marker moved to `seq` (my receipt's ack, or a receipt frame about me from another device). */
  seen(roomId, seq) {
    const r = this._room(roomId);
    if (seq <= r.seenSeq) return false;
    r.seenSeq = seq;
    if (seq >= r.baseSeq) r.base = 0;
    for (const s of [...r.seqs]) if (s <= seq) r.seqs.delete(s);
    return true;
  }

  count(roomId) {
    const r = this.rooms.get(roomId);
    return r ? r.base + r.seqs.size : 0;
  }

  total() {
    let n = 0;
    for (const id of this.rooms.keys()) n += this.count(id);
    return n;
  }

  forget(roomId) {
    this.rooms.delete(roomId);
  }
}
