import { isUtf8 } from 'node:buffer';
import { DecodeError } from '../errors/errors.js';
import type { PayloadEncoding } from './payload-encoding.js';

const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Decodes one JSON gateway message strictly (GW-EN-1). Errors never quote the message: it
 * may hold user content, or the token in an echoed payload.
 *
 * @param message UTF-8 bytes, or an already decoded string.
 * @throws DecodeError when the bytes are not valid UTF-8 or the text is not valid JSON.
 */
export function decodeJson(message: Buffer | string): unknown {
  let text: string;
  if (typeof message === 'string') {
    text = message;
  } else {
    text = message.toString();
    // The decoder replaces every invalid sequence with U+FFFD, so a text without one proves
    // the bytes valid; only a text holding one (a real U+FFFD, or a replaced sequence) needs
    // the byte check. A one-byte string, the usual case, answers indexOf at once.
    if (text.indexOf(REPLACEMENT_CHARACTER) !== -1 && !isUtf8(message)) {
      throw new DecodeError(`Gateway message is not valid UTF-8 (${message.length} bytes)`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the input; never pass it on.
    throw new DecodeError(`Gateway message is not valid JSON (${text.length} characters)`);
  }
}

/** The JSON encoding: {@link decodeJson} and `JSON.stringify`. */
export const jsonEncoding: PayloadEncoding = Object.freeze({
  name: 'json',
  decode: decodeJson,
  encode: (payload: unknown): string => JSON.stringify(payload),
});
