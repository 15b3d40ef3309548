// The message store: optimistic → acked → created races, edits, deletes, history merges and resume replays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { RoomMessages, SEND } = await client('state/messages.js');
const { SeqTracker, SEQ } = await client('state/sequence.js');

const R = 'r_general';
const me = { id: 'u_alice0', username: 'alice', display_name: 'Alice' };
const bob = { id: 'u_bob000', username: 'bob', display_name: 'Bob' };
const T = (s) => `2026-11-27T09:00:${String(s).padStart(2, '0')}.000Z`;
const msg = (seq, author, body, extra = {}) => ({
  id: `m_${String(seq).padStart(6, '0')}`,
  room_id: R,
  seq,
  author,
  body,
  client_msg_id: null,
  created_at: T(seq % 60),
  edited_at: null,
  deleted_at: null,
  ...extra,
});

test('optimistic → ack → created: one message, same key, status sent', () => {
  const s = new RoomMessages(R);
  const e = s.addOptimistic({ clientMsgId: 'cm-000001', body: 'hi', author: me, createdAt: T(0) });
  assert.equal(e.status, SEND.SENDING);
  const server = msg(7, me, 'hi', { client_msg_id: 'cm-000001' });
  s.applyServer(server); // ack
  s.applyServer(server); // message.created
  const list = s.list();
  assert.equal(list.length, 1);
  assert.equal(list[0].key, 'local:cm-000001', 'the DOM node is kept');
  assert.equal(list[0].status, SEND.SENT);
  assert.equal(list[0].seq, 7);
});

test('optimistic → created → ack (the other order) is the same', () => {
  const s = new RoomMessages(R);
  s.addOptimistic({ clientMsgId: 'cm-000002', body: 'yo', author: me, createdAt: T(0) });
  const server = msg(8, me, 'yo', { client_msg_id: 'cm-000002' });
  const first = s.applyServer(server);
  const second = s.applyServer(server);
  assert.ok(first.changed);
  assert.ok(!second.changed);
  assert.equal(s.list().length, 1);
});

test('failed → retry keeps the same client_msg_id; a later ack confirms it', () => {
  const s = new RoomMessages(R);
  s.addOptimistic({ clientMsgId: 'cm-000003', body: 'retry me', author: me, createdAt: T(0) });
  s.setStatus('cm-000003', SEND.FAILED);
  assert.equal(s.list()[0].status, SEND.FAILED);
  assert.equal(s.pending().length, 0);
  const again = s.addOptimistic({ clientMsgId: 'cm-000003', body: 'retry me', author: me, createdAt: T(1) });
  assert.equal(again.client_msg_id, 'cm-000003');
  s.setStatus('cm-000003', SEND.SENDING);
  s.applyServer(msg(9, me, 'retry me', { client_msg_id: 'cm-000003' }));
  assert.equal(s.list().length, 1);
  assert.equal(s.list()[0].status, SEND.SENT);
  s.setStatus('cm-000003', SEND.FAILED); // a late timeout never un-sends a confirmed message
  assert.equal(s.list()[0].status, SEND.SENT);
});

test('someone else reusing a client_msg_id value is not mistaken for my optimistic entry', () => {
  const s = new RoomMessages(R);
  s.addOptimistic({ clientMsgId: 'same-value-1', body: 'mine', author: me, createdAt: T(0) });
  s.applyServer(msg(3, bob, 'theirs', { client_msg_id: 'same-value-1' }));
  assert.equal(s.list().length, 2);
});

test('optimistic entries sort after confirmed ones, in writing order', () => {
  const s = new RoomMessages(R);
  s.addOptimistic({ clientMsgId: 'cm-a-00001', body: 'a', author: me, createdAt: T(0) });
  s.addOptimistic({ clientMsgId: 'cm-b-00001', body: 'b', author: me, createdAt: T(1) });
  s.applyServer(msg(5, bob, 'x'));
  s.applyServer(msg(4, bob, 'w'));
  assert.deepEqual(s.list().map((e) => e.body), ['w', 'x', 'a', 'b']);
});

test('edits replace the body; an older copy never overwrites a newer one', () => {
  const s = new RoomMessages(R);
  s.applyServer(msg(10, bob, 'v1'));
  s.applyServer(msg(10, bob, 'v3', { edited_at: '2026-11-27T10:00:03.000Z' }));
  const stale = s.applyServer(msg(10, bob, 'v2', { edited_at: '2026-11-27T10:00:02.000Z' }));
  assert.ok(!stale.changed);
  assert.equal(s.get('m_000010').body, 'v3');
  s.applyServer(msg(10, bob, 'v1')); // a replayed created event carries the old (unedited) copy
  assert.equal(s.get('m_000010').body, 'v3');
});

test('deletion is final: a replayed created or updated copy never brings the body back', () => {
  const s = new RoomMessages(R);
  s.applyServer(msg(11, bob, 'secret'));
  s.applyServer(msg(11, bob, null, { deleted_at: '2026-11-27T10:00:00.000Z' }));
  s.applyServer(msg(11, bob, 'secret'));
  s.applyServer(msg(11, bob, 'secret 2', { edited_at: '2026-11-27T11:00:00.000Z' }));
  const e = s.get('m_000011');
  assert.equal(e.body, null);
  assert.ok(e.deleted_at);
  assert.equal(s.newestByOthers(me.id), null, 'deleted messages are no receipt target');
});

test('history pages merge without duplicates; cursor follows the oldest page', () => {
  const s = new RoomMessages(R);
  const page = (seqs, hasMore, cursor) => ({ room_id: R, days: [{ date: '2026-11-27', messages: seqs.map((q) => msg(q, bob, `m${q}`)) }], has_more: hasMore, next_cursor: cursor });
  s.mergePage(page([48, 49, 50], true, 'c48'));
  s.applyServer(msg(51, bob, 'live'));
  s.mergePage(page([45, 46, 47, 48], true, 'c45'), { older: true }); // overlapping page boundary
  s.mergePage(page([50, 51], true, 'cXX')); // a newest-page reload does not move the older cursor
  assert.deepEqual(s.list().map((e) => e.seq), [45, 46, 47, 48, 49, 50, 51]);
  assert.equal(s.cursor, 'c45');
  s.mergePage(page([44], false, null), { older: true });
  assert.equal(s.hasMore, false);
  assert.equal(s.oldestSeq, 44);
});

test('lastEditable and newestByOthers', () => {
  const s = new RoomMessages(R);
  s.applyServer(msg(1, me, 'one'));
  s.applyServer(msg(2, bob, 'two'));
  s.applyServer(msg(3, me, 'three'));
  s.applyServer(msg(3, me, null, { deleted_at: T(9) }));
  s.addOptimistic({ clientMsgId: 'cm-pending1', body: 'pending', author: me, createdAt: T(9) });
  assert.equal(s.lastEditable(me.id).body, 'one');
  assert.equal(s.newestByOthers(me.id).seq, 2);
});

test('seq tracker: dedupe by (room, seq), gaps, hello comparison and resume', () => {
  const t = new SeqTracker();
  const first = t.onHello([{ id: R, last_seq: 10 }, { id: 'r_random', last_seq: 3 }]);
  assert.deepEqual(first.resume, {});
  assert.equal(t.accept(R, 11), SEQ.APPLY);
  assert.equal(t.accept(R, 11), SEQ.DUPLICATE);
  assert.equal(t.accept(R, 5), SEQ.DUPLICATE);
  assert.equal(t.accept(R, 13), SEQ.GAP);
  assert.equal(t.get(R), 11);
  assert.equal(t.accept('r_other', 1), SEQ.UNKNOWN);
  // reconnect: general moved on, random did not, a room vanished, a new one appeared
  const again = t.onHello([{ id: R, last_seq: 15 }, { id: 'r_new', last_seq: 7 }]);
  assert.deepEqual(again.resume, { [R]: 11 });
  assert.deepEqual(again.gone, ['r_random']);
  assert.equal(t.get('r_new'), 7);
  // the replay repeats an event that had already arrived live, then goes on
  assert.equal(t.accept(R, 11), SEQ.DUPLICATE);
  assert.equal(t.accept(R, 12), SEQ.APPLY);
  t.resumed(R, 15);
  assert.equal(t.get(R), 15);
  t.resumed(R, 14);
  assert.equal(t.get(R), 15, 'never backwards');
});

test('resume replay of an own message acked while disconnected: no double', () => {
  const s = new RoomMessages(R);
  const t = new SeqTracker();
  t.onHello([{ id: R, last_seq: 20 }]);
  s.addOptimistic({ clientMsgId: 'cm-offline1', body: 'offline', author: me, createdAt: T(0) });
  // the connection dropped before the ack; the client resends with the same client_msg_id; the server returns the
  // original (seq 21) and the resume replays its created event as well
  const original = msg(21, me, 'offline', { client_msg_id: 'cm-offline1' });
  if (t.accept(R, 21) === SEQ.APPLY) s.applyServer(original);
  s.applyServer(original); // the ack of the resend
  assert.equal(t.accept(R, 21), SEQ.DUPLICATE);
  assert.equal(s.list().length, 1);
});
