/**
 * The one source of time for every time-driven part of the gateway: heartbeat, send rate
 * limiter, identify queue, reconnect backoff and timeouts (DESIGN.md: Time).
 *
 * Inject a {@link ManualClock} in tests to drive time by hand; production code uses
 * {@link systemClock}.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. Only differences between two readings are meaningful. */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer; a handle that already fired, was cleared, or is `undefined` is ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = object;

const origin = performance.timeOrigin;

/** The process clock: `performance.now()` on the wall-clock epoch, and Node's timers. */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
};
