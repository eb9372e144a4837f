/**
 * One benchmark client in its own process, so its CPU time (process.cpuUsage) and memory are
 * its own. Configured by argv[2] (JSON ClientConfig); talks to the orchestrator over IPC:
 * 'ready' when connected, then on 'go' it counts events until the end marker and reports.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { now, type ClientConfig, type ClientReport, type OrchestratorMessage } from './common.js';

const config = JSON.parse(process.argv[2]) as ClientConfig;

if (config.noNative) hideNativeAddons();

/**
 * Every TCP socket the client opens: the wire bytes of the stream are read from them. Not kept
 * in idle mode, where the list would hold on to the sockets of connection attempts that failed
 * and count them as the client's heap.
 */
const sockets: Socket[] = [];
if (config.mode !== 'idle') {
  subscribe('net.client.socket', (message) => {
    sockets.push((message as { socket: Socket }).socket);
  });
}

/** The client's view of the run, filled by the client implementations. */
export interface Probe {
  /** Call for every delivered event, the end marker included. */
  readonly onEvent: () => void;
  /** Call when a shard delivers the end marker; the stream ends with the last shard's. */
  readonly onEnd: () => void;
  /**
   * The ceiling (f) calls this instead of decoding, for every message after its shard's
   * halfway marker of the warmup (it decodes the handshake and the warmup's first half).
   */
  readonly onReceived: () => void;
  /** Which inflate/decode path the client reported. */
  path: string;
  /**
   * Wall-clock ms ({@link now}) of the window's first event: a client that needs it sets it
   * when it is 0 (reset when the window opens); the others leave it alone.
   */
  firstEventAt: number;
}

/**
 * Where the run is: 0 the warmup's first half, 1 its second half, 2 warm, 3 the window, 4 done.
 * Every field of {@link run} already changes during the warmup (at its halfway marker), so V8
 * never compiles one in as a constant and deoptimizes the hot path when the window opens.
 */
const FIRST_HALF = 0;
const SECOND_HALF = 1;
const WARM = 2;
const WINDOW = 3;
const DONE = 4;

const run = {
  phase: FIRST_HALF,
  /** End markers seen in this phase (one per shard). */
  ends: 0,
  /** Messages the ceiling counted, and how many it waits for (warmup's second half, window). */
  received: 0,
  target: 0,
  delivered: 0,
};
/** Messages of the window, all shards, end markers included. */
let windowMessages = 0;
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

function secondHalf(): void {
  run.phase = SECOND_HALF;
  run.ends = 0;
}

/** The warmup's last end marker: JIT compilation and first-use costs are behind us. */
function warm(): void {
  run.phase = WARM;
  send({ type: 'warm' });
}

function finish(): void {
  run.phase = DONE;
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  clearInterval(sampler);
  sample();
  send({
    type: 'result',
    delivered: run.delivered,
    cpuMs: (cpu.user + cpu.system) / 1000,
    sysMs: cpu.system / 1000,
    wallMs,
    peakRss,
    peakHeap,
    wireBytes: wireBytes() - wireStart,
    path: probe.path,
    firstEventAt: probe.firstEventAt,
    endedAt: now(),
  });
}

export const probe: Probe = {
  onEvent: () => {
    run.delivered++;
  },
  onEnd: () => {
    if (++run.ends < config.shards) return;
    if (run.phase === FIRST_HALF) secondHalf();
    else if (run.phase === SECOND_HALF) warm();
    else if (run.phase === WINDOW) finish();
  },
  onReceived: () => {
    run.delivered++;
    if (++run.received !== run.target) return;
    if (run.phase === WINDOW) finish();
    else warm();
  },
  path: '',
  firstEventAt: 0,
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
// The heap before start(), to compare the idle snapshot with (heap-summary.js, 0 shards).
if (config.heapSnapshot !== undefined)
  writeHeapSnapshot(config.heapSnapshot.replace(/\.heapsnapshot$/, '.before.heapsnapshot'));
const clientStart = performance.now();
await client.start();

if (config.mode === 'throughput') {
  send({ type: 'ready', readyMs: performance.now() - clientStart });
} else if (config.mode === 'startup') {
  send({ type: 'ready', readyMs: performance.now() - clientStart });
} else {
  // Idle: let the shards heartbeat for a while, then measure what they hold.
  await new Promise((resolve) => setTimeout(resolve, config.idleMs ?? 3_000));
  gc();
  const memory = process.memoryUsage();
  if (config.heapSnapshot !== undefined) writeHeapSnapshot(config.heapSnapshot);
  send({
    type: 'idle',
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    baseHeap: baseline.heapUsed,
    baseRss: baseline.rss,
  });
}

process.on('message', (message: OrchestratorMessage) => {
  if (message.type === 'prime') {
    windowMessages = message.window;
    run.target = message.secondHalf;
  } else if (message.type === 'go') {
    run.phase = WINDOW;
    run.ends = 0;
    run.received = 0;
    run.target = windowMessages;
    run.delivered = 0;
    peakHeap = 0;
    peakRss = 0;
    sample();
    sampler = setInterval(sample, 100);
    wireStart = wireBytes();
    probe.firstEventAt = 0;
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

/** Makes `require('zlib-sync' | 'zstd-napi' | 'bufferutil')` fail, as on an install where they did not build. */
function hideNativeAddons(): void {
  const Module = createRequire(import.meta.url)('node:module') as {
    _load: (request: string, ...rest: unknown[]) => unknown;
  };
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    if (request === 'zlib-sync' || request.startsWith('zstd-napi') || request === 'bufferutil') {
      throw Object.assign(new Error(`Cannot find module '${request}'`), {
        code: 'MODULE_NOT_FOUND',
      });
    }
    return load.call(this, request, ...rest);
  };
}

// The orchestrator is gone: never outlive it.
process.on('disconnect', () => process.exit(0));
