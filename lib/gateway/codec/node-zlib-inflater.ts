import { constants, inflateRawSync, type ZlibOptions } from 'node:zlib';
import { DecodeError } from '../errors/errors.js';
import type { InflaterLimits } from './inflater.js';
import { inflatedTooLarge } from './limits.js';
import { ZlibStreamInflater } from './zlib-stream-inflater.js';

/** Deflate back-references reach at most 32 KiB behind (window bits 15). */
const WINDOW_BYTES = 32 * 1024;

/**
 * zlib-stream with node:zlib alone, for when `zlib-sync` did not build. Synchronous, never
 * node:zlib's async stream (a threadpool round trip per message; docs/protocol.md section 14).
 *
 * Each message that ends in a sync flush is a run of complete deflate blocks starting on a
 * byte boundary, which may refer back into earlier messages' output. So each message is
 * inflated on its own as raw deflate with the last 32 KiB of the connection's output as the
 * preset dictionary; the first message's 2-byte zlib header is checked and skipped. This costs
 * a fresh zlib context per message (about 10 us), several times more than `zlib-sync`.
 */
export class NodeZlibInflater extends ZlibStreamInflater {
  readonly implementation = 'node:zlib';
  /** The connection's last output bytes, oldest first; `windowLength` of them are valid. */
  private readonly window = Buffer.allocUnsafe(WINDOW_BYTES);
  private windowLength = 0;
  private headerRead = false;
  /** Reused for every message: inflateRawSync reads it synchronously and keeps no reference. */
  private readonly options: ZlibOptions;

  constructor(limits: InflaterLimits) {
    super(limits);
    this.options = {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: this.maxInflatedBytes,
      dictionary: undefined,
    };
  }

  protected inflateMessage(message: Buffer): Buffer {
    let deflate = message;
    if (!this.headerRead) {
      checkZlibHeader(message);
      deflate = message.subarray(2);
      this.headerRead = true;
    }
    this.options.dictionary =
      this.windowLength === WINDOW_BYTES
        ? this.window
        : this.windowLength === 0
          ? undefined
          : this.window.subarray(0, this.windowLength);
    // Output is gathered in chunks of this size (node:zlib allocates the first one up front):
    // a typical message inflates to a few times its compressed size, far below the 16 KiB default.
    this.options.chunkSize = Math.min(64 * 1024, Math.max(1024, deflate.length * 8));
    let output: Buffer;
    try {
      output = inflateRawSync(deflate, this.options);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw inflatedTooLarge(this.maxInflatedBytes);
      }
      throw new DecodeError(`zlib-stream data is corrupt (zlib: ${(error as Error).message})`);
    }
    this.remember(output);
    return output;
  }

  protected release(): void {
    this.windowLength = 0;
  }

  private remember(output: Buffer): void {
    if (output.length >= WINDOW_BYTES) {
      output.copy(this.window, 0, output.length - WINDOW_BYTES);
      this.windowLength = WINDOW_BYTES;
      return;
    }
    const keep = Math.min(this.windowLength, WINDOW_BYTES - output.length);
    this.window.copyWithin(0, this.windowLength - keep, this.windowLength);
    output.copy(this.window, keep);
    this.windowLength = keep + output.length;
  }
}

/** RFC 1950 header: deflate method, window <= 32 KiB, valid check bits, no preset dictionary. */
function checkZlibHeader(message: Buffer): void {
  const cmf = message[0];
  const flg = message[1];
  if (
    message.length < 2 ||
    (cmf & 0x0f) !== 8 ||
    cmf >> 4 > 7 ||
    ((cmf << 8) | flg) % 31 !== 0 ||
    (flg & 0x20) !== 0
  ) {
    throw new DecodeError('zlib-stream data is corrupt (zlib: incorrect header check)');
  }
}
