/**
 * The throughput part: every row's client receives the same prepared stream (each of its
 * shards the whole stream) and measures its cost per event, in CPU time or, with
 * `--instructions`, in instructions under callgrind. One table per transport, with the ratios
 * to the bare floor and to @discordjs/ws of the same shard count, from the same run.
 *
 * The Redis rows (role `redis`) stream the same bytes, in the same run, to a gateway process
 * running the Cluster with a RedisEventPublisher, whose consumer process (a RedisEventConsumer
 * with one listener) receives every dispatch through a redis-server the part starts on a free
 * loopback port: events/s end to end, and CPU per event of each of the three processes
 * (`/proc/<pid>/stat`), next to the in-process Cluster row of the same transport.
 *
 * To add a row, add it to {@link THROUGHPUT_ROWS}; a new client setting goes into
 * ClientConfig (common.ts) and the row's `client` field.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisServer } from '../lib/testing/index.js';
import {
  median,
  type ClientConfig,
  type ClientKind,
  type Compression,
  type DumpInfo,
  type GatewayReply,
  type GeneratedStats,
  type OrchestratorMessage,
  type RedisEventsConfig,
  type ThroughputResult,
} from './common.js';
import { selected, type BenchOptions } from './options.js';
import { ClientProcess, GatewayProcess, clientConfig, log, processCpuMs } from './processes.js';

export interface ThroughputRow {
  /** What `--only` and `--profile` name, and the per-run lines print. */
  readonly id: string;
  readonly label: string;
  readonly kind: ClientKind;
  readonly compression: Compression;
  /** Shards in the one client process (default 1); each gets the whole stream. */
  readonly shards?: number;
  /**
   * Its place in the table: `floor` (the bare client every other row is divided into) and
   * `djs` (@discordjs/ws) set the ratio columns for their transport and shard count; a
   * `floor` that costs more than a `library` or `djs` row delivering the same events is
   * reported as a warning. `redis`: gateway process -> Redis -> consumer process, in a table
   * of its own under its transport's.
   */
  readonly role: 'floor' | 'ceiling' | 'library' | 'djs' | 'other' | 'redis';
  /** Further client settings (encoding, filtered, noNative, ...). */
  readonly client?: Partial<Omit<ClientConfig, 'kind' | 'compression' | 'shards'>>;
}

const row = (
  id: string,
  label: string,
  kind: ClientKind,
  compression: Compression,
  role: ThroughputRow['role'],
  extra: Pick<ThroughputRow, 'shards' | 'client'> = {},
): ThroughputRow => ({ id, label, kind, compression, role, ...extra });

const FOUR = { shards: 4 } as const;

/** Every throughput row, in table order (a table per transport). */
export const THROUGHPUT_ROWS: readonly ThroughputRow[] = [
  row('d-none', '(d) bare floor: ws + JSON.parse', 'bare-sync', 'none', 'floor'),
  row('f-none', '(f) ceiling: ws receive only, no decode', 'bare-recv', 'none', 'ceiling'),
  row('a-none', '(a) Cluster, listener', 'cluster', 'none', 'library'),
  row('b-none', '(b) Nest, handler per type', 'nest', 'none', 'library'),
  row('c-none', '(c) @discordjs/ws', 'djs-none', 'none', 'djs'),
  row('d-none-4', '(d) bare floor: ws + JSON.parse', 'bare-sync', 'none', 'floor', FOUR),
  row('a-none-4', '(a) Cluster, listener', 'cluster', 'none', 'library', FOUR),
  row('b-none-4', '(b) Nest, handler per type', 'nest', 'none', 'library', FOUR),
  row('c-none-4', '(c) @discordjs/ws', 'djs-none', 'none', 'djs', FOUR),
  row('a-none-etf', '(a) Cluster, ETF', 'cluster', 'none', 'other', {
    client: { encoding: 'etf' },
  }),
  row('a-none-filtered', '(a) Cluster, MESSAGE_CREATE only', 'cluster', 'none', 'other', {
    client: { filtered: true },
  }),
  row('b-none-filtered', '(b) Nest, MESSAGE_CREATE only', 'nest', 'none', 'other', {
    client: { filtered: true },
  }),
  row('a-none-metrics', '(a) Cluster, listener, metrics on', 'cluster', 'none', 'other', {
    client: { metrics: true },
  }),
  row('b-none-metrics', '(b) Nest, handler per type, metrics on', 'nest', 'none', 'other', {
    client: { metrics: true },
  }),
  row('r-none', '(r) Cluster -> Redis streams -> consumer', 'cluster', 'none', 'redis'),

  row('d-zlib', '(d) bare floor: ws + zlib-sync + JSON.parse', 'bare-sync', 'zlib-stream', 'floor'),
  row(
    'f-zlib',
    '(f) ceiling: ws + zlib-sync inflate, no decode',
    'bare-recv',
    'zlib-stream',
    'ceiling',
  ),
  row('a-zlib', '(a) Cluster, listener (zlib-sync)', 'cluster', 'zlib-stream', 'library'),
  row('b-zlib', '(b) Nest, handler per type', 'nest', 'zlib-stream', 'library'),
  row('c-zlib-sync', '(c) @discordjs/ws ZlibSync', 'djs-sync', 'zlib-stream', 'djs'),
  row(
    'd-zlib-4',
    '(d) bare floor: ws + zlib-sync + JSON.parse',
    'bare-sync',
    'zlib-stream',
    'floor',
    FOUR,
  ),
  row('a-zlib-4', '(a) Cluster, listener (zlib-sync)', 'cluster', 'zlib-stream', 'library', FOUR),
  row('b-zlib-4', '(b) Nest, handler per type', 'nest', 'zlib-stream', 'library', FOUR),
  row('c-zlib-sync-4', '(c) @discordjs/ws ZlibSync', 'djs-sync', 'zlib-stream', 'djs', FOUR),
  row('e-zlib', '(e) bare: ws + node:zlib async stream', 'bare-async', 'zlib-stream', 'other'),
  row('c-zlib-native', '(c) @discordjs/ws ZlibNative', 'djs-native', 'zlib-stream', 'other'),
  row('a-zlib-nonative', '(a) Cluster, no native addons', 'cluster', 'zlib-stream', 'other', {
    client: { noNative: true },
  }),
  row('a-zlib-filtered', '(a) Cluster, MESSAGE_CREATE only', 'cluster', 'zlib-stream', 'other', {
    client: { filtered: true },
  }),
  row('a-zlib-etf', '(a) Cluster, ETF', 'cluster', 'zlib-stream', 'other', {
    client: { encoding: 'etf' },
  }),
  row('a-zlib-metrics', '(a) Cluster, listener, metrics on', 'cluster', 'zlib-stream', 'other', {
    client: { metrics: true },
  }),
  row('b-zlib-metrics', '(b) Nest, handler per type, metrics on', 'nest', 'zlib-stream', 'other', {
    client: { metrics: true },
  }),
  row('r-zlib', '(r) Cluster -> Redis streams -> consumer', 'cluster', 'zlib-stream', 'redis'),

  row('d-zstd', '(d) bare floor: ws + zstd-napi + JSON.parse', 'bare-sync', 'zstd-stream', 'floor'),
  row('f-zstd', '(f) ceiling: ws + zstd-napi, no decode', 'bare-recv', 'zstd-stream', 'ceiling'),
  row('a-zstd', '(a) Cluster, listener (zstd-napi)', 'cluster', 'zstd-stream', 'library'),
  row('a-zstd-filtered', '(a) Cluster, MESSAGE_CREATE only', 'cluster', 'zstd-stream', 'other', {
    client: { filtered: true },
  }),
  row(
    'a-zstd-nonative',
    '(a) Cluster, no native addons (fzstd)',
    'cluster',
    'zstd-stream',
    'other',
    { client: { noNative: true } },
  ),
];

const TRANSPORTS: readonly { compression: Compression; title: string }[] = [
  { compression: 'none', title: 'Uncompressed (json)' },
  { compression: 'zlib-stream', title: 'zlib-stream' },
  {
    compression: 'zstd-stream',
    title: 'zstd-stream (no @discordjs/ws row: its zstd needs node:zlib zstd, Node >= 22.15)',
  },
];

/** A ratio the run checks: `against` cost / `row` cost must be at least `min`. */
interface Target {
  readonly label: string;
  readonly row: string;
  readonly against: string;
  readonly min: number;
}

const TARGETS: readonly Target[] = [
  { label: 'Cluster vs bare floor, json, 1 shard', row: 'a-none', against: 'd-none', min: 0.9 },
  {
    label: 'Cluster vs bare floor, json, 4 shards',
    row: 'a-none-4',
    against: 'd-none-4',
    min: 0.9,
  },
  { label: 'Cluster vs bare floor, zlib, 1 shard', row: 'a-zlib', against: 'd-zlib', min: 0.9 },
  {
    label: 'Cluster vs bare floor, zlib, 4 shards',
    row: 'a-zlib-4',
    against: 'd-zlib-4',
    min: 0.9,
  },
  // At most 5% more than the raw listener: listener / Nest >= 1 / 1.05.
  { label: 'Nest vs Cluster listener, json', row: 'b-none', against: 'a-none', min: 1 / 1.05 },
  { label: 'Nest vs Cluster listener, zlib', row: 'b-zlib', against: 'a-zlib', min: 1 / 1.05 },
  // Metrics on cost at most 3% more than off: off / on >= 1 / 1.03.
  {
    label: 'metrics on vs off, Cluster, json',
    row: 'a-none-metrics',
    against: 'a-none',
    min: 1 / 1.03,
  },
  {
    label: 'metrics on vs off, Cluster, zlib',
    row: 'a-zlib-metrics',
    against: 'a-zlib',
    min: 1 / 1.03,
  },
  {
    label: 'metrics on vs off, Nest, json',
    row: 'b-none-metrics',
    against: 'b-none',
    min: 1 / 1.03,
  },
  {
    label: 'metrics on vs off, Nest, zlib',
    row: 'b-zlib-metrics',
    against: 'b-zlib',
    min: 1 / 1.03,
  },
  { label: 'Cluster vs @discordjs/ws, json', row: 'a-none', against: 'c-none', min: 1.5 },
  { label: 'Cluster vs @discordjs/ws ZlibSync', row: 'a-zlib', against: 'c-zlib-sync', min: 1.3 },
  {
    label: 'no native addons vs @discordjs/ws ZlibNative',
    row: 'a-zlib-nonative',
    against: 'c-zlib-native',
    min: 2.5,
  },
  { label: 'filtered vs bare floor, json', row: 'a-none-filtered', against: 'd-none', min: 3 },
  { label: 'filtered vs bare floor, zlib', row: 'a-zlib-filtered', against: 'd-zlib', min: 2 },
  { label: 'Cluster vs bare floor, zstd', row: 'a-zstd', against: 'd-zstd', min: 0.85 },
  { label: 'filtered vs bare floor, zstd', row: 'a-zstd-filtered', against: 'd-zstd', min: 2 },
];

interface Measured extends ThroughputResult {
  /** Events sent over all shards (end markers not counted). */
  sent: number;
  compression: string | null;
  /** Instructions from 'go' to the last end marker, and of them JIT compilation (`--instructions`). */
  instructions: { total: number; compile: number } | null;
}

interface Summary {
  row: ThroughputRow;
  shards: number;
  /**
   * CPU us per event, or with `--instructions` instructions per event outside JIT compilation
   * (the steady state: compiling is a one-time cost): what ratios compare.
   */
  cost: number;
  /** `--instructions`: median instructions per event spent compiling, and in all. */
  compilePerEvent: number;
  totalPerEvent: number;
  eventsPerSecond: number;
  peakRss: number;
  peakHeap: number;
  wirePerEvent: number;
  path: string;
  samples: number[];
}

/** The throughput tables (Markdown lines), or none when no row is selected. */
export async function throughputPart(options: BenchOptions): Promise<string[]> {
  const rows = THROUGHPUT_ROWS.filter((r) => selected(options, 'throughput', r.id));
  if (rows.length === 0) return [];
  log(
    `throughput: ${rows.length} rows x ${options.runs} runs x ${options.events} events per shard after ${options.warmup} warmup events`,
  );
  const { gateway, started } = await GatewayProcess.start({
    shards: 1,
    // Clients connect one after another: no IDENTIFY may wait for a window.
    maxConcurrency: 16,
    identifyWindowMs: 1,
    // Long: no heartbeat ACK (compressed by the gateway's own context) lands inside a stream.
    heartbeatIntervalMs: 3_600_000,
    events: options.events,
    warmup: options.warmup,
  });
  const results = new Map<string, Measured[]>();
  const failures: string[] = [];
  const redisRows = new Map<string, RedisRowState>();
  let redis: { server: RedisServer; admin: Redis } | null = null;
  try {
    if (rows.some((r) => r.role === 'redis')) {
      redis = await startRedis(options, rows, redisRows);
    }
    // Interleaved: drift on a shared machine spreads over every row.
    for (let run = 1; run <= options.runs; run++) {
      for (const r of rows) {
        if (r.role === 'redis') {
          const state = redisRows.get(r.id);
          if (redis === null || state?.kind !== 'runs') continue;
          try {
            const result = await measureRedis(options, gateway, started, r, redis, run);
            log(`  run ${run} ${r.id.padEnd(16)} ${describeRedisRun(result)}`);
            state.runs.push(result);
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            log(`  run ${run} ${r.id.padEnd(16)} failed: ${reason}`);
            redisRows.set(r.id, { kind: 'failed', reason: reason.split('\n')[0] });
          }
          continue;
        }
        let result: Measured;
        try {
          result = await measure(options, gateway, started, r);
        } catch (error) {
          // One client crashing (its stderr is above) costs its run, not the whole benchmark.
          const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
          log(`  run ${run} ${r.id.padEnd(16)} failed: ${reason}`);
          failures.push(`${r.id} run ${run}: ${reason}`);
          continue;
        }
        log(`  run ${run} ${r.id.padEnd(16)} ${describeRun(result)}`);
        results.set(r.id, [...(results.get(r.id) ?? []), result]);
      }
    }
  } finally {
    await gateway.stop();
    redis?.admin.disconnect();
    await redis?.server.stop();
  }
  const summaries = new Map(
    rows
      .filter((r) => r.role !== 'redis' && results.has(r.id))
      .map((r) => [r.id, summarize(options, r, results.get(r.id)!)]),
  );
  const redisSummaries = rows
    .filter((r) => r.role === 'redis')
    .map((r) => ({ row: r, state: redisRows.get(r.id)! }));
  const lines = report(options, started.generated, summaries, redisSummaries);
  if (failures.length > 0) {
    lines.push('', `**Failed runs (left out of the medians):** ${failures.join('; ')}.`);
  }
  return lines;
}

/** A Redis row: its runs, or why it has none. */
type RedisRowState =
  | { kind: 'runs'; runs: RedisMeasured[] }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string };

interface RedisMeasured {
  /** Events sent over all shards (end markers not counted). */
  sent: number;
  /** Events the consumer's listener received in the window, end markers included. */
  delivered: number;
  shards: number;
  /** From the gateway process's first publish of the window to the consumer's last delivery. */
  endToEndMs: number;
  /** CPU time of each process over the window (from 'go' to the consumer's last delivery). */
  gatewayCpuMs: number;
  consumerCpuMs: number;
  redisCpuMs: number;
}

/**
 * The redis-server of the Redis rows (free loopback port, no persistence), or `null` with
 * every Redis row marked skipped: without redis-server on the PATH, or under callgrind (the
 * row's three processes are timed from /proc, not counted).
 */
async function startRedis(
  options: BenchOptions,
  rows: readonly ThroughputRow[],
  states: Map<string, RedisRowState>,
): Promise<{ server: RedisServer; admin: Redis } | null> {
  const binary = options.instructions ? null : RedisServer.binary();
  const reason = options.instructions
    ? 'not counted: timed only (run it without --instructions)'
    : 'skipped: no redis-server on PATH';
  for (const r of rows) {
    if (r.role !== 'redis') continue;
    states.set(r.id, binary === null ? { kind: 'skipped', reason } : { kind: 'runs', runs: [] });
  }
  if (binary === null) {
    log(`  Redis rows ${reason}`);
    return null;
  }
  const server = await RedisServer.start({ binary });
  log(`  redis-server for the Redis rows on 127.0.0.1:${server.port} (pid ${server.pid})`);
  return { server, admin: new Redis(server.port, '127.0.0.1') };
}

/**
 * One run of a Redis row: the gateway process (the Cluster publishing to Redis) connects to
 * the FakeGateway, the consumer process joins its group once every shard is reported Active;
 * both warm up on the warmup stream (the consumer through Redis), then the window is streamed
 * and ends when the consumer delivers the last end marker.
 */
async function measureRedis(
  options: BenchOptions,
  gateway: GatewayProcess,
  started: Extract<GatewayReply, { type: 'started' }>,
  r: ThroughputRow,
  redis: { server: RedisServer; admin: Redis },
  run: number,
): Promise<RedisMeasured> {
  const shards = r.shards ?? 1;
  // A run starts on an empty Redis: no stream, group or lease of an earlier run is left.
  await redis.admin.flushall();
  const events: RedisEventsConfig = {
    port: redis.server.port,
    keyPrefix: `bench-${r.id}-${run}`,
    capacity: (options.warmup + options.events + 2) * shards,
  };
  const base = {
    ...r.client,
    compression: r.compression,
    shards,
    maxConcurrency: 16,
    url: started.url,
    apiUrl: started.apiUrl,
    token: started.token,
    events,
  };
  // `--profile r-...`: a CPU profile of the gateway process and one of the consumer process.
  const execArgv = options.profile === r.id ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : [];
  if (options.semiSpaceMiB > 0) execArgv.push(`--max-semi-space-size=${options.semiSpaceMiB}`);
  execArgv.push(...options.clientFlags);
  const timeoutMs = 120_000;
  const publisher = new ClientProcess(clientConfig({ ...base, kind: 'cluster' }), { execArgv });
  let consumer: ClientProcess | null = null;
  try {
    await publisher.next('ready', timeoutMs);
    consumer = new ClientProcess(clientConfig({ ...base, kind: 'redis-consumer' }), { execArgv });
    await consumer.next('ready', timeoutMs);
    const half = options.warmup - Math.floor(options.warmup / 2);
    const prime: OrchestratorMessage = {
      type: 'prime',
      secondHalf: options.warmup > 0 ? (half + 1) * shards : 0,
      window: (options.events + 1) * shards,
    };
    publisher.send(prime);
    consumer.send(prime);
    await gateway.request({ type: 'prepare', connections: shards });
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (options.warmup > 0) {
      await gateway.request({ type: 'pump', phase: 'warmup', count: options.warmup });
      await publisher.next('warm', timeoutMs);
      await consumer.next('warm', timeoutMs);
    }
    consumer.send({ type: 'go' });
    await consumer.next('going', timeoutMs);
    publisher.send({ type: 'go' });
    await publisher.next('going', timeoutMs);
    const pids = [publisher.pid, consumer.pid, redis.server.pid!];
    const before = pids.map(processCpuMs);
    const pumped = await gateway.request({ type: 'pump', phase: 'main', count: options.events });
    if (pumped.type !== 'pumped') throw new Error('gateway: unexpected reply');
    const consumed = await consumer.next('result', timeoutMs);
    const after = pids.map(processCpuMs);
    const published = await publisher.next('result', timeoutMs);
    return {
      sent: pumped.sent,
      delivered: consumed.delivered,
      shards,
      endToEndMs: consumed.endedAt - published.firstEventAt,
      gatewayCpuMs: after[0] - before[0],
      consumerCpuMs: after[1] - before[1],
      redisCpuMs: after[2] - before[2],
    };
  } finally {
    await consumer?.exit();
    await publisher.exit();
  }
}

function describeRedisRun(m: RedisMeasured): string {
  const perEvent = (ms: number): string => ((ms * 1000) / m.sent).toFixed(2);
  return `${Math.round(m.sent / (m.endToEndMs / 1000))} ev/s end to end  gateway ${perEvent(m.gatewayCpuMs)}  consumer ${perEvent(m.consumerCpuMs)}  redis-server ${perEvent(m.redisCpuMs)} us/event  delivered ${m.delivered - m.shards} of ${m.sent}`;
}

async function measure(
  options: BenchOptions,
  gateway: GatewayProcess,
  started: Extract<GatewayReply, { type: 'started' }>,
  r: ThroughputRow,
): Promise<Measured> {
  const shards = r.shards ?? 1;
  const config = clientConfig({
    ...r.client,
    kind: r.kind,
    compression: r.compression,
    shards,
    maxConcurrency: 16,
    url: started.url,
    apiUrl: started.apiUrl,
    token: started.token,
  });
  const execArgv = options.profile === r.id ? ['--cpu-prof', '--cpu-prof-dir=bench-profiles'] : [];
  if (options.semiSpaceMiB > 0) execArgv.push(`--max-semi-space-size=${options.semiSpaceMiB}`);
  // One thread and fixed seeds: background compilation and GC threads finishing at different
  // points made counts of the same client differ by up to 20%; like this they agree within ~2%.
  // No memory reducer: it judges the allocation rate by the clock, and under callgrind (50
  // times slower) it took the stream for an idle process and ran a full mark-compact inside
  // the window, which a normal run never does there. Marking costs in proportion to the live
  // heap, so it charged the library (a larger heap than a bare client's) up to ~5,000
  // instructions per event that no real run spends.
  if (options.instructions)
    execArgv.push('--single-threaded', '--hash-seed=1', '--random-seed=1', '--no-memory-reducer');
  execArgv.push(...options.clientFlags);
  const client = new ClientProcess(config, { execArgv, callgrind: options.instructions });
  const timeoutMs = options.instructions ? 1_800_000 : 120_000;
  try {
    await client.next('ready', timeoutMs);
    // The client's first IPC message otherwise arrives at 'go': EventEmitter#emit then takes a
    // path it never took and is deoptimized, for every client, at the start of the window.
    const half = options.warmup - Math.floor(options.warmup / 2);
    client.send({
      type: 'prime',
      secondHalf: options.warmup > 0 ? (half + 1) * shards : 0,
      window: (options.events + 1) * shards,
    });
    await gateway.request({ type: 'prepare', connections: shards });
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (options.warmup > 0) {
      await gateway.request({ type: 'pump', phase: 'warmup', count: options.warmup });
      await client.next('warm', timeoutMs);
    }
    if (options.instructions) await client.zeroInstructions();
    client.send({ type: 'go' });
    // Not a frame of the stream may reach the client before its window is open.
    await client.next('going', timeoutMs);
    const pumped = await gateway.request({ type: 'pump', phase: 'main', count: options.events });
    if (pumped.type !== 'pumped') throw new Error('gateway: unexpected reply');
    const result = await client.next('result', timeoutMs);
    let keepAs: string | undefined;
    if (options.callgrindOut !== null) {
      mkdirSync(options.callgrindOut, { recursive: true });
      keepAs = join(options.callgrindOut, `${r.id}.${Date.now()}.callgrind`);
    }
    const instructions = options.instructions ? await client.instructions(keepAs) : null;
    if (keepAs !== undefined) keepDumpInfo(keepAs, r.id, pumped.sent, client.pid);
    return { ...result, sent: pumped.sent, compression: pumped.compression, instructions };
  } finally {
    await client.exit();
  }
}

/** What breakdown.ts needs beside a kept dump: the row, its events, the client's JIT map. */
function keepDumpInfo(dump: string, id: string, events: number, pid: number): void {
  const jitMap = `/tmp/perf-${pid}.map`;
  let perfMap: string | null = null;
  if (existsSync(jitMap)) {
    perfMap = `${dump}.map`;
    copyFileSync(jitMap, perfMap);
  }
  writeFileSync(`${dump}.json`, JSON.stringify({ id, events, perfMap } satisfies DumpInfo));
}

function describeRun(result: Measured): string {
  const perEvent = (n: number): string => ((n * 1000) / result.sent).toFixed(2);
  const instructions =
    result.instructions === null
      ? ''
      : `  ${Math.round(result.instructions.total / result.sent)} instructions/event (${Math.round(result.instructions.compile / result.sent)} compiling)`;
  return `${perEvent(result.cpuMs)} us/event (sys ${perEvent(result.sysMs)})${instructions}  ${Math.round(result.sent / (result.wallMs / 1000))} ev/s  ${(result.wireBytes / result.sent).toFixed(0)} B/ev  [${result.path}]`;
}

function summarize(options: BenchOptions, r: ThroughputRow, results: Measured[]): Summary {
  const counted = options.instructions;
  const perEvent = results.map((m) =>
    counted
      ? (m.instructions!.total - m.instructions!.compile) / m.sent
      : (m.cpuMs * 1000) / m.sent,
  );
  return {
    row: r,
    shards: r.shards ?? 1,
    cost: median(perEvent),
    compilePerEvent: counted ? median(results.map((m) => m.instructions!.compile / m.sent)) : 0,
    totalPerEvent: counted ? median(results.map((m) => m.instructions!.total / m.sent)) : 0,
    eventsPerSecond: median(results.map((m) => m.sent / (m.wallMs / 1000))),
    peakRss: median(results.map((m) => m.peakRss)),
    peakHeap: median(results.map((m) => m.peakHeap)),
    wirePerEvent: median(results.map((m) => m.wireBytes / m.sent)),
    path: results[0].path,
    samples: perEvent,
  };
}

/** A `library` or `djs` row that delivers every event on the floor's path: the floor must not cost more. */
function deliversLikeTheFloor(r: ThroughputRow): boolean {
  return (
    (r.role === 'library' || r.role === 'djs') &&
    !r.client?.filtered &&
    !r.client?.noNative &&
    (r.client?.encoding ?? 'json') === 'json'
  );
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

function report(
  options: BenchOptions,
  generated: GeneratedStats,
  summaries: Map<string, Summary>,
  redisRows: readonly { row: ThroughputRow; state: RedisRowState }[],
): string[] {
  const counted = options.instructions;
  const unit = counted ? 'instructions/event' : 'CPU us/event';
  const mix = Object.entries(generated.byType)
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${((100 * n) / generated.events).toFixed(1)}%`)
    .join(', ');
  const jsonPerEvent = generated.jsonBytes / generated.events;
  const lines = [
    `Stream: ${generated.events} events per shard, ${jsonPerEvent.toFixed(0)} bytes/event as JSON on average; ${mix}. Figures: ${counted ? 'instructions per event under callgrind (JIT compilation excluded, counted beside)' : 'CPU time per event (user + system, all threads)'}, median of ${options.runs} run(s); ratios from the medians of this run, as other / row (above 1 = the row costs less).`,
  ];
  const warnings: string[] = [];
  const all = [...summaries.values()];
  for (const { compression, title } of TRANSPORTS) {
    const group = all.filter((s) => s.row.compression === compression);
    const redisGroup = redisRows.filter((r) => r.row.compression === compression);
    if (group.length === 0 && redisGroup.length === 0) continue;
    const reference = (role: ThroughputRow['role'], shards: number): Summary | undefined =>
      group.find((s) => s.row.role === role && s.shards === shards);
    lines.push('', `### ${title}`, '');
    lines.push(
      counted
        ? '| client | shards | instructions/event | JIT compilation/event | all instructions/event | x bare floor | x @discordjs/ws | path |'
        : '| client | shards | CPU us/event | events/s | x bare floor | x @discordjs/ws | peak RSS MiB | peak heap MiB | wire B/event | path |',
      counted
        ? '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
        : '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const s of group) {
      const ratio = (other: Summary | undefined): string =>
        other ? `${(other.cost / s.cost).toFixed(2)}x` : '-';
      const floor = reference('floor', s.shards);
      const djs = reference('djs', s.shards);
      if (floor !== undefined && deliversLikeTheFloor(s.row) && floor.cost > s.cost) {
        warnings.push(
          `WARNING: the bare floor ${floor.row.id} (${format(counted, floor.cost)} ${unit}) costs more than ${s.row.id} (${format(counted, s.cost)}): a floor the library beats measures nothing.`,
        );
      }
      const wireNote =
        compression !== 'none' && s.wirePerEvent > 0.6 * jsonPerEvent
          ? ' **(compression NOT in effect)**'
          : '';
      lines.push(
        counted
          ? `| ${s.row.label} | ${s.shards} | ${count(s.cost)} | ${count(s.compilePerEvent)} | ${count(s.totalPerEvent)} | ${ratio(floor)} | ${ratio(djs)} | ${s.path} |`
          : `| ${s.row.label} | ${s.shards} | ${s.cost.toFixed(2)} | ${count(s.eventsPerSecond)} | ${ratio(floor)} | ${ratio(djs)} | ${mib(s.peakRss)} | ${mib(s.peakHeap)} | ${s.wirePerEvent.toFixed(0)}${wireNote} | ${s.path} |`,
      );
    }
    lines.push(
      '',
      `Per-run ${unit}: ${group.map((s) => `${s.row.id} [${s.samples.map((v) => format(counted, v)).join(', ')}]`).join('; ')}.`,
    );
    if (redisGroup.length > 0) lines.push('', ...redisReport(redisGroup, group));
  }
  for (const warning of warnings) log(warning);
  if (warnings.length > 0) lines.push('', ...warnings.map((w) => `**${w}**`));
  const verdicts: string[] = [];
  for (const target of TARGETS) {
    const row = summaries.get(target.row);
    const against = summaries.get(target.against);
    if (row === undefined || against === undefined) continue;
    const ratio = against.cost / row.cost;
    verdicts.push(
      `- ${target.label}: **${ratio.toFixed(2)}x** (target >= ${target.min.toFixed(2)}x) ${ratio >= target.min ? 'holds' : 'MISSED'}`,
    );
  }
  if (verdicts.length > 0) lines.push('', '### Targets', '', ...verdicts);
  return lines;
}

/**
 * The Redis rows of one transport, next to the in-process Cluster row (`library`, kind
 * `cluster`) of the same shard count from the same run.
 */
function redisReport(
  redisRows: readonly { row: ThroughputRow; state: RedisRowState }[],
  group: readonly Summary[],
): string[] {
  const lines = [
    'Gateway process -> redis-server -> consumer process (same run, same stream): events/s from the first publish to the last delivery; CPU per event of each process from `/proc/<pid>/stat` (user + system, all threads, 10 ms ticks) over the window.',
    '',
    '| client | shards | events/s end to end | gateway CPU us/event | consumer CPU us/event | redis-server CPU us/event | all three us/event | in-process Cluster us/event | gateway / in-process | delivered |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const perRun: string[] = [];
  for (const { row: r, state } of redisRows) {
    const shards = r.shards ?? 1;
    if (state.kind !== 'runs' || state.runs.length === 0) {
      const reason = state.kind === 'runs' ? 'no run' : state.reason;
      lines.push(`| ${r.label} | ${shards} | ${reason} | | | | | | | |`);
      continue;
    }
    const runs = state.runs;
    const perEvent = (pick: (m: RedisMeasured) => number): number =>
      median(runs.map((m) => (pick(m) * 1000) / m.sent));
    const gatewayUs = perEvent((m) => m.gatewayCpuMs);
    const consumerUs = perEvent((m) => m.consumerCpuMs);
    const redisUs = perEvent((m) => m.redisCpuMs);
    const allUs = perEvent((m) => m.gatewayCpuMs + m.consumerCpuMs + m.redisCpuMs);
    const inProcess = group.find(
      (s) => s.row.kind === 'cluster' && s.row.role === 'library' && s.shards === shards,
    );
    const lost = runs.reduce((n, m) => n + m.sent + m.shards - m.delivered, 0);
    const sent = runs.reduce((n, m) => n + m.sent, 0);
    lines.push(
      `| ${r.label} | ${shards} | ${count(median(runs.map((m) => m.sent / (m.endToEndMs / 1000))))} | ${gatewayUs.toFixed(2)} | ${consumerUs.toFixed(2)} | ${redisUs.toFixed(2)} | ${allUs.toFixed(2)} | ${inProcess ? `${inProcess.cost.toFixed(2)} (${inProcess.row.id})` : '-'} | ${inProcess ? `${(gatewayUs / inProcess.cost).toFixed(2)}x` : '-'} | ${lost === 0 ? 'all' : `**${lost} of ${sent} lost**`} |`,
    );
    perRun.push(
      `${r.id} [${runs.map((m) => `${Math.round(m.sent / (m.endToEndMs / 1000))} ev/s; ${[m.gatewayCpuMs, m.consumerCpuMs, m.redisCpuMs].map((ms) => ((ms * 1000) / m.sent).toFixed(2)).join(' / ')} us`).join(', ')}]`,
    );
  }
  if (perRun.length > 0) {
    lines.push(
      '',
      `Per-run (events/s; gateway / consumer / redis-server us/event): ${perRun.join('; ')}.`,
    );
  }
  return lines;
}

function format(counted: boolean, value: number): string {
  return counted ? count(value) : value.toFixed(2);
}
