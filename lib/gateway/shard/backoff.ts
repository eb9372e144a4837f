/**
 * Reconnect backoff with jitter (GW-GT-13): the first attempt after a drop starts at once,
 * attempt n >= 1 waits `baseDelayMs * 2^(n-1)` capped at `maxDelayMs`, jittered to a uniform
 * value in [half, full] of that, so many shards dropped together do not reconnect in step.
 * {@link reset} after a connection reaches Active.
 */
export class Backoff {
  private failures = 0;

  /**
   * @param baseDelayMs delay of the second attempt before jitter, ms.
   * @param maxDelayMs cap before jitter, ms.
   * @param random uniform in [0, 1); injectable for tests.
   */
  constructor(
    private readonly baseDelayMs: number,
    private readonly maxDelayMs: number,
    private readonly random: () => number,
  ) {}

  /** Consecutive attempts since the last {@link reset}. */
  get attempts(): number {
    return this.failures;
  }

  /** Delay (ms) before the next attempt; counts the attempt. */
  next(): number {
    const n = this.failures++;
    if (n === 0) return 0;
    const capped = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(n - 1, 30));
    return Math.round(capped / 2 + (capped / 2) * this.random());
  }

  reset(): void {
    this.failures = 0;
  }
}
