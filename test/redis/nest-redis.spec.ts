import { jest } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  Cluster,
  ClusterService,
  EventType,
  GatewayModule,
  ShardState,
} from '../../lib/nest/index.js';
import {
  RedisEventConsumer,
  RedisEventPublisher,
  RedisKeys,
  RedisSessionStore,
} from '../../lib/redis/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';

/**
 * The Redis pieces through Nest, against a FakeGateway (real WebSocket) and a real
 * redis-server: `ClusterService.broadcast` in a `forConsumer` app, and `forRoot({ eventSink })`
 * with the Redis publisher.
 */
jest.setTimeout(40_000);

const SHARDS = 4;
const PRESENCE = { since: null, activities: [], status: 'dnd', afk: false };
const guildOf = (shardId: number) => String(BigInt(SHARDS * 1_000 + shardId) << 22n);

describeWithRedis('Redis scale-out through Nest (real redis-server)', (server: TestRedis) => {
  let fake: FakeGateway;
  let prefix: string;
  let keys: RedisKeys;
  const clusters: Cluster[] = [];
  const apps: TestingModule[] = [];

  beforeEach(async () => {
    prefix = uniquePrefix('nest-redis');
    keys = RedisKeys.of({ token: FakeGateway.defaultToken, keyPrefix: prefix });
    fake = await FakeGateway.start({ shards: SHARDS, maxConcurrency: SHARDS });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(clusters.splice(0).map((cluster) => cluster.down()));
    await fake.stop();
    await server.closeClients();
  });

  /** Open connections of `shardId` at the FakeGateway. */
  const openConnections = (shardId: number) =>
    fake.record.connections.filter((c) => c.shardId === shardId && c.closedAt === null);

  it('ClusterService.broadcast in a consumer reaches the connection of every shard, through the command streams of the two processes owning them', async () => {
    // Two gateway "processes" (own Redis clients and process names), two shards each.
    for (const [name, from] of [
      ['gateway-a', 0],
      ['gateway-b', 2],
    ] as const) {
      const redis = server.client();
      const cluster = new Cluster(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds'],
          gatewayUrl: fake.url,
          apiUrl: fake.apiUrl,
          shards: { from, to: from + 1, shardCount: SHARDS },
        },
        {
          eventSink: new RedisEventPublisher({
            redis,
            token: FakeGateway.defaultToken,
            keyPrefix: prefix,
            eventTypes: [EventType.MessageCreate],
            processName: name,
            reportIntervalMs: 200,
          }),
        },
      );
      clusters.push(cluster);
      await cluster.up();
    }
    const source = new RedisEventConsumer({
      redis: server.client(),
      token: FakeGateway.defaultToken,
      keyPrefix: prefix,
      group: 'broadcaster',
      shardCount: SHARDS,
      leaseMs: 1_500,
      commandTimeoutMs: 5_000,
    });
    const app = await Test.createTestingModule({
      imports: [GatewayModule.forConsumer({ source, logLevel: 'warn' })],
    }).compile();
    apps.push(app);
    await app.init();
    const service = app.get(ClusterService);
    await service.waitUntilReady();
    expect(service.info().map((s) => [s.id, s.state])).toEqual(
      Array.from({ length: SHARDS }, (_, id) => [id, ShardState.Active]),
    );

    await service.broadcast({ op: 3, d: PRESENCE });
    for (let shardId = 0; shardId < SHARDS; shardId++) {
      const [connection, ...others] = openConnections(shardId);
      expect(others).toEqual([]);
      expect(connection!.received.filter((p) => p.op === 3).map((p) => p.d)).toEqual([PRESENCE]);
    }
  });

  it('forRoot({ eventSink }) with the Redis publisher: dispatches are published, commands from consumers are served, and closing the app flushes, saves the sessions with their generation and withdraws the process report', async () => {
    const redis = server.client();
    const publisher = new RedisEventPublisher({
      redis,
      token: FakeGateway.defaultToken,
      keyPrefix: prefix,
      eventTypes: [EventType.MessageCreate],
      processName: 'nest-gateway',
      reportIntervalMs: 200,
    });
    const app = await Test.createTestingModule({
      imports: [
        GatewayModule.forRoot({
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          gatewayUrl: fake.url,
          apiUrl: fake.apiUrl,
          shards: { from: 0, to: SHARDS - 1, shardCount: SHARDS },
          sessionStore: new RedisSessionStore({
            redis,
            token: FakeGateway.defaultToken,
            keyPrefix: prefix,
          }),
          eventSink: publisher,
          logLevel: 'warn',
        }),
      ],
    }).compile();
    await app.init();
    const service = app.get(ClusterService);
    await service.waitUntilReady();

    for (let n = 0; n < 20; n++) {
      fake.dispatch('MESSAGE_CREATE', {
        id: String(BigInt(1_000_000 + n) << 22n),
        channel_id: guildOf(n % SHARDS),
        guild_id: guildOf(n % SHARDS),
        author: { id: '42', username: 'someone', discriminator: '0', avatar: null },
        content: `m-${n}`,
        timestamp: new Date().toISOString(),
      });
    }
    const contents = async (shardId: number) =>
      (await redis.xrange(keys.events(SHARDS, shardId), '-', '+')).map(
        ([, fields]) =>
          (JSON.parse(fields[fields.indexOf('d') + 1]!) as { content: string }).content,
      );
    const deadline = Date.now() + 10_000;
    while (publisher.stats().published < 20 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let shardId = 0; shardId < SHARDS; shardId++) {
      expect(await contents(shardId)).toEqual(
        Array.from({ length: 5 }, (_, i) => `m-${i * SHARDS + shardId}`),
      );
    }
    // The process report is in Redis, and a consumer's command reaches the shard through it.
    expect(await redis.zrange(keys.processes(SHARDS), 0, -1)).toEqual(['nest-gateway']);
    const consumer = new RedisEventConsumer({
      redis: server.client(),
      token: FakeGateway.defaultToken,
      keyPrefix: prefix,
      group: 'commands',
      shardCount: SHARDS,
      leaseMs: 1_500,
    });
    await consumer.up();
    try {
      await consumer.commandForGuild(guildOf(2), { op: 3, d: PRESENCE });
    } finally {
      await consumer.down();
    }
    expect(
      openConnections(2)[0]!
        .received.filter((p) => p.op === 3)
        .map((p) => p.d),
    ).toEqual([PRESENCE]);
    const sequences = service.info().map((s) => s.sequence);

    await app.close();
    // Flushed and withdrawn: nothing waits, the report is gone, the sessions carry the
    // generation of their entries and the last sequence Redis confirmed.
    expect(publisher.stats()).toMatchObject({ published: 20, buffered: 0, dropped: 0 });
    expect(await redis.exists(keys.process(SHARDS, 'nest-gateway'))).toBe(0);
    expect(await redis.zrange(keys.processes(SHARDS), 0, -1)).toEqual([]);
    for (let shardId = 0; shardId < SHARDS; shardId++) {
      const saved = JSON.parse((await redis.get(keys.session(SHARDS, shardId))) as string) as {
        sequence: number;
        generation: number;
      };
      expect(saved.generation).toBe(1);
      expect(saved.sequence).toBe(sequences[shardId]);
    }
  });
});
