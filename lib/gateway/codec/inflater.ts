/**
 * Transport compression (GW-URL-2): the `compress` query parameter. `'none'`
 * needs no inflater.
 */
export type TransportCompression = 'zlib-stream' | 'zstd-stream';

/** Caps applied while inflating. */
export interface InflaterLimits {
  /**
   * Largest inflated gateway message, in bytes. A message that would inflate to more throws
   * a DecodeError (decompression bomb) instead of being held in memory.
   */
  readonly maxInflatedBytes: number;
}

/**
 * One transport-compression context. Create one per WebSocket connection and drop it with
 * the connection: a context never outlives its socket (GW-EN-4, GW-EN-5, GW-GT-9).
 */
export interface Inflater {
  /**
   * Feeds one binary WebSocket message.
   *
   * @returns the complete inflated gateway message (UTF-8 JSON or ETF bytes), or `null` while
   *   the message is incomplete (zlib-stream: no `00 00 ff ff` suffix yet).
   * @throws DecodeError on corrupt data, or when the message would inflate to more than
   *   `maxInflatedBytes`. After an error the inflater is unusable: every later `push` throws,
   *   and the connection must be replaced (with a new inflater).
   */
  push(data: Buffer): Buffer | null;
  /** Releases the context. Later pushes throw. Idempotent. */
  close(): void;
  /** Which implementation decodes, e.g. `zlib-sync` or `node:zlib`; for a debug log line. */
  readonly implementation: string;
}
