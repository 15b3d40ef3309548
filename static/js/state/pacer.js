/**
 * A per-key throttle with a trailing call: the first poke of a key schedules `fire(key)` after `delayMs`,
 * further pokes of that key before it fires change nothing, and the next poke after it fired schedules
 * again. So a burst is answered once, shortly after it starts, and a steady stream at most once per
 * `delayMs` (a debounce that restarts on every poke would never fire while the stream lasts).
 */
export class Pacer {
  /**
   * @param {number} delayMs
   * @param {(key: string) => void} fire called with the key; reads the newest state itself
   * @param {{setTimeout: Function, clearTimeout: Function}} [timers] injectable for tests
   */
  constructor(delayMs, fire, timers = globalThis) {
    this.delayMs = delayMs;
    this.fire = fire;
    this.timers = timers;
    /** @type {Map<string, unknown>} key → pending timer */
    this.pending = new Map();
  }

  /** Something happened for `key`: make sure `fire(key)` runs within `delayMs`. */
  poke(key) {
    if (this.pending.has(key)) return;
    const timer = this.timers.setTimeout(() => {
      this.pending.delete(key);
      this.fire(key);
    }, this.delayMs);
    this.pending.set(key, timer);
  }

  /** Drop the pending call of `key` (or of every key). */
  cancel(key) {
    const keys = key === undefined ? [...this.pending.keys()] : [key];
    for (const k of keys) {
      if (!this.pending.has(k)) continue;
      this.timers.clearTimeout(this.pending.get(k));
      this.pending.delete(k);
    }
  }
}
