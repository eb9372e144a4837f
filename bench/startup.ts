/**
 * The startup part: time from `up()` to CLUSTER_READY against the floor the identify rules
 * set (max_concurrency buckets, one IDENTIFY per bucket per window).
 *
 * To add a row, add it to {@link STARTUP_ROWS}; a new client setting (another identify
 * queue, say) goes into ClientConfig (common.ts) and the row's `client` field.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisIdentifyQueue } from '../lib/redis/index.js';
import { RedisServer } from '../lib/testing/index.js';
import { median, type ClientConfig } from './common.js';
import { selected, type BenchOptions } from './options.js';
import { ClientProcess, GatewayProcess, clientConfig, log } from './processes.js';

export interface StartupRow {
  /** What `--only` names. */
  readonly id: string;
  readonly label: string;
  readonly shards: number;
  readonly maxConcurrency: number;
  /** The identify window of the gateway and the client, ms (Discord's is 5,000). */
  readonly identifyWindowMs: number;
  /** Further client settings. */
  readonly client?: Partial<ClientConfig>;
  /**
   * Pace with the RedisIdentifyQueue on a local redis-server: `'warm'`, Redis already holds the
   * bot's identify state and budget (a process of the bot ran before); `'empty'`, Redis holds
   * nothing (its first start, or it lost its data), so the queue waits one window + margin
   * before the first IDENTIFY.
   */
  readonly redis?: 'warm' | 'empty';
}

export const STARTUP_ROWS: readonly StartupRow[] = [
  {
    id: 'startup-16',
    label: '16 shards, max_concurrency 4, in-process queue, 1,000 ms window',
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 1_000,
  },
  {
    id: 'startup-16-real',
    label: "16 shards, max_concurrency 4, in-process queue, Discord's 5,000 ms window",
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 5_000,
  },
  {
    id: 'startup-16-redis',
    label: '16 shards, max_concurrency 4, Redis queue, 1,000 ms window',
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 1_000,
    redis: 'warm',
  },
  {
    id: 'startup-16-redis-real',
    label: "16 shards, max_concurrency 4, Redis queue, Discord's 5,000 ms window",
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 5_000,
    redis: 'warm',
  },
  {
    id: 'startup-16-redis-empty',
    label: '16 shards, max_concurrency 4, Redis queue on an empty Redis, 1,000 ms window',
    shards: 16,
    maxConcurrency: 4,
    identifyWindowMs: 1_000,
    redis: 'empty',
  },
];

/**
 * The most a start may take, as a multiple of the floor: the identify margin
 * (DEFAULT_IDENTIFY_MARGIN_MS per window) and the handshakes must stay within 10% of it.
 */
export const STARTUP_TARGET = 1.1;

/**
 * The floor: bucket `id % maxConcurrency` identifies its shards one window apart, so the
 * fullest bucket's last IDENTIFY goes out `ceil(shards / maxConcurrency) - 1` windows after
 * the first. On an empty Redis the first IDENTIFY itself waits one window.
 */
export function startupFloorMs(r: StartupRow): number {
  const windows = Math.ceil(r.shards / r.maxConcurrency) - 1 + (r.redis === 'empty' ? 1 : 0);
  return windows * r.identifyWindowMs;
}

export async function startupPart(options: BenchOptions): Promise<string[]> {
  const rows = STARTUP_ROWS.filter((r) => selected(options, 'startup', r.id));
  if (rows.length === 0) return [];
  const lines = [
    '### Startup: up() to CLUSTER_READY',
    '',
    `| row | floor ms | median ms (of ${options.runs}) | above the floor ms | x floor (target <= ${STARTUP_TARGET}) | runs ms |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ];
  const redisBinary = rows.some((r) => r.redis !== undefined) ? RedisServer.binary() : null;
  const redis = redisBinary === null ? null : await RedisServer.start({ binary: redisBinary });
  const measured = rows.filter((r) => r.redis === undefined || redis !== null);
  const samples = new Map<StartupRow, number[]>(measured.map((r) => [r, []]));
  try {
    // Runs interleaved across rows: the in-process and the Redis rows share the machine's drift.
    for (let run = 0; run < options.runs; run++) {
      for (const r of measured) samples.get(r)?.push(await startupRun(r, redis));
    }
  } finally {
    await redis?.stop();
  }
  for (const r of rows) {
    const floor = startupFloorMs(r);
    const runs = samples.get(r);
    if (runs === undefined) {
      lines.push(`| ${r.label} | ${floor} | not measured: redis-server not found | | | |`);
      continue;
    }
    const ms = median(runs);
    lines.push(
      `| ${r.label} | ${floor} | ${Math.round(ms)} | ${Math.round(ms - floor)} | ${(ms / floor).toFixed(3)}${ms / floor <= STARTUP_TARGET ? '' : ' (missed)'} | ${runs.map((s) => Math.round(s)).join(', ')} |`,
    );
  }
  return lines;
}

/**
 * Redis as the row wants it, for one run under a key prefix of its own: `'empty'` restarts
 * the server (no persistence: every key is gone); `'warm'` lets another process of the bot
 * settle the identify state and read the budget first, and waits out the window that
 * settling opens on a Redis that held nothing.
 */
async function prepareRedis(
  r: StartupRow,
  redis: RedisServer,
  started: { apiUrl: string; token: string },
): Promise<{ port: number; keyPrefix: string }> {
  const keyPrefix = `bench-${randomBytes(4).toString('hex')}`;
  if (r.redis === 'empty') {
    await redis.restart();
    return { port: redis.port, keyPrefix };
  }
  const client = new Redis(redis.port, '127.0.0.1');
  const earlier = new RedisIdentifyQueue({
    redis: client,
    token: started.token,
    keyPrefix,
    apiUrl: started.apiUrl,
    shardCount: r.shards,
    maxConcurrency: r.maxConcurrency,
    windowMs: r.identifyWindowMs,
  });
  try {
    await earlier.checkBudget(r.shards);
    await new Promise((resolve) => setTimeout(resolve, earlier.windowWithMarginMs));
  } finally {
    await earlier.close();
    client.disconnect();
  }
  return { port: redis.port, keyPrefix };
}

async function startupRun(r: StartupRow, redis: RedisServer | null): Promise<number> {
  const { gateway, started } = await GatewayProcess.start({
    shards: r.shards,
    maxConcurrency: r.maxConcurrency,
    identifyWindowMs: r.identifyWindowMs,
    heartbeatIntervalMs: 41_250,
    events: 1,
    warmup: 0,
  });
  try {
    const redisConfig =
      r.redis === undefined || redis === null ? undefined : await prepareRedis(r, redis, started);
    const client = new ClientProcess(
      clientConfig({
        ...r.client,
        redis: redisConfig,
        kind: 'cluster',
        url: started.url,
        apiUrl: started.apiUrl,
        token: started.token,
        shards: r.shards,
        maxConcurrency: r.maxConcurrency,
        identifyWindowMs: r.identifyWindowMs,
        mode: 'startup',
      }),
    );
    try {
      const report = await client.next('ready', 120_000 + 2 * startupFloorMs(r));
      log(`  ${r.id}: ${Math.round(report.readyMs)} ms`);
      return report.readyMs;
    } finally {
      await client.exit();
    }
  } finally {
    await gateway.stop();
  }
}
