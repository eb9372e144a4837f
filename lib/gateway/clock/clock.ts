/**
 * The one source of time for every time-driven part of the gateway: heartbeat, send rate
 * limiter, identify queue, reconnect backoff and timeouts.
 *
 * Inject a {@link ManualClock} in tests to drive time by hand; production code uses
 * {@link systemClock}.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. Only differences between two readings are meaningful. */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds, any delay (also beyond Node's 2^31 - 1 ms timer limit). */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; a handle that already fired, was cleared, or is `undefined` is ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = object;

const origin = performance.timeOrigin;

/** The longest delay one Node timer honours (2^31 - 1 ms, about 24.8 days); beyond it Node fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A timer longer than {@link MAX_TIMER_MS}, run as a chain of shorter ones. A server can ask
 * for such a wait (an identify budget's `reset_after`, a REST `retry_after`), and one Node
 * timer would fire it at once instead.
 */
class LongTimer {
  current: NodeJS.Timeout;

  constructor(callback: () => void, delayMs: number) {
    const dueAt = performance.now() + delayMs;
    const step = (): void => {
      const left = dueAt - performance.now();
      if (left > MAX_TIMER_MS) this.current = setTimeout(step, MAX_TIMER_MS);
      else if (left > 0) this.current = setTimeout(callback, left);
      else callback();
    };
    this.current = setTimeout(step, MAX_TIMER_MS);
  }
}

/**
 * The process clock: `performance.now()` on the wall-clock epoch, and Node's timers. A delay
 * above {@link MAX_TIMER_MS} is honoured in full (chained); a negative or non-finite one fires
 * on the next timer turn, as Node does.
 */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout: (callback, delayMs) =>
    delayMs > MAX_TIMER_MS && Number.isFinite(delayMs)
      ? new LongTimer(callback, delayMs)
      : setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    if (handle === undefined) return;
    clearTimeout(handle instanceof LongTimer ? handle.current : (handle as NodeJS.Timeout));
  },
};
