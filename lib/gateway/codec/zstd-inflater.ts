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
  private readonly scanner = new ZstdFrameScanner();
  private failed = false;

  constructor(limits: InflaterLimits) {
    this.maxInflatedBytes = checkMaxInflatedBytes(limits.maxInflatedBytes);
    this.stream = new Decompress(this.onBlock);
  }

  push(data: Buffer): Buffer | null {
    const stream = this.stream;
    if (stream === null) throw inflaterUnusable(this.implementation, !this.failed);
    try {
      this.scanner.scan(data);
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
 * fzstd would allocate whatever a frame header asks for, up to 2 GiB.
 */
const MAX_ZSTD_WINDOW_BYTES = 2 ** 27;

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames have magics 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;

/** `foreign`: not a zstd stream; fzstd refuses it. */
type ScanState = 'magic' | 'skippable' | 'header' | 'block-header' | 'skip' | 'foreign';

/**
 * Walks the frame and block headers of a zstd stream as it arrives, without decompressing, so
 * that every frame's window is judged before fzstd sees the frame: fzstd allocates the window of
 * each new frame, and a stream may end a frame and start another at any point (zstd format,
 * RFC 8878 section 3.1). Costs a few header reads per message.
 *
 * Malformed structure (a bad magic) is left to fzstd to report.
 */
class ZstdFrameScanner {
  private state: ScanState = 'magic';
  /** Header bytes gathered across messages (at most 18). */
  private held: number[] = [];
  /** Bytes still to skip: a block's content, a checksum or a skippable frame. */
  private skipBytes = 0;
  private checksum = false;
  /** After the last block of a frame: the checksum, then the next frame. */
  private afterSkip: ScanState = 'block-header';

  /** @throws DecodeError when a frame asks for a window over {@link MAX_ZSTD_WINDOW_BYTES}. */
  scan(data: Buffer): void {
    let offset = 0;
    while (offset < data.length && this.state !== 'foreign') {
      if (this.state === 'skip') {
        const n = Math.min(this.skipBytes, data.length - offset);
        this.skipBytes -= n;
        offset += n;
        if (this.skipBytes === 0) this.state = this.afterSkip;
        continue;
      }
      this.held.push(data[offset++]);
      if (this.held.length < this.needed()) continue;
      this.consume();
      this.held = [];
    }
  }

  /** Bytes the header being read needs: a magic, a skippable frame's size, a frame or block header. */
  private needed(): number {
    if (this.state === 'block-header') return 3;
    if (this.state !== 'header') return 4;
    const descriptor = this.held[0];
    const singleSegment = (descriptor & 0x20) !== 0;
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
    return 1 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3] + sizeBytes;
  }

  private consume(): void {
    const held = this.held;
    switch (this.state) {
      case 'magic': {
        const magic = (held[0] | (held[1] << 8) | (held[2] << 16) | (held[3] << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) this.state = 'header';
        else if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) this.state = 'skippable';
        else this.state = 'foreign';
        return;
      }
      case 'skippable':
        this.skip((held[0] | (held[1] << 8) | (held[2] << 16)) + held[3] * 2 ** 24, 'magic');
        return;
      case 'header':
        checkWindow(held);
        this.checksum = (held[0] & 0x04) !== 0;
        this.state = 'block-header';
        return;
      case 'block-header': {
        const header = held[0] | (held[1] << 8) | (held[2] << 16);
        const last = (header & 1) !== 0;
        const type = (header >> 1) & 3;
        const size = type === 1 ? 1 : header >>> 3;
        // The last block's content is followed by the checksum (when flagged), then a new frame.
        if (last) this.skip(size + (this.checksum ? 4 : 0), 'magic');
        else this.skip(size, 'block-header');
        return;
      }
    }
  }

  private skip(bytes: number, then: ScanState): void {
    this.afterSkip = then;
    if (bytes === 0) {
      this.state = then;
    } else {
      this.skipBytes = bytes;
      this.state = 'skip';
    }
  }
}

/** Judges a frame header (descriptor first, after the magic). */
function checkWindow(header: readonly number[]): void {
  const descriptor = header[0];
  const singleSegment = (descriptor & 0x20) !== 0;
  let window: number;
  if (singleSegment) {
    // The window is the frame content size: 1, 2 (+256), 4 or 8 bytes after the dictionary id.
    const sizeBytes = [1, 2, 4, 8][descriptor >> 6];
    const offset = 1 + [0, 1, 2, 4][descriptor & 3];
    window = 0;
    for (let i = sizeBytes - 1; i >= 0; i--) window = window * 256 + header[offset + i];
    if (sizeBytes === 2) window += 256;
  } else {
    const exponent = header[1] >> 3;
    const base = 2 ** (10 + exponent);
    window = base + (base / 8) * (header[1] & 7);
  }
  if (window > MAX_ZSTD_WINDOW_BYTES) {
    throw new DecodeError(
      `zstd-stream frame asks for a ${window}-byte window; at most ${MAX_ZSTD_WINDOW_BYTES} bytes are accepted`,
    );
  }
}
