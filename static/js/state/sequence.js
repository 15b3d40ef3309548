// Per-room durable event sequence: dedupe by (room_id, seq) and gap detection (protocol section 9.2). Pure.

export const SEQ = Object.freeze({ APPLY: 'apply', DUPLICATE: 'duplicate', GAP: 'gap', UNKNOWN: 'unknown' });

export class SeqTracker {
  constructor() {
    /** @type {Map<string, number>} */
    this.last = new Map();
    /** rooms with a resume in flight */
    this.resuming = new Set();
  }

  has(roomId) {
    return this.last.has(roomId);
  }

  get(roomId) {
    return this.last.get(roomId);
  }

  set(roomId, seq) {
    this.last.set(roomId, seq);
  }

  forget(roomId) {
    this.last.delete(roomId);
    this.resuming.delete(roomId);
  }

  /**
   * Compare the rooms of a fresh `hello` with what we hold. Returns {resume: {room_id: last_seq}} for the rooms where
   * we are behind; rooms new to us start at the hello's seq; rooms gone from hello are forgotten (and returned).
   */
  onHello(rooms) {
    const resume = {};
    const seen = new Set();
    for (const room of rooms) {
      seen.add(room.id);
      const mine = this.last.get(room.id);
      if (mine === undefined) this.last.set(room.id, room.last_seq);
      else if (room.last_seq > mine) resume[room.id] = mine;
    }
    const gone = [];
    for (const id of [...this.last.keys()]) {
      if (!seen.has(id)) {
        this.forget(id);
        gone.push(id);
      }
    }
    this.resuming.clear();
    return { resume, gone };
  }

  /** Classify a durable event; APPLY advances last_seq. */
  accept(roomId, seq) {
    const last = this.last.get(roomId);
    if (last === undefined) return SEQ.UNKNOWN;
    if (seq <= last) return SEQ.DUPLICATE;
    if (seq === last + 1) {
      this.last.set(roomId, seq);
      return SEQ.APPLY;
    }
    return SEQ.GAP;
  }

  /** After a resume ack: never go backwards. */
  resumed(roomId, seq) {
    this.resuming.delete(roomId);
    const last = this.last.get(roomId);
    if (last === undefined || seq > last) this.last.set(roomId, seq);
  }
}
