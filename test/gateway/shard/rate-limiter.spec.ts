import { ManualClock } from '../../../lib/gateway/clock/index.js';
import { AbortedError } from '../../../lib/gateway/errors/index.js';
import {
  COMMAND_MARGIN_MS,
  CommandRateLimiter,
  MIN_HEARTBEAT_RESERVE,
  PRESENCE_MARGIN_MS,
  PresenceLimiter,
  heartbeatReserveFor,
} from '../../../lib/gateway/shard/rate-limiter.js';

const INTERVAL_MS = 41_250;

/** The most sends in any closed span [t, t + spanMs]. */
function maxInAnySpan(times: readonly number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end] <= sorted[start] + spanMs) end++;
    best = Math.max(best, end - start);
  }
  return best;
}

/** Lets promise callbacks of settled waits run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('heartbeatReserveFor (GW-RL-1, GW-GT-14)', () => {
  it('keeps the floor at the usual 41 250 ms interval (2 beats + drift + 2 op 1 + identify = 6)', () => {
    expect(heartbeatReserveFor(INTERVAL_MS)).toBe(MIN_HEARTBEAT_RESERVE);
  });

  it('grows with shorter intervals: 5 000 ms -> 12 beats + 1 + 2 + 1 = 16', () => {
    expect(heartbeatReserveFor(5_000)).toBe(16);
  });

  it('never takes the whole budget', () => {
    expect(heartbeatReserveFor(100)).toBe(119);
    expect(heartbeatReserveFor(100, 60_000, 20)).toBe(19);
  });
});

describe('CommandRateLimiter', () => {
  it('GW-RL-1 GW-GT-14: 300 commands at once never put more than 120 payloads in any 60 s span, heartbeats included', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({ clock, heartbeatIntervalMs: INTERVAL_MS });
    const sent: number[] = [];
    const heartbeats: number[] = [];
    const order: number[] = [];

    limiter.acquireHeartbeat(); // IDENTIFY
    heartbeats.push(clock.now());
    const beat = () => {
      limiter.acquireHeartbeat();
      heartbeats.push(clock.now());
      clock.setTimeout(beat, INTERVAL_MS);
    };
    clock.setTimeout(beat, Math.floor(INTERVAL_MS * 0.37)); // jittered first beat (GW-GT-6)
    // Two server-requested heartbeats (op 1) land in the busiest windows.
    for (const at of [30_000, 95_000]) {
      clock.setTimeout(() => {
        limiter.acquireHeartbeat();
        heartbeats.push(clock.now());
      }, at);
    }

    const done = Array.from({ length: 300 }, (_, index) =>
      limiter.waitForCommand().then(() => {
        sent.push(clock.now());
        order.push(index);
      }),
    );
    await flush();
    expect(sent).toHaveLength(120 - MIN_HEARTBEAT_RESERVE - 1); // the IDENTIFY took one slot

    await clock.advance(4 * 60_000);
    await Promise.all(done);

    expect(sent).toHaveLength(300);
    expect(order).toEqual(Array.from({ length: 300 }, (_, index) => index));
    expect(heartbeats.length).toBeGreaterThanOrEqual(8);
    const busiest = maxInAnySpan([...sent, ...heartbeats], 60_000);
    expect(busiest).toBeLessThanOrEqual(120);
    expect(busiest).toBeGreaterThanOrEqual(120 - MIN_HEARTBEAT_RESERVE); // the budget is used
    // Heartbeats alone never come close to the reserve.
    expect(maxInAnySpan(heartbeats, 60_000)).toBeLessThanOrEqual(MIN_HEARTBEAT_RESERVE);
  });

  it('GW-GT-14: uses the budget fully: a freed slot is handed out the moment it frees', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 10,
      windowMs: 1_000,
      marginMs: 0,
      heartbeatReserve: 2,
    });
    const sent: number[] = [];
    for (let i = 0; i < 9; i++) void limiter.waitForCommand().then(() => sent.push(clock.now()));
    await flush();
    expect(sent).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    await clock.advance(1_000);
    expect(sent).toHaveLength(8);
    await clock.advance(1);
    expect(sent).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1_001]);
  });

  it('GW-RL-1: heartbeats are always allowed, and they use up command room when over the reserve', () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 10,
      windowMs: 1_000,
      heartbeatReserve: 2,
    });
    for (let i = 0; i < 8; i++) expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
    for (let i = 0; i < 5; i++) limiter.acquireHeartbeat();
    expect(limiter.used).toBe(13);
    expect(limiter.tryAcquire()).toBe(false);
  });

  it('tryAcquire never jumps the queue', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 4,
      windowMs: 1_000,
      marginMs: 0,
      heartbeatReserve: 2,
    });
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(true);
    const waiting = limiter.waitForCommand();
    expect(limiter.waiting).toBe(1);
    await clock.advance(1_001);
    await waiting;
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
  });

  it('setHeartbeatInterval re-derives the reserve from HELLO (GW-GT-14)', () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({ clock });
    expect(limiter.heartbeatReserve).toBe(MIN_HEARTBEAT_RESERVE);
    limiter.setHeartbeatInterval(1_000);
    // The beats of one counted span, 60 s + the 1 s margin: 61 + 1 + 2 + 1.
    expect(limiter.heartbeatReserve).toBe(65);
    let granted = 0;
    while (limiter.tryAcquire()) granted++;
    expect(granted).toBe(120 - 65);
  });

  it('a fixed heartbeatReserve ignores the interval', () => {
    const limiter = new CommandRateLimiter({ clock: new ManualClock(), heartbeatReserve: 30 });
    limiter.setHeartbeatInterval(1_000);
    expect(limiter.heartbeatReserve).toBe(30);
  });

  it('aborting a wait rejects it with AbortedError; the others keep their order and slots', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 3,
      windowMs: 1_000,
      marginMs: 0,
      heartbeatReserve: 1,
    });
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(true);
    const controller = new AbortController();
    const order: string[] = [];
    const first = limiter.waitForCommand().then(() => order.push('first'));
    const aborted = limiter.waitForCommand(controller.signal);
    const third = limiter.waitForCommand().then(() => order.push('third'));
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.waiting).toBe(2);
    await clock.advance(1_001);
    await Promise.all([first, third]);
    expect(order).toEqual(['first', 'third']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an already aborted signal rejects at once and takes no slot', async () => {
    const limiter = new CommandRateLimiter({ clock: new ManualClock() });
    await expect(limiter.waitForCommand(AbortSignal.abort())).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.used).toBe(0);
  });

  it('aborting the last waiter cancels the timer (no open handle)', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 2,
      windowMs: 1_000,
      heartbeatReserve: 1,
    });
    limiter.tryAcquire();
    const controller = new AbortController();
    const wait = limiter.waitForCommand(controller.signal);
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    await expect(wait).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('GW-GT-8 GW-GT-14: reset starts a fresh budget for a new connection and rejects the old waits', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 4,
      windowMs: 60_000,
      heartbeatReserve: 2,
    });
    limiter.acquireHeartbeat();
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
    const pending = [limiter.waitForCommand(), limiter.waitForCommand()];
    limiter.reset();
    for (const wait of pending) await expect(wait).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.used).toBe(0);
    expect(limiter.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(true);
  });
});

describe('safety margins (time judged by the server)', () => {
  it('a freed command slot is handed out only a margin after the window: never early at the server', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 10,
      windowMs: 1_000,
      marginMs: 50,
      heartbeatReserve: 2,
    });
    const sent: number[] = [];
    for (let i = 0; i < 9; i++) void limiter.waitForCommand().then(() => sent.push(clock.now()));
    await flush();
    await clock.advance(1_050);
    expect(sent).toHaveLength(8);
    await clock.advance(1);
    expect(sent[8]).toBe(1_051);
    // Any arrival jitter under 50 ms keeps the two bursts in different windows at the server.
    expect(maxInAnySpan(sent, 1_049)).toBe(8);
  });

  it('without a marginMs the limiter keeps COMMAND_MARGIN_MS', async () => {
    const clock = new ManualClock();
    const limiter = new CommandRateLimiter({
      clock,
      limit: 2,
      windowMs: 1_000,
      heartbeatReserve: 1,
    });
    limiter.tryAcquire();
    let at = -1;
    void limiter.waitForCommand().then(() => (at = clock.now()));
    await clock.advance(1_000 + COMMAND_MARGIN_MS + 1);
    expect(at).toBe(1_000 + COMMAND_MARGIN_MS + 1);
  });
});

describe('PresenceLimiter (GW-RL-4)', () => {
  it('12 presence updates at once: at most 5 in any 20 s span, in call order', async () => {
    const clock = new ManualClock();
    const limiter = new PresenceLimiter({ clock });
    const sent: number[] = [];
    const order: number[] = [];
    const done = Array.from({ length: 12 }, (_, index) =>
      limiter.waitForPresence().then(() => {
        sent.push(clock.now());
        order.push(index);
      }),
    );
    await flush();
    expect(sent).toHaveLength(5);
    await clock.advance(60_000);
    await Promise.all(done);
    expect(order).toEqual(Array.from({ length: 12 }, (_, index) => index));
    expect(maxInAnySpan(sent, 20_000 + PRESENCE_MARGIN_MS)).toBe(5);
    const next = 20_000 + PRESENCE_MARGIN_MS + 1;
    expect(sent.slice(5, 10)).toEqual([next, next, next, next, next]);
  });

  it('tryAcquire, abort and reset behave as for commands', async () => {
    const clock = new ManualClock();
    const limiter = new PresenceLimiter({ clock });
    for (let i = 0; i < 5; i++) expect(limiter.tryAcquire()).toBe(true);
    expect(limiter.tryAcquire()).toBe(false);
    const controller = new AbortController();
    const aborted = limiter.waitForPresence(controller.signal);
    const kept = limiter.waitForPresence();
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    limiter.reset();
    await expect(kept).rejects.toBeInstanceOf(AbortedError);
    expect(limiter.tryAcquire()).toBe(true);
  });
});
