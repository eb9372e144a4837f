import type { Clock } from '../clock/clock.js';
import type { GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import type { LatencySnapshot } from './latency.js';
import type { ShardState } from './shard-state.js';

/** Collaborators of a {@link Shard}; each has a default. */
export interface ShardDeps {
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** Paces IDENTIFY; default: an in-memory queue with max_concurrency 1 on `clock`. */
  readonly queue?: IdentifyQueue;
  /** Default `consoleLogger('warn')`. */
  readonly logger?: GatewayLogger;
  /** Uniform in [0, 1): heartbeat, backoff and op 9 jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** A snapshot of one shard for health checks and `Cluster.info()`. */
export interface ShardInfo {
  readonly id: number;
  readonly total: number;
  readonly state: ShardState;
  readonly latency: LatencySnapshot;
  readonly sessionId: string | null;
  readonly sequence: number | null;
  /** Reconnects scheduled since the shard was created. */
  readonly reconnects: number;
  /** The last connection's end: close code (`null`: no close frame) and reason. */
  readonly lastClose: { readonly code: number | null; readonly reason: string } | null;
  /** Clock reading (ms) when the current connection became Active; `null` when not Active. */
  readonly activeSince: number | null;
  /**
   * Clock reading (ms) since which the shard has not been Active: when it dropped, or when it
   * was created or (re)started until its first READY or RESUMED; `null` while Active.
   */
  readonly inactiveSince: number | null;
}
