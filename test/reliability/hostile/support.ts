import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import type { FakeGatewayOptions } from '../../../lib/testing/types.js';

/** The library's core entry point, loaded from the checkout under test. */
export type Core = typeof import('../../../lib/gateway/index.js');
export type Nest = typeof import('../../../lib/nest/index.js');
type ShardLike = InstanceType<Core['Shard']>;
type ClusterLike = InstanceType<Core['Cluster']>;

/**
 * Where the library under test lives. `CATALOGUE_LIB` points at the `lib` folder of another
 * checkout (an older commit, to see what it did with each input); the hostile servers, the
 * FakeGateway included, always come from this one. An older checkout does not know the options
 * added since, so {@link newer} leaves them out there.
 */
const libRoot =
  process.env.CATALOGUE_LIB !== undefined
    ? resolve(process.env.CATALOGUE_LIB)
    : fileURLToPath(new URL('../../../lib', import.meta.url));
export const otherCheckout = process.env.CATALOGUE_LIB !== undefined;

export function loadCore(): Promise<Core> {
  return otherCheckout
    ? (import(pathToFileURL(join(libRoot, 'gateway/index.ts')).href) as Promise<Core>)
    : import('../../../lib/gateway/index.js');
}

export function loadNest(): Promise<Nest> {
  return otherCheckout
    ? (import(pathToFileURL(join(libRoot, 'nest/index.ts')).href) as Promise<Nest>)
    : import('../../../lib/nest/index.js');
}

/** `options` here; `{}` when running against a checkout older than them. */
export function newer<T extends object>(options: T): T | Record<string, never> {
  return otherCheckout ? {} : options;
}

/*
 * Time scaling. Reconnect rates are stated in real minutes of the library's defaults
 * (reconnect.baseDelayMs 1 s, maxDelayMs 60 s, stableAfterMs 60 s); the catalogue runs them 100
 * times faster (10 ms, 600 ms, 600 ms), so one minute of a bot is SCALED_MINUTE_MS here. Only
 * the handshake on loopback (a few ms) is not scaled: it adds to every gap between two
 * connections, which can only lower the measured rate by a few percent.
 */
export const TIME_SCALE = 100;
export const SCALED_MINUTE_MS = 60_000 / TIME_SCALE;
export const scaledReconnect = {
  baseDelayMs: 1_000 / TIME_SCALE,
  maxDelayMs: 60_000 / TIME_SCALE,
  ...newer({ stableAfterMs: 60_000 / TIME_SCALE }),
};

/** The token every case uses; any text that contains it leaked it. */
export const TOKEN = FakeGateway.defaultToken;

/** Log lines by level, errors kept. */
export interface CapturedLogger extends GatewayLogger {
  readonly lines: { level: string; message: string; error?: unknown }[];
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  return {
    lines,
    debug: (message) => lines.push({ level: 'debug', message }),
    log: (message) => lines.push({ level: 'log', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message, error) => lines.push({ level: 'error', message, error }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 5 ms; false after `timeoutMs` (the case decides what that means). */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) return false;
    await sleep(5);
  }
  return true;
}

/** How long close()/down() may take before the shard counts as stuck, ms. */
export const CLOSE_DEADLINE_MS = 5_000;

/** A hostile REST API: answers every request with `answer`, recording each one. */
export interface HostileRest {
  readonly apiUrl: string;
  readonly requests: { at: number; url: string; authorization: string }[];
  stop(): Promise<void>;
}

export async function hostileRest(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HostileRest> {
  const requests: HostileRest['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({
      at: performance.now(),
      url: req.url ?? '',
      authorization: req.headers.authorization ?? '',
    });
    answer(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/v10`,
    requests,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** What a case saw; printed by the child as one JSON line. */
export interface Observation {
  id: string;
  /** Every check that failed, in words; empty when the library did what the case promises. */
  failures: string[];
  /** Facts measured along the way (counts, rates, error names). */
  facts: Record<string, string | number | boolean | null>;
  /** Shards or clusters whose close()/down() did not resolve within {@link CLOSE_DEADLINE_MS}. */
  stuck: string[];
  /** States of the shards just before they were closed. */
  states: string[];
  ms: number;
}

/**
 * What one case gets: the library, somewhere to record checks and facts, and registries of
 * what must be closed when the case ends (gateways, servers, shards and clusters; a shard
 * whose close() does not resolve is reported as stuck).
 */
export class CaseContext {
  readonly failures: string[] = [];
  readonly facts: Record<string, string | number | boolean | null> = {};
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly runners: { name: string; state(): string; close(): Promise<unknown> }[] = [];

  constructor(readonly core: Core) {}

  check(condition: boolean, what: string): void {
    if (!condition) this.failures.push(what);
  }

  fact(name: string, value: string | number | boolean | null): void {
    this.facts[name] = value;
  }

  onEnd(close: () => Promise<void>): void {
    this.closers.push(close);
  }

  /** A FakeGateway (short heartbeat, no identify window) stopped when the case ends. */
  async gateway(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
    const gw = await FakeGateway.start({
      heartbeatIntervalMs: 1_000,
      identifyWindowMs: 0,
      ...options,
    });
    this.onEnd(() => gw.stop());
    return gw;
  }

  async rest(answer: Parameters<typeof hostileRest>[0]): Promise<HostileRest> {
    const server = await hostileRest(answer);
    this.onEnd(() => server.stop());
    return server;
  }

  /** A Shard on `gw` (JSON, no compression, instant identify queue), with its events and logs. */
  shard(
    gw: FakeGateway | { url: string },
    options: Record<string, unknown> = {},
    deps: Record<string, unknown> = {},
  ): { shard: ShardLike; events: GatewayEvent[]; logs: CapturedLogger } {
    const logs = captureLogger();
    const shard = new this.core.Shard(
      {
        token: TOKEN,
        intents: ['Guilds', 'GuildMessages'],
        gatewayUrl: gw.url,
        compression: 'none',
        ...options,
      } as never,
      { queue: { enqueue: async () => {} }, logger: logs, ...deps } as never,
    );
    const events: GatewayEvent[] = [];
    shard.addListener((event) => events.push(event));
    this.track(`shard ${this.runners.length}`, shard);
    return { shard, events, logs };
  }

  track(name: string, runner: ShardLike | ClusterLike): void {
    const isShard = 'state' in runner;
    this.runners.push({
      name,
      state: () =>
        isShard
          ? (runner as ShardLike).state
          : (runner as ClusterLike)
              .info()
              .map((i) => i.state)
              .join(','),
      close: () => (isShard ? (runner as ShardLike).close() : (runner as ClusterLike).down()),
    });
  }

  /** Closes every shard and cluster (noting the stuck ones), then every server. */
  async end(): Promise<{ stuck: string[]; states: string[] }> {
    const stuck: string[] = [];
    const states: string[] = [];
    for (const runner of this.runners) {
      try {
        states.push(runner.state());
      } catch (error) {
        states.push(`state threw: ${String(error)}`);
      }
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        runner.close().then(
          () => 'closed',
          () => 'closed',
        ),
        new Promise<string>((done) => {
          timer = setTimeout(() => done('stuck'), CLOSE_DEADLINE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'stuck') stuck.push(runner.name);
    }
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch {
        // A server that cannot stop cleanly does not change what the library did.
      }
    }
    return { stuck, states };
  }
}

/** Events of `type` among `events`. */
export function ofType(events: readonly GatewayEvent[], type: string): GatewayEvent[] {
  return events.filter((e) => e.type === type);
}

/** The class names of the errors SHARD_ERROR reported. */
export function shardErrors(events: readonly GatewayEvent[]): string[] {
  return ofType(events, 'SHARD_ERROR').map(
    (e) => ((e.data as { error?: unknown }).error as Error | undefined)?.name ?? 'unknown',
  );
}

/** Whether `token` shows in any captured log line or logged error (message, stack, inspect). */
export function tokenInLogs(logs: CapturedLogger, token = TOKEN): boolean {
  return logs.lines.some(
    (l) =>
      l.message.includes(token) ||
      (l.error !== undefined && safeInspect(l.error).includes(token)) ||
      (l.error instanceof Error && (l.error.stack ?? '').includes(token)),
  );
}

export function safeInspect(value: unknown): string {
  try {
    return inspect(value, { depth: 6, showHidden: true });
  } catch (error) {
    return `inspect threw: ${String(error)}`;
  }
}

/**
 * Connections per (scaled) minute: the largest number that opened within any one minute, and
 * the average rate from the `ramp`-th connection on (once every wait is at the backoff's cap).
 */
export function connectionRates(
  openedAt: readonly number[],
  ramp: number,
): {
  maxInAnyMinute: number;
  steadyPerMinute: number;
} {
  const times = [...openedAt].sort((a, b) => a - b);
  let maxInAnyMinute = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= SCALED_MINUTE_MS) j++;
    maxInAnyMinute = Math.max(maxInAnyMinute, i - j + 1);
  }
  const steady = times.slice(ramp - 1);
  const span = steady.length < 2 ? 0 : steady[steady.length - 1]! - steady[0]!;
  const steadyPerMinute = span === 0 ? 0 : ((steady.length - 1) / span) * SCALED_MINUTE_MS;
  return { maxInAnyMinute, steadyPerMinute: Math.round(steadyPerMinute * 100) / 100 };
}
