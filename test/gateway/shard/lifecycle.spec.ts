import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { ShardClosedError } from '../../../lib/gateway/errors/errors.js';
import { InMemoryIdentifyQueue } from '../../../lib/gateway/queue/in-memory-queue.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import { count, harness, until, type Harness } from './helpers.js';

jest.setTimeout(20_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Shard lifecycle: close() at any moment', () => {
  const moments: [string, (run: Harness, clock: ManualClock) => Promise<void>][] = [
    ['before the socket opens', async (run) => void run.gw.delayUpgrades({ delayMs: 60_000 })],
    ['while waiting for HELLO', async (run) => void run.gw.nextConnections({ onConnect: 'none' })],
    [
      'while waiting for READY',
      async (run) => void run.gw.nextConnections({ withholdReady: true }),
    ],
  ];

  it.each(moments)(
    '%s: never throws, rejects connect(), leaves no timer or socket',
    async (_name, arrange) => {
      const clock = new ManualClock();
      h = await harness({ clock });
      await arrange(h, clock);
      const connected = h.shard.connect();
      const rejected = expect(connected).rejects.toBeInstanceOf(ShardClosedError);
      await clock.advance(10);
      await expect(h.shard.close()).resolves.toBeNull();
      await rejected;
      expect(h.shard.state).toBe(ShardState.Closed);
      expect(count(h.events, 'SHARD_READY')).toBe(0);
      await h.gw.stop();
      expect(clock.pendingTimers).toBe(0);
    },
  );

  it('while waiting in the identify queue: the wait is aborted and the queue is left', async () => {
    const clock = new ManualClock();
    const queue = new InMemoryIdentifyQueue({ clock, windowMs: 5_000 });
    await queue.enqueue(0); // the bucket's window is now taken
    h = await harness({ clock }, {}, { queue });
    const connected = h.shard.connect();
    const rejected = expect(connected).rejects.toBeInstanceOf(ShardClosedError);
    await clock.advanceUntil(() => h!.shard.state === ShardState.Identifying, { stepMs: 10 });
    expect(queue.pendingCount).toBe(1);
    await h.shard.close();
    await rejected;
    expect(queue.pendingCount).toBe(0);
    expect(h.gw.record.identifies).toHaveLength(0);
    await h.gw.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('while backing off between refused connection attempts (backoff grows; close stops it)', async () => {
    const clock = new ManualClock();
    h = await harness(
      { clock },
      { reconnect: { baseDelayMs: 1_000, maxDelayMs: 8_000 } },
      { random: () => 0 },
    );
    h.gw.refuseUpgrades({ count: 100 });
    void h.shard.connect().catch(() => {});
    await clock.advanceUntil(() => count(h!.events, 'SHARD_RECONNECTING') >= 6, { stepMs: 100 });
    const delays = h.data('SHARD_RECONNECTING').map((d) => d.delayMs);
    // First attempt at once, then base * 2^n at the low end of the jitter range [half, full].
    expect(delays.slice(0, 6)).toEqual([0, 500, 1_000, 2_000, 4_000, 4_000]);
    // Each attempt ends as what it was: a failed attempt, with the error, not a dropped connection.
    const ends = h.data('SHARD_DISCONNECTED');
    expect(ends.length).toBeGreaterThanOrEqual(5);
    for (const end of ends) {
      expect(end).toMatchObject({ code: null, cause: 'connection-lost' });
      expect(end.reason).toMatch(
        /^the connection attempt failed before the socket opened: Unexpected server response: \d{3}$/,
      );
    }
    await h.shard.close();
    const attempts = h.gw.record.upgrades.length;
    await clock.advance(60_000);
    expect(h.gw.record.upgrades.length).toBe(attempts);
    await h.gw.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('from inside a listener (on READY): nothing is started after it', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, traffic: { guildCount: 2 } });
    const shard = h.shard;
    shard.addListener((event) => {
      if (event.type === 'READY') void shard.close();
    });
    await expect(shard.connect()).rejects.toBeInstanceOf(ShardClosedError);
    await clock.advance(10);
    expect(shard.state).toBe(ShardState.Closed);
    expect(count(h.events, 'SHARD_READY')).toBe(0);
    await h.gw.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('close(4000) mid-session keeps the session; connect() again resumes it', async () => {
    h = await harness();
    await h.shard.connect();
    const session = await h.shard.close(4000);
    expect(session).not.toBeNull();
    expect(h.shard.state).toBe(ShardState.Closed);
    await h.shard.connect();
    expect(h.gw.record.resumes.map((r) => r.outcome)).toEqual(['resumed']);
    expect(h.gw.record.connections[0]!.clientCloseCode).toBe(4000);
  });

  it('close() twice, and after a fatal close, resolves without throwing', async () => {
    h = await harness({}, { token: 'not-the-token' });
    await expect(h.shard.connect()).rejects.toThrow(/4004/);
    await expect(Promise.all([h.shard.close(), h.shard.close()])).resolves.toEqual([null, null]);
    expect(h.shard.state).toBe(ShardState.FatallyClosed);
  });
});

describe('recordTo', () => {
  it('writes every received payload as JSON lines (never what the shard sends), closed on close()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shard-record-'));
    const file = join(dir, 'received.jsonl');
    try {
      h = await harness({}, { recordTo: file, compression: 'zlib-stream' });
      await h.shard.connect();
      const conn = await h.gw.waitForConnection(0);
      conn.dispatch(
        'MESSAGE_CREATE',
        h.gw.traffic.messageCreate(h.gw.traffic.guilds[0]!, 'recorded'),
      );
      await until(() => count(h!.events, 'MESSAGE_CREATE') === 1);
      await h.shard.close();
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0].op).toBe(10);
      expect(lines.map((l) => l.t).filter(Boolean)).toEqual(
        expect.arrayContaining(['READY', 'MESSAGE_CREATE']),
      );
      expect(readFileSync(file, 'utf8')).not.toContain(FakeGateway.defaultToken);
      // FakeGateway can replay it.
      const replay = await harness();
      try {
        await replay.shard.connect();
        expect(await replay.gw.replay(file)).toBeGreaterThanOrEqual(1);
        await until(() => count(replay.events, 'MESSAGE_CREATE') === 1);
      } finally {
        await replay.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the token never appears anywhere the library writes', () => {
  it('logs (every level), errors, events, util.inspect and JSON of the shard', async () => {
    const marker = 'MARKER.tok3n.Zx9QvLw2';
    const captured: string[] = [];
    h = await harness({ tokens: [marker] }, { token: `Bot ${marker}`, compression: 'zlib-stream' });
    await h.shard.connect();
    const conn = await h.gw.waitForConnection(0);
    conn.sendMalformed('bad-json');
    await until(() => count(h!.events, 'SHARD_RESUMED') === 1);
    (await h.gw.waitForConnection(0)).close(4009);
    await until(() => count(h!.events, 'SHARD_READY') === 2);
    captured.push(inspect(h.shard, { depth: 20 }));
    captured.push(inspect(h.shard, { depth: 20, customInspect: false, showHidden: true }));
    captured.push(JSON.stringify(h.shard));
    captured.push(JSON.stringify(h.shard.info()));
    await h.shard.close();
    const bad = await harness({ tokens: [marker] }, { token: `${marker}x` });
    const error = await bad.shard.connect().catch((e: unknown) => e);
    captured.push(
      String(error),
      inspect(error, { depth: 20, showHidden: true }),
      JSON.stringify(error),
    );
    captured.push(bad.logs.text(), inspect(bad.logs.lines, { depth: 20 }));
    await bad.close();
    for (const event of [...h.events, ...bad.events])
      captured.push(inspect(event, { depth: 20, showHidden: true }));
    captured.push(h.logs.text(), inspect(h.logs.lines, { depth: 20 }));
    expect(h.logs.lines.some((l) => l.level === 'debug' && /IDENTIFY/.test(l.message))).toBe(true);
    expect(h.logs.lines.some((l) => l.level === 'debug' && /RESUME/.test(l.message))).toBe(true);
    const all = captured.join('\n');
    expect(all.length).toBeGreaterThan(1_000);
    expect(all).not.toContain(marker);
    expect(all).not.toContain('tok3n');
  });
});

describe('construction', () => {
  it('rejects bad options with ConfigError', async () => {
    const { Shard } = await import('../../../lib/gateway/shard/shard.js');
    const { ConfigError } = await import('../../../lib/gateway/errors/errors.js');
    expect(() => new Shard({ token: '', intents: 1 })).toThrow(ConfigError);
  });
});
