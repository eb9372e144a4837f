import type { GatewayLogger } from '../logger.js';
import type { IdentifyQueueInsight } from '../queue/in-memory-queue.js';
import { ShardState } from '../shard/shard-state.js';

/** Startup progress, reported by `Cluster.onProgress`. */
export interface ClusterProgress {
  /** Shards that are Active. */
  readonly ready: number;
  /** Shards this cluster runs. */
  readonly total: number;
  /** Ms until the identify queue has granted every waiting shard, or `null` when unknown. */
  readonly etaMs: number | null;
  /** Clock reading (ms) of the budget reset the queue waits for, or `null`. */
  readonly waitingForBudgetResetAt: number | null;
}

/**
 * Startup progress of a cluster: how many shards are Active, and when the identify queue
 * expects to have granted the rest (its ETA and any budget reset it waits for). A progress
 * equal to the last one emitted is not emitted again; a throwing listener is logged.
 */
export class ProgressReporter {
  private listeners: ((progress: ClusterProgress) => void)[] = [];
  private last: ClusterProgress | null = null;

  constructor(private readonly logger: GatewayLogger) {}

  /** See `Cluster.onProgress`. Returns the unsubscribe function. */
  addListener(listener: (progress: ClusterProgress) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Emits the progress: the Active ones of `shards` out of `total`, with the ETA (rounded up to
   * whole ms) and budget reset of `insight` (none: both `null`).
   */
  report(
    shards: Iterable<{ readonly state: ShardState }>,
    total: number,
    insight: IdentifyQueueInsight | null,
  ): void {
    if (this.listeners.length === 0) return;
    let ready = 0;
    for (const shard of shards) if (shard.state === ShardState.Active) ready++;
    const eta = insight?.eta() ?? null;
    const progress: ClusterProgress = {
      ready,
      total,
      etaMs: eta === null ? null : Math.ceil(eta),
      waitingForBudgetResetAt: insight?.waitingForBudgetResetAt ?? null,
    };
    const last = this.last;
    if (
      last !== null &&
      last.ready === progress.ready &&
      last.total === progress.total &&
      last.etaMs === progress.etaMs &&
      last.waitingForBudgetResetAt === progress.waitingForBudgetResetAt
    ) {
      return;
    }
    this.last = progress;
    for (const listener of this.listeners) {
      try {
        listener(progress);
      } catch (error) {
        this.logger.error('A cluster progress listener threw', error);
      }
    }
  }
}
