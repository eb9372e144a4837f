/**
 * The clock the FakeGateway runs its protocol timers on (heartbeat deadline, identify window,
 * send-limit window, member-request window, session expiry, scripted delays).
 *
 * Structurally the same as the client's `Clock`, so a test can hand both sides one
 * `ManualClock` and drive protocol time by hand. Declared here because the
 * fake shares no code with the client.
 */
export interface FakeClock {
  /** Milliseconds on a monotonic scale; only differences between readings are meaningful. */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds. */
  setTimeout(callback: () => void, delayMs: number): FakeTimerHandle;
  /** Cancels a timer; a handle that fired, was cleared, or is `undefined` is ignored. */
  clearTimeout(handle: FakeTimerHandle | undefined): void;
}

/** Opaque timer handle returned by {@link FakeClock.setTimeout}. */
export type FakeTimerHandle = object;

const origin = performance.timeOrigin;

/** Real time: `performance.now()` on the wall-clock epoch and Node's timers. */
export const realClock: FakeClock = {
  now: () => origin + performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
};

/**
 * Timers owned by one component (a connection, the gateway). `clearAll()` cancels every
 * pending one, so closing a connection or stopping the gateway leaves no timer behind.
 */
export class TimerScope {
  private readonly pending = new Set<FakeTimerHandle>();

  constructor(private readonly clock: FakeClock) {}

  /** Schedules `callback` after `delayMs` on the clock; returns the handle for {@link clear}. */
  set(callback: () => void, delayMs: number): FakeTimerHandle {
    const handle = this.clock.setTimeout(() => {
      this.pending.delete(handle);
      callback();
    }, delayMs);
    this.pending.add(handle);
    return handle;
  }

  clear(handle: FakeTimerHandle | undefined): void {
    if (handle === undefined) return;
    this.pending.delete(handle);
    this.clock.clearTimeout(handle);
  }

  clearAll(): void {
    for (const handle of this.pending) this.clock.clearTimeout(handle);
    this.pending.clear();
  }
}
