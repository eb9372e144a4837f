import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { Cluster, EventType, ShardState, type GatewayLogger } from '../../lib/gateway/index.js';
import {
  RedisEventConsumer,
  RedisEventPublisher,
  RedisKeys,
  RedisSessionStore,
  RemoteCommandError,
  ShardNotOwnedError,
} from '../../lib/redis/index.js';
import { FakeGateway } from '../../lib/testing/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Runs `check` (assertions) until it passes, every 100 ms; after `timeoutMs` its last failure is thrown. */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}
const guildOf = (shardId: number, shardCount: number) =>
  String(BigInt(shardCount * 1_000 + shardId) << 22n);

function recordingLogger(): GatewayLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: () => {},
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/** Every entry of a stream: id, type and parsed data. */
async function entries(redis: Redis, key: string) {
  const raw = await redis.xrange(key, '-', '+');
  return raw.map(([id, fields]) => {
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    return { id, type: f.t, data: JSON.parse(f.d) as { content?: string } };
  });
}

describeWithRedis(
  'RedisEventPublisher (real redis-server, in-process FakeGateway)',
  (server: TestRedis) => {
    let gateway: FakeGateway;
    let prefix: string;
    const clusters: Cluster[] = [];
    const consumers: RedisEventConsumer[] = [];

    beforeEach(async () => {
      prefix = uniquePrefix('publisher');
      gateway = await FakeGateway.start({ shards: 2 });
    });

    afterEach(async () => {
      await Promise.all(consumers.splice(0).map((c) => c.down()));
      await Promise.all(clusters.splice(0).map((c) => c.down()));
      await gateway.stop();
      if (!server.running) await server.start();
      await server.closeClients();
    });

    const keys = () => RedisKeys.of({ token: FakeGateway.defaultToken, keyPrefix: prefix });

    function start(options: { bufferSize?: number; maxLen?: number } = {}) {
      const redis = server.client();
      const logger = recordingLogger();
      const publisher = new RedisEventPublisher({
        redis,
        token: FakeGateway.defaultToken,
        keyPrefix: prefix,
        eventTypes: [EventType.MessageCreate],
        reportIntervalMs: 200,
        logger,
        ...options,
      });
      const sessionStore = new RedisSessionStore({
        redis,
        token: FakeGateway.defaultToken,
        keyPrefix: prefix,
        saveIntervalMs: 200,
      });
      const cluster = new Cluster(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMessages', 'MessageContent'],
          gatewayUrl: gateway.url,
          apiUrl: gateway.apiUrl,
          shards: { from: 0, to: 1, shardCount: 2 },
        },
        { sessionStore, eventSink: publisher, logger },
      );
      clusters.push(cluster);
      return { cluster, publisher, logger, redis };
    }

    /** A consumer of group `group` on the 2 shards, up, sending commands with `commandTimeoutMs`. */
    async function commandConsumer(group: string, commandTimeoutMs: number) {
      const consumer = new RedisEventConsumer({
        redis: server.client(),
        token: FakeGateway.defaultToken,
        keyPrefix: prefix,
        group,
        shardCount: 2,
        leaseMs: 1_500,
        commandTimeoutMs,
      });
      consumers.push(consumer);
      await consumer.up();
      return consumer;
    }

    function message(n: number, shardId: number) {
      return gateway.dispatch('MESSAGE_CREATE', {
        id: String(BigInt(1_000_000 + n) << 22n),
        channel_id: guildOf(shardId, 2),
        guild_id: guildOf(shardId, 2),
        author: { id: '42', username: 'someone', discriminator: '0', avatar: null },
        content: `m-${n}`,
        timestamp: new Date().toISOString(),
      });
    }

    it('publishes the configured dispatches of each shard to its stream as <generation>-<s>, decoded without a listener, and saves the confirmed position with the generation', async () => {
      const { cluster, publisher, redis } = start();
      await cluster.up();
      for (let n = 0; n < 40; n++) message(n, n % 2);
      // A type that is not configured stays out of the streams.
      gateway.dispatch('TYPING_START', {
        channel_id: guildOf(0, 2),
        guild_id: guildOf(0, 2),
        user_id: '42',
        timestamp: 1,
      });
      await sleep(500);
      // The session save runs every 200 ms: on a loaded machine it can lag the streams a little.
      await eventually(async () => {
        for (const shardId of [0, 1]) {
          expect(await redis.xlen(keys().events(2, shardId))).toBe(20);
          const saved = JSON.parse((await redis.get(keys().session(2, shardId))) ?? 'null') as {
            sequence: number;
          } | null;
          expect(saved?.sequence).toBe(cluster.info().find((s) => s.id === shardId)!.sequence);
        }
      });
      for (const shardId of [0, 1]) {
        const list = await entries(redis, keys().events(2, shardId));
        expect(list.map((e) => e.data.content)).toEqual(
          Array.from({ length: 20 }, (_, i) => `m-${2 * i + shardId}`),
        );
        expect(list.every((e) => e.type === 'MESSAGE_CREATE')).toBe(true);
        const generation = Number(await redis.get(keys().generation(2, shardId)));
        expect(generation).toBe(1);
        const info = cluster.info().find((s) => s.id === shardId)!;
        // READY is s 1; the ids carry the shard's own sequences.
        expect(list.map((e) => e.id)).toEqual(
          Array.from({ length: 20 }, (_, i) => `1-${(info.sequence as number) - 19 + i}`),
        );
        const saved = JSON.parse((await redis.get(keys().session(2, shardId))) as string) as {
          sequence: number;
          generation: number;
        };
        expect(saved.generation).toBe(1);
        expect(saved.sequence).toBe(info.sequence);
      }
      expect(publisher.stats()).toMatchObject({ published: 40, duplicates: 0, dropped: 0 });
      // The process reports its shards in Redis.
      const report = JSON.parse(
        (await redis.get(keys().process(2, publisher.processName))) as string,
      ) as { shards: { id: number; state: string }[]; eventTypes: string[] };
      expect(report.shards.map((s) => [s.id, s.state])).toEqual([
        [0, ShardState.Active],
        [1, ShardState.Active],
      ]);
      expect(report.eventTypes).toEqual(['MESSAGE_CREATE']);
    });

    it('a new session (after op 9) takes a new generation; a resume keeps it', async () => {
      const { cluster, redis } = start();
      await cluster.up();
      message(0, 0);
      await sleep(300);
      gateway.connectionFor(0)!.close(4000, 'resume please');
      await sleep(100);
      await gateway.waitForConnection(0, { timeoutMs: 10_000 });
      message(1, 0);
      await sleep(300);
      gateway.connectionFor(0)!.invalidateSession(false);
      await sleep(100);
      await gateway.waitForConnection(0, { timeoutMs: 15_000 });
      message(2, 0);
      await sleep(500);
      const list = await entries(redis, keys().events(2, 0));
      expect(list.map((e) => [e.id.split('-')[0], e.data.content])).toEqual([
        ['1', 'm-0'],
        ['1', 'm-1'],
        ['2', 'm-2'],
      ]);
    });

    it('Redis down: the shards stay Active, entries wait within the bound, the rest are dropped and counted, and publishing resumes by itself', async () => {
      const { cluster, publisher, logger, redis } = start({ bufferSize: 10 });
      await cluster.up();
      message(0, 0);
      await sleep(300);
      await server.stop();
      for (let n = 1; n <= 30; n++) message(n, 0);
      await sleep(500);
      expect(cluster.info().every((s) => s.state === ShardState.Active)).toBe(true);
      expect(publisher.stats()).toMatchObject({ buffered: 10, dropped: 20 });
      await server.start();
      await sleep(3_000);
      message(31, 0);
      await sleep(500);
      const list = await entries(redis, keys().events(2, 0));
      // Redis lost the first entry with its data (persistence off); the ten buffered and the one after the restart made it.
      expect(list.map((e) => e.data.content)).toEqual([
        ...Array.from({ length: 10 }, (_, i) => `m-${i + 1}`),
        'm-31',
      ]);
      expect(publisher.stats()).toMatchObject({ buffered: 0, dropped: 20 });
      expect(
        logger.lines.some((l) =>
          /^warn Publishing to Redis again .*20 dispatch\(es\) dropped/.test(l),
        ),
      ).toBe(true);
      expect(logger.lines.filter((l) => l.startsWith('error'))).toEqual([]);
      expect(cluster.info().every((s) => s.state === ShardState.Active)).toBe(true);
    });

    it('trimming by MAXLEN ~: entries a group had not read are counted per group and logged', async () => {
      const setup = server.client();
      for (const shardId of [0, 1]) {
        await setup.xgroup('CREATE', keys().events(2, shardId), 'idle', '0', 'MKSTREAM');
      }
      const { cluster, publisher, logger, redis } = start({ maxLen: 10 });
      await cluster.up();
      for (let n = 0; n < 600; n++) message(2 * n, 0);
      // The publisher checks trimming on its own schedule; wait (real time, generous for a
      // loaded machine) until all 600 are in the stream and a check has run after the last.
      let length = -1;
      for (let waited = 0; waited < 30_000; waited += 200) {
        await sleep(200);
        const stream = await redis.xinfo('STREAM', keys().events(2, 0));
        const info = stream as unknown[];
        const added = Number(info[info.indexOf('entries-added') + 1]);
        length = await redis.xlen(keys().events(2, 0));
        if (added === 600 && publisher.stats().trimmedUnread.idle === 600 - length) break;
      }
      expect(length).toBeLessThan(600);
      const lost = 600 - length;
      expect(publisher.stats().trimmedUnread).toEqual({ idle: lost });
      expect(
        logger.lines.some(
          (l) => l.startsWith('warn Stream of shard 0 trimmed') && l.includes('group idle'),
        ),
      ).toBe(true);
    });

    it('a command that waits behind the presence limit longer than commandTimeoutMs is accepted by the gateway process and resolves once sent, not a timeout', async () => {
      await gateway.stop();
      // The presence limit scaled down: 5 per 2 s, so the 6th to 8th updates wait about 2.5 s,
      // over twice the consumer's commandTimeoutMs. The margin is scaled up with it (500 ms):
      // the fake shares this process's event loop, and on a loaded machine it stamps an
      // arrival late by more than the default margin.
      gateway = await FakeGateway.start({
        shards: 2,
        presenceLimit: { limit: 5, windowMs: 2_000 },
      });
      const publisher = new RedisEventPublisher({
        redis: server.client(),
        token: FakeGateway.defaultToken,
        keyPrefix: prefix,
        eventTypes: [EventType.MessageCreate],
        reportIntervalMs: 200,
      });
      const cluster = new Cluster(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds'],
          gatewayUrl: gateway.url,
          apiUrl: gateway.apiUrl,
          shards: { from: 0, to: 1, shardCount: 2 },
          limits: { presenceWindowMs: 2_000, presenceMarginMs: 500 },
        },
        { eventSink: publisher, logger: recordingLogger() },
      );
      clusters.push(cluster);
      await cluster.up();
      const consumer = await commandConsumer('slow-commands', 1_000);

      const started = Date.now();
      const statuses = ['idle', 'dnd', 'online', 'idle', 'dnd', 'online', 'idle', 'dnd'];
      const outcomes = await Promise.allSettled(
        statuses.map((status) =>
          consumer.command(0, { op: 3, d: { since: null, activities: [], status, afk: false } }),
        ),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      // The last three waited for the next window: longer than the timeout, and they were sent.
      expect(Date.now() - started).toBeGreaterThan(1_000);
      const connection = gateway.record.connections.find(
        (c) => c.shardId === 0 && c.closedAt === null,
      )!;
      expect(
        connection.received
          .filter((p) => p.op === 3)
          .map((p) => (p.d as { status: string }).status),
      ).toEqual(statuses);
      expect(gateway.record.violations).toEqual([]);
    });

    it('commands from a consumer: commandForGuild reaches the owning shard connection, requestGuildMembers resolves with every chunk, a gateway error comes back typed, and a shard no process owns fails with ShardNotOwnedError after the timeout', async () => {
      await gateway.stop();
      gateway = await FakeGateway.start({ shards: 2, memberChunks: { count: 3 } });
      const redis = server.client();
      const publisher = new RedisEventPublisher({
        redis,
        token: FakeGateway.defaultToken,
        keyPrefix: prefix,
        eventTypes: [EventType.MessageCreate],
        reportIntervalMs: 200,
      });
      const cluster = new Cluster(
        {
          token: FakeGateway.defaultToken,
          intents: ['Guilds', 'GuildMembers'],
          gatewayUrl: gateway.url,
          apiUrl: gateway.apiUrl,
          shards: { from: 0, to: 0, shardCount: 2 },
        },
        { eventSink: publisher, logger: recordingLogger() },
      );
      clusters.push(cluster);
      await cluster.up();
      const consumer = await commandConsumer('commands', 1_500);
      const guild = gateway.traffic.guilds.find((g) => consumer.shardIdForGuild(g.id) === 0)!;

      const presence = { since: null, activities: [], status: 'idle', afk: false };
      await consumer.commandForGuild(guild.id, { op: 3, d: presence });
      const connection = gateway.record.connections.find(
        (c) => c.shardId === 0 && c.closedAt === null,
      )!;
      expect(connection.received.filter((p) => p.op === 3).map((p) => p.d)).toEqual([presence]);

      const members = await consumer.requestGuildMembers(guild.id, { query: '', limit: 0 }).all();
      expect(members.chunks).toHaveLength(3);
      expect(members.chunks.map((c) => c.chunk_index)).toEqual([0, 1, 2]);
      expect(members.members.length).toBeGreaterThan(0);
      expect(connection.received.filter((p) => p.op === 8)).toHaveLength(1);

      const refused = await consumer
        .command(0, { op: 3, d: 'not a presence' })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RemoteCommandError);
      expect((refused as RemoteCommandError).code).toBe('COMMAND_INVALID');

      const started = Date.now();
      const unowned = await consumer.command(1, { op: 3, d: presence }).catch((e: unknown) => e);
      expect(unowned).toBeInstanceOf(ShardNotOwnedError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    });
  },
);
