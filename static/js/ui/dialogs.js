// Dialogs on native <dialog> (modal, focus kept inside, Escape closes): confirmation, create room, browse public
// rooms, start a DM. Focus goes back to where it was when a dialog closes.
import { displayName } from '../format/names.js';
import { byId, h } from './dom.js';
import { avatar } from './timeline.js';

function openModal(dialog, focusEl) {
  const back = document.activeElement;
  dialog.showModal();
  if (focusEl) focusEl.focus();
  const onClose = () => {
    dialog.removeEventListener('close', onClose);
    if (back && back.isConnected && typeof back.focus === 'function') back.focus();
  };
  dialog.addEventListener('close', onClose);
  for (const b of dialog.querySelectorAll('[data-close]')) b.onclick = () => dialog.close('cancel');
}

/** An accessible replacement for window.confirm. Resolves true when confirmed. */
export function confirmDialog({ title, text, ok = 'Delete' }) {
  const dialog = byId('confirm-dialog');
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-ok').textContent = ok;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener('close', done);
      resolve(dialog.returnValue === 'ok');
    };
    dialog.addEventListener('close', done);
    openModal(dialog, byId('confirm-cancel'));
  });
}

function showFieldError(input, errorEl, message) {
  errorEl.textContent = message || '';
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** Create a room. `create(kind, name, topic)` returns the Room or throws ApiError. */
export function createRoomDialog({ create, onCreated }) {
  const dialog = byId('create-dialog');
  const form = byId('create-form');
  const name = byId('create-name');
  const topic = byId('create-topic');
  const nameError = byId('create-name-error');
  const formError = byId('create-error');
  form.reset();
  showFieldError(name, nameError, '');
  formError.textContent = '';
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const n = name.value.trim();
    if (!n) {
      showFieldError(name, nameError, 'Give the room a name.');
      name.focus();
      return;
    }
    showFieldError(name, nameError, '');
    formError.textContent = '';
    const kind = form.querySelector('input[name="kind"]:checked').value;
    try {
      const room = await create(kind, n, topic.value.trim() || null);
      dialog.close('ok');
      onCreated(room);
    } catch (err) {
      if (err.field === 'name') {
        showFieldError(name, nameError, err.message);
        name.focus();
      } else formError.textContent = err.message;
    }
  };
  openModal(dialog, name);
}

/** Browse and join public rooms. */
export async function browseRoomsDialog({ list, join, isMember, onJoined }) {
  const dialog = byId('browse-dialog');
  const filter = byId('browse-filter');
  const ul = byId('browse-list');
  const error = byId('browse-error');
  filter.value = '';
  error.textContent = '';
  ul.replaceChildren(h('li', { class: 'pick-list__empty' }, 'Loading…'));
  openModal(dialog, filter);
  let rooms = [];
  try {
    rooms = await list();
  } catch (err) {
    error.textContent = err.message;
  }
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = rooms.filter((r) => !q || r.name.toLowerCase().includes(q) || (r.topic || '').toLowerCase().includes(q));
    if (!shown.length) {
      ul.replaceChildren(h('li', { class: 'pick-list__empty' }, rooms.length ? 'No room matches.' : 'No public rooms yet.'));
      return;
    }
    ul.replaceChildren(
      ...shown.map((r) => {
        const member = isMember(r.id);
        return h(
          'li',
          { class: 'pick' },
          h('span', { class: 'pick__icon', 'aria-hidden': 'true' }, '#'),
          h('span', { class: 'pick__text' }, h('span', { class: 'pick__name' }, r.name), r.topic ? h('span', { class: 'pick__sub' }, r.topic) : null),
          h(
            'button',
            {
              type: 'button',
              class: member ? 'btn btn--sm btn--ghost' : 'btn btn--sm btn--primary',
              'aria-label': member ? `Open ${r.name}` : `Join ${r.name}`,
              onclick: async () => {
                try {
                  const room = member ? r : await join(r.id);
                  dialog.close('ok');
                  onJoined(room);
                } catch (err) {
                  error.textContent = err.message;
                }
              },
            },
            member ? 'Open' : 'Join',
          ),
        );
      }),
    );
  };
  filter.oninput = render;
  render();
}

/** Find a person and open a DM with them. */
export function dmDialog({ search, open, meId, onOpened }) {
  const dialog = byId('dm-dialog');
  const input = byId('dm-search');
  const ul = byId('dm-list');
  const error = byId('dm-error');
  input.value = '';
  error.textContent = '';
  ul.replaceChildren(h('li', { class: 'pick-list__empty' }, 'Type at least one letter.'));
  let seq = 0;
  let timer = null;
  input.oninput = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      const mine = ++seq;
      if (!q) {
        ul.replaceChildren(h('li', { class: 'pick-list__empty' }, 'Type at least one letter.'));
        return;
      }
      try {
        const users = (await search(q)).filter((u) => u.id !== meId);
        if (mine !== seq) return;
        error.textContent = '';
        ul.replaceChildren(
          ...(users.length
            ? users.map((u) =>
                h(
                  'li',
                  { class: 'pick' },
                  avatar(u, 'avatar--sm'),
                  h('span', { class: 'pick__text' }, h('span', { class: 'pick__name' }, displayName(u)), h('span', { class: 'pick__sub' }, `@${u.username}`)),
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'btn btn--sm btn--primary',
                      'aria-label': `Message ${displayName(u)}`,
                      onclick: async () => {
                        try {
                          const room = await open(u.username);
                          dialog.close('ok');
                          onOpened(room);
                        } catch (err) {
                          error.textContent = err.message;
                        }
                      },
                    },
                    'Message',
                  ),
                ),
              )
            : [h('li', { class: 'pick-list__empty' }, 'Nobody found.')]),
        );
      } catch (err) {
        error.textContent = err.message;
      }
    }, 200);
  };
  openModal(dialog, input);
}
