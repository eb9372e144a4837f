/**
 * One benchmark client in its own process, so its CPU time (process.cpuUsage) and memory are
 * its own. Configured by argv[2] (JSON ClientConfig); talks to the orchestrator over IPC:
 * 'ready' when connected, then on 'go' it counts events until the end marker and reports.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ClientConfig, ClientReport } from './common.js';

const config = JSON.parse(process.argv[2]) as ClientConfig;

if (config.noNative) hideNativeAddons();

/** Every TCP socket the client opens: the wire bytes of the stream are read from them. */
const sockets: Socket[] = [];
subscribe('net.client.socket', (message) => {
  sockets.push((message as { socket: Socket }).socket);
});

/** The client's view of the run, filled by the client implementations. */
export interface Probe {
  /** Call for every delivered event, the end marker included. */
  readonly onEvent: () => void;
  /** Call when a shard delivers the end marker; the stream ends with the last shard's. */
  readonly onEnd: () => void;
  /** Which inflate/decode path the client reported. */
  path: string;
  /** Messages the stream will carry, over all shards (end markers included); set at 'go'. */
  expect: number;
  /** Between 'go' and the end. */
  running: boolean;
}

let delivered = 0;
/** End markers seen in the current phase (one per shard). */
let ends = 0;
let warmed = false;
let started = false;
let ended = false;
let cpuStart: NodeJS.CpuUsage = process.cpuUsage();
let wallStart = 0;
let wireStart = 0;
let peakHeap = 0;
let peakRss = 0;
let sampler: NodeJS.Timeout | undefined;

function wireBytes(): number {
  let total = 0;
  for (const socket of sockets) total += socket.bytesRead;
  return total;
}

function sample(): void {
  const memory = process.memoryUsage();
  if (memory.heapUsed > peakHeap) peakHeap = memory.heapUsed;
  if (memory.rss > peakRss) peakRss = memory.rss;
}

function send(report: ClientReport): void {
  process.send?.(report);
}

export const probe: Probe = {
  onEvent: () => {
    delivered++;
  },
  onEnd: () => {
    if (++ends < config.shards) return;
    if (!started) {
      // The warmup's end markers: JIT compilation and first-use costs are behind us.
      if (!warmed) send({ type: 'warm' });
      warmed = true;
      return;
    }
    if (ended) return;
    ended = true;
    probe.running = false;
    const cpu = process.cpuUsage(cpuStart);
    const wallMs = performance.now() - wallStart;
    clearInterval(sampler);
    sample();
    send({
      type: 'result',
      delivered,
      cpuMs: (cpu.user + cpu.system) / 1000,
      sysMs: cpu.system / 1000,
      wallMs,
      peakRss,
      peakHeap,
      wireBytes: wireBytes() - wireStart,
      path: probe.path,
    });
  },
  path: '',
  expect: 0,
  running: false,
};

/** A client implementation: connects, and calls the probe for every event. */
export interface BenchClient {
  start(): Promise<void>;
  stop(): Promise<void>;
}

const { createClient } = (await import(`./clients/${clientModule(config.kind)}.js`)) as {
  createClient(config: ClientConfig, probe: Probe): BenchClient;
};
const client = createClient(config, probe);
gc();
const baseline = process.memoryUsage();
const clientStart = performance.now();
await client.start();

if (config.mode === 'throughput') {
  send({ type: 'ready', readyMs: performance.now() - clientStart });
} else if (config.mode === 'startup') {
  send({ type: 'ready', readyMs: performance.now() - clientStart });
} else {
  // Idle: let the shards heartbeat for a while, then measure what they hold.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  gc();
  const memory = process.memoryUsage();
  send({
    type: 'idle',
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    baseHeap: baseline.heapUsed,
    baseRss: baseline.rss,
  });
}

process.on('message', (message: { type: string; expect?: number }) => {
  if (message.type === 'go') {
    delivered = 0;
    ends = 0;
    started = true;
    probe.expect = message.expect ?? 0;
    probe.running = true;
    peakHeap = 0;
    peakRss = 0;
    sample();
    sampler = setInterval(sample, 100);
    wireStart = wireBytes();
    wallStart = performance.now();
    cpuStart = process.cpuUsage();
    send({ type: 'going' });
  } else if (message.type === 'exit') {
    client.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
});

function clientModule(kind: ClientConfig['kind']): string {
  if (kind.startsWith('djs')) return 'djs';
  if (kind.startsWith('bare')) return 'bare';
  return kind;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect) {
    collect();
    collect();
  }
}

/** Makes `require('zlib-sync' | 'zstd-napi' | 'erlpack' | 'bufferutil')` fail, as on an install where they did not build. */
function hideNativeAddons(): void {
  const Module = createRequire(import.meta.url)('node:module') as {
    _load: (request: string, ...rest: unknown[]) => unknown;
  };
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    if (
      request === 'zlib-sync' ||
      request.startsWith('zstd-napi') ||
      request === 'erlpack' ||
      request === 'bufferutil'
    ) {
      throw Object.assign(new Error(`Cannot find module '${request}'`), {
        code: 'MODULE_NOT_FOUND',
      });
    }
    return load.call(this, request, ...rest);
  };
}

// The orchestrator is gone: never outlive it.
process.on('disconnect', () => process.exit(0));
