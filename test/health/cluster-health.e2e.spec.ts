import {
  Cluster,
  judgeAcrossProcesses,
  ShardState,
  silentLogger,
  type ProcessHealthReport,
} from 'nestjs-discord-gateway/core';
import { FakeGateway } from 'nestjs-discord-gateway/testing';

const HEARTBEAT_MS = 1_500;

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function clusterOn(gateway: FakeGateway, from: number, to: number, shardCount: number): Cluster {
  return new Cluster(
    {
      token: FakeGateway.defaultToken,
      intents: ['Guilds'],
      gatewayUrl: gateway.url,
      apiUrl: gateway.apiUrl,
      shards: { from, to, shardCount },
      limits: { commandWindowMs: Math.round((60_000 * HEARTBEAT_MS) / 41_250) },
    },
    { logger: silentLogger },
  );
}

describe('Cluster.health against a FakeGateway', () => {
  let gateway: FakeGateway;
  const clusters: Cluster[] = [];

  afterEach(async () => {
    await Promise.all(clusters.splice(0).map((cluster) => cluster.down()));
    await gateway.stop();
  });

  it('a start that overruns its expected end: starting, then degraded, then down and not live', async () => {
    gateway = await FakeGateway.start({
      shards: 2,
      maxConcurrency: 2,
      heartbeatIntervalMs: HEARTBEAT_MS,
    });
    // Shard 1's first connection never gets READY.
    gateway.nextConnections({ withholdReady: true }, { count: 1 });
    const cluster = clusterOn(gateway, 0, 1, 2);
    clusters.push(cluster);
    cluster.up().catch(() => undefined);
    await until(
      () =>
        cluster.info().length === 2 &&
        cluster.info().some((shard) => shard.state === ShardState.Active) &&
        gateway.record.identifies.length === 2,
      'one shard Active, both identified',
    );
    const stuck = cluster.info().find((shard) => shard.state !== ShardState.Active)!;
    // Both shards were granted at once (two buckets): the start was expected to end then.
    const options = { startGraceMs: 400, disconnectedThresholdMs: 400 };
    expect(cluster.health(options)).toMatchObject({
      status: 'starting',
      ready: false,
      live: true,
      problems: [{ shardId: stuck.id, status: 'starting', state: ShardState.Identifying }],
    });
    await until(() => cluster.health(options).status === 'degraded', 'degraded', 5_000);
    expect(cluster.health(options)).toMatchObject({
      ready: true,
      live: true,
      problems: [{ shardId: stuck.id, status: 'reconnecting' }],
    });
    await until(() => cluster.health(options).status === 'down', 'down', 5_000);
    const down = cluster.health(options);
    expect(down).toMatchObject({ ready: false, live: false });
    expect(down.problems[0]).toMatchObject({ shardId: stuck.id, status: 'disconnected' });
    expect(down.problems[0].inactiveMs).toBeGreaterThan(800);
    // With the defaults (30 s grace) the same moment is still within the start-up.
    expect(cluster.health().status).toBe('starting');
  }, 20_000);

  it('across processes: every shard held by a fresh report is up; a closed or silent process is down', async () => {
    gateway = await FakeGateway.start({
      shards: 4,
      maxConcurrency: 4,
      heartbeatIntervalMs: HEARTBEAT_MS,
    });
    const first = clusterOn(gateway, 0, 1, 4);
    const second = clusterOn(gateway, 2, 3, 4);
    clusters.push(first, second);
    await Promise.all([first.up(), second.up()]);

    // What each process would publish (to Redis, for example), read back by any of them.
    const published = new Map<string, ProcessHealthReport>();
    const publish = (): void => {
      published.set('a', first.processHealthReport('a'));
      published.set('b', second.processHealthReport('b'));
    };
    const source = { reports: async () => [...published.values()] };
    publish();
    expect(await judgeAcrossProcesses(source, { shardCount: 4 })).toMatchObject({
      status: 'up',
      ready: true,
      shards: { total: 4, active: 4 },
    });

    // The second process stops its shards: its report says so.
    await second.down();
    publish();
    const closed = await judgeAcrossProcesses(source, { shardCount: 4 });
    expect(closed).toMatchObject({ status: 'down', shards: { active: 2, closed: 2 } });
    expect(closed.problems.map((p) => [p.shardId, p.status])).toEqual([
      [2, 'closed'],
      [3, 'closed'],
    ]);

    // A process that stopped reporting (killed): 30 s later its shards are held by no one.
    published.delete('b');
    published.set('b', { ...second.processHealthReport('b'), reportedAt: Date.now() - 30_001 });
    const silent = await judgeAcrossProcesses(source, { shardCount: 4 });
    expect(silent).toMatchObject({ status: 'down', shards: { active: 2, missing: 2 } });
    expect(silent.reason).toBe('2 held by no live gateway process; 2 of 4 Active');
  }, 20_000);
});
