import { GatewayDispatchEvents } from 'discord-api-types/v10';

const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const LETTER_T = 0x74;
const COLON = 0x3a;
/** Longer names than any Discord dispatch name are not hinted. */
const MAX_NAME_BYTES = 64;
const NAME_START = 6;

/** The hash {@link dispatchTypeHint} computes over a name's bytes as it scans them. */
function nameHash(name: string): number {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) | 0;
  return hash;
}

/**
 * Every dispatch name Discord documents, by {@link nameHash}: a hinted name found here is
 * returned as this constant string, without a string built from the bytes. A name whose hash
 * another one took first is simply not found (and built from the bytes).
 */
const KNOWN_NAMES = new Map<number, string>();
for (const name of Object.values(GatewayDispatchEvents) as string[]) {
  const hash = nameHash(name);
  if (!KNOWN_NAMES.has(hash)) KNOWN_NAMES.set(hash, name);
}

/**
 * The dispatch name a JSON gateway message most likely carries, read from its first bytes
 * when they are Discord's own order `{"t":"NAME"` (no whitespace, `NAME` of `A-Z`, `0-9`, `_`);
 * otherwise `null`.
 *
 * A hint, not a fact: a later duplicate `t` key would win in JSON.parse. So it may only
 * decide to decode a message fully (the full decode then reads the real `t`), never to skip
 * one; skipping needs {@link peekHeader}'s certain answer. It spares a message the shard will
 * decode anyway the walk over its `d` (the filter's fast path).
 *
 * Cost: one read per byte up to the name's closing quote. A documented name comes back as a
 * shared constant (no allocation); any other name as a new latin1 string.
 */
export function dispatchTypeHint(message: Buffer): string | null {
  if (
    message.length < 8 ||
    message[0] !== OPEN_BRACE ||
    message[1] !== QUOTE ||
    message[2] !== LETTER_T ||
    message[3] !== QUOTE ||
    message[4] !== COLON ||
    message[5] !== QUOTE
  ) {
    return null;
  }
  const limit = Math.min(message.length, NAME_START + MAX_NAME_BYTES);
  let hash = 0;
  for (let i = NAME_START; i < limit; i++) {
    const c = message[i];
    if (c === QUOTE) return i === NAME_START ? null : nameAt(message, i, hash);
    // A-Z, 0-9, _
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return null;
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  return null;
}

/** The name in `message` from {@link NAME_START} to `end`, whose bytes hash to `hash`. */
function nameAt(message: Buffer, end: number, hash: number): string {
  const known = KNOWN_NAMES.get(hash);
  if (known !== undefined && known.length === end - NAME_START) {
    let i = 0;
    while (i < known.length && known.charCodeAt(i) === message[NAME_START + i]) i++;
    if (i === known.length) return known;
  }
  return message.toString('latin1', NAME_START, end);
}
