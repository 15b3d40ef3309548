// Calendar days and their labels ("Today", "Yesterday", dates) in a given IANA time zone. Pure.

const keyFormatters = new Map();

function keyFormatter(timeZone) {
  let f = keyFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    keyFormatters.set(timeZone, f);
  }
  return f;
}

/** The local calendar date (YYYY-MM-DD) of an instant (Date, ms or ISO string) in `timeZone`. */
export function dayKey(instant, timeZone = 'UTC') {
  const date = instant instanceof Date ? instant : new Date(instant);
  const parts = keyFormatter(timeZone).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The calendar date `delta` days from `key` (pure calendar arithmetic: no time zone, no DST). */
export function addDays(key, delta) {
  const [y, m, d] = key.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d + delta));
  return date.toISOString().slice(0, 10);
}

/**
 * The separator label of the day `key`, seen at instant `now` in `timeZone`: "Today", "Yesterday", a weekday and date
 * in the current year ("Tuesday, November 25"), else a full date ("November 25, 2025").
 */
export function dayLabel(key, { now = Date.now(), timeZone = 'UTC', locale = 'en-US' } = {}) {
  const today = dayKey(now, timeZone);
  if (key === today) return 'Today';
  if (key === addDays(today, -1)) return 'Yesterday';
  const [y, m, d] = key.split('-').map(Number);
  const noon = new Date(Date.UTC(y, m - 1, d, 12));
  const sameYear = key.slice(0, 4) === today.slice(0, 4);
  const options = sameYear
    ? { timeZone: 'UTC', weekday: 'long', month: 'long', day: 'numeric' }
    : { timeZone: 'UTC', year: 'numeric', month: 'long', day: 'numeric' };
  return new Intl.DateTimeFormat(locale, options).format(noon);
}

/**
 * Interleave day separators with messages (already in display order): returns
 * [{kind: 'day', key, label}, {kind: 'message', message}, …].
 */
export function withDaySeparators(messages, { now = Date.now(), timeZone = 'UTC', locale = 'en-US', timeOf = (m) => m.created_at } = {}) {
  const out = [];
  let current = null;
  for (const message of messages) {
    const key = dayKey(timeOf(message), timeZone);
    if (key !== current) {
      out.push({ kind: 'day', key, label: dayLabel(key, { now, timeZone, locale }) });
      current = key;
    }
    out.push({ kind: 'message', message });
  }
  return out;
}
