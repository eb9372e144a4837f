import type { DisconnectCause } from '../../../lib/gateway/shard/disconnect-cause.js';
import type WebSocket from 'ws';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { normalizeShardOptions, type ShardOptions } from '../../../lib/gateway/config/index.js';
import type { GatewayError } from '../../../lib/gateway/errors/errors.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import type { IdentifyQueue } from '../../../lib/gateway/queue/identify-queue.js';
import type { CloseAction } from '../../../lib/gateway/shard/close-codes.js';
import { Connection } from '../../../lib/gateway/shard/connection.js';
import { EventDelivery } from '../../../lib/gateway/shard/delivery.js';
import { DispatchFilter } from '../../../lib/gateway/shard/dispatch-filter.js';
import { GuildReadiness } from '../../../lib/gateway/shard/guild-readiness.js';
import { Handshake } from '../../../lib/gateway/shard/handshake.js';
import { Latency } from '../../../lib/gateway/shard/latency.js';
import { ResumeUrlPolicy } from '../../../lib/gateway/shard/resume-url.js';
import type { ShardContext, ShardLink } from '../../../lib/gateway/shard/shard-context.js';
import type { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { newShardCounters } from '../../../lib/gateway/shard/stats.js';
import { captureLogger } from './helpers.js';

export const TOKEN = 'MTIz.abc-def.ghi_jkl';
export const PREFIX = 'Shard 1/4:';

/** One request of a part to its shard, as the fake link saw it. */
export type LinkCall =
  | {
      kind: 'restart';
      closeCode: number | null;
      reason: string;
      action: CloseAction;
      cause: DisconnectCause;
      minDelayMs: number;
    }
  | { kind: 'badFrame'; error: GatewayError; action: CloseAction }
  | { kind: 'stopFatally'; error: GatewayError; code: number; cause: DisconnectCause }
  | { kind: 'state'; state: ShardState }
  | { kind: 'timeout'; phase: string; timeoutMs: number }
  | { kind: 'becomeActive' }
  | { kind: 'afterActive' };

/**
 * A shard's context without a shard or a socket: a link that records every request (and
 * ends the connection where the shard would), a manual clock, captured logs and events.
 */
export function partsContext(options: Partial<ShardOptions> = {}, random = () => 0.5) {
  const config = normalizeShardOptions({
    token: TOKEN,
    intents: ['Guilds', 'GuildMessages'],
    shardId: 1,
    shardCount: 4,
    ...options,
  });
  const clock = new ManualClock();
  const logs = captureLogger();
  const counters = newShardCounters();
  const delivery = new EventDelivery(config.shardId, logs, PREFIX, counters);
  const events: GatewayEvent[] = [];
  delivery.addListener((event) => {
    events.push(event);
  });
  const calls: LinkCall[] = [];
  const link: ShardLink = {
    restart: (conn, closeCode, reason, action, cause, minDelayMs = 0) => {
      calls.push({ kind: 'restart', closeCode, reason, action, cause, minDelayMs });
      conn.end();
    },
    badFrame: (conn, error, action = 'resume') => {
      calls.push({ kind: 'badFrame', error, action });
      conn.end();
    },
    stopFatally: (error, code, cause) => calls.push({ kind: 'stopFatally', error, code, cause }),
    setState: (state) => calls.push({ kind: 'state', state }),
    timeout: (_conn, phase, timeoutMs) => calls.push({ kind: 'timeout', phase, timeoutMs }),
    becomeActive: () => calls.push({ kind: 'becomeActive' }),
    afterActive: () => calls.push({ kind: 'afterActive' }),
    // The parts run alone here: an error must fail the test, not be turned into a restart.
    guard: (_conn, _what, run) => run(),
  };
  const ctx: ShardContext = {
    shardId: config.shardId,
    shardCount: config.shardCount,
    config,
    clock,
    random,
    logger: logs,
    prefix: PREFIX,
    etf: null,
    counters,
    delivery,
    link,
  };
  return { config, clock, logs, counters, events, calls, ctx };
}

/** A Handshake on {@link partsContext}; `queue` defaults to one that grants at once. */
export function handshakeParts(
  options: Partial<ShardOptions> = {},
  queue: IdentifyQueue = { enqueue: async () => {} },
  random = () => 0.5,
) {
  const parts = partsContext(options, random);
  const { ctx, config, logs } = parts;
  const urls = new ResumeUrlPolicy(config, logs, PREFIX);
  const filter = new DispatchFilter(config.eventTypes);
  const guilds = new GuildReadiness(ctx);
  const handshake = new Handshake(ctx, queue, new Latency(), urls, filter, guilds);
  if (config.session) handshake.restore(config.session);
  return { ...parts, urls, filter, guilds, handshake };
}

/**
 * A connection whose socket is a stand-in that keeps every frame written to it (parsed from
 * JSON): the handshake writes through `Connection.send`, which needs an open socket.
 */
export function fakeConnection(
  clock: ManualClock,
  resuming: boolean,
  viaResumeUrl = false,
): { conn: Connection; sent: { op: number; d: any }[] } {
  const conn = new Connection(clock, 1, 'wss://gateway.test/?v=10', resuming, viaResumeUrl);
  const sent: { op: number; d: any }[] = [];
  conn.socket = {
    readyState: 1,
    send: (frame: string) => sent.push(JSON.parse(frame)),
  } as unknown as WebSocket;
  return { conn, sent };
}
