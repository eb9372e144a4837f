import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortedError,
  ClusterService,
  EventType,
  ShardState,
  type GatewayEvent,
} from 'nestjs-discord-gateway';
import { describeStoredSessions, startBot, type RunningBot } from '../../sample/bot.js';

/** Polls `condition` in real time (the sample runs on the system clock). */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function watch(bot: RunningBot): GatewayEvent[] {
  const events: GatewayEvent[] = [];
  bot.app.get(ClusterService).cluster.addListener((event) => events.push(event));
  return events;
}

describe('the sample bot on its embedded FakeGateway (issue 4)', () => {
  let stateDir: string;
  let bot: RunningBot | null = null;

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'sample-'));
  });

  afterEach(async () => {
    await bot?.stop();
    bot = null;
    await rm(stateDir, { recursive: true, force: true });
  });

  it('runs 4 shards, answers !ping through REST, and resumes every shard after a restart', async () => {
    bot = await startBot({ stateDir, logLevels: ['error'], statsEveryMs: 60_000 });
    const firstRun = watch(bot);
    const cluster = bot.app.get(ClusterService);
    const gateway = bot.embedded!;

    await until(() => cluster.info().length === 4, 'four shards created');
    await until(
      () => cluster.info().every((shard) => shard.state === ShardState.Active),
      'every shard Active',
    );
    await until(
      () => new Set(firstRun.filter((e) => e.sequence !== null).map((e) => e.shardId)).size === 4,
      'dispatches from all 4 shards',
    );
    expect(gateway.record.identifies).toHaveLength(4);

    // A `!ping` from the traffic mix is answered with POST /channels/:id/messages.
    await until(
      () =>
        gateway.record.http.some(
          (r) => r.method === 'POST' && /\/channels\/\d+\/messages$/.test(r.path),
        ),
      'a !ping reply',
    );
    const reply = gateway.record.http.find((r) => /\/channels\/\d+\/messages$/.test(r.path))!;
    expect(reply.authorized).toBe(true);
    expect((reply.body as { content: string }).content).toMatch(
      /^Pong! Gateway latency on shard \d/,
    );

    await bot.stop();
    bot = null;
    const stored = JSON.parse(await readFile(join(stateDir, 'bot-sessions.json'), 'utf8'));
    expect(Object.keys(stored.sessions)).toHaveLength(4);

    // A downtime long enough for the embedded gateway's traffic (20 dispatches/s) to queue some.
    await new Promise((resolve) => setTimeout(resolve, 400));

    // Second run: same state folder. No IDENTIFY; every shard RESUMEs and gets the gap.
    bot = await startBot({ stateDir, logLevels: ['error'], statsEveryMs: 60_000 });
    const secondRun = watch(bot);
    const restarted = bot.embedded!;
    const resumed = () => secondRun.filter((e) => e.type === EventType.ShardResumed);
    await until(() => resumed().length === 4, 'four SHARD_RESUMED');
    expect(restarted.record.identifies).toHaveLength(0);
    expect(restarted.record.resumes).toHaveLength(4);
    // The restarted gateway took its old ports back, so the stored resume URLs answered.
    expect(restarted.record.resumes.every((r) => r.listener === 'resume')).toBe(true);
    const replayed = resumed().reduce(
      (sum, e) => sum + (e.data as { replayed: number }).replayed,
      0,
    );
    // The downtime's dispatches (20 per second of traffic) were queued and replayed, with any
    // queued while the first run shut down; the client counts exactly what the gateway replayed.
    expect(restarted.restored!.gapEvents).toBeGreaterThan(0);
    expect(replayed).toBeGreaterThanOrEqual(restarted.restored!.gapEvents);
    expect(replayed).toBe(restarted.record.resumes.reduce((sum, r) => sum + r.replayed, 0));
    expect(secondRun.some((e) => e.type === EventType.Ready)).toBe(false);
  }, 60_000);

  it('a signal during startup aborts the start: startBot rejects, the embedded gateway is stopped', async () => {
    const startup = new AbortController();
    const starting = startBot({
      stateDir,
      logLevels: ['error'],
      statsEveryMs: 60_000,
      signal: startup.signal,
    });
    setImmediate(() => startup.abort());
    await expect(starting).rejects.toBeInstanceOf(AbortedError);

    // The embedded gateway let go of its ports (kept in the state folder): a new start binds them.
    bot = await startBot({ stateDir, logLevels: ['error'], statsEveryMs: 60_000 });
    const cluster = bot.app.get(ClusterService);
    await until(
      () =>
        cluster.info().length === 4 &&
        cluster.info().every((shard) => shard.state === ShardState.Active),
      'every shard Active after the aborted start',
    );
  }, 60_000);
});

describe('the sample: what the stored sessions of the last run mean for this start', () => {
  const file = '.sessions/bot-sessions.json';

  it('counts only the sessions of the shard count this start runs, and says the others stay unused', () => {
    const fourShards = ['4:0', '4:1', '4:2', '4:3'];
    expect(describeStoredSessions([], 4, file)).toBeNull();
    expect(describeStoredSessions(fourShards, 4, file)).toBe(
      `4 stored session(s) for 4 shards found in ${file}: their shards RESUME instead of IDENTIFY`,
    );
    // SHARDS=16 after a 4-shard run: nothing resumes (a session belongs to its shard count).
    expect(describeStoredSessions(fourShards, 16, file)).toBe(
      `0 stored session(s) for 16 shards found in ${file}: every shard IDENTIFYs; 4 stored for 4 shards stay unused (a session resumes only at its own shard count)`,
    );
    expect(describeStoredSessions([...fourShards, '16:3'], 16, file)).toMatch(
      /^1 stored session\(s\) for 16 shards .*: their shards RESUME instead of IDENTIFY; 4 stored for 4 shards stay unused/,
    );
  });

  it("on Discord the shard count is Discord's recommendation, not known before the start", () => {
    expect(describeStoredSessions(['16:0', '16:1', '4:0'], undefined, file)).toBe(
      `3 stored session(s) found in ${file} (for 4, 16 shards): their shards RESUME instead of IDENTIFY if Discord's recommended shard count is the same`,
    );
  });
});
