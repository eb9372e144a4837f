/**
 * (d) The bare limit: a minimal `ws` client that inflates (zlib-sync, synchronously) and
 * JSON.parses each message and does nothing else; (e) the same inflating through node:zlib's
 * async stream; for zstd-stream, zstd-napi's synchronous streaming context. Only what the
 * handshake needs: HELLO, IDENTIFY, heartbeats.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import WebSocket from 'ws';
import type { BenchClient, Probe } from '../client-process.js';
import { BENCH_INTENTS, END_MARKER, type ClientConfig } from '../common.js';

interface ZlibSync {
  Inflate: new (options?: { chunkSize?: number }) => {
    push(data: Buffer, flush: number): void;
    err: number;
    result: Buffer | null;
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

export function createClient(config: ClientConfig, probe: Probe): BenchClient {
  const receiveOnly = config.kind === 'bare-recv';
  let received = 0;
  let socket: WebSocket | null = null;
  let heartbeat: NodeJS.Timeout | undefined;
  let sequence: number | null = null;
  let readyResolve: () => void = () => {};

  /** The ceiling (f): counts the stream's messages without decoding them. */
  const onStreamMessage = (): boolean => {
    if (!receiveOnly || !probe.running) return false;
    probe.onEvent();
    if (++received === probe.expect) probe.onEnd();
    return true;
  };

  const onPayload = (payload: Payload): void => {
    if (payload.op === 0) {
      sequence = payload.s;
      probe.onEvent();
      if (payload.t === 'MESSAGE_CREATE' && payload.d?.content === END_MARKER) probe.onEnd();
      else if (payload.t === 'READY') readyResolve();
      return;
    }
    if (payload.op === 10) {
      heartbeat = setInterval(
        () => socket?.send(JSON.stringify({ op: 1, d: sequence })),
        payload.d!.heartbeat_interval,
      );
      socket!.send(
        JSON.stringify({
          op: 2,
          d: {
            token: config.token,
            intents: BENCH_INTENTS,
            properties: { os: 'linux', browser: 'bench', device: 'bench' },
            shard: [0, 1],
          },
        }),
      );
    }
  };

  let onBinary: (data: Buffer) => void = () => {};
  if (config.compression === 'zstd-stream') {
    const zstd = createRequire(import.meta.url)('zstd-napi/binding') as ZstdNapi;
    const context = new zstd.DCtx();
    const output = Buffer.allocUnsafe(64 * 1024);
    probe.path = 'zstd-napi';
    onBinary = (data) => {
      const parts: Buffer[] = [];
      let input = data;
      for (;;) {
        const [, produced, consumed] = context.decompressStream(output, input);
        if (produced > 0) parts.push(Buffer.from(output.subarray(0, produced)));
        input = input.subarray(consumed);
        if (produced < output.length && input.length === 0) break;
      }
      if (onStreamMessage()) return;
      const text = (parts.length === 1 ? parts[0] : Buffer.concat(parts)).toString('utf8');
      onPayload(JSON.parse(text) as Payload);
    };
  } else if (config.compression === 'zlib-stream' && config.kind !== 'bare-async') {
    const zlibSync = createRequire(import.meta.url)('zlib-sync') as ZlibSync;
    const inflate = new zlibSync.Inflate({ chunkSize: 64 * 1024 });
    const pending: Buffer[] = [];
    probe.path = 'zlib-sync';
    onBinary = (data) => {
      if (!endsWithFlushMarker(data)) {
        pending.push(data);
        return;
      }
      if (pending.length > 0) {
        pending.push(data);
        data = Buffer.concat(pending);
        pending.length = 0;
      }
      inflate.push(data, zlibSync.Z_SYNC_FLUSH);
      if (inflate.err < 0) throw new Error('inflate failed');
      // The ceiling takes the inflated bytes too (zlib-sync copies them out on this read).
      const inflated = inflate.result!;
      if (onStreamMessage()) return;
      onPayload(JSON.parse(inflated.toString('utf8')) as Payload);
    };
  } else if (config.compression === 'zlib-stream') {
    const inflate = zlib.createInflate({ chunkSize: 64 * 1024 });
    let chunks: Buffer[] = [];
    inflate.on('data', (chunk: Buffer) => chunks.push(chunk));
    probe.path = 'node:zlib async stream';
    onBinary = (data) => {
      inflate.write(data);
      if (!endsWithFlushMarker(data)) return;
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
        chunks = [];
        onPayload(JSON.parse(text) as Payload);
      });
    };
  } else {
    probe.path = 'none';
  }

  return {
    start: () =>
      new Promise<void>((resolve, reject) => {
        readyResolve = resolve;
        const compress = config.compression === 'none' ? '' : `&compress=${config.compression}`;
        socket = new WebSocket(`${config.url}/?v=10&encoding=json${compress}`, {
          perMessageDeflate: false,
        });
        socket.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) onBinary(data);
          else if (!onStreamMessage()) onPayload(JSON.parse(data.toString('utf8')) as Payload);
        });
        socket.on('error', reject);
      }),
    stop: async () => {
      clearInterval(heartbeat);
      socket?.close(1000);
    },
  };
}

/** The zlib-stream message end: Z_SYNC_FLUSH's `00 00 ff ff` suffix. */
function endsWithFlushMarker(data: Buffer): boolean {
  const n = data.length;
  return (
    n >= 4 && data[n - 4] === 0 && data[n - 3] === 0 && data[n - 2] === 0xff && data[n - 1] === 0xff
  );
}
