// Times of day and "last seen" phrases. Pure (the clock and zone are parameters).
import { addDays, dayKey, dayLabel } from './days.js';

/** "09:14" / "9:14 AM" in the given zone and locale. */
export function formatTime(instant, { timeZone = 'UTC', locale = 'en-US' } = {}) {
  return new Intl.DateTimeFormat(locale, { timeZone, hour: 'numeric', minute: '2-digit' }).format(new Date(instant));
}

/** A full, unambiguous date and time (for tooltips): "Thursday, November 27, 2026 at 9:14 AM". */
export function formatDateTime(instant, { timeZone = 'UTC', locale = 'en-US' } = {}) {
  return new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'full', timeStyle: 'short' }).format(new Date(instant));
}

/** "last seen just now", "last seen 5 min ago", "last seen today at 9:14 AM", "last seen yesterday at …", "last seen Nov 3". */
export function lastSeenText(lastSeen, { now = Date.now(), timeZone = 'UTC', locale = 'en-US' } = {}) {
  if (!lastSeen) return 'offline';
  const then = new Date(lastSeen).getTime();
  const minutes = Math.floor((now - then) / 60000);
  if (minutes < 1) return 'last seen just now';
  if (minutes < 60) return `last seen ${minutes} min ago`;
  const key = dayKey(then, timeZone);
  const today = dayKey(now, timeZone);
  const time = formatTime(then, { timeZone, locale });
  if (key === today) return `last seen today at ${time}`;
  if (key === addDays(today, -1)) return `last seen yesterday at ${time}`;
  const label = dayLabel(key, { now, timeZone, locale });
  return `last seen ${label}`;
}

/** The browser's IANA time zone, UTC when unknown. */
export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
