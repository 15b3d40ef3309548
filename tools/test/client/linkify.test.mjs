import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const client = (rel) => import(pathToFileURL(path.join(ROOT, 'static', 'js', rel)).href);

const { linkify, isSafeHref } = await client('format/linkify.js');
const links = (text) => linkify(text).filter((s) => s.type === 'link');

test('http and https URLs become links; the text around them stays text', () => {
  const segs = linkify('see https://example.com/a?b=1#c and http://x.org.');
  assert.deepEqual(segs, [
    { type: 'text', text: 'see ' },
    { type: 'link', text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
    { type: 'text', text: ' and ' },
    { type: 'link', text: 'http://x.org', href: 'http://x.org/' },
    { type: 'text', text: '.' },
  ]);
});

test('trailing punctuation is not part of a link; balanced parentheses are', () => {
  assert.equal(links('(see https://example.com/x)')[0].text, 'https://example.com/x');
  assert.equal(links('https://en.wikipedia.org/wiki/Foo_(bar) ok')[0].text, 'https://en.wikipedia.org/wiki/Foo_(bar)');
  assert.equal(links('Go to https://example.com!')[0].text, 'https://example.com');
});

test('dangerous schemes never become links', () => {
  const payloads = [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(document.cookie)',
    'java\tscript:alert(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    '[click](javascript:alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '//evil.example/path',
    'ftp://example.com/file',
  ];
  for (const p of payloads) {
    const segs = linkify(p);
    assert.equal(links(p).length, 0, p);
    assert.equal(segs.map((s) => s.text).join(''), p, 'text is preserved verbatim');
  }
});

test('a link whose text contains markup only yields an http(s) href; quotes end a URL', () => {
  const l = links('https://example.com/"><script>alert(1)</script>');
  assert.equal(l.length, 1);
  assert.equal(l[0].href, 'https://example.com/');
  for (const s of links('http://a.b/x\'onmouseover=alert(1)// https://ok.example/?q=<b>')) assert.ok(isSafeHref(s.href));
});

test('isSafeHref', () => {
  assert.ok(isSafeHref('https://example.com'));
  assert.ok(!isSafeHref('javascript:alert(1)'));
  assert.ok(!isSafeHref('data:text/html,x'));
  assert.ok(!isSafeHref('/relative'));
  assert.ok(!isSafeHref(null));
});

test('emoji and non-ASCII text survive', () => {
  assert.deepEqual(linkify('héllo 👋🏽 wörld'), [{ type: 'text', text: 'héllo 👋🏽 wörld' }]);
});
