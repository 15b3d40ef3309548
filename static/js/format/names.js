// Names, initials and avatar colours. Pure.

/** The name to show for a user object ({display_name, username}). */
export function displayName(user) {
  if (!user) return 'Someone';
  return user.display_name || user.username || 'Someone';
}

/** One or two initials from a display name, emoji- and surrogate-safe: "Alice Martin" → "AM", "bob" → "B". */
export function initials(name) {
  const words = String(name || '')
    .trim()
    .split(/[\s._-]+/u)
    .filter(Boolean);
  if (!words.length) return '?';
  const first = (w) => Array.from(w)[0] || '';
  const letters = words.length === 1 ? first(words[0]) : first(words[0]) + first(words[words.length - 1]);
  return letters.toLocaleUpperCase();
}

/** A stable colour slot (0..slots-1) for an id: the UI maps it to a CSS class, never to an inline style. */
export function colorSlot(id, slots = 8) {
  let h = 2166136261;
  for (const ch of String(id || '')) {
    h ^= ch.codePointAt(0);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % slots;
}
