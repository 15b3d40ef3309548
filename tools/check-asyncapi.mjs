#!/usr/bin/env node
// Check an AsyncAPI document with the official parser (@asyncapi/parser 3.x, Spectral rules included).
//
// Prints every diagnostic (severity, code, message, path) and a one-line summary. Exits 1 when the document
// does not parse, or when any diagnostic is an error (severity 0) or a warning (severity 1); infos and hints
// are printed but do not fail. Payload schemas are checked as draft-07 JSON Schema (their schemaFormat).
//
// When the document parses, two project checks follow (the parser does neither), reported as errors:
//   chatterbox-message-example  every message example's payload validates against that message's payload schema;
//   chatterbox-frame-coverage   every frame type of schema/client/*.json is a message of a `receive` operation
//                               (client -> server) and every one of schema/server/*.json of a `send` operation
//                               or of the reply of a `receive` operation; no frame type on the wrong side.
// Usage: node tools/check-asyncapi.mjs [FILE]   (FILE defaults to asyncapi.yaml at the repo root)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Parser, fromFile } from '@asyncapi/parser';
import Ajv from 'ajv';

const REPO_ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const SEVERITY = ['error', 'warning', 'info', 'hint'];

const args = process.argv.slice(2);
if (args.length > 1 || args[0] === '-h' || args[0] === '--help') {
  console.error('usage: node tools/check-asyncapi.mjs [FILE]');
  process.exit(args.length > 1 ? 2 : 0);
}
const file = args[0] ? path.resolve(process.cwd(), args[0]) : path.join(REPO_ROOT, 'asyncapi.yaml');
const shown = path.relative(process.cwd(), file) || file;
if (!existsSync(file)) {
  console.error(`${shown}: no such file`);
  process.exit(1);
}

const { document, diagnostics: parserDiagnostics } = await fromFile(new Parser(), file).parse();
const diagnostics = [...parserDiagnostics, ...(document ? projectChecks(document) : [])];

const counts = [0, 0, 0, 0];
const sorted = [...diagnostics].sort((a, b) => a.severity - b.severity);
for (const d of sorted) {
  counts[d.severity] = (counts[d.severity] ?? 0) + 1;
  const where = d.path && d.path.length ? d.path.join('.') : '(root)';
  const line = d.range ? `:${d.range.start.line + 1}` : '';
  const source = d.source && path.resolve(String(d.source)) !== file ? ` [${d.source}${line}]` : line ? ` [line${line}]` : '';
  console.log(`${SEVERITY[d.severity] ?? d.severity}\t${d.code}\t${d.message}\t${where}${source}`);
}
const summary = `${shown}: ${counts[0]} errors, ${counts[1]} warnings, ${counts[2] + counts[3]} infos/hints`;
if (!document) {
  console.log(`${summary}; the document is INVALID (the parser returned no document)`);
  process.exit(1);
}
console.log(summary);
process.exit(counts[0] + counts[1] > 0 ? 1 : 0);

/** The frame `type` values a payload schema admits: its properties.type const/enum, through oneOf/anyOf. */
function frameTypes(schema) {
  if (!schema || typeof schema !== 'object') return [];
  const t = schema.properties?.type;
  if (t && typeof t.const === 'string') return [t.const];
  if (t && Array.isArray(t.enum)) return t.enum.filter((v) => typeof v === 'string');
  return [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].flatMap(frameTypes);
}

function payloadSchema(message) {
  const payload = message.payload();
  if (!payload) return undefined;
  const json = payload.json();
  return json && typeof json === 'object' && 'schemaFormat' in json && 'schema' in json ? json.schema : json;
}

function projectChecks(document) {
  const out = [];
  const diag = (code, message, p) => out.push({ severity: 0, code, message, path: p });

  // 1. Message examples against their payload schema.
  const ajv = new Ajv({ strict: false, discriminator: true, allErrors: true });
  for (const message of document.allMessages().all()) {
    const schema = payloadSchema(message);
    const examples = message.examples().all();
    if (!schema || !examples.length) continue;
    let validate;
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      diag('chatterbox-message-example', `cannot compile the payload schema: ${err.message}`, ['messages', message.id(), 'payload']);
      continue;
    }
    examples.forEach((example, i) => {
      const payload = example.payload();
      if (payload === undefined) return;
      if (!validate(payload)) {
        const why = validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
        diag('chatterbox-message-example', `example ${i} does not match the payload schema: ${why}`, ['messages', message.id(), 'examples', String(i)]);
      }
    });
  }

  // 2. Every frame type documented, on the right side.
  const sides = { client: 'receive', server: 'send' };
  const seen = { receive: new Set(), send: new Set() };
  const opposite = { send: 'receive', receive: 'send' };
  for (const op of document.operations().all()) {
    const action = op.action();
    for (const message of op.messages().all()) for (const t of frameTypes(payloadSchema(message))) seen[action]?.add(t);
    // A reply travels the other way: the server's answer to a `receive` (client -> server) operation.
    const reply = op.reply();
    const replyMessages = reply ? reply.messages().all() : [];
    for (const message of replyMessages) for (const t of frameTypes(payloadSchema(message))) seen[opposite[action]]?.add(t);
  }
  for (const [dir, action] of Object.entries(sides)) {
    const dirPath = path.join(REPO_ROOT, 'schema', dir);
    const known = new Set();
    for (const name of readdirSync(dirPath).filter((n) => n.endsWith('.json')).sort()) {
      const type = JSON.parse(readFileSync(path.join(dirPath, name), 'utf8')).properties?.type?.const;
      known.add(type);
      if (!seen[action].has(type)) {
        diag('chatterbox-frame-coverage', `frame type "${type}" (schema/${dir}/${name}) is in no \`${action}\` operation${action === 'send' ? ' nor reply' : ''}`, ['operations']);
      }
    }
    // A type name may exist on both sides (typing, receipt, history): flag only those foreign to this side.
    for (const t of seen[action]) {
      if (!known.has(t)) diag('chatterbox-frame-coverage', `a \`${action}\` operation carries "${t}", which is not a ${dir} frame type`, ['operations']);
    }
  }
  return out;
}
