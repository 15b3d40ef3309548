/**
 * This client's own receipts on their way to the server, per state (`delivered`, `seen`) and room.
 *
 * A receipt goes out only when it moves past both our confirmed marker and the receipt already in
 * flight. Whatever happens to it — answered, refused, or lost with the connection — it stops being
 * in flight, so that a failed or lost receipt is sent again at the next chance instead of blocking
 * every receipt up to its seq.
 */
export class ReceiptSends {
  constructor() {
    /** @type {Record<string, Map<string, number>>} state → room id → seq in flight */
    this.inflight = { delivered: new Map(), seen: new Map() };
  }

  /**
   * Whether a `state` receipt for `seq` in `roomId` should go out, given our confirmed marker's seq
   * `have` (0 when none); if so it is now in flight.
   */
  begin(roomId, state, seq, have) {
    const map = this.inflight[state];
    if (seq <= Math.max(have || 0, map.get(roomId) || 0)) return false;
    map.set(roomId, seq);
    return true;
  }

  /** The receipt for `seq` was answered, refused or lost: no longer in flight (unless a newer one is). */
  settled(roomId, state, seq) {
    const map = this.inflight[state];
    if (map.get(roomId) === seq) map.delete(roomId);
  }

  /** The seq in flight for `state` in `roomId`, or 0. */
  pending(roomId, state) {
    return this.inflight[state].get(roomId) || 0;
  }

  /** A new connection: nothing of the old one is in flight any more. */
  reset() {
    for (const map of Object.values(this.inflight)) map.clear();
  }
}
