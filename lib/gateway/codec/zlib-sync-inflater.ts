import { DecodeError } from '../errors/errors.js';
import type { InflaterLimits } from './inflater.js';
import { MAX_DEFLATE_RATIO, inflatedTooLarge } from './limits.js';
import { ZlibStreamInflater } from './zlib-stream-inflater.js';
import { optionalAddon } from './optional-addon.js';

/** The part of the optional `zlib-sync` addon this module uses. */
interface ZlibSyncModule {
  Inflate: new (options?: { chunkSize?: number }) => ZlibSyncContext;
  Z_SYNC_FLUSH: number;
}
interface ZlibSyncContext {
  push(data: Buffer, flush: number): void;
  readonly err: number;
  readonly msg: string | null;
  readonly result: Buffer | string | null;
}

/**
 * The `zlib-sync` addon (an optional dependency), or `null` when it is not installed or did not
 * build. Loaded once, on first use.
 */
export const loadZlibSync = optionalAddon<ZlibSyncModule>('zlib-sync');

/** Output grows in steps of this many bytes inside the addon. */
const CHUNK_SIZE = 64 * 1024;

/**
 * zlib-stream through `zlib-sync`: one native inflate context per connection, each message
 * inflated synchronously with Z_SYNC_FLUSH (GW-EN-4). About 1 us per typical message.
 *
 * The addon grows its output without a bound, so a message whose compressed size could
 * inflate past `maxInflatedBytes` (size x 1032 > cap) is fed in slices small enough that
 * no slice can overshoot the cap by more than its own worth.
 *
 * @throws Error from the constructor when `zlib-sync` is not available ({@link loadZlibSync}).
 */
export class ZlibSyncInflater extends ZlibStreamInflater {
  readonly implementation = 'zlib-sync';
  private context: ZlibSyncContext | null;
  private readonly flush: number;
  private readonly sliceBytes: number;

  constructor(limits: InflaterLimits) {
    super(limits);
    const addon = loadZlibSync();
    if (addon === null) throw new Error('zlib-sync is not available');
    this.context = new addon.Inflate({ chunkSize: CHUNK_SIZE });
    this.flush = addon.Z_SYNC_FLUSH;
    this.sliceBytes = Math.max(4096, Math.floor(this.maxInflatedBytes / MAX_DEFLATE_RATIO));
  }

  protected inflateMessage(message: Buffer): Buffer {
    if (message.length <= this.sliceBytes) {
      const output = this.inflateSlice(message);
      if (output.length > this.maxInflatedBytes) throw inflatedTooLarge(this.maxInflatedBytes);
      return output;
    }
    const parts: Buffer[] = [];
    let total = 0;
    for (let offset = 0; offset < message.length; offset += this.sliceBytes) {
      const output = this.inflateSlice(message.subarray(offset, offset + this.sliceBytes));
      total += output.length;
      if (total > this.maxInflatedBytes) throw inflatedTooLarge(this.maxInflatedBytes);
      parts.push(output);
    }
    return Buffer.concat(parts, total);
  }

  protected release(): void {
    this.context = null;
  }

  private inflateSlice(input: Buffer): Buffer {
    const context = this.context!;
    context.push(input, this.flush);
    // zlib returns Z_OK, or Z_STREAM_END if the server ever ended the stream; anything else is an error.
    if (context.err !== 0 && context.err !== 1) {
      throw new DecodeError(
        `zlib-stream data is corrupt (zlib: ${context.msg ?? `error ${context.err}`})`,
      );
    }
    return context.result as Buffer;
  }
}
