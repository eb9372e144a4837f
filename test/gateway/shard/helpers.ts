import type { Clock } from '../../../lib/gateway/clock/clock.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';
import type { IdentifyQueue } from '../../../lib/gateway/queue/identify-queue.js';
import { Shard, type ShardDeps } from '../../../lib/gateway/shard/shard.js';
import type { ShardOptions } from '../../../lib/gateway/config/index.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import type { FakeGatewayOptions } from '../../../lib/testing/types.js';

/** A queue that grants at once: tests of one shard do not need identify pacing. */
export const instantQueue: IdentifyQueue = { enqueue: async () => {} };

/** Log lines by level, for assertions (and for the token-leak test). */
export interface CapturedLogs extends GatewayLogger {
  readonly lines: { level: string; message: string; error?: unknown }[];
  text(): string;
}

export function captureLogger(): CapturedLogs {
  const lines: CapturedLogs['lines'] = [];
  return {
    lines,
    debug: (message) => lines.push({ level: 'debug', message }),
    log: (message) => lines.push({ level: 'log', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message, error) => lines.push({ level: 'error', message, error }),
    text: () => lines.map((l) => `${l.level} ${l.message}`).join('\n'),
  };
}

export interface Harness {
  gw: FakeGateway;
  shard: Shard;
  events: GatewayEvent[];
  logs: CapturedLogs;
  /** `d` of every delivered dispatch of type `t`. */
  data(t: string): any[];
  types(): string[];
  close(): Promise<void>;
}

/**
 * A FakeGateway and one Shard connected to it (not started). Defaults: JSON, no compression,
 * intents GUILDS|GUILD_MESSAGES, instant identify queue, captured logs.
 */
export async function harness(
  gwOptions: FakeGatewayOptions = {},
  shardOptions: Partial<ShardOptions> = {},
  deps: ShardDeps = {},
): Promise<Harness> {
  const gw = await FakeGateway.start({
    heartbeatIntervalMs: 1_000,
    identifyWindowMs: 0,
    ...gwOptions,
  });
  const logs = captureLogger();
  const shard = new Shard(
    {
      token: FakeGateway.defaultToken,
      intents: ['Guilds', 'GuildMessages'],
      gatewayUrl: gw.url,
      compression: 'none',
      ...shardOptions,
    },
    { queue: instantQueue, logger: logs, clock: gwOptions.clock as Clock | undefined, ...deps },
  );
  const events: GatewayEvent[] = [];
  shard.addListener((event) => events.push(event));
  return {
    gw,
    shard,
    events,
    logs,
    data: (t) => events.filter((e) => e.type === t).map((e) => e.data),
    types: () => events.map((e) => e.type),
    close: async () => {
      await shard.close();
      await gw.stop();
    },
  };
}

/** Polls `condition` in real time (every 2 ms) until it holds; throws after `timeoutMs`. */
export async function until(
  condition: () => boolean,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`until: ${what} still false after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function count(events: readonly GatewayEvent[], type: string): number {
  let n = 0;
  for (const e of events) if (e.type === type) n++;
  return n;
}
