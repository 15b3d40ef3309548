import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { typingSentence } = await client('format/typing.js');
const { TypingBoard, TypingSender } = await client('state/typing.js');

const bob = { id: 'u_bob000', username: 'bob', display_name: 'Bob' };
const carol = { id: 'u_carol0', username: 'carol', display_name: 'Carol' };
const dave = { id: 'u_dave00', username: 'dave', display_name: 'Dave' };
const start = (user, ms = 6000, room = 'r_general') => ({ type: 'typing', room_id: room, user, state: 'start', expires_in_ms: ms });
const stop = (user, room = 'r_general') => ({ type: 'typing', room_id: room, user, state: 'stop', expires_in_ms: 0 });

test('typing sentences', () => {
  assert.equal(typingSentence([]), '');
  assert.equal(typingSentence(['Bob']), 'Bob is typing…');
  assert.equal(typingSentence(['Bob', 'Carol']), 'Bob and Carol are typing…');
  assert.equal(typingSentence(['Bob', 'Carol', 'Dave']), 'Several people are typing…');
});

test('board: start, renew, stop, and expiry without a stop', () => {
  const b = new TypingBoard();
  b.apply(start(bob), 0);
  b.apply(start(carol, 3000), 0);
  assert.deepEqual(b.active('r_general', 1000).map((u) => u.id), [bob.id, carol.id]);
  assert.equal(b.nextExpiry(1000), 2000);
  assert.deepEqual(b.active('r_general', 3000).map((u) => u.id), [bob.id], 'carol expired on our own clock');
  b.apply(start(bob), 5000); // renewal extends
  assert.deepEqual(b.active('r_general', 10000).map((u) => u.id), [bob.id]);
  b.apply(stop(bob), 10001);
  assert.deepEqual(b.active('r_general', 10002), []);
  assert.equal(b.nextExpiry(10002), null);
});

test('board: a message from the typer clears them; rooms are separate', () => {
  const b = new TypingBoard();
  b.apply(start(bob), 0);
  b.apply(start(dave, 6000, 'r_random'), 0);
  b.clear('r_general', bob.id);
  assert.deepEqual(b.active('r_general', 1), []);
  assert.equal(b.active('r_random', 1).length, 1);
});

test('sender: start once, renew at half the timeout, stop when idle or cleared', () => {
  const s = new TypingSender({ timeoutMs: 6000, idleMs: 4000 });
  assert.equal(s.input(0, true), 'start');
  assert.equal(s.input(500, true), null, 'throttled');
  assert.equal(s.input(2999, true), null);
  assert.equal(s.input(3000, true), 'start', 'renewal');
  assert.equal(s.tick(6000), null);
  assert.equal(s.tick(7000), 'stop', 'idle for 4 s');
  assert.equal(s.tick(8000), null, 'stop only once');
  assert.equal(s.input(9000, true), 'start');
  assert.equal(s.input(9100, false), 'stop', 'composer cleared');
  assert.equal(s.input(9200, false), null);
  assert.equal(s.input(9300, true), 'start');
  s.sent();
  assert.equal(s.tick(20000), null, 'after sending nothing is left on (the server cleared it)');
  assert.equal(s.input(20001, true), 'start');
  assert.equal(s.reset(), 'stop');
});
