import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { ReceiptBook, receiptStatus, receiptAudience, receiptLabel, CIRCLE } = await client('state/receipts.js');

const me = { id: 'u_alice0', username: 'alice', display_name: 'Alice' };
const bob = { id: 'u_bob000', username: 'bob', display_name: 'Bob' };
const carol = { id: 'u_carol0', username: 'carol', display_name: 'Carol' };
const R = 'r_general';
const marker = (user, state, seq) => ({ user_id: user.id, room_id: R, state, message_id: `m_${String(seq).padStart(6, '0')}`, seq, at: '2026-11-27T09:00:00.000Z' });

test('DM: others is the dm_user; delivered → empty circle, seen → filled', () => {
  const dm = { id: R, kind: 'dm', dm_user: bob };
  const msg = { seq: 10 };
  const book = new ReceiptBook();
  const others = receiptAudience({ room: dm, members: [me, bob, carol], meId: me.id, message: msg });
  assert.deepEqual(others, [bob]);
  assert.equal(receiptStatus(book, R, msg, others).circle, CIRCLE.SENT);
  book.apply(marker(bob, 'delivered', 10));
  assert.equal(receiptStatus(book, R, msg, others).circle, CIRCLE.DELIVERED);
  book.apply(marker(bob, 'seen', 12)); // covers earlier messages too
  const st = receiptStatus(book, R, msg, others);
  assert.equal(st.circle, CIRCLE.SEEN);
  assert.equal(receiptLabel(st, { isDm: true }), 'Seen');
});

test('group: filled only when every other member has seen; label names who has', () => {
  const room = { id: R, kind: 'public', dm_user: null };
  const msg = { seq: 20 };
  const book = new ReceiptBook();
  const others = receiptAudience({ room, members: [me, bob, carol], meId: me.id, message: msg });
  assert.deepEqual(others.map((u) => u.id), [bob.id, carol.id]);
  book.apply(marker(bob, 'seen', 20));
  let st = receiptStatus(book, R, msg, others);
  assert.equal(st.circle, CIRCLE.SENT, 'carol has nothing yet');
  assert.equal(receiptLabel(st), 'Sent; seen by Bob');
  book.apply(marker(carol, 'delivered', 25));
  st = receiptStatus(book, R, msg, others);
  assert.equal(st.circle, CIRCLE.DELIVERED, 'seen implies delivered for bob');
  assert.equal(receiptLabel(st), 'Delivered to everyone; seen by Bob');
  book.apply(marker(carol, 'seen', 21));
  st = receiptStatus(book, R, msg, others);
  assert.equal(st.circle, CIRCLE.SEEN);
  assert.equal(receiptLabel(st), 'Seen by everyone: Bob, Carol');
});

test('markers never move backwards', () => {
  const book = new ReceiptBook();
  assert.ok(book.apply(marker(bob, 'seen', 30)));
  assert.ok(!book.apply(marker(bob, 'seen', 25)));
  assert.equal(book.seqOf(R, bob.id, 'seen'), 30);
});

test('members who joined after the message do not count', () => {
  const room = { id: R, kind: 'private', dm_user: null };
  const msg = { seq: 5 };
  const others = receiptAudience({ room, members: [me, bob, carol], meId: me.id, message: msg, joinSeq: new Map([[carol.id, 9]]) });
  assert.deepEqual(others, [bob]);
});

test('alone in a room or unsent: no circle claim', () => {
  const book = new ReceiptBook();
  assert.equal(receiptStatus(book, R, { seq: 3 }, []).circle, CIRCLE.SENT);
  assert.equal(receiptStatus(book, R, { seq: null }, [bob]).circle, CIRCLE.NONE);
});
