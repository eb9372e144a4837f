const OPEN_BRACE = 0x7b;
const QUOTE = 0x22;
const LETTER_T = 0x74;
const COLON = 0x3a;
/** Longer names than any Discord dispatch name are not hinted. */
const MAX_NAME_BYTES = 64;

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
 * Cost: about a dozen byte reads and one short latin1 string.
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
  const limit = Math.min(message.length, 6 + MAX_NAME_BYTES);
  for (let i = 6; i < limit; i++) {
    const c = message[i];
    if (c === QUOTE) return i === 6 ? null : message.toString('latin1', 6, i);
    // A-Z, 0-9, _
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return null;
  }
  return null;
}
