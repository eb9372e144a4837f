import type { Clock, TimerHandle } from './clock.js';

interface ManualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly callback: () => void;
}

/** Lets pending I/O callbacks (socket reads and writes) run between two timer firings. */
const ioTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A {@link Clock} that only moves when told to. Timers fire in due order, and between two
 * firings the event loop gets a turn, so real loopback sockets (FakeGateway) keep flowing
 * while protocol time is compressed.
 *
 * @example
 * const clock = new ManualClock();
 * const shard = new Shard(options, { clock });
 * await clock.advance(41_250); // one heartbeat interval
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: ManualTimer[] = [];

  /** @param startMs the reading of {@link now} before any advance; default 0. */
  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = {
      id: this.nextId++,
      dueAt: this.current + Math.max(0, delayMs),
      callback,
    };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    const index = this.timers.indexOf(handle as ManualTimer);
    if (index !== -1) this.timers.splice(index, 1);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Due time of the earliest pending timer, or `undefined` when none is pending. */
  nextDueAt(): number | undefined {
    return this.earliest()?.dueAt;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in due order
   * (timers scheduled by a firing timer fire too if they fall within the span). Gives the
   * event loop `ioTurns` turns after each firing and at the end.
   */
  async advance(ms: number, ioTurns = 3): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.dueAt > target) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.current = Math.max(this.current, next.dueAt);
      next.callback();
      for (let i = 0; i < ioTurns; i++) await ioTurn();
    }
    this.current = target;
    for (let i = 0; i < ioTurns; i++) await ioTurn();
  }

  /**
   * Advances in steps of `stepMs` until `condition()` holds, giving real I/O `realWaitMs` of
   * wall time per step. Throws when `maxMs` of clock time pass without the condition holding.
   */
  async advanceUntil(
    condition: () => boolean,
    { stepMs = 100, maxMs = 600_000, realWaitMs = 1 } = {},
  ): Promise<void> {
    const limit = this.current + maxMs;
    while (!condition()) {
      if (this.current >= limit) {
        throw new Error(`ManualClock.advanceUntil: condition still false after ${maxMs} ms`);
      }
      await this.advance(stepMs);
      if (realWaitMs > 0) await new Promise((resolve) => setTimeout(resolve, realWaitMs));
    }
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.timers) {
      if (
        best === undefined ||
        timer.dueAt < best.dueAt ||
        (timer.dueAt === best.dueAt && timer.id < best.id)
      ) {
        best = timer;
      }
    }
    return best;
  }
}
