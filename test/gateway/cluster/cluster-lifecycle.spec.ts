import { inspect } from 'node:util';
import { Cluster, type ClusterProgress } from '../../../lib/gateway/cluster/cluster.js';
import type { ManualClock } from '../../../lib/gateway/clock/manual-clock.js';
import { DEFAULT_USER_AGENT } from '../../../lib/gateway/rest/user-agent.js';
import {
  AbortedError,
  ConfigError,
  FatalCloseError,
  UnknownShardError,
} from '../../../lib/gateway/errors/errors.js';
import { EventType } from '../../../lib/gateway/events/event-type.js';
import type {
  ClusterGuildsReadyData,
  GatewayEvent,
} from '../../../lib/gateway/events/gateway-event.js';
import { ShardState } from '../../../lib/gateway/shard/shard-state.js';
import { InMemoryIdentifyQueue } from '../../../lib/gateway/queue/in-memory-queue.js';
import { FakeGateway } from '../../../lib/testing/index.js';
import {
  allQueuedOrActive,
  createCluster,
  driveUntilSettled,
  startFake,
  until,
} from './cluster-support.js';

let fake: FakeGateway;
let clock: ManualClock;
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.down();
  cluster = undefined;
  await fake.stop();
});

describe('Cluster lifecycle', () => {
  it("'recommended': shard count, max_concurrency and URL from GET /gateway/bot, with User-Agent and a 429 retry", async () => {
    ({ fake, clock } = await startFake({ shards: 3, maxConcurrency: 3 }));
    fake.rateLimitHttp({ count: 1, retryAfterS: 2 });
    // No gatewayUrl: the URL comes from GET /gateway/bot.
    cluster = createCluster(fake, clock, { gatewayUrl: undefined, shards: 'recommended' });
    expect(cluster.shardCount).toBe(0);
    expect(() => cluster?.shardIdForGuild('197038439483310086')).toThrow(UnknownShardError);
    await driveUntilSettled(clock, cluster.up(), 500);
    const requests = fake.record.http.filter((r) => r.path === '/api/v10/gateway/bot');
    expect(requests.map((r) => r.status)).toEqual([429, 200]);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(2_000);
    expect(requests.every((r) => r.userAgent === DEFAULT_USER_AGENT && r.authorized)).toBe(true);
    expect(DEFAULT_USER_AGENT).toMatch(
      /^DiscordBot \(https:\/\/github\.com\/[^,]+, \d+\.\d+\.\d+\)$/,
    );
    expect(cluster.shardCount).toBe(3);
    expect(cluster.shardIds).toEqual([0, 1, 2]);
    expect(fake.record.identifies.map((i) => i.outcome)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    expect(fake.record.identifies.map((i) => i.bucket).sort()).toEqual([0, 1, 2]);
    expect(fake.record.upgrades.every((u) => u.listener === 'base')).toBe(true);
    expect(fake.record.violations).toEqual([]);
  });

  it('the constructor validates options (ConfigError); inspect and JSON never show the token', async () => {
    ({ fake, clock } = await startFake());
    expect(
      () => new Cluster({ token: '', intents: 1, shards: { from: 2, to: 1, shardCount: 2 } }),
    ).toThrow(ConfigError);
    cluster = createCluster(fake, clock, { shards: { from: 0, to: 0, shardCount: 1 } });
    await driveUntilSettled(clock, cluster.up(), 500);
    for (const text of [
      inspect(cluster, { depth: 10 }),
      JSON.stringify(cluster),
      JSON.stringify(cluster.info()),
    ]) {
      expect(text).not.toContain(FakeGateway.defaultToken);
    }
  });

  it('{ buckets } runs only the shards of those buckets (GW-SH-4)', async () => {
    ({ fake, clock } = await startFake({ shards: 8, maxConcurrency: 4 }));
    cluster = createCluster(fake, clock, {
      shards: { buckets: [1, 3], shardCount: 8, maxConcurrency: 4 },
    });
    const up = cluster.up();
    await until(() => allQueuedOrActive(cluster as Cluster, 4));
    await driveUntilSettled(clock, up, 500);
    expect(cluster.shardIds).toEqual([1, 3, 5, 7]);
    expect(fake.record.identifies.map((i) => i.shardId).sort()).toEqual([1, 3, 5, 7]);
    expect(fake.record.violations).toEqual([]);
  });

  it('per-shard presence from a function of the shard id', async () => {
    ({ fake, clock } = await startFake({ shards: 2, maxConcurrency: 2 }));
    cluster = createCluster(fake, clock, {
      shards: { from: 0, to: 1, shardCount: 2 },
      presence: (shardId) => ({
        since: null,
        activities: [{ name: `shard ${shardId}`, type: 0 }],
        status: 'online',
        afk: false,
      }),
    });
    await driveUntilSettled(clock, cluster.up(), 500);
    const presences = fake.record.connections.map((c) => {
      const identify = c.received.find((p) => p.op === 2)?.d as {
        shard: [number, number];
        presence: { activities: { name: string }[] };
      };
      return [identify.shard[0], identify.presence.activities[0].name];
    });
    expect(presences.sort()).toEqual([
      [0, 'shard 0'],
      [1, 'shard 1'],
    ]);
  });

  it('up() rejects on a fatal close, naming the shard and the cause (GW-GT-3)', async () => {
    ({ fake, clock } = await startFake({ shards: 2, maxConcurrency: 2, grantedIntents: 0 }));
    cluster = createCluster(fake, clock, { intents: ['Guilds', 'GuildMembers'] });
    const error = (await driveUntilSettled(clock, cluster.up(), 500).catch(
      (e: unknown) => e,
    )) as FatalCloseError;
    expect(error).toBeInstanceOf(FatalCloseError);
    expect(error.closeCode).toBe(4014);
    expect(error.message).toMatch(/^Shard \d closed fatally with 4014/);
    expect(error.privilegedIntents).toContain('GuildMembers');
    await expect(cluster.waitUntilReady()).rejects.toBe(error);
    expect(
      cluster
        .info()
        .every((i) => i.state === ShardState.FatallyClosed || i.state === ShardState.Closed),
    ).toBe(true);
    // A cluster that failed to start is shut down; a new one is needed.
    await expect(cluster.up()).rejects.toBeInstanceOf(AbortedError);
  });

  it('CLUSTER_READY then CLUSTER_GUILDS_READY once every unavailable guild arrived (GW-GT-11); info() per shard', async () => {
    ({ fake, clock } = await startFake({
      shards: 2,
      maxConcurrency: 2,
      traffic: { guildCount: 6 },
    }));
    cluster = createCluster(fake, clock);
    const events: GatewayEvent[] = [];
    cluster.addListener((event) => events.push(event));
    await driveUntilSettled(clock, cluster.up(), 500);
    await driveUntilSettled(
      clock,
      new Promise<void>((resolve) => {
        const stop = cluster?.addListener((e) => {
          if (e.type === EventType.ClusterGuildsReady) {
            stop?.();
            resolve();
          }
        });
        if (events.some((e) => e.type === EventType.ClusterGuildsReady)) resolve();
      }),
      500,
    );
    const types = events.map((e) => e.type);
    expect(types.indexOf(EventType.ClusterReady)).toBeLessThan(
      types.indexOf(EventType.ClusterGuildsReady),
    );
    expect(types.filter((t) => t === EventType.ClusterReady)).toHaveLength(1);
    const guildsReady = events.find((e) => e.type === EventType.ClusterGuildsReady)
      ?.data as ClusterGuildsReadyData;
    expect(guildsReady).toEqual({ guildCount: 6, unavailable: [] });
    const info = cluster.info();
    expect(info.map((i) => [i.id, i.total, i.state])).toEqual([
      [0, 2, ShardState.Active],
      [1, 2, ShardState.Active],
    ]);
    expect(info.every((i) => typeof i.sessionId === 'string' && i.activeSince !== null)).toBe(true);
    await expect(cluster.waitUntilReady()).resolves.toBeUndefined();
  });

  it("'wait' budget policy: up() waits for the reset, shown in progress, then identifies", async () => {
    ({ fake, clock } = await startFake({ shards: 1 }));
    const queue = new InMemoryIdentifyQueue({
      clock,
      onBudgetExhausted: 'wait',
      budget: { total: 1_000, remaining: 0, resetAfterMs: 20_000 },
    });
    cluster = createCluster(
      fake,
      clock,
      { shards: { from: 0, to: 0, shardCount: 1 }, maxConcurrency: 1 },
      { queue },
    );
    const progress: ClusterProgress[] = [];
    cluster.onProgress((p) => progress.push(p));
    await driveUntilSettled(clock, cluster.up(), 1_000);
    expect(progress.some((p) => p.waitingForBudgetResetAt === 20_000)).toBe(true);
    expect(fake.record.identifies.map((i) => i.at)).toEqual([20_000]);
    expect(progress.at(-1)).toMatchObject({ ready: 1, total: 1, waitingForBudgetResetAt: null });
  });

  it('down() during startup aborts up() and leaves no shard running', async () => {
    ({ fake, clock } = await startFake({ shards: 4, maxConcurrency: 1 }));
    cluster = createCluster(fake, clock);
    const up = cluster.up();
    up.catch(() => undefined);
    await clock.advanceUntil(() => fake.record.identifies.length === 1, {
      stepMs: 100,
      realWaitMs: 5,
    });
    await cluster.down();
    await expect(up).rejects.toBeInstanceOf(AbortedError);
    expect(cluster.info().every((i) => i.state === ShardState.Closed)).toBe(true);
    await expect(cluster.up()).rejects.toBeInstanceOf(AbortedError);
    const iterator = cluster.events();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
