/** Heartbeat round trips of one shard (twilight's `Latency`): ms, from HEARTBEAT to ACK. */
export interface LatencySnapshot {
  /** Mean of every sample since the shard was created, ms; `null` before the first ACK. */
  readonly average: number | null;
  /** The most recent samples, oldest first, ms (at most {@link Latency.RECENT} of them). */
  readonly recent: number[];
}

/** Collects heartbeat round-trip samples: a running average and the last few samples. */
export class Latency {
  /** How many recent samples are kept. */
  static readonly RECENT = 5;

  private total = 0;
  private count = 0;
  private readonly samples: number[] = [];

  /** Adds one round trip of `ms` milliseconds. */
  record(ms: number): void {
    this.total += ms;
    this.count += 1;
    this.samples.push(ms);
    if (this.samples.length > Latency.RECENT) this.samples.shift();
  }

  snapshot(): LatencySnapshot {
    return {
      average: this.count === 0 ? null : this.total / this.count,
      recent: this.samples.slice(),
    };
  }
}
