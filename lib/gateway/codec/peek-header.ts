/** The envelope fields of a gateway payload (GW-ENV-1), read without decoding `d`. */
export interface PayloadHeader {
  /** Opcode. */
  readonly op: number;
  /** Sequence number; `null` when the key is absent or null (GW-ENV-2). */
  readonly s: number | null;
  /** Dispatch name; `null` when the key is absent or null. */
  readonly t: string | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LETTER_N = 0x6e;
const LETTER_O = 0x6f;
const LETTER_P = 0x70;
const LETTER_S = 0x73;
const LETTER_T = 0x74;
/** Integers up to 15 digits are exact as doubles, so `Number` and JSON.parse agree on them. */
const MAX_INTEGER_DIGITS = 15;
const NOT_FOUND = -1;

/**
 * Reads `op`, `s` and `t` of a JSON gateway payload without parsing it, so the shard can skip
 * decoding dispatches no flag asks for while still tracking the sequence.
 *
 * The answer is certain or `null`, never a guess: the whole top level is walked (key order is
 * not guaranteed, and with duplicate keys the last one wins, as in JSON.parse), values of other
 * keys are skipped without being decoded (string contents, so a message whose content reads
 * `"op":1` cannot fool it), and `null` comes back whenever the reading would need real parsing:
 * a key or `t` value with escapes or non-ASCII bytes, an `op`/`s` that is not a plain
 * non-negative integer of at most 15 digits, a `t` that is neither string nor null, a missing
 * `op`, or input that is not a JSON object. For every valid JSON text the result, when not
 * null, equals what JSON.parse would give; for invalid JSON it is unspecified (it never throws),
 * and the full decode reports the error.
 *
 * Cost: one pass over the bytes with no allocation but the result and its `t` string. Discord's
 * own order (`t`, `s`, `op` first, `d` last) is the common case: `d` is skipped in a tight loop.
 *
 * @param message the inflated message: UTF-8 bytes (the hot path), or a string (encoded first).
 */
export function peekHeader(message: Buffer | string): PayloadHeader | null {
  return peekBytes(typeof message === 'string' ? Buffer.from(message, 'utf8') : message);
}

function peekBytes(src: Buffer): PayloadHeader | null {
  return peekDiscordOrder(src) ?? peekAnyOrder(src);
}

const LETTER_D = 0x64;
/** `{"t":"` */
const T_PREFIX = [OPEN_BRACE, QUOTE, LETTER_T, QUOTE, COLON, QUOTE];
/** `,"s":` */
const S_KEY = [COMMA, QUOTE, LETTER_S, QUOTE, COLON];
/** `,"op":` */
const OP_KEY = [COMMA, QUOTE, LETTER_O, LETTER_P, QUOTE, COLON];
/** `,"d":` */
const D_KEY = [COMMA, QUOTE, LETTER_D, QUOTE, COLON];

/** Whether `bytes` stand in `src` at `at` (past the end never matches). */
function matchesAt(src: Buffer, at: number, bytes: readonly number[]): boolean {
  for (let k = 0; k < bytes.length; k++) if (src[at + k] !== bytes[k]) return false;
  return true;
}
/** Longer names than any Discord dispatch name take the general walk. */
const MAX_FAST_NAME_BYTES = 64;

/**
 * The fast path for Discord's own compact order, `{"t":"NAME","s":N,"op":N,"d":{..}}` with an
 * object or array `d` and nothing after it: the prefix is matched byte by byte, `d` skipped in
 * one tight loop, and the closing brace must end the message, so no key can follow `d` (a
 * later duplicate would win in JSON.parse). Anything else, `t: null` included, returns `null`
 * and takes the general walk ({@link peekAnyOrder}), which gives the same answers, slower.
 */
function peekDiscordOrder(src: Buffer): PayloadHeader | null {
  const end = src.length;
  // The shortest such message: {"t":"A","s":0,"op":0,"d":{}}
  if (end < 30) return null;
  if (!matchesAt(src, 0, T_PREFIX)) return null;
  let i = 6;
  const nameLimit = Math.min(end, 6 + MAX_FAST_NAME_BYTES);
  for (; i < nameLimit; i++) {
    const c = src[i];
    if (c === QUOTE) break;
    // A-Z, 0-9, _: Discord's names, plain ASCII without escapes.
    if (!((c >= 0x41 && c <= 0x5a) || (c >= DIGIT_0 && c <= DIGIT_9) || c === 0x5f)) return null;
  }
  if (i === 6 || i === nameLimit) return null;
  const nameEnd = i;
  if (!matchesAt(src, i + 1, S_KEY)) return null;
  i += 1 + S_KEY.length;
  const sEnd = scanInteger(src, i, end);
  if (sEnd < 0) return null;
  const s = toInteger(src, i, sEnd);
  i = sEnd;
  if (!matchesAt(src, i, OP_KEY)) return null;
  i += OP_KEY.length;
  const opEnd = scanInteger(src, i, end);
  if (opEnd < 0) return null;
  const op = toInteger(src, i, opEnd);
  i = opEnd;
  if (!matchesAt(src, i, D_KEY)) return null;
  i += D_KEY.length;
  const first = src[i];
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) return null;
  i = skipValue(src, i, end);
  if (i !== end - 1 || src[i] !== CLOSE_BRACE) return null;
  return { op, s, t: src.toString('latin1', 6, nameEnd) };
}

/** The general walk: any key order, whitespace, duplicates, `null` values. */
function peekAnyOrder(src: Buffer): PayloadHeader | null {
  const end = src.length;
  let i = skipSpace(src, 0, end);
  if (code(src, i) !== OPEN_BRACE) return null;
  i = skipSpace(src, i + 1, end);
  if (code(src, i) === CLOSE_BRACE) return null;

  let op = NOT_FOUND;
  let s: number | null = null;
  let t: string | null = null;
  for (;;) {
    if (code(src, i) !== QUOTE) return null;
    const keyStart = i + 1;
    const keyEnd = findStringEnd(src, keyStart, end);
    if (keyEnd < 0) return null;
    const key = headerKey(src, keyStart, keyEnd);
    if (key === KEY_ESCAPED) return null;
    i = skipSpace(src, keyEnd + 1, end);
    if (code(src, i) !== COLON) return null;
    i = skipSpace(src, i + 1, end);

    if (key === KEY_OTHER) {
      i = skipValue(src, i, end);
      if (i < 0) return null;
    } else if (key === KEY_T) {
      const c = code(src, i);
      if (c === QUOTE) {
        const valueEnd = findStringEnd(src, i + 1, end);
        if (valueEnd < 0) return null;
        t = asciiSlice(src, i + 1, valueEnd);
        if (t === null) return null;
        i = valueEnd + 1;
      } else if (c === LETTER_N) {
        i = skipValue(src, i, end);
        if (i < 0) return null;
        t = null;
      } else {
        return null;
      }
    } else {
      const c = code(src, i);
      let value: number | null;
      if (c === LETTER_N && key === KEY_S) {
        i = skipValue(src, i, end);
        if (i < 0) return null;
        value = null;
      } else {
        const digitsEnd = scanInteger(src, i, end);
        if (digitsEnd < 0) return null;
        value = toInteger(src, i, digitsEnd);
        i = digitsEnd;
      }
      if (key === KEY_OP) op = value as number;
      else s = value;
    }

    i = skipSpace(src, i, end);
    const c = code(src, i);
    if (c === COMMA) {
      i = skipSpace(src, i + 1, end);
      continue;
    }
    if (c !== CLOSE_BRACE) return null;
    if (skipSpace(src, i + 1, end) !== end) return null;
    return op === NOT_FOUND ? null : { op, s, t };
  }
}

const KEY_OTHER = 0;
const KEY_T = 1;
const KEY_S = 2;
const KEY_OP = 3;
const KEY_ESCAPED = 4;

/** Which header key the raw key bytes `[start, end)` are; escaped keys could spell any of them. */
function headerKey(src: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length === 1) {
    const c = code(src, start);
    if (c === LETTER_T) return KEY_T;
    if (c === LETTER_S) return KEY_S;
    if (c === BACKSLASH) return KEY_ESCAPED;
    return KEY_OTHER;
  }
  if (length === 2 && code(src, start) === LETTER_O && code(src, start + 1) === LETTER_P)
    return KEY_OP;
  for (let i = start; i < end; i++) if (code(src, i) === BACKSLASH) return KEY_ESCAPED;
  return KEY_OTHER;
}

/** Byte at `i`; past the end it reads as -1, which matches no token. */
function code(src: Buffer, i: number): number {
  return i < src.length ? src[i] : -1;
}

function skipSpace(src: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = code(src, i);
    // JSON whitespace: space, \t, \n, \r
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
  return i;
}

/** Index of the closing quote of the string whose content starts at `i`, or -1. */
function findStringEnd(src: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = src[i];
    if (c === QUOTE) return i;
    i += c === BACKSLASH ? 2 : 1;
  }
  return -1;
}

/** Bytes that matter while skipping a container: quotes and brackets. Everything else is 0. */
const STRUCTURAL = new Uint8Array(256);
STRUCTURAL[QUOTE] = 1;
STRUCTURAL[OPEN_BRACE] = 2;
STRUCTURAL[OPEN_BRACKET] = 2;
STRUCTURAL[CLOSE_BRACE] = 3;
STRUCTURAL[CLOSE_BRACKET] = 3;

/**
 * Index just past the JSON value starting at `i`, or -1. Assumes valid JSON: brackets are
 * only counted, not matched by kind, and literals and numbers run to the next delimiter.
 */
function skipValue(src: Buffer, i: number, end: number): number {
  const first = code(src, i);
  if (first === QUOTE) {
    const close = findStringEnd(src, i + 1, end);
    return close < 0 ? -1 : close + 1;
  }
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 1;
    i++;
    while (i < end) {
      const kind = STRUCTURAL[src[i]];
      if (kind === 1) {
        // A string, most of `d`: run to its closing quote, stepping over escapes.
        i++;
        for (;;) {
          if (i >= end) return -1;
          const c = src[i];
          if (c === QUOTE) break;
          i += c === BACKSLASH ? 2 : 1;
        }
      } else if (kind === 2) {
        depth++;
      } else if (kind === 3) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  const start = i;
  while (i < end) {
    const c = src[i];
    if (
      c === COMMA ||
      c === CLOSE_BRACE ||
      c === CLOSE_BRACKET ||
      c === 0x20 ||
      c === 0x09 ||
      c === 0x0a ||
      c === 0x0d
    ) {
      break;
    }
    i++;
  }
  return i === start ? -1 : i;
}

/** End of a plain non-negative JSON integer (`0` or no leading zero, <= 15 digits) at `i`, or -1. */
function scanInteger(src: Buffer, i: number, end: number): number {
  const start = i;
  while (i < end) {
    const c = code(src, i);
    if (c < DIGIT_0 || c > DIGIT_9) break;
    i++;
  }
  const digits = i - start;
  if (digits === 0 || digits > MAX_INTEGER_DIGITS) return -1;
  if (digits > 1 && code(src, start) === DIGIT_0) return -1;
  // A fraction, exponent or sign would make this a different number.
  const next = code(src, i);
  if (next === 0x2e || next === 0x65 || next === 0x45 || next === MINUS) return -1;
  return i;
}

function toInteger(src: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (code(src, i) - DIGIT_0);
  return value;
}

/** The string `[start, end)` when it is plain printable ASCII without escapes, else null. */
function asciiSlice(src: Buffer, start: number, end: number): string | null {
  for (let i = start; i < end; i++) {
    const c = code(src, i);
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return null;
  }
  return src.toString('latin1', start, end);
}
