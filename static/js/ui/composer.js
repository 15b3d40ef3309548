// The composer: Enter sends, Shift+Enter inserts a newline, Up in an empty composer edits the last own message,
// Escape cancels an edit. Auto-growing textarea; the emoji picker inserts at the caret.
import { byId } from './dom.js';

export class Composer {
  constructor(o) {
    this.o = o;
    this.form = byId('composer');
    this.input = byId('composer-input');
    this.editBar = byId('composer-edit');
    this.error = byId('composer-error');
    this.label = byId('composer-label');
    this.editing = null;
    this.draft = '';
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    this.input.addEventListener('keydown', (ev) => this._onKey(ev));
    this.input.addEventListener('input', () => {
      this._grow();
      this.setError('');
      if (!this.editing) this.o.onInput(this.input.value.trim().length > 0);
    });
    byId('composer-edit-cancel').addEventListener('click', () => this.cancelEdit());
  }

  _onKey(ev) {
    if (ev.isComposing || ev.keyCode === 229) return; // IME composition: Enter confirms the candidate
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
      ev.preventDefault();
      this.submit();
    } else if (ev.key === 'ArrowUp' && !this.editing && this.input.value === '' && !ev.shiftKey) {
      if (this.o.onEditLast()) ev.preventDefault();
    } else if (ev.key === 'Escape' && this.editing) {
      ev.preventDefault();
      this.cancelEdit();
    }
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) {
      if (this.editing) this.setError('A message cannot be empty. To remove it, delete it instead.');
      return;
    }
    const max = this.o.maxChars();
    if (Array.from(text).length > max) {
      this.setError(`Your message is too long: ${Array.from(text).length} characters, at most ${max}.`);
      return;
    }
    if (this.editing) {
      const entry = this.editing;
      this.o.onSaveEdit(entry, text);
      this.cancelEdit({ restoreDraft: true });
    } else if (this.o.onSend(text) !== false) {
      this.input.value = '';
      this._grow();
    }
  }

  startEdit(entry) {
    this.draft = this.editing ? this.draft : this.input.value;
    this.editing = entry;
    this.editBar.hidden = false;
    this.form.classList.add('composer--editing');
    this.label.textContent = 'Edit message';
    this.input.value = entry.body || '';
    this._grow();
    this.input.focus();
    this.input.setSelectionRange(this.input.value.length, this.input.value.length);
  }

  cancelEdit({ restoreDraft = true } = {}) {
    if (!this.editing) return;
    this.editing = null;
    this.editBar.hidden = true;
    this.form.classList.remove('composer--editing');
    this.label.textContent = 'Message';
    this.input.value = restoreDraft ? this.draft : '';
    this.draft = '';
    this._grow();
    this.input.focus();
  }

  insertText(text) {
    const el = this.input;
    const start = el.selectionStart ?? el.value.length;
    const end = el.selectionEnd ?? el.value.length;
    el.setRangeText(text, start, end, 'end');
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.focus();
  }

  setPlaceholder(text) {
    this.input.setAttribute('placeholder', text);
    this.label.textContent = text;
  }

  setError(text) {
    if (this.error.textContent !== text) this.error.textContent = text;
  }

  focus() {
    this.input.focus();
  }

  _grow() {
    const el = this.input;
    el.style.height = 'auto'; // CSSOM property writes are allowed by the CSP (no style attributes in markup)
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }
}
