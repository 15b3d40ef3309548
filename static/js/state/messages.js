// The messages of one room: confirmed messages keyed by id and ordered by seq, plus optimistic entries (not yet
// acknowledged) keyed by client_msg_id. Every server copy of a message (ack, created/updated/deleted event, history
// page, resume replay) goes through `applyServer`, which is idempotent: applying the same copy twice, or an older
// copy after a newer one, changes nothing. Pure: no DOM, no clock except the values passed in.

/** Local send states of own messages. */
export const SEND = Object.freeze({ SENDING: 'sending', FAILED: 'failed', SENT: 'sent' });

/** Is server copy `b` at least as new as `a`? Deletion is final; then the later edit wins. */
export function isNewerOrSame(a, b) {
  if (a.deleted_at && !b.deleted_at) return false;
  if (!a.deleted_at && b.deleted_at) return true;
  if (a.deleted_at && b.deleted_at) return true;
  const ea = a.edited_at || '';
  const eb = b.edited_at || '';
  return eb >= ea; // fixed-format UTC timestamps compare as strings
}

export class RoomMessages {
  constructor(roomId) {
    this.roomId = roomId;
    /** @type {Map<string, object>} message id → entry */
    this.byId = new Map();
    /** @type {Map<string, object>} client_msg_id → entry written on this device (optimistic, later confirmed) */
    this.byClientId = new Map();
    this.localOrder = 0;
    this.cursor = null; // next_cursor for older pages
    this.hasMore = true;
    this.loaded = false; // the newest page has been merged
    this.version = 0; // bumps on every change (cheap change detection for the UI)
  }

  /** A fresh optimistic entry for a message the person just wrote. */
  addOptimistic({ clientMsgId, body, author, createdAt }) {
    const existing = this.byClientId.get(clientMsgId);
    if (existing) return existing;
    const entry = {
      key: `local:${clientMsgId}`,
      id: null,
      room_id: this.roomId,
      seq: null,
      author,
      body,
      client_msg_id: clientMsgId,
      created_at: createdAt,
      edited_at: null,
      deleted_at: null,
      status: SEND.SENDING,
      local: ++this.localOrder,
      rev: 0,
    };
    this.byClientId.set(clientMsgId, entry);
    this.version++;
    return entry;
  }

  setStatus(clientMsgId, status) {
    const entry = this.byClientId.get(clientMsgId);
    if (!entry || entry.id) return entry || null; // confirmed messages are sent, whatever happens later
    if (entry.status !== status) {
      entry.status = status;
      entry.rev++;
      this.version++;
    }
    return entry;
  }

  /** Forget an optimistic entry the person discarded. */
  discard(clientMsgId) {
    const entry = this.byClientId.get(clientMsgId);
    if (entry && !entry.id) {
      this.byClientId.delete(clientMsgId);
      this.version++;
    }
  }

  /** Apply a server copy of a message. Returns {entry, created: boolean, changed: boolean}. */
  applyServer(message) {
    let entry = this.byId.get(message.id);
    if (!entry && message.client_msg_id) {
      const own = this.byClientId.get(message.client_msg_id);
      if (own && !own.id && own.author && message.author && own.author.id === message.author.id) entry = own;
    }
    if (!entry) {
      entry = { ...message, key: message.id, status: SEND.SENT, local: 0, rev: 0 };
      this.byId.set(message.id, entry);
      this.version++;
      return { entry, created: true, changed: true };
    }
    const wasOptimistic = !entry.id;
    if (!wasOptimistic && !isNewerOrSame(entry, message)) return { entry, created: false, changed: false };
    const before = `${entry.body}|${entry.edited_at}|${entry.deleted_at}|${entry.status}|${entry.seq}`;
    Object.assign(entry, {
      id: message.id,
      seq: message.seq,
      author: message.author,
      body: message.body,
      client_msg_id: message.client_msg_id,
      created_at: message.created_at,
      edited_at: message.edited_at,
      deleted_at: message.deleted_at,
      status: SEND.SENT,
    });
    // `key` stays what it was, so the UI keeps the same DOM node when an optimistic entry is confirmed.
    this.byId.set(message.id, entry);
    const changed = before !== `${entry.body}|${entry.edited_at}|${entry.deleted_at}|${entry.status}|${entry.seq}`;
    if (changed) {
      entry.rev++;
      this.version++;
    }
    return { entry, created: wasOptimistic, changed };
  }

  /** Merge a HistoryPage ({days, has_more, next_cursor}); `older` = it is a page before what we hold. */
  mergePage(page, { older = false } = {}) {
    const added = [];
    for (const day of page.days || []) {
      for (const message of day.messages) {
        const r = this.applyServer(message);
        if (r.created) added.push(r.entry);
      }
    }
    if (older || !this.loaded) {
      this.cursor = page.next_cursor;
      this.hasMore = Boolean(page.has_more);
    }
    this.loaded = true;
    this.version++;
    return added;
  }

  /** Entries in display order: confirmed by seq, then optimistic ones in the order they were written. */
  list() {
    const confirmed = [];
    const pending = [];
    for (const entry of this.byId.values()) confirmed.push(entry);
    for (const entry of this.byClientId.values()) if (!entry.id) pending.push(entry);
    confirmed.sort((a, b) => a.seq - b.seq);
    pending.sort((a, b) => a.local - b.local);
    return confirmed.concat(pending);
  }

  get(id) {
    return this.byId.get(id) || null;
  }

  /** The person's newest message that can still be edited (confirmed, not deleted). */
  lastEditable(userId) {
    const all = this.list();
    for (let i = all.length - 1; i >= 0; i--) {
      const e = all[i];
      if (e.id && !e.deleted_at && e.author && e.author.id === userId) return e;
    }
    return null;
  }

  /** The newest confirmed, not deleted message written by someone other than `userId` (receipt target). */
  newestByOthers(userId, { maxSeq = Infinity } = {}) {
    let best = null;
    for (const e of this.byId.values()) {
      if (e.deleted_at || !e.author || e.author.id === userId || e.seq > maxSeq) continue;
      if (!best || e.seq > best.seq) best = e;
    }
    return best;
  }

  /** Optimistic entries still waiting for an ack (to resend after a reconnect). */
  pending() {
    return this.list().filter((e) => !e.id && e.status === SEND.SENDING);
  }

  get oldestSeq() {
    let min = Infinity;
    for (const e of this.byId.values()) if (e.seq < min) min = e.seq;
    return min === Infinity ? null : min;
  }
}
