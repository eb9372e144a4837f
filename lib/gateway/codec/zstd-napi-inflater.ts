import { DecodeError } from '../errors/errors.js';
import type { Inflater, InflaterLimits } from './inflater.js';
import { checkMaxInflatedBytes, inflatedTooLarge, inflaterUnusable } from './limits.js';
import { optionalAddon } from './optional-addon.js';

/** The part of the optional `zstd-napi` addon's binding this module uses. */
interface ZstdNapiBinding {
  DCtx: new () => ZstdDecompressionContext;
}
interface ZstdDecompressionContext {
  /** ZSTD_decompressStream: `[hint, bytes written to output, bytes read from input]`. */
  decompressStream(output: Uint8Array, input: Uint8Array): [number, number, number];
}

/**
 * The `zstd-napi` addon (an optional dependency), or `null` when it is not installed or did
 * not build. Loaded once, on first use.
 */
export const loadZstdNapi = optionalAddon<ZstdNapiBinding>('zstd-napi/binding');

/** Output is drained through a buffer of this size, reused for every message. */
const OUTPUT_BYTES = 64 * 1024;

/**
 * zstd-stream through `zstd-napi` (libzstd): one native streaming context per connection,
 * each WebSocket message (whole blocks of a frame that never ends) decompressed synchronously
 * with ZSTD_decompressStream (GW-EN-5). About 2 us per typical message, against ~55 us for
 * fzstd. libzstd refuses windows above 2^27 bytes (its default `windowLogMax`), and the
 * output is counted as it is drained, so a bomb stops at `maxInflatedBytes`.
 *
 * @throws Error from the constructor when `zstd-napi` is not available ({@link loadZstdNapi}).
 */
export class ZstdNapiInflater implements Inflater {
  readonly implementation = 'zstd-napi';
  private readonly maxInflatedBytes: number;
  private context: ZstdDecompressionContext | null;
  private readonly output = Buffer.allocUnsafe(OUTPUT_BYTES);
  private failed = false;

  constructor(limits: InflaterLimits) {
    this.maxInflatedBytes = checkMaxInflatedBytes(limits.maxInflatedBytes);
    const addon = loadZstdNapi();
    if (addon === null) throw new Error('zstd-napi is not available');
    this.context = new addon.DCtx();
  }

  push(data: Buffer): Buffer | null {
    const context = this.context;
    if (context === null) throw inflaterUnusable(this.implementation, !this.failed);
    try {
      return this.drain(context, data);
    } catch (error) {
      this.failed = true;
      this.close();
      if (error instanceof DecodeError) throw error;
      throw new DecodeError(`zstd-stream data is corrupt (zstd: ${(error as Error).message})`);
    }
  }

  close(): void {
    this.context = null;
  }

  private drain(context: ZstdDecompressionContext, data: Buffer): Buffer | null {
    const output = this.output;
    let input: Buffer = data;
    let first: Buffer | null = null;
    let parts: Buffer[] | null = null;
    let total = 0;
    for (;;) {
      const [, produced, consumed] = context.decompressStream(output, input);
      if (produced > 0) {
        total += produced;
        if (total > this.maxInflatedBytes) throw inflatedTooLarge(this.maxInflatedBytes);
        // A copy: the output buffer is reused, the message is not.
        const part = Buffer.from(output.subarray(0, produced));
        if (first === null) first = part;
        else (parts ??= [first]).push(part);
      }
      input = input.subarray(consumed);
      // A full output buffer may hide more output; otherwise all input read means done.
      if (produced < output.length && input.length === 0) break;
      if (produced === 0 && consumed === 0) {
        throw new DecodeError('zstd-stream data is corrupt (zstd: no progress)');
      }
    }
    if (parts !== null) return Buffer.concat(parts, total);
    return first;
  }
}
