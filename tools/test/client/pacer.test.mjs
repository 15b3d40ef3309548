import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const { Pacer } = await import(pathToFileURL(path.join(ROOT, 'static', 'js', 'state', 'pacer.js')).href);

/** Fake timers: `advance(ms)` runs what falls due, in order. */
function clock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  return {
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    get now() {
      return now;
    },
  };
}

test('one poke fires once, after the delay', () => {
  const c = clock();
  const fired = [];
  const p = new Pacer(150, (k) => fired.push([k, c.now]), c);
  p.poke('r1');
  c.advance(149);
  assert.deepEqual(fired, []);
  c.advance(1);
  assert.deepEqual(fired, [['r1', 150]]);
  c.advance(1000);
  assert.equal(fired.length, 1);
});

test('a steady stream fires once per delay, not never', () => {
  const c = clock();
  const fired = [];
  const p = new Pacer(150, (k) => fired.push(c.now), c);
  for (let t = 0; t < 1000; t += 50) {
    p.poke('r1');
    c.advance(50);
  }
  // pokes at 0, 50, …, 950: fires at 150, 300, …, 900; the poke at 900 schedules 1050
  assert.deepEqual(fired, [150, 300, 450, 600, 750, 900]);
  c.advance(150);
  assert.deepEqual(fired, [150, 300, 450, 600, 750, 900, 1050]);
});

test('keys are independent; cancel drops a pending call', () => {
  const c = clock();
  const fired = [];
  const p = new Pacer(100, (k) => fired.push(k), c);
  p.poke('a');
  c.advance(50);
  p.poke('b');
  p.cancel('a');
  c.advance(200);
  assert.deepEqual(fired, ['b']);
  p.poke('a');
  p.poke('b');
  p.cancel();
  c.advance(200);
  assert.deepEqual(fired, ['b']);
});
