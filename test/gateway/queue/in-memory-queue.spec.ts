import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import {
  AbortedError,
  ConfigError,
  IdentifyBudgetError,
} from '../../../lib/gateway/errors/errors.js';
import {
  DEFAULT_IDENTIFY_MARGIN_MS,
  InMemoryIdentifyQueue,
} from '../../../lib/gateway/queue/in-memory-queue.js';
import type { GatewayLogger } from '../../../lib/gateway/logger.js';

/**
 * Enqueues each shard and records the clock reading of its grant. Grants made on the spot are
 * recorded in a microtask: advance(0) before moving the clock.
 */
function track(queue: InMemoryIdentifyQueue, clock: ManualClock, shardIds: number[]) {
  const grants = new Map<number, number>();
  const errors = new Map<number, Error>();
  for (const id of shardIds) {
    queue.enqueue(id).then(
      () => grants.set(id, clock.now()),
      (error: Error) => errors.set(id, error),
    );
  }
  return { grants, errors };
}

function recordingLogger(): GatewayLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string) => lines.push(message);
  return { lines, debug: push, log: push, warn: push, error: push };
}

describe('InMemoryIdentifyQueue (GW-RL-2, GW-SH-4, GW-GT-13)', () => {
  it('GW-SH-4: one grant per bucket per window, buckets in parallel, one window plus the default margin apart', async () => {
    const clock = new ManualClock(1_000);
    const queue = new InMemoryIdentifyQueue({ maxConcurrency: 4, windowMs: 5_000, clock });
    const { grants } = track(queue, clock, [...Array(16).keys()]);
    await clock.advance(0);
    expect([...grants.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    await clock.advance(60_000);
    expect(grants.size).toBe(16);
    for (let id = 0; id < 16; id++) {
      // Shard id's place in its bucket is floor(id / 4): FIFO within the bucket.
      expect(grants.get(id)).toBe(
        1_000 + Math.floor(id / 4) * (5_000 + DEFAULT_IDENTIFY_MARGIN_MS),
      );
    }
  });

  it('GW-GT-13: the next grant of a bucket is at exactly t + window + margin, not later, even when enqueued later', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({
      maxConcurrency: 1,
      windowMs: 1_000,
      identifyMarginMs: 50,
      clock,
    });
    const first = track(queue, clock, [0]);
    await clock.advance(0);
    await clock.advance(300);
    const second = track(queue, clock, [1]);
    await clock.advance(749);
    expect(second.grants.size).toBe(0);
    await clock.advance(1);
    expect(first.grants.get(0)).toBe(0);
    expect(second.grants.get(1)).toBe(1_050);
    // A shard arriving after the window passed is granted at once.
    await clock.advance(5_000);
    const third = track(queue, clock, [2]);
    await clock.advance(0);
    expect(third.grants.get(2)).toBe(6_050);
  });

  it('FIFO within a bucket, in enqueue order', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({
      maxConcurrency: 2,
      windowMs: 100,
      identifyMarginMs: 0,
      clock,
    });
    const order: number[] = [];
    for (const id of [4, 0, 2, 6]) void queue.enqueue(id).then(() => order.push(id));
    await clock.advance(1_000);
    expect(order).toEqual([4, 0, 2, 6]);
  });

  it('an aborted waiter leaves the queue with AbortedError and uses no slot', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({
      maxConcurrency: 1,
      windowMs: 1_000,
      identifyMarginMs: 0,
      clock,
    });
    const { grants } = track(queue, clock, [0]);
    const controller = new AbortController();
    const aborted = queue.enqueue(1, controller.signal);
    const rest = track(queue, clock, [2, 3]);
    await clock.advance(0);
    expect(queue.pendingCount).toBe(3);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    expect(queue.pendingCount).toBe(2);
    await clock.advance(2_000);
    expect(grants.get(0)).toBe(0);
    expect(rest.grants.get(2)).toBe(1_000);
    expect(rest.grants.get(3)).toBe(2_000);
  });

  it('an already aborted signal rejects at once; aborting every waiter stops the timer', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({ windowMs: 1_000, identifyMarginMs: 0, clock });
    await expect(queue.enqueue(0, AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    await queue.enqueue(1);
    const controller = new AbortController();
    const waiting = queue.enqueue(2, controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
    // The slot at 1_000 was not used: a new waiter is still granted at 1_000.
    const { grants } = track(queue, clock, [3]);
    await clock.advance(1_000);
    expect(grants.get(3)).toBe(1_000);
  });

  it('eta() and pendingCount describe the queue for progress reports', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({
      maxConcurrency: 2,
      windowMs: 1_000,
      identifyMarginMs: 0,
      clock,
    });
    track(queue, clock, [0, 1, 2, 3, 4]);
    await clock.advance(0);
    // Granted now: 0 and 1. Waiting: 2 (bucket 0, 1st), 4 (bucket 0, 2nd), 3 (bucket 1, 1st).
    expect(queue.pendingCount).toBe(3);
    expect(queue.eta(2)).toBe(1_000);
    expect(queue.eta(4)).toBe(2_000);
    expect(queue.eta(3)).toBe(1_000);
    expect(queue.eta(5)).toBe(2_000); // would queue behind 3
    expect(queue.eta()).toBe(2_000);
    await clock.advance(400);
    expect(queue.eta(4)).toBe(1_600);
    await clock.advance(2_000);
    expect(queue.pendingCount).toBe(0);
    expect(queue.eta()).toBe(0);
  });

  it('rejects a bad configuration with ConfigError', () => {
    const build = () =>
      new InMemoryIdentifyQueue({ maxConcurrency: 0, windowMs: -1, identifyMarginMs: -1 });
    expect(build).toThrow(ConfigError);
    expect(() => build()).toThrow(
      expect.objectContaining({
        issues: [
          { path: 'maxConcurrency', rule: 'must be a positive integer' },
          { path: 'windowMs', rule: 'must be a number >= 0' },
          { path: 'identifyMarginMs', rule: 'must be a number >= 0' },
        ],
      }) as unknown as Error,
    );
  });

  describe('daily budget (GW-ID-5, GW-RL-3)', () => {
    it("never grants beyond remaining; 'fail' rejects the rest with IdentifyBudgetError", async () => {
      const clock = new ManualClock();
      const queue = new InMemoryIdentifyQueue({
        maxConcurrency: 4,
        windowMs: 1_000,
        clock,
        budget: { total: 1_000, remaining: 2, resetAfterMs: 3_600_000 },
      });
      const { grants, errors } = track(queue, clock, [0, 1, 2, 3]);
      await clock.advance(0);
      expect([...grants.keys()]).toEqual([0, 1]);
      expect([...errors.keys()]).toEqual([2, 3]);
      const error = errors.get(2) as IdentifyBudgetError;
      expect(error).toBeInstanceOf(IdentifyBudgetError);
      expect(error.remaining).toBe(0);
      expect(error.resetAt).toBe(3_600_000);
      expect(queue.remaining).toBe(0);
    });

    it('checkBudget() refuses before any grant with the numbers and the reset time', () => {
      const clock = new ManualClock();
      const queue = new InMemoryIdentifyQueue({
        clock,
        budget: { total: 1_000, remaining: 3, resetAfterMs: 60_000 },
      });
      expect(queue.checkBudget(3)).toBeNull();
      expect(() => queue.checkBudget(4)).toThrow(IdentifyBudgetError);
      try {
        queue.checkBudget(4);
      } catch (error) {
        expect(error).toMatchObject({ needed: 4, remaining: 3, resetAt: 60_000 });
        expect((error as Error).message).toContain('4 shard(s) must identify but only 3');
      }
      expect(queue.remaining).toBe(3);
    });

    it("'wait' holds the shards until the reset, logs the time, then refills to total", async () => {
      const clock = new ManualClock();
      const logger = recordingLogger();
      const waits: number[] = [];
      const queue = new InMemoryIdentifyQueue({
        maxConcurrency: 1,
        windowMs: 1_000,
        identifyMarginMs: 0,
        clock,
        logger,
        onBudgetExhausted: 'wait',
        budget: { total: 5, remaining: 1, resetAfterMs: 10_000 },
        onBudgetWait: (resetAt) => waits.push(resetAt),
      });
      expect(queue.checkBudget(3)).toBe(10_000);
      const { grants, errors } = track(queue, clock, [0, 1, 2]);
      await clock.advance(0);
      await clock.advance(1_000);
      expect(queue.waitingForBudgetResetAt).toBe(10_000);
      expect(waits).toEqual([10_000]);
      expect(queue.eta(1)).toBe(9_000);
      expect(logger.lines.some((l) => l.includes(new Date(10_000).toISOString()))).toBe(true);
      await clock.advance(8_999);
      expect([...grants.entries()]).toEqual([[0, 0]]);
      await clock.advance(1);
      await clock.advance(1_000);
      expect(grants.get(1)).toBe(10_000);
      expect(grants.get(2)).toBe(11_000);
      expect(errors.size).toBe(0);
      expect(queue.remaining).toBe(3);
      expect(queue.resetAt).toBe(10_000 + 86_400_000);
      expect(queue.waitingForBudgetResetAt).toBeNull();
    });
  });

  it('close() rejects every waiter with AbortedError', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({ windowMs: 1_000, identifyMarginMs: 0, clock });
    await queue.enqueue(0);
    const waiting = queue.enqueue(1);
    queue.close();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('InMemoryIdentifyQueue on the system clock, against a hostile reset_after', () => {
  it("policy 'wait' with a reset_after over 2^31 ms (about 25 days) keeps waiting instead of identifying at once", async () => {
    const queue = new InMemoryIdentifyQueue({
      onBudgetExhausted: 'wait',
      budget: { total: 1_000, remaining: 0, resetAfterMs: 3e9 },
    });
    const controller = new AbortController();
    let granted = false;
    const waiting = queue.enqueue(0, controller.signal).then(
      () => (granted = true),
      () => undefined,
    );
    // Node would fire a 3e9 ms timer after 1 ms; the budget would refill and the shard identify.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(granted).toBe(false);
    expect(queue.remaining).toBe(0);
    controller.abort();
    await waiting;
  });
});
