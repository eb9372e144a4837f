import { Decompress } from 'fzstd';
import { DecodeError } from '../errors/errors.js';
import type { Inflater, InflaterLimits } from './inflater.js';
import { checkMaxInflatedBytes, inflatedTooLarge, inflaterUnusable } from './limits.js';

/**
 * zstd-stream through `fzstd` (pure JS, synchronous): one streaming decompressor per
 * connection; every WebSocket message is one gateway message made of whole zstd blocks of a
 * frame that never ends, so each push drains all output the message produced (GW-EN-5).
 *
 * fzstd serves every runtime: node:zlib's zstd (Node >= 22.15) offers a persistent context
 * only as an async stream (a threadpool round trip per message), and its synchronous calls
 * close the context after one use, so it cannot decode a never-ending stream synchronously.
 */
export class FzstdInflater implements Inflater {
  readonly implementation = 'fzstd';
  private readonly maxInflatedBytes: number;
  private stream: Decompress | null;
  /** Blocks produced by the current push; reused (emptied) between messages. */
  private readonly blocks: Uint8Array[] = [];
  private blockBytes = 0;
  private started = false;
  private failed = false;

  constructor(limits: InflaterLimits) {
    this.maxInflatedBytes = checkMaxInflatedBytes(limits.maxInflatedBytes);
    this.stream = new Decompress(this.onBlock);
  }

  push(data: Buffer): Buffer | null {
    const stream = this.stream;
    if (stream === null) throw inflaterUnusable(this.implementation, !this.failed);
    try {
      if (!this.started) {
        checkZstdWindow(data);
        this.started = true;
      }
      stream.push(data);
    } catch (error) {
      this.fail();
      if (error instanceof DecodeError) throw error;
      throw new DecodeError(`zstd-stream data is corrupt (fzstd: ${(error as Error).message})`);
    }
    const count = this.blocks.length;
    if (count === 0) return null;
    const first = this.blocks[0];
    const output =
      count === 1
        ? Buffer.from(first.buffer, first.byteOffset, first.byteLength)
        : Buffer.concat(this.blocks, this.blockBytes);
    this.blocks.length = 0;
    this.blockBytes = 0;
    return output;
  }

  close(): void {
    this.stream = null;
    this.blocks.length = 0;
  }

  /** fzstd hands over a fresh array per block; throwing here aborts the push (bomb cap). */
  private readonly onBlock = (block: Uint8Array): void => {
    this.blockBytes += block.length;
    if (this.blockBytes > this.maxInflatedBytes) throw inflatedTooLarge(this.maxInflatedBytes);
    this.blocks.push(block);
  };

  private fail(): void {
    this.failed = true;
    this.close();
  }
}

/**
 * zstd's reference decoder refuses windows above 2^27 bytes by default (ZSTD_d_windowLogMax);
 * fzstd would allocate whatever the frame header asks for, up to 2 GiB.
 */
const MAX_ZSTD_WINDOW_BYTES = 2 ** 27;

/** Refuses a first message whose frame header asks for a window larger than {@link MAX_ZSTD_WINDOW_BYTES}. */
function checkZstdWindow(data: Buffer): void {
  if (data.length < 6 || data.readUInt32LE(0) !== 0xfd2fb528) return; // fzstd reports the bad magic
  const descriptor = data[4];
  const singleSegment = (descriptor & 0x20) !== 0;
  let window: number;
  if (singleSegment) {
    // The window is the frame content size: 1, 2 (+256), 4 or 8 bytes after the dictionary id.
    const sizeBytes = [1, 2, 4, 8][descriptor >> 6];
    const offset = 5 + [0, 1, 2, 4][descriptor & 3];
    if (data.length < offset + sizeBytes) return;
    window =
      sizeBytes === 8 ? Number(data.readBigUInt64LE(offset)) : data.readUIntLE(offset, sizeBytes);
  } else {
    const exponent = data[5] >> 3;
    const base = 2 ** (10 + exponent);
    window = base + (base / 8) * (data[5] & 7);
  }
  if (window > MAX_ZSTD_WINDOW_BYTES) {
    throw new DecodeError(
      `zstd-stream frame asks for a ${window}-byte window; at most ${MAX_ZSTD_WINDOW_BYTES} bytes are accepted`,
    );
  }
}
