// Every frame the client sends is built here and passes the generated validator before it may reach the socket.
// A frame that fails validation is never sent: `createGate(...).send` throws FrameRejected instead.
import { check } from './validators.js';

export class FrameRejected extends Error {
  /** @param {object} frame @param {Array<{instancePath: string, message: string}>} errors */
  constructor(frame, errors) {
    const detail = (errors || []).map((e) => `${e.instancePath || '(frame)'} ${e.message}`).join('; ');
    super(`Refused to send an invalid ${frame && frame.type} frame: ${detail}`);
    this.name = 'FrameRejected';
    this.frame = frame;
    this.errors = errors || [];
  }
}

/** Command ids: c1, c2, … (unique on a connection; we never reuse them at all). */
export function createIdSource(prefix = 'c') {
  let n = 0;
  return () => `${prefix}${++n}`;
}

/** A client_msg_id: generated once per message the person writes, reused by every retry. */
export function newClientMsgId() {
  if (globalThis.crypto && typeof globalThis.crypto.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const hex = [];
  for (let i = 0; i < 32; i++) hex.push(Math.floor(Math.random() * 16).toString(16));
  return hex.join('');
}

// ---- builders: plain objects, one per command ----------------------------------------------------------------

export const build = {
  messageSend: (id, roomId, body, clientMsgId) => ({ type: 'message.send', id, room_id: roomId, body, client_msg_id: clientMsgId }),
  messageEdit: (id, messageId, body) => ({ type: 'message.edit', id, message_id: messageId, body }),
  messageDelete: (id, messageId) => ({ type: 'message.delete', id, message_id: messageId }),
  typing: (id, roomId, state) => ({ type: 'typing', id, room_id: roomId, state }),
  receipt: (id, roomId, messageId, state) => ({ type: 'receipt', id, room_id: roomId, message_id: messageId, state }),
  history: (id, roomId, before, limit) => {
    const frame = { type: 'history', id, room_id: roomId };
    if (before != null) frame.before = before;
    if (limit != null) frame.limit = limit;
    return frame;
  },
  resume: (id, rooms) => ({ type: 'resume', id, rooms: { ...rooms } }),
  presenceSet: (id, status) => ({ type: 'presence.set', id, status }),
  ping: (id) => ({ type: 'ping', id }),
};

/** Validate a client frame with the generated validator; returns the frame or throws FrameRejected. */
export function assertValidClientFrame(frame, checker = check) {
  const result = checker('client', frame);
  if (!result.valid) throw new FrameRejected(frame, result.errors);
  return frame;
}

/**
 * The only path to the socket. `transmit(text)` is the raw send function (WebSocket.send); it is called only with
 * frames that passed validation. `onRejected(err)` is told about refused frames (the error is thrown as well).
 */
export function createGate(transmit, { checker = check, onRejected = null } = {}) {
  return {
    send(frame) {
      try {
        assertValidClientFrame(frame, checker);
      } catch (err) {
        if (onRejected) onRejected(err);
        throw err;
      }
      transmit(JSON.stringify(frame));
      return frame;
    },
  };
}
