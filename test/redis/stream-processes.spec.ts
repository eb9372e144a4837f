import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RedisKeys, type GatewayProcessReport } from '../../lib/redis/index.js';
import { FakeGateway, FakeGatewayProcess } from '../../lib/testing/index.js';
import { describeWithRedis, uniquePrefix, type TestRedis } from '../support/redis-server.js';
import { GatewayChild } from './support/gateway-child.js';
import type { GatewayProcessConfig } from './support/gateway-process.js';

/**
 * Gateway processes publishing to the Redis event streams, each a Node process, against one
 * FakeGateway in its own process (2-42 ms of transit jitter) and one redis-server.
 */
const NETWORK = { inbound: { delayMs: 2, jitterMs: 40 }, outbound: { delayMs: 2, jitterMs: 10 } };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const guildOf = (shardId: number, shardCount: number) =>
  String(BigInt(shardCount * 1_000 + shardId) << 22n);

jest.setTimeout(180_000);

/** The contents of a shard stream's entries, with their ids. */
async function streamContents(
  redis: Redis,
  key: string,
): Promise<{ id: string; content: string }[]> {
  const raw = await redis.xrange(key, '-', '+');
  return raw.map(([id, fields]) => {
    const d = fields[fields.indexOf('d') + 1];
    return { id, content: (JSON.parse(d) as { content: string }).content };
  });
}

describeWithRedis(
  'Gateway processes publishing to Redis Streams (real processes)',
  (server: TestRedis) => {
    let gateway: FakeGatewayProcess;
    let prefix: string;
    let dir: string;
    const children: GatewayChild[] = [];

    beforeEach(() => {
      prefix = uniquePrefix('streams');
      dir = mkdtempSync(join(tmpdir(), 'gateway-streams-'));
    });

    afterEach(async () => {
      await Promise.all(children.splice(0).map((child) => child.kill()));
      await gateway?.stop();
      await server.closeClients();
      if (!server.running) await server.start();
      rmSync(dir, { recursive: true, force: true });
    });

    function spawn(name: string, options: Partial<GatewayProcessConfig> = {}): GatewayChild {
      const child = new GatewayChild({
        gatewayUrl: gateway.url,
        apiUrl: gateway.apiUrl,
        token: FakeGateway.defaultToken,
        redisPort: server.port,
        keyPrefix: prefix,
        shards: { from: 0, to: 1, shardCount: 2 },
        maxConcurrency: 1,
        windowMs: 1_000,
        identifyMarginMs: 500,
        saveIntervalMs: 200,
        publishAs: name,
        ...options,
      });
      children.push(child);
      return child;
    }

    const keys = () => RedisKeys.of({ token: FakeGateway.defaultToken, keyPrefix: prefix });

    it('a SIGKILLed gateway process, restarted: it resumes, and every dispatch the fake sent is in the streams exactly once, in order per shard', async () => {
      gateway = await FakeGatewayProcess.start({
        shards: 2,
        maxConcurrency: 1,
        identifyWindowMs: 1_000,
        network: NETWORK,
      });
      const first = spawn('first');
      await first.ready();
      let sent = 0;
      let stopped = false;
      const traffic = (async () => {
        while (!stopped) {
          const shardId = sent % 2;
          await gateway.gateway('dispatch', 'MESSAGE_CREATE', {
            id: String(BigInt(1_000_000 + sent) << 22n),
            channel_id: guildOf(shardId, 2),
            guild_id: guildOf(shardId, 2),
            author: { id: '42', username: 'someone', discriminator: '0', avatar: null },
            content: `m-${sent}`,
            timestamp: new Date().toISOString(),
          });
          sent++;
          await sleep(3);
        }
      })();
      const redis = server.client();
      let second: GatewayChild;
      try {
        await sleep(1_500);
        await first.kill('SIGKILL');
        expect(sent).toBeGreaterThan(50);
        await sleep(300);
        second = spawn('second');
        await second.ready();
        await sleep(300);
      } finally {
        stopped = true;
        await traffic;
      }
      const expected = (shardId: number) =>
        Array.from({ length: sent }, (_, i) => i)
          .filter((i) => i % 2 === shardId)
          .map((i) => `m-${i}`);
      for (const shardId of [0, 1]) {
        const key = keys().events(2, shardId);
        const deadline = Date.now() + 20_000;
        while ((await redis.xlen(key)) < expected(shardId).length && Date.now() < deadline)
          await sleep(100);
        const list = await streamContents(redis, key);
        // Exactly once, in the order the fake sent them.
        expect(list.map((e) => e.content)).toEqual(expected(shardId));
        // One generation: the resume kept the session's.
        expect(new Set(list.map((e) => e.id.split('-')[0]))).toEqual(new Set(['1']));
      }
      // Two IDENTIFYs in all (the first process's); the second process resumed both shards,
      // and Redis refused the part of the replay it already held.
      expect(await gateway.record('identifies')).toHaveLength(2);
      const resumes = (await gateway.record('resumes')).filter((r) => r.outcome === 'resumed');
      expect(resumes).toHaveLength(2);
      const report = JSON.parse(
        (await redis.get(keys().process(2, 'second'))) as string,
      ) as GatewayProcessReport;
      expect(report.stats.duplicates).toBeGreaterThan(0);
      expect(report.stats.dropped).toBe(0);
      expect(second!.logs('error')).toEqual([]);
    });
  },
);
