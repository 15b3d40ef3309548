import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { ReceiptSends } = await import(pathToFileURL(path.join(ROOT, 'static', 'js', 'state', 'receipt-sends.js')).href);

test('a receipt goes out only past the confirmed marker and the one in flight', () => {
  const s = new ReceiptSends();
  assert.equal(s.begin('r1', 'delivered', 5, 7), false); // the marker already covers it
  assert.equal(s.begin('r1', 'delivered', 8, 7), true);
  assert.equal(s.pending('r1', 'delivered'), 8);
  assert.equal(s.begin('r1', 'delivered', 8, 7), false); // in flight
  assert.equal(s.begin('r1', 'delivered', 9, 7), true); // newer: goes out too
  assert.equal(s.begin('r2', 'delivered', 1, 0), true); // rooms are independent
  assert.equal(s.begin('r1', 'seen', 8, 0), true); // and so are states
});

test('a failed or lost receipt is sent again at the next chance', () => {
  const s = new ReceiptSends();
  assert.equal(s.begin('r1', 'delivered', 8, 0), true);
  s.settled('r1', 'delivered', 8); // e.g. the connection was lost before the answer
  assert.equal(s.pending('r1', 'delivered'), 0);
  assert.equal(s.begin('r1', 'delivered', 8, 0), true); // same target, sent again
});

test('settling an older receipt keeps a newer one in flight', () => {
  const s = new ReceiptSends();
  s.begin('r1', 'seen', 3, 0);
  s.begin('r1', 'seen', 6, 0);
  s.settled('r1', 'seen', 3);
  assert.equal(s.pending('r1', 'seen'), 6);
  assert.equal(s.begin('r1', 'seen', 6, 0), false);
  s.settled('r1', 'seen', 6);
  assert.equal(s.begin('r1', 'seen', 6, 0), true);
});

test('a new connection forgets everything in flight', () => {
  const s = new ReceiptSends();
  s.begin('r1', 'seen', 3, 0);
  s.begin('r2', 'delivered', 4, 0);
  s.reset();
  assert.equal(s.pending('r1', 'seen'), 0);
  assert.equal(s.pending('r2', 'delivered'), 0);
  assert.equal(s.begin('r2', 'delivered', 4, 0), true);
});
