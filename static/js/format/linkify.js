// Split plain text into text and link segments. Only absolute http: and https: URLs become links; everything else
// (javascript:, data:, vbscript:, file:, relative paths…) stays text. The result is a description; the UI builds DOM
// nodes from it with textContent and setAttribute('href', …) only.

const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_CHARS = new Set(['.', ',', ';', ':', '!', '?', "'", '"', '»', '”', '’', ')', ']', '}', '>', '*', '_', '~']);

function count(text, ch) {
  let n = 0;
  for (const c of text) if (c === ch) n++;
  return n;
}

/** Drop sentence punctuation glued to the end of a URL; keep a ")" that closes a "(" inside it. */
function trimTrailing(url) {
  let out = url;
  while (out && TRAILING_CHARS.has(out[out.length - 1])) {
    if (out.endsWith(')') && count(out, '(') >= count(out, ')')) break;
    out = out.slice(0, -1);
  }
  return out;
}

/** Is `href` safe to put in an <a href>? Absolute http(s) only. */
export function isSafeHref(href) {
  if (typeof href !== 'string') return false;
  let url;
  try {
    url = new URL(href);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && Boolean(url.hostname);
}

/** Segments of `text`: [{type: 'text', text}, {type: 'link', text, href}]. */
export function linkify(text) {
  const out = [];
  const source = String(text ?? '');
  let last = 0;
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(source); m; m = CANDIDATE.exec(source)) {
    const raw = trimTrailing(m[0]);
    if (!raw || !isSafeHref(raw)) continue;
    if (m.index > last) out.push({ type: 'text', text: source.slice(last, m.index) });
    out.push({ type: 'link', text: raw, href: new URL(raw).href });
    last = m.index + raw.length;
    CANDIDATE.lastIndex = last;
  }
  if (last < source.length) out.push({ type: 'text', text: source.slice(last) });
  return out;
}
