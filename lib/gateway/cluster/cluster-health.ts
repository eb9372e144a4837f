import type { Clock } from '../clock/clock.js';
import { reportForOtherProcesses, type ProcessHealthReport } from '../health/across-processes.js';
import {
  DEFAULT_START_GRACE_MS,
  judgeHealth,
  type ClusterHealthOptions,
  type GatewayHealthVerdict,
  type ShardHealthReport,
} from '../health/health-verdict.js';
import type { IdentifyQueue } from '../queue/identify-queue.js';
import type { IdentifyQueueInsight } from '../queue/in-memory-queue.js';
import type { Shard } from '../shard/shard.js';

/** What the health verdict reads from its cluster, at the moment it is asked. */
export interface ClusterHealthView {
  readonly shards: Iterable<Shard>;
  /** Whether `up()` runs and not every shard has been Active yet. */
  readonly starting: boolean;
  readonly insight: IdentifyQueueInsight | null;
}

/**
 * A cluster's health verdict (`Cluster.health()`, see `judgeHealth`) and what it needs beyond
 * each shard's own info: when the start-up is expected to be over (the identify queue's ETA,
 * re-estimated at every step of the start), and which shards wait in the identify queue.
 */
export class ClusterHealthWatch {
  /** Clock reading by which the last estimate expected every shard granted; `null` before one. */
  private expectedStartEnd: number | null = null;
  private readonly queued = new Set<number>();

  constructor(
    private readonly clock: Clock,
    private readonly view: () => ClusterHealthView,
  ) {}

  /**
   * The start-up moved on (shards created, a grant, a shard Active): its expected end is now
   * plus the queue's ETA, never earlier than a previous estimate.
   */
  noteStartProgress(insight: IdentifyQueueInsight | null): void {
    const end = this.clock.now() + (insight?.eta() ?? 0);
    if (this.expectedStartEnd === null || end > this.expectedStartEnd) this.expectedStartEnd = end;
  }

  /** `queue`, keeping track of the shards that wait in it for a grant. */
  watching(queue: IdentifyQueue): IdentifyQueue {
    return {
      enqueue: (shardId, signal) => {
        this.queued.add(shardId);
        return queue.enqueue(shardId, signal).finally(() => this.queued.delete(shardId));
      },
    };
  }

  /** See `Cluster.health`. */
  verdict(options: ClusterHealthOptions): GatewayHealthVerdict {
    const view = this.view();
    return judgeHealth(this.reports(view, options), {
      ...options,
      now: this.clock.now(),
      starting: view.starting,
    });
  }

  /** See `Cluster.processHealthReport`. */
  processReport(process: string, options: ClusterHealthOptions): ProcessHealthReport {
    return reportForOtherProcesses(process, this.reports(this.view(), options), this.clock.now());
  }

  /**
   * One report per shard (times on the cluster's clock): while the cluster is starting, a
   * shard not yet Active counts as starting until the expected end plus `startGraceMs`; a
   * shard waiting its turn in the queue carries its ETA, unless the queue waits for the daily
   * budget to reset (hours: that shard is judged by the threshold alone).
   */
  private reports(view: ClusterHealthView, options: ClusterHealthOptions): ShardHealthReport[] {
    const grace = options.startGraceMs ?? DEFAULT_START_GRACE_MS;
    const startingUntil = view.starting
      ? (this.expectedStartEnd ?? this.clock.now()) + grace
      : null;
    const insight = view.insight;
    const paced = insight !== null && insight.waitingForBudgetResetAt === null;
    const reports: ShardHealthReport[] = [];
    for (const shard of view.shards) {
      const info = shard.info();
      reports.push({
        shardId: info.id,
        state: info.state,
        inactiveSince: info.inactiveSince,
        closeCode: info.lastClose?.code ?? null,
        startingUntil,
        identifyEtaMs: paced && this.queued.has(info.id) ? insight.eta(info.id) : null,
      });
    }
    return reports;
  }
}
