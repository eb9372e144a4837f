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
  /** A ring of the last {@link RECENT} samples (a pushed-to array would reserve 17 slots). */
  private readonly samples: number[] = new Array<number>(Latency.RECENT).fill(0);

  /** Also called with each round trip (ms), for metrics; `null` by default. */
  onSample: ((ms: number) => void) | null = null;

  /** Adds one round trip of `ms` milliseconds. */
  record(ms: number): void {
    this.onSample?.(ms);
    this.samples[this.count % Latency.RECENT] = ms;
    this.total += ms;
    this.count += 1;
  }

  snapshot(): LatencySnapshot {
    const kept = Math.min(this.count, Latency.RECENT);
    const recent: number[] = [];
    for (let i = this.count - kept; i < this.count; i++)
      recent.push(this.samples[i % Latency.RECENT]);
    return { average: this.count === 0 ? null : this.total / this.count, recent };
  }
}
