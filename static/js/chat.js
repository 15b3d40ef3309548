// The chat controller: applies server frames to the pure state modules, sends commands through the connection (and so
// through the frame gate), and asks the UI modules to render. The only module that knows about all the others.
import { asRoom } from './api.js';
import { CommandError, Connection, ConnectionLost } from './connection.js';
import { colorSlot, displayName, initials } from './format/names.js';
import { typingSentence } from './format/typing.js';
import { FrameRejected, newClientMsgId } from './protocol/frames.js';
import { RoomMessages, SEND } from './state/messages.js';
import { Pacer } from './state/pacer.js';
import { PresenceBook } from './state/presence.js';
import { ReceiptSends } from './state/receipt-sends.js';
import { ReceiptBook, receiptAudience, receiptLabel, receiptStatus } from './state/receipts.js';
import { RoomList } from './state/rooms.js';
import { SEQ, SeqTracker } from './state/sequence.js';
import { TypingBoard, TypingSender } from './state/typing.js';
import { UnreadCounter } from './state/unread.js';
import { Banner } from './ui/banner.js';
import { Composer } from './ui/composer.js';
import { browseRoomsDialog, confirmDialog, createRoomDialog, dmDialog } from './ui/dialogs.js';
import { byId } from './ui/dom.js';
import { EmojiPicker } from './ui/emoji-picker.js';
import { MemberList, presenceText } from './ui/members.js';
import { Sidebar } from './ui/sidebar.js';
import { Timeline } from './ui/timeline.js';

const SEND_TIMEOUT_MS = 15000;
const AWAY_AFTER_MS = 60000;
const DURABLE = new Set(['message.created', 'message.updated', 'message.deleted', 'member.joined', 'member.left']);

export class Chat {
  /**
   * @param {object} o {api, timeZone, locale, dev, WebSocketImpl, wsUrl(roomId), onSignedOut}
   */
  constructor(o) {
    this.o = o;
    this.me = null;
    this.limits = { max_body_chars: 4000, history_max_limit: 100 };
    this.rooms = new RoomList();
    this.stores = new Map();
    this.seq = new SeqTracker();
    this.receipts = new ReceiptBook();
    /** `delivered` receipts: at most one per room per 150 ms, for the newest message at that moment. */
    this.deliveredPacer = new Pacer(150, (roomId) => this.sendDelivered(roomId));
    this.presence = new PresenceBook();
    this.unread = new UnreadCounter();
    this.typing = new TypingBoard();
    this.typingOut = new TypingSender();
    this.typingRoom = null;
    this.members = new Map(); // room id → [{user, role, joined_seq}]
    this.joinSeq = new Map(); // room id → Map(user id → seq of their member.joined)
    this.outbox = new Map(); // client_msg_id → {roomId, body, timer}
    this.receiptSends = new ReceiptSends(); // our receipts in flight
    this.activeRoomId = (location.hash.match(/^#(r_[0-9a-z]{3,32})$/) || [])[1] || null;
    this.loadingOlder = false;
    this.dirty = new Set();
    this.flushTimer = null;

    this.conn = new Connection({
      url: () => o.wsUrl(this.activeRoomId),
      WebSocketImpl: o.WebSocketImpl,
      validateIncoming: o.dev,
      onHello: (hello, info) => this.onHello(hello, info),
      onFrame: (frame) => this.onFrame(frame),
      onStatus: (status) => this.onStatus(status),
      onAuthLost: () => this.signOut({ server: false, message: 'Your session ended. Please sign in again.' }),
      checkSession: async () => {
        try {
          await o.api.me();
          return true;
        } catch (err) {
          return !(err.status === 401 || err.status === 403);
        }
      },
      onRejectedFrame: (err) => this.frameRejected(err),
      onInvalidFrame: (errors, frame) => this.toast(`Dev: invalid ${frame ? frame.type : ''} frame from the server (see console)`),
    });

    this._bindUi();
  }

  // ---- UI wiring ---------------------------------------------------------------------------------------------

  _bindUi() {
    const clock = () => ({ timeZone: this.o.timeZone, locale: this.o.locale, now: Date.now() });
    this.clock = clock;
    this.banner = new Banner({ onRetry: () => this.conn.reconnectNow() });
    this.sidebar = new Sidebar({ onSelect: (id) => this.selectRoom(id) });
    this.memberList = new MemberList();
    this.timeline = new Timeline({
      scroller: byId('timeline'),
      log: byId('message-log'),
      top: byId('timeline-top'),
      jump: byId('jump-latest'),
      jumpText: byId('jump-text'),
      clock,
      meId: () => this.me && this.me.id,
      receiptFor: (e) => this.receiptFor(e),
      onLoadOlder: () => this.loadOlder(),
      onVisibleChange: () => this.checkSeen(),
      onReachBottom: () => this.checkSeen(),
      onEdit: (e) => this.composer.startEdit(e),
      onDelete: (e) => this.deleteMessage(e),
      onRetry: (e) => this.retry(e),
      onDiscard: (e) => this.discard(e),
    });
    this.composer = new Composer({
      maxChars: () => this.limits.max_body_chars,
      onSend: (text) => this.send(text),
      onSaveEdit: (entry, text) => this.edit(entry, text),
      onEditLast: () => {
        const store = this.store(this.activeRoomId);
        const last = store && this.me ? store.lastEditable(this.me.id) : null;
        if (last) this.composer.startEdit(last);
        return Boolean(last);
      },
      onInput: (hasText) => this.typed(hasText),
    });
    this.picker = new EmojiPicker({ onPick: (ch) => this.composer.insertText(ch), returnFocus: () => this.composer.focus() });

    byId('logout').addEventListener('click', () => this.signOut({ server: true }));
    byId('create-room').addEventListener('click', () =>
      createRoomDialog({ create: async (kind, name, topic) => asRoom(await this.o.api.createRoom(kind, name, topic)), onCreated: (room) => this.addRoom(room, { open: true }) }),
    );
    byId('browse-rooms').addEventListener('click', () =>
      browseRoomsDialog({
        list: () => this.o.api.publicRooms(),
        join: async (id) => asRoom(await this.o.api.joinRoom(id)),
        isMember: (id) => this.rooms.has(id),
        onJoined: (room) => this.addRoom(room, { open: true }),
      }),
    );
    byId('new-dm').addEventListener('click', () =>
      dmDialog({ search: (q) => this.o.api.searchUsers(q), open: async (u) => asRoom(await this.o.api.openDm(u)), meId: this.me && this.me.id, onOpened: (room) => this.addRoom(room, { open: true }) }),
    );
    byId('leave-room').addEventListener('click', () => this.leaveRoom());

    const membersToggle = byId('members-toggle');
    const membersPanel = byId('members');
    const setMembers = (open) => {
      membersPanel.hidden = !open;
      membersToggle.setAttribute('aria-expanded', String(open));
      if (open) this.loadMembers(this.activeRoomId);
    };
    this.setMembersOpen = setMembers;
    membersToggle.addEventListener('click', () => setMembers(membersPanel.hidden));
    byId('members-close').addEventListener('click', () => {
      setMembers(false);
      membersToggle.focus();
    });
    byId('invite-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.invite();
    });

    const navToggle = byId('nav-toggle');
    const scrim = byId('scrim');
    const setNav = (open) => {
      document.body.classList.toggle('nav-open', open);
      navToggle.setAttribute('aria-expanded', String(open));
      scrim.hidden = !open;
      const side = byId('sidebar');
      if (open) (side.querySelector('.room-link--active') || side.querySelector('a, button'))?.focus();
    };
    this.setNavOpen = setNav;
    navToggle.addEventListener('click', () => setNav(!document.body.classList.contains('nav-open')));
    scrim.addEventListener('click', () => setNav(false));
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && document.body.classList.contains('nav-open')) {
        setNav(false);
        navToggle.focus();
      }
    });

    window.addEventListener('hashchange', () => {
      const m = location.hash.match(/^#(r_[0-9a-z]{3,32})$/);
      if (m && m[1] !== this.activeRoomId && this.rooms.has(m[1])) this.selectRoom(m[1]);
    });
    window.addEventListener('focus', () => this.checkSeen());
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
    window.addEventListener('online', () => this.conn.reconnectNow());
    this.tickTimer = setInterval(() => this.tick(), 1000);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------------------

  start(user) {
    this.me = user || null;
    byId('chat-screen').hidden = false;
    if (window.matchMedia('(min-width: 1200px)').matches) this.setMembersOpen(true);
    this.renderMe();
    this.conn.start();
  }

  async signOut({ server = true, message = '' } = {}) {
    this.conn.stop();
    clearInterval(this.tickTimer);
    if (server) await this.o.api.logout().catch(() => {});
    byId('chat-screen').hidden = true;
    this.o.onSignedOut(message);
  }

  onStatus(status) {
    this.banner.update(status);
    if (status.state !== 'open') {
      // Others' typing can't be trusted without a connection; ours is cleared by the server when we drop.
      this.typing = new TypingBoard();
      this.typingOut.sent();
      this.invalidate('typing');
    }
  }

  onHello(hello, { reconnect }) {
    this.me = hello.user;
    this.limits = hello.limits;
    this.typingOut.setTimeout(hello.typing_timeout_ms);
    this.rooms.reset(hello.rooms);
    for (const room of hello.rooms) this.unread.reset(room.id, room.unread_count, room.last_seq);
    const { resume, gone } = this.seq.onHello(hello.rooms);
    for (const id of gone) this.dropRoom(id);
    this.presence.reset(hello.presence);
    this.receiptSends.reset();
    for (const marker of hello.receipts) this.applyMarker(marker);

    if (!this.activeRoomId || !this.rooms.has(this.activeRoomId)) this.activeRoomId = hello.active_room_id || (this.rooms.first() || {}).id || null;
    if (hello.history) {
      const store = this.store(hello.history.room_id);
      store.mergePage(hello.history);
      this.afterMessagesArrived(hello.history.room_id);
    }
    this.resumeRooms(resume);
    if (this.activeRoomId) {
      const switching = !reconnect || this.timeline.roomId !== this.activeRoomId;
      if (switching) this.selectRoom(this.activeRoomId, { initial: true });
      else if (hello.history && hello.history.room_id !== this.activeRoomId) this.ensureLoaded(this.activeRoomId);
    } else {
      this.renderEmpty();
    }
    // Messages written while offline (or whose ack was lost) go out again with the same client_msg_id.
    for (const [cmid, item] of this.outbox) {
      const entry = this.store(item.roomId).byClientId.get(cmid);
      if (entry && !entry.id && entry.status === SEND.SENDING) this.dispatchSend(item.roomId, cmid, item.body, { fresh: false });
    }
    if (this.activeRoomId) this.loadMembers(this.activeRoomId, { force: reconnect });
    this.renderMe();
    this.invalidate('sidebar', 'timeline', 'members', 'header');
    if (document.visibilityState === 'hidden') this.visibilityChanged();
  }

  // ---- incoming frames ---------------------------------------------------------------------------------------

  onFrame(frame) {
    if (DURABLE.has(frame.type)) {
      this.durable(frame);
      return;
    }
    switch (frame.type) {
      case 'receipt':
        for (const marker of frame.markers) this.applyMarker(marker);
        if (frame.room_id === this.activeRoomId) this.invalidate('timeline');
        this.invalidate('sidebar');
        break;
      case 'typing':
        if (this.me && frame.user.id === this.me.id) break;
        this.typing.apply(frame, Date.now());
        this.invalidate('typing');
        break;
      case 'presence':
        if (this.presence.apply(frame)) this.invalidate('sidebar', 'members', 'header');
        break;
      case 'resync':
        this.resync(frame);
        break;
      case 'error':
        if (!frame.re) console.warn('[chatterbox] server error', frame.code, frame.message);
        break;
      default:
        break; // history pages and acks are answered through the command promises
    }
  }

  durable(frame) {
    const roomId = frame.room_id;
    const verdict = this.seq.accept(roomId, frame.seq);
    if (verdict === SEQ.UNKNOWN) {
      if (frame.type === 'member.joined' && this.me && frame.user.id === this.me.id) {
        // Added to a room we did not have: its events start here; fetch its details through REST.
        this.seq.set(roomId, frame.seq);
        this.unread.reset(roomId, 0, frame.seq);
        this.fetchRoom(roomId);
      }
      return;
    }
    if (verdict === SEQ.DUPLICATE) return;
    if (verdict === SEQ.GAP) {
      if (!this.seq.resuming.has(roomId)) this.resumeRooms({ [roomId]: this.seq.get(roomId) });
      return; // the replay includes this event
    }
    if (frame.type === 'member.joined' || frame.type === 'member.left') {
      this.membershipEvent(frame);
      return;
    }
    const message = frame.message;
    const store = this.store(roomId);
    store.applyServer(message);
    const mine = this.me && message.author.id === this.me.id;
    if (frame.type === 'message.created') {
      this.typing.clear(roomId, message.author.id);
      this.invalidate('typing');
      if (!mine) {
        this.unread.created(roomId, message, this.me && this.me.id);
        this.afterMessagesArrived(roomId);
        if (roomId === this.activeRoomId && !this.timeline.atBottom && this.timeline.markerSeq == null) this.timeline.setMarker(message.seq);
        if (roomId === this.activeRoomId) this.announce(`${displayName(message.author)}: ${message.body || ''}`, false);
      }
    } else if (frame.type === 'message.deleted') {
      this.unread.deleted(roomId, message, this.me && this.me.id);
    }
    if (roomId === this.activeRoomId) this.invalidate('timeline');
    this.invalidate('sidebar');
  }

  membershipEvent(frame) {
    const roomId = frame.room_id;
    const list = this.members.get(roomId);
    if (frame.type === 'member.joined') {
      if (!this.joinSeq.has(roomId)) this.joinSeq.set(roomId, new Map());
      this.joinSeq.get(roomId).set(frame.user.id, frame.seq);
      if (list && !list.some((m) => m.user.id === frame.user.id)) list.push({ user: frame.user, role: frame.role, joined_seq: frame.seq });
    } else {
      if (list) this.members.set(roomId, list.filter((m) => m.user.id !== frame.user.id));
      if (this.me && frame.user.id === this.me.id) this.dropRoom(roomId);
    }
    if (roomId === this.activeRoomId) this.invalidate('members', 'timeline', 'header');
  }

  applyMarker(marker) {
    const changed = this.receipts.apply(marker);
    if (this.me && marker.user_id === this.me.id && marker.state === 'seen') {
      if (this.unread.seen(marker.room_id, marker.seq)) this.invalidate('sidebar');
    }
    return changed;
  }

  resync(frame) {
    const room = this.rooms.get(frame.room_id);
    this.dropRoom(frame.room_id);
    if (room) this.toast(frame.reason === 'room_deleted' ? `“${room.name}” was deleted.` : `You no longer have access to “${room.name}”.`);
  }

  dropRoom(roomId) {
    this.stores.delete(roomId);
    this.seq.forget(roomId);
    this.receipts.forget(roomId);
    this.unread.forget(roomId);
    this.typing.clearRoom(roomId);
    this.members.delete(roomId);
    this.rooms.remove(roomId);
    for (const [cmid, item] of this.outbox) if (item.roomId === roomId) this.outbox.delete(cmid);
    if (roomId === this.activeRoomId) {
      const next = this.rooms.first();
      if (next) this.selectRoom(next.id);
      else {
        this.activeRoomId = null;
        this.renderEmpty();
      }
    }
    this.invalidate('sidebar');
  }

  // ---- rooms -------------------------------------------------------------------------------------------------

  store(roomId) {
    if (!roomId) return null;
    let s = this.stores.get(roomId);
    if (!s) this.stores.set(roomId, (s = new RoomMessages(roomId)));
    return s;
  }

  addRoom(room, { open = false } = {}) {
    if (!room || !room.id) return;
    const known = this.rooms.has(room.id);
    this.rooms.upsert(room);
    if (!this.seq.has(room.id)) this.seq.set(room.id, room.last_seq || 0);
    if (!known) this.unread.reset(room.id, room.unread_count || 0, room.last_seq || 0);
    this.invalidate('sidebar');
    if (open) this.selectRoom(room.id);
  }

  async fetchRoom(roomId) {
    try {
      const rooms = await this.o.api.myRooms();
      const room = rooms.find((r) => r.id === roomId);
      if (room) {
        this.rooms.upsert(room);
        this.invalidate('sidebar');
      }
    } catch (err) {
      console.warn('[chatterbox] cannot load room', roomId, err);
    }
  }

  selectRoom(roomId, { initial = false } = {}) {
    if (!this.rooms.has(roomId)) return;
    if (this.typingRoom && this.typingRoom !== roomId) this.sendTyping(this.typingRoom, this.typingOut.reset());
    if (this.composer.editing) this.composer.cancelEdit({ restoreDraft: false });
    this.picker.close({ focus: false });
    this.activeRoomId = roomId;
    if (location.hash !== `#${roomId}`) history.replaceState(null, '', `#${roomId}`);
    this.timeline.setRoom(roomId, { markerSeq: this.firstUnreadSeq(roomId) });
    this.ensureLoaded(roomId);
    this.loadMembers(roomId);
    this.setNavOpen && this.setNavOpen(false);
    this.invalidate('sidebar', 'header', 'timeline', 'typing', 'members');
    this.flush();
    if (!initial) this.composer.focus();
  }

  /** Load a room's newest page (when not loaded yet), and its receipt markers and presence (resume at our seq). */
  ensureLoaded(roomId) {
    const store = this.store(roomId);
    if (!this.conn.isOpen) return;
    if (!store.loaded && !store.loadingNewest) {
      store.loadingNewest = true;
      this.conn
        .command('history', roomId, null, 50)
        .then(({ page }) => {
          store.mergePage(page);
          if (roomId === this.activeRoomId && this.timeline.markerSeq == null) this.timeline.setMarker(this.firstUnreadSeq(roomId));
          this.afterMessagesArrived(roomId);
          this.invalidate('timeline');
        })
        .catch((err) => this.commandFailed('load messages', err))
        .finally(() => (store.loadingNewest = false));
      if (this.seq.has(roomId) && !this.seq.resuming.has(roomId)) this.resumeRooms({ [roomId]: this.seq.get(roomId) });
    }
  }

  firstUnreadSeq(roomId) {
    const count = this.unread.count(roomId);
    const store = this.stores.get(roomId);
    if (!count || !store || !this.me) return null;
    const seen = this.receipts.seqOf(roomId, this.me.id, 'seen');
    const others = store.list().filter((e) => e.id && !e.deleted_at && e.author.id !== this.me.id);
    if (seen) {
      const first = others.find((e) => e.seq > seen);
      if (first) return first.seq;
    }
    const first = others[Math.max(0, others.length - count)];
    return first ? first.seq : null;
  }

  resumeRooms(rooms) {
    const ids = Object.keys(rooms);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = {};
      for (const id of ids.slice(i, i + 500)) {
        chunk[id] = rooms[id];
        this.seq.resuming.add(id);
      }
      this.conn
        .command('resume', chunk)
        .then((result) => {
          for (const [id, seq] of Object.entries(result.rooms)) {
            this.seq.resumed(id, seq);
            this.deliveredPacer.poke(id); // a receipt lost with the old connection goes out now
          }
        })
        .catch((err) => {
          for (const id of Object.keys(chunk)) this.seq.resuming.delete(id);
          if (!(err instanceof ConnectionLost)) this.commandFailed('catch up', err);
        });
    }
  }

  async loadMembers(roomId, { force = false } = {}) {
    if (!roomId) return;
    const room = this.rooms.get(roomId);
    if (!force && this.members.has(roomId)) {
      this.invalidate('members');
      return;
    }
    try {
      const list = await this.o.api.members(roomId);
      this.members.set(roomId, list);
      const js = this.joinSeq.get(roomId) || new Map();
      for (const m of list) if (m.joined_seq != null) js.set(m.user.id, m.joined_seq);
      this.joinSeq.set(roomId, js);
    } catch (err) {
      if (room && room.kind === 'dm' && room.dm_user && this.me) this.members.set(roomId, [{ user: this.me, role: 'member' }, { user: room.dm_user, role: 'member' }]);
      else console.warn('[chatterbox] cannot load members', err);
    }
    if (roomId === this.activeRoomId) this.invalidate('members', 'timeline', 'header');
  }

  loadOlder() {
    const roomId = this.activeRoomId;
    const store = this.store(roomId);
    if (!store || !store.loaded || !store.hasMore || this.loadingOlder || !this.conn.isOpen) return;
    this.loadingOlder = true;
    this.timeline.loadingOlder = true;
    this.timeline.o.top.textContent = 'Loading earlier messages…';
    this.conn
      .command('history', roomId, store.cursor, 50)
      .then(({ page }) => {
        store.mergePage(page, { older: true });
        this.afterMessagesArrived(roomId);
        if (roomId === this.activeRoomId) this.timeline.render(store.list(), { hasMore: store.hasMore, prepended: true });
      })
      .catch((err) => this.commandFailed('load earlier messages', err))
      .finally(() => {
        this.loadingOlder = false;
        this.timeline.loadingOlder = false;
      });
  }

  async leaveRoom() {
    const room = this.rooms.get(this.activeRoomId);
    if (!room) return;
    const what = room.kind === 'dm' ? `your conversation with ${room.name}` : `“${room.name}”`;
    const ok = await confirmDialog({ title: room.kind === 'dm' ? 'Close conversation?' : 'Leave room?', text: `You will leave ${what}.${room.kind === 'private' ? ' You will need an invitation to come back.' : ''}`, ok: 'Leave' });
    if (!ok) return;
    try {
      await this.o.api.leaveRoom(room.id);
      this.dropRoom(room.id);
    } catch (err) {
      this.toast(`Could not leave: ${err.message}`);
    }
  }

  async invite() {
    const input = byId('invite-input');
    const error = byId('invite-error');
    const username = input.value.trim();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!username) return;
    try {
      await this.o.api.invite(this.activeRoomId, username);
      input.value = '';
      this.toast(`Invited ${username}.`);
      this.loadMembers(this.activeRoomId, { force: true });
    } catch (err) {
      error.textContent = err.message;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  // ---- sending -----------------------------------------------------------------------------------------------

  send(text) {
    const roomId = this.activeRoomId;
    if (!roomId || !this.me) return false;
    const cmid = newClientMsgId();
    const store = this.store(roomId);
    store.addOptimistic({ clientMsgId: cmid, body: text, author: this.me, createdAt: new Date().toISOString() });
    this.outbox.set(cmid, { roomId, body: text, timer: null });
    this.typingOut.sent();
    this.timeline.setMarker(null);
    this.timeline.render(store.list(), { hasMore: store.hasMore, follow: true });
    this.dispatchSend(roomId, cmid, text);
    return true;
  }

  dispatchSend(roomId, cmid, body) {
    const item = this.outbox.get(cmid);
    if (!item) return;
    const store = this.store(roomId);
    clearTimeout(item.timer);
    item.timer = setTimeout(() => this.sendFailed(roomId, cmid), SEND_TIMEOUT_MS);
    if (!this.conn.isOpen) return; // goes out after the next hello
    this.conn
      .command('messageSend', roomId, body, cmid)
      .then((result) => {
        clearTimeout(item.timer);
        this.outbox.delete(cmid);
        store.applyServer(result.message);
        if (roomId === this.activeRoomId) this.invalidate('timeline');
      })
      .catch((err) => {
        if (err instanceof ConnectionLost && err.message !== 'No answer from the server') return; // resent after reconnect
        if (err instanceof FrameRejected) this.composer.setError('This message could not be sent: it is not valid.');
        else if (err instanceof CommandError) this.announce(`Message not sent: ${err.message}`);
        this.sendFailed(roomId, cmid);
      });
  }

  sendFailed(roomId, cmid) {
    const item = this.outbox.get(cmid);
    if (item) clearTimeout(item.timer);
    const store = this.stores.get(roomId);
    if (!store) return;
    const entry = store.byClientId.get(cmid);
    if (entry && !entry.id) {
      store.setStatus(cmid, SEND.FAILED);
      if (roomId === this.activeRoomId) this.invalidate('timeline');
    }
  }

  retry(entry) {
    const roomId = entry.room_id;
    const cmid = entry.client_msg_id; // the same idempotency key: the server never creates a duplicate
    this.store(roomId).setStatus(cmid, SEND.SENDING);
    if (!this.outbox.has(cmid)) this.outbox.set(cmid, { roomId, body: entry.body, timer: null });
    this.invalidate('timeline');
    this.dispatchSend(roomId, cmid, entry.body);
  }

  discard(entry) {
    const item = this.outbox.get(entry.client_msg_id);
    if (item) clearTimeout(item.timer);
    this.outbox.delete(entry.client_msg_id);
    this.store(entry.room_id).discard(entry.client_msg_id);
    this.invalidate('timeline');
    this.composer.focus();
  }

  edit(entry, text) {
    if (text === entry.body || !entry.id) return;
    this.conn
      .command('messageEdit', entry.id, text)
      .then((result) => {
        this.store(entry.room_id).applyServer(result.message);
        this.invalidate('timeline');
      })
      .catch((err) => this.commandFailed('edit the message', err));
  }

  async deleteMessage(entry) {
    const ok = await confirmDialog({ title: 'Delete message?', text: 'It will be replaced by “This message was deleted” for everyone. This cannot be undone.', ok: 'Delete' });
    if (!ok) return;
    this.conn
      .command('messageDelete', entry.id)
      .then((result) => {
        this.store(entry.room_id).applyServer(result.message);
        this.invalidate('timeline');
      })
      .catch((err) => this.commandFailed('delete the message', err));
    this.composer.focus();
  }

  commandFailed(what, err) {
    if (err instanceof CommandError && err.code === 'invalid_receipt') return;
    console.warn(`[chatterbox] could not ${what}`, err);
    this.toast(err instanceof ConnectionLost ? `Could not ${what}: not connected.` : `Could not ${what}: ${err.message}`);
  }

  frameRejected(err) {
    console.error('[chatterbox]', err.message, err.frame);
    this.toast('A request was not sent because it was invalid (see the console).');
  }

  // ---- typing ------------------------------------------------------------------------------------------------

  typed(hasText) {
    const roomId = this.activeRoomId;
    if (!roomId) return;
    if (this.typingRoom && this.typingRoom !== roomId) this.sendTyping(this.typingRoom, this.typingOut.reset());
    this.typingRoom = roomId;
    this.sendTyping(roomId, this.typingOut.input(Date.now(), hasText));
  }

  sendTyping(roomId, action) {
    if (!action || !roomId || !this.conn.isOpen) return;
    this.conn.command('typing', roomId, action).catch(() => {});
  }

  tick() {
    const now = Date.now();
    if (this.typingRoom) this.sendTyping(this.typingRoom, this.typingOut.tick(now));
    const next = this.typing.nextExpiry(now);
    if (next !== null && next <= 1000) setTimeout(() => this.invalidate('typing'), next + 5);
    this.invalidate('typing');
    if (!this._lastMinute || now - this._lastMinute > 30000) {
      this._lastMinute = now; // "last seen 5 min ago" and day labels age
      this.invalidate('members');
    }
  }

  // ---- receipts ----------------------------------------------------------------------------------------------

  /** Messages by others arrived in a room: tell the server they reached this device (newest one only).
   * Paced, not debounced: under a steady stream a receipt still goes out every 150 ms. */
  afterMessagesArrived(roomId) {
    this.deliveredPacer.poke(roomId);
    if (roomId === this.activeRoomId) setTimeout(() => this.checkSeen(), 200);
  }

  /** Send `delivered` for the newest message by others in a room, unless already covered. */
  sendDelivered(roomId) {
    const store = this.stores.get(roomId);
    if (!store || !this.me || !this.conn.isOpen) return;
    const target = store.newestByOthers(this.me.id);
    if (!target) return;
    this.sendReceipt(roomId, target, 'delivered')?.catch((err) => this.receiptFailed(err));
  }

  /** Send "seen" for the newest message by others that is on screen, when the page is visible and focused. */
  checkSeen() {
    const roomId = this.activeRoomId;
    if (!roomId || !this.me || !this.conn.isOpen) return;
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return;
    const target = this.timeline.newestVisible();
    if (!target) return;
    this.sendReceipt(roomId, target, 'seen')
      ?.then(() => this.invalidate('sidebar', 'header'))
      .catch((err) => this.receiptFailed(err));
  }

  /**
   * Send a `state` receipt for `target` unless our marker or one in flight already covers it. The
   * command's promise, resolved once the returned marker is applied; null if nothing was sent. Once
   * answered, refused or lost, the receipt is no longer in flight (so it can go out again).
   */
  sendReceipt(roomId, target, state) {
    if (!this.receiptSends.begin(roomId, state, target.seq, this.receipts.seqOf(roomId, this.me.id, state))) return null;
    const settled = () => this.receiptSends.settled(roomId, state, target.seq);
    return this.conn.command('receipt', roomId, target.id, state).then(
      (result) => {
        settled();
        this.applyMarker(result.marker);
      },
      (err) => {
        settled();
        throw err;
      },
    );
  }

  /** A receipt was refused or lost. Lost with the connection: quietly, it goes out again after the resume. */
  receiptFailed(err) {
    if (!(err instanceof ConnectionLost)) this.commandFailed('send a receipt', err);
  }

  receiptFor(entry) {
    const room = this.rooms.get(entry.room_id);
    if (!room || entry.seq == null) return null;
    const others = receiptAudience({
      room,
      members: (this.members.get(room.id) || []).map((m) => m.user),
      meId: this.me.id,
      message: entry,
      joinSeq: this.joinSeq.get(room.id),
    });
    const status = receiptStatus(this.receipts, room.id, entry, others);
    return { circle: status.circle, label: receiptLabel(status, { isDm: room.kind === 'dm', nameOf: displayName }) };
  }

  // ---- presence ----------------------------------------------------------------------------------------------

  visibilityChanged() {
    clearTimeout(this.awayTimer);
    if (document.visibilityState === 'hidden') {
      this.awayTimer = setTimeout(() => {
        if (this.conn.isOpen) {
          this.away = true;
          this.conn.command('presenceSet', 'away').catch(() => {});
        }
      }, AWAY_AFTER_MS);
    } else {
      if (this.away && this.conn.isOpen) this.conn.command('presenceSet', 'online').catch(() => {});
      this.away = false;
      this.checkSeen();
    }
  }

  /** Presence of a user; ourselves while connected count as online (or away when we said so). */
  presenceOf(userId) {
    if (this.me && userId === this.me.id) return { status: this.conn.isOpen ? (this.away ? 'away' : 'online') : 'offline', last_seen: null };
    return this.presence.get(userId);
  }

  // ---- rendering ---------------------------------------------------------------------------------------------

  invalidate(...parts) {
    for (const p of parts) this.dirty.add(p);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), 16);
  }

  flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const d = this.dirty;
    this.dirty = new Set();
    if (d.has('sidebar')) this.renderSidebar();
    if (d.has('header')) this.renderHeader();
    if (d.has('timeline')) this.renderTimeline();
    if (d.has('typing')) this.renderTyping();
    if (d.has('members')) this.renderMembers();
  }

  renderMe() {
    if (!this.me) return;
    byId('me-name').textContent = displayName(this.me);
    const av = byId('me-avatar');
    av.textContent = initials(displayName(this.me));
    av.className = `avatar avatar--sm avatar--c${colorSlot(this.me.id)}`;
  }

  renderSidebar() {
    this.sidebar.render({ sections: this.rooms.sections(), activeId: this.activeRoomId, unread: (id) => this.unread.count(id), presenceOf: (id) => this.presenceOf(id) });
    const total = this.unread.total();
    const room = this.rooms.get(this.activeRoomId);
    const name = room ? (room.kind === 'public' ? `#${room.name}` : room.name) : 'Chatterbox';
    document.title = `${total ? `(${total}) ` : ''}${name} · Chatterbox`;
  }

  renderHeader() {
    const room = this.rooms.get(this.activeRoomId);
    const title = byId('room-title');
    const topic = byId('room-topic');
    if (!room) return;
    title.textContent = room.kind === 'public' ? `# ${room.name}` : room.name;
    if (room.kind === 'dm' && room.dm_user) {
      const p = this.presence.get(room.dm_user.id);
      topic.textContent = `@${room.dm_user.username} · ${presenceText(p, this.clock())}`;
    } else {
      topic.textContent = room.topic || (room.kind === 'private' ? 'Private room' : 'Public channel');
    }
    byId('leave-room').textContent = room.kind === 'dm' ? 'Close' : 'Leave';
    byId('invite-form').hidden = room.kind === 'dm';
    this.composer.setPlaceholder(room.kind === 'dm' ? `Message ${room.name}` : room.kind === 'public' ? `Message #${room.name}` : `Message ${room.name}`);
  }

  renderTimeline() {
    const store = this.stores.get(this.activeRoomId);
    if (!store) return;
    if (this.timeline.roomId !== this.activeRoomId) this.timeline.setRoom(this.activeRoomId);
    this.timeline.render(store.list(), { hasMore: store.hasMore, loading: !store.loaded });
  }

  renderTyping() {
    const users = this.activeRoomId ? this.typing.active(this.activeRoomId, Date.now()) : [];
    const text = typingSentence(users.map(displayName));
    const el = byId('typing-line');
    if (el.textContent !== text) el.textContent = text;
  }

  renderMembers() {
    const list = this.members.get(this.activeRoomId) || [];
    this.memberList.render({ members: list, meId: this.me && this.me.id, presenceOf: (id) => this.presenceOf(id), clock: this.clock() });
  }

  renderEmpty() {
    byId('room-title').textContent = 'No room yet';
    byId('room-topic').textContent = 'Create a room, join a public one, or start a direct message.';
    this.timeline.setRoom(null);
    this.timeline.o.top.textContent = '';
  }

  // ---- feedback ----------------------------------------------------------------------------------------------

  toast(text) {
    const el = byId('toast');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => (el.hidden = true), 5000);
  }

  announce(text, assertive = true) {
    if (!assertive) return; // the log region announces new messages itself
    const el = byId('announcer');
    el.textContent = '';
    setTimeout(() => (el.textContent = text), 50);
  }
}
