import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from '../../../lib/gateway/cluster/cluster.js';
import { IdentifyBudgetError } from '../../../lib/gateway/errors/errors.js';
import { silentLogger } from '../../../lib/gateway/logger.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import type { GatewayEvent } from '../../../lib/gateway/events/gateway-event.js';
import { FileSessionStore } from '../../../lib/gateway/session/file-session-store.js';
import { MemorySessionStore } from '../../../lib/gateway/session/memory-session-store.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { shardForGuild, type FakeGateway } from '../../../lib/testing/index.js';
import type { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { createCluster, driveUntilSettled, startFake, until } from './cluster-support.js';

let dir: string;
let fake: FakeGateway;
let clock: ManualClock;
const clusters: Cluster[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cluster-sessions-'));
});
afterEach(async () => {
  for (const cluster of clusters.splice(0)) await cluster.down();
  await fake.stop();
  await rm(dir, { recursive: true, force: true });
});

function track(cluster: Cluster): Cluster {
  clusters.push(cluster);
  return cluster;
}

describe('Cluster sessions across a restart (GW-RS-2, GW-RS-3, GW-CL-1)', () => {
  it('downResumable() then a new cluster on the same file store: zero IDENTIFY, all RESUMED, missed dispatches exactly once', async () => {
    ({ fake, clock } = await startFake({ shards: 4, maxConcurrency: 4 }));
    const path = join(dir, 'sessions.json');
    const first = track(
      createCluster(fake, clock, {}, { sessionStore: new FileSessionStore(path) }),
    );
    await driveUntilSettled(clock, first.up());
    const sessions = await first.downResumable();
    expect([...sessions.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(Object.keys(await new FileSessionStore(path).entries()).sort()).toEqual([
      '4:0',
      '4:1',
      '4:2',
      '4:3',
    ]);
    const identifiesBefore = fake.record.identifies.length;
    expect(identifiesBefore).toBe(4);

    // While the bot is down, the gateway buffers dispatches for every shard's session.
    const missed: string[] = [];
    for (let i = 0; i < 40; i++) {
      const guild = fake.traffic.guilds[i % fake.traffic.guilds.length];
      const id = String(900_000_000_000_000_000n + BigInt(i));
      expect(
        fake.dispatch('CHANNEL_CREATE', { id, guild_id: guild.id, type: 0, name: `missed-${i}` }),
      ).toBe(1);
      missed.push(id);
    }
    const shardsHit = new Set(fake.traffic.guilds.map((g) => shardForGuild(g.id, 4)));
    expect(shardsHit.size).toBe(4);

    const second = track(
      createCluster(fake, clock, {}, { sessionStore: new FileSessionStore(path) }),
    );
    const events: GatewayEvent[] = [];
    second.addListener((event) => events.push(event));
    await driveUntilSettled(clock, second.up());

    expect(fake.record.identifies).toHaveLength(identifiesBefore);
    expect(fake.record.resumes.map((r) => r.outcome)).toEqual([
      'resumed',
      'resumed',
      'resumed',
      'resumed',
    ]);
    const resumed = events.filter((e) => e.type === EventType.ShardResumed).map((e) => e.shardId);
    expect(resumed.sort()).toEqual([0, 1, 2, 3]);
    for (const [shardId, session] of sessions)
      expect(second.shard(shardId).session?.id).toBe(session.id);
    const received = events
      .filter((e) => e.type === EventType.ChannelCreate)
      .map((e) => (e.data as { id: string }).id);
    expect(received.sort()).toEqual([...missed].sort());
    // The stored sessions were a one-time handoff: consumed by the resume.
    const reader = new FileSessionStore(path);
    let left: Record<string, unknown> = {};
    await until(
      () => Object.keys(left).length === 0,
      2_000,
      async () => {
        left = await reader.entries();
      },
    ).catch(() => undefined);
    expect(left).toEqual({});
  });

  // Wrong clients this fails: one that keeps only the host of a stored resume URL (the RESUME
  // reaches '/' and never the proxy's path), one that appends its query to the URL's own, and
  // one that refuses a stored URL with a path (both shards identify again).
  it('GW-URL-2, GW-URL-4: a stored session whose resume URL has a path resumes on that path after a restart, the user query kept, missed dispatches once', async () => {
    ({ fake, clock } = await startFake({
      shards: 2,
      maxConcurrency: 2,
      resumePath: '/resume-abc',
    }));
    const path = join(dir, 'sessions.json');
    const options = {
      gatewayUrl: `${fake.url}/discord?region=eu&v=6&encoding=etf`,
      compression: 'zlib-stream' as const,
    };
    const first = track(
      createCluster(fake, clock, options, { sessionStore: new FileSessionStore(path) }),
    );
    await driveUntilSettled(clock, first.up());
    await first.downResumable();
    const stored = Object.values(await new FileSessionStore(path).entries()) as {
      resumeUrl: string;
    }[];
    expect(fake.resumeUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/resume-abc$/);
    expect(stored.map((s) => s.resumeUrl)).toEqual([fake.resumeUrl, fake.resumeUrl]);
    const missed = fake.traffic.guilds.map((guild, i) => {
      const id = String(910_000_000_000_000_000n + BigInt(i));
      fake.dispatch('CHANNEL_CREATE', { id, guild_id: guild.id, type: 0, name: `missed-${i}` });
      return id;
    });

    const second = track(
      createCluster(fake, clock, options, { sessionStore: new FileSessionStore(path) }),
    );
    const events: GatewayEvent[] = [];
    second.addListener((event) => events.push(event));
    await driveUntilSettled(clock, second.up());

    expect(fake.record.identifies).toHaveLength(2);
    expect(fake.record.resumes.map((r) => [r.outcome, r.listener])).toEqual([
      ['resumed', 'resume'],
      ['resumed', 'resume'],
    ]);
    const resumedOn = fake.record.connections.filter((c) => c.auth === 'resume');
    expect(resumedOn.map((c) => [c.path, c.query])).toEqual([
      ['/resume-abc', 'region=eu&v=10&encoding=json&compress=zlib-stream'],
      ['/resume-abc', 'region=eu&v=10&encoding=json&compress=zlib-stream'],
    ]);
    const received = events
      .filter((e) => e.type === EventType.ChannelCreate)
      .map((e) => (e.data as { id: string }).id);
    expect(received.sort()).toEqual([...missed].sort());
  });

  // Wrong client this fails: one that prefers a stored resume URL to the option, so the RESUME
  // bypasses the reverse proxy.
  it('resumeThroughGateway: a stored session resumes through the gateway URL and its path after a restart, not the stored resume URL', async () => {
    ({ fake, clock } = await startFake({ shards: 1, resumePath: '/resume-abc' }));
    const options = { gatewayUrl: `${fake.url}/proxy?region=eu`, resumeThroughGateway: true };
    const first = track(createCluster(fake, clock, options));
    await driveUntilSettled(clock, first.up());
    // Stored before the option was turned on: READY's resume URL, path included.
    const session = (await first.downResumable()).get(0)!;
    const store = new MemorySessionStore();
    await store.save(0, 1, { ...session, resumeUrl: fake.resumeUrl });
    const second = track(createCluster(fake, clock, options, { sessionStore: store }));
    await driveUntilSettled(clock, second.up());
    expect(fake.record.resumes.map((r) => [r.outcome, r.listener])).toEqual([['resumed', 'base']]);
    const resumedOn = fake.record.connections.filter((c) => c.auth === 'resume');
    expect(resumedOn.map((c) => [c.path, new URLSearchParams(c.query).get('region')])).toEqual([
      ['/proxy', 'eu'],
    ]);
    expect(fake.record.identifies).toHaveLength(1);
  });

  it('a stored session that fails (op 9 d:false) is deleted and the shard identifies through the queue (GW-RS-4)', async () => {
    ({ fake, clock } = await startFake({ shards: 1 }));
    const store = new MemorySessionStore();
    await store.save(0, 1, { id: 'expired-session', sequence: 12, resumeUrl: fake.resumeUrl });
    const cluster = track(createCluster(fake, clock, {}, { sessionStore: store }));
    await driveUntilSettled(clock, cluster.up());
    expect(fake.record.resumes.map((r) => r.outcome)).toEqual(['invalid-session']);
    expect(fake.record.identifies.map((i) => i.outcome)).toEqual(['accepted']);
    expect(await store.load(0, 1)).toBeNull();
    expect(cluster.shard(0).state).toBe(ShardState.Active);
  });

  it('GW-URL-4: a stored session whose resume URL may not carry the token is deleted with a warning; the start goes on and that shard identifies', async () => {
    ({ fake, clock } = await startFake({ shards: 2, maxConcurrency: 2 }));
    const store = new MemorySessionStore();
    await store.save(0, 2, { id: 'kept', sequence: 3, resumeUrl: 'ws://192.0.2.2:47111' });
    await store.save(1, 2, { id: 'also', sequence: 3, resumeUrl: 'https://192.0.2.2/x' });
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (message: string) => warnings.push(message) };
    const cluster = track(createCluster(fake, clock, {}, { sessionStore: store, logger }));
    await driveUntilSettled(clock, cluster.up());
    expect(fake.record.resumes).toEqual([]);
    expect(fake.record.identifies.map((i) => i.outcome)).toEqual(['accepted', 'accepted']);
    expect(await store.load(0, 2)).toBeNull();
    expect(await store.load(1, 2)).toBeNull();
    expect(warnings.filter((w) => /stored session of shard \d is unusable/.test(w))).toHaveLength(
      2,
    );
    expect(cluster.info().every((shard) => shard.state === ShardState.Active)).toBe(true);
  });

  it("GW-URL-4: a stored session with resume URL '' (READY gave none usable) resumes through the gateway URL", async () => {
    ({ fake, clock } = await startFake({ shards: 1 }));
    const first = track(createCluster(fake, clock));
    await driveUntilSettled(clock, first.up());
    const session = (await first.downResumable()).get(0)!;
    const store = new MemorySessionStore();
    await store.save(0, 1, { ...session, resumeUrl: '' });
    const second = track(createCluster(fake, clock, {}, { sessionStore: store }));
    await driveUntilSettled(clock, second.up());
    expect(fake.record.resumes.map((r) => [r.outcome, r.listener])).toEqual([['resumed', 'base']]);
    expect(fake.record.identifies).toHaveLength(1);
  });

  it('a session stored for another shard count is not resumed', async () => {
    ({ fake, clock } = await startFake({ shards: 2, maxConcurrency: 2 }));
    const store = new MemorySessionStore();
    await store.save(0, 4, { id: 'other-count', sequence: 3, resumeUrl: fake.resumeUrl });
    const cluster = track(createCluster(fake, clock, {}, { sessionStore: store }));
    await driveUntilSettled(clock, cluster.up());
    expect(fake.record.resumes).toEqual([]);
    expect(fake.record.identifies).toHaveLength(2);
  });

  it('down() ends the sessions with 1000 and deletes the stored ones (GW-CL-1)', async () => {
    ({ fake, clock } = await startFake({ shards: 2, maxConcurrency: 2 }));
    const store = new MemorySessionStore();
    const first = track(createCluster(fake, clock, {}, { sessionStore: store }));
    await driveUntilSettled(clock, first.up());
    await first.downResumable();
    expect(await store.load(1, 2)).not.toBeNull();
    const second = track(createCluster(fake, clock, {}, { sessionStore: store }));
    await driveUntilSettled(clock, second.up());
    await second.down();
    expect(await store.load(0, 2)).toBeNull();
    expect(await store.load(1, 2)).toBeNull();
    const codes = fake.record.connections.slice(-2).map((c) => c.clientCloseCode);
    expect(codes).toEqual([1000, 1000]);
    expect(fake.sessions()).toEqual([]);
  });
});

describe('Cluster identify budget (GW-ID-5, GW-RL-3)', () => {
  it('refuses before any IDENTIFY when remaining < shards to identify; stored sessions do not count', async () => {
    // 5 session starts; the first run spends 2 (shards 0 and 1) and stores their sessions: 3 remain.
    ({ fake, clock } = await startFake({
      shards: 4,
      maxConcurrency: 4,
      sessionStartLimit: { total: 1_000, remaining: 5 },
    }));
    const path = join(dir, 'sessions.json');
    const partial = createCluster(
      fake,
      clock,
      { shards: { from: 0, to: 1, shardCount: 4 } },
      { sessionStore: new FileSessionStore(path) },
    );
    await driveUntilSettled(clock, partial.up());
    await partial.downResumable();
    expect(fake.record.identifies).toHaveLength(2);

    // Without the stored sessions: 4 must identify, 3 remain -> typed error, no IDENTIFY, no connection.
    const connectionsBefore = fake.record.connections.length;
    const refused = track(
      createCluster(fake, clock, {}, { sessionStore: new MemorySessionStore() }),
    );
    const error = (await driveUntilSettled(clock, refused.up()).catch(
      (e: unknown) => e,
    )) as IdentifyBudgetError;
    expect(error).toBeInstanceOf(IdentifyBudgetError);
    expect(error).toMatchObject({ needed: 4, remaining: 3 });
    expect(error.message).toMatch(/4 shard\(s\) must identify but only 3 .* resets at \d{4}-/);
    expect(fake.record.identifies).toHaveLength(2);
    expect(fake.record.connections).toHaveLength(connectionsBefore);
    await expect(refused.waitUntilReady()).rejects.toBe(error);

    // With the 2 stored sessions: 2 IDENTIFY + 2 RESUME.
    const cluster = track(
      createCluster(fake, clock, {}, { sessionStore: new FileSessionStore(path) }),
    );
    await driveUntilSettled(clock, cluster.up());
    expect(
      fake.record.identifies
        .slice(2)
        .map((i) => i.shardId)
        .sort(),
    ).toEqual([2, 3]);
    expect(fake.record.resumes.map((r) => r.outcome)).toEqual(['resumed', 'resumed']);
    expect(cluster.info().every((info) => info.state === ShardState.Active)).toBe(true);
  });
});
