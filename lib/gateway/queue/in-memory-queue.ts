import { systemClock, type Clock, type TimerHandle } from '../clock/clock.js';
import {
  AbortedError,
  ConfigError,
  IdentifyBudgetError,
  type ConfigIssue,
} from '../errors/errors.js';
import { silentLogger, type GatewayLogger } from '../logger.js';
import type { IdentifyQueue } from './identify-queue.js';
import { joinLine, leaveLine, type IdentifyWaiter } from './waiter.js';

/** The daily session start allowance (`session_start_limit` of GET /gateway/bot, docs/protocol.md section 12). */
export interface IdentifyBudget {
  /** Identifies allowed per period (usually 1000 per 24 h). */
  readonly total: number;
  /** Identifies left in the current period. */
  readonly remaining: number;
  /** Milliseconds until the period resets, from the moment the queue is constructed. */
  readonly resetAfterMs: number;
}

/**
 * Safety margin of identify pacing, ms: two IDENTIFYs of one bucket are granted at least
 * `window + margin` apart. Discord judges the window when each IDENTIFY arrives, and two
 * IDENTIFYs travel on different connections whose transit times differ (jitter, a slower TCP
 * or TLS path, the server reading one later), so grants exactly one window apart can arrive
 * less than a window apart and the later one gets op 9. 250 ms covers such differences on an
 * ordinary path while adding only 5% to a 5 s window (a 16-shard start at max_concurrency 4
 * takes 15.75 s instead of 15 s). Every {@link IdentifyQueue} of this package uses it.
 */
export const DEFAULT_IDENTIFY_MARGIN_MS = 250;

/** What the queue does when the daily budget is spent: reject, or hold shards until the reset. */
export type BudgetExhaustedPolicy = 'fail' | 'wait';

/** Options of {@link InMemoryIdentifyQueue}. */
export interface InMemoryIdentifyQueueOptions {
  /** `max_concurrency` from GET /gateway/bot: the number of buckets. Default 1. */
  readonly maxConcurrency?: number;
  /** Length of one rate-limit window in ms (GW-RL-2). Default 5_000. */
  readonly windowMs?: number;
  /** Safety margin added to the window between two grants of one bucket, ms. Default {@link DEFAULT_IDENTIFY_MARGIN_MS}. */
  readonly identifyMarginMs?: number;
  readonly clock?: Clock;
  /** Daily budget; without it the queue paces only by window and never refuses. */
  readonly budget?: IdentifyBudget;
  /** Default `'fail'`. */
  readonly onBudgetExhausted?: BudgetExhaustedPolicy;
  readonly logger?: GatewayLogger;
  /**
   * Length of a budget period after the first reset, in ms. Default 86_400_000 (24 h, GW-ID-5):
   * Discord's `reset_after` only describes the current period.
   */
  readonly budgetPeriodMs?: number;
  /** Called when the queue starts waiting for a budget reset (policy `'wait'`); `resetAt` is a clock reading in ms. */
  readonly onBudgetWait?: (resetAt: number) => void;
}

/**
 * What a cluster can learn from a queue beyond {@link IdentifyQueue}: progress, ETA and the
 * budget check that lets `up()` refuse before any IDENTIFY. A custom queue may implement it.
 */
export interface IdentifyQueueInsight {
  /** Shards waiting for a grant. */
  readonly pendingCount: number;
  /**
   * Ms until `shardId` would be granted (0 = now): its place in its bucket if it waits, else the
   * place it would take if it enqueued now. Without `shardId`: ms until every waiting shard is
   * granted. Includes a wait for the budget reset when the budget cannot cover the shards ahead.
   */
  eta(shardId?: number): number;
  /**
   * Checks that `needed` IDENTIFYs fit in the remaining budget. Returns `null` when they fit,
   * else the clock reading (ms) at which the budget resets and the queue will continue
   * (policy `'wait'`). Throws {@link IdentifyBudgetError} when they do not fit and the policy
   * is `'fail'`. A queue whose budget lives elsewhere (Redis) answers with a promise of the
   * same.
   */
  checkBudget(needed: number): number | null | Promise<number | null>;
  /** Clock reading (ms) of the budget reset the queue is waiting for, or `null` when not waiting. */
  readonly waitingForBudgetResetAt: number | null;
  /**
   * Session starts (IDENTIFYs) left in the daily budget as the queue last knew them, or `null`
   * when it keeps no budget. Optional: read by metrics when present.
   */
  readonly remaining?: number | null;
}

interface Bucket {
  /** Earliest clock reading at which the next grant may happen; -Infinity before the first grant. */
  nextAt: number;
  readonly waiters: IdentifyWaiter[];
  timer: TimerHandle | undefined;
}

const DAY_MS = 86_400_000;

/**
 * The default {@link IdentifyQueue} (GW-RL-2, GW-SH-4, GW-GT-13, GW-ID-5): one IDENTIFY per
 * bucket (`shard_id % maxConcurrency`) per `windowMs`, buckets in parallel, FIFO within a
 * bucket. A grant at `t` (monotonic clock) makes the next grant of that bucket due at
 * `t + windowMs + identifyMarginMs`. An aborted waiter leaves its bucket without using a slot.
 *
 * With a `budget`, no grant goes beyond `remaining`: policy `'fail'` rejects the waiter with
 * {@link IdentifyBudgetError}; `'wait'` logs the reset time, holds every waiter until the
 * reset, then refills to `total`.
 */
export class InMemoryIdentifyQueue implements IdentifyQueue, IdentifyQueueInsight {
  readonly maxConcurrency: number;
  readonly windowMs: number;
  readonly identifyMarginMs: number;
  private readonly clock: Clock;
  private readonly logger: GatewayLogger;
  private readonly policy: BudgetExhaustedPolicy;
  private readonly budgetPeriodMs: number;
  private readonly buckets = new Map<number, Bucket>();
  private budget: { total: number; remaining: number; resetAt: number } | null;
  private resetTimer: TimerHandle | undefined;
  private readonly onBudgetWait: ((resetAt: number) => void) | undefined;

  /**
   * @throws ConfigError when `maxConcurrency` is not a positive integer, `windowMs` or
   * `identifyMarginMs` < 0, or `budgetPeriodMs` <= 0.
   */
  constructor(options: InMemoryIdentifyQueueOptions = {}) {
    const {
      maxConcurrency = 1,
      windowMs = 5_000,
      identifyMarginMs = DEFAULT_IDENTIFY_MARGIN_MS,
      budget,
    } = options;
    const issues: ConfigIssue[] = [];
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1) {
      issues.push({ path: 'maxConcurrency', rule: 'must be a positive integer' });
    }
    if (!(windowMs >= 0)) issues.push({ path: 'windowMs', rule: 'must be a number >= 0' });
    if (!(identifyMarginMs >= 0))
      issues.push({ path: 'identifyMarginMs', rule: 'must be a number >= 0' });
    if (!((options.budgetPeriodMs ?? DAY_MS) > 0)) {
      issues.push({ path: 'budgetPeriodMs', rule: 'must be a number > 0' });
    }
    if (issues.length > 0) throw new ConfigError(issues);
    this.maxConcurrency = maxConcurrency;
    this.windowMs = windowMs;
    this.identifyMarginMs = identifyMarginMs;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.policy = options.onBudgetExhausted ?? 'fail';
    this.budgetPeriodMs = options.budgetPeriodMs ?? DAY_MS;
    this.onBudgetWait = options.onBudgetWait;
    this.budget =
      budget === undefined
        ? null
        : {
            total: budget.total,
            remaining: Math.min(budget.remaining, budget.total),
            resetAt: this.clock.now() + budget.resetAfterMs,
          };
  }

  /** Identifies left in the current budget period, or `null` without a budget. */
  get remaining(): number | null {
    this.refillIfDue();
    return this.budget?.remaining ?? null;
  }

  /** Clock reading (ms) of the next budget reset, or `null` without a budget. */
  get resetAt(): number | null {
    this.refillIfDue();
    return this.budget?.resetAt ?? null;
  }

  get pendingCount(): number {
    let count = 0;
    for (const bucket of this.buckets.values()) count += bucket.waiters.length;
    return count;
  }

  get waitingForBudgetResetAt(): number | null {
    return this.resetTimer === undefined || this.budget === null ? null : this.budget.resetAt;
  }

  enqueue(shardId: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted)
      return Promise.reject(new AbortedError(`identify wait of shard ${shardId}`));
    const key = this.bucketOf(shardId);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { nextAt: -Infinity, waiters: [], timer: undefined };
      this.buckets.set(key, bucket);
    }
    const owner = bucket;
    const granted = joinLine(owner.waiters, shardId, signal, this.logger, () => {
      if (owner.waiters.length === 0) this.stopBucketTimer(owner);
      if (this.pendingCount === 0) this.stopResetWait();
    });
    this.drain(key, owner);
    return granted;
  }

  eta(shardId?: number): number {
    const now = this.clock.now();
    if (shardId === undefined) {
      let latest = 0;
      for (const [key, bucket] of this.buckets) {
        if (bucket.waiters.length > 0)
          latest = Math.max(latest, this.grantDelay(key, bucket.waiters.length - 1, now));
      }
      return latest;
    }
    const key = this.bucketOf(shardId);
    const bucket = this.buckets.get(key);
    const index = bucket?.waiters.findIndex((w) => w.shardId === shardId) ?? -1;
    return this.grantDelay(key, index === -1 ? (bucket?.waiters.length ?? 0) : index, now);
  }

  checkBudget(needed: number): number | null {
    this.refillIfDue();
    const budget = this.budget;
    if (budget === null || needed <= budget.remaining) return null;
    if (this.policy === 'fail')
      throw new IdentifyBudgetError(needed, budget.remaining, budget.resetAt);
    return budget.resetAt;
  }

  /** Rejects every waiter with {@link AbortedError} and stops all timers. */
  close(): void {
    this.stopResetWait();
    for (const bucket of this.buckets.values()) {
      this.stopBucketTimer(bucket);
      for (const waiter of bucket.waiters.splice(0)) {
        leaveLine(waiter);
        waiter.reject(new AbortedError(`identify wait of shard ${waiter.shardId}`));
      }
    }
  }

  /** Time between two grants of one bucket. */
  private get spacingMs(): number {
    return this.windowMs + this.identifyMarginMs;
  }

  private bucketOf(shardId: number): number {
    return shardId % this.maxConcurrency;
  }

  /**
   * Ms until the waiter at `position` of bucket `key` is granted: window pacing, plus the budget
   * reset when the shards granted before it (across all buckets) exceed what remains.
   */
  private grantDelay(key: number, position: number, now: number): number {
    const bucket = this.buckets.get(key);
    const nextAt = bucket === undefined ? now : Math.max(now, bucket.nextAt);
    let delay = nextAt - now + position * this.spacingMs;
    const budget = this.budget;
    if (budget !== null && this.policy === 'wait' && position >= budget.remaining) {
      delay = Math.max(delay, budget.resetAt - now);
    }
    return Math.max(0, delay);
  }

  private drain(key: number, bucket: Bucket): void {
    if (bucket.timer !== undefined || bucket.waiters.length === 0) return;
    const now = this.clock.now();
    if (now < bucket.nextAt) {
      bucket.timer = this.clock.setTimeout(() => {
        bucket.timer = undefined;
        // The timer was set for exactly nextAt; a system timer may read a fraction of a ms early.
        this.grant(key, bucket, Math.max(this.clock.now(), bucket.nextAt));
      }, bucket.nextAt - now);
      return;
    }
    this.grant(key, bucket, now);
  }

  private grant(key: number, bucket: Bucket, at: number): void {
    const waiter = bucket.waiters[0];
    if (waiter === undefined) return;
    this.refillIfDue();
    const budget = this.budget;
    if (budget !== null && budget.remaining <= 0) {
      if (this.policy === 'fail') {
        bucket.waiters.shift();
        leaveLine(waiter);
        waiter.reject(new IdentifyBudgetError(1, budget.remaining, budget.resetAt));
        this.drain(key, bucket);
      } else {
        this.waitForReset(budget.resetAt);
      }
      return;
    }
    bucket.waiters.shift();
    leaveLine(waiter);
    if (budget !== null) budget.remaining -= 1;
    bucket.nextAt = at + this.spacingMs;
    this.logger.debug(`Identify granted to shard ${waiter.shardId} (bucket ${key})`);
    waiter.resolve();
    this.drain(key, bucket);
  }

  private waitForReset(resetAt: number): void {
    if (this.resetTimer !== undefined) return;
    this.logger.warn(
      `Identify budget spent; ${this.pendingCount} shard(s) wait for the reset at ${new Date(resetAt).toISOString()}`,
    );
    this.resetTimer = this.clock.setTimeout(() => {
      this.resetTimer = undefined;
      this.refillIfDue(true);
      for (const [key, bucket] of this.buckets) this.drain(key, bucket);
    }, resetAt - this.clock.now());
    this.onBudgetWait?.(resetAt);
  }

  private refillIfDue(force = false): void {
    const budget = this.budget;
    if (budget === null) return;
    const now = this.clock.now();
    if (!force && now < budget.resetAt) return;
    budget.remaining = budget.total;
    do budget.resetAt += this.budgetPeriodMs;
    while (budget.resetAt <= now);
    this.logger.log(`Identify budget reset to ${budget.total}`);
  }

  private stopResetWait(): void {
    this.clock.clearTimeout(this.resetTimer);
    this.resetTimer = undefined;
  }

  private stopBucketTimer(bucket: Bucket): void {
    this.clock.clearTimeout(bucket.timer);
    bucket.timer = undefined;
  }
}
