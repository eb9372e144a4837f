import type { FakeClock } from './clock.js';

/** Session start limit, as `GET /gateway/bot` reports it (docs/protocol.md section 12). */
export interface SessionStartLimit {
  total: number;
  remaining: number;
  /** Milliseconds until `remaining` resets to `total`. */
  reset_after: number;
  max_concurrency: number;
}

export interface IdentifyLimitOptions {
  /** Identifies allowed at once, one per bucket (GW-SH-4). Default 1. */
  maxConcurrency?: number;
  /** Window per bucket, ms (GW-RL-2). Default 5_000. */
  identifyWindowMs?: number;
  /** An IDENTIFY arriving at most this many ms before its window ends still passes. Default 0. */
  identifyToleranceMs?: number;
  /** Daily identify allowance (GW-ID-5). Default 1_000. */
  sessionStartTotal?: number;
  /** Identifies left at start. Default `sessionStartTotal`. */
  sessionStartRemaining?: number;
  /** Length of the allowance period, ms. Default 86_400_000 (24 h). */
  sessionStartResetMs?: number;
}

/** Why an IDENTIFY was refused by the limits, or null when it may proceed. */
export type IdentifyLimitVerdict = null | 'identify-bucket' | 'session-budget';

/**
 * The identify rate rules: one IDENTIFY per bucket (`shard_id % max_concurrency`) per window,
 * and a daily budget decremented per accepted IDENTIFY (GW-RL-2, GW-RL-3, GW-ID-5).
 */
export class IdentifyLimits {
  readonly maxConcurrency: number;
  readonly windowMs: number;
  readonly toleranceMs: number;
  readonly total: number;
  private remaining: number;
  private readonly periodMs: number;
  private resetAt: number;
  private readonly lastIdentifyAt = new Map<number, number>();

  constructor(
    private readonly clock: FakeClock,
    options: IdentifyLimitOptions = {},
  ) {
    this.maxConcurrency = options.maxConcurrency ?? 1;
    this.windowMs = options.identifyWindowMs ?? 5_000;
    this.toleranceMs = options.identifyToleranceMs ?? 0;
    this.total = options.sessionStartTotal ?? 1_000;
    this.remaining = options.sessionStartRemaining ?? this.total;
    this.periodMs = options.sessionStartResetMs ?? 86_400_000;
    this.resetAt = clock.now() + this.periodMs;
  }

  /** `shard_id % max_concurrency` (GW-SH-4). */
  bucketOf(shardId: number): number {
    return shardId % this.maxConcurrency;
  }

  /** Checks the rules for an IDENTIFY of `shardId` now; counts it when it passes. */
  take(shardId: number): IdentifyLimitVerdict {
    this.rollOver();
    const now = this.clock.now();
    const bucket = this.bucketOf(shardId);
    const last = this.lastIdentifyAt.get(bucket);
    if (last !== undefined && now - last < this.windowMs - this.toleranceMs) {
      return 'identify-bucket';
    }
    if (this.remaining <= 0) return 'session-budget';
    this.lastIdentifyAt.set(bucket, now);
    this.remaining--;
    return null;
  }

  /** The current limit, for `/gateway/bot`. */
  snapshot(): SessionStartLimit {
    this.rollOver();
    return {
      total: this.total,
      remaining: this.remaining,
      reset_after: Math.max(0, Math.round(this.resetAt - this.clock.now())),
      max_concurrency: this.maxConcurrency,
    };
  }

  /** Restores a saved budget (state file). */
  restore(remaining: number, resetAfterMs: number): void {
    this.remaining = Math.max(0, Math.min(this.total, remaining));
    this.resetAt = this.clock.now() + Math.max(0, resetAfterMs);
  }

  private rollOver(): void {
    const now = this.clock.now();
    if (now < this.resetAt) return;
    this.remaining = this.total;
    this.resetAt = now + this.periodMs;
  }
}

/**
 * Sliding-window counter: `hit()` answers whether one more event stays within `limit` events
 * in any `windowMs` span, closed at both ends (the strictest reading of "N per window": two
 * events exactly `windowMs` apart share a span). Used for the per-connection send limit
 * (GW-RL-1) and presence updates (GW-RL-4).
 */
export class SlidingWindow {
  private readonly times: number[] = [];
  /** Largest count seen inside one window so far. */
  peak = 0;

  constructor(
    private readonly clock: FakeClock,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Counts one event now. Returns false when it is over the limit. */
  hit(): boolean {
    const now = this.clock.now();
    while (this.times.length > 0 && now - this.times[0] > this.windowMs) this.times.shift();
    this.times.push(now);
    if (this.times.length > this.peak) this.peak = this.times.length;
    return this.times.length <= this.limit;
  }
}
