// The member list with presence dots (online / away / offline with "last seen").
import { displayName } from '../format/names.js';
import { lastSeenText } from '../format/time.js';
import { byId, h } from './dom.js';
import { avatar } from './timeline.js';

const ORDER = { online: 0, away: 1, offline: 2 };

export function presenceText(p, clock) {
  if (p.status === 'online') return 'Online';
  if (p.status === 'away') return 'Away';
  if (!p.last_seen) return 'Offline';
  const text = lastSeenText(p.last_seen, clock); // "last seen …": capitalised like "Online" beside it
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class MemberList {
  constructor() {
    this.list = byId('member-list');
    this.count = byId('members-count');
  }

  render({ members, meId, presenceOf, clock }) {
    const sorted = [...members].sort((a, b) => ORDER[presenceOf(a.user.id).status] - ORDER[presenceOf(b.user.id).status] || displayName(a.user).localeCompare(displayName(b.user)));
    this.count.textContent = members.length ? `${members.length} member${members.length === 1 ? '' : 's'}` : 'Members';
    this.list.replaceChildren(
      ...sorted.map(({ user, role }) => {
        const p = presenceOf(user.id);
        const status = presenceText(p, clock);
        return h(
          'li',
          { class: `member member--${p.status}` },
          h('span', { class: 'member__avatar' }, avatar(user, 'avatar--sm'), h('span', { class: `presence-dot presence-dot--${p.status}`, 'aria-hidden': 'true' })),
          h(
            'span',
            { class: 'member__text' },
            h('span', { class: 'member__name' }, displayName(user), user.id === meId ? h('span', { class: 'member__you' }, ' (you)') : null),
            h('span', { class: 'member__status' }, status, role && role !== 'member' ? h('span', { class: 'member__role' }, role) : null),
          ),
        );
      }),
    );
  }
}
