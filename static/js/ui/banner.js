// The connection banner (reconnecting, with a countdown and a "reconnect now" button) and the status pill.
import { byId } from './dom.js';

export class Banner {
  constructor({ onRetry }) {
    this.el = byId('banner');
    this.text = byId('banner-text');
    this.retry = byId('banner-retry');
    this.count = byId('banner-count');
    this.pill = byId('conn-pill');
    this.retry.addEventListener('click', onRetry);
    this.timer = null;
    this.wasOpen = false;
  }

  update(status) {
    clearInterval(this.timer);
    this.pill.dataset.state = status.state;
    this.pill.textContent = { open: 'Connected', connecting: 'Connecting…', waiting: 'Offline', stopped: 'Offline' }[status.state] || '';
    if (status.state === 'open') {
      this.wasOpen = true;
      this._hide();
      return;
    }
    if (status.state === 'connecting') {
      if (this.wasOpen) this._show('Reconnecting…', false);
      return;
    }
    if (status.state === 'waiting') {
      // The live text stays stable (announced once); the countdown beside it is not announced. Before the first
      // successful connection there was nothing to lose: the server is unreachable or refuses this page (a browser
      // cannot see why an upgrade failed, e.g. a 403 for an origin the server does not allow).
      this._show(this.wasOpen ? 'Connection lost. Reconnecting…' : 'Cannot connect to the chat server. Retrying…', true);
      const tick = () => {
        const s = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
        this.count.textContent = s > 0 ? `Next try in ${s} s` : '';
      };
      tick();
      this.timer = setInterval(tick, 1000);
      return;
    }
    if (status.state === 'stopped' && status.fatal) this._show(`Disconnected (${status.reason}).`, true);
    else this._hide();
  }

  _show(text, withButton) {
    if (!withButton) this.count.textContent = '';
    this.el.hidden = false;
    this.el.classList.add('banner--visible');
    if (this.text.textContent !== text) this.text.textContent = text;
    this.retry.hidden = !withButton;
  }

  _hide() {
    this.el.hidden = true;
    this.el.classList.remove('banner--visible');
  }
}
