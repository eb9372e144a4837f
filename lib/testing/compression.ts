import zlib from 'node:zlib';
import { testingRequire } from './module-location.cjs';

/** Transport compression named by `compress=` in the gateway URL (GW-EN-4, GW-EN-5). */
export type TransportCompression = 'zlib-stream' | 'zstd-stream';

/**
 * One compression context for the life of one connection. Messages are compressed in call
 * order; `done` receives exactly the bytes of that message (for zlib ending in `00 00 ff ff`).
 */
export interface StreamCompressor {
  compress(message: Buffer, done: (error: Error | null, output: Buffer) => void): void;
  close(): void;
}

interface FlushableStream {
  write(chunk: Buffer): boolean;
  flush(kind: number, callback: () => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): void;
}

type ZstdFactory = (options?: object) => FlushableStream;

const zstdFactory = (zlib as unknown as { createZstdCompress?: ZstdFactory }).createZstdCompress;
const zstdFlush = (zlib.constants as unknown as Record<string, number | undefined>).ZSTD_e_flush;

/** The part of the optional `zstd-napi` package's binding the fake uses (a streaming CCtx). */
interface ZstdNapiBinding {
  CCtx: new () => {
    compressStream2(output: Buffer, input: Buffer, end: number): [number, number, number];
  };
  EndDirective: { flush: number };
}

function loadZstdNapi(): ZstdNapiBinding | null {
  try {
    return testingRequire('zstd-napi/binding') as ZstdNapiBinding;
  } catch {
    return null;
  }
}

const zstdNapi = loadZstdNapi();
const nodeZstd = typeof zstdFactory === 'function' && zstdFlush !== undefined;

/**
 * Whether this process can serve `compress=zstd-stream`: with node:zlib zstd (Node >= 22.15)
 * or the optional `zstd-napi` package. Without either such connections are refused with
 * HTTP 501.
 */
export const supportsZstd: boolean = nodeZstd || zstdNapi !== null;

/**
 * zstd-stream on zstd-napi's synchronous streaming context: one frame for the connection,
 * flushed (ZSTD_e_flush) after every message and never ended (GW-EN-5).
 */
class ZstdNapiCompressor implements StreamCompressor {
  private readonly context: InstanceType<ZstdNapiBinding['CCtx']>;
  private output = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly binding: ZstdNapiBinding) {
    this.context = new binding.CCtx();
  }

  compress(message: Buffer, done: (error: Error | null, output: Buffer) => void): void {
    const pieces: Buffer[] = [];
    let input = message;
    try {
      for (;;) {
        const [remaining, produced, consumed] = this.context.compressStream2(
          this.output,
          input,
          this.binding.EndDirective.flush,
        );
        pieces.push(Buffer.from(this.output.subarray(0, produced)));
        input = input.subarray(consumed);
        if (remaining === 0 && input.length === 0) break;
        if (produced === this.output.length)
          this.output = Buffer.allocUnsafe(this.output.length * 2);
      }
    } catch (error) {
      done(error as Error, Buffer.alloc(0));
      return;
    }
    done(null, pieces.length === 1 ? pieces[0] : Buffer.concat(pieces));
  }

  close(): void {}
}

/**
 * Pipelines write + flush on one streaming context: node:zlib processes writes and flushes
 * in order and emits a flush's output before calling its callback, so each callback takes
 * exactly the chunks produced since the previous one.
 */
class FlushingCompressor implements StreamCompressor {
  private chunks: Buffer[] = [];
  private failure: Error | null = null;

  constructor(
    private readonly stream: FlushableStream,
    private readonly flushKind: number,
  ) {
    stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    stream.on('error', (error: Error) => {
      this.failure = error;
    });
  }

  compress(message: Buffer, done: (error: Error | null, output: Buffer) => void): void {
    if (this.failure !== null) {
      done(this.failure, Buffer.alloc(0));
      return;
    }
    this.stream.write(message);
    this.stream.flush(this.flushKind, () => {
      const output = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [];
      done(this.failure, output);
    });
  }

  close(): void {
    this.stream.close();
  }
}

/**
 * A new context for one connection: zlib-stream is `zlib.createDeflate()` flushed with
 * Z_SYNC_FLUSH per message; zstd-stream is one never-ended zstd frame flushed with
 * ZSTD_e_flush per message (node:zlib, else zstd-napi). Throws when zstd is asked for and
 * {@link supportsZstd} is false.
 */
export function createCompressor(kind: TransportCompression): StreamCompressor {
  if (kind === 'zlib-stream') {
    return new FlushingCompressor(
      zlib.createDeflate() as unknown as FlushableStream,
      zlib.constants.Z_SYNC_FLUSH,
    );
  }
  if (nodeZstd && zstdFactory !== undefined && zstdFlush !== undefined) {
    return new FlushingCompressor(zstdFactory(), zstdFlush);
  }
  if (zstdNapi !== null) return new ZstdNapiCompressor(zstdNapi);
  throw new Error(
    'zstd-stream needs node:zlib zstd (Node >= 22.15) or the zstd-napi package; neither is here',
  );
}

const SYNC_FLUSH_SUFFIX = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Splits one compressed message into `parts` pieces for separate WebSocket messages, never
 * cutting where a non-final piece would end in the zlib sync-flush suffix (a client that
 * waits for `00 00 ff ff` would then inflate too early).
 */
export function splitMessage(message: Buffer, parts: number): Buffer[] {
  const count = Math.max(1, Math.min(parts, message.length));
  if (count === 1) return [message];
  const pieces: Buffer[] = [];
  let start = 0;
  for (let i = 1; i < count; i++) {
    let end = Math.max(start + 1, Math.floor((message.length * i) / count));
    while (end < message.length - 1 && message.subarray(end - 4, end).equals(SYNC_FLUSH_SUFFIX))
      end++;
    if (end >= message.length) break;
    pieces.push(message.subarray(start, end));
    start = end;
  }
  pieces.push(message.subarray(start));
  return pieces;
}
