// DEVELOPMENT ONLY (loaded by app.js with ?mock=1): an in-browser fake of the Chatterbox server — REST (a fetch
// replacement) and the chatterbox.v1 WebSocket (a WebSocket replacement) — with a seeded workspace, so the client can
// be developed and screenshotted without the server. Every frame it emits is checked against the generated
// validators, so it cannot drift from the protocol. `window.__mock` drives it from tests (say, typing, presence, drop).
import { dayKey } from '../format/days.js';
import { check } from '../protocol/validators.js';

const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})\d*Z$/, '.$1Z');

export function installMock({ scenario = 'demo' } = {}) {
  const now = Date.now();
  const users = {
    alice: { id: 'u_alice01', username: 'alice', display_name: 'Alice Martin' },
    bob: { id: 'u_bob0001', username: 'bob', display_name: 'Bob Chen' },
    carol: { id: 'u_carol01', username: 'carol', display_name: 'Carol Díaz' },
    dave: { id: 'u_dave001', username: 'dave', display_name: 'Dave Okafor' },
    erin: { id: 'u_erin001', username: 'erin', display_name: 'Erin Walsh' },
  };
  const presence = {
    u_bob0001: { status: 'online', last_seen: null },
    u_carol01: { status: 'away', last_seen: null },
    u_dave001: { status: 'offline', last_seen: iso(now - 42 * 60000) },
    u_erin001: { status: 'offline', last_seen: iso(now - 2 * DAY) },
  };
  const rooms = {};
  const room = (id, kind, name, topic, memberNames, dm = null) =>
    (rooms[id] = { id, kind, name, topic, members: memberNames.map((n) => users[n].id), events: [], messages: [], markers: {}, dm });
  room('r_general', 'public', 'general', 'Anything goes · be kind', ['alice', 'bob', 'carol', 'dave', 'erin']);
  room('r_design', 'public', 'design', 'Pixels, type and colour', ['alice', 'carol', 'erin']);
  room('r_random', 'public', 'random', null, ['alice', 'bob', 'dave']);
  room('r_launch', 'private', 'launch-plan', 'Q1 launch, internal', ['alice', 'bob', 'carol']);
  room('r_dmbob', 'dm', 'DM', null, ['alice', 'bob'], true);
  room('r_dmcarol', 'dm', 'DM', null, ['alice', 'carol'], true);
  room('r_crafts', 'public', 'crafts', 'Knitting, woodwork, 3D printing', ['bob', 'dave']);
  const byId = Object.fromEntries(Object.values(users).map((u) => [u.id, u]));
  let msgCounter = 1000;

  function append(roomId, authorId, body, at, extra = {}) {
    const r = rooms[roomId];
    const seq = r.events.length + 1;
    const m = { id: `m_${(msgCounter++).toString(36)}mock`, room_id: roomId, seq, author: byId[authorId], body, client_msg_id: extra.client_msg_id || null, created_at: iso(at), edited_at: null, deleted_at: null };
    r.messages.push(m);
    r.events.push({ type: 'message.created', room_id: roomId, seq, message: { ...m } });
    return m;
  }
  function mutate(roomId, m, kind, at) {
    const r = rooms[roomId];
    const seq = r.events.length + 1;
    if (kind === 'delete') Object.assign(m, { body: null, deleted_at: iso(at), edited_at: null });
    r.events.push({ type: kind === 'delete' ? 'message.deleted' : 'message.updated', room_id: roomId, seq, message: { ...m } });
    return r.events[r.events.length - 1];
  }

  // ---- seed --------------------------------------------------------------------------------------------------
  const A = users.alice.id, B = users.bob.id, C = users.carol.id, D = users.dave.id, E = users.erin.id;
  const chatter = [
    [B, 'Morning all ☕'], [C, 'Morning! Anyone seen the new build?'], [D, 'Yes, it is much faster on my laptop'], [E, 'The sidebar feels snappier too'],
    [B, 'I pushed the fix for the reconnect loop'], [C, 'Nice 🎉'], [D, 'Lunch at 12:30?'], [E, 'Count me in 🍜'], [B, 'Same'],
    [C, 'Reminder: design review on Thursday'], [D, 'Noted'], [E, 'Will bring the mockups'], [B, 'Can someone review PR #42?'], [C, 'On it'],
  ];
  let t = now - 3 * DAY - 5 * 3600000;
  for (let i = 0; i < 36; i++) {
    const [who, text] = chatter[i % chatter.length];
    append('r_general', who, text, (t += 9 * 60000));
  }
  t = now - DAY - 3 * 3600000;
  const y1 = append('r_general', C, 'Here are the notes from the retro: https://example.com/notes/retro-14 — short version: ship smaller, ship more often.', (t += 60000));
  append('r_general', B, 'Thanks Carol! One thing I would add: the flaky test in the resume suite cost us two days. Let us quarantine flaky tests the same day we see them, and keep a list so someone owns each one until it is fixed.', (t += 120000));
  const gone = append('r_general', D, 'oops, wrong channel', (t += 60000));
  mutate('r_general', gone, 'delete', t + 30000);
  append('r_general', A, 'Agreed, I will set up the quarantine label 👍', (t += 300000));
  t = now - 70 * 60000;
  append('r_general', E, 'Who is around for a quick sync about the launch?', (t += 60000));
  append('r_general', A, 'I am! Give me five minutes', (t += 120000));
  const edited = append('r_general', B, 'Joining too, the agenda is in the doc', (t += 60000));
  Object.assign(edited, { body: 'Joining too, the agenda is in the launch doc 📄', edited_at: iso(t + 90000) });
  mutate('r_general', edited, 'edit', t + 90000);
  append('r_general', A, 'Perfect. I moved the launch checklist to the wiki so we can all edit it.', (t += 600000));
  append('r_general', C, 'Looks great! Can we add a rollback step before the DNS switch?', (t += 300000));
  append('r_general', A, 'Good call, adding it now ✅', (t += 200000));
  void y1;
  rooms.r_general.markers = {
    [B]: { delivered: rooms.r_general.messages.at(-1).seq, seen: rooms.r_general.messages.at(-1).seq },
    [C]: { delivered: rooms.r_general.messages.at(-1).seq, seen: rooms.r_general.messages.at(-1).seq },
    [D]: { delivered: rooms.r_general.messages.at(-2).seq, seen: 0 },
    [E]: { delivered: rooms.r_general.messages.at(-1).seq, seen: rooms.r_general.messages.at(-3).seq },
    [A]: { delivered: rooms.r_general.messages.at(-2).seq, seen: rooms.r_general.messages.at(-2).seq },
  };
  append('r_design', C, 'New colour tokens are in Figma 🎨', now - 5 * 3600000);
  append('r_design', E, 'Love the darker indigo', now - 4 * 3600000);
  append('r_random', D, 'Friday playlist thread 🎧', now - 2 * DAY);
  append('r_random', B, 'https://example.org/playlist?id=42', now - 2 * DAY + 60000);
  append('r_launch', B, 'Launch moved to Tuesday', now - 6 * 3600000);
  append('r_launch', C, 'Works for me', now - 5 * 3600000);
  append('r_launch', B, 'Press kit draft is ready for review', now - 20 * 60000);
  append('r_dmbob', B, 'Hey! Do you have a minute later today?', now - 3 * 3600000);
  append('r_dmbob', A, 'Sure, after 3?', now - 3 * 3600000 + 120000);
  append('r_dmbob', B, 'Perfect 👍', now - 3 * 3600000 + 180000);
  rooms.r_dmbob.markers = { [B]: { delivered: 2, seen: 2 }, [A]: { delivered: 3, seen: 3 } };
  append('r_dmcarol', C, 'Can you look at my slides before Thursday?', now - 25 * 60000);
  append('r_crafts', D, 'Finished the walnut shelf!', now - 3 * DAY);

  // ---- session -----------------------------------------------------------------------------------------------
  const params = new URLSearchParams(location.search);
  let me = null;
  const stored = sessionStorage.getItem('mock.user');
  if (params.get('autologin')) me = users[params.get('autologin')] || null;
  else if (stored) me = JSON.parse(stored);
  const setMe = (u) => {
    me = u;
    if (u) sessionStorage.setItem('mock.user', JSON.stringify(u));
    else sessionStorage.removeItem('mock.user');
  };

  const roomView = (r) => {
    const meId = me.id;
    const seen = (r.markers[meId] && r.markers[meId].seen) || 0;
    const other = r.dm ? byId[r.members.find((id) => id !== meId)] : null;
    return {
      id: r.id,
      kind: r.kind,
      name: other ? other.display_name : r.name,
      topic: r.topic,
      role: r.id === 'r_general' ? 'member' : 'owner',
      last_seq: r.events.length,
      unread_count: r.messages.filter((m) => m.seq > seen && m.author.id !== meId && !m.deleted_at).length,
      dm_user: other,
    };
  };
  const myRooms = () => Object.values(rooms).filter((r) => r.members.includes(me.id));

  // ---- REST --------------------------------------------------------------------------------------------------
  const json = (status, body) => new Response(body === undefined ? '' : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const fail = (status, code, message, field = null) => json(status, { error: { code, message, field } });

  async function fetchImpl(url, init = {}) {
    await new Promise((r) => setTimeout(r, 60));
    const u = new URL(url, location.href);
    const path = u.pathname;
    const method = init.method || 'GET';
    const body = init.body ? JSON.parse(init.body) : {};
    if (path === '/api/auth/login' || path === '/api/auth/register') {
      const name = String(body.username || '').toLowerCase();
      if (path.endsWith('register')) {
        if (users[name]) return fail(409, 'username_taken', 'That username is taken.', 'username');
        users[name] = { id: `u_${name.replace(/[^0-9a-z]/g, '')}x01`.slice(0, 20), username: name, display_name: body.display_name || name };
        byId[users[name].id] = users[name];
        rooms.r_general.members.push(users[name].id);
      } else if (!users[name] || body.password === 'wrong') return fail(401, 'invalid_credentials', 'Wrong username or password.', 'password');
      setMe(users[name]);
      return json(path.endsWith('register') ? 201 : 200, { user: me, session_id: 's_mock0001', token: 'x', refresh_token: 'y', expires_at: iso(now + DAY) });
    }
    if (!me) return fail(401, 'unauthorized', 'Not signed in');
    if (path === '/api/auth/logout') {
      setMe(null);
      return json(204);
    }
    if (path === '/api/users/me') return json(200, me);
    if (path === '/api/users') {
      const q = (u.searchParams.get('q') || '').toLowerCase();
      return json(200, Object.values(users).filter((x) => x.username.startsWith(q) || x.display_name.toLowerCase().startsWith(q)));
    }
    if (path === '/api/rooms' && method === 'GET') return json(200, myRooms().map(roomView));
    if (path === '/api/rooms/public') return json(200, Object.values(rooms).filter((r) => r.kind === 'public').map((r) => ({ ...roomView(r), role: 'member' })));
    if (path === '/api/rooms' && method === 'POST') {
      if (!body.name || !body.name.trim()) return fail(422, 'invalid', 'Give the room a name.', 'name');
      const id = `r_${body.name.toLowerCase().replace(/[^0-9a-z]/g, '').slice(0, 20) || 'room'}${Object.keys(rooms).length}`;
      room(id, body.kind, body.name, body.topic || null, [me.username]);
      rooms[id].members = [me.id];
      return json(201, roomView(rooms[id]));
    }
    let m = path.match(/^\/api\/rooms\/(r_[0-9a-z]+)\/(join|leave|members)$/);
    if (m) {
      const r = rooms[m[1]];
      if (!r) return fail(404, 'not_found', 'No such room');
      if (m[2] === 'join') {
        if (!r.members.includes(me.id)) r.members.push(me.id);
        return json(200, roomView(r));
      }
      if (m[2] === 'leave') {
        r.members = r.members.filter((id) => id !== me.id);
        return json(200, {});
      }
      if (method === 'POST') {
        const who = users[String(body.username || '').toLowerCase()];
        if (!who) return fail(404, 'not_found', `No user called “${body.username}”.`, 'username');
        if (!r.members.includes(who.id)) r.members.push(who.id);
        return json(200, {});
      }
      return json(200, r.members.map((id) => ({ user: byId[id], role: id === me.id && r.id !== 'r_general' ? 'owner' : 'member', joined_seq: 0 })));
    }
    m = path.match(/^\/api\/dm\/([A-Za-z0-9_.-]+)$/);
    if (m) {
      const other = users[m[1].toLowerCase()];
      if (!other) return fail(404, 'not_found', 'No such user');
      let r = Object.values(rooms).find((x) => x.dm && x.members.includes(me.id) && x.members.includes(other.id));
      if (!r) r = room(`r_dm${other.username.replace(/[^0-9a-z]/g, '')}${Object.keys(rooms).length}`, 'dm', 'DM', null, [me.username, other.username], true);
      return json(200, roomView(r));
    }
    return fail(404, 'not_found', `Mock: no route ${method} ${path}`);
  }

  // ---- WebSocket ---------------------------------------------------------------------------------------------
  let socket = null;
  const TYPING_MS = 6000;

  class MockWebSocket {
    constructor(url, protocols) {
      this.url = url;
      this.readyState = 0;
      this.protocol = protocols.includes('chatterbox.v1') ? 'chatterbox.v1' : '';
      const q = new URL(url).searchParams;
      this.tz = q.get('tz') || 'UTC';
      this.roomParam = q.get('room');
      socket = this;
      setTimeout(() => {
        if (!me) return this._close(1006);
        this.readyState = 1;
        this.onopen && this.onopen({});
        this._hello();
      }, 120);
    }

    send(text) {
      const f = JSON.parse(text);
      const res = check('client', f);
      if (!res.valid) return this.emit({ type: 'error', re: f.id || null, code: 'invalid_frame', message: res.errors[0].message, pointer: res.errors[0].instancePath, retry_after_ms: null });
      setTimeout(() => this._handle(f), 40);
    }

    close(code = 1000) {
      this._close(code, false);
    }

    _close(code, notify = true) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      if (socket === this) socket = null;
      if (notify || true) setTimeout(() => this.onclose && this.onclose({ code, reason: '' }), 0);
    }

    emit(frame) {
      if (this.readyState !== 1) return;
      const r = check('server', frame);
      if (!r.valid) console.error('[mock] emitted an invalid frame', frame, r.errors);
      this.onmessage && this.onmessage({ data: JSON.stringify(frame) });
    }

    _page(r, beforeSeq, limit) {
      const all = r.messages.filter((m) => m.seq < beforeSeq).sort((a, b) => a.seq - b.seq);
      const slice = all.slice(-limit);
      const days = [];
      for (const m of slice) {
        const date = dayKey(m.created_at, this.tz);
        if (!days.length || days[days.length - 1].date !== date) days.push({ date, messages: [] });
        days[days.length - 1].messages.push({ ...m });
      }
      const hasMore = all.length > slice.length;
      return { room_id: r.id, days, has_more: hasMore, next_cursor: hasMore ? `c${slice[0].seq}` : null };
    }

    _markers(r) {
      const out = [];
      for (const [uid, mk] of Object.entries(r.markers)) {
        for (const state of ['delivered', 'seen']) {
          const seq = mk[state];
          const m = seq && r.messages.find((x) => x.seq === seq);
          if (m) out.push({ user_id: uid, room_id: r.id, state, message_id: m.id, seq, at: iso(Date.now() - 60000) });
        }
      }
      return out;
    }

    _hello() {
      const mine = myRooms();
      const active = mine.find((r) => r.id === this.roomParam) || mine[0] || null;
      this.emit({
        type: 'hello',
        protocol: 'chatterbox.v1',
        server_version: '0.1.0-mock',
        session_id: 's_mock0001',
        user: me,
        time_zone: this.tz,
        heartbeat_interval_ms: 20000,
        typing_timeout_ms: TYPING_MS,
        limits: { max_frame_bytes: 65536, max_body_chars: 4000, history_max_limit: 100, rate_per_second: 10, rate_burst: 30 },
        rooms: mine.map(roomView),
        active_room_id: active ? active.id : null,
        history: active ? this._page(active, Infinity, 50) : null,
        receipts: active ? this._markers(active) : [],
        presence: Object.entries(presence).map(([user_id, p]) => ({ user_id, ...p })),
      });
    }

    _handle(f) {
      const ack = (result) => this.emit({ type: 'ack', re: f.id, result });
      const err = (code, message) => this.emit({ type: 'error', re: f.id, code, message, pointer: null, retry_after_ms: null });
      const findMsg = (id) => {
        for (const r of Object.values(rooms)) {
          const m = r.messages.find((x) => x.id === id);
          if (m) return [r, m];
        }
        return [null, null];
      };
      switch (f.type) {
        case 'ping':
          return this.emit({ type: 'pong', re: f.id, server_time: iso(Date.now()) });
        case 'message.send': {
          const r = rooms[f.room_id];
          if (!r || !r.members.includes(me.id)) return err('not_found', 'No such room');
          const dup = r.messages.find((m) => m.client_msg_id === f.client_msg_id && m.author.id === me.id);
          if (dup) return ack({ message: { ...dup } });
          if (/\bfail\b/i.test(f.body) && !this._failedOnce) {
            this._failedOnce = true;
            return err('unavailable', 'Simulated failure (mock): retry me');
          }
          const m = append(r.id, me.id, f.body, Date.now(), { client_msg_id: f.client_msg_id });
          broadcast(r, r.events[r.events.length - 1]);
          ack({ message: { ...m } });
          reactTo(r, m);
          return undefined;
        }
        case 'message.edit':
        case 'message.delete': {
          const [r, m] = findMsg(f.message_id);
          if (!m) return err('not_found', 'No such message');
          if (m.author.id !== me.id) return err('forbidden', 'Not your message');
          if (f.type === 'message.edit') {
            if (m.deleted_at) return err('message_deleted', 'Deleted');
            if (m.body !== f.body) {
              Object.assign(m, { body: f.body, edited_at: iso(Date.now()) });
              broadcast(r, mutate(r.id, m, 'edit', Date.now()));
            }
          } else if (!m.deleted_at) broadcast(r, mutate(r.id, m, 'delete', Date.now()));
          return ack({ message: { ...m } });
        }
        case 'typing':
          return ack({ room_id: f.room_id, state: f.state, expires_in_ms: f.state === 'start' ? TYPING_MS : 0 });
        case 'receipt': {
          const r = rooms[f.room_id];
          const m = r && r.messages.find((x) => x.id === f.message_id);
          if (!m || m.author.id === me.id || m.deleted_at) return err('invalid_receipt', 'Invalid receipt');
          const mk = (r.markers[me.id] = r.markers[me.id] || { delivered: 0, seen: 0 });
          if ((mk[f.state] || 0) > m.seq) return err('invalid_receipt', 'Backwards');
          mk[f.state] = m.seq;
          if (f.state === 'seen') mk.delivered = Math.max(mk.delivered, m.seq);
          return ack({ marker: { user_id: me.id, room_id: r.id, state: f.state, message_id: m.id, seq: m.seq, at: iso(Date.now()) } });
        }
        case 'history': {
          const r = rooms[f.room_id];
          if (!r || !r.members.includes(me.id)) return err('not_found', 'No such room');
          const before = f.before ? Number(f.before.slice(1)) : Infinity;
          const page = this._page(r, before, f.limit || 50);
          this.emit({ type: 'history', re: f.id, ...page });
          return ack({ room_id: r.id, count: page.days.reduce((n, d) => n + d.messages.length, 0) });
        }
        case 'resume': {
          const result = {};
          for (const [id, seq] of Object.entries(f.rooms)) {
            const r = rooms[id];
            if (!r || !r.members.includes(me.id)) {
              this.emit({ type: 'resync', room_id: id, reason: 'access_lost' });
              continue;
            }
            for (const ev of r.events.filter((e) => e.seq > seq)) this.emit(currentCopy(r, ev));
            const markers = this._markers(r);
            if (markers.length) this.emit({ type: 'receipt', room_id: id, markers });
            for (const uid of r.members) if (presence[uid]) this.emit({ type: 'presence', user_id: uid, ...presence[uid] });
            result[id] = r.events.length;
          }
          return ack({ rooms: result });
        }
        case 'presence.set':
          return ack({ status: f.status });
        default:
          return err('unknown_type', 'Unknown');
      }
    }
  }

  // A replayed event carries the message as it is now (a deleted message replays as a placeholder).
  function currentCopy(r, ev) {
    const now = r.messages.find((m) => ev.message && m.id === ev.message.id);
    return ev.message ? { ...ev, message: { ...now } } : ev;
  }
  function broadcast(r, ev) {
    if (socket && r.members.includes(me.id)) socket.emit(ev);
  }
  function marker(r, uid, state, m) {
    const mk = (r.markers[uid] = r.markers[uid] || { delivered: 0, seen: 0 });
    mk[state] = Math.max(mk[state] || 0, m.seq);
    if (state === 'seen') mk.delivered = Math.max(mk.delivered || 0, m.seq);
    if (socket) socket.emit({ type: 'receipt', room_id: r.id, markers: [{ user_id: uid, room_id: r.id, state, message_id: m.id, seq: m.seq, at: iso(Date.now()) }] });
  }
  function typing(r, uid, state) {
    if (socket) socket.emit({ type: 'typing', room_id: r.id, user: byId[uid], state, expires_in_ms: state === 'start' ? TYPING_MS : 0 });
  }
  function say(roomId, uid, body) {
    const r = rooms[roomId];
    const m = append(roomId, uid, body, Date.now());
    broadcast(r, r.events[r.events.length - 1]);
    return m;
  }
  // Others react to what you write: delivered at once, seen a bit later, and Bob answers in your DM.
  function reactTo(r, m) {
    if (scenario === 'quiet') return;
    const others = r.members.filter((id) => id !== me.id);
    const online = others.filter((id) => presence[id] && presence[id].status !== 'offline');
    setTimeout(() => online.forEach((uid) => marker(r, uid, 'delivered', m)), 500);
    setTimeout(() => online.filter((uid) => presence[uid].status === 'online').forEach((uid) => marker(r, uid, 'seen', m)), 1600);
    if (r.dm && others.includes(B)) {
      setTimeout(() => typing(r, B, 'start'), 1900);
      setTimeout(() => say(r.id, B, replies[replyIndex++ % replies.length]), 4200);
    }
  }
  const replies = ['Sounds good to me 👍', 'Ha, exactly what I was thinking', 'Let me check and get back to you', 'Done ✅'];
  let replyIndex = 0;

  window.__mock = {
    users,
    rooms,
    say: (roomId, username, body) => say(roomId, users[username].id, body),
    typing: (roomId, username, state = 'start') => typing(rooms[roomId], users[username].id, state),
    presence: (username, status) => {
      const p = (presence[users[username].id] = { status, last_seen: status === 'offline' ? iso(Date.now()) : null });
      if (socket) socket.emit({ type: 'presence', user_id: users[username].id, ...p });
    },
    seen: (roomId, username) => {
      const r = rooms[roomId];
      marker(r, users[username].id, 'seen', r.messages[r.messages.length - 1]);
    },
    drop: (code = 1012) => socket && socket._close(code),
  };

  return { fetchImpl, WebSocketImpl: MockWebSocket };
}
