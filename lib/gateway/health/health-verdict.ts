import { ShardState } from '../shard/shard-state.js';

/**
 * The health of a bot's gateway, for probes and dashboards:
 *
 * - `up`: every shard is Active;
 * - `starting`: shards are still identifying within the expected start-up time (the identify
 *   queue's ETA plus a grace);
 * - `degraded`: some shards are reconnecting, none for longer than the threshold;
 * - `down`: a shard is fatally closed (4004, 4010-4014), closed, disconnected past the
 *   threshold, or (across processes) held by no live process.
 */
export type GatewayHealthStatus = 'up' | 'starting' | 'degraded' | 'down';

/**
 * One shard's part in the verdict:
 * - `active`: Active;
 * - `starting`: not yet Active, within the expected start-up time;
 * - `reconnecting`: not Active, within the threshold;
 * - `disconnected`: not Active for longer than the threshold;
 * - `fatal`: FatallyClosed (4004, 4010-4014, or an identify the queue refused for good);
 * - `closed`: closed on purpose (shutdown, `close()`);
 * - `missing`: no live gateway process reports it (across processes only).
 */
export type ShardHealthStatus =
  'active' | 'starting' | 'reconnecting' | 'disconnected' | 'fatal' | 'closed' | 'missing';

/**
 * What the verdict needs to know of one shard. The cluster makes these for its own shards
 * (`Cluster.health()`); a gateway process can publish them for the others to judge
 * (see `judgeAcrossProcesses`). Times are readings of one clock, in ms.
 */
export interface ShardHealthReport {
  readonly shardId: number;
  readonly state: ShardState;
  /**
   * Since when the shard has not been Active (its creation, until its first READY or
   * RESUMED); `null` while it is Active.
   */
  readonly inactiveSince: number | null;
  /** The close code of its last connection (`null`: none yet, or no close frame). */
  readonly closeCode: number | null;
  /**
   * Until when a shard not yet Active counts as starting: the expected end of its cluster's
   * start-up (queue ETA plus grace); `null` once the start-up is over.
   */
  readonly startingUntil: number | null;
  /**
   * Ms until the identify queue grants this shard, while it waits in it for its bucket's
   * window; `null` otherwise (and while the queue waits for the daily budget to reset, which
   * may take hours: such a shard is judged by the threshold alone).
   */
  readonly identifyEtaMs: number | null;
}

/** How long a shard may take. */
export interface HealthThresholds {
  /**
   * How long a shard may be without an Active connection before it counts as `disconnected`
   * (and the verdict is `down`), in ms; a shard waiting in the identify queue gets its
   * queue ETA on top. Default 60_000: above the reconnect backoff's first steps, and far
   * above a typical resume (a few hundred ms).
   */
  readonly disconnectedThresholdMs?: number;
}

/** Options of `Cluster.health()`. */
export interface ClusterHealthOptions extends HealthThresholds {
  /**
   * Added to the identify queue's ETA for the expected end of the start-up, in ms: the
   * handshake of the last shards granted (HELLO, IDENTIFY, READY). Default 30_000.
   */
  readonly startGraceMs?: number;
}

/** A shard that is not Active, as the verdict lists it. */
export interface ShardHealthProblem {
  readonly shardId: number;
  readonly status: Exclude<ShardHealthStatus, 'active'>;
  /** The shard's own state; `null` for a `missing` shard. */
  readonly state: ShardState | null;
  /** Ms since the shard was last Active (or created); `null` when unknown (`missing`). */
  readonly inactiveMs: number | null;
  readonly closeCode: number | null;
}

/** The verdict, as plain JSON (what a probe endpoint can return as is). */
export interface GatewayHealthVerdict {
  readonly status: GatewayHealthStatus;
  /**
   * What a readiness probe should answer: `true` for `up`, and for `degraded` while at least
   * one shard is Active (at any time a few of a large bot's shards are reconnecting after an
   * op 7; the bot still serves); `false` while `starting`, when `down`, and when every shard
   * is reconnecting at once (the bot serves nothing, although it may come back by itself).
   */
  readonly ready: boolean;
  /**
   * What a liveness probe should answer: `false` only when a shard has been disconnected past
   * the threshold (a restart may help). `true` while starting (a restart starts over) and
   * after a fatal close (a restart cannot fix a bad token or intents, and every restart
   * spends IDENTIFYs of the daily budget).
   */
  readonly live: boolean;
  /** One line saying why, for logs and probe output. */
  readonly reason: string;
  /** Shards counted by status (`total` is all of them). */
  readonly shards: Readonly<Record<ShardHealthStatus | 'total', number>>;
  /** The shards that are not Active, worst first, then by id; at most {@link MAX_PROBLEMS}. */
  readonly problems: readonly ShardHealthProblem[];
}

/** Problems listed in a verdict at most: a probe's answer stays small at 1,000 shards. */
export const MAX_PROBLEMS = 20;
export const DEFAULT_DISCONNECTED_THRESHOLD_MS = 60_000;
export const DEFAULT_START_GRACE_MS = 30_000;

const SEVERITY: Readonly<Record<ShardHealthStatus, number>> = {
  fatal: 0,
  missing: 1,
  disconnected: 2,
  closed: 3,
  reconnecting: 4,
  starting: 5,
  active: 6,
};

/**
 * Judges the shards of one bot (one process's, or every process's).
 *
 * @param reports one per shard.
 * @param options `now` on the reports' clock; `expectedShardIds`: shards that must be running
 *   (those without a report are `missing`); `starting`: whether a start-up is under way (with
 *   no report at all the verdict is then `starting`, else `down`).
 */
export function judgeHealth(
  reports: readonly ShardHealthReport[],
  options: HealthThresholds & {
    readonly now: number;
    readonly expectedShardIds?: readonly number[];
    readonly starting?: boolean;
  },
): GatewayHealthVerdict {
  const threshold = options.disconnectedThresholdMs ?? DEFAULT_DISCONNECTED_THRESHOLD_MS;
  const now = options.now;
  const counts: Record<ShardHealthStatus | 'total', number> = {
    total: 0,
    active: 0,
    starting: 0,
    reconnecting: 0,
    disconnected: 0,
    fatal: 0,
    closed: 0,
    missing: 0,
  };
  const problems: ShardHealthProblem[] = [];
  const seen = new Set<number>();
  for (const report of reports) {
    seen.add(report.shardId);
    const status = shardStatus(report, now, threshold);
    counts.total++;
    counts[status]++;
    if (status === 'active') continue;
    problems.push({
      shardId: report.shardId,
      status,
      state: report.state,
      inactiveMs: report.inactiveSince === null ? null : Math.max(0, now - report.inactiveSince),
      closeCode: report.closeCode,
    });
  }
  for (const shardId of options.expectedShardIds ?? []) {
    if (seen.has(shardId)) continue;
    counts.total++;
    counts.missing++;
    problems.push({ shardId, status: 'missing', state: null, inactiveMs: null, closeCode: null });
  }
  problems.sort((a, b) => SEVERITY[a.status] - SEVERITY[b.status] || a.shardId - b.shardId);

  const status: GatewayHealthStatus =
    counts.total === 0
      ? options.starting
        ? 'starting'
        : 'down'
      : counts.fatal + counts.missing + counts.disconnected + counts.closed > 0
        ? 'down'
        : counts.reconnecting > 0
          ? 'degraded'
          : counts.starting > 0
            ? 'starting'
            : 'up';
  return {
    status,
    ready: status === 'up' || (status === 'degraded' && counts.active > 0),
    live: counts.disconnected === 0,
    reason: describe(status, counts, problems, threshold),
    shards: counts,
    problems: problems.slice(0, MAX_PROBLEMS),
  };
}

function shardStatus(report: ShardHealthReport, now: number, threshold: number): ShardHealthStatus {
  switch (report.state) {
    case ShardState.Active:
      return 'active';
    case ShardState.FatallyClosed:
      return 'fatal';
    case ShardState.Closed:
      return 'closed';
  }
  if (report.startingUntil !== null && now <= report.startingUntil) return 'starting';
  // A start-up that overran counts from its expected end, like a reconnect from its drop.
  const since = Math.max(report.inactiveSince ?? now, report.startingUntil ?? -Infinity);
  return now - since <= threshold + (report.identifyEtaMs ?? 0) ? 'reconnecting' : 'disconnected';
}

function describe(
  status: GatewayHealthStatus,
  counts: Readonly<Record<ShardHealthStatus | 'total', number>>,
  problems: readonly ShardHealthProblem[],
  threshold: number,
): string {
  const total = counts.total;
  if (total === 0) return status === 'starting' ? 'no shard created yet' : 'no shard running';
  if (status === 'up') return `every shard Active (${total})`;
  const worst = problems[0];
  const parts: string[] = [];
  if (counts.fatal > 0) {
    parts.push(
      `${counts.fatal} fatally closed (shard ${worst.shardId}${worst.closeCode === null ? '' : ` with ${worst.closeCode}`})`,
    );
  }
  if (counts.missing > 0) parts.push(`${counts.missing} held by no live gateway process`);
  if (counts.disconnected > 0) {
    parts.push(`${counts.disconnected} disconnected for more than ${threshold / 1000} s`);
  }
  if (counts.closed > 0) parts.push(`${counts.closed} closed`);
  if (counts.reconnecting > 0) parts.push(`${counts.reconnecting} reconnecting`);
  if (counts.starting > 0) parts.push(`${counts.starting} starting`);
  return `${parts.join(', ')}; ${counts.active} of ${total} Active`;
}
