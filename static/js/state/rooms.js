// The user's rooms, grouped for the sidebar. Pure.

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

export class RoomList {
  constructor() {
    /** @type {Map<string, object>} */
    this.rooms = new Map();
  }

  reset(rooms) {
    this.rooms.clear();
    for (const r of rooms) this.rooms.set(r.id, { ...r });
  }

  upsert(room) {
    const prev = this.rooms.get(room.id);
    this.rooms.set(room.id, prev ? { ...prev, ...room } : { ...room });
    return this.rooms.get(room.id);
  }

  remove(roomId) {
    return this.rooms.delete(roomId);
  }

  get(roomId) {
    return this.rooms.get(roomId) || null;
  }

  has(roomId) {
    return this.rooms.has(roomId);
  }

  /** {public, private, dm}, each sorted by name. */
  sections() {
    const out = { public: [], private: [], dm: [] };
    for (const r of this.rooms.values()) (out[r.kind] || out.public).push(r);
    for (const key of Object.keys(out)) out[key].sort((a, b) => collator.compare(a.name, b.name));
    return out;
  }

  /** The first room in sidebar order (fallback when the active room goes away). */
  first() {
    const s = this.sections();
    return s.public[0] || s.private[0] || s.dm[0] || null;
  }
}
