import type { Clock } from '../clock/clock.js';
import type { GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import type { SessionStore } from '../session/session.js';
import type { EventSink } from './event-sink.js';

/** Collaborators of a `Cluster`; each has a default. */
export interface ClusterDeps {
  /** Shared by every shard, the identify queue and timeouts. Default `systemClock`. */
  readonly clock?: Clock;
  /** Default `consoleLogger('warn')`. */
  readonly logger?: GatewayLogger;
  /**
   * Paces IDENTIFY for every shard. Default: an `InMemoryIdentifyQueue` built in `up()`
   * from `maxConcurrency`, `identifyWindowMs`, `onBudgetExhausted` and the budget of
   * GET /gateway/bot. An injected queue owns pacing and the budget: the cluster then asks
   * GET /gateway/bot only for the `'recommended'` scheme.
   */
  readonly queue?: IdentifyQueue;
  /** Where sessions survive a restart. Default `MemorySessionStore`. */
  readonly sessionStore?: SessionStore;
  /** Randomness for the shards' jitter. Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Hands every event on to other processes (see `EventSink`); the stored sessions then hold
   * the position the sink confirmed. Default none.
   */
  readonly eventSink?: EventSink;
}
