/**
 * Shared definitions of the benchmark: the traffic mix, the messages exchanged between the
 * orchestrator (run.ts), the gateway process and the client processes.
 */
import { performance } from 'node:perf_hooks';
import type { TrafficMix } from '../lib/testing/index.js';

/**
 * The streamed mix (weights). MESSAGE_CREATE is about 10% of it, as on a busy bot whose
 * gateway traffic is mostly presences and typing; the filtered run handles only it.
 */
export const BENCH_MIX: TrafficMix = {
  PRESENCE_UPDATE: 45,
  TYPING_START: 18,
  MESSAGE_REACTION_ADD: 14,
  MESSAGE_CREATE: 10,
  INTERACTION_CREATE: 8,
  GUILD_MEMBER_ADD: 5,
};

/** Every type the stream carries (the Nest client binds one handler per type). */
export const STREAM_TYPES = [
  'PRESENCE_UPDATE',
  'TYPING_START',
  'MESSAGE_REACTION_ADD',
  'MESSAGE_CREATE',
  'INTERACTION_CREATE',
  'GUILD_MEMBER_ADD',
  'GUILD_CREATE',
] as const;

/** One large GUILD_CREATE (this many members) every {@link GUILD_CREATE_EVERY} events. */
export const GUILD_CREATE_MEMBERS = 1_000;
export const GUILD_CREATE_EVERY = 2_000;

/**
 * Content of the MESSAGE_CREATE that ends a stream (every client watches for it). The warmup
 * stream ends with one too: a client that has not been told 'go' reports 'warm' on it.
 */
export const END_MARKER = '!bench-end';

/** Guilds, Guild Members, Guild Presences, Guild Messages, Reactions, Typing, Message Content. */
export const BENCH_INTENTS = 1 | 2 | 256 | 512 | 1024 | 2048 | 32768;

export type Compression = 'none' | 'zlib-stream' | 'zstd-stream';
export type Encoding = 'json' | 'etf';

export type ClientKind =
  | 'cluster'
  | 'nest'
  | 'djs-none'
  | 'djs-native'
  | 'djs-sync'
  | 'bare-sync'
  | 'bare-async'
  | 'bare-recv'
  | 'redis-consumer';

/** What a client process is asked to do. */
export interface ClientConfig {
  readonly kind: ClientKind;
  readonly url: string;
  readonly apiUrl: string;
  readonly token: string;
  readonly compression: Compression;
  readonly encoding: Encoding;
  /** Handlers (listeners) for MESSAGE_CREATE only. */
  readonly filtered: boolean;
  /** Shards to run, in one process: ids 0 to shards - 1 of a shard count of `shards`. */
  readonly shards: number;
  readonly maxConcurrency: number;
  readonly identifyWindowMs: number;
  /** Pretend the optional native addons (zlib-sync, zstd-napi, bufferutil) are not installed. */
  readonly noNative: boolean;
  /** Prometheus metrics on (`GatewayMetrics` on a registry of its own, never scraped in the window). */
  readonly metrics: boolean;
  readonly mode: 'throughput' | 'idle' | 'startup';
  /** Pace IDENTIFY with a RedisIdentifyQueue on this redis-server instead of the in-process queue. */
  readonly redis?: { readonly port: number; readonly keyPrefix: string };
  /**
   * The Redis row: kind `cluster` publishes every dispatch to the shard streams of this
   * redis-server (a RedisEventPublisher as its `eventSink`); kind `redis-consumer` reads them
   * (a RedisEventConsumer with one listener).
   */
  readonly events?: RedisEventsConfig;
  /** Idle mode: how long the shards heartbeat after the last is ready, before the sample (ms). */
  readonly idleMs?: number;
  /** Idle mode: write a heap snapshot (`v8.writeHeapSnapshot`) here right after the sample. */
  readonly heapSnapshot?: string;
}

/** Where the Redis row's gateway process publishes and its consumer process reads. */
export interface RedisEventsConfig {
  readonly port: number;
  /** Fresh per run, so that no run reads what an earlier one left. */
  readonly keyPrefix: string;
  /**
   * The publisher's buffer and the streams' cap, in entries: the whole run (warmup and
   * window, all shards). The FakeGateway sends as fast as the gateway process reads, far
   * faster than a bot's traffic, and the row measures what reaches the consumer, so nothing may
   * be dropped or trimmed on the way.
   */
  readonly capacity: number;
}

/** Orchestrator -> client process. */
export type OrchestratorMessage =
  /**
   * Before the warmup: what the ceiling (f) counts. Also the client's first IPC message, so
   * that EventEmitter#emit takes that path (and is deoptimized by it) before the warmup, not
   * at 'go'.
   */
  | {
      type: 'prime';
      /** Messages of the warmup's second half, all shards, the last end markers included. */
      secondHalf: number;
      /** Messages of the window, all shards, the end markers included. */
      window: number;
    }
  /** Opens the window (the stream starts once the client answers 'going'). */
  | { type: 'go' }
  | { type: 'exit' };

/** Client process -> orchestrator. */
export type ClientReport =
  | { type: 'ready'; readyMs: number }
  | { type: 'warm' }
  /** 'go' is in effect: the window is open (the stream may start). */
  | { type: 'going' }
  | { type: 'idle'; heapUsed: number; rss: number; baseHeap: number; baseRss: number }
  | ThroughputResult;

export interface ThroughputResult {
  type: 'result';
  /** Events the client saw (delivered to its listener), end marker included. */
  delivered: number;
  cpuMs: number;
  /** Of which in the kernel (socket reads, TCP). */
  sysMs: number;
  wallMs: number;
  peakRss: number;
  peakHeap: number;
  /** Bytes read from the client's TCP sockets during the stream. */
  wireBytes: number;
  /** Which inflate/decode path the client said it used (debug logs), when it says. */
  path: string;
  /**
   * Wall-clock ms (`performance.timeOrigin + performance.now()`, comparable across the
   * processes of one machine) of the window's first event, for clients that note it (0
   * otherwise), and of the end of the window.
   */
  firstEventAt: number;
  endedAt: number;
}

/** How the orchestrator starts a gateway process. */
export interface GatewayStart {
  type: 'start';
  /** The shard count `GET /gateway/bot` recommends (clients choose their own). */
  shards: number;
  maxConcurrency: number;
  identifyWindowMs: number;
  heartbeatIntervalMs: number;
  /** Measured events per connection. */
  events: number;
  /** Events streamed before the measured ones (own sequence numbers, same mix). */
  warmup: number;
}

/** Orchestrator -> gateway process. */
export type GatewayCommand =
  | GatewayStart
  /**
   * Waits until exactly `connections` sessions are open (one per shard of the client), then
   * prepares their frames.
   */
  | { type: 'prepare'; connections: number }
  /** What the gateway saw of the client's connections so far (idle: was it keeping up). */
  | { type: 'status' }
  /** Streams to every open session at once; `count` events each, then the end marker. */
  | { type: 'pump'; phase: 'warmup' | 'main'; count: number }
  | { type: 'stop' };

/** Gateway process -> orchestrator. */
export type GatewayReply =
  | { type: 'started'; url: string; apiUrl: string; token: string; generated: GeneratedStats }
  | {
      type: 'pumped';
      /** Events sent, over all connections (end markers not counted). */
      sent: number;
      compression: string | null;
      encoding: string;
    }
  | { type: 'prepared' }
  | GatewayStatus
  | { type: 'error'; message: string };

/** The gateway's own view of the connections of a run (idle.ts checks it kept up). */
export interface GatewayStatus {
  type: 'status';
  /** Connections opened since the start (one per shard when none was replaced). */
  connections: number;
  /** Sessions open now. */
  openSessions: number;
  identifies: number;
  resumes: number;
  /** Client heartbeats received and ACKs sent, over every connection. */
  heartbeats: number;
  acks: number;
  /** Open sessions whose heartbeats did not all get an ACK, or that sent none. */
  sessionsUnacked: number;
  /** Ms since the last connection was opened: no shard reconnected in that time. */
  quietForMs: number;
  /** The gateway process's event-loop delay since the start, ms: 99th percentile and max. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface GeneratedStats {
  events: number;
  jsonBytes: number;
  byType: Record<string, number>;
}

/** Wall-clock ms, comparable between the processes of one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** What the bench writes beside each callgrind dump it keeps (`<dump>.json`), for breakdown.ts. */
export interface DumpInfo {
  readonly id: string;
  /** Events of the window, over all shards. */
  readonly events: number;
  /** The client's JIT map (`--perf-basic-prof`), copied beside the dump, if there was one. */
  readonly perfMap: string | null;
}
