// Tests of the generated static/js/protocol/validators.js, through tools/validate-frames.mjs (as the Python tests
// use it) and directly. Run: node --test tools/test/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCHEMA = path.join(ROOT, 'schema');
const V = await import(pathToFileURL(path.join(ROOT, 'static', 'js', 'protocol', 'validators.js')).href);

function examples(dir) {
  const out = [];
  for (const name of readdirSync(path.join(SCHEMA, dir)).sort()) {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA, dir, name), 'utf8'));
    assert.ok(schema.examples?.length, `${dir}/${name} has examples`);
    schema.examples.forEach((frame, i) => out.push({ where: `${dir}/${name}#${i}`, dir, frame }));
  }
  const union = JSON.parse(readFileSync(path.join(SCHEMA, `${dir}.json`), 'utf8'));
  (union.examples || []).forEach((frame, i) => out.push({ where: `${dir}.json#${i}`, dir, frame }));
  return out;
}

function runBatch(items) {
  const input = items.map(({ dir, frame }) => JSON.stringify({ dir, frame })).join('\n') + '\n';
  const res = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'validate-frames.mjs')], { input, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const lines = res.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, items.length);
  return lines.map((l) => l.valid);
}

const ALL = [...examples('client'), ...examples('server')];
const base = (type, dir = 'client') => structuredClone(ALL.find((e) => e.dir === dir && e.frame.type === type).frame);

const MUTATIONS = [
  ['extra property', 'client', { ...base('message.send'), extra: 1 }],
  ['missing type', 'client', (({ type, ...rest }) => rest)(base('message.send'))],
  ['id is a number', 'client', { ...base('message.send'), id: 7 }],
  ['body of 4001 chars', 'client', { ...base('message.send'), body: 'x'.repeat(4001) }],
  ['body of only spaces', 'client', { ...base('message.send'), body: '     ' }],
  ['body of only Unicode blanks', 'client', { ...base('message.send'), body: '\u00a0\u3000\u2003\t\n\ufeff' }],
  ['empty body', 'client', { ...base('message.send'), body: '' }],
  ['limit 101', 'client', { ...base('history'), limit: 101 }],
  ['limit 0', 'client', { ...base('history'), limit: 0 }],
  ['limit "5"', 'client', { ...base('history'), limit: '5' }],
  ['unknown type', 'client', { ...base('ping'), type: 'pingg' }],
  ['type of the other direction', 'client', base('pong', 'server')],
  ['not an object', 'client', 'ping'],
  ['null', 'server', null],
  ['array', 'server', [base('pong', 'server')]],
  ['server frame with extra property', 'server', { ...base('pong', 'server'), extra: true }],
  ['nested extra property', 'server', (() => { const f = base('message.created', 'server'); f.message.author.extra = 1; return f; })()],
];

test('every schema example is valid (through validate-frames.mjs)', () => {
  const results = runBatch(ALL);
  ALL.forEach((e, i) => assert.equal(results[i], true, `${e.where} should be valid: ${JSON.stringify(V.check(e.dir, e.frame).errors)}`));
});

test('obvious mutations are invalid (through validate-frames.mjs)', () => {
  const results = runBatch(MUTATIONS.map(([, dir, frame]) => ({ dir, frame })));
  MUTATIONS.forEach(([what], i) => assert.equal(results[i], false, `${what} should be invalid`));
});

test('body length counts code points, not UTF-16 units', () => {
  assert.equal(V.check('client', { ...base('message.send'), body: '👋'.repeat(4000) }).valid, true);
  assert.equal(V.check('client', { ...base('message.send'), body: '👋'.repeat(4001) }).valid, false);
});

test('check() explains a refusal with the JSON pointer of the field', () => {
  const r = V.check('client', { ...base('history'), limit: 101 });
  assert.equal(r.valid, false);
  assert.equal(r.errors[0].instancePath, '/limit');
  assert.throws(() => V.check('sideways', {}), TypeError);
});

test('one validator per frame type, keyed by type', () => {
  for (const e of ALL) {
    const table = e.dir === 'client' ? V.clientValidators : V.serverValidators;
    assert.equal(table[e.frame.type](e.frame), true, e.where);
  }
  assert.equal(Object.keys(V.clientValidators).length, readdirSync(path.join(SCHEMA, 'client')).length);
  assert.equal(Object.keys(V.serverValidators).length, readdirSync(path.join(SCHEMA, 'server')).length);
});

test('validate-frames.mjs rejects a malformed input line with status 2', () => {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'validate-frames.mjs')], { input: 'nope\n', encoding: 'utf8' });
  assert.equal(res.status, 2);
});
