#!/usr/bin/env node
// Batch frame checker for the Python tests: NDJSON in, NDJSON out, one line per input line, in order.
//
// Input lines:  {"dir": "client" | "server", "frame": <any JSON value>}
// Output lines: {"valid": true} or {"valid": false}; with --errors, invalid lines also carry
//               "errors": [{instancePath, schemaPath, keyword, params, message}].
// Blank input lines are skipped. A line that is not JSON, or has no valid "dir", is a caller bug: the
// message goes to stderr and the exit status is 2.
//
// It imports the GENERATED static/js/protocol/validators.js (the committed artifact), never the schemas.
// Usage: node tools/validate-frames.mjs [--errors] [--validators PATH] < frames.ndjson
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

let withErrors = false;
let validatorsPath = path.join(REPO_ROOT, 'static', 'js', 'protocol', 'validators.js');
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--errors') withErrors = true;
  else if (argv[i] === '--validators') validatorsPath = path.resolve(argv[++i]);
  else {
    console.error(`usage: node tools/validate-frames.mjs [--errors] [--validators PATH] < in.ndjson (unknown: ${argv[i]})`);
    process.exit(2);
  }
}

const { check } = await import(pathToFileURL(validatorsPath).href);

const VALID = '{"valid":true}\n';
const INVALID = '{"valid":false}\n';
let buffer = '';
let lineNo = 0;

function flush() {
  if (buffer) {
    process.stdout.write(buffer);
    buffer = '';
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  lineNo++;
  if (!line.trim()) continue;
  let item;
  try {
    item = JSON.parse(line);
  } catch (err) {
    flush();
    console.error(`validate-frames: line ${lineNo}: not JSON: ${err.message}`);
    process.exit(2);
  }
  if (item === null || typeof item !== 'object' || (item.dir !== 'client' && item.dir !== 'server') || !('frame' in item)) {
    flush();
    console.error(`validate-frames: line ${lineNo}: expected {"dir": "client"|"server", "frame": ...}`);
    process.exit(2);
  }
  const result = check(item.dir, item.frame);
  if (result.valid) buffer += VALID;
  else if (withErrors) buffer += JSON.stringify({ valid: false, errors: result.errors }) + '\n';
  else buffer += INVALID;
  if (buffer.length > 65536) flush();
}
flush();
