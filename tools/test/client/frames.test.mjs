// The outgoing-frame gate: builders produce frames the generated validator accepts; invalid frames never reach the
// socket's send function.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { build, createGate, createIdSource, newClientMsgId, FrameRejected, assertValidClientFrame } = await client('protocol/frames.js');
const V = await client('protocol/validators.js');

const ROOM = 'r_general';
const MSG = 'm_9f3k2x7q5z1a';

function spyGate() {
  const sent = [];
  const rejected = [];
  const gate = createGate((text) => sent.push(text), { onRejected: (e) => rejected.push(e) });
  return { gate, sent, rejected };
}

test('every builder yields a frame the generated validator accepts', () => {
  const id = createIdSource();
  const frames = [
    build.messageSend(id(), ROOM, 'See you at 10 👋', newClientMsgId()),
    build.messageEdit(id(), MSG, 'edited'),
    build.messageDelete(id(), MSG),
    build.typing(id(), ROOM, 'start'),
    build.typing(id(), ROOM, 'stop'),
    build.receipt(id(), ROOM, MSG, 'delivered'),
    build.receipt(id(), ROOM, MSG, 'seen'),
    build.history(id(), ROOM),
    build.history(id(), ROOM, 'MTA0MQ', 50),
    build.resume(id(), { r_general: 1038, r_k4x8m2q9: 0 }),
    build.presenceSet(id(), 'away'),
    build.presenceSet(id(), 'online'),
    build.ping(id()),
  ];
  for (const frame of frames) {
    const r = V.check('client', frame);
    assert.ok(r.valid, `${frame.type}: ${JSON.stringify(r.errors)}`);
  }
  const { gate, sent } = spyGate();
  frames.forEach((f) => gate.send(f));
  assert.equal(sent.length, frames.length);
  assert.deepEqual(JSON.parse(sent[0]), frames[0]);
});

test('history without a cursor omits before and limit (no nulls on the wire)', () => {
  const f = build.history('c1', ROOM, null, undefined);
  assert.deepEqual(Object.keys(f).sort(), ['id', 'room_id', 'type']);
});

test('client_msg_id values match the schema pattern', () => {
  for (let i = 0; i < 50; i++) assert.match(newClientMsgId(), /^[A-Za-z0-9_-]{8,64}$/);
});

const INVALID = [
  ['blank body', build.messageSend('c1', ROOM, '   \n\t ', 'abcdefgh12')],
  ['empty body', build.messageSend('c1', ROOM, '', 'abcdefgh12')],
  ['body over 4000 code points', build.messageSend('c1', ROOM, 'x'.repeat(4001), 'abcdefgh12')],
  ['emoji body over 4000 code points', build.messageSend('c1', ROOM, '😀'.repeat(4001), 'abcdefgh12')],
  ['bad room id', build.messageSend('c1', 'general', 'hi', 'abcdefgh12')],
  ['short client_msg_id', build.messageSend('c1', ROOM, 'hi', 'abc')],
  ['bad command id', build.ping('c 1')],
  ['missing id', build.ping(undefined)],
  ['typing state', build.typing('c1', ROOM, 'maybe')],
  ['receipt state', build.receipt('c1', ROOM, MSG, 'read')],
  ['history limit too big', build.history('c1', ROOM, null, 101)],
  ['history limit zero', build.history('c1', ROOM, null, 0)],
  ['bad cursor', build.history('c1', ROOM, 'not a cursor!', 10)],
  ['empty resume', build.resume('c1', {})],
  ['resume bad room key', build.resume('c1', { general: 3 })],
  ['resume negative seq', build.resume('c1', { r_general: -1 })],
  ['presence offline', build.presenceSet('c1', 'offline')],
  ['extra property', { ...build.ping('c1'), extra: true }],
  ['__proto__ smuggling', JSON.parse('{"type":"ping","id":"c1","__proto__":{"x":1}}')],
  ['server frame type', { type: 'hello', id: 'c1' }],
  ['not an object', 'ping'],
];

for (const [name, frame] of INVALID) {
  test(`refused and never sent: ${name}`, () => {
    const { gate, sent, rejected } = spyGate();
    assert.throws(() => gate.send(frame), FrameRejected);
    assert.equal(sent.length, 0, 'the socket send function was never called');
    assert.equal(rejected.length, 1);
    assert.ok(rejected[0].errors.length > 0);
  });
}

test('assertValidClientFrame returns the frame when valid', () => {
  const f = build.ping('c9');
  assert.equal(assertValidClientFrame(f), f);
});

test('a 4000-code-point emoji body is accepted (limit counts code points)', () => {
  const { gate, sent } = spyGate();
  gate.send(build.messageSend('c1', ROOM, '😀'.repeat(4000), 'abcdefgh12'));
  assert.equal(sent.length, 1);
});
