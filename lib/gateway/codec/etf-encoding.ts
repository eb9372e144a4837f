import { DecodeError } from '../errors/errors.js';
import { decodeEtf, encodeEtf, type EtfLimits } from './etf.js';
import type { PayloadEncoding } from './payload-encoding.js';

/**
 * The ETF encoding (docs/protocol.md GW-EN-2, GW-GT-16), decoded and encoded in TypeScript by
 * {@link decodeEtf} and {@link encodeEtf}: no native addon. (The erlpack addon it replaced is
 * unmaintained, and crashed the process from native code on deeply nested or compressed
 * input, where no error could be caught.)
 *
 * Snowflakes: Discord sends them as 64-bit integers in most fields and as binaries in some
 * (map keys of `resolved`, discord-api-docs#3657). They are normalized to strings in the
 * decode, so every layer above sees the shapes of the JSON encoding: an integer wider than 32
 * bits becomes its decimal string, and a binary arrives as a string anyway. Integers that fit
 * in 32 bits (op, s, counts, flags, types) stay numbers. One difference from JSON remains: the
 * few non-snowflake integers wider than 32 bits (unix-ms timestamps of activities) also arrive
 * as decimal strings; read them with `Number()`.
 *
 * Encoding: maps get binary (string) keys, as Discord requires (atom keys are closed with
 * 4002); `null` becomes the atom `nil`.
 *
 * @param limits nesting depth and the inflate budget of compressed terms (pass the shard's
 *   `limits.maxInflatedBytes`).
 */
export function createEtfEncoding(limits: EtfLimits = {}): PayloadEncoding {
  return Object.freeze({
    name: 'etf',
    decode: (message: Buffer | string): unknown => {
      if (typeof message === 'string') {
        throw new DecodeError('An ETF gateway message arrived as text; ETF is binary');
      }
      return decodeEtf(message, limits);
    },
    encode: (payload: unknown): Buffer => encodeEtf(payload),
  });
}
