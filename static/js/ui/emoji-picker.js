// The emoji picker: a dialog with a search field, category buttons and a listbox grid. Fully keyboard-operable:
// type to search, ArrowDown into the grid, arrow keys move in two dimensions, Home/End, Enter picks, Escape closes;
// focus returns to the composer in every case.
import { EMOJI_CATEGORIES, searchEmoji } from '../data/emoji.js';
import { byId, h } from './dom.js';

const COLUMNS = 8;

export class EmojiPicker {
  constructor({ onPick, returnFocus }) {
    this.onPick = onPick;
    this.returnFocus = returnFocus;
    this.root = byId('emoji-picker');
    this.button = byId('emoji-button');
    this.items = [];
    this.active = 0;
    this._build();
    this.button.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));
    document.addEventListener('pointerdown', (ev) => {
      if (this.isOpen && !this.root.contains(ev.target) && !this.button.contains(ev.target)) this.close({ focus: false });
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  _build() {
    this.search = h('input', { type: 'search', class: 'emoji-picker__search', placeholder: 'Search emoji', 'aria-label': 'Search emoji', 'aria-controls': 'emoji-grid', autocomplete: 'off' });
    this.cats = h('div', { class: 'emoji-picker__cats', role: 'toolbar', 'aria-label': 'Emoji categories' });
    for (const cat of EMOJI_CATEGORIES) {
      this.cats.appendChild(h('button', { type: 'button', class: 'emoji-picker__cat', 'aria-label': cat.name, title: cat.name, dataset: { cat: cat.name }, onclick: () => this._goCategory(cat.name) }, cat.emoji[0].char));
    }
    this.grid = h('div', { id: 'emoji-grid', class: 'emoji-picker__grid', role: 'listbox', tabindex: '0', 'aria-label': 'Emoji' });
    this.status = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
    this.root.replaceChildren(this.search, this.cats, this.grid, this.status, h('p', { class: 'emoji-picker__help' }, 'Arrows to move · Enter to insert · Esc to close'));
    this.search.addEventListener('input', () => this._fill());
    this.search.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowDown' || (ev.key === 'Enter' && this.items.length)) {
        ev.preventDefault();
        if (ev.key === 'Enter') this._pick(this.items[this.active]);
        else this.grid.focus();
      }
    });
    this.grid.addEventListener('keydown', (ev) => this._onGridKey(ev));
    this.grid.addEventListener('focus', () => this._setActive(this.active));
    this.root.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        this.close();
      }
    });
    this.cats.addEventListener('keydown', (ev) => {
      const buttons = [...this.cats.querySelectorAll('button')];
      const i = buttons.indexOf(document.activeElement);
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        ev.preventDefault();
        buttons[(i + (ev.key === 'ArrowRight' ? 1 : -1) + buttons.length) % buttons.length].focus();
      }
    });
  }

  _fill() {
    const query = this.search.value.trim();
    this.grid.replaceChildren();
    this.items = [];
    const groups = query ? [{ name: 'Search results', emoji: searchEmoji(query) }] : EMOJI_CATEGORIES;
    for (const group of groups) {
      const labelId = `emoji-group-${group.name.replace(/\W+/g, '-').toLowerCase()}`;
      const g = h('div', { role: 'group', 'aria-labelledby': labelId, class: 'emoji-picker__group', dataset: { cat: group.name } }, h('div', { id: labelId, class: 'emoji-picker__label' }, group.name));
      const row = h('div', { class: 'emoji-picker__options' });
      for (const e of group.emoji) {
        const index = this.items.length;
        const opt = h('div', { id: `emoji-opt-${index}`, role: 'option', class: 'emoji-picker__option', 'aria-label': e.name, title: e.name, 'aria-selected': 'false', onclick: () => this._pick(e), onpointermove: () => this._setActive(index, false) }, e.char);
        this.items.push(e);
        e.node = opt;
        row.appendChild(opt);
      }
      g.appendChild(row);
      this.grid.appendChild(g);
    }
    if (!this.items.length) this.grid.appendChild(h('p', { class: 'emoji-picker__empty' }, 'No emoji found'));
    this.status.textContent = query ? `${this.items.length} emoji found` : '';
    this._setActive(0, false);
  }

  _setActive(index, scroll = true) {
    if (!this.items.length) {
      this.grid.removeAttribute('aria-activedescendant');
      this.search.removeAttribute('aria-activedescendant');
      return;
    }
    const prev = this.items[this.active];
    if (prev && prev.node) prev.node.setAttribute('aria-selected', 'false');
    this.active = Math.max(0, Math.min(index, this.items.length - 1));
    const cur = this.items[this.active];
    cur.node.setAttribute('aria-selected', 'true');
    this.grid.setAttribute('aria-activedescendant', cur.node.id);
    if (scroll) cur.node.scrollIntoView({ block: 'nearest' });
  }

  _onGridKey(ev) {
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (ev.key in moves) {
      ev.preventDefault();
      const next = this.active + moves[ev.key];
      if (ev.key === 'ArrowUp' && next < 0) {
        this.search.focus();
        return;
      }
      this._setActive(next);
    } else if (ev.key === 'Home') {
      ev.preventDefault();
      this._setActive(0);
    } else if (ev.key === 'End') {
      ev.preventDefault();
      this._setActive(this.items.length - 1);
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      if (this.items[this.active]) this._pick(this.items[this.active]);
    } else if (ev.key.length === 1 && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      this.search.focus(); // typing in the grid searches
    }
  }

  _goCategory(name) {
    if (this.search.value) {
      this.search.value = '';
      this._fill();
    }
    const index = this.items.findIndex((e) => EMOJI_CATEGORIES.find((c) => c.name === name).emoji[0].char === e.char);
    this.grid.querySelector(`[data-cat="${name}"]`)?.scrollIntoView({ block: 'start' });
    this._setActive(index, false);
    this.grid.focus();
  }

  _pick(e) {
    if (!e) return;
    this.close({ focus: false });
    this.onPick(e.char);
  }

  open() {
    this.search.value = '';
    this._fill();
    this.root.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.grid.scrollTop = 0;
    this.search.focus();
  }

  close({ focus = true } = {}) {
    if (!this.isOpen) return;
    this.root.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (focus) this.returnFocus();
  }
}
