// Presence of the users we share a room with. Pure.

export class PresenceBook {
  constructor() {
    /** @type {Map<string, {status: string, last_seen: string|null}>} */
    this.users = new Map();
  }

  apply(state) {
    const prev = this.users.get(state.user_id);
    this.users.set(state.user_id, { status: state.status, last_seen: state.last_seen });
    return !prev || prev.status !== state.status || prev.last_seen !== state.last_seen;
  }

  get(userId) {
    return this.users.get(userId) || { status: 'offline', last_seen: null };
  }

  reset(states) {
    this.users.clear();
    for (const s of states) this.apply(s);
  }
}
