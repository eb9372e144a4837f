import type { FakeClock } from './clock.js';
import { TimerScope } from './clock.js';
import type { GeneratedDispatch } from './traffic.js';

/** A running steady-rate stream; see `FakeGateway.startTraffic()`. */
export interface TrafficStream {
  /** Events generated so far. */
  readonly generated: number;
  stop(): void;
}

/**
 * Generates `ratePerSecond` events per second of clock time, in ticks of `tickMs` (default
 * max(10, min(1000, 1000 / rate))), handing each to `emit`. Fractions carry over between ticks.
 */
export function steadyStream(
  clock: FakeClock,
  ratePerSecond: number,
  next: () => GeneratedDispatch,
  emit: (event: GeneratedDispatch) => void,
  tickMs = Math.max(10, Math.min(1_000, 1_000 / ratePerSecond)),
): TrafficStream {
  const timers = new TimerScope(clock);
  let last = clock.now();
  let carry = 0;
  let generated = 0;
  let stopped = false;
  const tick = (): void => {
    const now = clock.now();
    carry += ((now - last) * ratePerSecond) / 1_000;
    last = now;
    const due = Math.floor(carry);
    carry -= due;
    for (let i = 0; i < due && !stopped; i++) {
      emit(next());
      generated++;
    }
    if (!stopped) timers.set(tick, tickMs);
  };
  timers.set(tick, tickMs);
  return {
    get generated() {
      return generated;
    },
    stop() {
      stopped = true;
      timers.clearAll();
    },
  };
}
