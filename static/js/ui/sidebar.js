// The sidebar: channels, private rooms and DMs with unread badges and DM presence dots.
import { byId, h, icon } from './dom.js';
import { avatar } from './timeline.js';

export class Sidebar {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.lists = { public: byId('list-public'), private: byId('list-private'), dm: byId('list-dm') };
  }

  render({ sections, activeId, unread, presenceOf }) {
    for (const kind of ['public', 'private', 'dm']) {
      const list = this.lists[kind];
      const rooms = sections[kind];
      const items = rooms.map((room) => this._item(room, room.id === activeId, unread(room.id), presenceOf));
      if (!items.length) {
        const empty = { public: 'No channels yet', private: 'No private rooms', dm: 'No conversations yet' }[kind];
        items.push(h('li', { class: 'room-list__empty' }, empty));
      }
      list.replaceChildren(...items);
    }
  }

  _item(room, active, count, presenceOf) {
    let lead;
    if (room.kind === 'dm' && room.dm_user) {
      const p = presenceOf(room.dm_user.id);
      lead = h('span', { class: 'room-link__avatar' }, avatar(room.dm_user, 'avatar--xs'), h('span', { class: `presence-dot presence-dot--${p.status}`, 'aria-hidden': 'true' }));
    } else if (room.kind === 'private') {
      lead = h('span', { class: 'room-link__icon' }, icon('M7 11V8a5 5 0 0 1 10 0v3', 'M5 11h14v9H5z'));
    } else {
      lead = h('span', { class: 'room-link__icon room-link__hash', 'aria-hidden': 'true' }, '#');
    }
    const kindText = room.kind === 'dm' ? 'Direct message with ' : room.kind === 'private' ? 'Private room ' : 'Channel ';
    const link = h(
      'a',
      { class: `room-link${active ? ' room-link--active' : ''}${count ? ' room-link--unread' : ''}`, href: `#${room.id}`, 'aria-current': active ? 'page' : null, onclick: (ev) => { ev.preventDefault(); this.onSelect(room.id); } },
      lead,
      h('span', { class: 'visually-hidden' }, kindText),
      h('span', { class: 'room-link__name' }, room.name),
      count ? h('span', { class: 'badge' }, count > 99 ? '99+' : String(count), h('span', { class: 'visually-hidden' }, count === 1 ? ' unread message' : ' unread messages')) : null,
    );
    return h('li', {}, link);
  }
}
