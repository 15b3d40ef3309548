// The WebSocket connection: connect with the chatterbox.v1 subprotocol, wait for hello, correlate commands with their
// answers (by `re`), heartbeat, and reconnect with exponential backoff + full jitter according to the close code.
// Outgoing frames go through the frame gate only (protocol/frames.js); incoming ones through protocol/incoming.js.
import { build, createGate, createIdSource } from './protocol/frames.js';
import { decodeServerFrame } from './protocol/incoming.js';

export const SUBPROTOCOL = 'chatterbox.v1';

/** Full-jitter backoff: a random delay in [0, min(cap, base·2^attempt)], at least `floor`. Pure. */
export function backoffDelay(attempt, { base = 1000, cap = 30000, floor = 250, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt));
  return Math.max(floor, Math.round(random() * ceiling));
}

/** What to do after a close code (protocol section 7). */
export function closePolicy(code) {
  if (code === 4001) return 'reauth';
  if (code === 1008 || code === 1009 || code === 1002 || code === 1007) return 'stop';
  if (code === 1001 || code === 4008) return 'prompt';
  return 'backoff';
}

export class CommandError extends Error {
  constructor(frame) {
    super(frame.message || frame.code);
    this.name = 'CommandError';
    this.code = frame.code;
    this.retryAfterMs = frame.retry_after_ms;
    this.frame = frame;
  }
}

export class ConnectionLost extends Error {
  constructor(message = 'The connection closed before the answer') {
    super(message);
    this.name = 'ConnectionLost';
  }
}

export class Connection {
  /**
   * @param {object} o
   * @param {() => string} o.url                 the /ws URL (with tz and room) for the next attempt
   * @param {typeof WebSocket} [o.WebSocketImpl]
   * @param {(hello: object, info: {reconnect: boolean}) => void} o.onHello
   * @param {(frame: object) => void} o.onFrame  every other server frame (acks/errors of commands included)
   * @param {(status: object) => void} o.onStatus {state: 'connecting'|'open'|'waiting'|'stopped', retryInMs, reason}
   * @param {() => void} o.onAuthLost
   * @param {() => Promise<boolean>} [o.checkSession] true while the session is still valid (asked after failures)
   * @param {(err: Error) => void} [o.onRejectedFrame]
   * @param {boolean} [o.validateIncoming]
   */
  constructor(o) {
    this.o = o;
    this.WebSocketImpl = o.WebSocketImpl || globalThis.WebSocket;
    this.nextId = createIdSource('c');
    this.pending = new Map();
    this.ws = null;
    this.gate = null;
    this.helloSeen = false;
    this.everConnected = false;
    this.attempt = 0;
    this.timer = null;
    this.hbTimer = null;
    this.lastReceived = 0;
    this.heartbeatMs = 20000;
    this.stopped = true;
    this.state = 'stopped';
  }

  get isOpen() {
    return Boolean(this.ws && this.helloSeen && this.ws.readyState === 1);
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this._connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.hbTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this._failPending(new ConnectionLost('Disconnected'));
    this._status('stopped');
  }

  /** Reconnect right away (the banner's button, or the browser coming back online). */
  reconnectNow() {
    if (this.stopped || this.isOpen) return;
    clearTimeout(this.timer);
    if (this.ws) return; // an attempt is in progress
    this._connect();
  }

  _status(state, extra = {}) {
    this.state = state;
    this.o.onStatus && this.o.onStatus({ state, attempt: this.attempt, ...extra });
  }

  _connect() {
    clearTimeout(this.timer);
    this.helloSeen = false;
    this._status('connecting');
    let ws;
    try {
      ws = new this.WebSocketImpl(this.o.url(), [SUBPROTOCOL]);
    } catch (err) {
      this._scheduleReconnect(1006, String(err));
      return;
    }
    this.ws = ws;
    this.gate = createGate((text) => ws.send(text), { onRejected: this.o.onRejectedFrame });
    ws.onopen = () => {
      this.lastReceived = Date.now();
    };
    ws.onmessage = (ev) => this._onMessage(ev.data);
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.hbTimer);
      this._failPending(new ConnectionLost());
      this._scheduleReconnect(ev.code, ev.reason);
    };
  }

  async _scheduleReconnect(code, reason) {
    if (this.stopped) return;
    const hadHello = this.helloSeen;
    this.helloSeen = false;
    const policy = closePolicy(code);
    if (policy === 'reauth') {
      this.stopped = true;
      this._status('stopped', { reason: 'session' });
      this.o.onAuthLost();
      return;
    }
    if (policy === 'stop') {
      this.stopped = true;
      this._status('stopped', { reason: `closed (${code}${reason ? `: ${reason}` : ''})`, fatal: true });
      return;
    }
    // A browser cannot see why an upgrade was refused: ask REST whether the session is still valid.
    if (!hadHello && this.o.checkSession && this.attempt >= 1) {
      const ok = await this.o.checkSession().catch(() => true);
      if (!ok) {
        this.stopped = true;
        this._status('stopped', { reason: 'session' });
        this.o.onAuthLost();
        return;
      }
    }
    if (policy === 'prompt') this.attempt = 0;
    const delay = policy === 'prompt' ? 250 + Math.round(Math.random() * 1250) : backoffDelay(this.attempt);
    this.attempt++;
    this._status('waiting', { retryInMs: delay, retryAt: Date.now() + delay, code });
    this.timer = setTimeout(() => this._connect(), delay);
  }

  _onMessage(data) {
    this.lastReceived = Date.now();
    if (typeof data !== 'string') return;
    const decoded = decodeServerFrame(data, { validate: Boolean(this.o.validateIncoming) });
    if (decoded.ignored) return;
    if (decoded.invalid) {
      console.error('[chatterbox] invalid server frame (dropped)', decoded.invalid, decoded.frame || data);
      this.o.onInvalidFrame && this.o.onInvalidFrame(decoded.invalid, decoded.frame);
      return;
    }
    const frame = decoded.frame;
    if (frame.type === 'hello') {
      this.helloSeen = true;
      this.attempt = 0;
      this.heartbeatMs = frame.heartbeat_interval_ms || 20000;
      this._startHeartbeat();
      const reconnect = this.everConnected;
      this.everConnected = true;
      this._status('open');
      this.o.onHello(frame, { reconnect });
      return;
    }
    if ((frame.type === 'ack' || frame.type === 'error' || frame.type === 'pong' || frame.type === 'history') && frame.re) {
      const p = this.pending.get(frame.re);
      if (p) {
        if (frame.type === 'history') {
          p.page = frame;
          this.o.onFrame(frame);
          return;
        }
        this.pending.delete(frame.re);
        clearTimeout(p.timer);
        if (frame.type === 'error') p.reject(new CommandError(frame));
        else if (frame.type === 'pong') p.resolve(frame);
        else p.resolve(p.page ? { result: frame.result, page: p.page } : frame.result);
        if (frame.type === 'error') this.o.onFrame(frame);
        return;
      }
    }
    this.o.onFrame(frame);
  }

  _startHeartbeat() {
    clearInterval(this.hbTimer);
    const every = Math.max(1000, Math.floor(this.heartbeatMs / 2));
    this.hbTimer = setInterval(() => {
      if (!this.isOpen) return;
      const silent = Date.now() - this.lastReceived;
      if (silent >= 2 * this.heartbeatMs) {
        // Dead connection (sleeping laptop, broken NAT): drop it and reconnect.
        const ws = this.ws;
        try {
          ws.close(4000, 'heartbeat timeout');
        } catch {
          /* ignore */
        }
        if (ws && ws.onclose) ws.onclose({ code: 1006, reason: 'heartbeat timeout' });
      } else if (silent >= this.heartbeatMs) {
        this.command('ping').catch(() => {});
      }
    }, every);
  }

  _failPending(err) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /**
   * Send a command built by protocol/frames.js `build[kind](id, ...args)`. Resolves with the ack's result (pong: the
   * frame; history: {result, page}); rejects with CommandError, ConnectionLost or FrameRejected (never sent).
   */
  command(kind, ...args) {
    if (!this.isOpen) return Promise.reject(new ConnectionLost('Not connected'));
    const frame = build[kind](this.nextId(), ...args);
    return new Promise((resolve, reject) => {
      try {
        this.gate.send(frame);
      } catch (err) {
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        if (this.pending.delete(frame.id)) reject(new ConnectionLost('No answer from the server'));
      }, 20000);
      this.pending.set(frame.id, { resolve, reject, timer, frame });
    });
  }
}
