// Typing state. TypingBoard: who is typing where (incoming, expiring on our own clock). TypingSender: when to send
// our own start/stop (throttled renewals, never left on). Pure: `now` is always passed in.

export class TypingBoard {
  constructor() {
    /** @type {Map<string, Map<string, {user: object, until: number}>>} */
    this.rooms = new Map();
  }

  /** Apply a server `typing` frame received at `now`. */
  apply(frame, now) {
    let room = this.rooms.get(frame.room_id);
    if (frame.state === 'start' && frame.expires_in_ms > 0) {
      if (!room) this.rooms.set(frame.room_id, (room = new Map()));
      room.set(frame.user.id, { user: frame.user, until: now + frame.expires_in_ms });
    } else if (room) {
      room.delete(frame.user.id);
    }
  }

  /** A message from `userId` ends their typing in that room. */
  clear(roomId, userId) {
    this.rooms.get(roomId)?.delete(userId);
  }

  clearRoom(roomId) {
    this.rooms.delete(roomId);
  }

  /** Users typing in `roomId` at `now` (expired entries are dropped), oldest first. */
  active(roomId, now) {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    const out = [];
    for (const [id, entry] of room) {
      if (entry.until <= now) room.delete(id);
      else out.push(entry.user);
    }
    return out;
  }

  /** Milliseconds until the next expiry anywhere (to schedule a refresh), or null. */
  nextExpiry(now) {
    let min = null;
    for (const room of this.rooms.values()) {
      for (const entry of room.values()) {
        const d = entry.until - now;
        if (min === null || d < min) min = d;
      }
    }
    return min === null ? null : Math.max(0, min);
  }
}

/**
 * Decides our own typing frames. Call `input(now, hasText)` on every edit of the composer; it returns 'start',
 * 'stop' or null. Call `tick(now)` from a timer: it returns 'stop' once the person has been idle for `idleMs`.
 * `sent()` after sending a message (the server clears our typing then), `reset()` when leaving a room / reconnecting.
 */
export class TypingSender {
  constructor({ timeoutMs = 6000, idleMs = 4000 } = {}) {
    this.timeoutMs = timeoutMs;
    this.idleMs = idleMs;
    this.active = false;
    this.lastStart = -Infinity;
    this.lastInput = -Infinity;
  }

  setTimeout(ms) {
    this.timeoutMs = ms;
  }

  input(now, hasText) {
    this.lastInput = now;
    if (!hasText) return this.stop();
    if (!this.active || now - this.lastStart >= this.timeoutMs / 2) {
      this.active = true;
      this.lastStart = now;
      return 'start';
    }
    return null;
  }

  tick(now) {
    if (this.active && now - this.lastInput >= this.idleMs) return this.stop();
    return null;
  }

  stop() {
    if (!this.active) return null;
    this.active = false;
    this.lastStart = -Infinity;
    return 'stop';
  }

  sent() {
    this.active = false;
    this.lastStart = -Infinity;
  }

  reset() {
    return this.stop();
  }
}
