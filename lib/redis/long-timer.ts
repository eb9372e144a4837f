import type { Clock, TimerHandle } from '../gateway/clock/clock.js';

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer delay fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer of any length, as a chain of timers each within Node's limit. */
export class LongTimer {
  private handle: TimerHandle | undefined;

  /** Calls `callback` once, `delayMs` after now on `clock` (negative or NaN: at once). */
  constructor(
    private readonly clock: Clock,
    delayMs: number,
    private readonly callback: () => void,
  ) {
    this.arm(clock.now() + (delayMs > 0 ? delayMs : 0));
  }

  cancel(): void {
    this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(at: number): void {
    const left = at - this.clock.now();
    if (left > MAX_TIMER_MS) {
      this.handle = this.clock.setTimeout(() => this.arm(at), MAX_TIMER_MS);
      return;
    }
    this.handle = this.clock.setTimeout(
      () => {
        this.handle = undefined;
        this.callback();
      },
      Math.max(0, left),
    );
  }
}
