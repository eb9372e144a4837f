import { DecodeError } from '../errors/errors.js';
import type { Inflater, InflaterLimits } from './inflater.js';
import { checkMaxInflatedBytes, inflatedTooLarge, inflaterUnusable } from './limits.js';

/**
 * Frame buffering shared by the zlib-stream inflaters (GW-EN-4): WebSocket messages are
 * appended until one ends with the Z_SYNC_FLUSH marker `00 00 ff ff`; then the whole buffer
 * is one deflate segment of the connection's single stream, inflated synchronously by
 * {@link inflateMessage}. A frame without the marker is never inflated on its own (GW-GT-9).
 */
export abstract class ZlibStreamInflater implements Inflater {
  abstract readonly implementation: string;
  protected readonly maxInflatedBytes: number;
  /** Deflate never grows data by more than ~0.03% plus a few bytes, so this bounds the input of an allowed message. */
  private readonly maxPendingBytes: number;
  /** Frames of the message in progress; reused (emptied, not replaced) between messages. */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private state: 'open' | 'failed' | 'closed' = 'open';

  constructor(limits: InflaterLimits) {
    this.maxInflatedBytes = checkMaxInflatedBytes(limits.maxInflatedBytes);
    this.maxPendingBytes = this.maxInflatedBytes + Math.ceil(this.maxInflatedBytes / 2048) + 64;
  }

  push(data: Buffer): Buffer | null {
    if (this.state !== 'open') throw inflaterUnusable(this.implementation, this.state === 'closed');
    try {
      return this.accept(data);
    } catch (error) {
      this.fail();
      if (error instanceof DecodeError) throw error;
      throw new DecodeError(`${this.implementation} could not inflate a gateway message`, {
        cause: error,
      });
    }
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pending.length = 0;
    this.release();
  }

  /** Inflates one complete deflate segment (all frames up to and including the flush marker). */
  protected abstract inflateMessage(message: Buffer): Buffer;

  /** Frees the native or JS context. */
  protected abstract release(): void;

  private accept(data: Buffer): Buffer | null {
    if (data.length === 0) return null;
    if (this.pendingBytes + data.length > this.maxPendingBytes)
      throw inflatedTooLarge(this.maxInflatedBytes);
    if (this.pendingBytes === 0 && endsWithFlushMarker(data, data.length)) {
      return this.inflateMessage(data);
    }
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (!this.pendingEndsWithFlushMarker()) return null;
    const message = Buffer.concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.pendingBytes = 0;
    return this.inflateMessage(message);
  }

  /** The marker may straddle frames when a frame is shorter than 4 bytes. */
  private pendingEndsWithFlushMarker(): boolean {
    const last = this.pending[this.pending.length - 1];
    if (last.length >= 4 || this.pending.length === 1)
      return endsWithFlushMarker(last, last.length);
    if (this.pendingBytes < 4) return false;
    const tail = Buffer.concat(this.pending).subarray(this.pendingBytes - 4);
    return endsWithFlushMarker(tail, 4);
  }

  private fail(): void {
    this.state = 'failed';
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.release();
  }
}

function endsWithFlushMarker(data: Buffer, length: number): boolean {
  return (
    length >= 4 &&
    data[length - 4] === 0x00 &&
    data[length - 3] === 0x00 &&
    data[length - 2] === 0xff &&
    data[length - 1] === 0xff
  );
}
