import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { UnreadCounter } = await client('state/unread.js');
const { initials, colorSlot } = await client('format/names.js');

const me = { id: 'u_alice0' };
const bob = { id: 'u_bob000' };
const R = 'r_general';
const m = (seq, author, extra = {}) => ({ seq, author, deleted_at: null, ...extra });

test('starts from the hello snapshot and counts new messages by others only', () => {
  const u = new UnreadCounter();
  u.reset(R, 3, 40);
  assert.equal(u.count(R), 3);
  u.created(R, m(41, bob), me.id);
  u.created(R, m(42, me), me.id); // own
  assert.equal(u.count(R), 4);
});

test('replayed events at or below the snapshot are not counted twice', () => {
  const u = new UnreadCounter();
  u.reset(R, 2, 40);
  u.created(R, m(39, bob), me.id);
  u.created(R, m(40, bob), me.id);
  assert.equal(u.count(R), 2);
  u.created(R, m(41, bob), me.id);
  u.created(R, m(41, bob), me.id);
  assert.equal(u.count(R), 3);
});

test('seen resets up to the marker; deleted unread messages stop counting', () => {
  const u = new UnreadCounter();
  u.reset(R, 5, 40);
  u.created(R, m(41, bob), me.id);
  u.created(R, m(42, bob), me.id);
  u.created(R, m(43, bob), me.id);
  u.deleted(R, m(42, bob), me.id);
  assert.equal(u.count(R), 7);
  u.seen(R, 41);
  assert.equal(u.count(R), 1, 'base covered (41 ≥ 40) and 41 seen; 43 left');
  u.seen(R, 30);
  assert.equal(u.count(R), 1, 'a marker never moves back');
  u.seen(R, 43);
  assert.equal(u.count(R), 0);
  u.created(R, m(43, bob), me.id);
  assert.equal(u.count(R), 0, 'a replay of a seen message is not unread');
});

test('a reconnect snapshot replaces live counting; totals add up across rooms', () => {
  const u = new UnreadCounter();
  u.reset(R, 0, 10);
  u.created(R, m(11, bob), me.id);
  u.reset('r_random', 4, 99);
  assert.equal(u.total(), 5);
  u.reset(R, 1, 11); // hello after a reconnect
  u.created(R, m(11, bob), me.id); // its replay
  assert.equal(u.count(R), 1);
});

test('initials and colour slots', () => {
  assert.equal(initials('Alice Martin'), 'AM');
  assert.equal(initials('bob'), 'B');
  assert.equal(initials('jean-luc picard'), 'JP');
  assert.equal(initials('😀 Smile'), '😀S');
  assert.equal(initials(''), '?');
  assert.equal(colorSlot('u_abc'), colorSlot('u_abc'));
  assert.ok(colorSlot('u_abc') >= 0 && colorSlot('u_abc') < 8);
});
