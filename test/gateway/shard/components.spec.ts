import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { Backoff } from '../../../lib/gateway/shard/backoff.js';
import { CLOSE_CODE_POLICY, closeCodePolicy } from '../../../lib/gateway/shard/close-codes.js';
import { EventBuffer } from '../../../lib/gateway/shard/event-buffer.js';
import { Heartbeat } from '../../../lib/gateway/shard/heartbeat.js';
import { Latency } from '../../../lib/gateway/shard/latency.js';

describe('close-code policy table (docs/protocol.md section 10)', () => {
  it('GW-GT-3: 4004 and 4010-4014 are fatal, 4007/4009 need a new session', () => {
    for (const code of [4004, 4010, 4011, 4012, 4013, 4014]) {
      expect(closeCodePolicy(code).action).toBe('fatal');
    }
    expect(closeCodePolicy(4007).action).toBe('identify');
    expect(closeCodePolicy(4009).action).toBe('identify');
  });

  it('GW-CL-2, GW-CL-3: other codes, unknown codes and no close frame resume', () => {
    for (const code of [4000, 4001, 4002, 4003, 4005, 4008, 4006, 4999, 1000, 1001, 1011, 3000]) {
      expect(closeCodePolicy(code).action).toBe('resume');
    }
    expect(closeCodePolicy(null).action).toBe('resume');
    expect(closeCodePolicy(1006).action).toBe('resume');
    expect(closeCodePolicy(1005).reason).toMatch(/without a close frame/);
  });

  it('GW-CL-1: 1000/1001 from the gateway are named as a normal closure, not an unrecognised code', () => {
    expect(closeCodePolicy(1000).reason).toBe('closed normally by the gateway (1000/1001)');
    expect(closeCodePolicy(1001).reason).toBe('closed normally by the gateway (1000/1001)');
    expect(closeCodePolicy(3000).reason).toBe('unrecognised close code');
  });

  it('has one row per documented gateway close code, each with a reason', () => {
    expect([...CLOSE_CODE_POLICY.keys()].sort()).toEqual([
      4000, 4001, 4002, 4003, 4004, 4005, 4007, 4008, 4009, 4010, 4011, 4012, 4013, 4014,
    ]);
    for (const policy of CLOSE_CODE_POLICY.values())
      expect(policy.reason.length).toBeGreaterThan(5);
  });
});

describe('Backoff (GW-GT-13)', () => {
  it('first attempt at once, then exponential with jitter in [half, full], capped; reset', () => {
    const low = new Backoff(1_000, 8_000, () => 0);
    expect([0, 1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([
      0, 500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
    const high = new Backoff(1_000, 8_000, () => 0.999999);
    expect([0, 1, 2, 3, 4, 5].map(() => high.next())).toEqual([
      0, 1_000, 2_000, 4_000, 8_000, 8_000,
    ]);
    high.reset();
    expect(high.next()).toBe(0);
    expect(high.attempts).toBe(1);
  });
});

describe('Latency', () => {
  it('averages every sample and keeps the 5 most recent', () => {
    const latency = new Latency();
    expect(latency.snapshot()).toEqual({ average: null, recent: [] });
    for (const ms of [10, 20, 30, 40, 50, 60]) latency.record(ms);
    expect(latency.snapshot()).toEqual({ average: 35, recent: [20, 30, 40, 50, 60] });
  });
});

describe('Heartbeat', () => {
  function setup(random = 0.5) {
    const clock = new ManualClock();
    const sent: number[] = [];
    const causes: string[] = [];
    const latency = new Latency();
    const heartbeat = new Heartbeat(
      clock,
      1_000,
      () => random,
      { sendHeartbeat: () => sent.push(clock.now()), onZombie: (cause) => causes.push(cause) },
      latency,
    );
    return { clock, sent, heartbeat, latency, causes, zombies: () => causes.length };
  }

  it('GW-HB-2: first beat after interval * random, then every interval', async () => {
    const { clock, sent, heartbeat } = setup(0.25);
    heartbeat.start();
    await clock.advance(249);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([250]);
    heartbeat.ack();
    await clock.advance(1_000);
    heartbeat.ack();
    await clock.advance(1_000);
    expect(sent).toEqual([250, 1_250, 2_250]);
    heartbeat.stop();
  });

  it('GW-HB-4: no ACK between two beats and no frame -> zombie, no further beat', async () => {
    const { clock, sent, heartbeat, zombies } = setup(0);
    heartbeat.start();
    await clock.advance(0);
    expect(sent).toEqual([0]);
    await clock.advance(1_000);
    expect(zombies()).toBe(1);
    expect(sent).toEqual([0]);
    await clock.advance(5_000);
    expect(sent).toEqual([0]);
  });

  it('GW-GT-7: a frame received since the beat proves the connection alive', async () => {
    const { clock, sent, heartbeat, zombies } = setup(0);
    heartbeat.start();
    await clock.advance(0);
    heartbeat.frameSinceBeat = true;
    await clock.advance(1_000);
    expect(zombies()).toBe(0);
    expect(sent).toEqual([0, 1_000]);
    await clock.advance(1_000);
    expect(zombies()).toBe(1);
  });

  it("GW-HB-4: the verdict says which rule fired: 'zombie' when nothing arrived", async () => {
    const { clock, heartbeat, causes } = setup(0);
    heartbeat.start();
    await clock.advance(1_000);
    expect(causes).toEqual(['zombie']);
  });

  it("GW-GT-7: after the backlog, frames without ACKs end the connection at the 2nd missed beat ('ack-timeout')", async () => {
    const { clock, sent, heartbeat, causes } = setup(0);
    heartbeat.backlog = false;
    heartbeat.start();
    await clock.advance(0); // first beat at 0, never ACKed
    for (let t = 100; t <= 2_000; t += 100) {
      heartbeat.frameSinceBeat = true; // dispatches keep flowing
      await clock.advance(100);
    }
    expect(causes).toEqual(['ack-timeout']);
    // Closed at the beat due 2 intervals after the first un-ACKed one, with no third beat.
    expect(sent).toEqual([0, 1_000]);
    expect(heartbeat.missed).toBe(2);
  });

  it('GW-GT-7: an ACK resets the count of missed beats', async () => {
    const { clock, heartbeat, causes } = setup(0);
    heartbeat.backlog = false;
    heartbeat.start();
    await clock.advance(0);
    for (let beat = 0; beat < 6; beat++) {
      heartbeat.frameSinceBeat = true;
      await clock.advance(1_000); // missed once
      if (beat % 2 === 0) {
        expect(heartbeat.missed).toBe(1);
        heartbeat.ack(); // the ACK of the beat just sent
      }
    }
    expect(causes).toEqual([]);
  });

  it('GW-GT-7: during the start-up backlog frames prove life without bound', async () => {
    const { clock, sent, heartbeat, causes } = setup(0);
    heartbeat.start();
    await clock.advance(0);
    for (let beat = 0; beat < 10; beat++) {
      heartbeat.frameSinceBeat = true;
      await clock.advance(1_000);
    }
    expect(causes).toEqual([]);
    expect(sent).toHaveLength(11);
    expect(heartbeat.missed).toBe(0);
    // Guilds-ready: the bound applies from here on.
    heartbeat.backlog = false;
    for (let beat = 0; beat < 2; beat++) {
      heartbeat.frameSinceBeat = true;
      await clock.advance(1_000);
    }
    expect(causes).toEqual(['ack-timeout']);
  });

  it('GW-GT-7: a timer firing more than half an interval late (blocked loop) is no zombie', async () => {
    // A clock whose timers fire only when told, at whatever time `now` reads then.
    let now = 0;
    let due: (() => void) | undefined;
    const clock = {
      now: () => now,
      setTimeout: (callback: () => void) => ((due = callback), {}),
      clearTimeout: () => {},
    };
    const sent: number[] = [];
    let zombies = 0;
    const heartbeat = new Heartbeat(
      clock,
      1_000,
      () => 0,
      { sendHeartbeat: () => sent.push(now), onZombie: () => zombies++ },
      new Latency(),
    );
    heartbeat.backlog = false;
    heartbeat.start();
    due!();
    expect(sent).toEqual([0]);
    now = 1_600; // the loop was blocked: the beat due at 1_000 runs 600 ms late
    due!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(zombies).toBe(0);
    expect(sent).toEqual([0, 1_600]);
    now = 2_000; // on schedule (the grid stays at 1_000 + n * interval), no ACK, no frame: zombie
    due!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(zombies).toBe(1);
    heartbeat.stop();
  });

  it('GW-GT-7: a late timer (blocked loop) does not count as a missed ACK', async () => {
    let now = 0;
    let due: (() => void) | undefined;
    const clock = {
      now: () => now,
      setTimeout: (callback: () => void) => ((due = callback), {}),
      clearTimeout: () => {},
    };
    const causes: string[] = [];
    const heartbeat = new Heartbeat(
      clock,
      1_000,
      () => 0,
      { sendHeartbeat: () => undefined, onZombie: (cause) => causes.push(cause) },
      new Latency(),
    );
    heartbeat.backlog = false;
    heartbeat.start();
    due!(); // beat at 0, never ACKed
    for (const at of [1_700, 2_800, 3_900]) {
      now = at; // each beat runs 700 ms late
      heartbeat.frameSinceBeat = true;
      due!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(causes).toEqual([]);
    expect(heartbeat.missed).toBe(0);
    now = 4_000; // on time again: missed 1, then 2 at 5_000
    heartbeat.frameSinceBeat = true;
    due!();
    await new Promise((resolve) => setImmediate(resolve));
    now = 5_000;
    heartbeat.frameSinceBeat = true;
    due!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(causes).toEqual(['ack-timeout']);
  });

  it('GW-HB-5: a server request is answered at once; latency from ACKs; a stray ACK changes nothing', async () => {
    const { clock, sent, heartbeat, latency } = setup(0.5);
    heartbeat.start();
    heartbeat.ack();
    expect(latency.snapshot().average).toBeNull();
    await clock.advance(100);
    heartbeat.requested();
    expect(sent).toEqual([100]);
    await clock.advance(40);
    heartbeat.ack();
    heartbeat.ack();
    expect(latency.snapshot()).toEqual({ average: 40, recent: [40] });
    heartbeat.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('EventBuffer', () => {
  it('is bounded: drops new items when full, counts them, reports the burst once', async () => {
    const phases: string[] = [];
    let returned = 0;
    const buffer = new EventBuffer<number>(
      2,
      (phase, dropped) => phases.push(`${phase}:${dropped}`),
      () => returned++,
    );
    for (let i = 0; i < 5; i++) buffer.push(i);
    expect(buffer.dropped).toBe(3);
    expect(phases).toEqual(['start:0']);
    expect(await buffer.next()).toEqual({ value: 0, done: false });
    buffer.push(5);
    expect(phases).toEqual(['start:0', 'end:3']);
    const seen: number[] = [];
    buffer.end();
    for await (const value of buffer) seen.push(value);
    expect(seen).toEqual([1, 5]);
    expect(returned).toBe(1);
  });

  it('hands items to a waiting consumer and ends pending next() on end()', async () => {
    const buffer = new EventBuffer<string>(
      1,
      () => {},
      () => {},
    );
    const first = buffer.next();
    buffer.push('a');
    expect(await first).toEqual({ value: 'a', done: false });
    const second = buffer.next();
    buffer.end();
    expect(await second).toEqual({ value: undefined, done: true });
  });
});
