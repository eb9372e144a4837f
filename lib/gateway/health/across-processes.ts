import {
  judgeHealth,
  type GatewayHealthVerdict,
  type HealthThresholds,
  type ShardHealthReport,
} from './health-verdict.js';

/**
 * What one gateway process says about its shards, for the other processes of the bot to
 * judge: every time is wall-clock ms (`Date.now()`), since each process has its own
 * monotonic clock. Make one with {@link reportForOtherProcesses}.
 */
export interface ProcessHealthReport {
  /** Names the process (host and pid, for example); shown to whoever reads the reports. */
  readonly process: string;
  /** Wall-clock ms when the report was made. */
  readonly reportedAt: number;
  readonly shards: readonly ShardHealthReport[];
}

/**
 * Where the latest report of every gateway process of one bot can be read. The scale-out
 * entry point (Redis) keeps them; any shared store can.
 */
export interface ProcessHealthSource {
  /** The latest report of each process, stale ones included (the judge skips them). */
  reports(): Promise<readonly ProcessHealthReport[]>;
}

/** Options of {@link judgeAcrossProcesses}. */
export interface AcrossProcessesOptions extends HealthThresholds {
  /** The bot's shard count: shards 0 to `shardCount - 1` must each be held by a live process. */
  readonly shardCount: number;
  /**
   * A report older than this (ms) is ignored, its process presumed dead, so its shards count
   * as `missing`. Default 30_000; keep it a few times the processes' report period.
   */
  readonly staleAfterMs?: number;
  /** Wall-clock ms to judge at. Default `Date.now()`. */
  readonly now?: number;
}

export const DEFAULT_STALE_AFTER_MS = 30_000;

/**
 * The verdict for a whole bot run by several gateway processes: every shard of
 * `shardCount` must be held by a process whose report is fresh. A shard reported by two
 * processes (one taking over from the other) is judged by the newer report.
 *
 * @throws (rejects) whatever `source.reports()` rejects with.
 */
export async function judgeAcrossProcesses(
  source: ProcessHealthSource,
  options: AcrossProcessesOptions,
): Promise<GatewayHealthVerdict> {
  const now = options.now ?? Date.now();
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const newest = new Map<number, { at: number; report: ShardHealthReport }>();
  for (const processReport of await source.reports()) {
    if (now - processReport.reportedAt > staleAfterMs) continue;
    for (const shard of processReport.shards) {
      if (shard.shardId < 0 || shard.shardId >= options.shardCount) continue;
      const held = newest.get(shard.shardId);
      if (held === undefined || held.at < processReport.reportedAt) {
        newest.set(shard.shardId, { at: processReport.reportedAt, report: shard });
      }
    }
  }
  const expectedShardIds = Array.from({ length: options.shardCount }, (_, id) => id);
  return judgeHealth(
    [...newest.values()].map(({ report }) => report),
    { ...options, now, expectedShardIds },
  );
}

/**
 * A process's own shard reports (times on its `clock`, as `Cluster.healthReports()` gives
 * them) turned into a {@link ProcessHealthReport} on the wall clock.
 *
 * @param clockNow the same clock's reading now; `wallNow` defaults to `Date.now()`.
 */
export function reportForOtherProcesses(
  process: string,
  shards: readonly ShardHealthReport[],
  clockNow: number,
  wallNow: number = Date.now(),
): ProcessHealthReport {
  const shift = (at: number | null): number | null =>
    at === null ? null : at - clockNow + wallNow;
  return {
    process,
    reportedAt: wallNow,
    shards: shards.map((shard) => ({
      ...shard,
      inactiveSince: shift(shard.inactiveSince),
      startingUntil: shift(shard.startingUntil),
    })),
  };
}
