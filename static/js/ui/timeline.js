// The message list: a role="log" region rendered from the room's entries with keyed DOM reconciliation (nodes are
// reused, so focus, scroll position and observers survive updates). Day separators, the "new messages" marker,
// grouping of consecutive messages, receipts, older-page loading with the scroll position kept, jump-to-latest, and
// an IntersectionObserver telling the controller which messages by others are on screen.
import { withDaySeparators } from '../format/days.js';
import { formatDateTime, formatTime } from '../format/time.js';
import { linkify } from '../format/linkify.js';
import { colorSlot, displayName, initials } from '../format/names.js';
import { CIRCLE } from '../state/receipts.js';
import { SEND } from '../state/messages.js';
import { h, icon, svg } from './dom.js';

const GROUP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM = 80;
const NEAR_TOP = 240;

/** Message body → DOM: text nodes and safe links only. */
export function renderBody(text) {
  const frag = document.createDocumentFragment();
  for (const seg of linkify(text)) {
    if (seg.type === 'link') {
      const a = document.createElement('a');
      a.setAttribute('href', seg.href);
      a.setAttribute('target', '_blank');
      a.setAttribute('rel', 'noopener noreferrer');
      a.textContent = seg.text;
      frag.appendChild(a);
    } else {
      frag.appendChild(document.createTextNode(seg.text));
    }
  }
  return frag;
}

export function avatar(user, size = '') {
  const name = displayName(user);
  return h('span', { class: `avatar avatar--c${colorSlot(user && user.id)} ${size}`.trim(), 'aria-hidden': 'true' }, initials(name));
}

function receiptIcon(circle) {
  const c = svg('circle', { cx: 8, cy: 8, r: 5.25 });
  return svg('svg', { viewBox: '0 0 16 16', 'aria-hidden': 'true', class: `receipt__icon receipt__icon--${circle}` }, c);
}

export class Timeline {
  constructor(o) {
    this.o = o;
    this.scroller = o.scroller;
    this.log = o.log;
    this.nodes = new Map(); // key → {node, sig}
    this.roomId = null;
    this.markerSeq = null;
    this.newBelow = 0;
    this.loadingOlder = false;
    this.hasMore = false;
    this.visible = new Map(); // key → entry (messages by others on screen)
    this.entries = [];
    this.observer = new IntersectionObserver((records) => this._onIntersect(records), { root: this.scroller, threshold: 0.6 });
    this.scroller.addEventListener('scroll', () => this._onScroll(), { passive: true });
    o.jump.addEventListener('click', () => {
      this.scrollToBottom(true);
      this.o.log.focus?.();
    });
  }

  setRoom(roomId, { markerSeq = null } = {}) {
    this.roomId = roomId;
    this.markerSeq = markerSeq;
    this.newBelow = 0;
    this.loadingOlder = false;
    this.visible.clear();
    this.observer.disconnect();
    this.nodes.clear();
    this.log.replaceChildren();
    this._stickToBottom = true;
    this._updateJump();
  }

  setMarker(seq) {
    this.markerSeq = seq;
  }

  get atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM;
  }

  scrollToBottom(smooth = false) {
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.newBelow = 0;
    this._updateJump();
  }

  /**
   * Render `entries` (display order). Options: hasMore (older pages exist), prepended (an older page was merged:
   * keep the scroll position), follow (scroll to the bottom: the person just sent something).
   */
  render(entries, { hasMore = false, prepended = false, follow = false, loading = false } = {}) {
    const s = this.scroller;
    const wasAtBottom = this._stickToBottom || this.atBottom;
    const prevHeight = s.scrollHeight;
    const prevTop = s.scrollTop;
    const prevLastKey = this.entries.length ? this.entries[this.entries.length - 1].key : null;
    this.entries = entries;
    this.hasMore = hasMore;

    if (prepended) this.log.setAttribute('aria-busy', 'true');
    const { timeZone, locale, now = Date.now() } = this.o.clock();
    const items = withDaySeparators(entries, { now, timeZone, locale });
    const wanted = [];
    let prev = null;
    let markerPlaced = false;
    for (const item of items) {
      if (item.kind === 'day') {
        wanted.push({ key: `day:${item.key}`, sig: item.label, make: () => h('h2', { class: 'day-sep' }, h('span', {}, item.label)) });
        prev = null;
        continue;
      }
      const e = item.message;
      if (!markerPlaced && this.markerSeq != null && e.seq != null && e.seq >= this.markerSeq && !this._isOwn(e)) {
        markerPlaced = true;
        wanted.push({ key: 'new-marker', sig: 'm', make: () => h('div', { class: 'new-marker', role: 'separator', 'aria-label': 'New messages' }, h('span', {}, 'New messages')) });
        prev = null;
      }
      const cont = Boolean(prev && !prev.deleted_at && !e.deleted_at && prev.author.id === e.author.id && Date.parse(e.created_at) - Date.parse(prev.created_at) < GROUP_MS);
      const receipt = this._isOwn(e) ? this.o.receiptFor(e) : null;
      const sig = [e.rev, e.status, e.body, e.edited_at, e.deleted_at, cont, receipt && receipt.circle, receipt && receipt.label, formatTime(e.created_at, { timeZone, locale })].join('\u0001');
      wanted.push({ key: e.key, sig, entry: e, make: () => this._messageNode(e, { cont, receipt, timeZone, locale }) });
      prev = e;
    }

    // Reconcile: create or refresh changed nodes, put them in order, drop the rest.
    const keep = new Set();
    let ref = this.log.firstChild;
    for (const w of wanted) {
      keep.add(w.key);
      let slot = this.nodes.get(w.key);
      if (!slot || slot.sig !== w.sig) {
        const node = w.make();
        node.dataset.key = w.key;
        if (slot) {
          if (w.entry) this.observer.unobserve(slot.node);
          const hadFocus = slot.node.contains(document.activeElement);
          slot.node.replaceWith(node);
          if (hadFocus) node.querySelector('button, a, [tabindex]')?.focus();
          if (ref === slot.node) ref = node;
        }
        slot = { node, sig: w.sig };
        this.nodes.set(w.key, slot);
        if (w.entry && w.entry.id && !w.entry.deleted_at && !this._isOwn(w.entry)) this.observer.observe(node);
      }
      if (slot.node !== ref) this.log.insertBefore(slot.node, ref);
      else ref = ref.nextSibling;
    }
    for (const [key, slot] of this.nodes) {
      if (!keep.has(key)) {
        this.observer.unobserve(slot.node);
        slot.node.remove();
        this.nodes.delete(key);
        this.visible.delete(key);
      }
    }

    this.o.top.textContent = loading ? 'Loading earlier messages…' : hasMore ? '' : entries.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello! 👋';

    // Scroll: keep the reading position when older messages were added above, follow the bottom when there.
    if (prepended) {
      s.scrollTop = prevTop + (s.scrollHeight - prevHeight);
      requestAnimationFrame(() => this.log.removeAttribute('aria-busy'));
    } else if (follow || wasAtBottom) {
      s.scrollTop = s.scrollHeight;
      this.newBelow = 0;
    } else {
      const lastKey = entries.length ? entries[entries.length - 1].key : null;
      if (lastKey && lastKey !== prevLastKey) this.newBelow++;
    }
    this._stickToBottom = false;
    this._updateJump();
    if (!prepended) this._maybeLoadOlder();
  }

  _isOwn(e) {
    return e.author && e.author.id === this.o.meId();
  }

  _messageNode(e, { cont, receipt, timeZone, locale }) {
    const own = this._isOwn(e);
    const name = displayName(e.author);
    const classes = ['msg', own ? 'msg--own' : 'msg--other'];
    if (cont) classes.push('msg--cont');
    if (e.deleted_at) classes.push('msg--deleted');
    if (e.status === SEND.SENDING) classes.push('msg--sending');
    if (e.status === SEND.FAILED) classes.push('msg--failed');
    const time = h('time', { class: 'msg__time', datetime: e.created_at, title: formatDateTime(e.created_at, { timeZone, locale }) }, formatTime(e.created_at, { timeZone, locale }));
    const meta = h('div', { class: 'msg__meta' + (cont ? ' visually-hidden' : '') }, h('span', { class: own ? 'msg__author visually-hidden' : 'msg__author' }, own ? 'You' : name), time);

    let body;
    if (e.deleted_at) {
      body = h('p', { class: 'msg__body msg__body--deleted' }, icon('M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13'), 'This message was deleted');
    } else {
      body = h('p', { class: 'msg__body', dir: 'auto' });
      body.appendChild(renderBody(e.body));
    }
    const bubble = h('div', { class: 'msg__bubble' }, body);
    if (e.edited_at && !e.deleted_at) {
      const when = formatDateTime(e.edited_at, { timeZone, locale });
      bubble.appendChild(
        h('span', { class: 'msg__edited', tabindex: '0', 'aria-label': `Edited ${when}` }, '(edited)', h('span', { class: 'tip', role: 'tooltip', 'aria-hidden': 'true' }, `Edited ${when}`)),
      );
    }

    const status = h('div', { class: 'msg__status' });
    if (own && !e.deleted_at) {
      if (e.status === SEND.SENDING) {
        status.append(h('span', { class: 'msg__sending' }, svg('svg', { viewBox: '0 0 16 16', 'aria-hidden': 'true', class: 'receipt__icon receipt__icon--sending' }, svg('circle', { cx: 8, cy: 8, r: 5.25 })), 'Sending…'));
      } else if (e.status === SEND.FAILED) {
        status.append(
          h('span', { class: 'msg__failed' }, 'Not sent — '),
          h('button', { type: 'button', class: 'btn-link', onclick: () => this.o.onRetry(e) }, 'Retry'),
          h('span', { 'aria-hidden': 'true' }, ' · '),
          h('button', { type: 'button', class: 'btn-link btn-link--muted', onclick: () => this.o.onDiscard(e) }, 'Discard'),
        );
      } else if (receipt && receipt.circle !== CIRCLE.NONE) {
        status.append(h('span', { class: `receipt receipt--${receipt.circle}`, role: 'img', 'aria-label': receipt.label, title: receipt.label }, receiptIcon(receipt.circle)));
      }
    }

    const main = h('div', { class: 'msg__main' }, meta, bubble, status);
    const node = h('article', { class: classes.join(' '), 'aria-label': undefined }, h('div', { class: 'msg__gutter' }, cont || own ? h('span', { class: 'msg__hover-time', 'aria-hidden': 'true' }, cont ? formatTime(e.created_at, { timeZone, locale }) : '') : avatar(e.author)), main);
    if (e.seq != null) node.dataset.seq = String(e.seq);
    if (own && e.id && !e.deleted_at) {
      node.appendChild(
        h(
          'div',
          { class: 'msg__actions' },
          h('button', { type: 'button', class: 'icon-btn icon-btn--sm', 'aria-label': 'Edit message', title: 'Edit', onclick: () => this.o.onEdit(e) }, icon('M4 20h4L19 9l-4-4L4 16z', 'M14 6l4 4')),
          h('button', { type: 'button', class: 'icon-btn icon-btn--sm icon-btn--danger', 'aria-label': 'Delete message', title: 'Delete', onclick: () => this.o.onDelete(e) }, icon('M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13')),
        ),
      );
    }
    return node;
  }

  _onScroll() {
    if (this.atBottom) {
      this.newBelow = 0;
      this.o.onReachBottom && this.o.onReachBottom();
    }
    this._updateJump();
    this._maybeLoadOlder();
  }

  _maybeLoadOlder() {
    if (this.hasMore && !this.loadingOlder && this.scroller.scrollTop < NEAR_TOP) this.o.onLoadOlder();
  }

  _updateJump() {
    const distance = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight;
    this.o.jump.hidden = this.atBottom || !(distance > 300 || this.newBelow > 0);
    this.o.jumpText.textContent = this.newBelow > 0 ? `${this.newBelow} new message${this.newBelow > 1 ? 's' : ''}` : 'Jump to latest';
  }

  _onIntersect(records) {
    for (const r of records) {
      const key = r.target.dataset.key;
      const entry = this.entries.find((e) => e.key === key);
      if (r.isIntersecting && entry) this.visible.set(key, entry);
      else this.visible.delete(key);
    }
    this.o.onVisibleChange();
  }

  /** The newest message by someone else currently on screen (for the "seen" receipt). */
  newestVisible() {
    let best = null;
    for (const e of this.visible.values()) if (e.id && !e.deleted_at && (!best || e.seq > best.seq)) best = e;
    return best;
  }
}
