import type { DisconnectCause } from './disconnect-cause.js';
import type { Clock } from '../clock/clock.js';
import type { PayloadEncoding } from '../codec/index.js';
import type { ShardConfig } from '../config/index.js';
import type { GatewayError } from '../errors/errors.js';
import type { GatewayLogger } from '../logger.js';
import type { CloseAction } from './close-codes.js';
import type { Connection } from './connection.js';
import type { EventDelivery } from './delivery.js';
import type { ShardObserver } from './shard-observer.js';
import type { ShardState } from './shard-state.js';
import type { ShardCounters } from './stats.js';

/** Close code for deliberate reconnects: never 1000/1001, which end the session (GW-GT-2). */
export const RECONNECT_CLOSE_CODE = 4000;

/**
 * What the parts of a shard (handshake, receive path) ask of the shard that drives the
 * socket: one object per shard, made once.
 */
export interface ShardLink {
  /**
   * Ends `conn` on our initiative (`closeCode` sends a close frame, `null` terminates the
   * socket at once) and reconnects as `action` says, no sooner than `minDelayMs`.
   */
  restart(
    conn: Connection,
    closeCode: number | null,
    reason: string,
    action: CloseAction,
    cause: DisconnectCause,
    minDelayMs?: number,
  ): void;
  /**
   * A frame could not be used: report it (SHARD_ERROR) and reconnect as `action` says
   * (default: resume). An undecodable frame may have been a dispatch; the RESUME makes the
   * gateway replay it, so nothing is lost, and a broken inflate context never decodes the
   * next frame.
   */
  badFrame(conn: Connection, error: GatewayError, action?: CloseAction): void;
  /** Stops the shard for good (state FatallyClosed); `code` is the close code, 0 for none. */
  stopFatally(error: GatewayError, code: number, cause: DisconnectCause): void;
  setState(state: ShardState): void;
  /** A wait of `conn` (`phase`, e.g. 'READY') took longer than `timeoutMs`: reconnect. */
  timeout(conn: Connection, phase: string, timeoutMs: number): void;
  /** READY or RESUMED arrived: the shard is Active (before the event is delivered). */
  becomeActive(): void;
  /** After READY or RESUMED was delivered: resolve connect() and send the queued commands. */
  afterActive(): void;
  /**
   * Runs a callback of `conn` (a timer, a promise continuation) so that nothing throws out of
   * it: an unexpected error is logged and the connection replaced with a RESUME.
   */
  guard(conn: Connection, what: string, run: () => void): void;
}

/** What every part of one shard shares: one object per shard, made by the shard. */
export interface ShardContext {
  readonly shardId: number;
  readonly shardCount: number;
  readonly config: ShardConfig;
  readonly clock: Clock;
  /** Uniform in [0, 1): heartbeat, backoff and op 9 jitter. */
  readonly random: () => number;
  readonly logger: GatewayLogger;
  /** `Shard <id>/<total>:`, the start of every log line of the shard. */
  readonly prefix: string;
  /** The ETF encoding when `encoding: 'etf'`; `null` is JSON. */
  readonly etf: PayloadEncoding | null;
  readonly counters: ShardCounters;
  readonly delivery: EventDelivery;
  readonly link: ShardLink;
  /** Metrics hooks (`Cluster.observe`); absent or `null` without. */
  observer?: ShardObserver | null;
}
