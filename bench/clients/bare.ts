/**
 * The bare clients: no library, only what a shard needs to stay connected (HELLO, IDENTIFY,
 * heartbeats carrying the last sequence) and to deliver each dispatch.
 *
 * - (d) The floor: the leanest correct client for its transport. Per socket: `ws` (with
 *   bufferutil when installed), for zlib-stream one zlib-sync context, for zstd-stream one
 *   zstd-napi context. Per message: the flush-marker check (zlib-stream), inflate into a
 *   Buffer (the library's own output: zlib-sync's copy, or a copy out of zstd-napi's reused
 *   output buffer), that Buffer to text once, `JSON.parse`, the sequence, the listener.
 *   Nothing else: no UTF-8 validation (`toString` replaces invalid bytes), no caps, no
 *   duplicate check. What those cost the library is in BENCHMARKS.md's breakdown.
 * - (e) The same, inflating through node:zlib's async stream (what a client without native
 *   addons would write first).
 * - (f) The ceiling: receives (and inflates) every message of the window and decodes none.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import type { BenchClient, Probe } from '../client-process.js';
import { BENCH_INTENTS, END_MARKER, type ClientConfig } from '../common.js';

interface ZlibSync {
  Inflate: new (options?: { chunkSize?: number }) => {
    push(data: Buffer, flush: number): void;
    readonly err: number;
    readonly result: Buffer | null;
  };
  Z_SYNC_FLUSH: number;
}

interface ZstdNapi {
  DCtx: new () => {
    decompressStream(output: Uint8Array, input: Uint8Array): [number, number, number];
  };
}

interface Payload {
  op: number;
  t: string | null;
  s: number | null;
  d: { heartbeat_interval?: number; content?: string } | null;
}

const require = createRequire(import.meta.url);

export function createClient(config: ClientConfig, probe: Probe): BenchClient {
  const shards: BareShard[] = [];
  return {
    start: async () => {
      for (let id = 0; id < config.shards; id++) {
        const shard = new BareShard(config, probe, id);
        shards.push(shard);
        await shard.ready;
      }
    },
    stop: async () => {
      for (const shard of shards) shard.stop();
    },
  };
}

class BareShard {
  readonly ready: Promise<void>;
  private readonly socket: WebSocket;
  private sequence: number | null = null;
  /** The ceiling (f) past its halfway marker: it counts messages instead of decoding them. */
  private counting = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private readyResolve: () => void = () => {};

  constructor(
    private readonly config: ClientConfig,
    private readonly probe: Probe,
    private readonly id: number,
  ) {
    const compress = config.compression === 'none' ? '' : `&compress=${config.compression}`;
    this.socket = new WebSocket(`${config.url}/?v=10&encoding=json${compress}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    this.socket.on('message', this.receiver());
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.socket.once('error', reject);
    });
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.socket.close(1000);
  }

  /** The socket's message listener for the transport and the kind of bare client. */
  private receiver(): (data: Buffer, isBinary: boolean) => void {
    const { compression, kind } = this.config;
    const probe = this.probe;
    const receiveOnly = kind === 'bare-recv';
    // The ceiling decodes the handshake and the warmup's first half; from its halfway end
    // marker on it only counts, so that its counting path is optimized before the window.
    const onMessage = receiveOnly
      ? (message: Buffer): void => {
          if (this.counting) {
            probe.onReceived();
            return;
          }
          this.onPayload(JSON.parse(message.toString()) as Payload);
        }
      : (message: Buffer): void => this.onPayload(JSON.parse(message.toString()) as Payload);

    if (compression === 'none') {
      probe.path = 'ws';
      return (data) => onMessage(data);
    }

    if (compression === 'zstd-stream') {
      const context = new (require('zstd-napi/binding') as ZstdNapi).DCtx();
      const output = Buffer.allocUnsafe(64 * 1024);
      probe.path = 'ws; zstd-napi';
      return (data) => {
        let input = data;
        let message: Buffer | null = null;
        for (;;) {
          const [, produced, consumed] = context.decompressStream(output, input);
          if (produced > 0) {
            const part = Buffer.from(output.subarray(0, produced));
            message = message === null ? part : Buffer.concat([message, part]);
          }
          input = input.subarray(consumed);
          if (produced < output.length && input.length === 0) break;
        }
        if (message !== null) onMessage(message);
      };
    }

    if (kind === 'bare-async') {
      const inflate = zlib.createInflate({ chunkSize: 64 * 1024 });
      let chunks: Buffer[] = [];
      inflate.on('data', (chunk: Buffer) => chunks.push(chunk));
      probe.path = 'ws; node:zlib async stream';
      return (data) => {
        inflate.write(data);
        if (!endsWithFlushMarker(data)) return;
        inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          const message = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          chunks = [];
          onMessage(message);
        });
      };
    }

    const zlibSync = require('zlib-sync') as ZlibSync;
    const inflate = new zlibSync.Inflate({ chunkSize: 64 * 1024 });
    const flush = zlibSync.Z_SYNC_FLUSH;
    const pending: Buffer[] = [];
    probe.path = 'ws; zlib-sync';
    return (data) => {
      // A message may span frames: only the one ending in the flush marker completes it.
      if (!endsWithFlushMarker(data)) {
        pending.push(data);
        return;
      }
      if (pending.length > 0) {
        pending.push(data);
        data = Buffer.concat(pending);
        pending.length = 0;
      }
      inflate.push(data, flush);
      if (inflate.err < 0) throw new Error(`zlib-stream inflate failed (${inflate.err})`);
      onMessage(inflate.result!);
    };
  }

  private onPayload(payload: Payload): void {
    if (payload.op === 0) {
      if (payload.s !== null) this.sequence = payload.s;
      this.probe.onEvent();
      if (payload.t === 'MESSAGE_CREATE') {
        if (payload.d!.content === END_MARKER) {
          this.probe.onEnd();
          this.counting = this.config.kind === 'bare-recv';
        }
      } else if (payload.t === 'READY') {
        this.readyResolve();
      }
    } else if (payload.op === 10) {
      this.hello(payload.d!.heartbeat_interval!);
    }
  }

  private hello(intervalMs: number): void {
    this.heartbeat = setInterval(
      () => this.socket.send(JSON.stringify({ op: 1, d: this.sequence })),
      intervalMs,
    );
    this.socket.send(
      JSON.stringify({
        op: 2,
        d: {
          token: this.config.token,
          intents: BENCH_INTENTS,
          properties: { os: 'linux', browser: 'bench', device: 'bench' },
          shard: [this.id, this.config.shards],
        },
      }),
    );
  }
}

/** The zlib-stream message end: Z_SYNC_FLUSH's `00 00 ff ff` suffix. */
function endsWithFlushMarker(data: Buffer): boolean {
  const n = data.length;
  return (
    n >= 4 && data[n - 4] === 0 && data[n - 3] === 0 && data[n - 2] === 0xff && data[n - 1] === 0xff
  );
}
