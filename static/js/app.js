// Bootstrap: development flags, the transport (real server, or the in-browser mock with ?mock=1), the session check,
// then the sign-in screen or the chat.
import { createApi } from './api.js';
import { Chat } from './chat.js';
import { browserTimeZone } from './format/time.js';
import { AuthScreen } from './ui/auth.js';

const params = new URLSearchParams(location.search);
const dev = params.get('dev') === '1' || safeStorage('chatterbox.dev') === '1';
const useMock = params.get('mock') === '1';

function safeStorage(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

async function main() {
  let fetchImpl;
  let WebSocketImpl;
  if (useMock) {
    const mock = await import('./dev/mock.js');
    ({ fetchImpl, WebSocketImpl } = mock.installMock({ scenario: params.get('scenario') || 'demo' }));
  }
  const api = createApi({ fetchImpl });
  const timeZone = browserTimeZone();
  const locale = navigator.language || 'en-US';
  const wsUrl = (roomId) => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams({ tz: timeZone });
    if (roomId) q.set('room', roomId);
    return `${proto}//${location.host}/ws?${q}`;
  };

  let chat = null;
  const auth = new AuthScreen({
    login: (u, p) => api.login(u, p),
    register: (u, p, d) => api.register(u, p, d),
    onSignedIn: (user) => {
      auth.hide();
      startChat(user);
    },
  });

  function startChat(user) {
    chat = new Chat({
      api,
      timeZone,
      locale,
      dev,
      WebSocketImpl,
      wsUrl,
      onSignedOut: (message) => {
        chat = null;
        auth.setMode('login');
        auth.show();
        if (message) document.getElementById('auth-form-error').textContent = message;
      },
    });
    window.__chatterbox = dev ? chat : undefined; // a handle for debugging in development mode only
    chat.start(user);
  }

  document.documentElement.classList.toggle('dev', dev);
  try {
    const me = await api.me();
    startChat(me);
  } catch {
    auth.show();
  }
}

main();
