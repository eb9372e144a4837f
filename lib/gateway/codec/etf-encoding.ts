import { DecodeError } from '../errors/errors.js';
import type { PayloadEncoding } from './payload-encoding.js';
import { optionalAddon } from './optional-addon.js';

/** The part of the optional `erlpack` addon this module uses. */
interface Erlpack {
  pack(value: unknown): Buffer;
  unpack(data: Buffer): unknown;
}

/**
 * The `erlpack` addon (an optional dependency), or `null` when it is not installed or did not
 * build. Loaded once, on first use.
 */
export const loadErlpack = optionalAddon<Erlpack>('erlpack');

/**
 * The ETF encoding (PROTOCOL.md GW-EN-2, GW-GT-16) through `erlpack`, or `null` when erlpack
 * is not available (then `encoding: 'etf'` is a ConfigError and JSON still works).
 *
 * Snowflakes: Discord sends them as 64-bit integers in most fields and as binaries in some
 * (map keys of `resolved`, discord-api-docs#3657). They are normalized to strings here, in
 * the decode, so that every layer above sees the shapes of the JSON encoding: erlpack itself
 * turns an integer wider than 32 bits into its decimal string (no second walk over the
 * payload), and a binary arrives as a string anyway. Integers that fit in 32 bits (op, s,
 * counts, flags, types) stay numbers. One difference from JSON remains: the few non-snowflake
 * integers wider than 32 bits (unix-ms timestamps of activities) also arrive as decimal
 * strings; read them with `Number()`.
 *
 * Encoding: maps get binary (string) keys, as Discord requires (atom keys are closed with
 * 4002); `null` becomes the atom `nil`.
 */
export function createEtfEncoding(): PayloadEncoding | null {
  const addon = loadErlpack();
  if (addon === null) return null;
  return Object.freeze({
    name: 'etf',
    decode: (message: Buffer | string): unknown => {
      if (typeof message === 'string') {
        throw new DecodeError('An ETF gateway message arrived as text; ETF is binary');
      }
      try {
        return addon.unpack(message);
      } catch (error) {
        // erlpack's messages never quote the input.
        throw new DecodeError(
          `Gateway message is not valid ETF (${message.length} bytes): ${(error as Error).message}`,
        );
      }
    },
    encode: (payload: unknown): Buffer => addon.pack(payload),
  });
}
