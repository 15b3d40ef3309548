// The sign-in / register screen. Errors are shown next to the field they concern (aria-invalid + described-by),
// never as alerts.
import { byId } from './dom.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$/;

export class AuthScreen {
  constructor({ login, register, onSignedIn }) {
    this.o = { login, register, onSignedIn };
    this.mode = 'login';
    this.root = byId('auth-screen');
    this.form = byId('auth-form');
    this.fields = {
      username: [byId('auth-username'), byId('auth-username-error')],
      password: [byId('auth-password'), byId('auth-password-error')],
      display_name: [byId('auth-display'), byId('auth-display-error')],
    };
    this.formError = byId('auth-form-error');
    this.submitBtn = byId('auth-submit');
    byId('auth-switch').addEventListener('click', () => this.setMode(this.mode === 'login' ? 'register' : 'login'));
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
  }

  show() {
    this.root.hidden = false;
    document.title = this.mode === 'login' ? 'Sign in · Chatterbox' : 'Create an account · Chatterbox';
    this.fields.username[0].focus();
  }

  hide() {
    this.root.hidden = true;
  }

  setMode(mode) {
    this.mode = mode;
    const reg = mode === 'register';
    byId('auth-title').textContent = reg ? 'Create your account' : 'Sign in to Chatterbox';
    byId('auth-subtitle').textContent = reg ? 'It takes ten seconds. Then say hello in #general.' : 'Welcome back. Pick up the conversation where you left it.';
    byId('auth-display-field').hidden = !reg;
    this.submitBtn.textContent = reg ? 'Create account' : 'Sign in';
    byId('auth-switch-text').textContent = reg ? 'Already have an account?' : 'New here?';
    byId('auth-switch').textContent = reg ? 'Sign in' : 'Create an account';
    this.fields.password[0].setAttribute('autocomplete', reg ? 'new-password' : 'current-password');
    document.title = reg ? 'Create an account · Chatterbox' : 'Sign in · Chatterbox';
    this.clearErrors();
    this.fields.username[0].focus();
  }

  clearErrors() {
    for (const [input, err] of Object.values(this.fields)) {
      input.removeAttribute('aria-invalid');
      err.textContent = '';
    }
    this.formError.textContent = '';
  }

  fieldError(name, message) {
    const f = this.fields[name];
    if (!f) {
      this.formError.textContent = message;
      return;
    }
    f[0].setAttribute('aria-invalid', 'true');
    f[1].textContent = message;
  }

  async submit() {
    this.clearErrors();
    const username = this.fields.username[0].value.trim();
    const password = this.fields.password[0].value;
    const displayName = this.fields.display_name[0].value.trim();
    let first = null;
    if (!USERNAME.test(username)) {
      this.fieldError('username', username ? '3 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit.' : 'Enter your username.');
      first = first || this.fields.username[0];
    }
    if (!password) {
      this.fieldError('password', 'Enter your password.');
      first = first || this.fields.password[0];
    } else if (this.mode === 'register' && password.length < 8) {
      this.fieldError('password', 'Use at least 8 characters.');
      first = first || this.fields.password[0];
    }
    if (first) {
      first.focus();
      return;
    }
    this.submitBtn.disabled = true;
    this.submitBtn.setAttribute('aria-busy', 'true');
    try {
      const result = this.mode === 'register' ? await this.o.register(username, password, displayName || null) : await this.o.login(username, password);
      this.fields.password[0].value = '';
      this.o.onSignedIn(result && result.user ? result.user : result);
    } catch (err) {
      const field = err.field && this.fields[err.field] ? err.field : null;
      if (field) {
        this.fieldError(field, err.message);
        this.fields[field][0].focus();
      } else if (err.status === 401) {
        this.fieldError('password', 'Wrong username or password.');
        this.fields.password[0].focus();
      } else {
        this.formError.textContent = err.message || 'Something went wrong. Try again.';
      }
    } finally {
      this.submitBtn.disabled = false;
      this.submitBtn.removeAttribute('aria-busy');
    }
  }
}
