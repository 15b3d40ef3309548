// Parsing and (in development mode) validating server frames. Unknown frame types are ignored, as the protocol's
// versioning policy requires: new server frame types may appear within chatterbox.v1.
import { check, serverValidators } from './validators.js';

/** Known server frame types (the keys of the generated per-type validators). */
export const KNOWN_TYPES = new Set(Object.keys(serverValidators));

/**
 * Decode one text frame. Returns {frame} to process, or {ignored: reason}, or {invalid: errors} (development mode
 * only: the frame failed the schema and must not be applied).
 */
export function decodeServerFrame(text, { validate = false, checker = check } = {}) {
  let frame;
  try {
    frame = JSON.parse(text);
  } catch {
    return { invalid: [{ instancePath: '', message: 'not JSON' }] };
  }
  if (!frame || typeof frame !== 'object' || Array.isArray(frame) || typeof frame.type !== 'string') {
    return { invalid: [{ instancePath: '/type', message: 'no type' }] };
  }
  if (!KNOWN_TYPES.has(frame.type)) return { ignored: `unknown type ${frame.type}` };
  if (validate) {
    const result = checker('server', frame);
    if (!result.valid) {
      // An error frame with a code we do not know is still an error: never reject it for that alone.
      const onlyCode = frame.type === 'error' && result.errors.every((e) => e.instancePath === '/code');
      if (!onlyCode) return { invalid: result.errors, frame };
    }
  }
  return { frame };
}
