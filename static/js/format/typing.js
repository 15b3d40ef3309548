// The typing line: "Bob is typing…", "Bob and Carol are typing…", "Several people are typing…". Pure.

export function typingSentence(names) {
  const list = (names || []).filter(Boolean);
  if (list.length === 0) return '';
  if (list.length === 1) return `${list[0]} is typing…`;
  if (list.length === 2) return `${list[0]} and ${list[1]} are typing…`;
  return 'Several people are typing…';
}
