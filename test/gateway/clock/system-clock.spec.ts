import { jest } from '@jest/globals';
import { MAX_TIMER_MS, systemClock } from '../../../lib/gateway/clock/clock.js';

describe('systemClock timers longer than one Node timer can hold', () => {
  beforeEach(() => {
    // performance.now() and setTimeout move together; nextTick/setImmediate stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('a 3e9 ms wait (an identify budget reset_after past 2^31 ms) fires after 3e9 ms, not after 1 ms', () => {
    const fired: number[] = [];
    const start = performance.now();
    systemClock.setTimeout(() => fired.push(performance.now() - start), 3e9);
    jest.advanceTimersByTime(1_000);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(3e9 - MAX_TIMER_MS - 1_001);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([3e9]);
  });

  it('clearTimeout cancels a long wait in any link of its chain', () => {
    const fired: string[] = [];
    const early = systemClock.setTimeout(() => fired.push('early'), 5e9);
    const late = systemClock.setTimeout(() => fired.push('late'), 5e9);
    systemClock.clearTimeout(early);
    jest.advanceTimersByTime(MAX_TIMER_MS + 10);
    systemClock.clearTimeout(late);
    jest.advanceTimersByTime(5e9);
    expect(fired).toEqual([]);
  });

  it('delays up to 2^31 - 1 ms stay one plain timer', () => {
    const fired: number[] = [];
    systemClock.setTimeout(() => fired.push(1), MAX_TIMER_MS);
    jest.advanceTimersByTime(MAX_TIMER_MS - 1);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([1]);
  });
});
