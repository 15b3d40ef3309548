import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { dayKey, dayLabel, addDays, withDaySeparators } = await client('format/days.js');
const { lastSeenText, formatTime } = await client('format/time.js');

test('dayKey uses the zone, not UTC', () => {
  assert.equal(dayKey('2026-11-27T23:30:00.000Z', 'UTC'), '2026-11-27');
  assert.equal(dayKey('2026-11-27T23:30:00.000Z', 'Europe/Paris'), '2026-11-28');
  assert.equal(dayKey('2026-11-27T03:30:00.000Z', 'America/New_York'), '2026-11-26');
});

test('addDays is calendar arithmetic across months, years and leap days', () => {
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(addDays('2028-03-01', -1), '2028-02-29');
  assert.equal(addDays('2027-01-01', -1), '2026-12-31');
});

test('Today / Yesterday / dates across midnight in a fixed zone', () => {
  const tz = 'Europe/Paris';
  const now = Date.parse('2026-11-27T23:10:00.000Z'); // 00:10 on Nov 28 in Paris
  assert.equal(dayLabel(dayKey('2026-11-27T23:05:00.000Z', tz), { now, timeZone: tz }), 'Today'); // 00:05 Paris
  assert.equal(dayLabel(dayKey('2026-11-27T22:55:00.000Z', tz), { now, timeZone: tz }), 'Yesterday'); // 23:55 Paris
  assert.equal(dayLabel('2026-11-26', { now, timeZone: tz }), 'Thursday, November 26');
  assert.equal(dayLabel('2025-12-31', { now, timeZone: tz }), 'December 31, 2025');
});

test('spring-forward DST day (America/New_York, 2026-03-08 has 23 hours)', () => {
  const tz = 'America/New_York';
  const now = Date.parse('2026-03-09T03:30:00.000Z'); // 23:30 EDT on Mar 8
  assert.equal(dayKey(now, tz), '2026-03-08');
  assert.equal(dayLabel(dayKey('2026-03-08T05:30:00.000Z', tz), { now, timeZone: tz }), 'Today'); // 00:30 EST Mar 8
  assert.equal(dayLabel(dayKey('2026-03-08T04:30:00.000Z', tz), { now, timeZone: tz }), 'Yesterday'); // 23:30 EST Mar 7
  assert.equal(dayLabel(dayKey('2026-03-07T04:59:00.000Z', tz), { now, timeZone: tz }), 'Friday, March 6');
});

test('fall-back DST day (Europe/Paris, 2026-10-25 has 25 hours)', () => {
  const tz = 'Europe/Paris';
  const now = Date.parse('2026-10-25T22:30:00.000Z'); // 23:30 CET on Oct 25
  assert.equal(dayKey(now, tz), '2026-10-25');
  // 00:30 CEST (UTC+2) on Oct 25 = 22:30Z Oct 24: the same local day as now, 25 hours earlier.
  assert.equal(dayLabel(dayKey('2026-10-24T22:30:00.000Z', tz), { now, timeZone: tz }), 'Today');
  assert.equal(dayLabel(dayKey('2026-10-24T21:59:00.000Z', tz), { now, timeZone: tz }), 'Yesterday');
});

test('withDaySeparators inserts one separator per local day', () => {
  const tz = 'Asia/Tokyo';
  const now = Date.parse('2026-11-27T12:00:00.000Z'); // 21:00 Nov 27 in Tokyo
  const msgs = [
    { id: 'a', created_at: '2026-11-25T01:00:00.000Z' },
    { id: 'b', created_at: '2026-11-26T14:59:00.000Z' }, // 23:59 Nov 26 Tokyo
    { id: 'c', created_at: '2026-11-26T15:00:00.000Z' }, // 00:00 Nov 27 Tokyo
    { id: 'd', created_at: '2026-11-27T11:00:00.000Z' },
  ];
  const items = withDaySeparators(msgs, { now, timeZone: tz });
  assert.deepEqual(
    items.map((i) => (i.kind === 'day' ? i.label : i.message.id)),
    ['Wednesday, November 25', 'a', 'Yesterday', 'b', 'Today', 'c', 'd'],
  );
});

test('last seen phrases', () => {
  const tz = 'UTC';
  const now = Date.parse('2026-11-27T12:00:00.000Z');
  assert.equal(lastSeenText(null, { now }), 'offline');
  assert.equal(lastSeenText('2026-11-27T11:59:40.000Z', { now, timeZone: tz }), 'last seen just now');
  assert.equal(lastSeenText('2026-11-27T11:55:00.000Z', { now, timeZone: tz }), 'last seen 5 min ago');
  assert.equal(lastSeenText('2026-11-27T08:05:00.000Z', { now, timeZone: tz }), `last seen today at ${formatTime('2026-11-27T08:05:00.000Z', { timeZone: tz })}`);
  assert.match(lastSeenText('2026-11-26T08:05:00.000Z', { now, timeZone: tz }), /^last seen yesterday at /);
  assert.equal(lastSeenText('2026-11-20T08:05:00.000Z', { now, timeZone: tz }), 'last seen Friday, November 20');
});
